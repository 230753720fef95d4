"""Where the attribution's country error on the first simulator comes from (issue 20).

    python benchmarks/first_simulator_errors.py --sizes 1000000,10000000 [--hops 4] [--earmark-days 0]

For each size (the sets ``bench_network.py`` writes under ``--work``, made there when missing) the
trace (DuckDB, every method in one pass) is taken apart, as ``attribution_errors.py`` does for the
AMLSim-family configurations:

* the USD credited to accounts that are not planted donors, by the kind of account (a planted
  collector, mule or broker, an employer, a shop, an innocent customer of a hawala-like broker, any
  other person), the reason of its part and the kind of account it paid the traced money to;
* the planted donors' USD missed, split into what was passed upstream of the donor (its gift followed
  to someone who paid the donor: a friend, an employer) and what never reached the donor's payment
  (lost on a collector's, broker's or mule's line);
* the countries carrying the error, with what makes up each one's found − planted.

Money moved between accounts of the same country leaves the country error alone: the causes listed
per country are the ones that count.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from jointwatch.network import TraceSettings
from jointwatch.network.designate import designated_accounts
from jointwatch.network.engines import DuckDBEngine, EngineSettings
from jointwatch.network.evaluate import score_trace
from jointwatch.network.quality import load_transactions
from jointwatch.network.result import assemble
from jointwatch.network.schema import default_rates
from jointwatch.network.trace import trace_methods

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_network import dataset  # noqa: E402 - the benchmarks' own module, beside this file

METHODS = ("fifo", "proportional", "lifo")
KINDS = (("COL-", "collector"), ("MUL-", "mule"), ("HWX-", "broker (deposits)"), ("HWY-", "broker (payouts)"),
         ("DSG-", "designated"), ("E", "employer"), ("S", "shop"))


def kind_of(account: str, donors: set[str], hawala_customers: set[str]) -> str:
    if account in donors:
        return "donor"
    for prefix, name in KINDS:
        if account.startswith(prefix):
            return name
    return "hawala customer" if account in hawala_customers else "person"


def take_apart(engine: DuckDBEngine, tables: Any, method: str, settings: TraceSettings, targets: list[str],
               truth: dict[str, Any], hawala: set[str], top: int) -> list[str]:
    donors = {d["account"]: d for n in truth["networks"] for d in n["donors"]}
    planted = sum(d["amount"] for d in donors.values())
    result = assemble(engine, tables, targets, TraceSettings(method=method, hops=settings.hops,
                                                             earmark_days=settings.earmark_days))
    score = score_trace(result, truth)
    country = {o.account: o.country for o in result.originators}
    credited = {o.account: o.amount for o in result.originators}
    out_to: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    into: dict[str, float] = defaultdict(float)
    for e in engine.rows(f"SELECT src, dst, SUM(flow) AS usd FROM {tables.edges} GROUP BY src, dst"):
        out_to[e["src"]][e["dst"]] += float(e["usd"])
        into[e["dst"]] += float(e["usd"])
    lines = [f"\n{method}: P / R {score.precision:.3f} / {score.recall:.3f}, country error "
             f"{score.country_rel_error:.2%} ({score.country_abs_error_usd:,.0f} of {planted:,.0f} USD), originator "
             f"error {score.originator_rel_error:.2%}"]
    false: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    per_country: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in engine.rows(f"SELECT account, reason, SUM(amount) AS usd FROM {tables.origins} GROUP BY account, reason"):
        if r["account"] in donors:
            continue
        kind = kind_of(r["account"], set(donors), hawala)
        via = max(out_to.get(r["account"], {"?": 0.0}).items(), key=lambda kv: kv[1])[0]
        false[kind, r["reason"], kind_of(via, set(donors), hawala)].append(float(r["usd"]))
        per_country[country.get(r["account"], "??")][f"{kind} ({r['reason']})"] += float(r["usd"])
    total = sum(sum(v) for v in false.values())
    lines.append(f"  credited to accounts that are not donors: {total:,.0f} USD ({total / planted:.2%})")
    for (kind, reason, via), amounts in sorted(false.items(), key=lambda kv: -sum(kv[1]))[:top]:
        if sum(amounts) >= 0.5:
            lines.append(f"    {kind:18} {reason:18} paid to a {via:18} {len(amounts):4} accounts "
                         f"{sum(amounts):9,.0f} USD")
    upstream = lost = 0.0
    for account, d in donors.items():
        missed = d["amount"] - credited.get(account, 0.0)
        per_country[d["country"]]["planted"] += d["amount"]
        per_country[d["country"]]["donors"] += credited.get(account, 0.0)
        if missed > 0.005:
            # what of the donor's traced payments was followed further up (payments into the donor)
            passed = into.get(account, 0.0)
            upstream += passed
            lost += max(missed - passed, 0.0)
    lines.append(f"  donors missed {upstream + lost:,.0f} USD: {upstream:,.0f} passed upstream of the donor, "
                 f"{lost:,.0f} never reached its payment")
    rows = sorted(((sum(v for k, v in c.items() if k != "planted") - c["planted"], name, c)
                   for name, c in per_country.items()), key=lambda r: -abs(r[0]))
    lines.append("  countries carrying the error (found − planted):")
    for signed, name, c in rows:
        if abs(signed) < 1:
            break
        parts = ", ".join(f"{k} {v:,.0f}" for k, v in sorted(c.items(), key=lambda kv: -kv[1])
                          if k not in ("planted", "donors") and v >= 1)
        lines.append(f"    {name}: {signed:+,.0f} USD ({abs(signed) / planted:.2%}): donors "
                     f"{c['donors'] - c['planted']:+,.0f}{'; credited to ' + parts if parts else ''}")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--work", default="/tmp/jointwatch-bench-network")
    parser.add_argument("--hops", type=int, default=4)
    parser.add_argument("--earmark-days", type=float, default=0.0)
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=10, help="largest kinds of false credit listed per method")
    args = parser.parse_args(argv)
    for size in (int(s) for s in args.sizes.split(",")):
        data = dataset(Path(args.work), size)
        truth = json.loads((data / "truth.json").read_text())
        engine = DuckDBEngine(EngineSettings(threads=args.threads, memory_limit=args.memory_limit))
        try:
            load_transactions(engine, data / "transactions.parquet", default_rates())
            targets = designated_accounts([str(data / "designated.txt")])
            settings = TraceSettings(hops=args.hops, earmark_days=args.earmark_days)
            started = time.perf_counter()
            tables = trace_methods(engine, targets, settings, METHODS)
            hawala = {r["src"] for r in engine.rows(
                "SELECT DISTINCT src FROM tx WHERE dst LIKE 'HWX-%' AND channel = 'hawala'")}
            lines = [line for m in METHODS
                     for line in take_apart(engine, tables[m], m, settings, targets, truth, hawala, args.top)]
            seconds = time.perf_counter() - started
        finally:
            engine.close()
        print(f"\n## {size:,} transactions ({args.hops} hops, earmarking {args.earmark_days:g} days; "
              f"trace and scoring {seconds:.1f} s)")
        print("\n".join(lines))
    print(f"\nload average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(sys.argv[1:])
