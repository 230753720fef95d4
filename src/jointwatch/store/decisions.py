"""Analysts' decisions on matches, kept per member; a false positive also feeds the whitelist.

The one place a decision is made, for the API (``POST /decisions``) and later the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Engine, insert, select

from jointwatch.errors import StoreError
from jointwatch.store.engine import inserted_id
from jointwatch.store.entities import one_listing
from jointwatch.store.schema import decisions
from jointwatch.store.whitelist import add_entry

Verdict = Literal["true_positive", "false_positive"]
VERDICTS: tuple[str, ...] = ("true_positive", "false_positive")


@dataclass(frozen=True)
class Decision:
    id: int
    member_id: int
    user: str
    verdict: str
    reason: str
    query_key: str
    query_name: str
    query_birth_date: str | None
    entity_id: str
    source: str
    reference: str
    whitelist_id: int | None
    created_at: datetime


def record_decision(engine: Engine, member_id: int, user: str, query_key: str, query_name: str,
                    query_birth_date: str | None, ref: str, source: str | None, verdict: str,
                    reason: str) -> Decision:
    """File a verdict on (subject, listed entity) for a member; a false positive is whitelisted too."""
    if verdict not in VERDICTS:
        raise StoreError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    if not reason.strip():
        raise StoreError("a decision needs a reason")
    view = one_listing(engine, ref, source)
    whitelist_id = None
    if verdict == "false_positive":
        entry = add_entry(engine, query_key, query_name, query_birth_date, view.entity_id, view.source,
                          view.reference, reason, decided_by=f"{user} (member {member_id})",
                          member_id=member_id)
        whitelist_id = entry.id
    row: dict[str, Any] = {"member_id": member_id, "user": user, "verdict": verdict, "reason": reason.strip(),
           "query_key": query_key, "query_name": query_name, "query_birth_date": query_birth_date,
           "entity_id": view.entity_id, "source": view.source, "reference": view.reference,
           "whitelist_id": whitelist_id, "created_at": datetime.now(UTC)}
    with engine.begin() as connection:
        new_id = inserted_id(connection.execute(insert(decisions).values(**row)))
    return Decision(id=int(new_id), **row)


def list_decisions(engine: Engine, member_id: int) -> list[Decision]:
    """A member's decisions, oldest first; there is no way to ask for another member's."""
    query = select(decisions).where(decisions.c.member_id == member_id).order_by(decisions.c.id)
    with engine.connect() as connection:
        return [Decision(**row._mapping) for row in connection.execute(query)]
