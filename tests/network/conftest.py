"""Hand-built transaction files, and one Spark session for the whole test run (local[2])."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from jointwatch.network.engines import DuckDBEngine, EngineSettings, SparkEngine
from jointwatch.network.schema import COLUMNS

HEADER = list(COLUMNS)


def write_transactions(path: Path, rows: list[dict[str, object]]) -> Path:
    """A CSV in the documented schema; missing optional fields left empty."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in HEADER})
    return path


def in_another_order(path: Path, seed: int) -> Path:
    """A copy of the Parquet file ``path`` with its rows in a random order (``seed``), beside it."""
    import numpy as np  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.parquet as pq  # noqa: PLC0415

    table = pq.read_table(path)
    shuffled = path.with_name(f"{path.stem}-shuffled-{seed}.parquet")
    pq.write_table(table.take(pa.array(np.random.default_rng(seed).permutation(table.num_rows))), shuffled)
    return shuffled


def csv_lines(path: Path, *lines: str) -> Path:
    """``path`` holding ``lines`` (a header, then rows) as a CSV file: for files a test spells out by hand."""
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def tx(id_: str, day: float, amount: float, src: str, dst: str, src_country: str = "de", dst_country: str = "tr",
       currency: str = "USD", channel: str = "wire") -> dict[str, object]:
    """One payment on day ``day`` counted from 1 January 2024 (fractions are hours of that day)."""
    when = datetime(2024, 1, 1) + timedelta(days=int(day) - 1, hours=round((day - int(day)) * 24))
    return {"id": id_, "timestamp": when.strftime("%Y-%m-%d %H:%M:%S"), "amount": amount,
            "currency": currency, "sender_account": src, "receiver_account": dst,
            "sender_name": f"Holder {src}", "receiver_name": f"Holder {dst}", "sender_country": src_country,
            "receiver_country": dst_country, "sender_institution": "BANKDEFF", "receiver_institution": "BANKTRIS",
            "channel": channel}


@pytest.fixture
def duck() -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(EngineSettings(memory_limit="1GB", threads=1))
    yield engine
    engine.close()


# 2 GB for the one Spark driver of the test session: these engines live for the whole session and keep each
# analysis's tables until the next analysis replaces them; with the typologies' tables (ty_inflow, ty_brokers,
# ty_heavy and a wider ty_all), 1 GB ran out broadcasting a table in the earmarked every-statement-on-Spark trace
# after the other Spark tests of tests/network (it passed alone)
SPARK_TEST_MEMORY = "2g"


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    engine = SparkEngine(EngineSettings(spark_master="local[2]", shuffle_partitions=1, memory_limit=SPARK_TEST_MEMORY))
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def spark_only() -> Iterator[SparkEngine]:
    """A Spark engine that runs every statement on Spark: none is worked on in the driver, however small its tables
    (the test sets are small, so ``spark_engine`` works on most of a trace in its driver's DuckDB)."""
    engine = SparkEngine(EngineSettings(spark_master="local[2]", shuffle_partitions=1, memory_limit=SPARK_TEST_MEMORY,
                                        driver_rows=0))
    yield engine
    engine.close()
