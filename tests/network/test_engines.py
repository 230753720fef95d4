"""The same analysis on DuckDB and on Spark (local[2]) gives the same answers."""

from __future__ import annotations

import gzip
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from jointwatch import jsonout
from jointwatch.errors import MessageFormatError
from jointwatch.network.analysis import Analysis, analyse
from jointwatch.network.designate import designated_accounts
from jointwatch.network.engines import DuckDBEngine, EngineSettings, SparkEngine
from jointwatch.network.schema import TraceSettings
from jointwatch.network.simulate import SimulationSettings, simulate
from jointwatch.network.trace import usd_sum
from tests.network.conftest import SPARK_TEST_MEMORY, csv_lines, tx, write_transactions
from tests.network.test_attribution import BROKERS, NETTING_PAIR, PARTNER, SETTLED_VIA_N


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    simulate(out, SimulationSettings(transactions=12_000, networks=2, donors=20, countries=15, dirty=10), "csv")
    return out


def _prefixed(prefix: str, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """``rows`` with every payment id and account id prefixed: sets that share no account, to trace as one file."""
    return [{**r, "id": f"{prefix}{r['id']}", "sender_account": f"{prefix}{r['sender_account']}",
             "receiver_account": f"{prefix}{r['receiver_account']}"} for r in rows]


# Hawala pairs whose payouts mirror deposits, which the simulated set has none of: the broker pair of
# test_attribution, its two-settlement variant and the partner whose settlement is traced at two hops (the mirrors
# on the broker's line alone, a payment's flow over all hops), a payout followed a hop after it mirrored (the hops
# traced again with it kept from mirroring), and a netting pair whose payout is the sum of the deposits its
# settlement carried (``summed_N``); each designates its own T. They share no account with each other or with the
# simulated set, so the engines trace them in the simulated file (every Spark statement costs about a second,
# whatever its rows), and test_the_hawala_sets_answer_in_the_simulated_file_as_each_alone shows that file answers
# for each as it does alone
HAWALA_SETS = {"brokers.": BROKERS,
               "split.": [*BROKERS[1:4], tx("s1", 5, 400, "X", "Y", "de", "tr"), tx("s2", 6, 600, "X", "Y", "de", "tr"),
                          *BROKERS[5:]],
               "partner.": PARTNER, "later.": SETTLED_VIA_N, "netted.": NETTING_PAIR}
HAWALA_ROWS = [r for prefix, rows in HAWALA_SETS.items() for r in _prefixed(prefix, rows)]
EARMARKED = TraceSettings(earmark_days=10)
# The payout followed a hop after it mirrored ("later.") makes the trace run every hop twice, the second time with it
# kept from mirroring: 93 statements against 48 without it, 167 against 86 earmarked. The earmarked file leaves it
# out, so each Spark engine runs that second pass once, in the plain trace (DuckDB runs it earmarked in
# test_attribution.py::test_a_payout_followed_at_a_later_hop_never_mirrored_before)
EARMARKED_SETS = {prefix: rows for prefix, rows in HAWALA_SETS.items() if prefix != "later."}


def _combined(generated: Path, folder: Path, sets: dict[str, list[dict[str, object]]]) -> tuple[Path, list[str]]:
    """The simulated payments with ``sets`` after them, and the accounts all of them designate."""
    rows = [r for prefix, set_rows in sets.items() for r in _prefixed(prefix, set_rows)]
    hawala = write_transactions(folder / "hawala.csv", rows).read_text(encoding="utf-8")
    path = folder / "transactions.csv"
    path.write_text((generated / "transactions.csv").read_text(encoding="utf-8") + hawala.split("\n", 1)[1],
                    encoding="utf-8")
    return path, [*designated_accounts([str(generated / "designated.txt")]), *(f"{p}T" for p in sets)]


@pytest.fixture(scope="module")
def combined(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The simulated payments with every hawala set after them."""
    return _combined(generated, tmp_path_factory.mktemp("combined"), HAWALA_SETS)


@pytest.fixture(scope="module")
def combined_earmarked(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The simulated payments with the hawala sets the earmarked trace is compared on."""
    return _combined(generated, tmp_path_factory.mktemp("combined_earmarked"), EARMARKED_SETS)


# the Spark engine as it runs (the small tables of a trace worked on in its driver) and with every statement on Spark
SPARK_ENGINES = ["spark_engine", "spark_only"]


def _on_both(combined: tuple[Path, list[str]], settings: TraceSettings, request: pytest.FixtureRequest,
             typologies: bool = False) -> tuple[Analysis, Analysis]:
    """The analysis of the combined file on DuckDB and on the Spark engine the fixture is asked for."""
    path, targets = combined
    duck = DuckDBEngine()
    try:
        on_duck = analyse(path, targets, settings, engine=duck, typologies=typologies)
    finally:
        duck.close()
    spark = request.getfixturevalue(request.param)
    return on_duck, analyse(path, targets, settings, engine=spark, typologies=typologies)


@pytest.fixture(scope="module", params=SPARK_ENGINES)
def both(combined: tuple[Path, list[str]], request: pytest.FixtureRequest) -> tuple[Analysis, Analysis]:
    return _on_both(combined, TraceSettings(), request, typologies=True)


@pytest.fixture(scope="module", params=SPARK_ENGINES)
def earmarked(combined_earmarked: tuple[Path, list[str]], request: pytest.FixtureRequest) -> tuple[Analysis, Analysis]:
    return _on_both(combined_earmarked, EARMARKED, request)


def _originators(analysis: Analysis) -> list[tuple[str, str, float, float, float]]:
    return sorted((o.account, o.reason, o.amount, o.low, o.high) for o in analysis.trace.originators)


def test_same_originators_and_amounts(both: tuple[Analysis, Analysis]) -> None:
    duck, spark = both
    assert len(duck.trace.originators) > 20
    # amount by first in first out; low and high over the three methods (lifo, proportional too)
    on_duck = {o.account: ((o.amount, o.low, o.high, o.assumed), o.country, o.hops, o.reason)
               for o in duck.trace.originators}
    on_spark = {o.account: ((o.amount, o.low, o.high, o.assumed), o.country, o.hops, o.reason)
                for o in spark.trace.originators}
    assert on_duck.keys() == on_spark.keys()
    assert any(o.low < o.high for o in duck.trace.originators), "the methods should disagree somewhere"
    for account, (amounts, country, hops, reason) in on_duck.items():
        assert on_spark[account][0] == pytest.approx(amounts, abs=0.011), account
        assert on_spark[account][1:] == (country, hops, reason)


def test_same_country_totals_and_counts(both: tuple[Analysis, Analysis]) -> None:
    duck, spark = both
    assert len(duck.trace.countries) >= 10
    on_spark = {c.country: c for c in spark.trace.countries}
    for c in duck.trace.countries:
        assert (on_spark[c.country].amount, on_spark[c.country].low, on_spark[c.country].high) == \
            pytest.approx((c.amount, c.low, c.high), abs=0.05)
        assert (on_spark[c.country].originators, on_spark[c.country].transactions) == (c.originators,
                                                                                      c.transactions)
    for key, value in duck.trace.totals.items():
        assert spark.trace.totals[key] == pytest.approx(value, abs=0.05), key


def test_same_intermediaries_and_quality_report(both: tuple[Analysis, Analysis]) -> None:
    duck, spark = both
    assert {(i.account, i.role) for i in duck.trace.intermediaries} == \
        {(i.account, i.role) for i in spark.trace.intermediaries}
    assert [(i.kind, i.count, [e["row"] for e in i.examples]) for i in duck.quality.issues] == \
        [(i.kind, i.count, [e["row"] for e in i.examples]) for i in spark.quality.issues]
    assert duck.quality.traced_rows == spark.quality.traced_rows == 12_000 + len(HAWALA_ROWS)


def test_same_typology_findings(both: tuple[Analysis, Analysis]) -> None:
    duck, spark = both
    assert duck.typologies, "the planted networks should trigger detectors"
    key = [(f.typology, tuple(f.accounts)) for f in duck.typologies]
    assert sorted(key) == sorted((f.typology, tuple(f.accounts)) for f in spark.typologies)
    # and each finding's payments and figures (the payments of a relay's span are read from either end of each)
    on_spark = {(f.typology, tuple(f.accounts)): f for f in spark.typologies}
    for f in duck.typologies:
        other = on_spark[(f.typology, tuple(f.accounts))]
        assert other.transactions == f.transactions, f.typology
        # to the cent: the sums are exact and both engines round alike (``trace.rounded``)
        assert other.figures == f.figures, (f.typology, f.accounts)


def _shape(value: object) -> object:
    """The JSON types of a value, recursively (dict keys kept, list items merged)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted({json.dumps(_shape(v), sort_keys=True) for v in value})
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def test_same_json_from_both_engines(both: tuple[Analysis, Analysis]) -> None:
    duck, spark = both
    # engines hand back their own numeric types (Spark: Decimal sums); the analysis carries plain
    # numbers, so its JSON (`--json`, `--output`) has the same fields and types on either engine
    on_duck, on_spark = (json.loads(jsonout.dumps(a.to_dict())) for a in (duck, spark))
    assert _shape(on_spark["typologies"]) == _shape(on_duck["typologies"])
    assert _shape(on_spark["trace"]) == _shape(on_duck["trace"])
    for finding in spark.typologies:
        assert not any(isinstance(v, Decimal) for v in finding.figures.values()), finding


def on_duckdb(path: Path, settings: TraceSettings, query: str,
             designated: list[str] | None = None) -> tuple[Analysis, list[dict[str, Any]]]:
    """The analysis of ``path`` (designated T, or ``designated``) on a fresh DuckDB engine, and the rows of
    ``query`` after it."""
    duck = DuckDBEngine()
    try:
        return analyse(path, designated or ["T"], settings, engine=duck), duck.rows(query)
    finally:
        duck.close()


def test_timestamps_with_offsets_are_read_as_utc_on_both_engines(tmp_path: Path, spark_engine: SparkEngine) -> None:
    # A pays M at 10:00+05:00 (05:00 UTC), M pays T at 06:00Z: A's money reached T. Dropping the offset put
    # the inflow after the payment: M was credited as the originator and the file order "out of order"
    path = csv_lines(tmp_path / "offsets.csv", "id,timestamp,amount,currency,sender_account,receiver_account",
                     "1,2024-01-01T10:00:00+05:00,100,USD,A,M", "2,2024-01-01T06:00:00Z,90,USD,M,T",
                     "3,2024-01-01 07:00:00,10,USD,B,T", "4,2024-01-01T12:00:00-05:30,5,USD,C,T")
    settings = TraceSettings(intervals=False)
    on_duck, rows = on_duckdb(path, settings, "SELECT CAST(ts AS VARCHAR) AS ts FROM tx ORDER BY _row")
    times = [r["ts"] for r in rows]
    assert times == ["2024-01-01 05:00:00", "2024-01-01 06:00:00", "2024-01-01 07:00:00", "2024-01-01 17:30:00"]
    on_spark = analyse(path, ["T"], settings, engine=spark_engine)
    for analysis in (on_duck, on_spark):
        assert {o.account: round(o.amount, 2) for o in analysis.trace.originators} == {"A": 90.0, "B": 10.0, "C": 5.0}
        assert "out_of_order" not in {i.kind for i in analysis.quality.issues}


def test_holders_details_are_the_latest_given_on_both_engines(tmp_path: Path, spark_engine: SparkEngine) -> None:
    # A's latest row names it but gives no country or bank: its details are the latest ones given, not blanks
    # (DuckDB's MAX_BY skipped NULLs and Spark's did not, so the engines disagreed before)
    path = csv_lines(tmp_path / "holders.csv", "id,timestamp,amount,currency,sender_account,receiver_account,"
                     "sender_name,receiver_name,sender_country,receiver_country,sender_institution",
                     "1,2024-01-01 10:00:00,100,USD,A,T,Al,Tee,US,GB,BankA",
                     "2,2024-01-02 10:00:00,50,USD,A,T,Al Old,Tee,,GB,",
                     "3,2024-01-03 10:00:00,20,USD,B,T,,Tee,FR,GB,BankB")
    expected = {"A": ("Al Old", "us", "BankA", 2), "B": (None, "fr", "BankB", 1), "T": ("Tee", "gb", None, 3)}
    on_duck, rows = on_duckdb(path, TraceSettings(), "SELECT * FROM accounts")
    assert {r["account"]: (r["name"], r["country"], r["institution"], r["appearances"]) for r in rows} == expected
    on_spark = analyse(path, ["T"], engine=spark_engine)
    assert {r["account"]: (r["name"], r["country"], r["institution"], r["appearances"])
            for r in spark_engine.rows("SELECT * FROM accounts")} == expected
    for analysis in (on_duck, on_spark):
        assert {c.country: c.amount for c in analysis.trace.countries} == {"us": 150.0, "fr": 20.0}


def test_rows_of_a_parquet_file_are_numbered_as_the_file_stores_them_on_both_engines(
        tmp_path: Path, spark_engine: SparkEngine) -> None:
    # 30,000 payments to T in 7 row groups; three are out of order, one a repeated id, in different row
    # groups: the rows each check names are the file's (Spark numbers them by the Parquet row index)
    start = datetime(2024, 1, 1)
    times = [start + timedelta(minutes=i) for i in range(30_000)]
    for late in (4_999, 17_001, 29_998):           # 0-based: rows 5,000, 17,002 and 29,999 of the file
        times[late] = start
    ids = [f"p{i}" for i in range(30_000)]
    ids[22_222] = "p100"                           # row 22,223 repeats row 101's id
    # a column of the file's own named as Spark's metadata column: the rows are still the file's
    table = pa.table({"_metadata": ["row 1"] * 30_000, "id": ids,
                      "timestamp": [t.strftime("%Y-%m-%d %H:%M:%S") for t in times], "amount": [10.0] * 30_000,
                      "currency": ["USD"] * 30_000,
                      "sender_account": [f"S{i % 50}" for i in range(30_000)], "receiver_account": ["T"] * 30_000})
    path = tmp_path / "rows.parquet"
    pq.write_table(table, path, row_group_size=4_500)
    assert pq.ParquetFile(path).metadata.num_row_groups == 7
    on_duck, _ = on_duckdb(path, TraceSettings(intervals=False), "SELECT 1")
    on_spark = analyse(path, ["T"], TraceSettings(intervals=False), engine=spark_engine)
    for analysis in (on_duck, on_spark):
        named = {i.kind: [e["row"] for e in i.examples] for i in analysis.quality.issues
                 if i.kind in {"out_of_order", "duplicate_id"}}
        assert named == {"out_of_order": [5_000, 17_002, 29_999], "duplicate_id": [22_223]}


def test_a_csv_row_with_more_fields_than_its_header_is_left_out_and_named_on_both_engines(
        tmp_path: Path, spark_engine: SparkEngine) -> None:
    # 25,000 payments to T; three rows have a field more than the header: row 3 (inside DuckDB's sniffing sample),
    # row 21,000 (past it: the sniffer used to drop the value without a word) and row 24,000, whose amount has an
    # unquoted comma, so its currency reads "000.00". Each is left out as ``extra_fields``, with its row number;
    # a row with a trailing empty field loses nothing and is traced
    header = "id,timestamp,amount,currency,sender_account,receiver_account"
    start = datetime(2024, 1, 1)
    rows = [f"p{i},{(start + timedelta(minutes=i)):%Y-%m-%d %H:%M:%S},10,USD,S{i % 50},T" for i in range(1, 25_001)]
    rows[2] += ",note"
    rows[20_999] += ",surplus"
    rows[23_999] = f"p24000,{(start + timedelta(minutes=24_000)):%Y-%m-%d %H:%M:%S},1,000.00,USD,X,T"
    rows[10] += ","
    path = csv_lines(tmp_path / "extra.csv", header, *rows)
    on_duck, _ = on_duckdb(path, TraceSettings(intervals=False), "SELECT 1")
    on_spark = analyse(path, ["T"], TraceSettings(intervals=False), engine=spark_engine)
    for analysis in (on_duck, on_spark):
        extra = next(i for i in analysis.quality.issues if i.kind == "extra_fields")
        assert (extra.count, [e["row"] for e in extra.examples], extra.excluded) == (3, [3, 21_000, 24_000], True)
        assert [e["id"] for e in extra.examples] == ["p3", "p21000", "p24000"]
        assert analysis.quality.traced_rows == 24_997
        traced = {o.account: round(o.amount, 2) for o in analysis.trace.originators}
        assert "X" not in traced and (traced["S11"], traced["S3"], traced["S0"]) == (5000.0, 4990.0, 4980.0)


def test_a_header_naming_a_column_the_reading_adds_is_refused(tmp_path: Path) -> None:
    path = csv_lines(tmp_path / "named.csv", "id,timestamp,amount,currency,sender_account,receiver_account,_extra",
                     "1,2024-01-01 10:00:00,100,USD,A,T,x")
    duck = DuckDBEngine()
    try:
        with pytest.raises(MessageFormatError, match=r"named.csv, header: column\(s\) _extra"):
            analyse(path, ["T"], engine=duck)
    finally:
        duck.close()


def test_a_gzipped_csv_is_read_with_its_header(tmp_path: Path) -> None:
    path = tmp_path / "tx.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("id,timestamp,amount,currency,sender_account,receiver_account\n"
                     "1,2024-01-01 10:00:00,100,USD,A,T\n2,2024-01-01 11:00:00,20,USD,B,T,more\n")
    on_duck, _ = on_duckdb(path, TraceSettings(intervals=False), "SELECT 1")
    assert {o.account: o.amount for o in on_duck.trace.originators} == {"A": 100.0}
    assert [(i.kind, i.count) for i in on_duck.quality.issues if i.excluded] == [("extra_fields", 1)]


def test_same_earmarked_trace(earmarked: tuple[Analysis, Analysis]) -> None:
    duck, spark = earmarked
    assert len(duck.trace.originators) > 20
    assert {o.account for o in duck.trace.originators} >= {"brokers.D", "netted.D1", "netted.D2"}
    on_duck, on_spark = _originators(duck), _originators(spark)
    for a, b in zip(on_duck, on_spark, strict=True):
        assert a[:2] == b[:2]
        assert a[2:] == pytest.approx(b[2:], abs=0.011), a[0]
    for key, value in duck.trace.totals.items():
        assert spark.trace.totals[key] == pytest.approx(value, abs=0.05), key


@pytest.mark.parametrize("settings", [TraceSettings(), EARMARKED], ids=["plain", "earmarked"])
def test_the_hawala_sets_answer_in_the_simulated_file_as_each_alone(combined: tuple[Path, list[str]], tmp_path: Path,
                                                                     settings: TraceSettings) -> None:
    alone: list[tuple[str, str, float, float, float]] = []
    for prefix, rows in HAWALA_SETS.items():
        path = write_transactions(tmp_path / f"{prefix}csv", _prefixed(prefix, rows))
        on_duck, _ = on_duckdb(path, settings, "SELECT 1", [f"{prefix}T"])
        assert on_duck.trace.originators, prefix
        alone += _originators(on_duck)
    in_file, _ = on_duckdb(combined[0], settings, "SELECT 1", combined[1])
    assert [o for o in _originators(in_file) if o[0].split(".")[0] + "." in HAWALA_SETS] == sorted(alone)
    # the broker pair's collector is credited the donor's deposit alone (test_attribution), the netting pair's its two
    # donors' deposits, 80 % of each
    credited = {o.account: o.amount for o in in_file.trace.originators}
    assert (credited["brokers.D"], credited["netted.D1"], credited["netted.D2"]) == (500.0, 400.0, 320.0)


def test_a_sum_of_usd_amounts_is_the_same_on_both_engines(duck: DuckDBEngine, spark_only: SparkEngine) -> None:
    # each amount is rounded to millionths before the exact sum: a cast of a double to DECIMAL(38, 6) rounded
    # 0.6927584999999999 up on DuckDB (from its shortest decimal form) and down on Spark (from its binary value)
    values = ("0.6927584999999999", "3.4362405", "1012.7249999999999", "0.000000499999")
    sql = (f"SELECT {usd_sum('x')} AS total, COUNT(*) AS n FROM (VALUES "
           + ", ".join(f"(CAST('{v}' AS DOUBLE))" for v in values) + ") AS v(x)")
    assert duck.rows(sql) == spark_only.rows(sql)
    one = f"SELECT {usd_sum('x')} AS total FROM (VALUES (CAST('0.6927584999999999' AS DOUBLE))) AS v(x)"
    # times a million it is 692,758.5 as a double on both engines, rounded half away from zero on both
    assert duck.rows(one) == spark_only.rows(one) == [{"total": 0.692759}]


def test_a_spark_engine_works_on_small_tables_in_its_driver_and_never_reads_a_stale_copy() -> None:
    # a table Spark made of at most ``driver_rows`` rows is copied to the driver when a statement reading only small
    # tables runs there, and a table made there is sent to Spark when a Spark statement reads it; a table replaced on
    # either side is never read as it was from the other
    engine = SparkEngine(EngineSettings(spark_master="local[2]", shuffle_partitions=1, memory_limit=SPARK_TEST_MEMORY,
                                        driver_rows=3))
    try:
        engine.create("numbers", "SELECT n, s, CAST('2024-03-31 01:30:00' AS TIMESTAMP) + n * INTERVAL 1 HOUR AS ts "
                      "FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd')) AS v(n, s)", recompute=True)  # Spark only
        engine.create("few", "SELECT n, s, ts FROM numbers WHERE n <= 2")     # reads a view: on Spark, 2 rows
        engine.create("many", "SELECT n, s FROM numbers")                     # 4 rows: never copied
        engine.create("doubled", "SELECT n * 2 AS n, s, SUM(n) OVER () AS total, CAST(NULL AS VARCHAR) AS nothing, "
                      "CAST(n AS DECIMAL(10, 2)) / 4 AS quarter, ts FROM few")
        assert engine.in_driver("doubled") and engine.in_driver("few") and not engine.in_driver("many")
        # the timestamps as UTC wall times both ways, whatever the time zone of the process
        joined = ("SELECT d.n, m.s, d.total, d.nothing, d.quarter, CAST(d.ts AS VARCHAR) AS ts FROM doubled d "
                  "JOIN many m ON m.n = d.n ORDER BY d.n")
        assert engine.rows(joined) == [
            {"n": 2, "s": "b", "total": 3, "nothing": None, "quarter": 0.25, "ts": "2024-03-31 02:30:00"},
            {"n": 4, "s": "d", "total": 3, "nothing": None, "quarter": 0.5, "ts": "2024-03-31 03:30:00"}]
        # a CTE shadows a table only where it is in scope: in the body of a CTE defined before it, ``many`` is the
        # table (so the statement runs on Spark, which has it)
        assert engine.rows("WITH a AS (SELECT n FROM many), many AS (SELECT 0 AS n) "
                           "SELECT (SELECT COUNT(*) FROM a) + (SELECT COUNT(*) FROM many) AS n") == [{"n": 5}]
        # replaced in the driver: Spark's copy goes
        engine.create("doubled", "SELECT n * 3 AS n, s, 0 AS total, CAST(NULL AS VARCHAR) AS nothing, "
                      "CAST(0 AS DECIMAL(10, 2)) AS quarter, ts FROM few")
        assert [r["n"] for r in engine.rows(joined)] == [3]
        # replaced on Spark: the driver's copy goes
        engine.create("few", "SELECT n, s FROM numbers WHERE n >= 3")
        assert not engine.in_driver("few")
        assert engine.rows("SELECT n FROM few ORDER BY n") == [{"n": 3}, {"n": 4}]
        assert engine.in_driver("few")
    finally:
        engine.close()
