"""Partner entries through the service: /shared/entries and /shared/groups, and every screening
route (/match, /screen, jobs, travel, payments) seeing exactly the entries released to the
caller's member, on the real UN list (SQLite, and PostgreSQL when JOINTWATCH_TEST_PG_URL is set).
The CLI's `jointwatch screen --member` sees the same partner hits."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from jointwatch.cli import app as cli_app
from jointwatch.releasability import Labels
from jointwatch.sharing import EntryInput, share_entry, withdraw_entry
from jointwatch.store import get_member
from tests.api.conftest import Member, make_member
from tests.conftest import FIXTURES

BIRTH = "1971-03-04"
MISSING = "sh-00000000000000000000"


def subject_name() -> str:
    """A name no list holds and no other test shares (each test its own)."""
    letters = "".join(chr(ord("a") + int(c, 16) % 26) for c in uuid.uuid4().hex[:8])
    return f"Abu Qatada {letters.capitalize()} Testfield"


def share(client: TestClient, originator: Member, name: str, distribution: str = "members",
          audience: list[str] | None = None, handling: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    body = {"schema": "Person", "properties": {"name": [name], "birthDate": [BIRTH], "nationality": ["jo"]},
            "distribution": distribution, "audience": audience or [], "tlp": "TLP:AMBER",
            "handling": handling or ["consent-before-action"], "reason": "Europol SIENA 2026/114", **extra}
    response = client.post("/shared/entries", json=body, headers=originator.auth("analyst"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def partner_hits(client: TestClient, member: Member, name: str) -> list[dict[str, Any]]:
    response = client.post("/match", json={"name": name, "birth_date": BIRTH}, headers=member.auth("screener"))
    assert response.status_code == 200, response.text
    return [m for m in response.json()["matches"] if m["source"] == "shared"]


def test_a_partner_entry_hits_for_its_audience_only_and_stops_when_withdrawn(
        client: TestClient, new_member: Callable[[], Member]) -> None:
    a, b, c = new_member(), new_member(), new_member()
    name = subject_name()
    entry = share(client, a, name, audience=[b.name])
    ref = entry["ref"]
    assert ref.startswith("sh-") and entry["originator"] == a.name and entry["mine"] is True
    assert entry["audience"] == [b.name] and entry["tlp"] == "amber" and entry["status"] == "active"

    [hit] = partner_hits(client, b, name)
    assert hit["reference"] == ref and hit["score"] > 0.9
    assert hit["shared"] == {"originator": a.name, "tlp": "amber", "handling": ["consent-before-action"],
                             "version": 1}
    assert partner_hits(client, c, name) == []
    assert [h["reference"] for h in partner_hits(client, a, name)] == [ref]   # its originator screens it too

    screened = client.post("/screen", json={"subjects": [{"name": name, "birth_date": BIRTH, "id": "s1"}]},
                           headers=b.auth("screener"))
    assert screened.status_code == 200, screened.text
    [shared] = [m for m in screened.json()["results"][0]["matches"] if m["source"] == "shared"]
    assert shared["reference"] == ref and shared["shared"]["originator"] == a.name
    other = client.post("/screen", json={"subjects": [{"name": name, "birth_date": BIRTH}]},
                        headers=c.auth("screener"))
    assert all(m["source"] != "shared" for m in other.json()["results"][0]["matches"])

    given, surname = name.rsplit(" ", 1)
    travel = client.post("/travel/screen", json={
        "message": f"surname,given_names,birth_date,nationality\n{surname},{given},{BIRTH},JOR\n", "format": "csv"},
        headers=b.auth("screener"))
    assert travel.status_code == 200, travel.text
    traveller = travel.json()["manifests"][0]["travellers"][0]
    [travel_hit] = [m for m in traveller["matches"] if m["source"] == "shared"]
    assert travel_hit["shared"]["handling"] == ["consent-before-action"]
    assert any(f"partner entry of {a.name}" in r["detail"] and "consent-before-action" in r["detail"]
               for r in traveller["reasons"])
    travel_c = client.post("/travel/screen", json={
        "message": f"surname,given_names,birth_date,nationality\n{surname},{given},{BIRTH},JOR\n", "format": "csv"},
        headers=c.auth("screener")).json()
    assert all(m["source"] != "shared" for m in travel_c["manifests"][0]["travellers"][0]["matches"])

    payment = (FIXTURES / "payments" / "pacs008_sample.xml").read_text(encoding="utf-8").replace(
        "Hans Peter Becker", name, 1)
    paid = client.post("/payments/screen", json={"content": payment}, headers=b.auth("screener"))
    assert paid.status_code == 200, paid.text
    hits = [h for r in paid.json()["results"] for h in r.get("hits", []) if h["source"] == "shared"]
    assert hits and hits[0]["reference"] == ref and hits[0]["shared"]["originator"] == a.name
    assert "consent-before-action" in hits[0]["reason"]
    paid_c = client.post("/payments/screen", json={"content": payment}, headers=c.auth("screener")).json()
    assert not [h for r in paid_c["results"] for h in r.get("hits", []) if h["source"] == "shared"]

    withdrawn = client.post(f"/shared/entries/{ref}/withdraw", json={"reason": "identity cleared"},
                            headers=a.auth("analyst"))
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["status"] == "withdrawn" and withdrawn.json()["version"] == 2
    assert partner_hits(client, b, name) == []
    assert client.get(f"/shared/entries/{ref}", headers=b.auth("analyst")).json()["status"] == "withdrawn"


def test_a_batch_job_sees_the_partner_entries_of_its_member(client: TestClient,
                                                            new_member: Callable[[], Member]) -> None:
    a, b, c = new_member(), new_member(), new_member()
    name = subject_name()
    ref = share(client, a, name, audience=[b.name])["ref"]

    def job_matches(member: Member) -> list[dict[str, Any]]:
        headers = member.auth("screener")
        accepted = client.post("/screen?async=true", json={"subjects": [{"name": name, "birth_date": BIRTH}]},
                               headers=headers)
        assert accepted.status_code == 202, accepted.text
        job = accepted.json()["job"]
        deadline = time.monotonic() + 60
        while client.get(f"/jobs/{job}", headers=headers).json()["status"] != "done":
            assert time.monotonic() < deadline, "the job did not finish"
            time.sleep(0.05)
        [result] = [json.loads(line) for line in client.get(f"/jobs/{job}/results", headers=headers).text.splitlines()]
        return [m for m in result["matches"] if m["source"] == "shared"]

    [hit] = job_matches(b)
    assert hit["reference"] == ref and hit["shared"] == {"originator": a.name, "tlp": "amber",
                                                         "handling": ["consent-before-action"], "version": 1}
    assert job_matches(c) == []


def _same_problem(unseen: Any, missing: Any, ref: str) -> None:
    """An entry the caller may not see is answered as one that does not exist: status, body and message."""
    assert unseen.status_code == missing.status_code == 404
    assert unseen.headers["content-type"] == missing.headers["content-type"]
    first, second = unseen.json(), missing.json()
    assert set(first) == set(second)
    assert first["detail"].replace(ref, "REF") == second["detail"].replace(MISSING, "REF")
    assert {k: v for k, v in first.items() if k != "detail"} == {k: v for k, v in second.items() if k != "detail"}


def test_an_unseen_entry_is_answered_as_a_missing_one_and_only_its_originator_changes_it(
        client: TestClient, new_member: Callable[[], Member]) -> None:
    a, b, c = new_member(), new_member(), new_member()
    name = subject_name()
    ref = share(client, a, name, audience=[b.name])["ref"]
    edit = {"note": "new alias", "properties": {"name": [name, "Abu Testfield"]}}
    for method, path, body in (("GET", "/shared/entries/{}", None), ("POST", "/shared/entries/{}/edit", edit),
                               ("POST", "/shared/entries/{}/withdraw", {"reason": "x"}),
                               ("GET", "/shared/entries/{}/trail", None)):
        unseen = client.request(method, path.format(ref), json=body, headers=c.auth("analyst"))
        missing = client.request(method, path.format(MISSING), json=body, headers=c.auth("analyst"))
        _same_problem(unseen, missing, ref)
        if method == "POST" or path.endswith("trail"):
            refused = client.request(method, path.format(ref), json=body, headers=b.auth("analyst"))
            assert refused.status_code == 403, refused.text

    seen = client.get(f"/shared/entries/{ref}", headers=b.auth("analyst")).json()
    assert seen["originator"] == a.name and seen["mine"] is False and seen["handling"] == ["consent-before-action"]
    assert seen["audience"] is None and seen["history"] is None and seen["trail"] is None   # the originator's only
    assert b.name not in json.dumps(seen)

    partner_hits(client, b, name)
    own = client.get(f"/shared/entries/{ref}", headers=a.auth("analyst")).json()
    assert [v["change"] for v in own["history"]] == ["shared"] and own["audience"] == [b.name]
    trail = client.get(f"/shared/entries/{ref}/trail", headers=a.auth("analyst"))
    assert trail.status_code == 200, trail.text
    actions = {(e["action"], e["member"]) for e in trail.json()["trail"]}
    assert {("shared", a.name), ("viewed", b.name), ("matched", b.name)} <= actions
    assert not {e for e in actions if e[1] == c.name}

    stale = client.post(f"/shared/entries/{ref}/edit", json={**edit, "expected_version": 7},
                        headers=a.auth("analyst"))
    assert stale.status_code == 409, stale.text
    edited = client.post(f"/shared/entries/{ref}/edit", json={**edit, "expected_version": 1, "handling": ["info-only"]},
                         headers=a.auth("analyst"))
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.json()["handling"] == ["info-only"]
    assert edited.json()["audience"] == [b.name]          # labels not sent are kept
    [hit] = partner_hits(client, b, "Abu Testfield")
    assert hit["shared"]["version"] == 2 and hit["shared"]["handling"] == ["info-only"]

    # the audit row says what was done, never the names the entry holds
    assert client.get("/audit", headers=a.auth("admin")).status_code == 200
    rows = client.get("/audit", headers=a.auth("admin")).json()
    text = json.dumps(rows)
    assert ref in text and name not in text and "Testfield" not in text


def test_the_entry_list_shows_what_the_member_may_see(client: TestClient,
                                                      new_member: Callable[[], Member]) -> None:
    a, b, c = new_member(), new_member(), new_member()
    first = share(client, a, subject_name(), audience=[b.name])["ref"]
    second = share(client, a, subject_name(), distribution="originator", audience=[])["ref"]
    client.post(f"/shared/entries/{first}/withdraw", json={"reason": "done"}, headers=a.auth("analyst"))

    def refs(member: Member, query: str = "") -> list[str]:
        response = client.get(f"/shared/entries{query}", headers=member.auth("analyst"))
        assert response.status_code == 200, response.text
        return [e["ref"] for e in response.json()["entries"] if e["ref"] in (first, second)]

    assert refs(a, "?mine=true") == [first, second]     # the latest change first: the withdrawal
    assert refs(b) == [first]
    assert refs(b, "?status=withdrawn") == [first] and refs(b, "?status=active") == []
    assert refs(c) == []
    page = client.get("/shared/entries?mine=true&limit=1&offset=1", headers=a.auth("analyst")).json()
    assert page["total"] == 2 and page["limit"] == 1 and len(page["entries"]) == 1
    assert client.get("/shared/entries", headers=a.auth("screener")).status_code == 403   # no right to share


def test_sharing_groups_and_an_entry_shared_to_one(client: TestClient, new_member: Callable[[], Member]) -> None:
    a, b, c = new_member(), new_member(), new_member()
    group = f"border police {uuid.uuid4().hex[:6]}"
    assert client.post("/shared/groups", json={"name": group}, headers=a.auth("analyst")).status_code == 403
    made = client.post("/shared/groups", json={"name": group}, headers=a.auth("admin"))
    assert made.status_code == 201, made.text
    assert made.json() == {"name": group, "owner": a.name, "members": [a.name]}
    added = client.post(f"/shared/groups/{group}/members", json={"member": b.name}, headers=a.auth("admin"))
    assert added.status_code == 200 and set(added.json()["members"]) == {a.name, b.name}
    refused = client.post(f"/shared/groups/{group}/members", json={"member": c.name}, headers=b.auth("admin"))
    assert refused.status_code == 403
    assert [g["name"] for g in client.get("/shared/groups", headers=b.auth("admin")).json()] == [group]
    assert client.get("/shared/groups", headers=c.auth("admin")).json() == []

    unknown = client.post("/shared/entries", json={
        "schema": "Person", "properties": {"name": ["Someone Testfield"]}, "distribution": "group",
        "audience": ["no such group"], "reason": "r"}, headers=a.auth("analyst"))
    assert unknown.status_code == 422 and "no such group" in unknown.json()["detail"]
    nobody = client.post("/shared/entries", json={
        "schema": "Person", "properties": {"name": ["Someone Testfield"]}, "distribution": "members",
        "audience": ["no-such-member"], "reason": "r"}, headers=a.auth("analyst"))
    assert nobody.status_code == 422

    name = subject_name()
    ref = share(client, a, name, distribution="group", audience=[group])["ref"]
    assert [h["reference"] for h in partner_hits(client, b, name)] == [ref]
    assert partner_hits(client, c, name) == []
    client.post(f"/shared/groups/{group}/members", json={"member": b.name, "action": "remove"},
                headers=a.auth("admin"))
    assert partner_hits(client, b, name) == []           # out of the group: nothing from its next request on


def test_the_openapi_document_describes_partner_hits_and_the_shared_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "shared" in schemas["Match"]["properties"]
    assert set(schemas["SharedLabel"]["properties"]) == {"originator", "tlp", "handling", "version"}
    assert "shared" in schemas["Hit"]["properties"]          # a payment's hits, in /payments/screen
    assert "PaymentDecision" in json.dumps(schemas["PaymentScreenResponse"])
    for path in ("/shared/entries", "/shared/entries/{ref}", "/shared/entries/{ref}/edit",
                 "/shared/entries/{ref}/withdraw", "/shared/entries/{ref}/trail", "/shared/groups",
                 "/shared/groups/{name}/members"):
        assert path in document["paths"], path


def test_the_cli_screens_as_its_member_with_partner_hits(store_of: Callable[[str], Engine]) -> None:
    engine = store_of("sqlite")
    a, b, c = (get_member(engine, make_member(engine).name) for _ in range(3))
    name = subject_name()
    entry = share_entry(engine, a.id, "officer", EntryInput("Person", {"name": [name], "birthDate": [BIRTH]}),
                        Labels("members", (b.id,), "amber", ("consent-before-action",), "Europol SIENA 2026/114"))
    runner = CliRunner()
    db = str(engine.url.database)
    env = {"COLUMNS": "400", "JOINTWATCH_MEMBER": None}

    def screen(member: str, *more: str) -> Any:
        return runner.invoke(cli_app, ["screen", name, "--birth-date", BIRTH, "--member", member, "--db", db, *more],
                             env=env, catch_exceptions=False)

    out = json.loads(screen(b.name, "--json").stdout)
    [hit] = [m for m in out["matches"] if m["source"] == "shared"]
    assert hit["reference"] == entry.ref and hit["shared"]["originator"] == a.name
    assert hit["shared"]["handling"] == ["consent-before-action"]
    table = screen(b.name).stdout
    assert entry.ref in table and f"by {a.name}" in table and "consent-before-action" in table
    assert entry.ref not in screen(c.name).stdout
    assert not [m for m in json.loads(screen(c.name, "--json").stdout)["matches"] if m["source"] == "shared"]

    withdraw_entry(engine, entry.ref, a.id, "officer", "cleared")
    assert entry.ref not in screen(b.name).stdout
