"""POST /travel/screen on the real UN list, on every backend."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import Member
from tests.conftest import DATA
from tests.travel.test_messages import paxlst_interchange
from tests.travel.test_screen import MANIFEST


def test_travel_screen_returns_statuses_and_reply(client: TestClient, new_member: Callable[[], Member],
                                                  audit_of: Callable[[int], list]) -> None:
    member = new_member()
    response = client.post("/travel/screen", json={"message": MANIFEST}, headers=member.auth("screener"))
    assert response.status_code == 200, response.text
    body = response.json()
    [manifest] = body["manifests"]
    assert manifest["format"] == "paxlst" and manifest["flights"][0]["number"] == "100"
    first = manifest["travellers"][0]
    assert first["status"] == "hit"
    assert first["matches"][0]["reference"] == "QDi.354"
    assert first["matches"][0]["list_version"] == body["list_versions"]["un_sc"]
    assert "ERC+2Z" in body["reply"] and "CUSRES" in body["reply"]
    entry = audit_of(member.id)[-1]
    assert entry.action == "travel_screen" and "hit" in entry.result_summary
    assert "HARZI" not in entry.result_summary


def test_travel_screen_broken_envelope_is_422_naming_the_segment(client: TestClient,
                                                                 new_member: Callable[[], Member]) -> None:
    bad = (DATA / "travel" / "pnrgov" / "parsers_pnrBadFormat.txt").read_text()
    response = client.post("/travel/screen", json={"message": bad}, headers=new_member().auth("screener"))
    assert response.status_code == 422
    assert "segment 28 (UNZ)" in response.json()["detail"]


def test_travel_screen_needs_a_key_and_a_message(client: TestClient, new_member: Callable[[], Member]) -> None:
    assert client.post("/travel/screen", json={"message": MANIFEST}).status_code == 401
    response = client.post("/travel/screen", json={"message": ""}, headers=new_member().auth("screener"))
    assert response.status_code == 422


def test_travel_screen_reads_every_interchange_of_a_body(client: TestClient, new_member: Callable[[], Member]) -> None:
    body = paxlst_interchange("1", "JANSEN") + "\n" + MANIFEST     # the listed traveller in the second interchange
    response = client.post("/travel/screen", json={"message": body}, headers=new_member().auth("screener"))
    assert response.status_code == 200, response.text
    first, second = response.json()["manifests"]
    assert (first["reference"], second["reference"]) == ("1", "REF001")
    assert second["travellers"][0]["status"] == "hit"
    reply = response.json()["reply"]
    assert reply.count("UNH+1+CUSRES") == 2 and "JANSEN" in reply and "AL-HARZI" in reply


def test_travel_screen_refuses_text_after_unz(client: TestClient, new_member: Callable[[], Member]) -> None:
    body = MANIFEST + "\nNAD+FL+++OUNI HARZI:TARAK'"
    response = client.post("/travel/screen", json={"message": body}, headers=new_member().auth("screener"))
    assert response.status_code == 422
    assert "after segment" in response.json()["detail"] and "UNZ" in response.json()["detail"]
