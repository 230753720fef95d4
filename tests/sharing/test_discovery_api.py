"""Blind discovery through the service: /discovery/offer, /discovery/holders (index, evaluate) and
/discovery/query, on the real UN list (SQLite, and PostgreSQL when JOINTWATCH_TEST_PG_URL is set).

A holder shares a TLP:RED entry for its own eyes only (originator), opens an offer, and an asker
finds it blind, by the server's two steps or by blinding on its own machine; budgets, rates and
malformed requests are refused before anything is evaluated or charged."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
import rbcl
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jointwatch.api import create_app
from jointwatch.releasability import Labels
from jointwatch.screening import Query
from jointwatch.sharing import BUCKETS, BlindIndex, EntryInput, finish, look_up, prepare, share_entry
from jointwatch.store import StoredEntry, blind_queries, open_engine
from jointwatch.store.audit import read_audit
from tests.api.conftest import Member, make_member

ENTRY_NAMES = ["Tariq Bin-Al-Tahar Al-Harzi", "طارق الحرزي"]
BIRTH = "1982-05-09"
PASSPORT = "P1234567"
QUERY = "Tarek al Harzy"
REASON = "Europol SIENA 2026/211, art. 3 EU 2017/541"
NO_OFFER = "no discovery offer from this holder"


def share_red(engine: Engine, holder: Member, names: list[str] | None = None, tlp: str = "red",
              distribution: str = "originator", audience: tuple[int, ...] = ()) -> StoredEntry:
    """A restricted entry only its holder may see: the kind blind discovery is for."""
    props = {"name": names or ENTRY_NAMES, "birthDate": [BIRTH], "passportNumber": [PASSPORT]}
    return share_entry(engine, holder.id, "officer", EntryInput("Person", props),
                       Labels(distribution, audience, tlp, ("consent-before-action",), REASON))


def offer(client: TestClient, holder: Member, **settings: Any) -> dict[str, Any]:
    response = client.put("/discovery/offer", json=settings, headers=holder.auth("admin"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def ask(client: TestClient, asker: Member, holder: Member | str, name: str = QUERY, code: int = 200,
        birth_date: str | None = "1982", **extra: Any) -> Any:
    holder_name = holder if isinstance(holder, str) else holder.name
    body = {"name": name, "holders": [holder_name], "birth_date": birth_date, **extra}
    response = client.post("/discovery/query", json=body,
                           headers=asker.auth("analyst"))
    assert response.status_code == code, response.text
    return response.json()


def evaluate(client: TestClient, asker: Member, holder: Member, elements: list[bytes] | list[str]) -> Any:
    encoded = [e if isinstance(e, str) else base64.b64encode(e).decode() for e in elements]
    return client.post(f"/discovery/holders/{holder.name}/evaluate", json={"elements": encoded},
                       headers=asker.auth("analyst"))


def spend_at(client: TestClient, asker: Member, holder: Member) -> dict[str, Any]:
    response = client.get("/discovery/holders", headers=asker.auth("analyst"))
    assert response.status_code == 200, response.text
    [row] = [h for h in response.json() if h["holder"] == holder.name]
    return dict(row)


def holder_view(client: TestClient, holder: Member) -> dict[str, Any]:
    response = client.get("/discovery/offer", headers=holder.auth("admin"))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_offer_is_opened_changed_shown_without_its_seed_and_closed(
        client: TestClient, new_member: Callable[[], Member]) -> None:
    holder = new_member()
    assert client.get("/discovery/offer", headers=holder.auth("admin")).status_code == 404
    assert client.delete("/discovery/offer", headers=holder.auth("admin")).status_code == 404
    # an offer is the organisation's decision: an analyst may ask, not offer
    assert client.put("/discovery/offer", json={}, headers=holder.auth("analyst")).status_code == 403
    assert client.get("/discovery/offer", headers=holder.auth("analyst")).status_code == 403

    opened = offer(client, holder, daily_keys=640, per_minute=5, tlp_max="TLP:AMBER")
    assert opened["holder"] == holder.name and opened["status"] == "open"
    assert (opened["daily_keys"], opened["per_minute"], opened["scope"], opened["tlp_max"]) == (640, 5, "server",
                                                                                                 "amber")
    changed = offer(client, holder, scope="connected", new_seed=True)
    assert (changed["daily_keys"], changed["per_minute"], changed["scope"], changed["tlp_max"]) == (
        640, 5, "connected", "amber")
    view = holder_view(client, holder)
    assert view["offer"] == changed and view["spend"] == [] and view["log"] == []
    assert "seed" not in client.get("/discovery/offer", headers=holder.auth("admin")).text
    for bad in ({"scope": "world"}, {"tlp_max": "purple"}, {"daily_keys": 0}, {"per_minute": 10_001}):
        assert client.put("/discovery/offer", json=bad, headers=holder.auth("admin")).status_code == 422, bad

    closed = client.delete("/discovery/offer", headers=holder.auth("admin"))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert holder_view(client, holder)["offer"]["status"] == "closed"
    assert offer(client, holder)["status"] == "open"  # reopened as it was
    assert offer(client, holder)["daily_keys"] == 640


def test_an_asker_finds_a_red_entry_blind_and_learns_only_hit_strength_and_its_own_words(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    share_red(un_store, holder)
    offer(client, holder)
    listed = {h["holder"] for h in client.get("/discovery/holders", headers=asker.auth("analyst")).json()}
    assert holder.name in listed and asker.name not in listed

    for name in (QUERY, "طارق الحرزي", "Tariq Harzi"):
        [answer] = ask(client, asker, holder, name)["answers"]
        assert answer["holder"] == holder.name and answer["hit"] is True and answer["refused"] is None, name
        [hit] = answer["hits"]
        assert hit["strength"] >= 0.7 and "name" in hit["agreed"] and "birth_year" in hit["agreed"]
        assert set(hit["words"]) <= set(name.split()) and hit["words"]
        assert len(hit["token"]) == 24 and int(hit["token"], 16) >= 0
        assert answer["keys"] in BUCKETS
    [by_document] = ask(client, asker, holder, "Someone Else", birth_date=None, id_numbers=["P 1234567"])["answers"]
    assert by_document["hit"] and "document" in by_document["hits"][0]["agreed"]
    [none] = ask(client, asker, holder, "John Smith")["answers"]
    assert none["hit"] is False and none["hits"] == [] and none["refused"] is None

    # both sides audited: the asker's rows hold its query as a digest only; the holder's, no name at all
    asker_rows = [r for r in read_audit(un_store, asker.id) if r.action == "discovery.query"]
    assert len(asker_rows) == 5 and all(r.subject_digest and r.status == 200 for r in asker_rows)
    assert not any(word in r.result_summary for r in asker_rows for word in ("Tarek", "Harzy", "Smith"))
    holder_rows = [r for r in read_audit(un_store, holder.id) if r.action == "discovery.answered"]
    assert len(holder_rows) == 5, [r.result_summary for r in holder_rows]
    pattern = re.compile(rf"blind query from {re.escape(asker.name)}: ({'|'.join(map(str, BUCKETS))}) keys, evaluated")
    assert all(r.subject_digest is None and pattern.fullmatch(r.result_summary) for r in holder_rows), [
        (r.subject_digest, r.result_summary) for r in holder_rows]


def test_a_client_blinds_on_its_own_machine_with_the_index_and_evaluate(
        client: TestClient, app: FastAPI, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    share_red(un_store, holder)
    offer(client, holder)
    response = client.get(f"/discovery/holders/{holder.name}/index", headers=asker.auth("analyst"))
    assert response.status_code == 200, response.text
    index = BlindIndex.from_json(response.json())
    assert index.holder == holder.name and len(index.tokens) % 32 == 0
    weigh = app.state.screeners.current()[0].index

    blinded = prepare(Query(QUERY, birth_date="1982"), weigh)
    answer = evaluate(client, asker, holder, blinded.elements)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["spent"] == len(blinded.elements) == 16 and body["epoch"] == index.epoch
    [hit] = look_up(finish(blinded, [base64.b64decode(e) for e in body["elements"]]), index)
    assert hit.holder == holder.name and hit.strength >= 0.7
    # the same hit the server's own two steps give, under the same token
    [served] = ask(client, asker, holder, QUERY, birth_date="1982")["answers"]
    assert [h["token"] for h in served["hits"]] == [hit.token]
    assert spend_at(client, asker, holder)["spent"] == 32


def test_the_spend_is_the_same_number_from_both_sides(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker, other = new_member(), new_member(), new_member()
    share_red(un_store, holder)
    offer(client, holder, daily_keys=1000)
    assert spend_at(client, asker, holder)["spent"] == 0
    ask(client, asker, holder)
    ask(client, asker, holder, "Abu Bakr Muhammad Omar Salim")
    ask(client, other, holder)
    mine = spend_at(client, asker, holder)
    assert (mine["spent"], mine["budget"], mine["queries"], mine["refused"]) == (48, 1000, 2, 0)
    seen = {s["asker"]: s for s in holder_view(client, holder)["spend"]}
    assert seen[asker.name]["keys"] == 48 and seen[asker.name]["budget"] == 1000 and seen[other.name]["keys"] == 16
    log = holder_view(client, holder)["log"]
    assert [(row["asker"], row["keys"], row["outcome"]) for row in log] == [
        (other.name, 16, "evaluated"), (asker.name, 32, "evaluated"), (asker.name, 16, "evaluated")]


def test_every_holder_the_caller_cannot_ask_is_answered_as_one_that_does_not_exist(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    asker, no_offer, closed, restricted = new_member(), new_member(), new_member(), new_member()
    for holder in (no_offer, closed, restricted):
        share_red(un_store, holder)
    offer(client, closed)
    client.delete("/discovery/offer", headers=closed.auth("admin"))
    offer(client, asker)  # the asker holds too: it does not get its own index
    element = base64.b64encode(rbcl.crypto_core_ristretto255_random()).decode()
    answers = []
    for name in ("agency-nonexistent", no_offer.name, closed.name, asker.name):
        got = [client.get(f"/discovery/holders/{name}/index", headers=asker.auth("analyst")),
               client.post(f"/discovery/holders/{name}/evaluate", json={"elements": [element] * 16},
                           headers=asker.auth("analyst"))]
        if name != asker.name:
            got.append(client.post("/discovery/query", json={"name": QUERY, "holders": [name]},
                                   headers=asker.auth("analyst")))
        answers += [(r.status_code, r.json()["detail"]) for r in got]
    assert set(answers) == {(404, NO_OFFER)}
    # a holder does not ask itself
    assert ask(client, asker, asker, code=403)["detail"] == "a member does not ask itself"
    # a screener key (an automated system) does not fan names out to partners
    assert client.post("/discovery/query", json={"name": QUERY},
                       headers=asker.auth("screener")).status_code == 403
    assert blind_queries(un_store, closed.id) == []


def test_a_spent_budget_is_refused_with_429_before_anything_is_evaluated(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    share_red(un_store, holder)
    offer(client, holder, daily_keys=40, per_minute=100)
    first = ask(client, asker, holder)["answers"][0]
    assert first["hit"], str(first)
    assert ask(client, asker, holder)["answers"][0]["spent"] == 32
    [refused] = ask(client, asker, holder)["answers"]
    assert refused["hit"] is None and refused["hits"] == [] and "budget" in refused["refused"]
    assert (refused["spent"], refused["budget"]) == (32, 40)
    response = evaluate(client, asker, holder, [rbcl.crypto_core_ristretto255_random() for _ in range(16)])
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 86_401
    assert "elements" not in response.json()
    mine = spend_at(client, asker, holder)
    assert (mine["spent"], mine["budget"], mine["queries"], mine["refused"]) == (32, 40, 2, 2)
    [seen] = holder_view(client, holder)["spend"]
    assert (seen["asker"], seen["keys"], seen["refused"]) == (asker.name, 32, 2)
    assert [row["outcome"] for row in holder_view(client, holder)["log"]] == [
        "refused", "refused", "evaluated", "evaluated"]
    rows = [r for r in read_audit(un_store, holder.id) if r.action == "discovery.answered"]
    assert sorted(r.status for r in rows) == [200, 200, 429, 429]


def test_the_rate_per_minute_is_enforced(client: TestClient, un_store: Engine,
                                         new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    share_red(un_store, holder)
    offer(client, holder, per_minute=2)
    for _ in range(2):
        assert ask(client, asker, holder)["answers"][0]["hit"]
    response = evaluate(client, asker, holder, [rbcl.crypto_core_ristretto255_random() for _ in range(16)])
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 61
    assert "a minute" in response.json()["detail"]
    assert spend_at(client, asker, holder)["spent"] == 32


@pytest.mark.parametrize("elements", [
    pytest.param(["not base64!"] * 16, id="not-base64"),
    pytest.param([base64.b64encode(b"\x00" * 32).decode()] * 16, id="identity"),
    pytest.param([base64.b64encode(b"\xff" * 32).decode()] * 16, id="not-an-encoding"),
    pytest.param([base64.b64encode(b"\x01" * 31).decode()] * 16, id="short"),
    pytest.param(15, id="not-a-bucket"),
    pytest.param(0, id="empty"),
    pytest.param(257, id="too-many"),
    pytest.param(10_000, id="huge"),
])
def test_a_malformed_evaluation_is_refused_before_anything_is_charged(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member], elements: list[str] | int) -> None:
    holder, asker = new_member(), new_member()
    offer(client, holder)
    if isinstance(elements, int):
        elements = [base64.b64encode(rbcl.crypto_core_ristretto255_random()).decode()] * elements
    response = evaluate(client, asker, holder, elements)
    assert response.status_code == 422, response.text
    assert spend_at(client, asker, holder)["spent"] == 0 and blind_queries(un_store, holder.id) == []
    assert holder_view(client, holder)["spend"] == []


def test_a_bad_query_is_refused_before_any_holder_is_asked(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    holder, asker = new_member(), new_member()
    offer(client, holder)
    ask(client, asker, holder, "", code=422)
    ask(client, asker, holder, "x", code=422)
    ask(client, asker, holder, QUERY, code=422, birth_date="1982-13-45")
    ask(client, asker, holder, QUERY, code=422, countries=["jo"])  # blind discovery has no country
    assert blind_queries(un_store, holder.id) == []


def test_no_list_loaded_fails_closed(tmp_path: Any) -> None:
    engine = open_engine(str(tmp_path / "empty.db"), create=True)
    holder, asker = make_member(engine), make_member(engine)
    share_red(engine, holder)
    with TestClient(create_app(engine)) as bare:
        offer(bare, holder)
        response = bare.post("/discovery/query", json={"name": QUERY}, headers=asker.auth("analyst"))
        assert response.status_code == 503, response.text
    assert blind_queries(engine, holder.id) == []
    engine.dispose()
