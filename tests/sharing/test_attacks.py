"""The partner-sharing feature attacked as a hostile member, a hostile peer server and a careless
user would: each test is an attack that once worked (or a guard kept), answered as the rules say."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import Member
from tests.sharing.test_api_shared import subject_name


def _group(client: TestClient, owner: Member) -> str:
    name = f"group-of-{owner.name}"
    response = client.post("/shared/groups", json={"name": name}, headers=owner.auth("admin"))
    assert response.status_code == 201, response.text
    return name


def _problem(response: object) -> tuple[int, str]:
    status, body = response.status_code, response.json()  # type: ignore[attr-defined]
    return status, body["detail"].replace("'", "")


def test_a_group_the_member_is_not_in_answers_as_one_that_does_not_exist(
        client: TestClient, new_member: Callable[[], Member]) -> None:
    owner, outsider = new_member(), new_member()
    theirs = _group(client, owner)
    missing = f"no-such-group-{outsider.name}"

    def share_to(group: str) -> tuple[int, str]:
        body = {"schema": "Person", "properties": {"name": [subject_name()]}, "distribution": "group",
                "audience": [group], "tlp": "amber", "reason": "Europol SIENA 2026/114"}
        response = client.post("/shared/entries", json=body, headers=outsider.auth("analyst"))
        return _problem(response)

    def join(group: str) -> tuple[int, str]:
        return _problem(client.post(f"/shared/groups/{group}/members", json={"member": outsider.name},
                                    headers=outsider.auth("admin")))

    def import_to(group: str) -> tuple[int, str]:
        line = b'{"id": "x1", "schema": "Person", "properties": {"name": ["Abu Imported Testfield"]}}\n'
        return _problem(client.post("/shared/import", params={"distribution": "group", "audience": [group]},
                                    content=line, headers=outsider.auth("analyst")))

    for attempt in (share_to, join, import_to):
        (status, detail), (status_missing, detail_missing) = attempt(theirs), attempt(missing)
        assert status == status_missing and status in (404, 422), attempt.__name__
        assert detail.replace(theirs, "X") == detail_missing.replace(missing, "X"), attempt.__name__
    # nothing was shared into the group behind its members' backs
    listed = client.get("/shared/entries", params={"mine": True}, headers=outsider.auth("analyst")).json()
    assert listed["total"] == 0
    # a member of the group that does not own it is told so (it knows the group)
    assert client.post(f"/shared/groups/{theirs}/members", json={"member": outsider.name, "action": "add"},
                       headers=owner.auth("admin")).status_code == 200
    assert join(theirs)[0] == 403
