"""Blind discovery as stored: holders' offers, what each asker spent, the holder's log.

The budget is charged in the same transaction that checks it, so two evaluations at once
never both pass a budget that has room for one. Deciding what a key evaluates to is
``jointwatch.sharing.discovery``; this module only keeps the counts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from jointwatch.errors import LimitReachedError
from jointwatch.store.engine import write_transaction
from jointwatch.store.schema import discovery_offers, discovery_queries, discovery_spend

SCOPES = ("server", "connected")
OFFER_STATUSES = ("open", "closed")
RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class Offer:
    """A holder's standing offer to answer blind queries about its restricted entries."""

    holder_id: int
    seed: bytes                   # the holder's secret: never shown, never sent
    daily_keys: int               # key evaluations per asker per UTC day
    per_minute: int               # evaluation calls per asker per minute
    scope: str                    # server (members here) or connected (linked servers too)
    tlp_max: str                  # the strictest TLP among the entries it covers
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Spend:
    """What one asker spent of one holder's budget on one day (both sides may read it)."""

    holder_id: int
    asker: str
    day: str
    keys: int
    queries: int
    refused: int
    daily_keys: int


@dataclass(frozen=True)
class BlindQueryRecord:
    """One blind evaluation as the holder saw it: who asked, when, how many keys. No name."""

    holder_id: int
    asker: str
    keys: int
    outcome: str
    at: datetime


def _offer(r: Any) -> Offer:
    return Offer(r.holder_id, bytes.fromhex(r.seed), r.daily_keys, r.per_minute, r.scope, r.tlp_max, r.status,
                 r.created_at, r.updated_at)


def get_offer(engine: Engine, holder_id: int) -> Offer | None:
    with engine.connect() as connection:
        row = connection.execute(select(discovery_offers).where(discovery_offers.c.holder_id == holder_id)).first()
    return _offer(row) if row else None


def open_offers(engine: Engine) -> list[Offer]:
    with engine.connect() as connection:
        rows = connection.execute(select(discovery_offers).where(discovery_offers.c.status == "open")
                                  .order_by(discovery_offers.c.holder_id)).all()
    return [_offer(r) for r in rows]


def set_offer(engine: Engine, holder_id: int, daily_keys: int, per_minute: int, scope: str, tlp_max: str,
              status: str = "open", new_seed: bool = False) -> Offer:
    """Create or change a holder's offer. The seed is made once (or anew with ``new_seed``:
    every key derived from the old one, and so every index and token made with it, stops
    working at once)."""
    now = datetime.now(UTC)
    values = {"daily_keys": daily_keys, "per_minute": per_minute, "scope": scope, "tlp_max": tlp_max, "status": status,
              "updated_at": now}
    with engine.begin() as connection:
        exists = connection.execute(select(discovery_offers.c.holder_id)
                                    .where(discovery_offers.c.holder_id == holder_id)).first()
        if exists is None:
            connection.execute(insert(discovery_offers).values(holder_id=holder_id, seed=os.urandom(32).hex(),
                                                               created_at=now, **values))
        else:
            if new_seed:
                values["seed"] = os.urandom(32).hex()
            connection.execute(update(discovery_offers).where(discovery_offers.c.holder_id == holder_id)
                               .values(**values))
    offer = get_offer(engine, holder_id)
    assert offer is not None
    return offer


def charge(engine: Engine, offer: Offer, asker: str, keys: int, now: datetime | None = None) -> Spend:
    """Spend ``keys`` evaluations of ``offer`` for ``asker`` today, or refuse (LimitReachedError,
    HTTP 429, with the seconds until there is room) and record the refusal. Either way the
    holder's log gets a row: a blind query happened, from whom, how many keys."""
    now = now or datetime.now(UTC)
    day = now.date().isoformat()
    for attempt in range(2):
        try:
            return _charge(engine, offer, asker, keys, now, day)
        except IntegrityError:
            if attempt:       # two first calls of the day raced to insert the row: the loser retries once
                raise
    raise AssertionError("unreachable")


def _charge(engine: Engine, offer: Offer, asker: str, keys: int, now: datetime, day: str) -> Spend:
    key = ((discovery_spend.c.holder_id == offer.holder_id) & (discovery_spend.c.asker == asker)
           & (discovery_spend.c.day == day))
    refusal: LimitReachedError | None = None
    # the store's write lock from the first statement: SQLite ignores FOR UPDATE, and a plain
    # transaction reads before it locks, so concurrent queries would all see the same spend
    with write_transaction(engine) as connection:
        row = connection.execute(select(discovery_spend).where(key).with_for_update()).first()
        if row is None:
            connection.execute(insert(discovery_spend).values(
                holder_id=offer.holder_id, asker=asker, day=day, keys=0, queries=0, refused=0,
                window_start=now, window_calls=0))
            spent, queries, refused, window_start, window_calls = 0, 0, 0, now, 0
        else:
            spent, queries, refused = row.keys, row.queries, row.refused
            window_start, window_calls = row.window_start, row.window_calls
        if now - window_start >= RATE_WINDOW:
            window_start, window_calls = now, 0
        if window_calls + 1 > offer.per_minute:
            wait = max(1, int((window_start + RATE_WINDOW - now).total_seconds()) + 1)
            refusal = LimitReachedError(f"at most {offer.per_minute} blind queries a minute to this holder: "
                                        f"try again in {wait} s", retry_after=wait)
        elif spent + keys > offer.daily_keys:
            midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
            refusal = LimitReachedError(
                f"the day's budget of {offer.daily_keys} key evaluations at this holder is spent "
                f"({spent} used, {keys} asked); it renews at 00:00 UTC",
                retry_after=int((midnight - now).total_seconds()) + 1)
        if refusal is None:
            spent, queries, window_calls = spent + keys, queries + 1, window_calls + 1
        else:
            refused += 1
        connection.execute(update(discovery_spend).where(key).values(
            keys=spent, queries=queries, refused=refused, window_start=window_start, window_calls=window_calls))
        connection.execute(insert(discovery_queries).values(
            holder_id=offer.holder_id, asker=asker, keys=keys, outcome="refused" if refusal else "evaluated", at=now))
    if refusal is not None:
        raise refusal
    return Spend(offer.holder_id, asker, day, spent, queries, refused, offer.daily_keys)


def spend_of(engine: Engine, day: str, holder_id: int | None = None, asker: str | None = None) -> list[Spend]:
    """The day's spend, of one holder's budget (the holder's view) or of one asker (the asker's)."""
    query = (select(discovery_spend, discovery_offers.c.daily_keys)
             .join(discovery_offers, discovery_offers.c.holder_id == discovery_spend.c.holder_id)
             .where(discovery_spend.c.day == day))
    if holder_id is not None:
        query = query.where(discovery_spend.c.holder_id == holder_id)
    if asker is not None:
        query = query.where(discovery_spend.c.asker == asker)
    with engine.connect() as connection:
        rows = connection.execute(query.order_by(discovery_spend.c.holder_id, discovery_spend.c.asker)).all()
    return [Spend(r.holder_id, r.asker, r.day, r.keys, r.queries, r.refused, r.daily_keys) for r in rows]


def blind_queries(engine: Engine, holder_id: int, limit: int = 100) -> list[BlindQueryRecord]:
    """The holder's log, newest first: everything it learns of the blind queries it answered."""
    with engine.connect() as connection:
        rows = connection.execute(select(discovery_queries).where(discovery_queries.c.holder_id == holder_id)
                                  .order_by(discovery_queries.c.id.desc()).limit(limit)).all()
    return [BlindQueryRecord(r.holder_id, r.asker, r.keys, r.outcome, r.at) for r in rows]


def blind_query_count(engine: Engine, holder_id: int) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(discovery_queries)
                                      .where(discovery_queries.c.holder_id == holder_id)).scalar_one())
