"""Evidence files attached to partner entries, as stored: the bytes once per SHA-256, and one row
per attachment with its chain of custody (who added it, when, from where) and capture time and place.

Who may see a file is decided by ``jointwatch.releasability.may_see_evidence`` over the rows
loaded here. Evidence is withdrawn, never deleted: the bytes stay, so an audit can always
show what a recipient was shown.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from jointwatch.errors import ConflictError, NotFoundError
from jointwatch.store.schema import evidence_blobs, shared_evidence
from jointwatch.store.sharing import NewEvent, _bump, _insert_events


@dataclass(frozen=True)
class StoredEvidence:
    """One evidence file of an entry, without its bytes."""

    id: int
    ref: str                     # "ev-…": global and unguessable, like an entry's ref
    entry_id: int
    sha256: str
    filename: str
    media_type: str              # sniffed from the content, never taken from the name
    size: int
    tlp: str
    description: str
    member_id: int | None
    user: str
    origin: str                  # where from: "api 10.0.0.7", "cli", "link agency-b"
    captured_at: datetime | None
    latitude: float | None
    longitude: float | None
    status: str                  # active, withdrawn
    added_at: datetime


@dataclass(frozen=True)
class NewEvidence:
    """What ``insert_evidence`` stores (the library has checked every field)."""

    ref: str
    entry_id: int
    filename: str
    media_type: str
    tlp: str
    description: str
    member_id: int | None
    user: str
    origin: str
    captured_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None


def _evidence(row: Any) -> StoredEvidence:
    return StoredEvidence(row.id, row.ref, row.entry_id, row.sha256, row.filename, row.media_type, row.size, row.tlp,
                          row.description, row.member_id, row.user, row.origin, row.captured_at, row.latitude,
                          row.longitude, row.status, row.added_at)


def _store_blob(connection: Connection, sha256: str, content: bytes) -> None:
    there = connection.execute(select(evidence_blobs.c.sha256).where(evidence_blobs.c.sha256 == sha256)).first()
    if there is None:
        connection.execute(insert(evidence_blobs).values(sha256=sha256, size=len(content), content=content))


def insert_evidence(engine: Engine, new: NewEvidence, content: bytes,
                    events: Sequence[NewEvent] = ()) -> StoredEvidence:
    """One evidence file, in one transaction with its bytes (kept once per SHA-256), the sharing
    generation's bump and ``events``; ConflictError if the ref exists or a twin upload raced it."""
    sha256 = hashlib.sha256(content).hexdigest()
    try:
        with engine.begin() as connection:
            _store_blob(connection, sha256, content)
            connection.execute(insert(shared_evidence).values(
                ref=new.ref, entry_id=new.entry_id, sha256=sha256, filename=new.filename[:255],
                media_type=new.media_type, size=len(content), tlp=new.tlp, description=new.description,
                member_id=new.member_id, user=new.user[:128], origin=new.origin[:255], captured_at=new.captured_at,
                latitude=new.latitude, longitude=new.longitude, status="active", added_at=datetime.now(UTC)))
            _bump(connection)
            _insert_events(connection, events)
            row = connection.execute(select(shared_evidence).where(shared_evidence.c.ref == new.ref)).one()
    except IntegrityError:
        # the same bytes stored by another upload at the same moment, or a ref taken: nothing was stored
        raise ConflictError(f"evidence {new.filename!r} could not be stored just now: send it again") from None
    return _evidence(row)


def evidence_of(engine: Engine, entry_id: int) -> list[StoredEvidence]:
    """An entry's evidence, withdrawn included, in the order it was added."""
    with engine.connect() as connection:
        rows = connection.execute(select(shared_evidence).where(shared_evidence.c.entry_id == entry_id)
                                  .order_by(shared_evidence.c.id)).all()
    return [_evidence(r) for r in rows]


def get_evidence_row(engine: Engine, ref: str) -> StoredEvidence | None:
    with engine.connect() as connection:
        row = connection.execute(select(shared_evidence).where(shared_evidence.c.ref == ref)).one_or_none()
    return None if row is None else _evidence(row)


def evidence_content(engine: Engine, sha256: str) -> bytes:
    with engine.connect() as connection:
        content = connection.execute(select(evidence_blobs.c.content)
                                     .where(evidence_blobs.c.sha256 == sha256)).scalar_one_or_none()
    if content is None:
        raise NotFoundError(f"no evidence content {sha256}")
    return bytes(content)


def set_evidence_status(engine: Engine, ref: str, status: str, events: Sequence[NewEvent] = ()) -> StoredEvidence:
    """The evidence with a new status (withdrawn: the row and bytes stay), with ``events``."""
    with engine.begin() as connection:
        changed = connection.execute(update(shared_evidence).where(shared_evidence.c.ref == ref)
                                     .values(status=status)).rowcount
        if changed != 1:
            raise NotFoundError(f"no evidence {ref!r}")
        _bump(connection)
        _insert_events(connection, events)
        row = connection.execute(select(shared_evidence).where(shared_evidence.c.ref == ref)).one()
    return _evidence(row)
