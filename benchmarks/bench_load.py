"""Load time and peak memory of ``jointwatch`` on the real UN and OFAC list files.

What is measured, per file, each in a FRESH Python subprocess (so interpreter start-up,
imports and store initialisation are paid every time, as by ``jointwatch lists load``,
and peak RSS is that one run's, read from ``os.wait4``'s rusage of the child):

- **load**: ``open_engine`` on a new temporary SQLite file (schema migration included),
  ``open_list`` and ``load_list``; the wall time of the whole child process.
- **re-load**: the same load into a store that already holds this file (loaded once,
  untimed, beforehand); it should cost about the content hash plus start-up.
- **parse only** (anchor 1): jointwatch's own parser iterating every record, building the
  same FollowTheMoney entities as the load, with no store. ``load - parse`` is the store's
  share. (A separate "FollowTheMoney only" anchor would build the same entities as this
  one, so there is none.)
- **raw read** (anchor 2): the fastest plain read of the same bytes with no entity
  building: ``lxml.etree.parse`` of the UN XML, ``csv.reader`` over every OFAC CSV file
  (decoded as Latin-1, which never fails and costs least). No loader can beat it, so
  ``load / raw`` says how far above the floor we are, independent of machine speed.

- **CLI**: the command users run, ``jointwatch lists load FILE -f FORMAT --db NEW --json``, in a
  fresh interpreter: the same load plus the command line's own start (Typer, its command
  modules); beside ``load``, the in-process figure, it shows what the CLI adds.

- **baseline** (anchor 3, with ``--baseline REV``): the same load by the code of an earlier
  commit (``HEAD~1``, a tag, a hash), checked out in a temporary git worktree and imported
  from there; ``load / baseline`` says what the change since then did, on this machine today.
  Its CLI is timed too (``REV CLI``).

Anchors run in the same invocation on the same file, interleaved with the loads round by
round, so a noisy machine slows them alike; each is repeated ``--repeat`` times and the
median (and min) reported. CPU seconds (user + system of the child, from its rusage) are
printed beside wall seconds: on a shared machine they are the fairer figure. Targets (issue):
UN under 2 s, OFAC SDN under 5 s on 2 cores, judged on the CLI's median, wall and CPU.

    python benchmarks/bench_load.py [--repeat 5] [--quick] [--baseline REV] [--without parse] [--json] [--data DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import worktree  # noqa: E402 - the benchmarks' own module, beside this file

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = (REPO / "../shared/data/lists").resolve()
# (file or folder under --data, jointwatch format, target seconds for the median load)
FILES: list[tuple[str, str, float | None]] = [
    ("un_consolidated_2026-02-27.xml", "un", 2.0),
    ("ofac_sdn_2021-07", "ofac-sdn", 5.0),
    ("ofac_sdn_2023-03-01.csv", "ofac-sdn", 5.0),
    ("ofac_sdn_2023-06-05.csv", "ofac-sdn", 5.0),
    ("ofac_cons_2021", "ofac-cons", None),
]


# ---- child side: one measurement, result as one JSON line on stdout ------------------

def child(mode: str, fmt: str, path: Path, db: str) -> dict[str, Any]:
    start = time.perf_counter()  # after interpreter start-up, before any heavy import
    out: dict[str, Any] = {}
    if mode == "raw":
        if fmt == "un":
            from lxml import etree

            out["elements"] = sum(1 for _ in etree.parse(str(path)).iter())
        else:
            import csv

            files = sorted(path.glob("*.csv")) if path.is_dir() else [path]
            rows = 0
            for file in files:
                with open(file, encoding="latin-1", newline="") as fh:
                    rows += sum(1 for _ in csv.reader(fh))
            out["rows"] = rows
    elif mode == "parse":
        from jointwatch.sources import open_list

        records = entities = 0
        for record in open_list(path, fmt).records:
            records += 1
            entities += len(record.entities)
        out.update(entities=records, ftm_entities=entities)
    else:  # "load", "reload" or "baseline" (the same load, jointwatch imported from another tree)
        from jointwatch.sources import open_list
        from jointwatch.store import load_list, open_engine

        engine = open_engine(db, create=True)  # as `jointwatch lists load` does
        result = load_list(engine, open_list(path, fmt))
        engine.dispose()
        out.update(entities=result.entities, statements=result.statements, created=result.created)
    out["in_process_s"] = time.perf_counter() - start
    return out


# ---- parent side ----------------------------------------------------------------------

# `jointwatch ARGS` as the installed script runs it (jointwatch.cli:main), importable from another tree
CLI = [sys.executable, "-c", "import sys; sys.argv[0] = 'jointwatch'; from jointwatch.cli import main; main()"]


def run_child(mode: str, fmt: str, path: Path, db: str = "", src: Path | None = None) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter: wall seconds, peak RSS (MB), its output.
    ``src``: import jointwatch from this source folder (an earlier commit's) instead. Modes
    ``cli`` and ``baseline_cli`` run the `jointwatch lists load` command itself."""
    if mode in ("cli", "baseline_cli"):
        cmd = [*CLI, "lists", "load", str(path), "--format", fmt, "--db", db, "--json"]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, fmt, str(path), db]
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=REPO if src is None else src.parent, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # reap it ourselves: rusage of this child only
        wall = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code != 0:
        raise RuntimeError(f"{mode} {path.name} failed ({code}):\n{stderr.decode(errors='replace')}")
    text = stdout.decode().strip()
    result: dict[str, Any] = json.loads(text if mode in ("cli", "baseline_cli") else text.splitlines()[-1])
    result["wall_s"] = wall
    result["rss_mb"] = usage.ru_maxrss / 1024  # ru_maxrss is in KB on Linux
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # less swayed than wall time by a busy machine
    return result


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values)}


def bench_file(name: str, fmt: str, target: float | None, path: Path, repeat: int,
               baseline: Path | None = None, without: frozenset[str] = frozenset()) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"load": [], "reload": [], "parse": [], "raw": [], "cli": []}
    for mode in without:  # anchors left out to keep a run short on a busy machine
        del runs[mode]
    if baseline is not None:
        runs["baseline"] = []
        runs["baseline_cli"] = []
    with tempfile.TemporaryDirectory(prefix="jw-bench-") as tmp:
        reload_db = str(Path(tmp) / "reload.db")
        first = run_child("load", fmt, path, reload_db)  # untimed: fills the re-load store, warms caches
        for i in range(repeat):  # interleaved, so drift on a noisy machine hits all modes alike
            runs["raw"].append(run_child("raw", fmt, path))
            if "parse" in runs:
                runs["parse"].append(run_child("parse", fmt, path))
            runs["load"].append(run_child("load", fmt, path, str(Path(tmp) / f"load-{i}.db")))
            if "reload" in runs:
                runs["reload"].append(run_child("reload", fmt, path, reload_db))
            runs["cli"].append(run_child("cli", fmt, path, str(Path(tmp) / f"cli-{i}.db")))
            if baseline is not None:
                runs["baseline"].append(run_child("baseline", fmt, path, str(Path(tmp) / f"base-{i}.db"),
                                                  src=baseline))
                runs["baseline_cli"].append(run_child("baseline_cli", fmt, path, str(Path(tmp) / f"base-cli-{i}.db"),
                                                      src=baseline))
    if any(r["created"] for r in runs.get("reload", [])):
        raise RuntimeError(f"re-load of {name} created a new version; the content hash did not match")
    counts = {(r["entities"], r["statements"])
              for r in runs["load"] + runs["cli"] + runs.get("baseline", []) + runs.get("baseline_cli", [])}
    if len(counts) != 1 or counts != {(first["entities"], first["statements"])}:
        raise RuntimeError(f"{name}: loads disagree on counts: {sorted(counts)}")
    timing = {mode: summary([r["wall_s"] for r in rs]) for mode, rs in runs.items()}
    cpu = {mode: summary([r["cpu_s"] for r in rs]) for mode, rs in runs.items()}
    load_median = timing["load"]["median"]
    return {
        "file": name,
        "format": fmt,
        "entities": first["entities"],
        "statements": first["statements"],
        "repeat": repeat,
        "load_s": timing["load"],
        "reload_s": timing.get("reload"),
        "parse_s": timing.get("parse"),
        "raw_s": timing["raw"],
        "load_in_process_s": summary([r["in_process_s"] for r in runs["load"]]),
        "cli_s": timing["cli"],
        "baseline_cli_s": timing.get("baseline_cli"),
        "cpu_s": cpu,
        "load_over_raw": load_median / timing["raw"]["median"],
        "baseline_s": timing.get("baseline"),
        "store_share": (load_median - timing["parse"]["median"]) / load_median if "parse" in timing else None,
        "peak_rss_mb": {mode: max(r["rss_mb"] for r in rs) for mode, rs in runs.items()},
        "target_s": target,
        # judged on the command users run: its median wall time and its median CPU time
        "meets_target": None if target is None else timing["cli"]["median"] < target,
        "meets_target_cpu": None if target is None else cpu["cli"]["median"] < target,
    }


def markdown(rows: list[dict[str, Any]], baseline: str | None = None) -> str:
    head = ["file", "entities", "statements", "jointwatch load median s (min)", "re-load median s",
            "parse-only median s", "raw read median s", "load ÷ raw"]
    if baseline:
        head += [f"{baseline} load median s", f"load ÷ {baseline}"]
    head += ["`jointwatch lists load` median s"]
    if baseline:
        head += [f"{baseline} CLI median s", f"CPU s: CLI / load / raw / {baseline} CLI / {baseline} load"]
    else:
        head += ["CPU s: CLI / load / raw"]
    head += ["peak RSS MB", "target", "CLI meets target? wall / CPU"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        target = "—" if r["target_s"] is None else f"< {r['target_s']:g} s"
        verdict = {None: "—", True: "yes", False: "**missed**"}
        meets = (verdict[None] if r["target_s"] is None
                 else f"{verdict[r['meets_target']]} / {verdict[r['meets_target_cpu']]}")
        cpu = {mode: f"{value['median']:.2f}" for mode, value in r["cpu_s"].items()}
        cells = [r["file"], f"{r['entities']:,}", f"{r['statements']:,}",
                 f"{r['load_s']['median']:.2f} ({r['load_s']['min']:.2f})",
                 _median(r["reload_s"]), _median(r["parse_s"]),
                 f"{r['raw_s']['median']:.3f}", f"{r['load_over_raw']:.1f}×"]
        if baseline:
            base = r["baseline_s"]["median"]
            cells += [f"{base:.2f}", f"{r['load_s']['median'] / base:.2f}×"]
        cells += [f"{r['cli_s']['median']:.2f} ({r['cli_s']['min']:.2f})"]
        if baseline:
            cells += [f"{r['baseline_cli_s']['median']:.2f}",
                      " / ".join(cpu[m] for m in ("cli", "load", "raw", "baseline_cli", "baseline"))]
        else:
            cells += [" / ".join(cpu[m] for m in ("cli", "load", "raw"))]
        cells += [f"{r['peak_rss_mb']['load']:.0f}", target, meets]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _median(timing: dict[str, float] | None) -> str:
    return "—" if timing is None else f"{timing['median']:.2f}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        mode, fmt, path, db = argv[1:5]
        print(json.dumps(child(mode, fmt, Path(path), db)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA,
                        help=f"folder of list files (default {DEFAULT_DATA})")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per mode and file (default 5)")
    parser.add_argument("--quick", action="store_true", help="one run each: a smoke test, not a measurement")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of Markdown")
    parser.add_argument("--baseline", metavar="REV",
                        help="also time the load by this earlier commit's code (e.g. HEAD~1), in a git worktree")
    parser.add_argument("--only", action="append", help="only this file of the table (repeatable)")
    parser.add_argument("--without", action="append", choices=("parse", "reload"), default=[],
                        help="leave out the parse-only or the re-load runs (repeatable): a shorter run")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else args.repeat
    if repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.data.is_dir():
        parser.error(f"data directory not found: {args.data}")
    rows = []
    start_load = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(worktree(args.baseline)) if args.baseline else None
        for name, fmt, target in FILES:
            path = args.data / name
            if args.only and name not in args.only:
                continue
            if not path.exists():
                print(f"skipping {name}: not in {args.data}", file=sys.stderr)
                continue
            modes = ", ".join(m for m in ("raw", "parse", "load", "re-load", "CLI")
                              if m.replace("-", "") not in args.without)
            modes += f", {args.baseline} load and CLI" if base else ""
            print(f"{name}: {repeat} × ({modes}) …", file=sys.stderr, flush=True)
            rows.append(bench_file(name, fmt, target, path, repeat, base, frozenset(args.without)))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{repeat} run(s) each, fresh subprocess per run, {os.cpu_count()} CPUs shared with other work "
              f"(load average {start_load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end), "
              f"Python {sys.version.split()[0]}"
              + (f"; baseline {args.baseline} = {_describe(args.baseline)}" if args.baseline else "") + "\n")
        print(markdown(rows, args.baseline))
    return 0


def _describe(rev: str) -> str:
    out = subprocess.run(["git", "log", "-1", "--format=%h", rev], cwd=REPO, capture_output=True, text=True)
    return out.stdout.strip() or rev


if __name__ == "__main__":
    sys.exit(main())
