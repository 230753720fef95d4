"""Blind discovery between two real federated servers (issue 17, "Done when").

B's holder shares a TLP:RED entry for itself alone and opens an offer with scope
``connected``; A's member asks through A's server, which blinds, has B evaluate and looks up.
A finds the entry by another spelling and by the original script, and nothing for an
innocent name; B learns only A's link member, the time and the key count. B's scope
``server``, a spent budget, a tampered index and a link that does not answer each give a
refusal or nothing, never a false "no hit".
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from jointwatch.releasability import Labels
from jointwatch.screening import Query, open_screener
from jointwatch.sharing import EntryInput, HolderAnswer, discover, discovery_remote, open_offer, share_entry
from jointwatch.store import add_link, add_member, create_key, get_link, open_engine
from jointwatch.store.discovery import blind_queries
from tests.sharing.test_federation import Server, _cli, _free_port, servers, un_template  # noqa: F401

LISTED = "Tariq Bin-Al-Tahar Al-Harzi"
SPELT = "Tarek al Harzy"
SCRIPT = "طارق الحرزي"
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
    weigh = open_screener(a).index.weight
    before = _words_in(b_db, [SPELT, "Harzy", SCRIPT, INNOCENT, "Obermeier"])

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

    # the same, as A's member runs it through A's service (the name stays on A)
    analyst = create_key(a, police, "analyst-1", "analyst")[1]
    served = httpx.post(f"{server_a.url}/discovery/query", json={"name": SPELT, "holders": ["customs@agency-b"]},
                        headers={"Authorization": f"Bearer {analyst}"}, timeout=60)
    assert served.status_code == 200, served.text
    [answer] = served.json()["answers"]
    assert answer["holder"] == "customs@agency-b" and answer["hit"] is True and answer["refused"] is None, answer

    # B's log: A's link member, the time and the count; the query's words are nowhere in B's store
    log = blind_queries(b, customs)
    assert len(log) == 5 and {q.asker for q in log} == {f"member:{peer_at_b}"}
    assert all(q.outcome == "evaluated" and q.keys in (16, 32, 64, 128, 256) and q.at for q in log)
    assert _words_in(b_db, list(before)) == before

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
    add_link(a, "agency-c", f"http://127.0.0.1:{_free_port()}", {"c": "AAAA"}, api_key="nothing-listens")
    share_entry(b, customs, "officer-3", EntryInput("Person", {"name": [LISTED]}),
                Labels("originator", (), "red", (), REASON))
    open_offer(b, customs, scope="connected")
    weigh = open_screener(a).index.weight

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
