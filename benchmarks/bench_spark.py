"""Customer and traveller screening on Spark beside the local engine, on the same rows.

N generated subjects (Faker names in ten locales, 80% persons with a birth date and a
nationality, 20% companies; one in a thousand a listed person of the UN list or OFAC SDN
2023-06-05 under their listed name) screened as ``jointwatch screen --input`` does, against
UN + OFAC SDN 2023-06-05: by the local engine (this process, the anchor), then by Spark in
local mode with 1 and 2 cores (``local[1]``, ``local[2]``: the index broadcast, partitions
screened by the same Screener). Prints seconds, subjects per second, the time to the first
screened partition (session start, broadcast, index unpickled), and whether each output is
byte for byte the local one.

    python benchmarks/bench_spark.py [--subjects 1000000] [--cores 1,2]

The machine has 2 cores and is shared with other work: the load average is printed with
each run.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import tempfile
import time
from pathlib import Path

from bench_service import server_cpu_seconds  # the benchmarks' own module, beside this file
from faker import Faker

from jointwatch.screening import SparkScreening, SparkSettings, open_screener, screen_file
from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lists"
LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL", "pl_PL", "tr_TR", "pt_BR"]
NATIONALITIES = ["US", "GB", "DE", "FR", "ES", "IT", "NL", "PL", "TR", "BR"]


def write_subjects(path: Path, count: int, listed: list[tuple[str, str]]) -> None:
    fake = Faker(LOCALES)
    fake.seed_instance(19)
    rng = random.Random(19)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "schema", "birth_date", "nationality"])
        for i in range(count):
            if rng.random() < 0.001:
                name, born = rng.choice(listed)
                writer.writerow([f"S{i:07d}", name, "Person", born, ""])
            elif rng.random() < 0.2:
                writer.writerow([f"S{i:07d}", fake.company(), "Organization", "", ""])
            else:
                writer.writerow([f"S{i:07d}", fake.name(), "Person",
                                 fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat(),
                                 rng.choice(NATIONALITIES)])


def tree_cpu() -> float:
    """CPU seconds of this process and its live children: Spark's JVM and its Python workers,
    which local mode reuses until the session stops."""
    return server_cpu_seconds(os.getpid())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subjects", type=int, default=1_000_000)
    parser.add_argument("--cores", type=lambda v: [int(c) for c in v.split(",")], default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        os.environ.setdefault("JOINTWATCH_CACHE", str(tmp / "cache"))
        engine = open_engine(str(tmp / "register.db"), create=True)
        load_list(engine, open_list(DATA / "un_consolidated_2026-02-27.xml", "un"))
        load_list(engine, open_list(DATA / "ofac_sdn_2023-06-05.csv", "ofac-sdn"))
        screener = open_screener(engine)
        listed = [(e.caption, e.birth_dates[0]) for e in screener.index.entities
                  if e.schema == "Person" and e.birth_dates and len(e.caption.split()) >= 2]
        subjects = tmp / "subjects.csv"
        t0 = time.perf_counter()
        write_subjects(subjects, args.subjects, listed)
        print(f"{args.subjects:,} subjects written in {time.perf_counter() - t0:.0f} s; "
              f"UN + OFAC SDN 2023-06-05: {len(screener.index.entities):,} listed entities")
        print("| engine | cores | seconds | CPU s | subjects/s | × local | first partition s | same output as local |")
        print("|---|---|---|---|---|---|---|---|")
        local_out = tmp / "local.jsonl"
        load = os.getloadavg()[0]
        t0, c0 = time.perf_counter(), tree_cpu()
        summary = screen_file(screener, subjects, local_out)
        local_s, local_cpu = time.perf_counter() - t0, tree_cpu() - c0
        print(f"| local (this process, the anchor) | 1 | {local_s:.1f} | {local_cpu:.1f} | "
              f"{args.subjects / local_s:,.0f} | 1.00 | | "
              f"| (load {load:.1f}; {summary.with_matches:,} with matches, {summary.errors:,} refused)", flush=True)
        expected = local_out.read_bytes()
        for cores in args.cores:
            load = os.getloadavg()[0]
            t0, c0 = time.perf_counter(), tree_cpu()
            spark = SparkScreening(screener, settings=SparkSettings(master=f"local[{cores}]"))
            # the first partition: session, broadcast and one executor's unpickled index
            spark.map([0], _nothing)
            first = time.perf_counter() - t0
            out = tmp / f"spark{cores}.jsonl"
            screen_file(screener, subjects, out, spark=spark)
            spark_s, spark_cpu = time.perf_counter() - t0, tree_cpu() - c0
            same = out.read_bytes() == expected
            print(f"| Spark local[{cores}] | {cores} | {spark_s:.1f} | {spark_cpu:.1f} | "
                  f"{args.subjects / spark_s:,.0f} | {local_s / spark_s:.2f} | {first:.1f} | {same} | "
                  f"(load {load:.1f}, {os.getloadavg()[0]:.1f} at the end)", flush=True)
            spark.session.stop()


def _nothing(screener: object, item: int) -> int:
    return item


if __name__ == "__main__":
    main()
