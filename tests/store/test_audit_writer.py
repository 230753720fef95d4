"""The audit writer's group commits, on SQLite and PostgreSQL: every row handed to it is committed
before its caller is told so, rows of many callers share transactions, and a row the database
refuses fails alone, never its neighbours in the batch."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Engine

from jointwatch.store import AuditWriter, count_audit, read_audit, rows_about
from jointwatch.store.members import add_member


def _row(member_id: int, name: str) -> dict[str, Any]:
    return {"member_id": member_id, "user": "ann", "action": "match", "status": 200,
            "subject": {"name": name, "schema": "Person"}, "list_versions": {"un_sc": "v1"},
            "result_summary": "0 matches"}


def _write_all(writer: AuditWriter, rows: list[dict[str, Any]]) -> list[BaseException | None]:
    """Hand every row to the writer at once (as concurrent requests do); each row's outcome."""
    outcomes: list[BaseException | None] = [None] * len(rows)
    done = [threading.Event() for _ in rows]

    def settle(i: int) -> Any:
        def callback(error: BaseException | None) -> None:
            outcomes[i] = error
            done[i].set()
        return callback

    for i, row in enumerate(rows):
        writer.submit(row, settle(i))
    for event in done:
        assert event.wait(60)
    return outcomes


def test_every_row_is_committed_before_its_caller_hears_so(store: Engine) -> None:
    member = add_member(store, "Border Police NL")
    writer = AuditWriter(store)
    rows = [_row(member.id, f"Probe {i}") for i in range(300)]
    outcomes = _write_all(writer, rows)
    assert outcomes == [None] * 300
    assert count_audit(store, member.id, "match", 200) == 300
    assert writer.rows == 300
    assert writer.batches < 300  # rows that arrived together shared a transaction
    found = rows_about(store, [{"name": "Probe 7", "schema": "Person"}], member.id)
    assert [(r.action, r.status, r.list_versions, r.result_summary) for r in found] == [
        ("match", 200, {"un_sc": "v1"}, "0 matches")]
    assert found[0].subject_digest is not None and found[0].subject_digest.startswith("k")


def test_a_row_the_database_refuses_fails_alone(store: Engine) -> None:
    member = add_member(store, "Border Police NL")
    writer = AuditWriter(store, max_batch=1000)
    rows = [_row(member.id, f"Probe {i}") for i in range(20)]
    rows[10] = {**rows[10], "member_id": 999_999}  # no such member: the foreign key refuses it
    outcomes = _write_all(writer, rows)
    assert outcomes[10] is not None
    assert [o for i, o in enumerate(outcomes) if i != 10] == [None] * 19
    assert len(read_audit(store, member.id)) == 19
