"""Screening on Spark (local mode) answers what the local engine answers, row for row: a batch
of subjects written as JSON lines (and as Parquet), and a customer base screened into the
store, on the real UN list and OFAC SDN 2023-06-05. QDi.354's listed name, an alias and its
original script are the listed subjects; the others are innocent, one row is refused."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from jointwatch.payments import screen_customer_file
from jointwatch.screening import Query, Screener, SparkScreening, SparkSettings, screen_file
from jointwatch.screening.batch import read_queries, screen_row
from jointwatch.store import add_member, list_alerts, member_false_positives, record_decision

pytest.importorskip("pyspark")

SUBJECTS = [
    # id, name, birth_date, nationality
    ("s1", "TARAK BEN TAHER BEN FALEH OUNI HARZI", "1982-05-03", "TN"),   # QDi.354 as the UN lists him
    ("s2", "Abou Omar Al Tounisi", "", ""),                               # one of his listed aliases
    ("s3", "طارق بن الطاھر بن الفالح العوني الحرزي", "", ""),                # his name in the original script
    ("s4", "Jennifer Garcia", "1990-02-11", "US"),
    ("s5", "Hans-Peter Müller", "1961-07-30", "DE"),
    ("s6", "Mohammed Ali", "1975", ""),
    ("s7", "Ayman al-Zawahiri", "", "EG"),
    ("s8", "Maria Rossi", "31.12.2099", "IT"),                           # refused: a birth date in the future
    ("s9", "Chen Wei", "", "CN"),
    ("s10", "Tariq al-Harzi", "", ""),
]


@pytest.fixture(scope="module")
def spark(screener: Screener) -> Iterator[SparkScreening]:
    # one SparkSession for the test session (getOrCreate): local[2], two partitions per core
    yield SparkScreening(screener, settings=SparkSettings(master="local[2]", partitions=4))


def _subjects(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "birth_date", "nationality"])
        writer.writerows(SUBJECTS)
    return path


def test_a_batch_on_spark_writes_the_local_lines(tmp_path: Path, screener: Screener, spark: SparkScreening) -> None:
    subjects = _subjects(tmp_path / "subjects.csv")
    local, on_spark = tmp_path / "local.jsonl", tmp_path / "spark.jsonl"
    expected = screen_file(screener, subjects, local)
    summary = screen_file(screener, subjects, on_spark, spark=spark)
    assert on_spark.read_bytes() == local.read_bytes()
    assert summary == expected
    records = [json.loads(line) for line in on_spark.read_text(encoding="utf-8").splitlines()]
    refs = {r["id"]: {m["reference"] for m in r["matches"]} for r in records}
    assert {"QDi.354"} <= refs["s1"] and {"QDi.354"} <= refs["s2"] and {"QDi.354"} <= refs["s3"]
    assert not refs["s4"] and not refs["s5"] and not refs["s9"]
    assert "birth_date" in next(r["error"] for r in records if r["id"] == "s8")
    assert (summary.screened, summary.errors) == (9, 1)


def test_a_batch_on_spark_resumes_where_the_output_stops(tmp_path: Path, screener: Screener,
                                                        spark: SparkScreening) -> None:
    subjects = _subjects(tmp_path / "subjects.csv")
    local, on_spark = tmp_path / "local.jsonl", tmp_path / "spark.jsonl"
    screen_file(screener, subjects, local)
    lines = local.read_bytes().splitlines(keepends=True)
    on_spark.write_bytes(b"".join(lines[:4]) + lines[4][:10])   # four lines written, the fifth cut short
    summary = screen_file(screener, subjects, on_spark, spark=spark)
    assert on_spark.read_bytes() == local.read_bytes()
    assert (summary.skipped, summary.screened + summary.errors) == (4, 6)


def test_spark_writes_parquet_rows_that_are_the_local_records(tmp_path: Path, screener: Screener,
                                                             spark: SparkScreening) -> None:
    rows = list(read_queries(_subjects(tmp_path / "subjects.csv")))
    spark.write_parquet(rows, _parquet_row, tmp_path / "results.parquet", PARQUET_SCHEMA)
    written = spark.session.read.parquet(str(tmp_path / "results.parquet")).orderBy("line").collect()
    assert [(r.id, r.line, json.loads(r.record)) for r in written] == [
        (row[1], row[0], json.loads(json.dumps(screen_row(screener, row)))) for row in rows]


PARQUET_SCHEMA = "id string, line int, record string"


def _parquet_row(screener: Screener, row: tuple[int, str, object]) -> tuple[str, int, str]:
    record = screen_row(screener, row)  # type: ignore[arg-type]
    return record["id"], record["line"], json.dumps(record)


def test_a_customer_base_on_spark_stores_the_local_alerts(tmp_path: Path, register: Engine, screener: Screener,
                                                         spark: SparkScreening) -> None:
    customers = tmp_path / "customers.csv"
    with customers.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "type", "birth_date", "nationality"])
        writer.writerows([(ref, name, "person", born, nat) for ref, name, born, nat in SUBJECTS if ref != "s8"])
        writer.writerow(["o1", "Al-Nusrah Front", "organization", "", ""])
    local_member = add_member(register, "spark test: local bank")
    spark_member = add_member(register, "spark test: spark bank")
    for member in (local_member, spark_member):
        # both banks decided that Tariq al-Harzi (s10) is not QDi.354: the decision travels to the executors
        record_decision(register, member.id, "tester", Query("Tariq al-Harzi").identity(), "Tariq al-Harzi", None,
                        "QDi.354", "un_sc", "false_positive", "not him")
    local = screen_customer_file(register, screener, customers, local_member.id)
    decided = member_false_positives(register, spark_member.id)
    assert decided
    on_spark = screen_customer_file(register, screener, customers, spark_member.id,
                                    spark=SparkScreening(screener, decided, SparkSettings("local[2]", partitions=3)))

    def alerts(member_id: int) -> list[tuple[object, ...]]:
        return sorted((a.customer_ref, a.entity_id, a.source, a.reference, a.listed_name, a.kind, a.score,
                       a.list_version, a.explanation) for a in list_alerts(register, member_id, "open"))

    assert alerts(spark_member.id) == alerts(local_member.id)
    assert (on_spark.run.screened, on_spark.open_alerts) == (local.run.screened, local.open_alerts)
    flagged = {a[0] for a in alerts(spark_member.id) if a[3] == "QDi.354"}
    assert {"s1", "s2", "s3"} <= flagged and "s10" not in flagged
