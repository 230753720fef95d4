"""The audit trail: one row per request that read or changed data, appended and never edited.

This module only appends and reads; there is deliberately no function that updates or
deletes a row, so neither the CLI nor the API can offer one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Select, func, insert, select

from jointwatch.store.audit_keys import AuditKey, all_keys, current_key
from jointwatch.store.engine import inserted_id
from jointwatch.store.schema import audit

MAX_LIMIT = 10_000
DIGEST_CHARS = 64  # the width of audit.subject_digest and jobs.subject_digest


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


def _canonical(subject: Any) -> bytes:
    """The subject as canonical JSON: the same subject always gives the same bytes."""
    text = json.dumps(subject, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.encode("utf-8")


def keyed_digest(key: AuditKey, subject: Any) -> str:
    """``k<key id>:`` and the HMAC-SHA256 (hex) of the subject under ``key``, cut to 64 characters
    (over 200 bits): proves who was asked about, holds no name, and cannot be recomputed from a
    guessed name without the key."""
    prefix = f"k{key.id}:"
    mac = hmac.new(key.secret, _canonical(subject), hashlib.sha256).hexdigest()
    return prefix + mac[:DIGEST_CHARS - len(prefix)]


def plain_digest(subject: Any) -> str:
    """The SHA-256 (hex) that rows written before the keyed digest (migration 0012) hold."""
    return hashlib.sha256(_canonical(subject)).hexdigest()


def subject_digest(engine: Engine, subject: Any) -> str:
    """The digest of ``subject`` under the store's current audit key (made on first use)."""
    with engine.begin() as connection:
        return keyed_digest(current_key(connection), subject)


def record(engine: Engine, member_id: int, user: str, action: str, status: int, subject: Any = None,
           list_versions: dict[str, str] | None = None, result_summary: str = "",
           digest: str | None = None, at: datetime | None = None) -> int:
    """Append one audit row; returns its number.

    ``subject`` (the request's subject as sent) is digested under the current key in the same
    transaction and never stored; ``digest`` is one made earlier (a job's, at submission); ``at``, when
    the action happened (a request's arrival), now if not given."""
    with engine.begin() as connection:
        if digest is None and subject is not None:
            digest = keyed_digest(current_key(connection), subject)
        row = {"member_id": member_id, "user": user, "action": action, "subject_digest": digest,
               "list_versions": json.dumps(list_versions or {}, sort_keys=True),
               "result_summary": result_summary, "status": status, "at": at or datetime.now(UTC)}
        return inserted_id(connection.execute(insert(audit).values(**row)))


def digests_of(engine: Engine, subject: Any) -> set[str]:
    """Every digest ``subject`` has had: under each audit key the store has had, and the plain one."""
    return {keyed_digest(key, subject) for key in all_keys(engine)} | {plain_digest(subject)}


def rows_about(engine: Engine, subjects: list[Any], member_id: int | None = None,
               limit: int = 1000) -> list[AuditEntry]:
    """The audit rows whose subject is one of ``subjects`` exactly as a request sent it, under
    any key the store has had (and the plain digest of rows older than the keys)."""
    digests = set().union(*(digests_of(engine, subject) for subject in subjects))
    query = select(audit).where(audit.c.subject_digest.in_(sorted(digests)))
    return _entries(engine, query, member_id, None, limit)


def read_audit(engine: Engine, member_id: int | None = None, since: datetime | None = None,
               limit: int = 1000) -> list[AuditEntry]:
    """Audit rows oldest first, of one member (or all, for the operator's CLI), from ``since``."""
    return _entries(engine, select(audit), member_id, since, limit)


def _entries(engine: Engine, query: Select[Any], member_id: int | None, since: datetime | None,
             limit: int) -> list[AuditEntry]:
    query = query.order_by(audit.c.at, audit.c.id).limit(max(1, min(limit, MAX_LIMIT)))
    if member_id is not None:
        query = query.where(audit.c.member_id == member_id)
    if since is not None:
        query = query.where(audit.c.at >= since)  # compared in UTC on every engine (schema.UtcDateTime)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(query)]
    for row in rows:
        row["list_versions"] = json.loads(row["list_versions"])
    return [AuditEntry(**row) for row in rows]


def count_audit(engine: Engine, member_id: int, action: str | None = None, status: int | None = None) -> int:
    """How many audit rows ``member_id`` has (of one action and status, if given)."""
    query = select(func.count()).select_from(audit).where(audit.c.member_id == member_id)
    if action is not None:
        query = query.where(audit.c.action == action)
    if status is not None:
        query = query.where(audit.c.status == status)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())
