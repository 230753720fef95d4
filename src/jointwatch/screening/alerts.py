"""Batch screening's matches into the alerts queue: one alert per match of a subject, for the
member the batch was screened for (origin ``job``).

The same producer serves `jointwatch screen --input` (the local engine and Spark) and the
service's batch jobs (`POST /screen`): both hand it a subject's query and the matches as the
results hold them (``match_record``'s plain data). The alert's reference names the batch and the
subject's place in it, so an analyst finds the row again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from jointwatch.screening.model import Query
from jointwatch.store import NewAlert


def job_alerts(origin_ref: str, query: Query, matches: Iterable[Mapping[str, Any]]) -> list[NewAlert]:
    """The alerts one screened subject opens: one per match (``match_record``'s form)."""
    key = query.identity()
    out = []
    for m in matches:
        shared = m.get("shared") or None
        explanation = m.get("explanation")
        out.append(NewAlert(
            origin="job", origin_ref=origin_ref[:255], subject=query.name, entity_id=m["entity_id"],
            source=m["source"], reference=m["reference"], caption=m["caption"], listed_name=m["name"],
            kind="name", score=float(m["score"]), list_version=m["list_version"], subject_key=key,
            subject_birth_date=query.birth_date,
            explanation=json.dumps(explanation, ensure_ascii=False) if explanation else None,
            originator=shared.get("originator") if shared else None, tlp=shared.get("tlp") if shared else None,
            handling=tuple(shared.get("handling") or ()) if shared else ()))
    return out
