"""End-to-end tests of the `jointwatch` command line through Typer's CliRunner.

Every test runs the real commands on a real SQLite file under tmp_path, on the real list
files in ``../shared/data/lists`` (never copied into the repository): the UN consolidated
list of 2026-02-27 and the OFAC SDN legacy CSV snapshots of 2023-03-01 and 2023-06-05.
Loading OFAC takes seconds, so a module-scoped store loads each snapshot once; tests that
write clone a store first (SQLite backup API) and never touch the shared ones.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner, Result

from jointwatch import __version__
from jointwatch.cli import app

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "lists"
UN = DATA / "un_consolidated_2026-02-27.xml"
OFAC_MARCH = DATA / "ofac_sdn_2023-03-01.csv"
OFAC_JUNE = DATA / "ofac_sdn_2023-06-05.csv"

pytestmark = pytest.mark.skipif(not all(p.is_file() for p in (UN, OFAC_MARCH, OFAC_JUNE)),
                                reason=f"list files not found in {DATA}")

# a wide console, so rich never wraps paths or counts; no store from the environment
ENV = {"COLUMNS": "500", "JOINTWATCH_DB": None}
runner = CliRunner()


def jw(*args: object, db: Path | str | None = None, env: dict[str, str | None] | None = None) -> Result:
    """Run `jointwatch ARGS [--db DB]` in-process; unexpected exceptions fail the test."""
    argv = [str(a) for a in args] + (["--db", str(db)] if db is not None else [])
    return runner.invoke(app, argv, env={**ENV, **(env or {})}, catch_exceptions=False)


def jw_json(*args: object, db: Path | str | None = None, code: int = 0) -> object:
    """Run a command with --json, check its exit code, and return its parsed standard output."""
    result = jw(*args, "--json", db=db)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def clone(src: Path, dst: Path) -> Path:
    """A consistent copy of a SQLite store (committed data, WAL included)."""
    with closing(sqlite3.connect(src)) as a, closing(sqlite3.connect(dst)) as b:
        a.backup(b)
    return dst


def row_counts(db: Path) -> dict[str, int]:
    with closing(sqlite3.connect(db)) as c:
        return {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("list_versions", "statements", "version_statements")}


def load(path: Path, fmt: str, db: Path) -> dict:
    result = jw_json("lists", "load", path, "--format", fmt, db=db)
    assert isinstance(result, dict)
    return result


@pytest.fixture(scope="module")
def un_db(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A store holding the UN list, and what its first load reported."""
    db = tmp_path_factory.mktemp("un") / "store.db"
    return SimpleNamespace(db=db, first=load(UN, "un", db))


@pytest.fixture(scope="module")
def full_db(un_db: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """UN + OFAC 2023-03-01 (kept as a snapshot) + OFAC 2023-06-05, loaded once; read-only."""
    folder = tmp_path_factory.mktemp("full")
    db = clone(un_db.db, folder / "store.db")
    load(OFAC_MARCH, "ofac-sdn", db)
    march = clone(db, folder / "march.db")
    load(OFAC_JUNE, "ofac-sdn", db)
    return SimpleNamespace(db=db, march=march)


def ofac_rows(path: Path) -> dict[str, list[str]]:
    """An OFAC primary CSV read independently: rows by first column, fields stripped."""
    with open(path, encoding="utf-8", newline="") as fh:
        text = fh.read().rstrip("\x1a")
    rows = [[f.strip() for f in row] for row in csv.reader(text.splitlines()) if row]
    return {row[0]: row for row in rows}


@pytest.fixture(scope="module")
def expected_diff() -> dict[str, set[str]]:
    old, new = ofac_rows(OFAC_MARCH), ofac_rows(OFAC_JUNE)
    return {"added": set(new) - set(old), "removed": set(old) - set(new),
            "changed": {k for k in set(old) & set(new) if old[k] != new[k]}}


def refs(diff: dict, section: str) -> set[str]:
    return {change["reference"] for change in diff[section]}


# --- help and version ------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "purpose"), [
    ([], "Screening and information sharing against the official terrorist and sanctions lists"),
    (["lists"], "Load official and partner lists, keep their history, compare versions"),
    (["lists", "load"], "Load one list file into the store as a new version of its source"),
    (["lists", "update"], "Download the official lists"),
    (["lists", "show"], "List the sources in the store, their versions and what each version holds"),
    (["lists", "diff"], "Show the entities added, removed and changed between two versions of a list"),
    (["entity"], "Look at listed entities"),
    (["entity", "show"], "Show every statement about a listed entity"),
])
def test_help(args: list[str], purpose: str) -> None:
    result = jw(*args, "--help")
    assert result.exit_code == 0, result.output
    assert purpose in result.stdout
    assert "Usage:" in result.stdout


def test_version() -> None:
    result = jw("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"jointwatch {__version__}"


# --- loading the UN list ---------------------------------------------------------------------

def test_load_un_then_again(un_db: SimpleNamespace) -> None:
    first = un_db.first
    assert first["created"] is True
    assert first["source"] == "un_sc"
    assert first["entities"] == 1003
    assert first["schema_counts"] == {"Person": 730, "Organization": 273}
    again = load(UN, "un", un_db.db)
    assert again["created"] is False
    assert again["version"] == first["version"]
    assert again["entities"] == first["entities"]
    versions = jw_json("lists", "show", db=un_db.db)
    assert [(v["source"], v["version"]) for v in versions] == [("un_sc", first["version"])]
    assert jw_json("lists", "show", "un_sc", db=un_db.db) == versions
    # the table output says the second load wrote nothing
    result = jw("lists", "load", UN, "--format", "un", db=un_db.db)
    assert result.exit_code == 0
    assert "unchanged" in result.stdout and first["version"] in result.stdout


def test_store_from_environment(un_db: SimpleNamespace) -> None:
    result = jw("lists", "show", "--json", env={"JOINTWATCH_DB": str(un_db.db)})
    assert result.exit_code == 0, result.output
    assert [v["source"] for v in json.loads(result.stdout)] == ["un_sc"]


# --- entity show -----------------------------------------------------------------------------

def test_entity_show_un(full_db: SimpleNamespace) -> None:
    views = jw_json("entity", "show", "QDi.354", db=full_db.db)
    assert [(v["source"], v["reference"], v["schema"]) for v in views] == [("un_sc", "QDi.354", "Person")]
    view = views[0]
    assert view["listed_now"] is True
    main = view["entities"][0]
    assert main["schema"] == "Person" and main["id"] == view["entity_id"]
    props = main["properties"]
    assert "TARAK BEN TAHER BEN FALEH OUNI HARZI" in props["name"]
    assert "طارق بن الطاھر بن الفالح العوني الحرزي" in props["name"]
    assert props["weakAlias"] == ["Abou Omar Al Tounisi"]
    assert props["birthDate"] == ["1982-05-03"]
    assert props["nationality"] == ["tn"]
    assert props["passportNumber"] == ["Z050399"]
    stmts = view["statements"]
    assert stmts
    assert {(s["source"], s["reference"], s["first_seen"], s["last_seen"], s["current"]) for s in stmts} == {
        ("un_sc", "QDi.354", "2026-02-27", "2026-02-27", True)}
    assert ("name", "TARAK BEN TAHER BEN FALEH OUNI HARZI") in {(s["prop"], s["value"]) for s in stmts}
    # the table names the reference and the statements
    result = jw("entity", "show", "QDi.354", db=full_db.db)
    assert result.exit_code == 0
    assert "QDi.354" in result.stdout and "Abou Omar Al Tounisi" in result.stdout


def test_entity_show_ofac(full_db: SimpleNamespace) -> None:
    views = jw_json("entity", "show", "17293", "--source", "us_ofac_sdn", db=full_db.db)
    assert [(v["source"], v["reference"]) for v in views] == [("us_ofac_sdn", "17293")]
    assert views[0]["caption"] == "AL-HARZI, Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni"
    assert views[0]["entities"][0]["properties"]["name"] == [
        "AL-HARZI, Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni"]
    assert {s["source"] for s in views[0]["statements"]} == {"us_ofac_sdn"}


def test_entity_show_not_found(full_db: SimpleNamespace) -> None:
    error = jw_json("entity", "show", "NOPE", db=full_db.db, code=6)
    assert error["exit_code"] == 6 and "NOPE" in error["message"]
    assert jw("entity", "show", "NOPE", db=full_db.db).exit_code == 6


# --- lists diff ------------------------------------------------------------------------------

def test_diff_matches_csv(full_db: SimpleNamespace, expected_diff: dict[str, set[str]]) -> None:
    diff = jw_json("lists", "diff", "us_ofac_sdn", db=full_db.db)
    assert diff["from_version"].startswith("2023-03-01") and diff["to_version"].startswith("2023-06-05")
    for section in ("added", "removed", "changed"):
        assert refs(diff, section) == expected_diff[section], section
    assert all(c["changes"] for c in diff["changed"])


def test_diff_reversed(full_db: SimpleNamespace, expected_diff: dict[str, set[str]]) -> None:
    diff = jw_json("lists", "diff", "us_ofac_sdn", "--from", "2023-06-05", "--to", "2023-03-01",
                   db=full_db.db)
    assert diff["from_version"].startswith("2023-06-05") and diff["to_version"].startswith("2023-03-01")
    assert refs(diff, "added") == expected_diff["removed"]
    assert refs(diff, "removed") == expected_diff["added"]
    assert refs(diff, "changed") == expected_diff["changed"]


def test_diff_table(full_db: SimpleNamespace, expected_diff: dict[str, set[str]]) -> None:
    result = jw("lists", "diff", "us_ofac_sdn", db=full_db.db)
    assert result.exit_code == 0, result.output
    for section in ("added", "removed", "changed"):
        assert f"{len(expected_diff[section])} {section}" in result.stdout


def test_diff_not_found(full_db: SimpleNamespace) -> None:
    error = jw_json("lists", "diff", "un_sc", db=full_db.db, code=6)
    assert "un_sc" in error["message"]
    error = jw_json("lists", "diff", "us_ofac_sdn", "--from", "1999-01-01", db=full_db.db, code=6)
    assert "1999-01-01" in error["message"]
    assert jw("lists", "diff", "un_sc", db=full_db.db).exit_code == 6


# --- bad input -------------------------------------------------------------------------------

def _truncated(folder: Path) -> Path:
    data = UN.read_bytes()
    return _write(folder / "truncated.xml", data[: len(data) // 2])


def _billion_laughs(folder: Path) -> Path:
    lols = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    return _write(folder / "laughs.xml", (
        '<?xml version="1.0"?>\n<!DOCTYPE CONSOLIDATED_LIST [<!ENTITY lol0 "lol">' + lols + "]>\n"
        "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><REFERENCE_NUMBER>QDi.1</REFERENCE_NUMBER>"
        "<FIRST_NAME>&lol9;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>\n").encode())


def _xxe(folder: Path) -> Path:
    return _write(folder / "xxe.xml", (
        b'<?xml version="1.0"?>\n<!DOCTYPE CONSOLIDATED_LIST [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
        b"<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><REFERENCE_NUMBER>QDi.1</REFERENCE_NUMBER>"
        b"<FIRST_NAME>&x;</FIRST_NAME><COMMENTS1>&x;</COMMENTS1></INDIVIDUAL></INDIVIDUALS>"
        b"</CONSOLIDATED_LIST>\n"))


def _latin1(folder: Path) -> Path:
    data = UN.read_text(encoding="utf-8").encode("latin-1", errors="replace")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    return _write(folder / "latin1.xml", data)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _ofac_lines(path: Path, count: int | None = None) -> list[bytes]:
    return path.read_bytes().split(b"\r\n")[:count]


def _ofac_wrong_width(folder: Path) -> Path:
    lines = _ofac_lines(OFAC_MARCH, 40)
    lines[16] += b',"one field too many"'
    return _write(folder / "ofac_sdn_2023-03-01.csv", b"\r\n".join(lines) + b"\r\n\x1a")


BAD_INPUTS = {  # name: (make the file, format, expected code, expected text in the message)
    "truncated": (_truncated, "un", 3, "line "),
    "billion-laughs": (_billion_laughs, "un", 3, "DOCTYPE"),
    "xxe": (_xxe, "un", 3, "DOCTYPE"),
    "latin1": (_latin1, "un", 3, "line "),
    "ofac-wrong-width": (_ofac_wrong_width, "ofac-sdn", 3, "line 17"),
    "missing": (lambda folder: folder / "missing.xml", "un", 3, "not found"),
    "empty": (lambda folder: _write(folder / "empty.xml", b""), "un", 3, "empty"),
    "unknown-format": (lambda folder: UN, "nope", 3, "unknown format 'nope'"),
}


@pytest.mark.parametrize("as_json", [False, True], ids=["table", "json"])
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_changes_nothing(case: str, as_json: bool, un_db: SimpleNamespace, tmp_path: Path) -> None:
    make, fmt, code, text = BAD_INPUTS[case]
    db = clone(un_db.db, tmp_path / "store.db")
    path = make(tmp_path)
    before, counts = jw_json("lists", "show", db=db), row_counts(db)
    result = jw("lists", "load", path, "--format", fmt, *(["--json"] if as_json else []), db=db)
    assert result.exit_code == code, result.output
    if as_json:
        error = json.loads(result.stdout)
        assert error["exit_code"] == code and error["error"] == "ListFormatError"
        message = error["message"]
    else:
        assert result.stdout == ""
        message = result.stderr
    assert str(path) in message
    assert text in message
    assert "root:" not in result.output
    assert jw_json("lists", "show", db=db) == before
    assert row_counts(db) == counts


def test_failed_load_mid_file_changes_nothing(full_db: SimpleNamespace, tmp_path: Path) -> None:
    """A row of the wrong width 6,000 records into the June file: tens of thousands of
    statements were already written in the transaction when it fails; none may remain."""
    db = clone(full_db.march, tmp_path / "store.db")
    lines = _ofac_lines(OFAC_JUNE)
    assert len(next(csv.reader([lines[5999].decode("utf-8")]))) == 12
    lines[5999] += b',"one field too many"'
    bad = _write(tmp_path / "ofac_sdn_2023-06-05.csv", b"\r\n".join(lines))
    before, counts = jw_json("lists", "show", db=db), row_counts(db)
    assert [v["source"] for v in before] == ["un_sc", "us_ofac_sdn"]
    result = jw("lists", "load", bad, "--format", "ofac-sdn", db=db)
    assert result.exit_code == 3, result.output
    assert str(bad) in result.stderr and "line 6000" in result.stderr
    assert row_counts(db) == counts
    assert jw_json("lists", "show", db=db) == before


@pytest.mark.parametrize("args", [["lists", "show"], ["entity", "show", "QDi.354"],
                                  ["lists", "diff", "un_sc"]])
def test_unreachable_store(args: list[str]) -> None:
    url = "postgresql://nobody@127.0.0.1:1/x"
    error = jw_json(*args, db=url, code=4)
    assert error["error"] == "StoreError" and "127.0.0.1" in error["message"]
    assert jw(*args, db=url).exit_code == 4


# --- lists update --from ---------------------------------------------------------------------

def test_update_from_folder(tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    (folder / "un_sc").mkdir(parents=True)
    (folder / "un_sc" / "consolidated.xml").symlink_to(UN)
    db = tmp_path / "store.db"
    args = ("lists", "update", "--from", folder, "--source", "un_sc")
    [outcome] = jw_json(*args, db=db)
    assert (outcome["source"], outcome["status"]) == ("un_sc", "loaded")
    assert outcome["result"]["created"] is True and outcome["result"]["entities"] == 1003
    [again] = jw_json(*args, db=db)
    assert (again["status"], again["result"]["created"]) == ("unchanged", False)
    assert again["result"]["version"] == outcome["result"]["version"]
    # the files may also sit directly in the folder
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "consolidated.xml").symlink_to(UN)
    [flat_outcome] = jw_json("lists", "update", "--from", flat, "--source", "un_sc", db=db)
    assert flat_outcome["status"] == "unchanged"
    versions = jw_json("lists", "show", db=db)
    assert [(v["source"], v["files"]) for v in versions] == [("un_sc", ["consolidated.xml"])]
    result = jw(*args, db=db)
    assert result.exit_code == 0 and "unchanged" in result.stdout


def test_update_unknown_source(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    result = jw("lists", "update", "--from", tmp_path, "--source", "nope", db=db)
    assert result.exit_code == 2
    assert "nope" in result.stderr and "un_sc" in result.stderr


def test_update_unknown_source_json(tmp_path: Path) -> None:
    error = jw_json("lists", "update", "--from", tmp_path, "--source", "nope", db=tmp_path / "s.db", code=2)
    assert error["exit_code"] == 2 and "nope" in error["message"]
