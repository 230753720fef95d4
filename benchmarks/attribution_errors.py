"""Where the attribution's error on the AMLSim-family configurations comes from (issue 20).

    python benchmarks/attribution_errors.py --configurations a,b,c,d,e [--hops 8] [--earmark-days 10]

For each configuration (the sets bench_laundering writes, made once under ``--work``) and each
method, the trace (DuckDB) is scored like ``bench_laundering`` and its error taken apart:

* the USD credited to accounts that are not planted donors, by the reason of the part
  (``not_a_conduit``, ``own_funds``, ``income`` …) and by the kind of account whose line the part
  came off (the planted intermediary it was read from: a typology's key or other account, or an
  ordinary one), with the number of false originators and how many of them got under 100 USD;
* the planted donors' USD missed or over-credited (found − planted, by the truth's typology),
  which is where the forwarding share and broker netting show.
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
from jointwatch.network.laundering import CONFIGURATIONS
from jointwatch.network.quality import load_transactions
from jointwatch.network.result import assemble
from jointwatch.network.schema import default_rates
from jointwatch.network.trace import trace_methods

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_laundering import dataset  # noqa: E402 - the benchmarks' own module, beside this file

METHODS = ("fifo", "proportional", "lifo")


def roles(truth: dict[str, Any]) -> dict[str, str]:
    """Each planted account's role: ``<typology>:key`` or ``<typology>``."""
    out: dict[str, str] = {}
    for p in truth["typologies"]:
        for a in p["accounts"]:
            out.setdefault(a, p["typology"])
        for a in p["key"]:
            out[a] = f"{p['typology']}:key"
    for n in truth["networks"]:
        out[n["designated"]] = "designated"
    return out


def donor_typology(truth: dict[str, Any]) -> dict[str, str]:
    out = {}
    for p in truth["typologies"]:
        for a in p["accounts"]:
            out.setdefault(a, p["typology"])
    return out


def analyse_one(engine: DuckDBEngine, targets: list[str], truth: dict[str, Any], settings: TraceSettings,
                ) -> dict[str, Any]:
    tables = trace_methods(engine, targets, settings, METHODS)
    donors = {d["account"]: d["amount"] for n in truth["networks"] for d in n["donors"]}
    role = roles(truth)
    kind = donor_typology(truth)
    out: dict[str, Any] = {}
    for method in METHODS:
        t = tables[method]
        result = assemble(engine, t, targets, TraceSettings(method=method, hops=settings.hops,
                                                             earmark_days=settings.earmark_days))
        score = score_trace(result, truth)
        fifo_truth = score_trace(result, truth, convention="fifo") if method == "fifo" else None
        # every originated part with the account whose line it came off (the outflow's sender is the
        # originator itself for not_a_conduit; for own money the part's account is that line's)
        rows = engine.rows(f"""
SELECT o.account, o.reason, SUM(o.amount) AS usd, MIN(o.hop) AS hop
FROM {t.origins} o GROUP BY o.account, o.reason""")
        # for parts credited through an inflow, the receiver of the payment the originator made
        via = engine.rows(f"""
SELECT e.src AS account, e.dst AS via, SUM(e.flow) AS usd FROM {t.edges} e GROUP BY e.src, e.dst""")
        first_via: dict[str, tuple[str, float]] = {}
        for r in via:
            if r["account"] not in first_via or r["usd"] > first_via[r["account"]][1]:
                first_via[r["account"]] = (r["via"], float(r["usd"]))
        false_by: dict[tuple[str, str], list[float]] = defaultdict(list)
        per_account: dict[str, float] = defaultdict(float)
        for r in rows:
            per_account[r["account"]] += float(r["usd"])
        for r in rows:
            if r["account"] in donors:
                continue
            through = first_via.get(r["account"], (r["account"], 0.0))[0]
            where = role.get(r["account"], "ordinary") if r["reason"] in ("own_funds", "unexplained_funds",
                                                                           "income", "opening_balance",
                                                                           "not_a_conduit", "no_earlier_inflow",
                                                                           "hop_limit") else "?"
            false_by[r["reason"], f"{where} (via {role.get(through, 'ordinary')})"].append(float(r["usd"]))
        false_accounts = [a for a in per_account if a not in donors]
        by_typology: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for a, usd in donors.items():
            by_typology[kind.get(a, "?")][0] += usd
            by_typology[kind.get(a, "?")][1] += per_account.get(a, 0.0)
        out[method] = {"score": score, "fifo_truth": fifo_truth, "false": false_by,
                       "false_accounts": len(false_accounts),
                       "false_under_100": sum(1 for a in false_accounts if per_account[a] < 100),
                       "false_usd": sum(per_account[a] for a in false_accounts),
                       "by_typology": dict(by_typology)}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configurations", default="a,b,c,d")
    parser.add_argument("--work", default="/tmp/jointwatch-bench-network")
    parser.add_argument("--hops", type=int, default=8)
    parser.add_argument("--earmark-days", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--top", type=int, default=8, help="largest causes of false credit listed per method")
    args = parser.parse_args(argv)
    for name in (n.strip() for n in args.configurations.split(",") if n.strip()):
        if name not in CONFIGURATIONS:
            raise SystemExit(f"unknown configuration {name}")
        data = dataset(Path(args.work), name)
        truth = json.loads((data / "truth.json").read_text())
        engine = DuckDBEngine(EngineSettings(threads=args.threads, memory_limit="4GB"))
        try:
            load_transactions(engine, data / "transactions.parquet", default_rates())
            targets = designated_accounts([str(data / "designated.txt")])
            started, cpu = time.perf_counter(), time.process_time()
            res = analyse_one(engine, targets, truth, TraceSettings(hops=args.hops, earmark_days=args.earmark_days,
                                                                     intervals=False))
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            engine.close()
        planted = sum(d["amount"] for n in truth["networks"] for d in n["donors"])
        print(f"\n## configuration {name} (planted {planted:,.0f} USD; trace + scoring {seconds:.1f} s, "
              f"CPU {cpu:.1f} s)")
        for method, r in res.items():
            s = r["score"]
            print(f"\n{method}: P / R {s.precision:.3f} / {s.recall:.3f}, country error {s.country_rel_error:.2%}, "
                  f"originator error {s.originator_rel_error:.2%}; "
                  f"false originators {r['false_accounts']} ({r['false_under_100']} under 100 USD), "
                  f"{r['false_usd']:,.0f} USD")
            if r["fifo_truth"] is not None:
                f = r["fifo_truth"]
                print(f"  against the truth by first in first out: P / R {f.precision:.3f} / {f.recall:.3f}, "
                      f"country error {f.country_rel_error:.2%}, originator error {f.originator_rel_error:.2%}")
            print("  donors by typology (planted → credited USD): " + "; ".join(
                f"{k} {v[0]:,.0f} → {v[1]:,.0f}" for k, v in sorted(r["by_typology"].items())))
            causes = sorted(r["false"].items(), key=lambda kv: -sum(kv[1]))[:args.top]
            for (reason, where), amounts in causes:
                print(f"  {reason:18} {where:45} {len(amounts):4} accounts {sum(amounts):10,.0f} USD")
    print(f"\nload average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main(sys.argv[1:])
