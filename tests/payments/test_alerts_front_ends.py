"""The alerts queue through the service and the CLI: a held payment (POST /payments/screen,
`payments screen`) and a referred traveller (POST /travel/screen, `travel screen`) file
alerts for the member that screened them; GET /alerts, /alerts/counts, /alerts/{id},
POST …/assign and …/decide work them with the rights of decisions; another member's alert is
404; `jointwatch alerts list|show|assign|decide` is the same queue (real UN list; SQLite, and
PostgreSQL when given)."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jointwatch.store import list_decisions
from tests.api.conftest import Member
from tests.conftest import FIXTURES
from tests.payments.test_cli_member import jw

UETR = "0e1d5b0c-51b5-4b3e-9f8e-8d7f0c0b7a22"   # the sample's payment to QDi.354's listed name
TRAVELLERS = ("surname,given_names,birth_date,gender,nationality,document_number,document_type,issuing_country,expiry\n"
              "HARZI,TARAK BEN TAHER BEN FALEH OUNI,1982-05-03,male,TUN,X1234567,P,TUN,2030-01-01\n"
              "BECKER,HANS PETER,1970-01-01,male,DEU,C01X00T47,P,DEU,2030-01-01\n")


def test_held_payments_and_referred_travellers_are_worked_through_the_service(
        client: TestClient, new_member: Callable[[], Member]) -> None:
    member, other = new_member(), new_member()
    content = (FIXTURES / "payments" / "pacs008_sample.xml").read_text(encoding="utf-8")
    assert client.post("/payments/screen", json={"content": content}, headers=member.auth("screener")).json()["held"]
    travel = client.post("/travel/screen", json={"message": TRAVELLERS, "format": "csv"},
                         headers=member.auth("screener"))
    assert travel.status_code == 200, travel.text
    analyst = member.auth("analyst")

    page = client.get("/alerts", headers=analyst).json()
    assert page["next_before"] is None
    by_origin = {a["origin"]: a for a in page["alerts"] if a["reference"] == "QDi.354"}
    assert by_origin["payment"]["origin_ref"] == UETR
    assert by_origin["payment"]["subject"] == "Tarak Ben Taher Ben Faleh Ouni Harzi"
    assert by_origin["traveller"]["subject"] == "TARAK BEN TAHER BEN FALEH OUNI HARZI"
    assert by_origin["traveller"]["origin_ref"].endswith("#1")
    assert [a["origin"] for a in client.get("/alerts", params={"origin": "traveller"}, headers=analyst).json()[
        "alerts"]] == ["traveller"]
    counts = client.get("/alerts/counts", headers=analyst).json()
    assert counts["open"] == len(page["alerts"]) and counts["false_positive"] == 0

    alert_id = by_origin["payment"]["id"]
    # the rights of decisions: a screener may not, another member finds nothing
    assert client.get("/alerts", headers=member.auth("screener")).status_code == 403
    assert client.get(f"/alerts/{alert_id}", headers=other.auth("analyst")).status_code == 404
    assert client.post(f"/alerts/{alert_id}/decide", json={"verdict": "false_positive", "reason": "no"},
                       headers=other.auth("analyst")).status_code == 404
    assert client.get("/alerts", headers=other.auth("analyst")).json()["alerts"] == []

    taken = client.post(f"/alerts/{alert_id}/assign", json={"assignee": "me"}, headers=analyst)
    assert taken.status_code == 200 and taken.json()["assignee"] == "analyst-user"
    assert client.post(f"/alerts/{alert_id}/assign", json={"assignee": "someone-else"},
                       headers=analyst).status_code == 422
    assert client.post(f"/alerts/{alert_id}/decide", json={"verdict": "false_positive", "reason": ""},
                       headers=analyst).status_code == 422
    decided = client.post(f"/alerts/{alert_id}/decide", json={"verdict": "true_positive",
                                                               "reason": "the creditor is the listed man"},
                          headers=analyst)
    assert decided.status_code == 200, decided.text
    assert decided.json()["state"] == "true_positive"
    detail = client.get(f"/alerts/{alert_id}", headers=analyst).json()
    assert [e["action"] for e in detail["history"]] == ["opened", "assigned", "decided"]
    assert client.post(f"/alerts/{alert_id}/decide", json={"verdict": "false_positive", "reason": "again"},
                       headers=analyst).status_code == 409
    assert client.get("/alerts/counts", headers=analyst).json()["true_positive"] == 1
    # the decision is the member's, as POST /decisions would have filed it
    assert [d["reason"] for d in client.get("/decisions", headers=analyst).json()] == [
        "the creditor is the listed man"]


def test_the_cli_files_and_works_the_same_queue(un_store: Engine, new_member: Callable[[], Member]) -> None:
    member = new_member()
    screened = jw(un_store, "payments", "screen", FIXTURES / "payments" / "pacs008_sample.xml", "--member",
                  member.name)
    assert screened.exit_code == 8 and "alerts filed" in screened.output
    listed = jw(un_store, "alerts", "list", "--origin", "payment", "--json", "--member", member.name)
    assert listed.exit_code == 0, listed.output
    [alert] = [a for a in json.loads(listed.stdout) if a["reference"] == "QDi.354"]
    assert alert["origin_ref"] == UETR and alert["state"] == "open"
    assert jw(un_store, "alerts", "list", "--json").stdout.strip() == "[]"   # the local member has none
    assert jw(un_store, "alerts", "show", alert["id"]).exit_code == 6        # not the local member's
    taken = jw(un_store, "alerts", "assign", alert["id"], "--user", "ann", "--member", member.name)
    assert taken.exit_code == 0 and "ann has it" in taken.output
    decided = jw(un_store, "alerts", "decide", alert["id"], "false_positive", "--reason", "a namesake, born 1990",
                 "--user", "ann", "--member", member.name, "--json")
    assert decided.exit_code == 0, decided.output
    assert json.loads(decided.stdout)["state"] == "false_positive"
    [decision] = list_decisions(un_store, member.id)
    assert (decision.verdict, decision.reference, decision.user) == ("false_positive", "QDi.354", "ann")
    shown = jw(un_store, "alerts", "show", alert["id"], "--member", member.name)
    assert "decided: false_positive: a namesake, born 1990" in shown.output
    counts = jw(un_store, "alerts", "list", "--counts", "--json", "--member", member.name)
    assert json.loads(counts.stdout)["false_positive"] >= 1
