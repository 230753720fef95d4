"""POST /payments/screen on the service (real UN list; SQLite, and PostgreSQL when given)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

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
    assert held["decision"] == "hold" and "QDi.354" in {h["ref"] for h in held["hits"]}


def test_hostile_or_unauthenticated_payment_files_are_refused(client: TestClient,
                                                              new_member: Callable[[], Member]) -> None:
    member = new_member()
    doctype = (FIXTURES / "payments" / "doctype.xml").read_text(encoding="utf-8")
    refused = client.post("/payments/screen", json={"content": doctype}, headers=member.auth("screener"))
    assert refused.status_code == 422
    assert client.post("/payments/screen", json={"content": doctype}).status_code == 401
