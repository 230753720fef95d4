"""The CLI acts as a member: `--member X` sees and records the freezes and customer base that
member X's API keys see and record, and the CLI's default member (the store's own ``local``)
sees none of them; both front ends run on the same store here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from jointwatch.cli import app
from tests.api.conftest import Member
from tests.conftest import FIXTURES

ENV = {"COLUMNS": "300", "JOINTWATCH_DB": None, "JOINTWATCH_MEMBER": None}
runner = CliRunner()
BASIS = {"holder": "Tarak Ben Taher Ben Faleh Ouni Harzi", "account": "DE89370400440532013000",
         "institution": "DEUTDEFF", "amount": "100.00", "currency": "EUR", "source": "un_sc",
         "reference": "QDi.354", "country": "DE", "reason": "payment held"}
CUSTOMERS = "id,name,type\nc1,Tarak Ben Taher Ben Faleh Ouni Harzi,person\nc2,Hans Peter Becker,person\n"


def jw(store: Engine, *args: object) -> Result:
    db = store.url.render_as_string(hide_password=False)
    return runner.invoke(app, [str(a) for a in args] + ["--db", db], env=ENV, catch_exceptions=False)


def cli_assets(store: Engine, *member: str) -> set[int]:
    listed = jw(store, "freeze", "list", "--json", *member)
    assert listed.exit_code == 0, listed.output
    return {a["id"] for a in json.loads(listed.stdout)}


def api_assets(client: TestClient, member: Member) -> set[int]:
    return {a["id"] for a in client.get("/freeze", headers=member.auth("analyst")).json()}


def test_freezes_are_the_members_in_both_front_ends(client: TestClient, un_store: Engine,
                                                    new_member: Callable[[], Member]) -> None:
    member, other = new_member(), new_member()
    # entered through the API: the CLI acting as the member lists it, its default member does not
    response = client.post("/freeze", json=BASIS, headers=member.auth("analyst"))
    assert response.status_code == 201, response.text
    by_api = response.json()["id"]
    assert by_api in cli_assets(un_store, "--member", member.name)
    assert by_api not in cli_assets(un_store)
    # entered through the CLI as the member: the member's keys list it and may release it
    options = [x for key, value in BASIS.items() for x in (f"--{key}", value)]
    added = jw(un_store, "freeze", "add", *options, "--member", member.name, "--json")
    assert added.exit_code == 0, added.output
    by_cli = json.loads(added.stdout)["id"]
    assert api_assets(client, member) == {by_api, by_cli} == cli_assets(un_store, "-m", str(member.id))
    assert by_cli not in api_assets(client, other) and by_cli not in cli_assets(un_store)
    # another member cannot release it from the CLI either
    assert jw(un_store, "freeze", "release", by_cli, "--reason", "x", "--member", other.name).exit_code == 6
    # a member that does not exist is refused, never made (a typo must not file a freeze)
    assert jw(un_store, "freeze", "list", "--member", "no-such-member").exit_code == 6


def test_customer_bases_are_the_members_in_both_front_ends(client: TestClient, un_store: Engine, tmp_path: Path,
                                                           new_member: Callable[[], Member]) -> None:
    member, other = new_member(), new_member()
    file = tmp_path / "customers.csv"
    file.write_text(CUSTOMERS, encoding="utf-8")
    # screened from the CLI as the member: its keys see the alerts, another member's do not
    screened = jw(un_store, "customers", "screen", file, "--member", member.name, "--max-list-age", "0", "--json")
    assert screened.exit_code == 0, screened.output
    alerted = {a["id"] for a in json.loads(screened.stdout)["new_alerts"]}
    assert alerted and {a["id"] for a in client.get("/customers/alerts", headers=member.auth("screener")).json()} \
        == alerted
    assert client.get("/customers/alerts", headers=other.auth("screener")).json() == []
    # screened through the API as the other member: the CLI acting as it re-screens that base
    response = client.post("/customers/screen", json={"content": CUSTOMERS}, headers=other.auth("screener"))
    assert response.status_code == 200, response.text
    again = jw(un_store, "customers", "rescreen", "--full", "--member", other.name, "--max-list-age", "0", "--json")
    assert again.exit_code == 0, again.output
    run = json.loads(again.stdout)
    assert (run["run"]["customers"], run["open_alerts"]) == (2, response.json()["open_alerts"])
    # a member with no base has nothing to re-screen, whatever the others hold
    fresh = new_member()
    assert jw(un_store, "customers", "rescreen", "--member", fresh.name, "--max-list-age", "0").exit_code == 6


def test_payment_screening_reads_as_the_member(un_store: Engine, new_member: Callable[[], Member]) -> None:
    # the member's false-positive decisions apply, as for its API keys; an unknown member is refused
    sample = FIXTURES / "payments" / "pacs008_sample.xml"
    member = new_member()
    assert jw(un_store, "payments", "screen", sample, "--member", member.name, "--max-list-age", "0").exit_code == 8
    assert jw(un_store, "payments", "screen", sample, "-m", "no-such-member", "--max-list-age", "0").exit_code == 6


def test_decisions_are_the_members_in_both_front_ends(client: TestClient, un_store: Engine,
                                                      new_member: Callable[[], Member]) -> None:
    member = new_member()
    subject = {"name": "Tarak Faleh Harzi", "birth_date": "1982"}  # a spelling no other test decides

    def api_refs() -> set[str]:
        answer = client.post("/match", json=subject, headers=member.auth("analyst")).json()
        return {m["reference"] for m in answer["matches"]}

    def cli_refs(*who: str) -> set[str]:
        screened = jw(un_store, "screen", subject["name"], "--birth-date", "1982", "--json", *who)
        assert screened.exit_code == 0, screened.output
        return {m["reference"] for m in json.loads(screened.stdout)["matches"]}

    assert "QDi.354" in api_refs() and "QDi.354" in cli_refs("--member", member.name)
    added = jw(un_store, "decisions", "add", subject["name"], "QDi.354", "--birth-date", "1982",
               "--reason", "other man", "--member", member.name, "--json")
    assert added.exit_code == 0, added.output
    decided = json.loads(added.stdout)["id"]
    # filed from the CLI as the member: its API keys see the decision and screen without the match
    assert [d["id"] for d in client.get("/decisions", headers=member.auth("analyst")).json()] == [decided]
    assert "QDi.354" not in api_refs() and "QDi.354" not in cli_refs("--member", member.name)
    assert "QDi.354" in cli_refs()  # the CLI's own member decided nothing
    # withdrawn through the API: the CLI acting as the member alerts again
    assert client.delete(f"/decisions/{decided}", headers=member.auth("analyst")).status_code == 200
    assert "QDi.354" in cli_refs("--member", member.name)
    listed = jw(un_store, "decisions", "list", "--member", member.name, "--json")
    assert json.loads(listed.stdout) == []
