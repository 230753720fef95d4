"""`jointwatch screen`, `compare` and `decisions` on the real register, through the CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from jointwatch.cli import app
from jointwatch.screening import DEFAULT_THRESHOLD

runner = CliRunner()
ENV = {"COLUMNS": "500", "JOINTWATCH_DB": None}


def jw(*args: object, db: Engine) -> Result:
    argv = [str(a) for a in args] + ["--db", str(db.url.database)]
    return runner.invoke(app, argv, env=ENV, catch_exceptions=False)


def test_screen_one_name_json(register: Engine) -> None:
    result = jw("screen", "TARAK BEN TAHER BEN FALEH OUNI HARZI", "--dob", "1982-05-03", "--json", db=register)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    top = data["matches"][0]
    assert (top["source"], top["reference"]) == ("un_sc", "QDi.354")
    assert top["list_version"].startswith("2026-02-27-")
    assert top["explanation"]["qualifiers"][0]["kind"] == "birth_date"
    assert {m["reference"] for m in data["matches"]} >= {"QDi.354", "17293"}


def test_screen_table_shows_reference_and_reasons(register: Engine) -> None:
    result = jw("screen", "Tariq al-Harzi", "--dob", "1982", db=register)
    assert result.exit_code == 0
    assert "QDi.354" in result.stdout and "17293" in result.stdout
    # the UN listing is found through its original-script name, romanised as the query writes it
    assert "Tariq→طارق (transliteration)" in result.stdout


def test_screen_bad_query_exit_7(register: Engine) -> None:
    result = jw("screen", "x", "--json", db=register)
    assert result.exit_code == 7
    assert "two letters" in json.loads(result.stdout)["message"]
    result = jw("screen", "Tariq Harzi", "--dob", "1982-02-30", db=register)
    assert result.exit_code == 7


def test_batch_screens_good_rows_reports_bad_rows_and_resumes(register: Engine, tmp_path: Path) -> None:
    queries = tmp_path / "queries.csv"
    rows = [
        ("q1", "AL-HARZI, Tariq", "Person", "1982-05-03", "Tunisia", ""),
        ("q2", "", "Person", "", "", ""),
        ("q3", "x", "Person", "", "", ""),
        ("q4", "A" * 10_000, "Person", "", "", ""),
        ("q5", "Tariq Harzi\x00\x07", "Person", "1982-13-45", "", ""),
        ("q6", "😀 طارق الحرزي 😀", "Person", "1982", "", ""),
        ("q7", "Pierre Dupont", "Person", "1982-05-03", "", ""),
        ("q8", "T. Harzi", "Person", "", "", "Z050399"),
        ("q1", "duplicate id", "Person", "", "", ""),
    ]
    with queries.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "name", "schema", "birth_date", "nationality", "id_number"])
        writer.writerows(rows)
    out = tmp_path / "results.jsonl"
    result = jw("screen", "--input", queries, "--output", out, "--json", db=register)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary == {"queries": 9, "screened": 4, "skipped": 0, "with_matches": 3, "errors": 5}
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    by_id = {}
    for line in lines:
        by_id.setdefault(line["id"], []).append(line)
    assert by_id["q1"][0]["matches"][0]["reference"] in {"QDi.354", "17293"}
    assert "name is empty" in by_id["q2"][0]["error"]
    assert "two letters" in by_id["q3"][0]["error"]
    assert "10000 characters" in by_id["q4"][0]["error"]
    assert "birth_date" in by_id["q5"][0]["error"] and by_id["q5"][0]["line"] == 6
    assert "QDi.354" in {m["reference"] for m in by_id["q6"][0]["matches"]}
    assert by_id["q7"][0]["matches"] == []
    assert any(q["kind"] == "identifier" for q in by_id["q8"][0]["matches"][0]["explanation"]["qualifiers"])
    assert "appears twice" in by_id["q1"][1]["error"]
    # a crash after three results, the last line half written: the re-run completes the rest
    complete = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text("".join(complete[:3]) + complete[3][:20], encoding="utf-8")
    result = jw("screen", "--input", queries, "--output", out, "--json", db=register)
    assert json.loads(result.stdout)["skipped"] == 3
    again = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in again] == [r["id"] for r in lines]
    assert again == lines


def test_batch_with_a_broken_file_is_refused(register: Engine, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,birth_date\nTariq Harzi,1982\n", encoding="utf-8")
    result = jw("screen", "--input", bad, "--output", tmp_path / "o.jsonl", db=register)
    assert result.exit_code == 7
    assert "missing column(s) id" in result.output
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("id,name\n1,Mu\xf1oz\n".encode("latin-1"))
    result = jw("screen", "--input", latin1, "--output", tmp_path / "o2.jsonl", db=register)
    assert result.exit_code == 7


def test_compare_explains_word_by_word(register: Engine) -> None:
    result = jw("compare", "AL-HARZI, Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni",
                "طارق بن الطاھر بن الفالح العوني الحرزي", "--json", db=register)
    data = json.loads(result.stdout)
    assert data["score"] >= DEFAULT_THRESHOLD
    assert {(w["query"], w["rule"]) for w in data["explanation"]["words"]} >= {("HARZI", "transliteration"),
                                                                               ("Tariq", "transliteration")}


def test_compare_pairs_file(register: Engine, tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("name1,name2\nMuammar Gaddafi,QADHAFI Muammar\nMuammar Gaddafi,John Smith\n,x\n",
                     encoding="utf-8")
    out = tmp_path / "scores.csv"
    assert jw("compare", "--pairs", pairs, "--output", out, db=register).exit_code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert float(rows[0]["score"]) >= DEFAULT_THRESHOLD
    assert float(rows[1]["score"]) == 0.0
    assert rows[2]["score"] == "" and "name is empty" in rows[2]["error"]


def test_decision_round_trip(register: Engine) -> None:
    assert "QDi.354" in jw("screen", "Tarak Harzi", "--birth-date", "1982-05-03", db=register).stdout
    added = jw("decisions", "add", "Tarak Harzi", "QDi.354", "--birth-date", "1982-05-03",
               "--reason", "passport checked, other man", "--user", "officer 17", "--json", db=register)
    assert added.exit_code == 0, added.output
    entry = json.loads(added.stdout)
    assert (entry["verdict"], entry["user"]) == ("false_positive", "officer 17")
    try:
        after = jw("screen", "HARZI, Tarak", "--dob", "1982-05-03", "--json", db=register)
        refs = {m["reference"] for m in json.loads(after.stdout)["matches"]}
        assert "QDi.354" not in refs and "17293" in refs
        # a decision is the acting member's: another member's screening still alerts
        assert jw("members", "add", "Border Police NL", db=register).exit_code == 0
        other = jw("screen", "HARZI, Tarak", "--dob", "1982-05-03", "--member", "Border Police NL", "--json",
                   db=register)
        assert "QDi.354" in {m["reference"] for m in json.loads(other.stdout)["matches"]}
        assert json.loads(jw("decisions", "list", "--member", "Border Police NL", "--json", db=register).stdout) == []
        listed = json.loads(jw("decisions", "list", "--json", db=register).stdout)
        assert [e["reference"] for e in listed] == ["QDi.354"]
        dup = jw("decisions", "add", "Tarak Harzi", "QDi.354", "--dob", "1982-05-03", "--reason", "again",
                 db=register)
        assert dup.exit_code == 4
        assert jw("decisions", "withdraw", entry["id"], "--member", "Border Police NL", db=register).exit_code == 6
    finally:
        assert jw("decisions", "withdraw", entry["id"], db=register).exit_code == 0
    assert jw("decisions", "withdraw", entry["id"], db=register).exit_code == 6
    again = jw("screen", "HARZI, Tarak", "--dob", "1982-05-03", "--json", db=register)
    assert "QDi.354" in {m["reference"] for m in json.loads(again.stdout)["matches"]}


def test_batch_files_its_matches_in_the_members_alerts_queue(register: Engine, tmp_path: Path) -> None:
    """Each subject's matches are alerts (origin job) of the acting member, named by file, line and id;
    a resumed batch files only what it screens anew."""
    from jointwatch.store import add_member  # noqa: PLC0415 - only this test makes a member

    member = add_member(register, f"Batch desk {tmp_path.name}")
    queries = tmp_path / "people.csv"
    queries.write_text("id,name,birth_date\nc-1,TARAK BEN TAHER BEN FALEH OUNI HARZI,1982-05-03\n"
                       "c-2,Pierre Dupont,1975-01-01\n", encoding="utf-8")
    out = tmp_path / "results.jsonl"
    assert jw("screen", "--input", queries, "--output", out, "--member", member.name, db=register).exit_code == 0

    def filed() -> list[dict[str, object]]:
        listed = jw("alerts", "list", "--member", member.name, "--origin", "job", "--json", db=register)
        assert listed.exit_code == 0, listed.output
        return list(json.loads(listed.stdout))

    alerts = filed()
    assert {a["reference"] for a in alerts} >= {"QDi.354"}
    assert {a["origin_ref"] for a in alerts} == {"people.csv line 2 (id c-1)"}
    harzi = next(a for a in alerts if a["reference"] == "QDi.354")
    assert (harzi["subject"], harzi["subject_birth_date"], harzi["state"]) == (
        "TARAK BEN TAHER BEN FALEH OUNI HARZI", "1982-05-03", "open")
    # run again: every line is done, nothing screened, no alert filed twice
    assert jw("screen", "--input", queries, "--output", out, "--member", member.name, db=register).exit_code == 0
    assert len(filed()) == len(alerts)
