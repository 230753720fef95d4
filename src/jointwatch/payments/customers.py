"""Customer files: read, screen in full, and re-screen only against what a list change touched.

A full run screens every customer against the newest lists. A delta run, after a new list
version is loaded, screens again only the customers the change can concern and leaves the
rest as they were:

* customers the engine could score at or above the threshold (less ``DRIFT_MARGIN``) on an
  added or changed entity. They are found from the customers' stored words (no name is
  analysed again) against a small index of the changed entities weighed with the whole
  register's word weights: a bound on every changed name's score ceiling first
  (``ChangedBound``), then the few customers above it screened against the small index;
* customers with an open alert (withdrawn if no longer found, with the reason);
* customers whose best score lay within ``DRIFT_MARGIN`` under the threshold: word weights
  come from the whole list, so a new version moves every score a little, and these are the
  only customers such a move can carry across the threshold.

Partner entries releasable to the member count as a list does (``payments.partners``): one
shared, edited or newly released to the member since the last run is a changed entity like
an added listing, one withdrawn or no longer released is a removed one.

Those customers are screened with the full engine, so the alerts are the full run's.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np
from sqlalchemy import Engine

from jointwatch.errors import ConflictError, MessageFormatError, NotFoundError, QueryError
from jointwatch.names import analyze_name
from jointwatch.payments.delta import ChangedBound, changed_screener, customer_query, may_match_changed, name_tokens
from jointwatch.payments.model import batched
from jointwatch.payments.partners import PartnerEntries, partner_changes, partner_mark
from jointwatch.screening import COUNTRY_PROPS, ID_PROPS, NAME_PROPS, Query, Screener, SparkScreening, prepare
from jointwatch.store import (
    CustomerAlert,
    PartnerMark,
    RunInfo,
    StoredCustomer,
    count_customers,
    diff_versions,
    iter_customers,
    last_run,
    latest_versions,
    list_alerts,
    member_or_local,
    replace_base,
    run_partner_mark,
    save_run,
    withdraw_for_removed_customers,
)

REQUIRED = ("id", "name")
OPTIONAL = ("type", "birth_date", "nationality", "country", "accounts")
TYPES = {"person": "Person", "individual": "Person", "natural": "Person", "private": "Person",
         "organization": "Organization", "organisation": "Organization", "company": "Organization",
         "corporate": "Organization", "entity": "LegalEntity", "legal_entity": "LegalEntity", "": "Person"}
DRIFT_MARGIN = 0.02
DELTA_CHUNK = 5_000      # customers whose bound is worked out together
# what the screening index reads of a listed entity (screening.from_store): a change elsewhere moves no score
SCREENED_PROPS = frozenset({*NAME_PROPS, *COUNTRY_PROPS, *ID_PROPS, "birthDate", "gender", "holder"})
MAX_FIELD = 10_000
Progress = Callable[[int, int], None]


@dataclass
class RowError:
    line: int
    id: str
    error: str


@dataclass
class CustomerRun:
    """What a run did: counts, the new alerts, rows refused, and timings."""

    run: RunInfo
    new_alerts: list[CustomerAlert]
    open_alerts: int
    errors: list[RowError] = field(default_factory=list)
    changed_entities: int = 0
    removed_entities: int = 0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def read_customers(path: Path) -> tuple[list[StoredCustomer], list[RowError]]:
    """The customers of a CSV file (``id,name[,type,birth_date,nationality,country,accounts]``;
    several nationalities or accounts separated by ";"); each bad row becomes a RowError."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise MessageFormatError(path, None, f"cannot read ({error.strerror})") from None
    rows: list[StoredCustomer] = []
    errors: list[RowError] = []
    seen: set[str] = set()
    with handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or []
        except (UnicodeDecodeError, csv.Error) as error:
            raise MessageFormatError(path, "line 1", f"unreadable header ({error})") from None
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise MessageFormatError(path, "line 1", f"missing column(s) {', '.join(missing)} "
                                                     f"(needs {','.join(REQUIRED)}; may have {','.join(OPTIONAL)})")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except (UnicodeDecodeError, csv.Error) as error:
                raise MessageFormatError(path, f"line {reader.line_num}", str(error)) from None
            line = reader.line_num
            ref = (row.get("id") or "").strip()
            try:
                rows.append(_customer(row, ref, line, seen))
                seen.add(ref)
            except QueryError as error:
                errors.append(RowError(line, ref, str(error)))
    return rows, errors


def _customer(row: dict[str, str | None], ref: str, line: int, seen: set[str]) -> StoredCustomer:
    if not ref:
        raise QueryError(f"line {line}: id is empty")
    if len(ref) > 128:
        raise QueryError(f"line {line}: id is longer than 128 characters")
    if ref in seen:
        raise QueryError(f"line {line}: id {ref!r} appears twice")
    if None in row or any(v is not None and len(v) > MAX_FIELD for v in row.values()):
        raise QueryError(f"line {line}: too many fields or a field over {MAX_FIELD} characters")
    kind = (row.get("type") or "").strip().lower()
    if kind not in TYPES:
        raise QueryError(f"line {line}: type {kind!r} is not one of person, organization, entity")
    nationality = ";".join(v.strip() for v in (row.get("nationality") or "").split(";") if v.strip())
    country = (row.get("country") or "").strip()
    query = Query(name=row.get("name") or "", schema=TYPES[kind],
                  birth_date=(row.get("birth_date") or "").strip() or None,
                  countries=tuple(v for v in [*nationality.split(";"), country] if v))
    try:
        checked = prepare(query)
    except QueryError as error:
        raise QueryError(f"line {line}, {_field_of(str(error))}: {error}") from None
    accounts = tuple(a.strip().replace(" ", "") for a in (row.get("accounts") or "").split(";") if a.strip())
    return StoredCustomer(ref, query.name.strip(), query.schema, checked.birth_date, nationality or None,
                          country or None, accounts)


def _field_of(message: str) -> str:
    for name in ("name", "birth", "country", "schema"):
        if message.startswith(name) or f" {name}" in message[:20]:
            return {"birth": "birth_date", "schema": "type"}.get(name, name)
    return "row"


# -- screening one customer -------------------------------------------------------------

@dataclass(frozen=True)
class Screened:
    """What a run found for one customer: the customer with the name words and near score the
    run leaves it (what a delta run reads), and its alerts (not yet stored)."""

    customer: StoredCustomer
    alerts: list[CustomerAlert]


def screen_customer(screener: Screener, c: StoredCustomer, member_id: int | None = None) -> Screened:
    """The customer's alerts, best score under the threshold (within the drift margin), and keys."""
    threshold = screener.threshold
    matches = screener.screen(customer_query(c), threshold - DRIFT_MARGIN, limit=25, member_id=member_id)
    alerts = [CustomerAlert(c.ref, m.entity_id, m.source, m.reference, m.caption, m.name, "name", m.score,
                            m.list_version, json.dumps(asdict(m.explanation), ensure_ascii=False),
                            # a partner hit says whose entry it is and what its originator asks
                            originator=m.shared.originator if m.shared else None,
                            tlp=m.shared.tlp if m.shared else None,
                            handling=m.shared.handling if m.shared else ())
              for m in matches if m.score >= threshold]
    near = max((m.score for m in matches if m.score < threshold), default=None)
    index = screener.index
    for account in c.accounts:
        for e_idx in index.by_identifier(account):
            e = index.entities[e_idx]
            alerts.append(CustomerAlert(c.ref, e.entity_id, e.source, e.reference, e.caption, account, "account",
                                        1.0, e.list_version))
    keys = name_tokens(analyze_name(c.name, c.schema))
    return Screened(replace(c, name_keys=keys, near_score=near), _best_per_entity(alerts))


def _best_per_entity(alerts: list[CustomerAlert]) -> list[CustomerAlert]:
    best: dict[str, CustomerAlert] = {}
    for a in alerts:
        if a.entity_id not in best or a.score > best[a.entity_id].score:
            best[a.entity_id] = a
    return list(best.values())


def _versions(engine: Engine) -> dict[str, str]:
    return {source: info.version for source, info in latest_versions(engine).items()}


def _finish(engine: Engine, member_id: int | None, kind: str, started: datetime, t0: float, total: int,
            results: list[Screened], reasons: dict[str, str] | None = None,
            errors: list[RowError] | None = None, partners: PartnerMark | None = None) -> CustomerRun:
    # what an analyst's decision on an alert is filed under: the identity screening suppresses by
    keys = {r.customer.ref: customer_query(r.customer).identity() for r in results if r.alerts}
    run, new = save_run(engine, member_id, kind, _versions(engine), started, time.perf_counter() - t0, total,
                        [r.customer for r in results], [a for r in results for a in r.alerts], reasons, partners,
                        subject_keys=keys)
    # an alert kept from an earlier run keeps that run's id: the ones of this run are new
    return CustomerRun(run, new, len(list_alerts(engine, member_id, "open")), errors or [])


def rescreen_full(engine: Engine, screener: Screener, member_id: int | None = None,
                  progress: Progress | None = None, errors: list[RowError] | None = None,
                  partners: PartnerEntries | None = None, spark: SparkScreening | None = None) -> CustomerRun:
    """Every stored customer of the member (None: the store's own ``local`` member) screened
    against the newest lists (and ``partners``, the partner entries the screener holds, if any).
    With ``spark`` (its index and the member's decisions broadcast from ``screener``'s), the
    customers are screened on Spark's executors by the same ``screen_customer``: the run stores
    what a local run stores (tests/screening/test_spark.py)."""
    member_id = member_or_local(engine, member_id)
    started, t0 = datetime.now(UTC), time.perf_counter()
    mark = None if partners is None else partner_mark(engine, member_id, partners)[0]
    total = count_customers(engine, member_id)
    results = []
    if spark is not None:
        results = spark.map(list(iter_customers(engine, member_id)), partial(screen_customer, member_id=member_id))
        if progress:
            progress(total, total)
    else:
        for n, c in enumerate(iter_customers(engine, member_id), start=1):
            results.append(screen_customer(screener, c, member_id))
            if progress and (n % 500 == 0 or n == total):
                progress(n, total)
    return _finish(engine, member_id, "full", started, t0, total, results, errors=errors, partners=mark)


def screen_customer_file(engine: Engine, screener: Screener, path: Path, member_id: int | None = None,
                         progress: Progress | None = None, partners: PartnerEntries | None = None,
                         spark: SparkScreening | None = None) -> CustomerRun:
    """Make the file the member's customer base (customers not in it leave it) and screen it in
    full (on Spark with ``spark``)."""
    member_id = member_or_local(engine, member_id)
    rows, errors = read_customers(path)
    change = replace_base(engine, member_id, rows)
    if change.removed:
        withdraw_for_removed_customers(engine, member_id, change.removed)
    return rescreen_full(engine, screener, member_id, progress, errors, partners, spark)


def rescreen_delta(engine: Engine, screener: Screener, member_id: int | None = None,
                   progress: Progress | None = None, partners: PartnerEntries | None = None) -> CustomerRun:
    """Screen again only the member's customers that what changed since the last run can concern:
    in the official lists, and in the partner entries releasable to the member (``partners``,
    those the screener holds; None when it holds none)."""
    member_id = member_or_local(engine, member_id)
    started, t0 = datetime.now(UTC), time.perf_counter()
    previous = last_run(engine, member_id)
    if previous is None:
        raise NotFoundError("the customer base was never screened: run `jointwatch customers screen FILE` first")
    now = _versions(engine)
    touched: set[tuple[str, str]] = set()
    reasons: dict[str, str] = {}
    removed = 0
    for source, version in sorted(now.items()):
        before = previous.list_versions.get(source)
        if before == version:
            continue
        if before is None:
            touched |= {(e.source, e.reference) for e in screener.index.entities if e.source == source}
            continue
        try:
            diff = diff_versions(engine, source, before, version)
        except NotFoundError as error:
            # the store no longer holds the version the last run screened against: a delta cannot be
            # worked out from what is stored (a full rescreen can), so the store's state rules it out
            raise ConflictError(f"cannot compare {source} {before} with {version}: {error}; "
                                "run `jointwatch customers rescreen --full`") from None
        # a change of notes, programme or address moves no score: only what screening reads counts
        relevant = [c for c in diff.changed if any(f.field.rsplit(".", 1)[-1] in SCREENED_PROPS for f in c.changes)]
        touched |= {(source, c.reference) for c in diff.added + relevant}
        for c in diff.removed:
            reasons[c.entity_id] = f"{c.entity_id} removed from {source} in version {version}"
        for c in relevant:
            reasons[c.entity_id] = f"no longer matches after {source} {c.reference} changed in version {version}"
        removed += len(diff.removed)
    changed_entities = [e for e in screener.index.entities if (e.source, e.reference) in touched]
    mark = None
    if partners is not None:
        shared = partner_changes(engine, member_id, run_partner_mark(engine, previous.id), partners)
        mark = shared.mark
        changed_entities += shared.entities
        reasons.update(shared.reasons)
    sub = changed_screener(changed_entities, screener)
    bound = ChangedBound(sub)
    floor = screener.threshold - DRIFT_MARGIN
    # every customer with an open alert is screened again: besides changed and removed entities,
    # a listed name they matched may have dropped out of the full index's best candidates
    with_alerts = {a.customer_ref for a in list_alerts(engine, member_id, "open")}
    total = count_customers(engine, member_id)
    results: list[Screened] = []
    n = 0
    for chunk in batched(iter_customers(engine, member_id), DELTA_CHUNK):
        # the bound over all changed names, for the whole chunk at once; the exact one after it
        reach = bound.may_reach(chunk, floor) if len(sub.index.entities) else np.zeros(len(chunk), dtype=bool)
        for customer, maybe in zip(chunk, reach.tolist(), strict=True):
            if (customer.ref in with_alerts or customer.near_score is not None or not customer.name_keys
                    or any(sub.index.by_identifier(a) for a in customer.accounts)
                    or (maybe and may_match_changed(customer, bound, floor))):
                results.append(screen_customer(screener, customer, member_id))
        n += len(chunk)
        if progress:
            progress(n, total)
    out = _finish(engine, member_id, "delta", started, t0, total, results, reasons, partners=mark)
    out.changed_entities, out.removed_entities = len(changed_entities), removed
    return out


def open_alert_pairs(engine: Engine, member_id: int | None = None) -> set[tuple[str, str]]:
    """(customer, listed entity) of every open alert: what delta and full runs must agree on."""
    return {(a.customer_ref, a.entity_id) for a in list_alerts(engine, member_id, "open")}
