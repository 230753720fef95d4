"""Requests for information between two real federated servers (issue 17, "Done when").

B's holder keeps a TLP:RED entry for itself and offers blind discovery to connected servers;
A's member finds it blind, opens a request through A's service, which pushes it to B over the
link. B's holder asks for more; A's member reads the question (A pulls it), answers (pushed);
B accepts; `jointwatch share links sync` on A brings the released entry, which A's normal
screening then hits, for the asker alone. B never calls A. A declined request, a withdrawn one,
a token B never gave and a third member of A are each answered as they must be.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from jointwatch.releasability import Labels
from jointwatch.screening import Query, open_screener
from jointwatch.sharing import (
    EntryInput,
    Release,
    accept_request,
    ask_more,
    decline_request,
    discover,
    open_offer,
    requests_of,
    share_entry,
    view_request,
    withdraw_entry,
)
from jointwatch.store import add_member, create_key, get_link, open_engine
from tests.sharing.test_federation import Server, _cli, servers, un_template  # noqa: F401

LISTED = "Tariq Bin-Al-Tahar Al-Harzi"
SPELT = "Tarek Ben Taher Harzi"
BIRTH = "1982-05-09"
REASON = "national CT file 2026/88"


def _link_both(server_b: Server, a_db: str, b_db: str) -> None:
    a_key = json.loads(_cli("share", "keys", "show", "--db", a_db, "--json"))[0]
    b_key = json.loads(_cli("share", "keys", "show", "--db", b_db, "--json"))[0]
    a_to_b_key = _cli("share", "links", "add", "agency-a", "--peer-key", f"{a_key['key_id']}={a_key['public_key']}",
                      "--db", b_db).strip()
    _cli("share", "links", "add", "agency-b", "--url", server_b.url, "--api-key", a_to_b_key,
         "--peer-key", f"{b_key['key_id']}={b_key['public_key']}", "--db", a_db)


def test_a_request_across_two_servers_from_blind_hit_to_a_screening_hit_on_a(
        servers: tuple[Server, Server], tmp_path: Path) -> None:  # noqa: F811
    server_a, server_b = servers
    a_db, b_db = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    a, b = open_engine(a_db), open_engine(b_db)
    police, colleague = add_member(a, "border-police").id, add_member(a, "customs-a").id
    customs = add_member(b, "customs").id
    _link_both(server_b, a_db, b_db)
    analyst = {"Authorization": f"Bearer {create_key(a, police, 'analyst-1', 'analyst')[1]}"}
    other = {"Authorization": f"Bearer {create_key(a, colleague, 'analyst-2', 'analyst')[1]}"}
    screener = {"Authorization": f"Bearer {create_key(a, police, 'screener-1', 'screener')[1]}"}
    entry = share_entry(b, customs, "officer-3", EntryInput("Person", {
        "name": [LISTED], "birthDate": [BIRTH], "passportNumber": ["P1234567"]}),
        Labels("originator", (), "red", ("consent-before-action",), REASON))
    open_offer(b, customs, scope="connected")
    weigh = open_screener(a).index

    def hit() -> Any:
        answers = discover(a, police, Query(LISTED, birth_date=BIRTH), weigh)
        [answer] = [x for x in answers if x.holder == "customs@agency-b"]
        assert answer.hits, answer
        return answer.hits[0]

    def shared(headers: dict[str, str]) -> list[dict[str, Any]]:
        answer = httpx.post(f"{server_a.url}/screen", json={"subjects": [{"name": LISTED, "birth_date": BIRTH}]},
                            headers=headers, timeout=60)
        assert answer.status_code == 200, answer.text
        return [m for m in answer.json()["results"][0]["matches"] if m["source"] == "shared"]

    def shared_soon(headers: dict[str, str], count: int) -> list[dict[str, Any]]:
        """What A's service screens once it has seen a change made by another process (the CLI's
        sync): a server rechecks the store's sharing generation every half second."""
        deadline = time.monotonic() + 10
        while True:
            found = shared(headers)
            if len(found) == count or time.monotonic() > deadline:
                return found
            time.sleep(0.2)

    def open_on_a(found: Any, **extra: Any) -> httpx.Response:
        body = {"holder": found.holder, "token": found.token, "epoch": found.epoch,
                "subject": {"name": SPELT, "birth_date": BIRTH[:4]}, "reason": "referred at the border",
                "legal_basis": "Prüm Decision art. 5", "urgency": "urgent", **extra}
        return httpx.post(f"{server_a.url}/requests", json=body, headers=analyst, timeout=60)

    found = hit()
    assert found.holder == "customs@agency-b"
    assert shared(screener) == []
    opened = open_on_a(found)
    assert opened.status_code == 201, opened.text
    ref = opened.json()["ref"]
    assert opened.json()["holder"] == "customs@agency-b" and opened.json()["state"] == "open"
    assert entry.ref not in opened.text

    # B's side: its own row, the entry known to B only
    [held] = requests_of(b, customs, "inbox")
    b_ref = held.request.ref
    assert held.request.asker == "border-police@agency-a" and held.entry_ref == entry.ref
    assert held.request.remote_ref == ref == b_ref and held.request.subject["name"] == SPELT
    ask_more(b, b_ref, customs, "officer-3", "Which passport did he show?")

    # A's member reads the question (A pulls it from B) and answers it (A pushes it to B)
    shown = httpx.get(f"{server_a.url}/requests/{ref}", headers=analyst, timeout=60).json()
    assert shown["state"] == "more_info_requested" and shown["answer"] == "Which passport did he show?"
    assert httpx.get(f"{server_a.url}/requests/{ref}", headers=other, timeout=60).status_code == 404
    answered = httpx.post(f"{server_a.url}/requests/{ref}/answer", json={"text": "Jordanian P1234567"},
                          headers=analyst, timeout=60)
    assert answered.status_code == 200 and answered.json()["state"] == "open", answered.text
    assert view_request(b, b_ref, customs).request.state == "open"
    assert view_request(b, b_ref, customs).request.answer == "Jordanian P1234567"
    # the same answer sent again (A lost B's reply) changes nothing; another is a step the state forbids
    link_key = {"Authorization": f"Bearer {get_link(a, 'agency-b').api_key}"}
    resent = httpx.post(f"{server_b.url}/federation/requests/{b_ref}/answer", json={"text": "Jordanian P1234567"},
                        headers=link_key, timeout=30)
    assert resent.status_code == 200 and resent.json()["state"] == "open", resent.text
    assert httpx.post(f"{server_b.url}/federation/requests/{b_ref}/answer", json={"text": "other"},
                      headers=link_key, timeout=30).status_code == 409
    assert [e.action for e in view_request(b, b_ref, customs).events].count("answered") == 1

    accept_request(b, b_ref, customs, "officer-3", Release(tlp="amber", handling=("consent-before-action",)))
    assert shared(screener) == []                      # not on A until A pulls
    said = json.loads(_cli("share", "links", "sync", "agency-b", "--db", a_db, "--json"))
    assert said["request_events"] == 1
    [released] = shared_soon(screener, 1)
    assert released["reference"] == entry.ref and released["shared"]["originator"] == "customs@agency-b"
    assert released["shared"]["tlp"] == "amber" and released["shared"]["handling"] == ["consent-before-action"]
    colleague_screener = {"Authorization": f"Bearer {create_key(a, colleague, 'screener-2', 'screener')[1]}"}
    assert shared(colleague_screener) == []            # for the asker alone
    done = view_request(a, ref, police)
    assert done.request.state == "accepted" and done.request.released_ref == entry.ref
    assert [e.action for e in done.events] == ["opened", "more info requested", "answered", "accepted"]
    # B's entry itself is unchanged (its asker is not a member of B); B's trail says where it went
    assert view_request(b, b_ref, customs).request.state == "accepted"
    again = json.loads(_cli("share", "links", "sync", "agency-b", "--db", a_db, "--json"))
    assert again["request_events"] == 0

    # declined on B: A reads the reason
    second = open_on_a(hit()).json()["ref"]
    [b_second] = [v.request.ref for v in requests_of(b, customs, "inbox") if v.request.remote_ref == second]
    decline_request(b, b_second, customs, "officer-3", "the file is sub judice")
    declined = httpx.get(f"{server_a.url}/requests/{second}", headers=analyst, timeout=60).json()
    assert declined["state"] == "declined" and declined["answer"] == "the file is sub judice"

    # withdrawn on A: B's row follows at once; B cannot accept it any more
    third = open_on_a(hit()).json()["ref"]
    [b_third] = [v.request.ref for v in requests_of(b, customs, "inbox") if v.request.remote_ref == third]
    withdrawn = httpx.post(f"{server_a.url}/requests/{third}/withdraw", json={"reason": "identified"},
                           headers=analyst, timeout=60)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "withdrawn"
    assert view_request(b, b_third, customs).request.state == "withdrawn"

    # a token B never gave A: B's 404 is A's 404, and nothing is kept on either side
    before_a, before_b = len(requests_of(a, police, "outbox")), len(requests_of(b, customs, "inbox"))
    bogus = open_on_a(found, token="ab" * 12)
    assert bogus.status_code == 404, bogus.text
    assert len(requests_of(a, police, "outbox")) == before_a and len(requests_of(b, customs, "inbox")) == before_b

    # B's federation routes answer the link's peer only, and only about that link's requests
    events = httpx.get(f"{server_b.url}/federation/requests/events", headers=link_key, timeout=30).json()["events"]
    assert {e["remote_ref"] for e in events} == {ref, second}
    assert httpx.get(f"{server_b.url}/federation/requests/events", headers=analyst, timeout=30).status_code == 401
    for step in ("answer", "withdraw"):
        assert httpx.post(f"{server_b.url}/federation/requests/rq-00000000000000000000/{step}", json={},
                          headers=link_key, timeout=30).status_code == 404

    # the holder withdraws its entry: on A it stops matching at the next sync, as any withdrawal does
    withdraw_entry(b, entry.ref, customs, "officer-3", "the file was closed")
    followed = json.loads(_cli("share", "links", "sync", "agency-b", "--db", a_db, "--json"))
    assert followed["request_events"] == 1
    assert shared_soon(screener, 0) == []
