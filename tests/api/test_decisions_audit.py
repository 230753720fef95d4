"""Decisions and the audit trail: per member, written for every call, never changeable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jointwatch.store.audit import AuditEntry, digests_of
from tests.api.conftest import Member

HARZI = {"name": "TARAK BEN TAHER BEN FALEH OUNI HARZI", "birth_date": "1982-05-03"}


def test_member_isolation(client: TestClient, new_member: Callable[[], Member]) -> None:
    a, b = new_member(), new_member()
    decision = {"subject": HARZI, "reference": "QDi.354", "verdict": "true_positive", "reason": "passport seen"}
    created = client.post("/decisions", json=decision, headers=a.auth("analyst"))
    assert created.status_code == 201, created.text
    assert created.json()["whitelist_id"] is None
    assert [d["reference"] for d in client.get("/decisions", headers=a.auth("admin")).json()] == ["QDi.354"]
    assert client.get("/decisions", headers=b.auth("admin")).json() == []
    a_audit = client.get("/audit", headers=a.auth("analyst")).json()
    b_audit = client.get("/audit", headers=b.auth("admin")).json()
    assert "decision.create" in {r["action"] for r in a_audit}
    assert {r["action"] for r in b_audit} == {"decision.read"}  # this read is filed after it ran
    assert not {r["id"] for r in a_audit} & {r["id"] for r in b_audit}


def test_a_false_positive_stops_the_match_alerting(client: TestClient, new_member: Callable[[], Member]) -> None:
    member = new_member()
    subject = {"name": "Tarak Ouni Harzi", "birth_date": "1982"}  # a spelling no other test screens
    headers = member.auth("analyst")
    assert "QDi.354" in [m["reference"] for m in client.post("/match", json=subject, headers=headers).json()["matches"]]
    decision = {"subject": subject, "reference": "QDi.354", "verdict": "false_positive", "reason": "born in Lyon"}
    created = client.post("/decisions", json=decision, headers=headers)
    assert created.status_code == 201 and created.json()["whitelist_id"]
    answer = client.post("/match", json=subject, headers=headers).json()
    assert "QDi.354" not in [m["reference"] for m in answer["matches"]]
    again = client.post("/decisions", json=decision, headers=headers)
    assert again.status_code == 409 and again.json()["type"].endswith("conflict")


def test_a_decision_is_withdrawn_only_by_its_member(client: TestClient, new_member: Callable[[], Member]) -> None:
    owner, other = new_member(), new_member()
    subject = {"name": "Tarik Ouni al-Harzi", "birth_date": "1982"}  # a spelling no other test screens

    def refs() -> list[str]:
        answer = client.post("/match", json=subject, headers=owner.auth("analyst")).json()
        return [m["reference"] for m in answer["matches"]]

    decision = {"subject": subject, "reference": "QDi.354", "verdict": "false_positive", "reason": "other man"}
    created = client.post("/decisions", json=decision, headers=owner.auth("analyst")).json()
    assert "QDi.354" not in refs()
    path = f"/decisions/{created['id']}"
    assert client.delete(path, headers=other.auth("analyst")).status_code == 404  # not "forbidden": not there
    assert "QDi.354" not in refs()
    withdrawn = client.delete(path, headers=owner.auth("analyst"))
    assert withdrawn.status_code == 200 and withdrawn.json()["reference"] == "QDi.354"
    assert "QDi.354" in refs()
    assert client.delete(path, headers=owner.auth("analyst")).status_code == 404
    assert client.get("/decisions", headers=owner.auth("analyst")).json() == []


def test_a_members_false_positive_never_changes_another_members_results(
        client: TestClient, new_member: Callable[[], Member]) -> None:
    a, b = new_member(), new_member()
    subject = {"name": "Tarek Harzi Ouni", "birth_date": "1982"}  # a spelling no other test screens

    def refs(member: Member) -> list[str]:
        answer = client.post("/match", json=subject, headers=member.auth("analyst")).json()
        return [x["reference"] for x in answer["matches"]]

    assert "QDi.354" in refs(a) and "QDi.354" in refs(b)
    decision = {"subject": subject, "reference": "QDi.354", "verdict": "false_positive", "reason": "other man"}
    assert client.post("/decisions", json=decision, headers=a.auth("analyst")).status_code == 201
    assert "QDi.354" not in refs(a)
    assert "QDi.354" in refs(b)
    # b may file the same decision for itself: it is b's own
    assert client.post("/decisions", json=decision, headers=b.auth("analyst")).status_code == 201
    assert "QDi.354" not in refs(b)


def test_decision_on_unknown_listing_is_404(client: TestClient, new_member: Callable[[], Member]) -> None:
    decision = {"subject": HARZI, "reference": "QDi.99999", "verdict": "true_positive", "reason": "x"}
    assert client.post("/decisions", json=decision, headers=new_member().auth("analyst")).status_code == 404


def test_every_call_writes_one_audit_row(client: TestClient, un_store: Engine, new_member: Callable[[], Member],
                                         audit_of: Callable[[int], list[AuditEntry]]) -> None:
    member = new_member()
    analyst, screener = member.auth("analyst"), member.auth("screener")
    calls = [
        ("POST", "/match", HARZI, analyst, "match", 200),
        ("POST", "/match", {"name": ""}, analyst, "match", 422),
        ("POST", "/match", {"nom": "x"}, analyst, "match", 422),
        ("POST", "/screen", {"subjects": [HARZI]}, analyst, "screen", 200),
        ("GET", "/entities/QDi.354", None, analyst, "entity.read", 200),
        ("GET", "/entities/nope", None, analyst, "entity.read", 404),
        ("GET", "/lists", None, analyst, "lists.read", 200),
        ("GET", "/lists/un/diff", None, analyst, "lists.diff", 404),
        ("POST", "/decisions", {"subject": HARZI, "reference": "QDi.354", "verdict": "true_positive", "reason": "r"},
         screener, "decision.create", 403),
        ("GET", "/decisions", None, analyst, "decision.read", 200),
        ("GET", "/audit", None, screener, "audit.read", 403),
        ("GET", "/audit", None, analyst, "audit.read", 200),
    ]
    for method, path, body, headers, _, status in calls:
        assert client.request(method, path, json=body, headers=headers).status_code == status, path
    # health, metrics and the OpenAPI document read no data: no rows for them
    for path in ("/health", "/metrics", "/openapi.json"):
        client.get(path)
    rows = audit_of(member.id)
    assert [(r.action, r.status) for r in rows] == [(c[4], c[5]) for c in calls]
    match_row = rows[0]
    assert match_row.user == "analyst-user"
    assert match_row.list_versions and match_row.result_summary.startswith(("1 matches", "2 matches", "3 matches")) \
        or "QDi.354" in match_row.result_summary
    view = {"name": HARZI["name"], "schema": "Person", "birth_date": HARZI["birth_date"], "countries": [],
            "gender": None, "id_numbers": []}
    plain = hashlib.sha256(json.dumps(view, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode())
    # keyed (HMAC under the store's audit key): the digest of the subject as sent, but not its plain hash
    assert match_row.subject_digest in digests_of(un_store, view)
    assert match_row.subject_digest != plain.hexdigest()
    # the subject's name is never in the trail, only its digest
    assert not any("HARZI" in f"{r.subject_digest} {r.result_summary}".upper() for r in rows)


def test_no_route_changes_the_audit(app: FastAPI, client: TestClient, new_member: Callable[[], Member]) -> None:
    for route in app.routes:
        if isinstance(route, APIRoute) and "audit" in route.path:
            assert route.methods <= {"GET", "HEAD"}, route.path
    headers = new_member().auth("admin")
    client.get("/lists", headers=headers)
    before = client.get("/audit", headers=headers).json()
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert client.request(method, "/audit", headers=headers).status_code == 405
        assert client.request(method, f"/audit/{before[0]['id']}", headers=headers).status_code == 404
    after = client.get("/audit", headers=headers).json()
    assert after[:len(before)] == before
