"""Keys and roles: 401 without a valid key, 403 for a role without the right, audited refusals."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jointwatch.store.audit import AuditEntry
from jointwatch.store.members import revoke_key
from tests.api.conftest import Member

SUBJECT = {"name": "John Smith"}


def _is_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["type"]
    assert "Traceback" not in response.text
    return body  # type: ignore[no-any-return]


def test_no_key_is_401(client: TestClient) -> None:
    response = client.post("/match", json=SUBJECT)
    body = _is_problem(response, 401)
    assert "API key" in body["detail"]
    assert response.headers["www-authenticate"] == "Bearer"


def test_bad_keys_are_401(client: TestClient, new_member: Callable[[], Member]) -> None:
    member = new_member()
    real = member.keys["screener"]
    forged_secret = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for key in ("nonsense", "jw_000000000000_" + "x" * 43, forged_secret, "Bearer"):
        _is_problem(client.post("/match", json=SUBJECT, headers={"Authorization": f"Bearer {key}"}), 401)
        _is_problem(client.post("/match", json=SUBJECT, headers={"X-API-Key": key}), 401)


def test_other_auth_schemes_are_401(client: TestClient, new_member: Callable[[], Member]) -> None:
    key = new_member().keys["admin"]
    _is_problem(client.get("/lists", headers={"Authorization": f"Basic {key}"}), 401)


def test_key_works_as_bearer_and_as_x_api_key(client: TestClient, new_member: Callable[[], Member]) -> None:
    key = new_member().keys["screener"]
    assert client.get("/lists", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.get("/lists", headers={"X-API-Key": key}).status_code == 200


def test_revoked_key_is_401_and_audited(client: TestClient, un_store: Engine, new_member: Callable[[], Member],
                                        audit_of: Callable[[int], list[AuditEntry]]) -> None:
    member = new_member()
    assert client.get("/lists", headers=member.auth("screener")).status_code == 200
    revoke_key(un_store, member.keys["screener"])
    body = _is_problem(client.get("/lists", headers=member.auth("screener")), 401)
    assert "revoked" in body["detail"]
    rows = audit_of(member.id)
    assert [(r.action, r.status) for r in rows] == [("lists.read", 200), ("lists.read", 401)]
    # the member's other keys are untouched
    assert client.get("/lists", headers=member.auth("analyst")).status_code == 200


def test_screener_may_not_decide_403_audited(client: TestClient, new_member: Callable[[], Member],
                                             audit_of: Callable[[int], list[AuditEntry]]) -> None:
    member = new_member()
    decision = {"subject": SUBJECT, "reference": "QDi.354", "verdict": "false_positive", "reason": "different person"}
    body = _is_problem(client.post("/decisions", json=decision, headers=member.auth("screener")), 403)
    assert "screener" in body["detail"]
    assert [(r.action, r.status, r.user) for r in audit_of(member.id)] == [
        ("decision.create", 403, "screener-user")]


def test_role_rights(client: TestClient, new_member: Callable[[], Member]) -> None:
    member = new_member()
    expected = {  # (method, path): {role: status}
        ("GET", "/lists"): {"screener": 200, "analyst": 200, "admin": 200},
        ("GET", "/entities/QDi.354"): {"screener": 200, "analyst": 200, "admin": 200},
        ("GET", "/decisions"): {"screener": 403, "analyst": 200, "admin": 200},
        ("GET", "/audit"): {"screener": 403, "analyst": 200, "admin": 200},
        ("GET", "/keys"): {"screener": 403, "analyst": 403, "admin": 200},
    }
    for (method, path), by_role in expected.items():
        for role, status in by_role.items():
            response = client.request(method, path, headers=member.auth(role))
            assert response.status_code == status, (method, path, role, response.text)


def test_admin_sees_only_own_keys_and_no_secrets(client: TestClient, new_member: Callable[[], Member]) -> None:
    a, b = new_member(), new_member()
    response = client.get("/keys", headers=a.auth("admin"))
    assert response.status_code == 200
    keys = response.json()
    assert sorted(k["role"] for k in keys) == ["admin", "analyst", "peer", "screener"]
    assert not any(secret in response.text for secret in (*a.keys.values(), *b.keys.values()))
    assert {k["prefix"] for k in keys} == {s.split("_")[1] for s in a.keys.values()}
