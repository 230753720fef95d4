"""Network tracing benchmark: planted financing networks found, per-country error, time and peak memory.

    python benchmarks/bench_network.py                      # 1M transactions, DuckDB and Spark local
    python benchmarks/bench_network.py --sizes 10000000,50000000 --engines duckdb
    python benchmarks/bench_network.py --sizes 10000000 --earmark-days 10   # the engines, the trace earmarked
    python benchmarks/bench_network.py --attribution --sizes 1000000 --baseline 34faea4
    python benchmarks/bench_network.py --laundering a,b,c,d [--spark]   # benchmarks/bench_laundering.py

``--attribution`` measures the attribution methods instead (DuckDB): the file is loaded once,
then traced by each method (first in first out, last in first out, proportional), each scored
against the planted donors (originator precision / recall, country error, the USD resting on the
own-funds assumption); with ``--baseline REV`` the same is done in the same run by an earlier
commit's code (a temporary git worktree, its first in first out), so the table shows the figures
before the change beside the ones after. The interval row says for how many planted countries the
planted total lies between the lowest and the highest of the three methods' totals.

For each size the generator (`jointwatch network simulate`, seed 7, 5 planted networks of
40 donors in up to 40 countries) writes a Parquet file once. Each engine then runs the
whole analysis (load and check, trace 4 hops, typologies) in a fresh process on 2 cores,
while this script samples the resident memory of that process and its children (Spark's
JVM) to report the peak. The anchor, on the same data in the same run, is what a graph
tool gives an analyst: a time-respecting upstream breadth-first search from the designated
accounts (4 hops, in Python), calling every account it reaches a funder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import psutil

from jointwatch.network import TraceSettings, analyse, simulate
from jointwatch.network.designate import designated_accounts
from jointwatch.network.engines import EngineSettings
from jointwatch.network.evaluate import score_trace
from jointwatch.network.simulate import SimulationSettings

MIN_AMOUNTS = (0.0, 100.0)
# the methods as of this tree (the baseline's child imports jointwatch from an earlier tree, without them)
METHODS = ("fifo", "lifo", "proportional")
sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import worktree  # noqa: E402 - the benchmarks' own module, beside this file

REPO = Path(__file__).resolve().parents[1]


def dataset(work: Path, size: int) -> Path:
    """The generated set for ``size`` transactions (made once, reused)."""
    # here, not at the top: the baseline's child runs this file against an earlier tree without it
    from jointwatch.network.simulate import VERSION  # noqa: PLC0415

    out = work / f"n{size}"
    truth = out / "truth.json"
    # made again when written by an earlier simulator (one whose collectors kept their first gifts)
    if not truth.exists() or json.loads(truth.read_text()).get("version", 1) < VERSION:
        started = time.perf_counter()
        simulate(out, SimulationSettings(transactions=size, networks=5, donors=40, countries=40), "parquet")
        print(f"  generated {size:,} transactions in {time.perf_counter() - started:.0f} s → {out}", flush=True)
    return out


def run_one(engine: str, data: Path, memory: str, threads: int, temp: Path, typologies: bool = True,
            earmark: float = 0.0) -> dict[str, Any]:
    """In this (child) process: the whole analysis once (without the detectors when ``typologies``
    is false; earmarked within ``earmark`` days when it is above 0), with its scores."""
    settings = EngineSettings(memory_limit=memory, threads=threads, spark_master=f"local[{threads}]",
                              temp_directory=str(temp) if engine == "duckdb" else None,
                              shuffle_partitions=threads * 4)
    truth = json.loads((data / "truth.json").read_text())
    started = time.perf_counter()
    analysis = analyse(data / "transactions.parquet", designated_accounts([str(data / "designated.txt")]),
                       TraceSettings(earmark_days=earmark), engine_name=engine, engine_settings=settings,
                       typologies=typologies)
    seconds = time.perf_counter() - started
    scores = {str(m): score_trace(analysis.trace, truth, m).__dict__ for m in MIN_AMOUNTS}
    countries = {c.country: c.amount for c in analysis.trace.countries}
    return {"engine": engine, "seconds": seconds, "steps": analysis.seconds, "scores": scores,
            "originators": {o.account: o.amount for o in analysis.trace.originators}, "countries": countries,
            "findings": len(analysis.typologies)}


def attribution(data: Path, methods: list[str], memory: str, threads: int, temp: Path,
                earmark: float = 0.0) -> dict[str, Any]:
    """In this (child) process: load once, trace by each method, score each against the truth.
    ``methods`` ["before"] traces by the default rule of whatever jointwatch is imported (the baseline).
    With ``earmark`` each method also with earmarking in that window (keyed ``method@days``)."""
    from jointwatch.network import load_transactions, open_analysis_engine  # noqa: PLC0415
    from jointwatch.network.result import assemble  # noqa: PLC0415
    from jointwatch.network.schema import default_rates  # noqa: PLC0415
    from jointwatch.network.trace import trace_upstream  # noqa: PLC0415

    truth = json.loads((data / "truth.json").read_text())
    targets = designated_accounts([str(data / "designated.txt")])
    eng = open_analysis_engine("duckdb", EngineSettings(memory_limit=memory, threads=threads,
                                                        temp_directory=str(temp)))
    out: dict[str, Any] = {}
    try:
        load_transactions(eng, data / "transactions.parquet", default_rates())
        runs = [(m, 0.0) for m in methods] + [(m, earmark) for m in methods if earmark > 0 and m != "before"]
        for method, days in runs:
            settings = TraceSettings() if method == "before" else TraceSettings(method=method, earmark_days=days)
            key = f"{method}@{days:g}" if days else method
            started = time.perf_counter()
            result = assemble(eng, trace_upstream(eng, targets, settings), targets, settings)
            seconds = time.perf_counter() - started
            out[key] = {"seconds": seconds,
                           "scores": {str(m): score_trace(result, truth, m).__dict__ for m in MIN_AMOUNTS},
                           "countries": {c.country: c.amount for c in result.countries},
                           # before the change: what the opening-balance rule credited as own funds
                           "assumed": float(result.totals.get("assumed", sum(
                               o.amount for o in result.originators if o.reason == "own_funds"))),
                           "mules_collectors": sum(o.amount for o in result.originators
                                                   if o.account.startswith(("MUL-", "COL-", "HW")))}
    finally:
        eng.close()
    out["planted_countries"] = truth["country_totals_usd"]
    return out


def attribution_child(data: Path, methods: list[str], args: argparse.Namespace, src: Path | None,
                      work: Path) -> dict[str, Any]:
    """``attribution`` in a fresh interpreter, importing jointwatch from ``src`` when given."""
    out = work / f"attribution-{'-'.join(methods)}.json"
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    subprocess.run([sys.executable, __file__, "--child", "attribution", "--methods", ",".join(methods), "--data",
                    str(data), "--memory-limit", args.memory_limit, "--threads", str(args.threads), "--work",
                    str(work), "--out", str(out), *(["--earmark-days", str(args.earmark_days)] if src is None else [])],
                   check=True, env=env, cwd=src.parent if src else REPO)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def attribution_table(size: int, runs: dict[str, dict[str, Any]], baseline: str | None) -> list[str]:
    """Markdown rows: one per method (the baseline's first), then the interval's coverage."""
    # here, not at the top: the baseline's child runs this file against an earlier tree without it
    from jointwatch.network import method_label  # noqa: PLC0415

    lines = []
    planted: dict[str, float] = {}
    for label, r in runs.items():
        planted = r.pop("planted_countries")
        for method, m in r.items():
            s0, s1 = m["scores"]["0.0"], m["scores"]["100.0"]
            plain, _, days = method.partition("@")
            name = (f"first in, first out, before ({baseline})" if method == "before"
                    else method_label(plain, float(days or 0)))
            lines.append(f"| {size:,} | {name} | {m['seconds']:.1f} | {s0['precision']:.3f} / {s0['recall']:.3f} | "
                         f"{s1['precision']:.3f} / {s1['recall']:.3f} | {s0['country_rel_error']:.2%} | "
                         f"{s0.get('originator_rel_error', float('nan')):.2%} | "
                         f"{m['assumed']:,.0f} | {m['mules_collectors']:,.0f} |")
        del label
    groups = {}
    for k, v in ((k, v) for r in runs.values() for k, v in r.items() if k != "before"):
        groups.setdefault(k.partition("@")[2], {})[k] = v
    for days, after in groups.items():
        if len(after) < 2:
            continue
        inside = sum(1 for c, usd in planted.items()
                     if min(m["countries"].get(c, 0.0) for m in after.values()) - 0.005 <= usd
                     <= max(m["countries"].get(c, 0.0) for m in after.values()) + 0.005)
        width = sum(max(m["countries"].get(c, 0.0) for m in after.values())
                    - min(m["countries"].get(c, 0.0) for m in after.values()) for c in planted)
        lines.append(f"| {size:,} | interval over the {len(after)} methods"
                     f"{f', earmarked within {days} days' if days else ''} | – | – | – | planted total inside for "
                     f"{inside} / {len(planted)} countries; widths add up to {width / sum(planted.values()):.2%} "
                     f"of the planted total | – | – | – |")
    return lines


def measured(engine: str, data: Path, memory: str, threads: int, temp: Path, typologies: bool = True,
             earmark: float = 0.0) -> dict[str, Any]:
    """Run one engine in a child process; its result plus the peak RSS of the process tree and the
    CPU seconds of the tree (on a shared machine the wall time also counts waiting for a core)."""
    out = temp / f"result-{engine}.json"
    child = subprocess.Popen([sys.executable, __file__, "--child", engine, "--data", str(data), "--memory-limit",
                              memory, "--threads", str(threads), "--work", str(temp), "--out", str(out),
                              "--earmark-days", str(earmark), *([] if typologies else ["--no-typologies"])])
    peak, process = 0, psutil.Process(child.pid)
    cpu: dict[int, float] = {}  # the last CPU seconds seen of each process of the tree
    while child.poll() is None:
        try:
            tree = [process, *process.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            for p in tree:
                with contextlib.suppress(psutil.Error):
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
        except psutil.Error:
            pass
        time.sleep(0.2)
    if child.returncode != 0:
        raise SystemExit(f"{engine} failed with exit code {child.returncode}")
    result = json.loads(out.read_text())
    result["peak_mb"] = peak / 2**20
    result["cpu_seconds"] = sum(cpu.values())
    return result


def anchor_bfs(data: Path, hops: int = 4) -> dict[str, Any]:
    """Upstream BFS over time-respecting edges: every account reached within ``hops`` is a 'funder'."""
    import pyarrow.parquet as pq  # noqa: PLC0415

    started = time.perf_counter()
    table = pq.read_table(data / "transactions.parquet", columns=["timestamp", "sender_account", "receiver_account"])
    inflows: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for t, s, r in zip(table["timestamp"].to_pylist(), table["sender_account"].to_pylist(),
                       table["receiver_account"].to_pylist(), strict=True):
        inflows[r].append((t, s))
    targets = designated_accounts([str(data / "designated.txt")])
    latest = {a: "9999" for a in targets}      # money must have arrived before it left
    frontier, reached = dict(latest), set()
    for _ in range(hops):
        nxt: dict[str, str] = {}
        for account, before in frontier.items():
            for t, sender in inflows.get(account, ()):
                if t < before and sender not in latest and t > nxt.get(sender, ""):
                    nxt[sender] = t
        latest.update(nxt)
        reached.update(nxt)
        frontier = nxt
    seconds = time.perf_counter() - started
    truth = json.loads((data / "truth.json").read_text())
    donors = {d["account"] for n in truth["networks"] for d in n["donors"]}
    hits = len(reached & donors)
    return {"seconds": seconds, "found": len(reached), "precision": hits / len(reached) if reached else 0.0,
            "recall": hits / len(donors)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--spark-max", type=int, default=10_000_000, help="largest size run on Spark")
    parser.add_argument("--anchor-max", type=int, default=1_000_000, help="largest size the Python anchor runs on")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit / Spark driver memory")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default="/tmp/jointwatch-bench-network")
    parser.add_argument("--child")
    parser.add_argument("--data")
    parser.add_argument("--out")
    parser.add_argument("--attribution", action="store_true", help="compare the attribution methods (DuckDB)")
    parser.add_argument("--no-typologies", action="store_true",
                        help="load, check and trace only (the engines' comparison without the detectors)")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--baseline", metavar="REV", help="with --attribution: also trace by REV's code")
    parser.add_argument("--laundering", metavar="CONFIGS",
                        help="typologies, ranking and attribution on these AMLSim-family simulator configurations "
                             "(a,b,c,d; benchmarks/bench_laundering.py)")
    parser.add_argument("--spark", action="store_true", help="with --laundering: the rules on Spark too")
    parser.add_argument("--earmark-days", type=float, default=None,
                        help="with --attribution / --laundering: each method also earmarked in this window (default "
                             "10; 0: not); the engine timings: the trace earmarked in this window (default 0: not)")
    parser.add_argument("--hops", type=int, default=4, help="with --laundering: hops the trace follows")
    args = parser.parse_args()
    if args.earmark_days is None:  # the engine timings are the default trace's; the accuracy runs earmark
        args.earmark_days = 10.0 if args.attribution or args.laundering or args.child == "attribution" else 0.0
    if args.laundering:
        from bench_laundering import main as laundering  # noqa: PLC0415 - the benchmarks' own module

        laundering(["--configurations", args.laundering, "--work", args.work, "--threads", str(args.threads),
                    "--hops", str(args.hops), "--earmark-days", str(args.earmark_days),
                    *(["--spark"] if args.spark else [])])
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.child == "attribution":
        result = attribution(Path(args.data), args.methods.split(","), args.memory_limit, args.threads, work,
                             args.earmark_days)
        Path(args.out).write_text(json.dumps(result))
        return
    if args.attribution:
        lines = []
        with contextlib.ExitStack() as stack:
            base = stack.enter_context(worktree(args.baseline)) if args.baseline else None
            for size in (int(s) for s in args.sizes.split(",")):
                data = dataset(work, size)
                runs = {}
                if base is not None:
                    print(f"  {size:,}: {args.baseline} …", flush=True)
                    runs["before"] = attribution_child(data, ["before"], args, base, work)
                print(f"  {size:,}: {args.methods} …", flush=True)
                runs["after"] = attribution_child(data, args.methods.split(","), args, None, work)
                lines += attribution_table(size, runs, args.baseline)
        print("\n| transactions | attribution | trace s | originators P / R (all) | P / R (≥100 USD) "
              "| country error | originator error | USD on the own-funds assumption | USD credited to planted "
              "collectors, mules, brokers |")
        print("|---:|---|---:|---|---|---:|---:|---:|---:|")
        for line in lines:
            print(line)
        return
    if args.child:
        memory = args.memory_limit if args.child == "duckdb" else args.memory_limit.lower().replace("gb", "g")
        result = run_one(args.child, Path(args.data), memory, args.threads, work, not args.no_typologies,
                         args.earmark_days)
        Path(args.out).write_text(json.dumps(result))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        data = dataset(work, size)
        results = {}
        for engine in args.engines.split(","):
            if engine == "spark" and size > args.spark_max:
                continue
            print(f"  {size:,} on {engine} … (load average {os.getloadavg()[0]:.1f})", flush=True)
            results[engine] = measured(engine, data, args.memory_limit, args.threads, work, not args.no_typologies,
                                       args.earmark_days)
            r = results[engine]
            print(f"  {size:,} on {engine}: {r['seconds']:.1f} s, CPU {r['cpu_seconds']:.1f} s of the process tree "
                  f"(load average {os.getloadavg()[0]:.1f})", flush=True)
        anchor = anchor_bfs(data) if size <= args.anchor_max else None
        rows.append(report(size, results, anchor))
    if args.earmark_days:
        print(f"\n(the trace earmarked within {args.earmark_days:g} days)")
    print("\n| transactions | engine | seconds | peak MB | originators P / R (all) | P / R (≥100 USD) "
          "| country error | findings |")
    print("|---:|---|---:|---:|---|---|---:|---:|")
    for line in rows:
        print(line)


def report(size: int, results: dict[str, dict[str, Any]], anchor: dict[str, Any] | None) -> str:
    lines = []
    for engine, r in results.items():
        s0, s1 = r["scores"]["0.0"], r["scores"]["100.0"]
        lines.append(f"| {size:,} | {engine} | {r['seconds']:.1f} | {r['peak_mb']:,.0f} | "
                     f"{s0['precision']:.3f} / {s0['recall']:.3f} | {s1['precision']:.3f} / {s1['recall']:.3f} | "
                     f"{s0['country_rel_error']:.1%} | {r['findings']} |")
    if anchor:
        lines.append(f"| {size:,} | anchor: Python upstream BFS | {anchor['seconds']:.1f} | – | "
                     f"{anchor['precision']:.3f} / {anchor['recall']:.3f} ({anchor['found']:,} reached) | – | – | – |")
    if {"duckdb", "spark"} <= results.keys():
        a, b = results["duckdb"], results["spark"]
        same = a["originators"].keys() == b["originators"].keys()
        worst = max((abs(a["originators"][k] - b["originators"][k]) for k in a["originators"] if same), default=0.0)
        worst_c = max((abs(v - b["countries"].get(k, 0.0)) for k, v in a["countries"].items()), default=0.0)
        print(f"  {size:,}: DuckDB vs Spark: same originators {same}, largest amount difference {worst:.2f} USD, "
              f"largest country difference {worst_c:.2f} USD; Spark/DuckDB time {b['seconds'] / a['seconds']:.1f}x, "
              f"CPU {b['cpu_seconds'] / a['cpu_seconds']:.1f}x")
    for engine, r in results.items():
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in r["steps"].items())
        print(f"  {size:,} {engine}: {steps} (one run per size: wall time of the whole analysis)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
