"""Fail closed (issue 13, item 1): a tool that could not look never answers "clear".

A mistyped --db is an error and creates nothing; an empty store refuses to screen (exit 9)
in every screening command; lists older than --max-list-age are refused, or screened with
a warning when the operator chooses; a failed first load leaves no store behind; `lists
update --from DIR` recognises the real list files by their content.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jointwatch.api import create_app
from jointwatch.errors import ScreeningUnavailableError, StoreError
from jointwatch.screening import ListPolicy, OnStale, check_lists
from jointwatch.store import latest_versions, open_engine
from tests.cli.test_cli import DATA, UN, jw
from tests.conftest import DATA as SHARED

PAXLST = SHARED / "travel" / "paxlst" / "parsers_apisMessage.txt"
PACS008 = Path(__file__).resolve().parents[1] / "fixtures" / "payments" / "pacs008_sample.xml"
HARZI = "Tarak Ben Taher Ouni Harzi"
SCREENINGS = [
    ("screen", HARZI),
    ("travel", "screen", PAXLST),
    ("payments", "screen", PACS008),
]


@pytest.fixture(scope="module")
def un_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("fresh") / "un.db"
    assert jw("lists", "load", UN, "--format", "un", db=db).exit_code == 0
    return db


@pytest.mark.parametrize("args", SCREENINGS, ids=lambda a: " ".join(map(str, a[:2])))
def test_a_mistyped_store_is_an_error_and_creates_nothing(tmp_path: Path, args: tuple[object, ...]) -> None:
    missing = tmp_path / "missing.db"
    result = jw(*args, db=missing)
    assert result.exit_code == 4, result.output
    assert "no store at" in result.output
    assert not missing.exists()


@pytest.mark.parametrize("args", SCREENINGS, ids=lambda a: " ".join(map(str, a[:2])))
def test_an_empty_store_refuses_to_screen(tmp_path: Path, args: tuple[object, ...]) -> None:
    db = tmp_path / "empty.db"
    assert jw("init", db=db).exit_code == 0
    result = jw(*args, db=db)
    assert result.exit_code == 9, result.output
    assert "no list is loaded" in result.output
    assert "No listed entity" not in result.output and "clear" not in result.stdout.lower()


def test_an_empty_store_refuses_in_json_too(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    jw("init", db=db)
    result = jw("screen", HARZI, "--json", db=db)
    assert result.exit_code == 9
    answer = json.loads(result.stdout)
    assert answer["error"] == "ScreeningUnavailableError" and answer["exit_code"] == 9


def test_customers_refuse_on_an_empty_store(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    jw("init", db=db)
    people = tmp_path / "customers.csv"
    people.write_text("id,name\nC1,Tarak Ben Taher Ouni Harzi\n", encoding="utf-8")
    assert jw("customers", "screen", people, db=db).exit_code == 9


def test_read_only_commands_create_no_store(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    for args in (("lists", "show"), ("entity", "show", "QDi.354"), ("decisions", "list"), ("members", "list")):
        assert jw(*args, db=missing).exit_code == 4, args
    assert not missing.exists()


def test_a_failed_first_load_leaves_no_store(tmp_path: Path) -> None:
    bad = tmp_path / "broken.xml"
    bad.write_text("<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL>", encoding="utf-8")
    db = tmp_path / "new.db"
    result = jw("lists", "load", bad, "--format", "un", db=db)
    assert result.exit_code == 3
    assert not db.exists()


def test_old_lists_are_refused_or_warned_about(un_store: Path) -> None:
    # a hundredth of a second: the list loaded by the fixture is older than that by now
    refused = jw("screen", HARZI, "--max-list-age", "0.0000001", db=un_store)
    assert refused.exit_code == 9
    assert "un_sc" in refused.output and "--max-list-age" in refused.output
    warned = jw("screen", HARZI, "--max-list-age", "0.0000001", "--stale-lists", "warn", db=un_store)
    assert warned.exit_code == 0
    assert "QDi.354" in warned.stdout and "warning:" in warned.stderr
    by_env = jw("screen", HARZI, db=un_store, env={"JOINTWATCH_MAX_LIST_AGE": "0.0000001"})
    assert by_env.exit_code == 9
    fresh = jw("screen", HARZI, db=un_store)
    assert fresh.exit_code == 0 and "QDi.354" in fresh.stdout


def test_list_age_counts_from_the_last_confirmation(un_store: Path) -> None:
    engine = open_engine(str(un_store))
    info = latest_versions(engine)["un_sc"]
    now = datetime.now(UTC)
    assert check_lists({"un_sc": info}, ListPolicy(7), now) == []
    with pytest.raises(ScreeningUnavailableError, match="older than the allowed 7 days"):
        check_lists({"un_sc": info}, ListPolicy(7), now + timedelta(days=8))
    assert check_lists({"un_sc": info}, ListPolicy(7, OnStale.warn), now + timedelta(days=8))
    assert check_lists({"un_sc": info}, ListPolicy(0), now + timedelta(days=800)) == []
    with pytest.raises(ScreeningUnavailableError, match="no list is loaded"):
        check_lists({}, ListPolicy(0, OnStale.warn))


def test_loading_an_unchanged_file_confirms_the_list(tmp_path: Path, un_store: Path) -> None:
    before = latest_versions(open_engine(str(un_store)))["un_sc"]
    assert jw("lists", "load", UN, "--format", "un", db=un_store).exit_code == 0
    after = latest_versions(open_engine(str(un_store)))["un_sc"]
    assert after.version == before.version
    assert after.checked_at is not None and after.checked_at > (before.checked_at or before.loaded_at)


def test_library_refuses_to_open_a_missing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no store at"):
        open_engine(str(tmp_path / "nope.db"))
    not_a_store = tmp_path / "other.db"
    not_a_store.write_bytes(b"")
    with pytest.raises(StoreError, match="holds no jointwatch store"):
        open_engine(str(not_a_store))


def test_the_service_answers_503_with_no_lists(tmp_path: Path) -> None:
    engine = open_engine(str(tmp_path / "api.db"), create=True)
    from jointwatch.store.members import add_member, create_key

    add_member(engine, "Border Police NL", "NL")
    _, secret = create_key(engine, "Border Police NL", "alice", "screener")
    with TestClient(create_app(engine)) as client:
        response = client.post("/match", json={"name": HARZI}, headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("screening-unavailable")
    assert "Retry-After" in response.headers


def test_update_from_a_folder_recognises_lists_by_content(tmp_path: Path) -> None:
    db = tmp_path / "update.db"
    result = jw("lists", "update", "--from", DATA, "--json", db=db)
    assert result.exit_code == 0, result.output
    outcomes = {o.get("source"): o for o in json.loads(result.stdout)}
    assert outcomes["un_sc"]["status"] == "loaded"
    assert outcomes["us_ofac_sdn"]["status"] == "loaded"
    # the newest of the three SDN files in the folder, by the date in its name
    assert outcomes["us_ofac_sdn"]["result"]["published"] == "2023-06-05"
    assert outcomes["us_ofac_cons"]["status"] == "loaded"
    assert outcomes["uk_sanctions"]["status"] == "not_in_folder"
    shown = jw("entity", "show", "QDi.354", db=db)
    assert shown.exit_code == 0 and "HARZI" in shown.stdout


def test_the_service_refuses_or_warns_about_old_lists(un_store: Path) -> None:
    from jointwatch.api import ServiceSettings
    from jointwatch.store.members import add_member, create_key

    engine = open_engine(str(un_store))
    add_member(engine, "Airline X", "NL")
    _, secret = create_key(engine, "Airline X", "bob", "screener")
    auth = {"Authorization": f"Bearer {secret}"}
    old = ListPolicy(0.0000001)
    with TestClient(create_app(engine, ServiceSettings(list_policy=old))) as client:
        refused = client.post("/match", json={"name": HARZI}, headers=auth)
    assert refused.status_code == 503 and "un_sc" in refused.json()["detail"]
    warn = ListPolicy(0.0000001, OnStale.warn)
    with TestClient(create_app(engine, ServiceSettings(list_policy=warn))) as client:
        warned = client.post("/match", json={"name": HARZI}, headers=auth)
    assert warned.status_code == 200
    assert "QDi.354" in warned.text
    assert warned.headers["Warning"].startswith('199 jointwatch "lists older than the allowed')


@pytest.mark.parametrize("age", ["inf", "1e400", "1e12"])
def test_a_list_age_too_large_to_count_is_a_bad_command_line(un_store: Path, age: str) -> None:
    # review of issue 13: `--max-list-age inf` (or 1e12) crashed with an OverflowError traceback (exit 1)
    result = jw("screen", HARZI, "--max-list-age", age, db=un_store)
    assert result.exit_code == 2, result.output
    assert "--max-list-age" in result.output


def test_any_policy_the_library_accepts_is_checked_without_overflow(un_store: Path) -> None:
    info = latest_versions(open_engine(str(un_store)))["un_sc"]
    now = datetime.now(UTC)
    assert check_lists({"un_sc": info}, ListPolicy(1e12), now) == []
    with pytest.raises(ScreeningUnavailableError, match="older than the allowed"):
        check_lists({"un_sc": info}, ListPolicy(1e-9), now + timedelta(days=1))
    # NaN compares false with everything: such a policy would never refuse, so it cannot be made
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match="max_age_days"):
            ListPolicy(bad)


def test_no_match_names_the_lists_it_looked_in(un_store: Path) -> None:
    result = jw("screen", "Wilhelmina Zuiderduin", db=un_store)
    assert result.exit_code == 0
    assert "No listed entity matches" in result.stdout and "un_sc 2026-02-27" in result.stdout
    answer = json.loads(jw("screen", "Wilhelmina Zuiderduin", "--json", db=un_store).stdout)
    assert answer["matches"] == [] and answer["lists"].startswith("un_sc 2026-02-27")


def test_a_job_is_refused_when_nothing_can_be_screened(tmp_path: Path) -> None:
    from jointwatch.store.members import add_member, create_key

    engine = open_engine(str(tmp_path / "jobs.db"), create=True)
    add_member(engine, "FIU X", "NL")
    _, secret = create_key(engine, "FIU X", "carol", "screener")
    with TestClient(create_app(engine)) as client:
        response = client.post("/jobs", json={"subjects": [{"name": HARZI}]},
                               headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 503, response.text
    assert response.json()["type"].endswith("screening-unavailable")


def test_reading_commands_make_no_member(tmp_path: Path) -> None:
    # the CLI's own member is made when the CLI first records something, never by a read
    db = tmp_path / "new.db"
    assert jw("init", db=db).exit_code == 0
    for args in (("decisions", "list"), ("freeze", "list"), ("freeze", "list", "--by", "source"),
                 ("media", "list")):
        result = jw(*args, "--json", db=db)
        assert result.exit_code == 0, (args, result.output)
    assert jw("screen", "Tarak Harzi", db=db).exit_code == 9
    assert json.loads(jw("members", "list", "--json", db=db).stdout) == []
