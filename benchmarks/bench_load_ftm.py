"""Loading an OpenSanctions-scale FtM list, and the diff of two versions of it, on SQLite and PostgreSQL.

The lists are made by ``benchmarks/gen_ftm.py`` (seeded, so every run loads the same bytes):
version 1 of ``--entities`` FtM entities, and version 2 made from it with 2% of the listings
changed, 0.5% removed and 0.5% added. Each step runs as a user runs it, a ``jointwatch``
command in a fresh process, timed by its wall clock, its memory read as the peak of the sum
of the resident sets of the process and its load workers (sampled every 0.2 s by psutil) and
as the largest one process's peak (``ru_maxrss``):

- **load v1**: ``jointwatch lists load V1 --format ftm`` into an empty store;
- **load v2**: the next version into the same store (most statements already held);
- **diff**: ``jointwatch lists diff SOURCE --json`` of the two versions, its output to a file.

Anchors, in the same run on the same files: a plain read (``json.loads`` of every line, no
entity built) for the loads, and a plain diff (both files read into dicts by id and compared
line by line) for the diff. No loader or diff can beat these. Targets (issue 19): load under
3 minutes and 4 GB, diff under 1 minute, on SQLite and on PostgreSQL.

PostgreSQL runs when ``--pg-url`` names a scratch database: its jointwatch tables are dropped
first (give it a database of its own, not the tests' one: a test run resets that one).

    python benchmarks/bench_load_ftm.py --entities 100000 [--pg-url URL] [--work DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
SOURCE = "gen_scale"
TARGETS = {"load": 180.0, "diff": 60.0}
RSS_TARGET_MB = 4096


def jointwatch() -> list[str]:
    return [sys.executable, "-c", "from jointwatch.cli import main; main()"]


def run(cmd: list[str], out: Path | None = None) -> dict[str, float]:
    """Run one command: wall seconds, peak RSS of its process tree (sum) and of its largest process."""
    with (out.open("wb") if out else open(os.devnull, "wb")) as stdout, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=err, cwd=REPO)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            parent = psutil.Process(proc.pid)
            while not done.is_set():
                try:
                    total = parent.memory_info().rss + sum(c.memory_info().rss for c in parent.children(True))
                except psutil.Error:
                    total = 0
                peak[0] = max(peak[0], total)
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace")
            raise RuntimeError(f"{' '.join(cmd[3:])} failed ({proc.returncode}):\n{message}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,  # its reaped workers' included
            "tree_rss_mb": peak[0] / 2**20, "max_rss_mb": usage.ru_maxrss / 1024}


READ = """
import json, sys
n = 0
with open(sys.argv[1], encoding="utf-8") as fh:
    for line in fh:
        json.loads(line); n += 1
"""

DIFF = """
import json, sys
def read(path):
    with open(path, encoding="utf-8") as fh:
        return {json.loads(line)["id"]: line for line in fh}
a, b = read(sys.argv[1]), read(sys.argv[2])
changed = sum(1 for k in a.keys() & b.keys() if a[k] != b[k])
print(len(a.keys() - b.keys()), len(b.keys() - a.keys()), changed)
"""


def make_lists(work: Path, entities: int, seed: int) -> tuple[Path, Path]:
    """Version 1 and version 2 of the generated list (made once; kept in ``work``)."""
    v1 = work / f"gen_{entities}_{seed}_2026-01-01.ftm.json"
    v2 = work / f"gen_{entities}_{seed}_2026-02-01.ftm.json"
    gen = str(REPO / "benchmarks" / "gen_ftm.py")
    if not v1.exists():
        subprocess.run([sys.executable, gen, "--entities", str(entities), "--seed", str(seed), "--out", str(v1)],
                       check=True)
    if not v2.exists():
        subprocess.run([sys.executable, gen, "--from", str(v1), "--seed", str(seed + 1), "--out", str(v2)],
                       check=True)
    return v1, v2


def reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text  # noqa: PLC0415

    from jointwatch.store import database_url  # noqa: PLC0415
    from jointwatch.store.schema import metadata  # noqa: PLC0415

    engine = create_engine(database_url(url))
    with engine.begin() as connection:
        tables = ", ".join([t.name for t in metadata.sorted_tables] + ["customer_alerts"])
        connection.execute(text(f"DROP TABLE IF EXISTS {tables}, alembic_version CASCADE"))
    engine.dispose()


def step(label: str, cmd: list[str], out: Path | None = None) -> dict[str, float]:
    """One timed step, its figures on stderr as soon as it ends (a long run's partial results)."""
    print(f"{label} …", file=sys.stderr, flush=True)
    result = run(cmd, out)
    print(f"{label}: {result['wall_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU, peak RSS "
          f"{result['tree_rss_mb']:.0f} MB (largest process {result['max_rss_mb']:.0f} MB), "
          f"load average {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    return result


def bench_backend(name: str, db: str, v1: Path, v2: Path, work: Path) -> dict[str, Any]:
    jw = jointwatch()
    steps: dict[str, Any] = {"backend": name}
    steps["load_v1"] = step(f"{name}: load v1",
                            [*jw, "lists", "load", str(v1), "--format", "ftm", "--source", SOURCE, "--db", db])
    steps["load_v2"] = step(f"{name}: load v2",
                            [*jw, "lists", "load", str(v2), "--format", "ftm", "--source", SOURCE, "--db", db])
    out = work / f"diff-{name}.json"
    steps["diff"] = step(f"{name}: diff", [*jw, "lists", "diff", SOURCE, "--db", db, "--json"], out=out)
    diff = json.loads(out.read_text(encoding="utf-8"))
    steps["diff_counts"] = {k: len(diff[k]) for k in ("added", "removed", "changed")}
    return steps


def markdown(result: dict[str, Any]) -> str:
    lines = [f"{result['entities']:,} FtM entities ({result['v1_mb']:.0f} MB; version 2 {result['v2_mb']:.0f} MB), "
             f"{os.cpu_count()} CPUs shared with other work, Python {sys.version.split()[0]}", "",
             "| step | backend | jointwatch s (CPU s) | anchor s | ÷ anchor | peak RSS MB (all processes / largest) "
             "| target | met? |",
             "|---|---|---|---|---|---|---|---|"]
    anchors = {"load_v1": result["read_v1"], "load_v2": result["read_v2"], "diff": result["plain_diff"]}
    for backend in result["backends"]:
        for step, label in (("load_v1", "load v1"), ("load_v2", "load v2"), ("diff", "diff v1 → v2")):
            r, anchor = backend[step], anchors[step]
            target = TARGETS["diff" if step == "diff" else "load"]
            met = r["wall_s"] < target and (step == "diff" or r["tree_rss_mb"] < RSS_TARGET_MB)
            rss_target = "" if step == "diff" else f", < {RSS_TARGET_MB / 1024:g} GB"
            lines.append(f"| {label} | {backend['backend']} | {r['wall_s']:.1f} ({r['cpu_s']:.0f}) | "
                         f"{anchor['wall_s']:.1f} | "
                         f"{r['wall_s'] / anchor['wall_s']:.1f}× | {r['tree_rss_mb']:.0f} / {r['max_rss_mb']:.0f} | "
                         f"< {target:g} s{rss_target} | {'yes' if met else '**missed**'} |")
    counts = result["backends"][0]["diff_counts"] if result["backends"] else {}
    lines.append("")
    lines.append(f"diff: {counts.get('added', 0):,} added, {counts.get('removed', 0):,} removed, "
                 f"{counts.get('changed', 0):,} changed listings")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "jointwatch-bench-ftm",
                        help="where the generated lists are kept between runs and the stores made")
    parser.add_argument("--pg-url", help="a scratch PostgreSQL database of its own (its jointwatch tables are dropped)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    v1, v2 = make_lists(args.work, args.entities, args.seed)
    result: dict[str, Any] = {"entities": args.entities, "v1_mb": v1.stat().st_size / 2**20,
                              "v2_mb": v2.stat().st_size / 2**20, "backends": []}
    result["read_v1"] = step("plain read v1", [sys.executable, "-c", READ, str(v1)])
    result["read_v2"] = step("plain read v2", [sys.executable, "-c", READ, str(v2)])
    result["plain_diff"] = step("plain diff", [sys.executable, "-c", DIFF, str(v1), str(v2)])
    if not args.no_sqlite:
        db = args.work / "store.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        result["backends"].append(bench_backend("sqlite", str(db), v1, v2, args.work))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    if args.pg_url:
        reset_postgres(args.pg_url)
        result["backends"].append(bench_backend("postgresql", args.pg_url, v1, v2, args.work))
        reset_postgres(args.pg_url)
    print(json.dumps(result, indent=2) if args.json else markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
