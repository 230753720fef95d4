"""The alerts queue: every match a person must look at, whatever found it, and what was done about it.

An alert is one match (a subject as screened against one listed entity) with its origin: a
customer run (``customer``), a held payment (``payment``), a referred or hit traveller
(``traveller``) or a job (``job``). Customer runs open and withdraw their own alerts
(``store.customers``); the others are filed here (``file_alerts``). Analysts assign alerts and
decide them with a reason; deciding files the member's decision through ``record_decision``,
so a false positive stops that match alerting again for the member, exactly as POST
/decisions does.

The state a person sees is derived, never stored twice: ``true_positive``/``false_positive``
once decided (a later run withdrawing the match does not undo a decision), else ``withdrawn``
once a run withdrew it, else ``assigned`` when somebody has it, else ``open``. Every alert
belongs to one member; another member's alert is "not found", exactly as one that does not
exist.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, func, insert, select, update

from jointwatch.errors import ConflictError, InvalidInputError, NotFoundError
from jointwatch.store.decisions import VERDICTS, record_decision
from jointwatch.store.schema import alert_events, alerts, api_keys, console_users
from jointwatch.text import storable

ORIGINS: tuple[str, ...] = ("customer", "payment", "traveller", "job")
ALERT_STATES: tuple[str, ...] = ("open", "assigned", "true_positive", "false_positive", "withdrawn")
STATE_FILTERS: tuple[str, ...] = (*ALERT_STATES, "decided")   # decided: either verdict
ACTIONS: tuple[str, ...] = ("opened", "assigned", "unassigned", "decided", "withdrawn")
ALERTS_PER_PAGE = 50
PARTNER_SOURCE = "shared"   # the source of a partner hit (sharing.screening's SOURCE)
_TEXT_MAX = 200


@dataclass(frozen=True)
class NewAlert:
    """A match to file as an alert: what was screened (``subject``, with the identity digest a
    decision is filed under), where it came from, and the listed entity it matched."""

    origin: str
    origin_ref: str
    subject: str
    entity_id: str
    source: str
    reference: str
    caption: str
    listed_name: str
    kind: str                             # name, account, bic, identifier, remittance, document
    score: float
    list_version: str
    subject_key: str | None = None
    subject_birth_date: str | None = None
    explanation: str | None = None        # the match's explanation, as JSON
    originator: str | None = None         # a partner entry's: whose it is and what it asks
    tlp: str | None = None
    handling: tuple[str, ...] = ()


@dataclass(frozen=True)
class Alert:
    """An alert as the queue shows it: the match, its origin, who has it, what was decided."""

    id: int
    member_id: int
    origin: str
    origin_ref: str
    subject: str
    entity_id: str
    source: str
    reference: str
    caption: str
    listed_name: str
    kind: str
    score: float
    list_version: str
    state: str                            # open, assigned, true_positive, false_positive, withdrawn
    status: str                           # open, withdrawn (as its run left it)
    created_at: datetime
    explanation: str | None = None
    subject_birth_date: str | None = None
    customer_ref: str | None = None
    run_id: int | None = None
    reason: str | None = None             # why a run withdrew it
    withdrawn_at: datetime | None = None
    assignee: str | None = None
    decision: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    decision_id: int | None = None
    originator: str | None = None
    tlp: str | None = None
    handling: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertEvent:
    """One step in an alert's history: when, who, what (``ACTIONS``) and the detail."""

    at: datetime
    user: str
    action: str
    detail: str | None = None


def _state(row: Any) -> str:
    if row.decision:
        return str(row.decision)
    if row.status == "withdrawn":
        return "withdrawn"
    return "assigned" if row.assignee else "open"


_SKIP = {"state", "handling"}


def _alert(row: Any) -> Alert:
    values = {k: row._mapping[k] for k in Alert.__dataclass_fields__ if k not in _SKIP}
    return Alert(**values, state=_state(row), handling=tuple(json.loads(row.handling)) if row.handling else ())


def _where_state(state: str) -> ColumnElement[bool]:
    undecided = alerts.c.decision.is_(None)
    if state in VERDICTS:
        return alerts.c.decision == state
    if state == "decided":
        return alerts.c.decision.is_not(None)
    if state == "withdrawn":
        return and_(undecided, alerts.c.status == "withdrawn")
    if state == "assigned":
        return and_(undecided, alerts.c.status == "open", alerts.c.assignee.is_not(None))
    if state == "open":
        return and_(undecided, alerts.c.status == "open", alerts.c.assignee.is_(None))
    raise InvalidInputError(f"state {state!r} is not one of {', '.join(STATE_FILTERS)}")


def file_alerts(engine: Engine, member_id: int, found: list[NewAlert]) -> list[Alert]:
    """Open one alert per match ``found`` for the member, in one transaction; the new alerts."""
    if not found:
        return []
    with engine.begin() as connection:
        ids = insert_alerts(connection, member_id, found)
        rows = connection.execute(select(alerts).where(alerts.c.id.in_(ids)).order_by(alerts.c.id))
        return [_alert(r) for r in rows]


def insert_alerts(connection: Connection, member_id: int, found: list[NewAlert]) -> list[int]:
    """Open the alerts ``found`` in the caller's transaction (a job's result and its alerts are
    stored together); their ids."""
    now = datetime.now(UTC)
    ids = []
    for a in found:
        if a.origin not in ORIGINS:
            raise InvalidInputError(f"origin {a.origin!r} is not one of {', '.join(ORIGINS)}")
        row = {**{k: getattr(a, k) for k in NewAlert.__dataclass_fields__ if k != "handling"},
               "handling": json.dumps(list(a.handling)) if a.handling else None, "member_id": member_id,
               "status": "open", "created_at": now}
        ids.append(connection.execute(insert(alerts).values(**row)).inserted_primary_key[0])  # type: ignore[index]
    return ids


def alerts_page(engine: Engine, member_id: int, limit: int = ALERTS_PER_PAGE, before: int | None = None, *,
                state: str | None = None, origin: str | None = None, source: str | None = None,
                assignee: str | None = None, text: str | None = None) -> list[Alert]:
    """The member's alerts newest first, at most ``limit``, only those older than alert
    ``before`` when given (paged by key: a deep page costs what the first does), filtered by
    state (``STATE_FILTERS``), origin, source, assignee and words of the subject."""
    for name, value in (("source", source), ("assignee", assignee), ("the subject's words", text)):
        if value:
            storable(name, value)   # a NUL would be a database error on PostgreSQL, not "no alert"
    query = select(alerts).where(alerts.c.member_id == member_id)
    if before is not None:
        query = query.where(alerts.c.id < before)
    if state:
        query = query.where(_where_state(state))
    if origin:
        if origin not in ORIGINS:
            raise InvalidInputError(f"origin {origin!r} is not one of {', '.join(ORIGINS)}")
        query = query.where(alerts.c.origin == origin)
    if source:
        query = query.where(alerts.c.source == source)
    if assignee:
        query = query.where(alerts.c.assignee == assignee)
    if text and text.strip():
        # each word must appear in the subject, in any case: "harzi tarak" finds "TARAK … HARZI";
        # SQLite's LIKE ignores case already (ASCII, as its lower() does), PostgreSQL needs ILIKE
        insensitive = engine.dialect.name != "sqlite"
        for word in text.strip()[:_TEXT_MAX].split()[:8]:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            column = alerts.c.subject
            query = query.where(column.ilike(f"%{escaped}%", escape="\\") if insensitive
                                else column.like(f"%{escaped}%", escape="\\"))
    with engine.connect() as connection:
        return [_alert(r) for r in connection.execute(query.order_by(alerts.c.id.desc()).limit(limit))]


def count_alerts_by_state(engine: Engine, member_id: int) -> dict[str, int]:
    """How many of the member's alerts are in each state (every state present, 0 when none)."""
    # grouped by the stored columns in the order of their index (ix_alerts_member_state), so the
    # database counts from the index alone; the few groups are folded into states here
    query = (select(alerts.c.decision, alerts.c.status, alerts.c.assignee, func.count())
             .where(alerts.c.member_id == member_id)
             .group_by(alerts.c.decision, alerts.c.status, alerts.c.assignee))
    counts = dict.fromkeys(ALERT_STATES, 0)
    with engine.connect() as connection:
        for row in connection.execute(query):
            counts[_state(row)] += int(row[3])
    return counts


def _one(connection: Connection, member_id: int, alert_id: int) -> Any:
    row = connection.execute(select(alerts).where(alerts.c.id == alert_id, alerts.c.member_id == member_id)).first()
    if row is None:
        raise NotFoundError(f"no alert {alert_id}")
    return row


def get_alert(engine: Engine, member_id: int, alert_id: int) -> Alert:
    """One of the member's alerts; NotFoundError for another member's, as for one that does not exist."""
    with engine.connect() as connection:
        return _alert(_one(connection, member_id, alert_id))


def member_users(engine: Engine, member_id: int) -> list[str]:
    """Who may be given a member's alerts: its console users and the users of its API keys."""
    with engine.connect() as connection:
        names = set(connection.execute(select(console_users.c.user).where(
            console_users.c.member_id == member_id, console_users.c.disabled_at.is_(None))).scalars())
        names |= set(connection.execute(select(api_keys.c.user).where(
            api_keys.c.member_id == member_id, api_keys.c.revoked_at.is_(None))).scalars())
    return sorted(names)


def _event(connection: Connection, alert_id: int, user: str, action: str, detail: str | None) -> None:
    connection.execute(insert(alert_events).values(alert_id=alert_id, at=datetime.now(UTC), user=user,
                                                   action=action, detail=detail))


def assign_alert(engine: Engine, member_id: int, alert_id: int, by_user: str, assignee: str | None) -> Alert:
    """Give one of the member's alerts to ``assignee`` (the user themself, or another user of the
    same member), or to nobody (None). A decided alert stays with whoever decided it."""
    if assignee is not None and assignee != by_user and assignee not in member_users(engine, member_id):
        # the same answer for a user of another member as for nobody: names do not leak across members
        raise InvalidInputError(f"{assignee!r} is not a user of this member")
    with engine.begin() as connection:
        row = _one(connection, member_id, alert_id)
        if row.decision:
            raise ConflictError(f"alert {alert_id} is already decided")
        if row.assignee != assignee:
            connection.execute(update(alerts).where(alerts.c.id == alert_id).values(assignee=assignee))
            _event(connection, alert_id, by_user, "assigned" if assignee else "unassigned",
                   f"to {assignee}" if assignee else f"was {row.assignee}")
        return _alert(_one(connection, member_id, alert_id))


def decide_alert(engine: Engine, member_id: int, alert_id: int, user: str, verdict: str, reason: str) -> Alert:
    """Decide one of the member's alerts a true or false positive, with a reason: the member's
    decision is filed (``record_decision``; a false positive suppresses the match for the
    member from then on) and the alert records it. An alert is decided once."""
    if verdict not in VERDICTS:
        raise InvalidInputError(f"verdict {verdict!r} is not one of {', '.join(VERDICTS)}")
    if not reason.strip():
        raise InvalidInputError("a decision needs a reason")
    alert = get_alert(engine, member_id, alert_id)
    if alert.decision:
        raise ConflictError(f"alert {alert_id} is already decided {alert.decision}")
    key = _subject_key(engine, alert_id)
    if key is None:
        raise ConflictError(f"alert {alert_id} predates the queue and does not say who was screened: "
                            "screen the customer base again (jointwatch customers rescreen --full), then decide it")
    decision_id: int | None
    detail = f"{verdict}: {reason.strip()}"
    try:
        decision_id = record_decision(engine, member_id, user, key, alert.subject, alert.subject_birth_date,
                                      alert.reference, alert.source, verdict, reason).id
    except ConflictError:
        # the subject is already decided a false positive against this entity (another alert on
        # the same party): this alert takes that verdict, with no second decision
        if verdict != "false_positive":
            raise
        decision_id = None
        detail += " (the member had already decided this match a false positive)"
    except NotFoundError:
        # a partner hit: the entry is no listing of the register, so no decision can be filed for
        # it (nor through POST /decisions); the alert keeps the analyst's verdict all the same
        if alert.source != PARTNER_SOURCE:
            raise
        decision_id = None
        detail += " (a partner entry: the verdict is the alert's; no decision is filed for it)"
    now = datetime.now(UTC)
    with engine.begin() as connection:
        done = connection.execute(update(alerts).where(alerts.c.id == alert_id, alerts.c.decision.is_(None)).values(
            decision=verdict, decided_by=user, decided_at=now, decision_reason=reason.strip(),
            decision_id=decision_id, assignee=func.coalesce(alerts.c.assignee, user))).rowcount
        if not done:
            raise ConflictError(f"alert {alert_id} is already decided")
        _event(connection, alert_id, user, "decided", detail)
        return _alert(_one(connection, member_id, alert_id))


def _subject_key(engine: Engine, alert_id: int) -> str | None:
    with engine.connect() as connection:
        key = connection.execute(select(alerts.c.subject_key).where(alerts.c.id == alert_id)).scalar_one()
    return None if key is None else str(key)


def alert_history(engine: Engine, member_id: int, alert_id: int) -> list[AlertEvent]:
    """What happened to one of the member's alerts, oldest first: opened (by what), the
    assignments and the decision, and a run's withdrawal with its reason."""
    with engine.connect() as connection:
        row = _one(connection, member_id, alert_id)
        events = [AlertEvent(r.at, r.user, r.action, r.detail) for r in connection.execute(
            select(alert_events).where(alert_events.c.alert_id == alert_id).order_by(alert_events.c.id))]
    by = f"customer run {row.run_id}" if row.origin == "customer" and row.run_id else f"{row.origin} screening"
    out = [AlertEvent(row.created_at, by, "opened", f"{row.origin} {row.origin_ref}"), *events]
    if row.withdrawn_at is not None:
        out.append(AlertEvent(row.withdrawn_at, "a later customer run", "withdrawn", row.reason))
    return sorted(out, key=lambda e: e.at)

