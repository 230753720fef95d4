"""Member isolation as a property (issue 13): whatever members do, each sees its own freezes,
jobs and decisions and nothing of the others', on every route that reads or changes them.

Hypothesis plays random sequences of members freezing assets, submitting jobs and recording
decisions through the real service; then every member reads and probes every resource. Another
member's resource answers as one that does not exist (404), so ids confirm nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Member

FREEZE = {"holder": "Tarak Ben Taher Ben Faleh Ouni Harzi", "account": "DE89370400440532013000",
          "institution": "DEUTDEFF", "amount": "100.00", "currency": "EUR", "source": "un_sc", "reference": "QDi.354",
          "country": "DE", "reason": "payment held", "regime": "ISIL (Da'esh) and Al-Qaida",
          "frozen_on": "2023-06-05"}
STEPS = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["freeze", "job", "decision"])),
                 min_size=1, max_size=6)


def _act(client: TestClient, member: Member, action: str) -> str:
    if action == "freeze":
        response = client.post("/freeze", json=FREEZE, headers=member.auth("analyst"))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])
    if action == "job":
        response = client.post("/jobs", json={"subjects": [{"name": "Tarak Ben Taher Ouni Harzi"}]},
                               headers=member.auth("screener"))
        assert response.status_code == 202, response.text
        return str(response.json()["job"])
    subject = {"name": f"Wilhelmina {uuid.uuid4().hex[:6]} Zuiderduin"}
    response = client.post("/decisions", json={"subject": subject, "reference": "QDi.354", "verdict": "false_positive",
                                               "reason": "a different person"}, headers=member.auth("analyst"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=STEPS)
def test_members_see_and_touch_only_their_own(client: TestClient, new_member: Callable[[], Member],
                                              steps: list[tuple[int, str]]) -> None:
    members = [new_member() for _ in range(3)]
    owned: list[dict[str, set[str]]] = [{"freeze": set(), "job": set(), "decision": set()} for _ in members]
    for who, action in steps:
        owned[who][action].add(_act(client, members[who], action))
    for i, member in enumerate(members):
        analyst, screener = member.auth("analyst"), member.auth("screener")
        assert {str(a["id"]) for a in client.get("/freeze", headers=analyst).json()} == owned[i]["freeze"]
        assert {str(d["id"]) for d in client.get("/decisions", headers=analyst).json()} == owned[i]["decision"]
        for j, other in enumerate(owned):
            mine = i == j
            for job in other["job"]:
                assert client.get(f"/jobs/{job}", headers=screener).status_code == (200 if mine else 404)
                assert client.get(f"/jobs/{job}/results", headers=screener).status_code in (
                    (200, 409) if mine else (404,))
            if mine:
                continue
            for asset in other["freeze"]:
                released = client.post(f"/freeze/{asset}/release", json={"reason": "probe"}, headers=analyst)
                assert released.status_code == 404, released.text
            for decision in other["decision"]:
                withdrawn = client.delete(f"/decisions/{decision}", headers=analyst)
                assert withdrawn.status_code == 404, withdrawn.text
    # the probes changed nothing: every owner's assets are still frozen, its decisions still there
    for i, member in enumerate(members):
        statuses = {a["status"] for a in client.get("/freeze", headers=member.auth("analyst")).json()}
        assert statuses <= {"frozen"}
        assert {str(d["id"]) for d in client.get("/decisions", headers=member.auth("analyst")).json()} == \
            owned[i]["decision"]
