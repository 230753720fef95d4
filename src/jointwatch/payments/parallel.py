"""Screening the distinct party names of a batch of payments in worker processes.

A batch of payments names far fewer parties than it has messages, and each distinct name is
screened once (``PaymentScreener``'s cache). Those engine calls are independent, so they can
run in several processes: the workers are forked from the process that holds the screener
(its index is shared copy-on-write, never pickled), each screens its share of the names not
yet in the cache and sends the matches back, and the decisions are then made in order from
the cache, exactly as without workers (``tests/payments/test_parallel.py``). The pool screens
one batch's names while this process reads the next batch and decides the one before; the keys
of one name go to one worker together, with its whole-organisation answer when known, and to
the same worker every time: a name back in a later batch with other facts (the debtor of one
batch, a creditor in the next) finds its work in that worker's ``NameMemory``.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from multiprocessing.pool import Pool

from jointwatch.payments.model import Payment, UnreadMessage, batched
from jointwatch.payments.screening import NameKey, PaymentDecision, PaymentScreener
from jointwatch.payments.screening import _name_key as name_key
from jointwatch.screening import Match

BATCH = 2_000          # payments read ahead, whose new names are screened together
MIN_PARALLEL = 32      # fewer new names than this are screened in this process
_WORKER: PaymentScreener | None = None   # the forked copy each worker screens with


def _screen_names(task: tuple[list[NameKey], list[Match] | None]) -> tuple[list[tuple[NameKey, list[Match]]],
                                                                           list[Match] | None, int]:
    """One name's keys (its roles' birth dates and countries), screened in one worker, with what
    is already known of the name as a whole organisation (worked out once, whichever worker),
    and how many engine calls that took."""
    assert _WORKER is not None
    keys, organisations = task
    _WORKER.remember_organisations(keys[0][0], organisations)
    before = _WORKER.totals.names_screened
    found = _WORKER.screen_names(keys)
    return list(zip(keys, found, strict=True)), _WORKER.organisations_of(keys[0][0]), \
        _WORKER.totals.names_screened - before


def _names_of(payment: Payment) -> Iterator[NameKey]:
    for party in payment.parties:
        if party.name:
            yield (party.name, party.schema, party.birth_date, party.country)
    for agent in payment.agents:
        if agent.name:
            yield (agent.name, "Organization", None, agent.country)


@dataclass
class Workers:
    """Worker processes, one pool each, so that a name always goes to the same one."""

    pools: list[Pool]

    def of(self, name: str) -> int:
        """The worker that screens ``name`` (the same in every batch)."""
        return zlib.crc32(name_key(name).encode()) % len(self.pools)


@contextmanager
def worker_pool(screener: PaymentScreener, workers: int,
                after_fork: Callable[[], None] | None = None) -> Iterator[Workers | None]:
    """Worker processes forked from this one, sharing ``screener``; None when ``workers`` < 2.

    ``after_fork`` runs in each worker first: pass ``engine.dispose`` with ``close=False`` (a
    forked process must not use its parent's database connections).

    While the pool lives, the objects this process holds (the screener's index: millions of
    them) are frozen out of the garbage collector's passes, which otherwise walk them all
    again and again as payments are read and decided (reading went from 4,400 to 6,500
    messages a second); forked workers then share those pages instead of copying them."""
    global _WORKER  # noqa: PLW0603 - what the forked workers inherit
    gc.collect()
    gc.freeze()
    try:
        if workers < 2:
            yield None
            return
        _WORKER = screener
        try:
            with ExitStack() as stack:
                context = multiprocessing.get_context("fork")
                yield Workers([stack.enter_context(context.Pool(1, initializer=after_fork)) for _ in range(workers)])
        finally:
            _WORKER = None
    finally:
        gc.unfreeze()


def _new_names(screener: PaymentScreener, payments: list[Payment], pending: set[NameKey]) -> list[list[NameKey]]:
    """The batch's party names neither in the cache nor already being screened, grouped by name."""
    groups: dict[str, list[NameKey]] = {}
    if not screener.cache_enabled:
        return []
    for payment in payments:
        for key in _names_of(payment):
            if key not in pending and not screener.cached(*key):
                pending.add(key)
                groups.setdefault(name_key(key[0]), []).append(key)
    return list(groups.values())


class _Prefetch:
    """The new names of one batch, being screened in the pool while this process goes on (or,
    without a pool or with few new names, screened here when collected)."""

    def __init__(self, screener: PaymentScreener, pool: Workers | None, payments: list[Payment],
                 pending: set[NameKey], min_parallel: int) -> None:
        self.screener = screener
        self.pending = pending
        self.groups = _new_names(screener, payments, pending)
        self.keys = [k for g in self.groups for k in g]
        self.results: Iterator[tuple[list[tuple[NameKey, list[Match]]], list[Match] | None, int]] | None = None
        if pool is not None and len(self.keys) >= min_parallel:
            shares: list[list[tuple[list[NameKey], list[Match] | None]]] = [[] for _ in pool.pools]
            for g in self.groups:
                shares[pool.of(g[0][0])].append((g, screener.organisations_of(g[0][0])))
            # submitted now (a list, not a generator): the workers screen while this process goes on
            self.results = itertools.chain.from_iterable(
                [one.imap_unordered(_screen_names, share, chunksize=8)
                 for one, share in zip(pool.pools, shares, strict=True)])

    def collect(self) -> int:
        """Wait for the batch's names and put them in the screener's cache; how many were screened."""
        self.pending.difference_update(self.keys)
        if self.results is None:
            for group in self.groups:
                self.screener.screen_names(group)
            return len(self.keys)
        for screened, organisations, engine_calls in self.results:
            for key, found in screened:
                self.screener.remember(*key, found=found)
            self.screener.totals.names_screened += engine_calls
            self.screener.remember_organisations(screened[0][0][0], organisations)
        return len(self.keys)


def prefetch(screener: PaymentScreener, pool: Workers | None, payments: list[Payment],
             min_parallel: int = MIN_PARALLEL) -> int:
    """Screen the batch's party names not yet in the screener's cache in the pool; how many."""
    return _Prefetch(screener, pool, payments, set(), min_parallel).collect()



def screen_parallel(screener: PaymentScreener, items: Iterable[Payment | UnreadMessage], pool: Workers | None,
                    batch: int = BATCH, min_parallel: int = MIN_PARALLEL) -> Iterator[PaymentDecision | UnreadMessage]:
    """``screener.screen_all`` with the names of each batch screened in the pool first. The pool
    screens the next batch's names while this process reads it and decides the one before."""
    pending: set[NameKey] = set()
    previous: tuple[list[Payment | UnreadMessage], _Prefetch] | None = None
    for chunk in batched(items, batch):
        ahead = _Prefetch(screener, pool, [p for p in chunk if isinstance(p, Payment)], pending, min_parallel)
        if previous is not None:
            previous[1].collect()
            yield from screener.screen_all(previous[0])
        previous = (chunk, ahead)
    if previous is not None:
        previous[1].collect()
        yield from screener.screen_all(previous[0])
