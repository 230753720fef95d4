"""The alerts queue in the store: filing, paging, filters, counts per state, member isolation,
assignment, deciding (which files the member's decision) and history; migration 0019 keeps
the customer alerts as alerts of origin ``customer``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text

from jointwatch.errors import ConflictError, InvalidInputError, NotFoundError
from jointwatch.screening import Query
from jointwatch.sources import open_list
from jointwatch.store import (
    NewAlert,
    add_member,
    alert_history,
    alerts_page,
    assign_alert,
    count_alerts_by_state,
    create_key,
    database_url,
    decide_alert,
    decided_false_positives,
    file_alerts,
    get_alert,
    list_alerts,
    list_decisions,
    load_list,
    show_entity,
)
from jointwatch.store.engine import alembic_config, upgrade
from tests.conftest import UN_FILE

HARZI = "TARAK BEN TAHER BEN FALEH OUNI HARZI"


def _new(subject: str, origin: str = "payment", ref: str = "MSG-1", source: str = "un_sc",
         reference: str = "QDi.354", entity_id: str = "un-qdi-354") -> NewAlert:
    return NewAlert(origin=origin, origin_ref=ref, subject=subject, entity_id=entity_id, source=source,
                    reference=reference, caption=HARZI, listed_name=HARZI, kind="name", score=0.97,
                    list_version="v1", subject_key=Query(name=subject, schema="Person").identity())


def test_alerts_are_paged_newest_first_filtered_and_counted_per_member(store: Engine) -> None:
    a, b = add_member(store, "Bank A").id, add_member(store, "Bank B").id
    create_key(store, a, "ann", "analyst")
    create_key(store, a, "bob", "analyst")
    mine = file_alerts(store, a, [_new(f"Person {i}", ref=f"MSG-{i}") for i in range(120)])
    theirs = file_alerts(store, b, [_new("Tarak Harzi", origin="traveller", ref="LH123/1")])
    assert [x.state for x in mine[:2]] == ["open", "open"] and mine[0].origin == "payment"

    first = alerts_page(store, a)
    assert len(first) == 50 and first[0].id == mine[-1].id and first[0].id > first[-1].id
    second = alerts_page(store, a, before=first[-1].id)
    assert second[0].id == first[-1].id - 1
    assert alerts_page(store, a, text="person 11") == [x for x in reversed(mine) if "Person 11" in x.subject]
    assert alerts_page(store, a, origin="traveller") == []
    assert [x.id for x in alerts_page(store, b)] == [theirs[0].id]
    # another member's alert is not found, as one that does not exist
    with pytest.raises(NotFoundError):
        get_alert(store, a, theirs[0].id)
    with pytest.raises(NotFoundError):
        assign_alert(store, a, theirs[0].id, "ann", "ann")

    assign_alert(store, a, mine[0].id, "ann", "ann")
    assign_alert(store, a, mine[1].id, "ann", "bob")
    with pytest.raises(InvalidInputError):     # not a user of this member
        assign_alert(store, a, mine[2].id, "ann", "eve")
    assert [x.id for x in alerts_page(store, a, state="assigned", assignee="bob")] == [mine[1].id]
    assign_alert(store, a, mine[1].id, "bob", None)
    assert count_alerts_by_state(store, a) == {"open": 119, "assigned": 1, "true_positive": 0, "false_positive": 0,
                                               "withdrawn": 0}
    assert count_alerts_by_state(store, b)["open"] == 1
    assert [e.action for e in alert_history(store, a, mine[1].id)] == ["opened", "assigned", "unassigned"]
    with pytest.raises(InvalidInputError):
        alerts_page(store, a, state="maybe")


def test_deciding_an_alert_files_the_members_decision(store: Engine) -> None:
    load_list(store, open_list(UN_FILE, "un"))
    [listing] = show_entity(store, "QDi.354", "un_sc")
    a, b = add_member(store, "Bank A").id, add_member(store, "Bank B").id
    new = _new("Tarak Harzi", entity_id=listing.entity_id)
    first, second = file_alerts(store, a, [new, replace(new, origin_ref="MSG-2")])
    [other] = file_alerts(store, b, [new])
    with pytest.raises(InvalidInputError):
        decide_alert(store, a, first.id, "ann", "false_positive", "  ")
    with pytest.raises(NotFoundError):
        decide_alert(store, a, other.id, "ann", "false_positive", "a different man")

    decided = decide_alert(store, a, first.id, "ann", "false_positive", "born 1990, listed man born 1981")
    assert (decided.state, decided.decided_by, decided.assignee) == ("false_positive", "ann", "ann")
    assert decided.decision_reason == "born 1990, listed man born 1981"
    [decision] = list_decisions(store, a)
    assert (decision.id, decision.verdict, decision.reference, decision.query_name) == (
        decided.decision_id, "false_positive", "QDi.354", "Tarak Harzi")
    # the match is suppressed for this member only, as POST /decisions does
    assert decided_false_positives(store, new.subject_key or "", [listing.entity_id], a) == {listing.entity_id}
    assert decided_false_positives(store, new.subject_key or "", [listing.entity_id], b) == set()
    with pytest.raises(ConflictError):
        decide_alert(store, a, first.id, "ann", "true_positive", "again")
    with pytest.raises(ConflictError):
        assign_alert(store, a, first.id, "ann", None)
    # the same party's second alert takes the verdict without a second decision
    assert decide_alert(store, a, second.id, "ann", "false_positive", "same man").state == "false_positive"
    assert len(list_decisions(store, a)) == 1
    assert [e.action for e in alert_history(store, a, first.id)] == ["opened", "decided"]
    assert count_alerts_by_state(store, a)["false_positive"] == 2
    # a partner hit is no listing of the register: the alert keeps the verdict, no decision is filed
    [partner] = file_alerts(store, a, [replace(new, source="shared", reference="sh-" + "0" * 20,
                                               entity_id="sh-" + "0" * 20, originator="Bank B", tlp="amber")])
    assert partner.tlp == "amber" and partner.originator == "Bank B"
    done = decide_alert(store, a, partner.id, "ann", "true_positive", "the same man as the partner's")
    assert (done.state, done.decision_id) == ("true_positive", None)
    assert "partner entry" in (alert_history(store, a, partner.id)[-1].detail or "")
    assert len(list_decisions(store, a)) == 1


def test_migration_0019_keeps_customer_alerts_as_alerts(tmp_path: Path) -> None:
    engine = create_engine(database_url(str(tmp_path / "old.db")))
    config = alembic_config()
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0018")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO members (name, country, created_at) VALUES ('local', NULL, :now)"),
                           {"now": now})
        member = connection.execute(text("SELECT id FROM members")).scalar_one()
        connection.execute(text(
            "INSERT INTO customers (member_id, ref, name, schema, updated_at) "
            "VALUES (:m, 'c1', 'Tarak Harzi', 'Person', :now)"), {"m": member, "now": now})
        for ref in ("c1", "c2"):
            connection.execute(text(
                "INSERT INTO customer_alerts (member_id, customer_ref, entity_id, source, reference, caption, "
                "listed_name, kind, score, list_version, status, run_id, created_at) VALUES (:m, :ref, 'un-1', "
                "'un_sc', 'QDi.354', 'Harzi', 'Harzi', 'name', 0.9, 'v1', 'open', 1, :now)"),
                {"m": member, "ref": ref, "now": now})
    upgrade(engine)
    assert [(a.customer_ref, a.status) for a in list_alerts(engine, member)] == [("c1", "open"), ("c2", "open")]
    page = alerts_page(engine, member)
    assert [(x.origin, x.origin_ref, x.subject, x.state) for x in page] == [
        ("customer", "c2", "c2", "open"), ("customer", "c1", "Tarak Harzi", "open")]
    engine.dispose()
