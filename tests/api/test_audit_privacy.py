"""Audit and privacy of the service: a keyed subject digest, every refusal audited, the key
checked before the body is read, and no submitted value echoed in a problem."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from jointwatch.api import create_app
from jointwatch.api.models import MatchRequest
from jointwatch.sources import open_list
from jointwatch.store import engine as store_engine
from jointwatch.store import load_list, open_engine
from jointwatch.store.audit import AuditEntry, read_audit
from tests.api.conftest import Member, make_member
from tests.conftest import UN_FILE


def _last(audit_of: Callable[[int], list[AuditEntry]], member: Member) -> AuditEntry:
    return audit_of(member.id)[-1]


def test_digest_is_keyed_and_rotates_while_old_rows_still_verify(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member],
        audit_of: Callable[[int], list[AuditEntry]]) -> None:
    from jointwatch.store.audit import rows_about
    from jointwatch.store.audit_keys import rotate_key

    member = new_member()
    subject = {"name": "Ali Hassan"}
    view = MatchRequest.model_validate(subject).audit_view()
    plain = hashlib.sha256(json.dumps(view, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                           .encode("utf-8")).hexdigest()
    assert client.post("/match", json=subject, headers=member.auth("screener")).status_code == 200
    first = _last(audit_of, member)
    assert first.subject_digest and first.subject_digest != plain  # a guessed name is not confirmed by sha256
    assert first.subject_digest not in {hashlib.sha256(b"Ali Hassan").hexdigest()}

    rotate_key(un_store)
    assert client.post("/match", json=subject, headers=member.auth("screener")).status_code == 200
    second = _last(audit_of, member)
    assert second.subject_digest != first.subject_digest  # under the new key
    # an auditor holding the store's keys still finds both rows for the suspected subject
    found = {row.id for row in rows_about(un_store, [view], member.id)}
    assert {first.id, second.id} <= found
    assert not {row.id for row in rows_about(un_store, [{**view, "name": "Ali Hasan"}], member.id)}


async def _post_counting(app: FastAPI, path: str, chunks: int, headers: dict[str, str]) -> tuple[int, int]:
    """POST a streamed body of ``chunks`` MB through the real ASGI app; (status, bytes the app read)."""
    consumed = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal consumed
        for _ in range(chunks):
            chunk = b"x" * 1_000_000
            consumed += len(chunk)
            yield chunk

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post(path, content=body(), headers=headers)
    return response.status_code, consumed


@pytest.mark.parametrize("path", ["/jobs", "/match"])
def test_no_key_is_refused_before_the_body_is_read(app: FastAPI, path: str) -> None:
    status, consumed = anyio.run(_post_counting, app, path, 30, {"Content-Type": "application/json"})
    assert status == 401
    assert consumed == 0


def test_an_unknown_key_is_refused_before_the_body_is_read(app: FastAPI) -> None:
    status, consumed = anyio.run(_post_counting, app, "/jobs", 30, {"X-API-Key": "jw_nothing_nothing"})
    assert (status, consumed) == (401, 0)


def test_refusals_before_the_route_are_audited(client: TestClient, new_member: Callable[[], Member],
                                              audit_of: Callable[[int], list[AuditEntry]]) -> None:
    member = new_member()
    headers = member.auth("screener")
    bad_json = client.post("/match", content=b"{not json", headers={**headers, "Content-Type": "application/json"})
    assert bad_json.status_code == 400
    row = _last(audit_of, member)
    assert (row.action, row.status) == ("match", 400)

    too_large = client.post("/match", content=b"x" * 1_100_000, headers=headers)
    assert too_large.status_code == 413
    row = _last(audit_of, member)
    assert (row.action, row.status) == ("match", 413) and "over" in row.result_summary

    nul = client.get("/lists?source=%00", headers=headers)
    assert nul.status_code == 400
    row = _last(audit_of, member)
    assert (row.action, row.status) == ("lists.read", 400) and "NUL" in row.result_summary


def test_a_refused_read_of_another_members_job_records_the_job_id(
        client: TestClient, new_member: Callable[[], Member], audit_of: Callable[[int], list[AuditEntry]]) -> None:
    owner, other = new_member(), new_member()
    accepted = client.post("/jobs", json={"subjects": [{"name": "Ali Hassan"}]}, headers=owner.auth("screener"))
    assert accepted.status_code == 202
    job = accepted.json()["job"]
    for path in (f"/jobs/{job}", f"/jobs/{job}/results"):
        assert client.get(path, headers=other.auth("screener")).status_code == 404
        row = _last(audit_of, other)
        assert row.status == 404 and job in row.result_summary


# A marker no problem text holds by itself: capitalised letters, as a name or a field value.
MARKER = st.from_regex(r"[A-Z][a-z]{5,10}[A-Z][a-z]{3,6}", fullmatch=True)


@st.composite
def _bad_subjects(draw: st.DrawFn) -> tuple[dict[str, object], str]:
    """A subject refused with a 4xx, and the submitted value that must not come back."""
    marker = draw(MARKER)
    field = draw(st.sampled_from(["few_letters", "birth_date", "gender", "country", "schema", "year"]))
    if field == "few_letters":
        # digits are read as letters; signs no message uses are not
        signs = draw(st.text(alphabet="#%&*+=~^", min_size=6, max_size=12))
        return {"name": f"Q {signs}"}, signs
    name = f"{marker} Hassan"
    if field == "birth_date":
        return {"name": name, "birth_date": marker}, marker
    if field == "year":
        return {"name": name, "birth_date": "1700-01-01"}, marker
    if field == "gender":
        return {"name": name, "gender": marker}, marker
    if field == "country":
        return {"name": name, "countries": [marker]}, marker
    return {"name": name, "schema": marker}, marker


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_bad_subjects())
def test_no_problem_echoes_a_submitted_value(client: TestClient, un_store: Engine, case: tuple[dict, str]) -> None:
    subject, secret = case
    member = _hypothesis_member(un_store)
    for path, body in (("/match", subject), ("/decisions", {"subject": subject, "reference": "QDi.354",
                                                            "verdict": "false_positive", "reason": "r"})):
        answer = client.post(path, json=body, headers=member.auth("analyst"))
        assert 400 <= answer.status_code < 500, answer.text
        assert secret not in answer.text
        assert secret not in json.dumps(answer.json(), ensure_ascii=True)


_MEMBERS: dict[int, Member] = {}


def _hypothesis_member(engine: Engine) -> Member:
    # one member per store for all examples (the session's stores are shared)
    return _MEMBERS.setdefault(id(engine), make_member(engine))


def test_an_already_whitelisted_subject_is_not_named_in_the_conflict(
        client: TestClient, new_member: Callable[[], Member]) -> None:
    member = new_member()
    subject = {"name": "Taraq Harzy Ouni", "birth_date": "1982"}  # a spelling no other test decides
    decision = {"subject": subject, "reference": "QDi.354", "verdict": "false_positive", "reason": "another man"}
    assert client.post("/decisions", json=decision, headers=member.auth("analyst")).status_code == 201
    again = client.post("/decisions", json=decision, headers=member.auth("analyst"))
    assert again.status_code == 409
    assert "Taraq" not in again.text and "Harzy" not in again.text


def test_an_audit_row_that_waits_out_the_store_is_a_503_and_still_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "store.db"
    monkeypatch.setenv("JOINTWATCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT_SECONDS", 1)  # not a minute per attempt in a test
    engine = open_engine(str(db), create=True)
    load_list(engine, open_list(UN_FILE, "un"))
    member = make_member(engine)
    app = create_app(engine)
    with TestClient(app) as client:
        assert client.post("/match", json={"name": "Ali Hassan"}, headers=member.auth("screener")).status_code == 200
        before = len(read_audit(engine, member.id))
        writer = sqlite3.connect(db, isolation_level=None)  # another writer holds the store
        writer.execute("BEGIN IMMEDIATE")
        try:
            sent = datetime.now(UTC)
            answer = client.post("/match", json={"name": "Ali Hassan"}, headers=member.auth("screener"))
            assert answer.status_code == 503 and answer.headers["Retry-After"]
            assert answer.json()["type"].endswith("store-busy")
            assert "matches" not in answer.json()  # the answer that could not be audited is not sent
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        app.state.audit_backlog.join()  # the row is retried until the store takes it
    rows = read_audit(engine, member.id)
    assert len(rows) == before + 1
    assert (rows[-1].action, rows[-1].status) == ("match", 503)
    # stamped when written (after the busy timeout), not at arrival: a reader following the trail by time sees it
    assert rows[-1].at >= sent + timedelta(seconds=1) and "arrived" in rows[-1].result_summary
    engine.dispose()
