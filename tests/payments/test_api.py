"""POST /payments/screen and the freeze register on the service (real UN list; SQLite, and PostgreSQL
when given)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi.testclient import TestClient

from jointwatch.store.audit import AuditEntry
from tests.api.conftest import Member
from tests.conftest import FIXTURES


def test_payment_file_is_screened_and_audited(client: TestClient, new_member: Callable[[], Member]) -> None:
    member = new_member()
    content = (FIXTURES / "payments" / "pacs008_broken.xml").read_text(encoding="utf-8")
    response = client.post("/payments/screen", json={"content": content}, headers=member.auth("screener"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["messages"], body["held"], body["passed"], body["errors"]) == (2, 1, 1, 1)
    ok, bad, held = body["results"]
    assert ok["decision"] == "pass" and bad["position"] == 2 and "IBAN" in bad["field"]
    assert held["decision"] == "hold" and "QDi.354" in {h["reference"] for h in held["hits"]}


def test_hostile_or_unauthenticated_payment_files_are_refused(client: TestClient,
                                                              new_member: Callable[[], Member]) -> None:
    member = new_member()
    doctype = (FIXTURES / "payments" / "doctype.xml").read_text(encoding="utf-8")
    refused = client.post("/payments/screen", json={"content": doctype}, headers=member.auth("screener"))
    assert refused.status_code == 422 and refused.json()["type"].endswith(":invalid-message")
    assert refused.json()["detail"].startswith("body")   # never the service's temporary file name
    assert client.post("/payments/screen", json={"content": doctype}).status_code == 401


def _freeze(client: TestClient, member: Member, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "holder": "Tarak Ben Taher Ben Faleh Ouni Harzi", "account": "DE89370400440532013000",
        "institution": "DEUTDEFF", "amount": "12500.00", "currency": "EUR", "source": "un_sc", "reference": "QDi.354",
        "country": "DE", "reason": "payment E2E-DON-77 held", "regime": "ISIL (Da'esh) and Al-Qaida",
        "frozen_on": "2023-06-05"} | changes
    response = client.post("/freeze", json=body, headers=member.auth("analyst"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_freeze_register_through_the_service(client: TestClient, new_member: Callable[[], Member],
                                             audit_of: Callable[[int], list[AuditEntry]]) -> None:
    member, other = new_member(), new_member()
    asset = _freeze(client, member)
    assert (asset["status"], Decimal(str(asset["frozen_amount"])), asset["reference"]) == (
        "frozen", Decimal("12500"), "QDi.354")
    _freeze(client, member, account="GB29NWBK60161331926819", amount="800", currency="GBP", country="GB")
    # a partial release needs its licence; then the history adds up
    no_licence = client.post(f"/freeze/{asset['id']}/release", json={"reason": "basic expenses", "amount": "500"},
                             headers=member.auth("analyst"))
    assert no_licence.status_code == 422 and "licence" in no_licence.text
    assert no_licence.json()["type"].endswith(":invalid-input")   # a bad value, not a subject that cannot be screened
    part = client.post(f"/freeze/{asset['id']}/release", headers=member.auth("analyst"), json={
        "reason": "basic expenses (UNSCR 1452)", "amount": "500", "licence": "DE-BBK-2023-17"}).json()
    assert (part["status"], Decimal(part["frozen_amount"])) == ("partially_released", Decimal("12000"))
    assert [(e["status"], e["by_user"]) for e in part["history"]] == [
        ("frozen", "analyst-user"), ("partially_released", "analyst-user")]
    totals = client.get("/freeze/totals", params={"by": "country"}, headers=member.auth("analyst")).json()
    assert [(t["key"], t["currency"], Decimal(t["frozen"])) for t in totals] == [
        ("DE", "EUR", Decimal("12000")), ("GB", "GBP", Decimal("800"))]
    listed = client.get("/freeze", params={"status": "partially_released"}, headers=member.auth("analyst")).json()
    assert [a["id"] for a in listed] == [asset["id"]]
    # a full release; then nothing more to release
    done = client.post(f"/freeze/{asset['id']}/release", json={"reason": "delisted"}, headers=member.auth("analyst"))
    assert done.json()["status"] == "released" and Decimal(done.json()["frozen_amount"]) == 0
    again = client.post(f"/freeze/{asset['id']}/release", json={"reason": "again"}, headers=member.auth("analyst"))
    assert again.status_code == 409 and again.json()["type"].endswith(":conflict")
    # members see only their own register; screeners none of it; a listing must exist
    assert client.get("/freeze", headers=other.auth("analyst")).json() == []
    assert client.post(f"/freeze/{asset['id']}/release", json={"reason": "x"},
                       headers=other.auth("analyst")).status_code == 404
    assert client.get("/freeze", headers=member.auth("screener")).status_code == 403
    unknown = client.post("/freeze", headers=member.auth("analyst"), json={
        "holder": "X Y", "account": "1", "institution": "B", "amount": "1", "currency": "EUR", "source": "un_sc",
        "reference": "QDi.999999", "country": "DE", "reason": "r"})
    assert unknown.status_code == 404
    actions = [e.action for e in audit_of(member.id)]
    assert actions.count("freeze.create") == 3 and actions.count("freeze.release") == 4
    assert "freeze.read" in actions


def test_freeze_needs_a_listing_and_storable_text(client: TestClient, new_member: Callable[[], Member]) -> None:
    member = new_member()
    body = {"holder": "X Y", "account": "1", "institution": "B", "amount": "1", "currency": "EUR", "country": "DE",
            "reason": "r", "regime": "SDGT"}
    # a regime given does not stand in for the legal basis: the listing must be on the register
    for source, reference in (("no_such_list", "NOT-LISTED-1"), ("un_sc", "NOT-LISTED-1"), ("no_such_list", "QDi.354")):
        response = client.post("/freeze", headers=member.auth("analyst"),
                               json=body | {"source": source, "reference": reference})
        assert response.status_code == 404, response.text
    for field in ("source", "reference", "regime", "customer_ref"):
        sent = body | {"source": "un_sc", "reference": "QDi.354", "customer_ref": "c-1"}
        sent[field] = sent[field] + "\u0000x"
        response = client.post("/freeze", headers=member.auth("analyst"), json=sent)
        assert response.status_code == 422, (field, response.text)
    # codes of the right shape that no standard knows would be counted in the totals as if real
    for field, value in (("currency", "XXZ"), ("currency", "EU1"), ("country", "ZZ"), ("country", "QQ")):
        sent = body | {"source": "un_sc", "reference": "QDi.354", field: value}
        response = client.post("/freeze", headers=member.auth("analyst"), json=sent)
        assert response.status_code == 422, (field, value, response.text)
    assert client.get("/freeze", headers=member.auth("analyst")).json() == []


def test_customer_base_through_the_service(client: TestClient, new_member: Callable[[], Member],
                                           audit_of: Callable[[int], list[AuditEntry]]) -> None:
    member, other = new_member(), new_member()
    assert client.post("/customers/rescreen", headers=member.auth("screener")).status_code == 404  # never screened
    content = ("id,name,type,birth_date\n"
               "c1,Tarak Ben Taher Ben Faleh Ouni Harzi,person,\n"
               "c2,Hans Peter Becker,person,1971-02-14\n"
               "c3,,person,\n")
    first = client.post("/customers/screen", json={"content": content}, headers=member.auth("screener"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["run"]["kind"], body["run"]["customers"]) == ("full", 2)
    assert body["open_alerts"] == len(body["new_alerts"]) >= 1
    assert {a["customer_ref"] for a in body["new_alerts"]} == {"c1"}
    assert "QDi.354" in {a["reference"] for a in body["new_alerts"]}
    assert [e["line"] for e in body["errors"]] == [4]
    # no list changed: a delta run screens only the alerted customer again, and keeps the alert
    delta = client.post("/customers/rescreen", headers=member.auth("screener")).json()
    assert (delta["run"]["kind"], delta["run"]["screened"], delta["open_alerts"]) == ("delta", 1, body["open_alerts"])
    full = client.post("/customers/rescreen", params={"full": "true"}, headers=member.auth("screener")).json()
    assert (full["run"]["kind"], full["run"]["screened"], full["run"]["new_alerts"]) == ("full", 2, 0)
    alerts = client.get("/customers/alerts", headers=member.auth("screener")).json()
    assert {(a["customer_ref"], a["status"]) for a in alerts} == {("c1", "open")}
    assert client.get("/customers/alerts", headers=other.auth("screener")).json() == []
    # a file without its id column is refused, named as the sender knows it (never the service's temporary file),
    # and the base and its alerts are as they were
    refused = client.post("/customers/screen", json={"content": "name\nHans Peter Becker\n"},
                          headers=member.auth("screener"))
    assert refused.status_code == 422 and refused.json()["type"].endswith(":invalid-message")
    assert refused.json()["detail"].startswith("body, line 1: missing column(s) id"), refused.json()["detail"]
    assert {(a["customer_ref"], a["status"]) for a in client.get("/customers/alerts",
                                                                  headers=member.auth("screener")).json()} == {
        ("c1", "open")}
    actions = [e.action for e in audit_of(member.id)]
    assert {"customers.screen", "customers.rescreen", "customers.alerts"} <= set(actions)
