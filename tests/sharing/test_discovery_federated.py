"""Blind discovery between two real federated servers (issue 17, "Done when").

B's holder shares a TLP:RED entry for itself alone and opens an offer with scope
``connected``; A's member asks through A's server, which blinds, has B evaluate and looks up.
A finds the entry by another spelling and by the original script, and nothing for an
innocent name; B learns only A's link member, the time and the key count. B's scope
``server``, a spent budget, a tampered index and a link that does not answer each give a
refusal or nothing, never a false "no hit".
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from jointwatch.api import create_app
from jointwatch.releasability import Labels
from jointwatch.screening import Query, open_screener
from jointwatch.sharing import (
    EntryInput,
    HolderAnswer,
    discover,
    discovery_remote,
    epoch_of,
    open_offer,
    prepare,
    share_entry,
)
from jointwatch.store import add_link, add_member, blind_queries, create_key, get_link, open_engine, spend_of
from tests.serving import free_port
from tests.sharing.test_federation import Server, _cli, servers, un_template  # noqa: F401

LISTED = "Tariq Bin-Al-Tahar Al-Harzi"
SPELT = "Tarek Ben Taher Harzi"
SCRIPT = "طارق بن الطاهر الحرزي"
INNOCENT = "Wolfgang Obermeier"
REASON = "national CT file 2026/88"


def _words_in(db: str, words: list[str]) -> dict[str, int]:
    """How often each word occurs anywhere in the store's tables (every text column of every row)."""
    counts = dict.fromkeys(words, 0)
    with sqlite3.connect(db) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                text = " ".join(str(v) for v in row if isinstance(v, str | bytes)).casefold()
                for word in words:
                    counts[word] += text.count(word.casefold())
    return counts


def _answers(answers: list[HolderAnswer], link: str) -> list[dict[str, Any]]:
    return _answers_json([a.to_dict() for a in answers], link)


def _answers_json(answers: list[dict[str, Any]], link: str) -> list[dict[str, Any]]:
    return [a for a in answers if a["holder"].endswith(f"@{link}")]


def test_a_member_on_a_finds_bs_restricted_entry_blind_and_b_learns_only_who_when_how_many(
        servers: tuple[Server, Server], tmp_path: Path) -> None:  # noqa: F811
    server_a, server_b = servers
    a_db, b_db = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    a, b = open_engine(a_db), open_engine(b_db)
    police = add_member(a, "border-police").id
    customs = add_member(b, "customs").id

    a_key = json.loads(_cli("share", "keys", "show", "--db", a_db, "--json"))[0]
    b_key = json.loads(_cli("share", "keys", "show", "--db", b_db, "--json"))[0]
    a_to_b_key = _cli("share", "links", "add", "agency-a", "--peer-key", f"{a_key['key_id']}={a_key['public_key']}",
                      "--db", b_db).strip()
    _cli("share", "links", "add", "agency-b", "--url", server_b.url, "--api-key", a_to_b_key,
         "--peer-key", f"{b_key['key_id']}={b_key['public_key']}", "--db", a_db)
    peer_at_b = get_link(b, "agency-a").member_id

    share_entry(b, customs, "officer-3", EntryInput("Person", {
        "name": [LISTED], "birthDate": ["1982-05-09"], "passportNumber": ["P1234567"]}),
        Labels("originator", (), "red", ("consent-before-action",), REASON))
    open_offer(b, customs, scope="connected")
    weigh = open_screener(a).index
    before = _words_in(b_db, [SPELT, "Tarek", "Taher", SCRIPT, INNOCENT, "Obermeier"])

    def ask(name: str, **kwargs: Any) -> list[dict[str, Any]]:
        return _answers(discover(a, police, Query(name), weigh, **kwargs), "agency-b")

    # found by another spelling and by the original script; nothing for an innocent name
    for name in (SPELT, SCRIPT):
        [answer] = ask(name)
        assert answer["holder"] == "customs@agency-b" and answer["refused"] is None, answer
        assert answer["hit"] is True and "name" in answer["hits"][0]["agreed"], (name, answer)
        assert 0 < answer["spent"] <= answer["budget"] and answer["keys"] in (16, 32, 64, 128, 256)
    [innocent] = ask(INNOCENT)
    assert innocent["hit"] is False and innocent["hits"] == [] and innocent["refused"] is None
    [named] = ask(SPELT, holders=["customs@agency-b"])
    assert named["hit"] is True

    # the same, as A's member runs it: A's service and A's CLI (the name stays on A)
    analyst = create_key(a, police, "analyst-1", "analyst")[1]
    served = httpx.post(f"{server_a.url}/discovery/query", json={"name": SPELT, "holders": ["customs@agency-b"]},
                        headers={"Authorization": f"Bearer {analyst}"}, timeout=60)
    assert served.status_code == 200, served.text
    [answer] = served.json()["answers"]
    assert answer["holder"] == "customs@agency-b" and answer["hit"] is True and answer["refused"] is None, answer
    said = json.loads(_cli("discover", "query", SCRIPT, "--member", "border-police", "--db", a_db, "--json"))
    [answer] = _answers_json(said["answers"], "agency-b")
    assert answer["hit"] is True and answer["hits"][0]["token"], answer

    # B's log: A's link member, the time and the count; the query's words are nowhere in B's store
    log = blind_queries(b, customs)
    assert len(log) == 6 and {q.asker for q in log} == {f"member:{peer_at_b}"}
    assert all(q.outcome == "evaluated" and q.keys in (16, 32, 64, 128, 256) and q.at for q in log)
    assert _words_in(b_db, list(before)) == before
    # as B's holder sees it through B's service: the partner server's link member, when, how many
    holder_key = create_key(b, customs, "dpo-1", "admin")[1]
    view = httpx.get(f"{server_b.url}/discovery/offer", headers={"Authorization": f"Bearer {holder_key}"}, timeout=30)
    assert view.status_code == 200, view.text
    assert [(q["asker"], q["keys"], q["outcome"]) for q in view.json()["log"]] == [
        ("peer:agency-a", q.keys, "evaluated") for q in log]
    [spend] = view.json()["spend"]
    assert (spend["asker"], spend["keys"], spend["queries"]) == ("peer:agency-a", sum(q.keys for q in log), 6)

    # B's offer only for its own members: A's server is told of no holder, and a direct ask is 404
    link_key = {"Authorization": f"Bearer {get_link(a, 'agency-b').api_key}"}
    open_offer(b, customs, scope="server")
    assert ask(SPELT) == []
    for method, path in (("GET", "index"), ("POST", "evaluate")):
        answer = httpx.request(method, f"{server_b.url}/federation/discovery/holders/customs/{path}",
                               headers=link_key, json={"elements": []} if method == "POST" else None, timeout=30)
        assert answer.status_code == 404, answer.text
    assert httpx.get(f"{server_b.url}/federation/discovery/holders", headers=link_key,
                     timeout=30).json() == {"holders": []}
    [unnamed] = ask(SPELT, holders=["customs@agency-b"])
    assert unnamed["hit"] is None and "no discovery offer" in unnamed["refused"]

    # the budget spent at B: A's answer is B's 429 passed on, not "no hit"; B logs the refusal
    open_offer(b, customs, scope="connected", daily_keys=sum(q.keys for q in log))
    [refused] = ask(SPELT)
    assert refused["hit"] is None and refused["hits"] == [], refused
    assert "429" in refused["refused"] and "budget" in refused["refused"] and "agency-b" in refused["refused"]
    assert "retry after" in refused["refused"]
    assert (refused["spent"], refused["budget"]) == (sum(q.keys for q in log),) * 2    # the same figures as B's
    assert blind_queries(b, customs)[0].outcome == "refused"
    direct = httpx.post(f"{server_b.url}/federation/discovery/holders/customs/evaluate", headers=link_key,
                        json={"elements": ["x" * 44] * 16}, timeout=30)
    assert direct.status_code == 422, direct.text   # not group elements: refused before any charge


def test_a_tampered_index_or_a_silent_link_is_refused_by_name_never_a_no_hit(
        servers: tuple[Server, Server], tmp_path: Path) -> None:  # noqa: F811
    _server_a, server_b = servers
    a_db, b_db = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    a, b = open_engine(a_db), open_engine(b_db)
    police = add_member(a, "border-police").id
    customs = add_member(b, "customs").id
    a_key = json.loads(_cli("share", "keys", "show", "--db", a_db, "--json"))[0]
    a_to_b_key = _cli("share", "links", "add", "agency-a", "--peer-key", f"{a_key['key_id']}={a_key['public_key']}",
                      "--db", b_db).strip()
    add_link(a, "agency-b", server_b.url, {"b": "AAAA"}, api_key=a_to_b_key)
    add_link(a, "agency-c", f"http://127.0.0.1:{free_port()}", {"c": "AAAA"}, api_key="nothing-listens")
    share_entry(b, customs, "officer-3", EntryInput("Person", {"name": [LISTED]}),
                Labels("originator", (), "red", (), REASON))
    open_offer(b, customs, scope="connected")
    weigh = open_screener(a).index

    def tampering(body: bytes) -> httpx.BaseTransport:
        real = httpx.HTTPTransport()

        def handle(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/index"):
                return httpx.Response(200, content=body, headers={"content-type": "application/json"})
            return real.handle_request(request)
        return httpx.MockTransport(handle)

    good = json.loads(httpx.get(f"{server_b.url}/federation/discovery/holders/customs/index", timeout=30,
                                headers={"Authorization": f"Bearer {a_to_b_key}"}).content)
    bad_postings = {**good, "postings": good["postings"][:-1]}
    for body, why in ((b'{"format": 1, "entries": [', "not JSON"),
                      (json.dumps(bad_postings).encode(), "keys and postings differ"),
                      (json.dumps({**good, "holder": "someone-else"}).encode(), "not 'customs'")):
        discovery_remote._INDEXES.clear()       # as after a restart of A: the index is fetched again
        answers = discover(a, police, Query(SPELT), weigh, holders=["customs@agency-b"], transport=tampering(body))
        [answer] = [x.to_dict() for x in answers]
        assert answer["hit"] is None and answer["holder"] == "customs@agency-b", answer
        assert "link 'agency-b'" in answer["refused"] and why in answer["refused"], answer

    answers = {x.holder: x.to_dict() for x in discover(a, police, Query(SPELT), weigh)}
    assert answers["customs@agency-b"]["hit"] is True
    silent = answers["*@agency-c"]
    assert silent["hit"] is None and "agency-c" in silent["refused"], silent


@pytest.mark.parametrize("holder", ["customs", "@agency-b", "customs@"])
def test_a_holder_is_named_here_or_as_name_at_link(holder: str, tmp_path: Path) -> None:
    engine = open_engine(str(tmp_path / "a.db"), create=True)
    asker = add_member(engine, "border-police").id
    from jointwatch.errors import InvalidInputError, NotFoundError
    with pytest.raises((InvalidInputError, NotFoundError)):
        discover(engine, asker, Query(SPELT), lambda _t: 1.0, holders=[holder])


class _Recording(httpx.BaseTransport):
    """B's service in this process, every request to it recorded; ``turn`` answers the next
    evaluation 409 once, as B does when its day turned after A's index was fetched."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[str, str | None]] = []
        self.turn = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rsplit("/", 1)[-1]
        self.seen.append((path, request.headers.get("if-none-match")))
        if self.turn and path == "evaluate":
            self.turn = False
            return httpx.Response(409, json={"detail": "the index of yesterday is not today's"})
        return self.inner.handle_request(request)


def test_an_index_is_fetched_once_again_when_its_version_changes_and_a_turned_day_is_asked_again(
        un_template: Path, tmp_path: Path) -> None:  # noqa: F811
    shutil.copy(un_template, tmp_path / "a.db")
    a, b = open_engine(str(tmp_path / "a.db")), open_engine(str(tmp_path / "b.db"), create=True)
    police, customs = add_member(a, "border-police").id, add_member(b, "customs").id
    peer_link, key_at_b = add_link(b, "agency-a", None, {"a": "AAAA"})
    add_link(a, "agency-b", "http://agency-b.test", {"b": "AAAA"}, api_key=key_at_b)
    share_entry(b, customs, "officer-3", EntryInput("Person", {"name": [LISTED]}),
                Labels("originator", (), "red", (), REASON))
    open_offer(b, customs, scope="connected")
    weigh = open_screener(a).index
    discovery_remote._INDEXES.clear()

    with TestClient(create_app(b)) as service_b:
        wire = _Recording(service_b._transport)

        def ask(name: str) -> dict[str, Any]:
            wire.seen.clear()
            [answer] = discover(a, police, Query(name), weigh, transport=wire)
            return answer.to_dict()

        assert ask(SPELT)["hit"] is True
        assert wire.seen == [("holders", None), ("index", None), ("evaluate", None)]
        assert ask(SPELT)["hit"] is True
        assert wire.seen == [("holders", None), ("evaluate", None)]       # the same version: not fetched again
        version = service_b.get("/federation/discovery/holders",
                                headers={"Authorization": f"Bearer {key_at_b}"}).json()["holders"][0]["version"]

        share_entry(b, customs, "officer-3", EntryInput("Person", {"name": ["Abdelkrim Oulad Benhaddou"]}),
                    Labels("originator", (), "red", (), REASON))
        assert ask("Abdelkarim Oulad Benhaddou")["hit"] is True       # B's new entry: a new version, fetched
        assert wire.seen == [("holders", None), ("index", f'"{version}"'), ("evaluate", None)]

        wire.turn = True
        assert ask(SPELT)["hit"] is True                                # B's day turned: listed, asked again
        assert wire.seen == [("holders", None), ("evaluate", None), ("holders", None), ("evaluate", None)]

        # B's own side: an If-None-Match of the current version is 304; an index of another day is 409,
        # refused before anything is charged
        link_key = {"Authorization": f"Bearer {key_at_b}"}
        current = service_b.get("/federation/discovery/holders/customs/index", headers=link_key)
        assert service_b.get("/federation/discovery/holders/customs/index",
                             headers={**link_key, "If-None-Match": current.headers["etag"]}).status_code == 304
        before = spend_of(b, epoch_of(), customs)
        elements = [base64.b64encode(e).decode() for e in prepare(Query(SPELT), weigh).elements]
        stale = service_b.post("/federation/discovery/holders/customs/evaluate", headers=link_key,
                               json={"elements": elements, "epoch": "2000-01-01"})
        assert stale.status_code == 409 and "not today's" in stale.json()["detail"], stale.text
        assert spend_of(b, epoch_of(), customs) == before
        assert {q.asker for q in blind_queries(b, customs)} == {f"member:{peer_link.member_id}"}
