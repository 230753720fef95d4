"""`jointwatch network …` end to end: simulate, trace (with --screen against the real UN list), typologies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from jointwatch.cli import app
from jointwatch.network.engines import AnalysisEngine, EngineSettings
from jointwatch.sources import open_list
from jointwatch.store import load_list, open_engine
from tests.conftest import UN_FILE
from tests.network.conftest import SPARK_TEST_MEMORY, tx, write_transactions

ENV = {"COLUMNS": "300", "JOINTWATCH_DB": None}
runner = CliRunner()


def jw(*args: object) -> Result:
    result = runner.invoke(app, [str(a) for a in args], env=ENV, catch_exceptions=False)
    return result


@pytest.fixture(scope="module")
def un_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Path]]:
    tmp = tmp_path_factory.mktemp("un")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOINTWATCH_CACHE", str(tmp / "cache"))
        engine = open_engine(str(tmp / "register.db"), create=True)
        load_list(engine, open_list(UN_FILE, "un"))
        yield engine, tmp / "register.db"
        engine.dispose()


def test_simulate_then_trace_json(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = jw("network", "simulate", out, "-n", 5000, "--networks", 1, "--donors", 10, "--countries", 8,
                "--format", "csv", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    truth = json.loads(Path(summary["truth"]).read_text())
    assert summary["rows"] == 5000 and len(truth["networks"][0]["donors"]) <= 10
    report = tmp_path / "out.html"
    result = jw("network", "trace", summary["transactions"], "--designated", f"@{summary['designated']}",
                "--report", report, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    donors = {d["account"] for d in truth["networks"][0]["donors"]}
    found = {o["account"] for o in data["trace"]["originators"]}
    assert donors <= found
    assert report.exists() and report.with_suffix(".json").exists()
    # no total is negative (the cents of rounded amounts once made "below the minimum" -0.03), and every traced
    # dollar is credited or pruned
    totals = data["trace"]["totals"]
    assert min(totals.values()) >= 0.0
    assert totals["originated"] + totals["pruned"] == pytest.approx(totals["traced"], abs=0.05)


def test_trace_screens_holders_against_the_register(tmp_path: Path, un_store: tuple[Engine, Path]) -> None:
    _, db = un_store
    rows = [tx("g1", 1, 500, "DONOR1", "FRONT", "de", "sy"), tx("g2", 2, 700, "DONOR2", "FRONT", "fr", "sy")]
    for row in rows:
        row["receiver_name"] = "Islamic State in Iraq and the Levant"
    path = write_transactions(tmp_path / "front.csv", rows)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JOINTWATCH_CACHE", str(db.parent / "cache"))
        result = jw("network", "trace", path, "--screen", "--db", db, "--no-typologies", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    match = next(m for m in data["holder_matches"] if m["account"] == "FRONT")
    assert match["source"].startswith("un") and match["reference"] == "QDe.115"
    assert match["score"] >= 0.85 and match["explanation"]["words"]
    assert {m["account"] for m in data["holder_matches"]} == {"FRONT"}
    assert {o["account"]: o["amount"] for o in data["trace"]["originators"]} == {"DONOR1": 500.0, "DONOR2": 700.0}


def test_bad_file_and_nothing_to_trace_exit_7(tmp_path: Path) -> None:
    result = jw("network", "trace", tmp_path / "missing.csv", "-d", "X")
    assert result.exit_code == 7 and "missing.csv: no such file" in result.output
    path = write_transactions(tmp_path / "small.csv", [tx("a", 1, 10, "A", "B")])
    result = jw("network", "trace", path, "-d", "NOBODY", "--json")
    assert result.exit_code == 7
    assert "none of the designated accounts" in json.loads(result.output)["message"]


def test_typologies_and_check_commands(tmp_path: Path) -> None:
    rows = [tx("s1", 5, 9500, "SPLITTER", "T"), tx("s2", 6, 9400, "SPLITTER", "T")]
    path = write_transactions(tmp_path / "split.csv", rows)
    result = jw("network", "typologies", path, "--only", "structuring", "--json")
    assert result.exit_code == 0, result.output
    findings = json.loads(result.output)["findings"]
    assert [(f["typology"], f["accounts"]) for f in findings] == [("structuring", ["SPLITTER", "T"])]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,timestamp,amount,currency,sender_account,receiver_account\nx,2024-01-01,-1,EUR,A,B\n")
    result = jw("network", "check", bad, "--json")
    assert result.exit_code == 7
    assert json.loads(result.output)["issues"][0]["kind"] == "non_positive_amount"
    # no finding in a file with nothing to analyse is no answer: every command that analyses refuses (exit 7)
    empty = tmp_path / "empty.csv"
    empty.write_text("id,timestamp,amount,currency,sender_account,receiver_account\n")
    for path, why in ((empty, "holds no transaction"), (bad, "all 1 rows were left out (non_positive_amount)")):
        for command in (("typologies",), ("rank",), ("trace", "-d", "B")):
            refused = jw("network", command[0], path, *command[1:])
            assert refused.exit_code == 7 and why in " ".join(refused.output.split()), (command, refused.output)


def test_a_column_named_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("id,timestamp,amount,currency,sender_account,receiver_account,Amount\n"
                    "1,2024-01-01 10:00:00,100,USD,A,B,5\n")
    result = jw("network", "trace", path, "-d", "B")
    assert result.exit_code == 7 and "header: column(s) amount named more than once" in " ".join(result.output.split())


def test_designated_accounts_missing_from_the_data_are_not_counted_as_reached(tmp_path: Path) -> None:
    path = write_transactions(tmp_path / "small.csv", [tx("a", 1, 10, "A", "B")])
    result = runner.invoke(app, ["network", "trace", str(path), "-d", "B,NOPE", "--no-typologies"], env=ENV)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "1 of the 2 designated accounts do not occur in the transactions" in said
    assert "reached 1 designated accounts" in said


def test_trace_by_a_method_names_it_on_every_figure(tmp_path: Path) -> None:
    from tests.network.test_attribution import MULE

    path = write_transactions(tmp_path / "mule.csv", MULE)
    result = jw("network", "trace", path, "-d", "T", "--method", "proportional", "--no-typologies", "--json")
    assert result.exit_code == 0, result.output
    trace = json.loads(result.output)["trace"]
    assert trace["method"] == "proportional" and trace["settings"]["method"] == "proportional"
    # proportional credits 950 to D1 (DE); the three methods put DE between 800 and 1,000
    assert [(c["country"], c["method"], c["amount"], c["low"], c["high"], c["assumed"]) for c in trace["countries"]] \
        == [("fr", "proportional", 2850.0, 2800.0, 3000.0, 0.0), ("de", "proportional", 950.0, 800.0, 1000.0, 0.0)]
    assert {o["account"]: (o["method"], o["low"], o["high"]) for o in trace["originators"]} == {
        "D1": ("proportional", 800.0, 1000.0), "D2": ("proportional", 2800.0, 3000.0)}
    table = jw("network", "trace", path, "-d", "T", "--method", "lifo", "--no-typologies")
    assert table.exit_code == 0, table.output
    assert "Funding by country — last in, first out" in table.output and "800.00 – 1,000.00" in table.output
    assert "(last in, first out; duckdb" in table.output
    refused = jw("network", "trace", path, "-d", "T", "--method", "newest")
    assert refused.exit_code == 2 and "fifo, lifo, proportional" in refused.output


def test_a_huge_account_number_is_shown_cut_and_named_and_whole_in_json(tmp_path: Path) -> None:
    # an account number of 100,000 characters (a hostile or broken file): the terminal tables show its first
    # 1,000 and say how many more there are (before, a pipe's output was 1.3 MB, every row padded to it); the
    # JSON keeps it whole
    huge = "B" * 100_000
    path = write_transactions(tmp_path / "huge.csv", [tx("g", 1, 100, huge, "T"), tx("h", 2, 50, "A", "T")])
    result = jw("network", "trace", path, "--designated", "T", "--no-typologies")
    assert result.exit_code == 0, result.output[:500]
    assert "99,000 more characters" in result.output
    assert len(result.output) < 60_000
    data = json.loads(jw("network", "trace", path, "--designated", "T", "--no-typologies", "--json").output)
    assert {o["account"]: o["amount"] for o in data["trace"]["originators"]} == {huge: 100.0, "A": 50.0}


def test_trace_on_spark_with_every_statement_on_spark_answers_as_duckdb(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # --driver-rows 0: no statement is worked on in the driver's DuckDB (a cluster's driver may be small); the netting
    # broker pair of test_attribution, whose collector's payout is the sum of the donors' deposits, by every method
    from jointwatch.network import analysis
    from tests.network.test_attribution import NETTING_PAIR

    opened: list[EngineSettings | None] = []
    real = analysis.open_analysis_engine

    def opening(name: str, settings: EngineSettings | None = None) -> AnalysisEngine:
        opened.append(settings)
        return real(name, settings)

    monkeypatch.setattr(analysis, "open_analysis_engine", opening)

    path = write_transactions(tmp_path / "netted.csv", NETTING_PAIR)
    answers = {}
    # the test session's Spark memory: the first session opened sets the one JVM's for the whole run (conftest.py)
    for engine in (["--engine", "duckdb"], ["--engine", "spark", "--driver-rows", 0, "--threads", 1,
                                            "--memory-limit", SPARK_TEST_MEMORY]):
        result = jw("network", "trace", path, "-d", "T", "--method", "proportional", "--no-typologies", "--json",
                    *engine)
        assert result.exit_code == 0, result.output
        trace = json.loads(result.output)["trace"]
        answers[engine[1]] = {o["account"]: (o["amount"], o["low"], o["high"]) for o in trace["originators"]}
    assert answers["duckdb"] == answers["spark"] == {"D1": (400.0, 400.0, 400.0), "D2": (320.0, 320.0, 320.0)}
    assert [o.driver_rows if o else None for o in opened] == [None, 0]
    refused = jw("network", "trace", path, "-d", "T", "--driver-rows", -1)
    assert refused.exit_code == 2 and "--driver-rows" in refused.output
