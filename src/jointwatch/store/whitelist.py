"""Decided false positives: "this subject is not that listed entity", kept in the store.

A decision is filed under the subject's identity digest (its name's words in canonical
spelling, sorted, with birth date and schema), so the same traveller spelled another way
("Mohamed Ali" / "ALI, Mohammed") is still recognised. There is no size limit: screening
asks the store only about the entities it is about to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from jointwatch.errors import NotFoundError, StoreError
from jointwatch.store.engine import inserted_id
from jointwatch.store.schema import whitelist

_CHUNK = 500


@dataclass(frozen=True)
class WhitelistEntry:
    id: int
    query_key: str
    query_name: str
    query_birth_date: str | None
    entity_id: str
    source: str
    reference: str
    reason: str
    decided_by: str | None
    created_at: datetime
    member_id: int | None = None


def add_entry(engine: Engine, query_key: str, query_name: str, query_birth_date: str | None, entity_id: str,
              source: str, reference: str, reason: str, decided_by: str | None = None,
              member_id: int | None = None) -> WhitelistEntry:
    """File a false-positive decision (a member's, or the store's own when ``member_id`` is
    None); StoreError if the same pair is already filed for the same owner."""
    if not reason.strip():
        raise StoreError("a whitelist entry needs a reason")
    row: dict[str, Any] = {"query_key": query_key, "query_name": query_name, "query_birth_date": query_birth_date,
           "entity_id": entity_id, "source": source, "reference": reference, "reason": reason.strip(),
           "decided_by": decided_by, "created_at": datetime.now(UTC), "member_id": member_id}
    owner = whitelist.c.member_id.is_(None) if member_id is None else whitelist.c.member_id == member_id
    try:
        with engine.begin() as connection:
            # NULL owners are distinct to a unique constraint, so the store's own entries are checked here
            if connection.execute(select(whitelist.c.id).where(
                    whitelist.c.query_key == query_key, whitelist.c.entity_id == entity_id, owner)).first():
                raise IntegrityError("duplicate whitelist entry", None, Exception())
            new_id = inserted_id(connection.execute(insert(whitelist).values(**row)))
    except IntegrityError:
        # the subject is not named: the message becomes an API problem's detail
        raise StoreError(f"this subject is already whitelisted against {source} {reference}") from None
    return WhitelistEntry(id=int(new_id), **row)


def list_entries(engine: Engine, entity_id: str | None = None) -> list[WhitelistEntry]:
    query = select(whitelist).order_by(whitelist.c.id)
    if entity_id:
        query = query.where(whitelist.c.entity_id == entity_id)
    with engine.connect() as connection:
        return [WhitelistEntry(**row._mapping) for row in connection.execute(query)]


def remove_entry(engine: Engine, entry_id: int) -> None:
    with engine.begin() as connection:
        if connection.execute(delete(whitelist).where(whitelist.c.id == entry_id)).rowcount == 0:
            raise NotFoundError(f"no whitelist entry {entry_id}")


def suppressed(engine: Engine, query_key: str, entity_ids: list[str], member_id: int | None = None) -> set[str]:
    """Which of ``entity_ids`` were decided not to be the subject with this identity, by the
    store's own whitelist or by this member."""
    owner: ColumnElement[bool] = whitelist.c.member_id.is_(None)
    if member_id is not None:
        owner = or_(owner, whitelist.c.member_id == member_id)
    found: set[str] = set()
    with engine.connect() as connection:
        for start in range(0, len(entity_ids), _CHUNK):
            chunk = entity_ids[start:start + _CHUNK]
            found |= set(connection.execute(
                select(whitelist.c.entity_id).where(whitelist.c.query_key == query_key, owner,
                                                    whitelist.c.entity_id.in_(chunk))).scalars())
    return found
