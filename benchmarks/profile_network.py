"""Where a network analysis spends its time: the seconds and CPU seconds of each statement, on one engine.

    python benchmarks/profile_network.py /tmp/jointwatch-bench-network/n10000000 --engine spark --memory-limit 8g
    python benchmarks/profile_network.py /tmp/jointwatch-bench-network/n1000000 --engine duckdb

DIR is a set `benchmarks/bench_network.py` generated (transactions.parquet, designated.txt). The
analysis is the benchmark's (load and check, a 4-hop trace by the three methods, no detectors);
each statement the engine runs (a table made, rows fetched, the file read) is timed, with the CPU
seconds of this process and its children (Spark's JVM) over the same span. It is how the Spark
changes of issue 20 were chosen (docs/network.md, "Engines"): compare the lines, not the total,
between two runs on a busy machine.
"""

from __future__ import annotations

import argparse
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_service import server_cpu_seconds  # the benchmarks' own module, beside this file

from jointwatch.network import TraceSettings, analyse
from jointwatch.network import engines as engine_module
from jointwatch.network.designate import designated_accounts

STEPS: list[tuple[str, str, float, float]] = []


def cpu_seconds() -> float:
    """User and system seconds of this process and its children (the JVM and Spark's Python workers)."""
    return server_cpu_seconds(os.getpid())


def timed(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), cpu_seconds()
        try:
            return method(self, *args, **kwargs)
        finally:
            label = " ".join(str(args[0]).split())[:80] if args else ""
            # a Spark engine works on small tables in its driver's DuckDB (docs/network.md, "Engines")
            if name == "create" and getattr(self, "in_driver", lambda _: False)(args[0]):
                label += " (driver)"
            STEPS.append((name, label, time.perf_counter() - wall, cpu_seconds() - cpu))
    return wrapper


def jvm_gc_seconds() -> float:
    """Seconds the Spark driver's JVM (executors too, in local mode) has spent collecting garbage."""
    from pyspark.sql import SparkSession  # noqa: PLC0415 - only with --engine spark

    session = SparkSession.getActiveSession()
    if session is None:
        return float("nan")
    beans = session._jvm.java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()  # noqa: SLF001
    return sum(bean.getCollectionTime() for bean in beans) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="a folder bench_network.py generated")
    parser.add_argument("--engine", default="spark", choices=engine_module.ENGINES)
    parser.add_argument("--memory-limit", default="4g", help="DuckDB memory limit / Spark driver memory")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    # the chosen engine's statements alone: the Spark engine runs its driver's statements on a DuckDBEngine of its
    # own, which would list each of them twice
    cls = engine_module.SparkEngine if args.engine == "spark" else engine_module.DuckDBEngine
    for name in ("create", "rows", "read_file"):
        setattr(cls, name, timed(name, getattr(cls, name)))
    settings = engine_module.EngineSettings(memory_limit=args.memory_limit, threads=args.threads,
                                            spark_master=f"local[{args.threads}]", shuffle_partitions=args.threads * 4)
    wall, cpu = time.perf_counter(), cpu_seconds()
    analysis = analyse(args.data / "transactions.parquet", designated_accounts([str(args.data / "designated.txt")]),
                       TraceSettings(), engine_name=args.engine, engine_settings=settings)
    print(f"{args.engine}: {time.perf_counter() - wall:.1f} s, {cpu_seconds() - cpu:.1f} CPU s "
          f"(load {analysis.seconds['load']:.1f} s, trace {analysis.seconds['trace']:.1f} s)")
    if args.engine == "spark":
        print(f"JVM garbage collection: {jvm_gc_seconds():.1f} s")
    print(f"{'s':>7} {'CPU s':>7}  step")
    for name, label, seconds, cpu_used in STEPS:
        print(f"{seconds:7.2f} {cpu_used:7.2f}  {name:9s} {label}")


if __name__ == "__main__":
    main()
