"""Typologies, learned ranking and attribution on the AMLSim-family simulator's configurations.

    python benchmarks/bench_network.py --laundering a,b,c,d          # the same as:
    python benchmarks/bench_laundering.py --configurations a,b,c,d [--spark]

For each configuration (network/laundering.py: salaried people with bills, shops and friends,
intermediaries who launder on the side, every AMLSim-family typology planted; a-c differ in
seed, country mix, forwarding share and broker netting; d was added after the rules' first
thresholds were set; e, held out, after the earmarking rules were chosen on a-c) the script
writes the set once, then on DuckDB:

* runs the typology rules and prints each planted typology's precision and recall (a finding is
  right when it names a key account of a planted instance of its typology);
* trains the ranking (gradient boosting over the SQL graph features) on configuration a and
  scores every other configuration's accounts against the planted illicit accounts: precision
  among the first 100 and the minority (illicit) class's F1, beside the rules' on the same data
  (the rules' list: accounts flagged by a planted typology's rule, most rules first); the
  anchor, for orientation only, is IBM AMLworld HI-Small's published minority-class F1 (a
  different data set and task: transactions, not accounts);
* traces the designated accounts by first in first out, proportional (issue 20's attribution
  targets) and last in first out, and scores the originators and country totals against the
  planted donors (``--hops``: how far upstream; stacks here are up to 5 layers deep); first in
  first out also against the truth by first in first out (a fan-in collector's forwards carry its
  first gifts whole: docs/network.md, "Which truth").

With ``--spark`` the rules also run on Spark local[2] for configuration a: the same findings,
and the time beside DuckDB's. The first simulator (``network simulate``, 200,000 rows) is run
through the rules too, to show what fan_in reports there (the issue: 10,876 findings).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from jointwatch.network import TraceSettings
from jointwatch.network.designate import designated_accounts
from jointwatch.network.engines import DuckDBEngine, EngineSettings
from jointwatch.network.evaluate import score_ranking, score_trace, score_typologies
from jointwatch.network.features import account_features
from jointwatch.network.laundering import CONFIGURATIONS, TYPOLOGIES, simulate_laundering
from jointwatch.network.quality import load_transactions
from jointwatch.network.ranking import fit
from jointwatch.network.result import assemble
from jointwatch.network.schema import default_rates
from jointwatch.network.simulate import VERSION, SimulationSettings, simulate
from jointwatch.network.trace import trace_upstream
from jointwatch.network.typologies import detect_all

# IBM AMLworld HI-Small, minority-class F1 (Altman et al., "Realistic Synthetic Financial Transactions
# for Anti-Money Laundering Models", NeurIPS 2023 datasets track): orientation only, another task
AMLWORLD_HI_SMALL_F1 = {"gradient boosting with graph features": 63.2, "best graph neural network": 68.2}
TRAIN = "a"


def dataset(work: Path, name: str) -> Path:
    out = work / f"laundering-{name}"
    truth = out / "truth.json"
    # made again when written by a simulator before the truth by first in first out
    if not truth.exists() or "country_totals_usd_fifo" not in json.loads(truth.read_text()):
        started = time.perf_counter()
        summary = simulate_laundering(out, CONFIGURATIONS[name])
        print(f"  configuration {name}: {summary['rows']:,} transactions, {summary['typologies']} typologies, "
              f"{summary['illicit']} illicit accounts ({time.perf_counter() - started:.0f} s)", flush=True)
    return out


def measure(data: Path, threads: int, hops: int, earmark: float) -> dict[str, Any]:
    """Rules, features and the attributions (each method, without and with earmarking) on one
    configuration (one DuckDB session)."""
    truth = json.loads((data / "truth.json").read_text())
    engine = DuckDBEngine(EngineSettings(threads=threads, memory_limit="4GB"))
    try:
        load_transactions(engine, data / "transactions.parquet", default_rates())
        started = time.perf_counter()
        findings = detect_all(engine)
        rules_seconds = time.perf_counter() - started
        rows = account_features(engine)
        targets = designated_accounts([str(data / "designated.txt")])
        attribution: dict[tuple[str, float], Any] = {}
        inside: dict[float, str] = {}
        planted = truth["country_totals_usd"]
        for days in sorted({0.0, earmark}):
            countries = {}
            for method in ("fifo", "lifo", "proportional"):
                settings = TraceSettings(method=method, intervals=False, hops=hops, earmark_days=days)
                result = assemble(engine, trace_upstream(engine, targets, settings), targets, settings)
                attribution[method, days] = score_trace(result, truth)
                if method == "fifo":
                    attribution["fifo-truth", days] = score_trace(result, truth, convention="fifo")
                countries[method] = {c.country: c.amount for c in result.countries}
            held = sum(1 for c, usd in planted.items()
                       if min(m.get(c, 0.0) for m in countries.values()) - 0.005 <= usd
                       <= max(m.get(c, 0.0) for m in countries.values()) + 0.005)
            inside[days] = f"{held} / {len(planted)}"
    finally:
        engine.close()
    return {"truth": truth, "findings": findings, "rules_seconds": rules_seconds, "rows": rows,
            "attribution": attribution, "inside": inside}


def rules_list(findings: list[Any]) -> tuple[list[str], set[str]]:
    """The rules' accounts, most rules first (then by name): a ranking to set beside the model's."""
    count: dict[str, int] = {}
    for f in findings:
        if f.typology in TYPOLOGIES:
            for a in f.accounts:
                count[a] = count.get(a, 0) + 1
    return sorted(count, key=lambda a: (-count[a], a)), set(count)


def first_simulator(work: Path, threads: int) -> str:
    out = work / "first-simulator-200000"
    # made again when written by an earlier simulator (one whose collectors kept their first gifts)
    if not (out / "truth.json").exists() or json.loads((out / "truth.json").read_text()).get("version", 1) < VERSION:
        simulate(out, SimulationSettings(transactions=200_000, networks=3, donors=40), "parquet")
    truth = json.loads((out / "truth.json").read_text())
    collectors = {c for n in truth["networks"] for c in n["collectors"]}
    engine = DuckDBEngine(EngineSettings(threads=threads))
    try:
        load_transactions(engine, out / "transactions.parquet", default_rates())
        findings = detect_all(engine)
    finally:
        engine.close()
    by: dict[str, int] = {}
    for f in findings:
        by[f.typology] = by.get(f.typology, 0) + 1
    fan_in = [f for f in findings if f.typology == "fan_in"]
    found = sum(1 for f in fan_in if set(f.accounts) & collectors)
    return (f"first simulator, 200,000 rows: findings {json.dumps(by, sort_keys=True)}; fan_in names "
            f"{found} of {len(collectors)} collectors")


def spark_check(data: Path, duck_findings: list[Any], duck_seconds: float) -> str:
    from jointwatch.network.engines import SparkEngine  # noqa: PLC0415

    engine = SparkEngine(EngineSettings(spark_master="local[2]", shuffle_partitions=4, memory_limit="3g"))
    try:
        load_transactions(engine, data / "transactions.parquet", default_rates())
        started = time.perf_counter()
        findings = detect_all(engine)
        seconds = time.perf_counter() - started
    finally:
        engine.close()
    same = sorted((f.typology, f.accounts) for f in findings) == sorted((f.typology, f.accounts)
                                                                       for f in duck_findings)
    return (f"Spark local[2], configuration {data.name[-1]}: rules {seconds:.1f} s vs DuckDB {duck_seconds:.1f} s "
            f"({seconds / duck_seconds:.1f}x); findings {'identical' if same else 'DIFFERENT'} "
            f"({len(findings)} vs {len(duck_findings)})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configurations", default=",".join(CONFIGURATIONS))
    parser.add_argument("--work", default="/tmp/jointwatch-bench-network")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--spark", action="store_true", help="also run the rules on Spark local[2] (configuration a)")
    parser.add_argument("--no-first-simulator", action="store_true")
    parser.add_argument("--hops", type=int, default=4, help="hops the trace follows (trace's default: 4)")
    parser.add_argument("--earmark-days", type=float, default=10.0,
                        help="attribution also with earmarking in this window (--earmark-days; 0: only without)")
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    names = [n.strip() for n in args.configurations.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGURATIONS]
    if unknown:
        raise SystemExit(f"unknown configuration(s) {', '.join(unknown)}: choose from {', '.join(CONFIGURATIONS)}")
    if TRAIN not in names:
        names.insert(0, TRAIN)
    runs = {}
    for name in names:
        data = dataset(work, name)
        print(f"  configuration {name}: rules, features, attribution …", flush=True)
        runs[name] = measure(data, args.threads, args.hops, args.earmark_days)
    model = fit(runs[TRAIN]["rows"], set(runs[TRAIN]["truth"]["illicit_accounts"]), f"configuration {TRAIN}")

    print(f"\nload average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1 / 5 / 15 min)")
    print("\nPer typology, rules (precision / recall; findings; planted instances):\n")
    print("| typology | " + " | ".join(f"config {n}" for n in names) + " |")
    print("|---|" + "---|" * len(names))
    scores = {n: {s.typology: s for s in score_typologies(r["findings"], r["truth"])} for n, r in runs.items()}
    for kind in TYPOLOGIES:
        cells = []
        for n in names:
            s = scores[n].get(kind)
            cells.append("not planted" if s is None else
                         f"{s.precision:.2f} / {s.recall:.2f} ({s.found}; {s.planted})")
        print(f"| {kind} | " + " | ".join(cells) + " |")
    print("| rules' time, s | " + " | ".join(f"{runs[n]['rules_seconds']:.1f}" for n in names) + " |")

    print(f"\nRanking of accounts (model trained on configuration {TRAIN}; P@100 = illicit among the first 100; "
          "F1 of the illicit class):\n")
    print("| configuration | accounts | illicit | model P@100 | model P / R / F1 (score ≥ 0.5) | rules P@100 "
          "| rules P / R / F1 |")
    print("|---|---:|---:|---:|---|---:|---|")
    for n in names:
        if n == TRAIN:
            continue
        rows, illicit = runs[n]["rows"], set(runs[n]["truth"]["illicit_accounts"])
        scored = model.scores(rows)
        order = [rows[i]["account"] for i in sorted(range(len(rows)), key=lambda i: (-scored[i], rows[i]["account"]))]
        m = score_ranking(order, {rows[i]["account"] for i in range(len(rows)) if scored[i] >= 0.5}, illicit,
                          len(rows))
        r = score_ranking(*rules_list(runs[n]["findings"]), illicit, len(rows))
        print(f"| {n} | {m.accounts:,} | {m.illicit} | {m.precision_at_k:.2f} | {m.precision:.2f} / {m.recall:.2f} / "
              f"**{m.f1:.2f}** | {r.precision_at_k:.2f} | {r.precision:.2f} / {r.recall:.2f} / **{r.f1:.2f}** |")
    print("| anchor (orientation only): IBM AMLworld HI-Small, minority-class F1 | – | – | – | "
          + "; ".join(f"{k} {v}" for k, v in AMLWORLD_HI_SMALL_F1.items()) + " | – | – |")

    print(f"\nAttribution (designated accounts traced {args.hops} hops; originators P / R against the planted "
          "donors; country error = Σ|found − planted| / planted over countries, originator error the same over "
          "accounts (no errors cancelling inside a country); interval: planted country totals between the "
          "lowest and highest of the three methods; earmarking: trace --earmark-days, 0 = off):\n")
    print("| configuration | earmark days | first in, first out: P / R | country / originator error | the same "
          "against the truth by first in first out: P / R | country / originator error | proportional: P / R "
          "| country / originator error | last in, first out: P / R | country / originator error | interval holds |")
    print("|---|---:|---|---:|---|---:|---|---:|---|---:|---:|")
    for n in names:
        a = runs[n]["attribution"]
        for days in sorted({0.0, args.earmark_days}):
            cells = " | ".join(f"{a[m, days].precision:.3f} / {a[m, days].recall:.3f} | "
                               f"{a[m, days].country_rel_error:.2%} / {a[m, days].originator_rel_error:.2%}"
                               for m in ("fifo", "fifo-truth", "proportional", "lifo"))
            print(f"| {n} | {days:g} | {cells} | {runs[n]['inside'][days]} |")
    if not args.no_first_simulator:
        print("\n" + first_simulator(work, args.threads))
    if args.spark:
        print(spark_check(work / f"laundering-{TRAIN}", runs[TRAIN]["findings"], runs[TRAIN]["rules_seconds"]))
    print(f"\nload average {' / '.join(f'{x:.1f}' for x in os.getloadavg())} (1 / 5 / 15 min)")


if __name__ == "__main__":
    main(sys.argv[1:])
