"""The audit trail: one row per request that read or changed data, appended and never edited.

This module only appends and reads; there is deliberately no function that updates or
deletes a row, so neither the CLI nor the API can offer one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from jointwatch.store.engine import inserted_id
from jointwatch.store.schema import audit

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class AuditEntry:
    id: int
    member_id: int
    user: str
    action: str
    subject_digest: str | None
    list_versions: dict[str, str]
    result_summary: str
    status: int
    at: datetime


def subject_digest(subject: Any) -> str:
    """SHA-256 (hex) of a request subject in canonical JSON: proves who was asked about, holds no name."""
    text = json.dumps(subject, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record(engine: Engine, member_id: int, user: str, action: str, status: int, subject: str | None = None,
           list_versions: dict[str, str] | None = None, result_summary: str = "") -> int:
    """Append one audit row; ``subject`` is already a digest. Returns the row's number."""
    row = {"member_id": member_id, "user": user, "action": action, "subject_digest": subject,
           "list_versions": json.dumps(list_versions or {}, sort_keys=True), "result_summary": result_summary,
           "status": status, "at": datetime.now(UTC)}
    with engine.begin() as connection:
        return (inserted_id(connection.execute(insert(audit).values(**row))))


def read_audit(engine: Engine, member_id: int | None = None, since: datetime | None = None,
               limit: int = 1000) -> list[AuditEntry]:
    """Audit rows oldest first, of one member (or all, for the operator's CLI), from ``since``."""
    query = select(audit).order_by(audit.c.at, audit.c.id).limit(max(1, min(limit, MAX_LIMIT)))
    if member_id is not None:
        query = query.where(audit.c.member_id == member_id)
    if since is not None:
        # rows are written in UTC; SQLite keeps no offset, so compare in UTC on every engine
        since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
        query = query.where(audit.c.at >= since)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    for row in rows:
        row["list_versions"] = json.loads(row["list_versions"])
        if row["at"].tzinfo is None:  # SQLite hands back naive datetimes; they were written in UTC
            row["at"] = row["at"].replace(tzinfo=UTC)
    return [AuditEntry(**row) for row in rows]
