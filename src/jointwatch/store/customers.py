"""A member's customer base, the alerts on it and the runs that screened it.

The base is what the bank last sent (``replace_base``); alerts are one row per customer and
listed entity, opened by a run and withdrawn by a later one, never deleted, so the history
of who was alerted on what, against which list version, stays. Every row belongs to a member;
``member_id`` None names the store's own member ``local`` (the CLI's default).

This module keeps records; what a run finds, and how, is ``payments.customers``'.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from jointwatch.store.engine import inserted_id
from jointwatch.store.members import member_or_local
from jointwatch.store.schema import alerts, customer_runs, customers

_CHUNK = 500


@dataclass(frozen=True)
class StoredCustomer:
    """A customer of a member's base, with what its last screening left (name words, near score)."""

    ref: str
    name: str
    schema: str
    birth_date: str | None
    nationality: str | None
    country: str | None
    accounts: tuple[str, ...]
    name_keys: tuple[str, ...] = ()       # the analysed words of the name, as the last run stored them
    near_score: float | None = None


@dataclass(frozen=True)
class CustomerAlert:
    """An alert on a customer: as a run finds it (before it is stored: no id, run or times
    yet) and as the store keeps it, in the CLI's JSON and the API's responses alike."""

    customer_ref: str
    entity_id: str
    source: str
    reference: str
    caption: str
    listed_name: str
    kind: str                             # name, account
    score: float
    list_version: str
    explanation: str | None = None        # the match's explanation, as JSON
    status: str = "open"                  # open, withdrawn
    reason: str | None = None             # why it was withdrawn
    run_id: int | None = None             # the run that opened it
    id: int | None = None
    created_at: datetime | None = None
    withdrawn_at: datetime | None = None
    # on a partner entry's alert: whose entry it is and what it asks (None, () for an official list)
    originator: str | None = None
    tlp: str | None = None
    handling: tuple[str, ...] = ()


_FOUND = ("customer_ref", "entity_id", "source", "reference", "caption", "listed_name", "kind", "score",
          "list_version", "explanation", "originator", "tlp")
# a new alert's queue columns: nobody has it yet and nothing is decided
_UNDECIDED = {"assignee": None, "decision": None, "decided_by": None, "decided_at": None, "decision_reason": None,
              "decision_id": None}
# what a run's finding updates on an alert it keeps open (an edited partner entry may change its rules)
_KEPT = ("score", "list_version", "listed_name", "explanation", "originator", "tlp")


@dataclass(frozen=True)
class RunInfo:
    """One screening of a member's base: full or delta, against which list versions, with what result."""

    id: int
    kind: str
    list_versions: dict[str, str]
    started_at: datetime
    seconds: float
    customers: int
    screened: int
    new_alerts: int
    withdrawn_alerts: int


@dataclass(frozen=True)
class PartnerMark:
    """What of the partner entries a run's screener held: every change up to sharing sequence
    number ``seq``, as released to the member in ``groups`` (and standing for a link or not).
    Kept with the run, never shown: the sequence counts changes to entries the member may not see."""

    seq: int
    groups: tuple[int, ...]
    link: bool = False


@dataclass
class BaseChange:
    """What ``replace_base`` did to the base."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: list[str] | None = None


def _customer_row(c: StoredCustomer, member_id: int, now: datetime) -> dict[str, Any]:
    return {"member_id": member_id, "ref": c.ref, "name": c.name, "schema": c.schema, "birth_date": c.birth_date,
            "nationality": c.nationality, "country": c.country, "accounts": ";".join(c.accounts) or None,
            "name_keys": None, "near_score": None, "updated_at": now}


_SAME = ("name", "schema", "birth_date", "nationality", "country", "accounts")


def replace_base(engine: Engine, member_id: int | None, rows: list[StoredCustomer]) -> BaseChange:
    """Make ``rows`` the member's customer base: new ones added, changed ones updated (their
    screening forgotten), the ones not in ``rows`` removed. One transaction."""
    member_id = member_or_local(engine, member_id)
    now = datetime.now(UTC)
    change = BaseChange(removed=[])
    mine = customers.c.member_id == member_id
    with engine.begin() as connection:
        existing = {r.ref: r for r in connection.execute(
            select(customers.c.ref, *[customers.c[k] for k in _SAME]).where(mine))}
        new_rows, changed = [], []
        for c in rows:
            row = _customer_row(c, member_id, now)
            old = existing.pop(c.ref, None)
            if old is None:
                new_rows.append(row)
            elif any(getattr(old, k) != row[k] for k in _SAME):
                changed.append(row)
            else:
                change.unchanged += 1
        for start in range(0, len(new_rows), 5000):
            connection.execute(insert(customers), new_rows[start:start + 5000])
        for row in changed:
            connection.execute(update(customers).where(mine, customers.c.ref == row["ref"]).values(**row))
        removed = sorted(existing)
        for start in range(0, len(removed), _CHUNK):
            connection.execute(delete(customers).where(mine, customers.c.ref.in_(removed[start:start + _CHUNK])))
        change.added, change.updated, change.removed = len(new_rows), len(changed), removed
    return change


def iter_customers(engine: Engine, member_id: int | None) -> Iterator[StoredCustomer]:
    """The member's customers in reference order."""
    query = (select(customers).where(customers.c.member_id == member_or_local(engine, member_id))
             .order_by(customers.c.ref))
    with engine.connect() as connection:
        for r in connection.execute(query):
            yield StoredCustomer(r.ref, r.name, r.schema, r.birth_date, r.nationality, r.country,
                                 tuple(a for a in (r.accounts or "").split(";") if a),
                                 tuple((r.name_keys or "").split()), r.near_score)


def count_customers(engine: Engine, member_id: int | None) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(customers).where(
            customers.c.member_id == member_or_local(engine, member_id))).scalar_one())


def _alert(row: Any) -> CustomerAlert:
    values = {k: row._mapping[k] for k in CustomerAlert.__dataclass_fields__ if k != "handling"}
    return CustomerAlert(**values, handling=tuple(json.loads(row.handling)) if row.handling else ())


def _handling(a: CustomerAlert) -> str | None:
    return json.dumps(list(a.handling)) if a.handling else None


def list_alerts(engine: Engine, member_id: int | None, status: str | None = "open",
                customer_ref: str | None = None, run_id: int | None = None) -> list[CustomerAlert]:
    """The member's customer alerts, oldest first: open ones (``status``), or withdrawn, or all (None)."""
    query = select(alerts).where(alerts.c.member_id == member_or_local(engine, member_id),
                                 alerts.c.origin == "customer")
    if status:
        query = query.where(alerts.c.status == status)
    if customer_ref:
        query = query.where(alerts.c.customer_ref == customer_ref)
    if run_id is not None:
        query = query.where(alerts.c.run_id == run_id)
    with engine.connect() as connection:
        return [_alert(r) for r in connection.execute(query.order_by(alerts.c.id))]


def last_run(engine: Engine, member_id: int | None) -> RunInfo | None:
    query = (select(customer_runs).where(customer_runs.c.member_id == member_or_local(engine, member_id))
             .order_by(customer_runs.c.id.desc()).limit(1))
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    return RunInfo(row.id, row.kind, json.loads(row.list_versions), row.started_at, row.seconds, row.customers,
                   row.screened, row.new_alerts, row.withdrawn_alerts)


def run_partner_mark(engine: Engine, run_id: int) -> PartnerMark | None:
    """The partner entries a run covered (None: its screener held none, or it predates them)."""
    with engine.connect() as connection:
        row = connection.execute(select(customer_runs.c.partner_seq, customer_runs.c.partner_recipient)
                                 .where(customer_runs.c.id == run_id)).first()
    if row is None or row.partner_seq is None:
        return None
    recipient = json.loads(row.partner_recipient or "{}")
    return PartnerMark(int(row.partner_seq), tuple(recipient.get("groups", ())), bool(recipient.get("link", False)))


def save_run(engine: Engine, member_id: int | None, kind: str, versions: dict[str, str], started: datetime,
             seconds: float, total: int, screened: Iterable[StoredCustomer], found: Iterable[CustomerAlert],
             withdraw_reason: dict[str, str] | None = None,
             partners: PartnerMark | None = None,
             subject_keys: dict[str, str] | None = None) -> tuple[RunInfo, list[CustomerAlert]]:
    """Store a run over the customers it ``screened`` (with the name words and near score it
    left them), in one transaction: their open alerts become exactly the ones ``found`` (new
    ones opened, vanished ones withdrawn with a reason: ``withdraw_reason`` by entity id, else
    "no longer matches"); ``partners``: the partner entries its screener held; ``subject_keys``:
    each alerted customer's identity digest by reference, what an analyst's decision is filed under."""
    member_id = member_or_local(engine, member_id)
    screened = list(screened)
    now = datetime.now(UTC)
    reasons = withdraw_reason or {}
    keys = subject_keys or {}
    named = {c.ref: c for c in screened}
    with engine.begin() as connection:
        run_id = (inserted_id(connection.execute(insert(customer_runs).values(
            member_id=member_id, kind=kind, list_versions=json.dumps(versions, sort_keys=True),
            started_at=started, seconds=0.0, customers=total, screened=len(screened), new_alerts=0,
            withdrawn_alerts=0, partner_seq=None if partners is None else partners.seq,
            partner_recipient=None if partners is None else json.dumps(
                {"groups": sorted(partners.groups), "link": partners.link})))))
        open_now = _open_alerts_of(connection, member_id, [c.ref for c in screened])
        new_rows: list[dict[str, Any]] = []
        keep: set[int] = set()
        for a in found:
            held = open_now.get((a.customer_ref, a.entity_id))
            if held is not None:
                keep.add(held)
                connection.execute(update(alerts).where(alerts.c.id == held).values(
                    **{k: getattr(a, k) for k in _KEPT}, handling=_handling(a),
                    **({"subject_key": keys[a.customer_ref]} if a.customer_ref in keys else {})))
            else:
                who = named.get(a.customer_ref)
                new_rows.append({**{k: getattr(a, k) for k in _FOUND}, "handling": _handling(a),
                                 "member_id": member_id, "status": "open", "reason": None, "run_id": run_id,
                                 "created_at": now, "withdrawn_at": None, **_UNDECIDED, "origin": "customer",
                                 "origin_ref": a.customer_ref, "subject": who.name if who else a.customer_ref,
                                 "subject_key": keys.get(a.customer_ref),
                                 "subject_birth_date": who.birth_date if who else None})
        gone = [(pair, alert_id) for pair, alert_id in open_now.items() if alert_id not in keep]
        for (_, entity_id), alert_id in gone:
            connection.execute(update(alerts).where(alerts.c.id == alert_id).values(
                status="withdrawn", withdrawn_at=now,
                reason=reasons.get(entity_id, f"no longer matches (run {run_id})")))
        for start in range(0, len(new_rows), 5000):
            connection.execute(insert(alerts), new_rows[start:start + 5000])
        if screened:
            # one statement, many parameter sets: a million customers are one executemany
            connection.execute(
                update(customers).where(customers.c.member_id == member_id, customers.c.ref == bindparam("_ref"))
                .values(name_keys=bindparam("_keys"), near_score=bindparam("_near")),
                [{"_ref": c.ref, "_keys": " ".join(c.name_keys), "_near": c.near_score} for c in screened])
        connection.execute(update(customer_runs).where(customer_runs.c.id == run_id).values(
            seconds=seconds, new_alerts=len(new_rows), withdrawn_alerts=len(gone)))
    info = RunInfo(run_id, kind, versions, started, seconds, total, len(screened), len(new_rows), len(gone))
    return info, list_alerts(engine, member_id, "open", run_id=run_id)


def _open_alerts_of(connection: Connection, member_id: int, refs: list[str]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    if not refs:
        return out
    base = select(alerts.c.id, alerts.c.customer_ref, alerts.c.entity_id).where(
        alerts.c.member_id == member_id, alerts.c.status == "open",
        alerts.c.origin == "customer")
    if len(refs) > 20_000:
        wanted = set(refs)
        for row in connection.execute(base):
            if row.customer_ref in wanted:
                out[(row.customer_ref, row.entity_id)] = row.id
        return out
    for start in range(0, len(refs), _CHUNK):
        for row in connection.execute(base.where(alerts.c.customer_ref.in_(refs[start:start + _CHUNK]))):
            out[(row.customer_ref, row.entity_id)] = row.id
    return out


def withdraw_for_removed_customers(engine: Engine, member_id: int | None, refs: list[str]) -> int:
    """Withdraw the open alerts of customers that left the base."""
    member_id = member_or_local(engine, member_id)
    now = datetime.now(UTC)
    count = 0
    with engine.begin() as connection:
        for start in range(0, len(refs), _CHUNK):
            count += connection.execute(update(alerts).where(
                alerts.c.member_id == member_id, alerts.c.status == "open",
                alerts.c.origin == "customer", alerts.c.customer_ref.in_(refs[start:start + _CHUNK])).values(
                status="withdrawn", withdrawn_at=now, reason="customer left the customer base")).rowcount
    return count
