"""Decisions: a member's verdict on one match ("this subject is / is not that listed entity").

One concept with one name for the CLI (``jointwatch decisions …``), the API (``/decisions``)
and screening: a ``false_positive`` decision suppresses that match for that member from then
on; a ``true_positive`` is kept as the record of a confirmed hit. Decisions are filed under
the subject's identity digest (``Query.identity``: its name's words in canonical spelling,
sorted, with birth date and schema), so the same traveller spelled another way ("Mohamed Ali"
/ "ALI, Mohammed") is still recognised. There is no size limit: screening asks the store only
about the entities it is about to report (``decided_false_positives``).

A false positive's suppression is kept in its own table (``whitelist``, the name it had
before decisions were one concept), looked up by (subject, entity, member).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from jointwatch.errors import ConflictError, InvalidInputError, NotFoundError
from jointwatch.store.engine import inserted_id
from jointwatch.store.entities import one_listing
from jointwatch.store.schema import decisions
from jointwatch.store.schema import whitelist as suppressions

VERDICTS: tuple[str, ...] = ("true_positive", "false_positive")
_CHUNK = 500


@dataclass(frozen=True)
class Decision:
    """A member's verdict on (subject, listed entity), with who made it and why."""

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
    whitelist_id: int | None   # the suppression a false positive made (None for a true positive)
    created_at: datetime


def _suppress(connection: Connection, member_id: int, query_key: str, query_name: str,
              query_birth_date: str | None, entity_id: str, source: str, reference: str, reason: str,
              decided_by: str) -> int:
    return int(inserted_id(connection.execute(insert(suppressions).values(
        query_key=query_key, query_name=query_name, query_birth_date=query_birth_date, entity_id=entity_id,
        source=source, reference=reference, reason=reason, decided_by=decided_by, created_at=datetime.now(UTC),
        member_id=member_id))))


def record_decision(engine: Engine, member_id: int, user: str, query_key: str, query_name: str,
                    query_birth_date: str | None, reference: str, source: str | None, verdict: str,
                    reason: str) -> Decision:
    """File a member's verdict on (subject, listed entity); a false positive also suppresses
    the pair in that member's screening. ``reference`` is the listing's reference or entity id."""
    if verdict not in VERDICTS:
        raise InvalidInputError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    if not reason.strip():
        raise InvalidInputError("a decision needs a reason")
    view = one_listing(engine, reference, source)
    row: dict[str, Any] = {"member_id": member_id, "user": user, "verdict": verdict, "reason": reason.strip(),
                           "query_key": query_key, "query_name": query_name, "query_birth_date": query_birth_date,
                           "entity_id": view.entity_id, "source": view.source, "reference": view.reference,
                           "whitelist_id": None, "created_at": datetime.now(UTC)}
    try:
        with engine.begin() as connection:  # the decision and its suppression are filed together or not at all
            if verdict == "false_positive":
                row["whitelist_id"] = _suppress(connection, member_id, query_key, query_name, query_birth_date,
                                                view.entity_id, view.source, view.reference, row["reason"],
                                                f"{user} (member {member_id})")
            new_id = inserted_id(connection.execute(insert(decisions).values(**row)))
    except IntegrityError:
        # the subject is not named: the message becomes an API problem's detail
        raise ConflictError(f"this subject is already decided a false positive against {view.source} "
                            f"{view.reference}") from None
    return Decision(id=int(new_id), **row)


def list_decisions(engine: Engine, member_id: int) -> list[Decision]:
    """A member's decisions, oldest first; there is no way to ask for another member's."""
    query = select(decisions).where(decisions.c.member_id == member_id).order_by(decisions.c.id)
    with engine.connect() as connection:
        return [Decision(**row._mapping) for row in connection.execute(query)]


def decisions_page(engine: Engine, member_id: int, limit: int, before: int | None = None) -> list[Decision]:
    """A member's decisions newest first, at most ``limit``, only those older than decision
    ``before`` when given: pages by key, so the thousandth page costs what the first does."""
    query = select(decisions).where(decisions.c.member_id == member_id)
    if before is not None:
        query = query.where(decisions.c.id < before)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(decisions.c.id.desc()).limit(limit))
        return [Decision(**row._mapping) for row in rows]


def count_decisions(engine: Engine, member_id: int) -> int:
    """How many decisions a member has."""
    query = select(func.count()).select_from(decisions).where(decisions.c.member_id == member_id)
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def withdraw_decision(engine: Engine, member_id: int, decision_id: int) -> Decision:
    """Withdraw one of a member's decisions: it is deleted with its suppression, so the pair
    alerts again (the service's audit trail keeps that it was made and withdrawn). NotFoundError
    for another member's decision, exactly as for one that does not exist."""
    with engine.begin() as connection:
        row = connection.execute(select(decisions).where(
            decisions.c.id == decision_id, decisions.c.member_id == member_id)).first()
        if row is None:
            raise NotFoundError(f"no decision {decision_id}")
        connection.execute(delete(decisions).where(decisions.c.id == decision_id))
        if row.whitelist_id is not None:
            connection.execute(delete(suppressions).where(suppressions.c.id == row.whitelist_id,
                                                          suppressions.c.member_id == member_id))
    return Decision(**row._mapping)


def decided_false_positives(engine: Engine, query_key: str, entity_ids: list[str],
                            member_id: int | None) -> set[str]:
    """Which of ``entity_ids`` this member decided are not the subject with this identity
    (none without a member: decisions are always some member's)."""
    if member_id is None:
        return set()
    found: set[str] = set()
    with engine.connect() as connection:
        for start in range(0, len(entity_ids), _CHUNK):
            chunk = entity_ids[start:start + _CHUNK]
            found |= set(connection.execute(select(suppressions.c.entity_id).where(
                suppressions.c.query_key == query_key, suppressions.c.member_id == member_id,
                suppressions.c.entity_id.in_(chunk))).scalars())
    return found


def member_false_positives(engine: Engine, member_id: int | None) -> frozenset[tuple[str, str]]:
    """Every (query identity, entity id) this member decided is a false match: what
    ``decided_false_positives`` looks up one query at a time, whole, for screening away from
    the store (Spark executors)."""
    if member_id is None:
        return frozenset()
    with engine.connect() as connection:
        return frozenset((key, entity) for key, entity in connection.execute(
            select(suppressions.c.query_key, suppressions.c.entity_id).where(suppressions.c.member_id == member_id)))
