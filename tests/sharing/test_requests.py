"""Requests for information inside one server, on the real UN list: a blind hit, a request,
a question and its answer, the release, and the released entry hitting in the asker's normal
screening; declines, withdrawals, deadlines and reminders; and what each member may see: a
third member gets 404 on every route, the asker never sees the holder's entry before release,
a holder cannot decide a request made to another."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from jointwatch.cli import app as cli_app
from jointwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from jointwatch.releasability import Labels
from jointwatch.screening import Query
from jointwatch.sharing import (
    BlindHit,
    EntryInput,
    Release,
    Subject,
    accept_request,
    decline_request,
    discover_local,
    open_offer,
    open_request,
    remind,
    requests_of,
    share_entry,
    view_request,
    withdraw_request,
)
from jointwatch.store import StoredEntry, get_member, read_audit
from tests.api.conftest import Member, make_member
from tests.sharing.test_api_shared import BIRTH, subject_name

MISSING = "rq-00000000000000000000"


def holder_entry(engine: Engine, holder: Member, name: str, distribution: str = "originator",
                 audience: tuple[int, ...] = ()) -> StoredEntry:
    """A restricted entry of ``holder`` (its own eyes only) and an open discovery offer."""
    entry = share_entry(engine, holder.id, "officer", EntryInput("Person", {
        "name": [name], "birthDate": [BIRTH], "passportNumber": ["K0912345"]}),
        Labels(distribution, audience, "red", ("consent-before-action",), "national CT file 2026/77"))
    open_offer(engine, holder.id)
    return entry


def blind_hit(app: FastAPI, asker: Member, holder: Member, name: str) -> BlindHit:
    engine = app.state.engine
    screener, _ = app.state.screeners.current()
    [answer] = discover_local(engine, asker.id, Query(name, birth_date=BIRTH), screener.index, [holder.id])
    [hit] = answer.hits
    return hit


def open_body(hit: BlindHit, holder: Member, **extra: Any) -> dict[str, Any]:
    return {"holder": holder.name, "token": hit.token, "epoch": hit.epoch,
            "subject": {"name": "A. Q. Testfield", "birth_date": BIRTH[:4]},
            "reason": "traveller referred at the border, flight LH 1234",
            "legal_basis": "Council Decision 2008/615/JHA art. 5", "urgency": "urgent", **extra}


def shared_hits(client: TestClient, member: Member, name: str) -> list[dict[str, Any]]:
    response = client.post("/screen", json={"subjects": [{"name": name, "birth_date": BIRTH, "id": "s1"}]},
                           headers=member.auth("screener"))
    assert response.status_code == 200, response.text
    return [m for m in response.json()["results"][0]["matches"] if m["source"] == "shared"]


def test_hit_request_question_answer_release_then_normal_screening_hits(
        app: FastAPI, client: TestClient, new_member: Callable[[], Member]) -> None:
    engine = app.state.engine
    asker, holder, third = new_member(), new_member(), new_member()
    name = subject_name()
    entry = holder_entry(engine, holder, name)
    hit = blind_hit(app, asker, holder, name)
    assert shared_hits(client, asker, name) == []            # restricted: the asker cannot screen it

    opened = client.post("/requests", json=open_body(hit, holder), headers=asker.auth("analyst"))
    assert opened.status_code == 201, opened.text
    request = opened.json()
    ref = request["ref"]
    assert ref.startswith("rq-") and request["state"] == "open" and request["role"] == "asker"
    assert request["deadline"] == (date.today() + timedelta(days=3)).isoformat()     # urgent: +3 days
    assert request["entry_ref"] is None and entry.ref not in opened.text and "entry_id" not in opened.text
    assert [h["action"] for h in request["history"]] == ["opened"]

    inbox = client.get("/requests", params={"box": "inbox"}, headers=holder.auth("analyst")).json()
    [mine] = [r for r in inbox if r["ref"] == ref]
    assert mine["role"] == "holder" and mine["entry_ref"] == entry.ref and mine["subject"]["name"] == "A. Q. Testfield"
    assert ref in [r["ref"] for r in client.get("/requests", params={"box": "outbox"},
                                                headers=asker.auth("analyst")).json()]
    assert ref not in [r["ref"] for r in client.get("/requests", params={"box": "inbox"},
                                                    headers=asker.auth("analyst")).json()]

    # the wrong side is 403, the wrong state 409
    assert client.post(f"/requests/{ref}/accept", json={}, headers=asker.auth("analyst")).status_code == 403
    assert client.post(f"/requests/{ref}/answer", json={"text": "x"}, headers=asker.auth("analyst")).status_code == 409
    asked = client.post(f"/requests/{ref}/ask", json={"text": "Which passport did he travel on?"},
                        headers=holder.auth("analyst"))
    assert asked.status_code == 200 and asked.json()["state"] == "more_info_requested"
    assert client.post(f"/requests/{ref}/answer", json={"text": "x"}, headers=holder.auth("analyst")).status_code == 403
    answered = client.post(f"/requests/{ref}/answer", json={"text": "Jordanian passport K0912345"},
                           headers=asker.auth("analyst"))
    assert answered.status_code == 200 and answered.json()["state"] == "open"
    assert entry.ref not in answered.text

    accepted = client.post(f"/requests/{ref}/accept", json={"tlp": "amber", "handling": ["consent-before-action"],
                                                            "note": "consult us before acting"},
                           headers=holder.auth("analyst"))
    assert accepted.status_code == 200, accepted.text
    done = accepted.json()
    assert done["state"] == "accepted" and done["released_ref"] == entry.ref
    assert [h["action"] for h in done["history"]] == ["opened", "more info requested", "answered", "accepted"]

    [released] = shared_hits(client, asker, name)
    assert released["reference"] == entry.ref and released["shared"]["originator"] == holder.name
    assert released["shared"]["tlp"] == "amber" and released["shared"]["handling"] == ["consent-before-action"]
    assert shared_hits(client, third, name) == []
    seen = client.get(f"/shared/entries/{entry.ref}", headers=holder.auth("analyst")).json()
    assert seen["audience"] == [asker.name] and seen["distribution"] == "members"
    assert seen["history"][-1]["note"] == f"released to {asker.name} on request {ref}"

    for member in (asker, holder):
        actions = {a.action for a in read_audit(engine, member.id)}
        assert {"requests.open", "requests.ask", "requests.answer", "requests.accept"} <= actions
    assert not any(a.action.startswith("requests.") for a in read_audit(engine, third.id))


def test_a_third_member_gets_404_on_every_route(app: FastAPI, client: TestClient,
                                                new_member: Callable[[], Member]) -> None:
    asker, holder, third = new_member(), new_member(), new_member()
    name = subject_name()
    holder_entry(app.state.engine, holder, name)
    hit = blind_hit(app, asker, holder, name)
    ref = client.post("/requests", json=open_body(hit, holder), headers=asker.auth("analyst")).json()["ref"]
    for target in (ref, MISSING):
        answers = [client.get(f"/requests/{target}", headers=third.auth("analyst"))]
        for step, body in (("ask", {"text": "x"}), ("answer", {"text": "x"}), ("accept", {}),
                           ("decline", {"reason": "x"}), ("withdraw", {})):
            answers.append(client.post(f"/requests/{target}/{step}", json=body, headers=third.auth("analyst")))
        assert [a.status_code for a in answers] == [404] * 6
        assert {a.json()["detail"].replace(target, "REF") for a in answers} == {"no request 'REF'"}
    for box in ("inbox", "outbox"):
        listed = client.get("/requests", params={"box": box}, headers=third.auth("analyst")).json()
        assert ref not in [r["ref"] for r in listed]
    # the third member cannot use the asker's token either: it was never given to it
    stolen = client.post("/requests", json=open_body(hit, holder), headers=third.auth("analyst"))
    assert stolen.status_code == 404


def test_a_holder_cannot_decide_a_request_made_to_another(app: FastAPI, new_member: Callable[[], Member]) -> None:
    engine = app.state.engine
    asker, holder, other = new_member(), new_member(), new_member()
    name = subject_name()
    holder_entry(engine, holder, name)
    holder_entry(engine, other, subject_name())
    hit = blind_hit(app, asker, holder, name)
    made = open_request(engine, asker.id, "officer", holder.name, hit.token, hit.epoch, Subject(name=name),
                        "border check", "Prüm art. 5")
    with pytest.raises(NotFoundError):
        accept_request(engine, made.ref, other.id, "officer", Release())
    with pytest.raises(NotFoundError):      # the hit's token is the holder's: another holder knows no such entry
        open_request(engine, asker.id, "officer", other.name, hit.token, hit.epoch, Subject(name=name), "x", "y")
    with pytest.raises(ForbiddenError):
        open_request(engine, holder.id, "officer", holder.name, hit.token, hit.epoch, Subject(name=name), "x", "y")


def test_decline_needs_a_reason_and_ends_the_request(app: FastAPI, client: TestClient,
                                                     new_member: Callable[[], Member]) -> None:
    asker, holder = new_member(), new_member()
    name = subject_name()
    holder_entry(app.state.engine, holder, name)
    hit = blind_hit(app, asker, holder, name)
    ref = client.post("/requests", json=open_body(hit, holder), headers=asker.auth("analyst")).json()["ref"]
    assert client.post(f"/requests/{ref}/decline", json={}, headers=holder.auth("analyst")).status_code == 422
    assert client.post(f"/requests/{ref}/decline", json={"reason": "x"},
                       headers=asker.auth("analyst")).status_code == 403
    declined = client.post(f"/requests/{ref}/decline", json={"reason": "no legal basis for this transfer"},
                           headers=holder.auth("analyst"))
    assert declined.status_code == 200 and declined.json()["state"] == "declined"
    assert declined.json()["answer"] == "no legal basis for this transfer"
    assert client.post(f"/requests/{ref}/accept", json={}, headers=holder.auth("analyst")).status_code == 409
    assert client.post(f"/requests/{ref}/withdraw", json={}, headers=asker.auth("analyst")).status_code == 409
    assert shared_hits(client, asker, name) == []
    shown = client.get(f"/requests/{ref}", headers=asker.auth("analyst")).json()
    assert shown["state"] == "declined" and shown["history"][-1]["detail"] == "no legal basis for this transfer"


def test_withdrawn_by_the_asker_only(app: FastAPI, new_member: Callable[[], Member]) -> None:
    engine = app.state.engine
    asker, holder = new_member(), new_member()
    name = subject_name()
    holder_entry(engine, holder, name)
    hit = blind_hit(app, asker, holder, name)
    made = open_request(engine, asker.id, "officer", holder.id, hit.token, hit.epoch, Subject(note="male, ~50"),
                        "border check", "Prüm art. 5")
    with pytest.raises(ForbiddenError):
        withdraw_request(engine, made.ref, holder.id, "officer")
    assert withdraw_request(engine, made.ref, asker.id, "officer", "identified otherwise").state == "withdrawn"
    with pytest.raises(ConflictError):
        decline_request(engine, made.ref, holder.id, "officer", "late")
    assert [e.action for e in view_request(engine, made.ref, holder.id).events] == ["opened", "withdrawn"]


def test_deadlines_reminders_and_expiry(app: FastAPI, new_member: Callable[[], Member]) -> None:
    engine = app.state.engine
    asker, holder = new_member(), new_member()
    name = subject_name()
    holder_entry(engine, holder, name)
    hit = blind_hit(app, asker, holder, name)
    day = datetime.now(UTC).date()
    start = datetime.combine(day, time(9), UTC)     # mid-morning: a minute later is the same day

    def made(urgency: str) -> str:
        return open_request(engine, asker.id, "officer", holder.name, hit.token, hit.epoch, Subject(name=name),
                            "border check", "Prüm art. 5", urgency, now=start).ref

    urgent, routine, immediate = made("urgent"), made("routine"), made("immediate")
    assert view_request(engine, routine, asker.id).request.deadline == day + timedelta(days=14)
    assert view_request(engine, immediate, asker.id).request.deadline == day + timedelta(days=1)

    def did(now: datetime) -> dict[str, str]:
        return {r.request.ref: r.what for r in remind(engine, now)
                if r.request.ref in (urgent, routine, immediate)}

    assert did(start) == {}
    # immediate on its deadline day, urgent from the day before its deadline, once a day each
    assert did(start + timedelta(days=1)) == {immediate: "reminded"}
    assert did(start + timedelta(days=1, minutes=1)) == {}
    inbox = {v.request.ref: v for v in requests_of(engine, holder.id, "inbox", now=start + timedelta(days=2))}
    assert inbox[urgent].due == "due soon" and inbox[routine].due is None
    assert inbox[immediate].request.state == "expired" and inbox[immediate].due is None   # listing expired it
    assert did(start + timedelta(days=2)) == {urgent: "reminded"}
    assert did(start + timedelta(days=4)) == {urgent: "expired"}
    assert view_request(engine, immediate, asker.id).request.state == "expired"
    assert did(start + timedelta(days=11)) == {routine: "reminded"}
    # read after the deadline: expired on reading, and nothing decides it any more
    later = start + timedelta(days=15)
    assert view_request(engine, routine, holder.id, now=later).request.state == "expired"
    with pytest.raises(ConflictError):
        accept_request(engine, routine, holder.id, "officer", Release(), now=later)
    events = [e.action for e in view_request(engine, urgent, holder.id).events]
    assert events == ["opened", "reminded", "expired"]
    assert shared_hits_none(engine, asker, name)


def shared_hits_none(engine: Engine, asker: Member, name: str) -> bool:
    from jointwatch.sharing import visible_entries  # noqa: PLC0415

    return not [e for e in visible_entries(engine, asker.id) if e.caption == name]


def test_malformed_and_refused_openings(app: FastAPI, client: TestClient, new_member: Callable[[], Member]) -> None:
    engine = app.state.engine
    asker, holder = new_member(), new_member()
    name = subject_name()
    holder_entry(engine, holder, name)
    hit = blind_hit(app, asker, holder, name)
    past = (date.today() - timedelta(days=1)).isoformat()
    for bad in ({"legal_basis": ""}, {"urgency": "whenever"}, {"token": "not a token"}, {"deadline": past},
                {"subject": {}}, {"subject": {"birth_date": "04/03/1971"}}, {"epoch": "yesterday"},
                {"reason": ""}, {"extra": 1}):
        response = client.post("/requests", json=open_body(hit, holder, **bad), headers=asker.auth("analyst"))
        assert response.status_code == 422, (bad, response.text)
    wrong = client.post("/requests", json=open_body(hit, holder, token="ab" * 12), headers=asker.auth("analyst"))
    assert wrong.status_code == 404
    nobody = client.post("/requests", json={**open_body(hit, holder), "holder": "no-such-member"},
                         headers=asker.auth("analyst"))
    assert nobody.status_code == 404
    with pytest.raises(InvalidInputError, match="more than 7 days ago"):
        open_request(engine, asker.id, "officer", holder.name, hit.token, hit.epoch, Subject(name=name), "r", "l",
                     now=datetime.now(UTC) + timedelta(days=8))
    for box in ("sideways",):
        assert client.get("/requests", params={"box": box}, headers=asker.auth("analyst")).status_code == 422
    assert client.get("/requests", params={"state": "pending"}, headers=asker.auth("analyst")).status_code == 422
    made = client.post("/requests", json=open_body(hit, holder), headers=asker.auth("analyst")).json()["ref"]
    for body in ({"tlp": "purple"}, {"handling": ["burn-after-reading"]}, {"expires_on": past}):
        response = client.post(f"/requests/{made}/accept", json=body, headers=holder.auth("analyst"))
        assert response.status_code == 422, (body, response.text)
    assert client.get(f"/requests/{made}", headers=asker.auth("analyst")).json()["state"] == "open"


def test_the_cli_runs_the_whole_flow(store_of: Callable[[str], Engine], app: FastAPI) -> None:
    engine = store_of("sqlite")
    asker, holder, third = (make_member(engine) for _ in range(3))
    name = subject_name()
    entry = holder_entry(engine, holder, name)
    screener, _ = app.state.screeners.current()
    [answer] = discover_local(engine, asker.id, Query(name, birth_date=BIRTH), screener.index, [holder.id])
    [hit] = answer.hits
    runner = CliRunner()
    db = str(engine.url.database)
    env = {"COLUMNS": "400", "JOINTWATCH_MEMBER": None, "JOINTWATCH_USER": "officer"}

    def jw(*args: str, code: int = 0) -> Any:
        result = runner.invoke(cli_app, [*args, "--db", db, "--json"], env=env, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return json.loads(result.stdout)

    made = jw("requests", "open", "--member", asker.name, "--holder", holder.name, "--token", hit.token,
              "--epoch", hit.epoch, "--name", name, "--reason", "border referral", "--legal-basis", "Prüm art. 5",
              "--urgency", "immediate")
    ref = made["ref"]
    assert made["state"] == "open" and "entry_ref" not in made and entry.ref not in json.dumps(made)
    assert jw("requests", "show", ref, "--member", third.name, code=NotFoundError.exit_code)["error"] == "NotFoundError"
    assert [r["ref"] for r in jw("requests", "inbox", "--member", holder.name)] == [ref]
    assert jw("requests", "ask", ref, "--member", holder.name, "--text", "Date of travel?")["state"] == \
        "more_info_requested"
    assert jw("requests", "accept", ref, "--member", asker.name, code=ForbiddenError.exit_code)["error"] == \
        "ForbiddenError"
    assert jw("requests", "answer", ref, "--member", asker.name, "--text", "today")["state"] == "open"
    screened = jw("screen", name, "--birth-date", BIRTH, "--member", asker.name)
    assert entry.ref not in [m["reference"] for m in screened["matches"]]
    accepted = jw("requests", "accept", ref, "--member", holder.name, "--tlp", "amber", "--handling",
                  "consent-before-action")
    assert accepted["state"] == "accepted" and accepted["released_ref"] == entry.ref
    screened = jw("screen", name, "--birth-date", BIRTH, "--member", asker.name)
    assert entry.ref in [m["reference"] for m in screened["matches"]]
    assert jw("requests", "outbox", "--member", asker.name, "--state", "accepted")[0]["ref"] == ref
    text = runner.invoke(cli_app, ["requests", "show", ref, "--member", asker.name, "--db", db], env=env)
    assert text.exit_code == 0 and "more info requested" in text.stdout and "accepted" in text.stdout
    reminded = runner.invoke(cli_app, ["requests", "remind", "--db", db], env=env)
    assert reminded.exit_code == 0
    assert get_member(engine, holder.name).id == holder.id
