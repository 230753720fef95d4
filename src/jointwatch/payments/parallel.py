"""Screening the distinct party names of a batch of payments in worker processes.

A batch of payments names far fewer parties than it has messages, and each distinct name is
screened once (``PaymentScreener``'s cache). Those engine calls are independent, so they can
run in several processes: the workers are forked from the process that holds the screener
(its index is shared copy-on-write, never pickled), each screens its share of the names not
yet in the cache and sends the matches back, and the decisions are then made in order from
the cache, exactly as without workers (``tests/payments/test_parallel.py``).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool

from jointwatch.payments.model import MessageError, Payment
from jointwatch.payments.screening import NameKey, PaymentDecision, PaymentScreener
from jointwatch.screening.model import Match

BATCH = 2_000          # payments read ahead, whose new names are screened together
MIN_PARALLEL = 32      # fewer new names than this are screened in this process
_WORKER: PaymentScreener | None = None   # the forked copy each worker screens with


def _screen_key(key: NameKey) -> tuple[NameKey, list[Match], int]:
    assert _WORKER is not None
    before = _WORKER.totals.names_screened
    found = _WORKER.screen_name(*key)
    return key, found, _WORKER.totals.names_screened - before


def _names_of(payment: Payment) -> Iterator[NameKey]:
    for party in payment.parties:
        if party.name:
            yield (party.name, party.schema, party.birth_date, party.country)
    for agent in payment.agents:
        if agent.name:
            yield (agent.name, "Organization", None, agent.country)


@contextmanager
def worker_pool(screener: PaymentScreener, workers: int,
                after_fork: Callable[[], None] | None = None) -> Iterator[Pool | None]:
    """Worker processes forked from this one, sharing ``screener``; None when ``workers`` < 2.

    ``after_fork`` runs in each worker first: pass ``engine.dispose`` with ``close=False`` (a
    forked process must not use its parent's database connections)."""
    global _WORKER  # noqa: PLW0603 - what the forked workers inherit
    if workers < 2:
        yield None
        return
    _WORKER = screener
    try:
        with multiprocessing.get_context("fork").Pool(workers, initializer=after_fork) as pool:
            yield pool
    finally:
        _WORKER = None


def prefetch(screener: PaymentScreener, pool: Pool | None, payments: list[Payment],
             min_parallel: int = MIN_PARALLEL) -> int:
    """Screen the batch's party names not yet in the screener's cache in the pool; how many."""
    new: dict[NameKey, None] = {}
    for payment in payments:
        for key in _names_of(payment):
            if key not in new and not screener.cached(*key):
                new[key] = None
    if pool is None or len(new) < min_parallel:
        return 0
    for key, found, engine_calls in pool.imap_unordered(_screen_key, new, chunksize=16):
        screener.remember(*key, found=found, engine_calls=engine_calls)
    return len(new)


def screen_parallel(screener: PaymentScreener, items: Iterable[Payment | MessageError], pool: Pool | None,
                    batch: int = BATCH, min_parallel: int = MIN_PARALLEL) -> Iterator[PaymentDecision | MessageError]:
    """``screener.screen_all`` with the names of each batch screened in the pool first."""
    chunk: list[Payment | MessageError] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= batch:
            prefetch(screener, pool, [p for p in chunk if isinstance(p, Payment)], min_parallel)
            yield from screener.screen_all(chunk)
            chunk = []
    if chunk:
        prefetch(screener, pool, [p for p in chunk if isinstance(p, Payment)], min_parallel)
        yield from screener.screen_all(chunk)
