"""Referred and hit travellers into the alerts queue: one alert per listed match of a traveller
whose status is ``refer`` or ``hit``, for the member the list was screened for.

A traveller referred only for a document (lost or stolen, expired, a failed check digit)
matched nobody listed: the officer sees it in the screening's reply, not in the queue, which
holds matches a person decides true or false. The alert's reference is the flight and the
traveller's place in the message (``LH0123 2026-12-04 #3``), so the officer finds the row again.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from sqlalchemy import Engine

from jointwatch.store import Alert, NewAlert, file_alerts
from jointwatch.travel.model import Flight, Manifest, Traveller
from jointwatch.travel.screen import ManifestResult, traveller_query


def _flight(flights: list[Flight]) -> str:
    if not flights:
        return "no flight"
    f = flights[0]
    return f"{f.carrier}{f.number}" + (f" {f.departure.date().isoformat()}" if f.departure else "")


def traveller_ref(manifest: Manifest, traveller: Traveller) -> str:
    """The flight and the traveller's place in the message."""
    return f"{_flight(traveller.flights or manifest.flights)} #{traveller.index}"


def traveller_alerts(result: ManifestResult) -> list[NewAlert]:
    """The alerts one screened message opens: its referred and hit travellers' listed matches."""
    out = []
    for r in result.results:
        if r.status == "clear" or not r.matches:
            continue
        t = r.traveller
        ref = traveller_ref(result.manifest, t)[:255]
        key = traveller_query(t).identity()
        born = t.birth_date.isoformat() if t.birth_date else None
        out += [NewAlert(origin="traveller", origin_ref=ref, subject=t.name or t.location, entity_id=m.entity_id,
                         source=m.source, reference=m.reference, caption=m.caption, listed_name=m.name,
                         kind="name", score=m.score, list_version=m.list_version, subject_key=key,
                         subject_birth_date=born, explanation=json.dumps(asdict(m.explanation), ensure_ascii=False),
                         originator=m.shared.originator if m.shared else None,
                         tlp=m.shared.tlp if m.shared else None, handling=m.shared.handling if m.shared else ())
                for m in r.matches]
    return out


def file_traveller_alerts(engine: Engine, member_id: int, results: list[ManifestResult]) -> list[Alert]:
    """File the alerts of every referred or hit traveller of ``results`` for the member; the new alerts."""
    return file_alerts(engine, member_id, [a for r in results for a in traveller_alerts(r)])
