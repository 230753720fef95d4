"""What a trace found, in the shape an analyst reads: originators, countries, intermediaries, paths."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from jointwatch.network.engines import AnalysisEngine
from jointwatch.network.schema import TraceSettings
from jointwatch.network.trace import ASSUMED_REASONS, TraceTables, usd_sum

UNKNOWN_COUNTRY = "??"
BROKER_CHANNELS = ("msb", "hawala", "cash")


@dataclass
class Originator:
    """An account whose own money reached the designated accounts, and how much of it."""

    account: str
    name: str | None
    country: str
    amount: float        # USD that reached the designated accounts
    transactions: int    # its payments that carried that money
    hops: int            # fewest payments between it and a designated account
    reason: str          # no_earlier_inflow, not_a_conduit, own_funds, unexplained_funds, held_funds, income,
                         # opening_balance, hop_limit (the largest part's)
    method: str = "fifo"  # the attribution method of ``amount``
    assumed: float = 0.0  # of ``amount``: own_funds, unexplained_funds, held_funds (docs/network.md)
    low: float = 0.0      # the lowest and highest amount over the attribution methods (intervals)
    high: float = 0.0


@dataclass
class CountryTotal:
    country: str
    amount: float
    originators: int
    transactions: int
    method: str = "fifo"  # the attribution method of ``amount``
    assumed: float = 0.0  # of ``amount``: resting on the assumption that an account paid with its own money
    low: float = 0.0      # the lowest and highest total over the attribution methods
    high: float = 0.0


@dataclass
class Intermediary:
    """An account the traced money passed through, with the figures its role was read from."""

    account: str
    name: str | None
    country: str
    role: str            # designated, collector, broker, pass-through, intermediary
    traced_in: float
    traced_out: float
    senders: int         # distinct accounts it received traced money from
    sender_countries: int
    counterparties: int  # distinct accounts it dealt with at all (traced or not)
    why: str


@dataclass
class Edge:
    src: str
    dst: str
    amount: float        # traced USD on this link
    payments: int
    hop: int             # 0 = into a designated account


@dataclass
class TraceResult:
    engine: str
    settings: TraceSettings
    designated: list[str]
    totals: dict[str, float]
    originators: list[Originator]
    countries: list[CountryTotal]
    intermediaries: list[Intermediary]
    edges: list[Edge]
    paths: list[dict[str, Any]] = field(default_factory=list)
    method: str = "fifo"
    # methods the intervals span, and what only another method found: {"methods": [...],
    # "countries": {country: [low, high]}, "originators": count, "originators_usd_high": USD}
    intervals: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def assemble(engine: AnalysisEngine, tables: TraceTables, designated: list[str], settings: TraceSettings,
             max_edges: int = 2000) -> TraceResult:
    """Read the engine's trace tables into a result, applying ``settings.min_amount``."""
    floor = float(settings.min_amount)
    origin_rows = engine.rows(f"""
SELECT o.account, a.name, COALESCE(a.country, '{UNKNOWN_COUNTRY}') AS country, o.amount, o.transactions,
       o.hops, o.reason, o.assumed
FROM (SELECT account, {usd_sum('amount')} AS amount, COUNT(DISTINCT id) AS transactions, MIN(hop) AS hops,
             MAX(CASE WHEN largest = 1 THEN reason END) AS reason,
             {usd_sum(f'CASE WHEN reason IN {ASSUMED_REASONS} THEN amount ELSE 0 END')} AS assumed
      -- the reason of the account's largest part; of two as large, the first by name (MAX_BY chose either, by the
      -- order the threads finished)
      FROM (SELECT r.*, ROW_NUMBER() OVER (PARTITION BY account ORDER BY amount DESC, reason, id) AS largest
            FROM {tables.origins} r) r GROUP BY account) o
LEFT JOIN {tables.holders} a ON a.account = o.account
WHERE o.amount >= {floor} AND o.amount >= 0.005""")
    method = settings.method
    originators = sorted((Originator(r["account"], r["name"], r["country"], round(float(r["amount"]), 2),
                                     int(r["transactions"]), int(r["hops"]), r["reason"], method,
                                     round(float(r["assumed"]), 2), round(float(r["amount"]), 2),
                                     round(float(r["amount"]), 2)) for r in origin_rows),
                         key=lambda o: (-o.amount, o.account))
    countries: dict[str, CountryTotal] = {}
    for o in originators:
        total = countries.setdefault(o.country, CountryTotal(o.country, 0.0, 0, 0, method))
        total.amount += o.amount
        total.assumed += o.assumed
        total.originators += 1
        total.transactions += o.transactions
    country_list = sorted(countries.values(), key=lambda c: (-c.amount, c.country))
    for c in country_list:
        c.amount = c.low = c.high = round(c.amount, 2)
        c.assumed = round(c.assumed, 2)
    totals = dict(tables.totals)
    totals["assumed"] = sum(o.assumed for o in originators)
    # never below zero: the listed amounts are each rounded to the cent, and their sum can pass the total by cents
    totals["below_min_amount"] = max(round(totals["originated"] - sum(o.amount for o in originators), 2), 0.0)
    totals = {k: round(v, 2) + 0.0 if abs(v) >= 0.005 else 0.0 for k, v in totals.items()}
    edges = [Edge(r["src"], r["dst"], round(float(r["amount"]), 2), int(r["payments"]), int(r["hop"]))
             for r in engine.rows(f"""
SELECT src, dst, {usd_sum('flow')} AS amount, COUNT(*) AS payments, MIN(hop) AS hop
FROM {tables.edges} e GROUP BY src, dst""")]
    edges.sort(key=lambda e: (-e.amount, e.src, e.dst))
    intermediaries = _intermediaries(engine, tables, set(designated))
    result = TraceResult(engine.name, settings, sorted(set(designated)), totals, originators, country_list,
                         intermediaries, edges[:max_edges], method=method,
                         intervals={"methods": [method], "countries": {}, "originators": 0,
                                    "originators_usd_high": 0.0})
    result.paths = heaviest_paths(edges, originators[:25], set(designated))
    return result


def originated_by_account(engine: AnalysisEngine, tables: TraceTables, floor: float) -> dict[str, tuple[str, float]]:
    """Each originator's country and USD in a trace's tables (at or above ``floor``)."""
    rows = engine.rows(f"""
SELECT o.account, COALESCE(a.country, '{UNKNOWN_COUNTRY}') AS country, o.amount
FROM (SELECT account, {usd_sum('amount')} AS amount FROM {tables.origins} r GROUP BY account) o
LEFT JOIN {tables.holders} a ON a.account = o.account
WHERE o.amount >= {float(floor)} AND o.amount >= 0.005""")
    return {r["account"]: (r["country"], round(float(r["amount"]), 2)) for r in rows}


def apply_intervals(result: TraceResult, others: dict[str, dict[str, tuple[str, float]]]) -> None:
    """Give every originator amount and country total the lowest and highest value over the
    result's own method and ``others`` (method -> account -> (country, USD))."""
    listed = {o.account for o in result.originators}
    for o in result.originators:
        values = [o.amount] + [by.get(o.account, ("", 0.0))[1] for by in others.values()]
        o.low, o.high = min(values), max(values)
    sums: dict[str, dict[str, float]] = {}
    for name, by in others.items():
        per = sums.setdefault(name, {})
        for country, amount in by.values():
            per[country] = per.get(country, 0.0) + amount
    for c in result.countries:
        values = [c.amount] + [round(per.get(c.country, 0.0), 2) for per in sums.values()]
        c.low, c.high = min(values), max(values)
    shown = {c.country for c in result.countries}
    # a country only another method credits: between 0 (this method) and its highest total
    elsewhere = {country: [0.0, round(max(per.get(country, 0.0) for per in sums.values()), 2)]
                 for country in sorted(set().union(*sums.values()) - shown)} if sums else {}
    extra = {a: amount for by in others.values() for a, (_, amount) in by.items() if a not in listed}
    result.intervals = {"methods": [result.method, *others], "countries": elsewhere, "originators": len(extra),
                        "originators_usd_high": round(sum(extra.values()), 2)}


def _intermediaries(engine: AnalysisEngine, tables: TraceTables, designated: set[str]) -> list[Intermediary]:
    channels = ", ".join(f"'{c}'" for c in BROKER_CHANNELS)
    rows = engine.rows(f"""
WITH inn AS (SELECT e.dst AS account, {usd_sum('e.flow')} AS traced_in, COUNT(DISTINCT e.src) AS senders,
                    COUNT(DISTINCT s.country) AS sender_countries,
                    COUNT(DISTINCT CASE WHEN e.channel IN ({channels}) THEN e.src END) AS broker_senders
             FROM {tables.edges} e
             LEFT JOIN {tables.holders} s ON s.account = e.src
             GROUP BY e.dst),
     outs AS (SELECT src AS account, {usd_sum('flow')} AS traced_out,
                     MAX(CASE WHEN channel IN ({channels}) THEN 1 ELSE 0 END) AS broker_out
              FROM {tables.edges} e GROUP BY src),
     -- one pass over the transactions (Spark read them twice for two sides, 1.5 s each at 10M), each payment then
     -- counted from both of its ends
     peers AS (SELECT account, COUNT(DISTINCT peer) AS counterparties FROM (
                 SELECT CASE WHEN s.side = 0 THEN x.dst ELSE x.src END AS account,
                        CASE WHEN s.side = 0 THEN x.src ELSE x.dst END AS peer
                 FROM (SELECT src, dst FROM tx WHERE dst IN (SELECT dst FROM {tables.edges} e)
                                                  OR src IN (SELECT dst FROM {tables.edges} e)) x
                 CROSS JOIN (SELECT * FROM (VALUES (0), (1)) AS v(side)) s) p
               WHERE account IN (SELECT dst FROM {tables.edges} e) GROUP BY account)
SELECT inn.account, a.name, COALESCE(a.country, '{UNKNOWN_COUNTRY}') AS country, inn.traced_in,
       COALESCE(outs.traced_out, 0) AS traced_out, inn.senders, inn.sender_countries, inn.broker_senders,
       COALESCE(outs.broker_out, 0) AS broker_out,
       COALESCE(peers.counterparties, 0) AS counterparties
FROM inn LEFT JOIN outs ON outs.account = inn.account LEFT JOIN {tables.holders} a ON a.account = inn.account
LEFT JOIN peers ON peers.account = inn.account""")
    out = []
    for r in rows:
        role, why = classify(r, r["account"] in designated)
        out.append(Intermediary(r["account"], r["name"], r["country"], role, round(float(r["traced_in"]), 2),
                                round(float(r["traced_out"]), 2), int(r["senders"]), int(r["sender_countries"]),
                                int(r["counterparties"]), why))
    return sorted(out, key=lambda i: (i.role != "designated", -i.traced_in, i.account))


def classify(r: dict[str, Any], designated: bool) -> tuple[str, str]:
    """The role of an account in the traced network, and the figures that decided it."""
    if designated:
        return "designated", "listed as designated (or resolved from the register)"
    if int(r["broker_senders"]) >= 2 or int(r["broker_out"]):
        return "broker", ("took traced money from several customers, or paid it on, over an MSB / hawala / "
                          "cash channel")
    if int(r["senders"]) >= 5:
        return "collector", f"received traced money from {r['senders']} accounts in {r['sender_countries']} countries"
    if int(r["counterparties"]) >= 50:
        return "broker", f"deals with {r['counterparties']} distinct accounts: a business passing money on"
    traced_in, traced_out = float(r["traced_in"]), float(r["traced_out"])
    if traced_in > 0 and traced_out >= 0.8 * traced_in:
        return "pass-through", f"passed on {traced_out / traced_in:.0%} of the traced money it received"
    return "intermediary", "passed traced money on"


def heaviest_paths(edges: list[Edge], originators: list[Originator], designated: set[str],
                   limit: int = 25) -> list[dict[str, Any]]:
    """For each top originator, the chain of heaviest traced links down to a designated account."""
    by_src: dict[str, list[Edge]] = {}
    for e in edges:
        by_src.setdefault(e.src, []).append(e)
    paths = []
    for o in originators[:limit]:
        chain, here, seen, below = [o.account], o.account, {o.account}, 1 << 30
        while len(chain) <= 16:
            # each step must come nearer a designated account (a lower hop number)
            options = [e for e in by_src.get(here, []) if e.hop < below and e.dst not in seen]
            if not options:
                break
            step = max(options, key=lambda e: (e.amount, -e.hop, e.dst))
            chain.append(step.dst)
            seen.add(step.dst)
            here, below = step.dst, step.hop
            if step.dst in designated:
                break
        paths.append({"originator": o.account, "country": o.country, "amount": o.amount, "accounts": chain,
                      "reaches_designated": chain[-1] in designated})
    return paths
