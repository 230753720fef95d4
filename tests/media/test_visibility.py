"""Who sees which item: TLP rules on every read path (API and library alike), disputes per member, asking.

Issue 13: any key with the screen right read any member's item by its (sequential) number,
RED ones included, with its history's user names, and /media/match returned other members'
RED items with their labels; one analyst could switch the bank off by disputing item by item.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from jointwatch.api import create_app
from jointwatch.api.settings import ServiceSettings
from jointwatch.errors import NotFoundError
from jointwatch.media.bank import get_item, history, list_items
from jointwatch.media.exchange import export_bank
from jointwatch.media.labels import TLP_LEVELS
from jointwatch.media.matcher import HIDDEN_NOTICE, load_matcher, seen_by
from tests.api.conftest import Member, make_member
from tests.media.conftest import make_store

SHARED = {"clear", "green", "amber"}  # docs/media.md: every member; amber+strict and red: the contributor only


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, TestClient, list[Member]]]:
    engine = make_store("sqlite", tmp_path_factory.mktemp("bank"))
    members = [make_member(engine) for _ in range(3)]
    with TestClient(create_app(engine, ServiceSettings(rate_per_second=0))) as client:
        yield engine, client, members
    engine.dispose()


# (contributing member, TLP) of each item of an example
ITEMS = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(TLP_LEVELS)), min_size=1, max_size=5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=ITEMS, same_file=st.booleans())
def test_every_read_path_shows_a_member_exactly_what_tlp_allows(
        bank: tuple[Engine, TestClient, list[Member]], items: list[tuple[int, str]], same_file: bool,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    engine, client, members = bank
    # fresh hashes each example (the bank is shared): one file banked by several members, or one file each
    shared = uuid.uuid4().hex
    banked = []  # (id, owner, tlp, md5, group, ref)
    for owner, tlp in items:
        if same_file and owner in {b[1] for b in banked}:
            continue  # a member banking its file again relabels its own item (test_bank)
        md5 = shared if same_file else uuid.uuid4().hex
        pdq = uuid.uuid4().hex * 2
        group = f"group-{uuid.uuid4().hex}"
        made = client.post("/media/items", json={"md5": md5, "pdq": pdq, "pdq_quality": 100, "content_type": "logo",
                                                 "group": group, "tlp": tlp},
                           headers=members[owner].auth("analyst"))
        assert made.status_code == 201, made.text
        item = made.json()["item"]
        banked.append((item["id"], owner, item["tlp"], md5, item["group"], item["ref"]))
    out = tmp_path_factory.mktemp("export") / "bank.json"

    for v, viewer in enumerate(members):
        headers = viewer.auth("screener")
        listed = {i.id for i in list_items(engine, viewer.id)}
        export_bank(engine, out, "jointwatch-json", max_tlp="red", viewer=viewer.id)
        exported = {(i["md5"], i["group"]) for i in json.loads(out.read_text())["items"]}
        for item_id, owner, tlp, md5, group, ref in banked:
            may_see = tlp in SHARED or owner == v
            one = client.get(f"/media/items/{item_id}", headers=headers)
            hist = client.get(f"/media/items/{item_id}/history", headers=headers)
            by_ref = client.get("/media/items", params={"ref": ref}, headers=headers)
            assert by_ref.status_code == 200
            if may_see:
                assert one.status_code == 200 and one.json()["group"] == group
                assert hist.status_code == 200
                # another member's user names are not the viewer's to see
                assert all(e["user"] is None for e in hist.json() if e["member"] != viewer.name)
                assert get_item(engine, item_id, viewer.id).group == group
                assert [e.action for e in history(engine, item_id, viewer.id)] == ["contribute"]
                assert [i["id"] for i in by_ref.json()] == [item_id]
            else:
                # the same answer as for a number no item has: numbers confirm nothing
                assert (one.status_code, one.json()["detail"]) == (404, f"no media item #{item_id}")
                assert (hist.status_code, hist.json()["detail"]) == (404, f"no media item #{item_id}")
                with pytest.raises(NotFoundError):
                    get_item(engine, item_id, viewer.id)
                assert by_ref.json() == []
            assert (item_id in listed) == may_see
            assert ((md5, group) in exported) == may_see

        for md5 in {b[3] for b in banked}:
            same_file = [b for b in banked if b[3] == md5]
            found = client.post("/media/match", json={"md5": md5}, headers=headers)
            assert found.status_code == 200
            body = found.json()
            visible = {b[0] for b in same_file if b[2] in SHARED or b[1] == v}
            hidden = {b[5] for b in same_file if b[0] not in visible}
            assert {m["item"]["id"] for m in body["matches"]} == visible
            assert {h["ref"] for h in body["hidden"]} == hidden
            assert all(h == {"ref": h["ref"], "notice": HIDDEN_NOTICE} for h in body["hidden"])
            # nothing of a hidden item leaks: not its labels, its contributor or its number
            text = found.text
            for item_id, owner, _, _, group, ref in same_file:
                if ref in hidden:
                    assert group not in text and item_id not in {m["item"]["id"] for m in body["matches"]}
                    if owner != v and not any(b[1] == owner and b[0] in visible for b in same_file):
                        assert members[owner].name not in text
            # the library gives the CLI the same answer
            seen = seen_by(engine, viewer.id, load_matcher(engine).match_hashes(md5=md5))
            assert {m.item.id for m in seen.matches} == {m["item"]["id"] for m in body["matches"]}
            assert {h.ref for h in seen.hidden} == {h["ref"] for h in body["hidden"]}


@pytest.fixture
def strict_client(tmp_path: Path) -> Iterator[tuple[Engine, TestClient]]:
    engine = make_store("sqlite", tmp_path)
    with TestClient(create_app(engine, ServiceSettings(rate_per_second=0, media_disputes_per_day=2))) as client:
        yield engine, client
    engine.dispose()


def _bank(client: TestClient, member: Member, tlp: str, md5: str) -> dict[str, object]:
    made = client.post("/media/items", json={"md5": md5, "content_type": "logo", "tlp": tlp},
                       headers=member.auth("analyst"))
    assert made.status_code == 201, made.text
    return made.json()["item"]  # type: ignore[no-any-return]


def test_disputes_are_per_member_limited_and_only_of_visible_items(strict_client: tuple[Engine, TestClient]) -> None:
    engine, client = strict_client
    a, b, c = (make_member(engine) for _ in range(3))
    red = _bank(client, a, "red", "0" * 32)
    greens = [_bank(client, a, "green", f"{n:032x}") for n in range(1, 5)]
    reason = {"reason": "a false positive"}
    # an item B may not see cannot be disputed by B: it does not exist for B
    assert client.post(f"/media/items/{red['id']}/dispute", json=reason, headers=b.auth("analyst")).status_code == 404

    first = client.post(f"/media/items/{greens[0]['id']}/dispute", json=reason, headers=b.auth("analyst"))
    assert first.status_code == 200 and first.json()["status"] == "disputed"  # as B sees it
    md5 = greens[0]["md5"]
    assert client.post("/media/match", json={"md5": md5}, headers=b.auth("screener")).json()["matches"] == []
    # ... C still matches it, and A sees its item active: B's dispute does not switch the bank off
    assert len(client.post("/media/match", json={"md5": md5}, headers=c.auth("screener")).json()["matches"]) == 1
    assert client.get(f"/media/items/{greens[0]['id']}", headers=a.auth("screener")).json()["status"] == "active"

    assert client.post(f"/media/items/{greens[1]['id']}/dispute", json=reason,
                       headers=b.auth("analyst")).status_code == 200
    over = client.post(f"/media/items/{greens[2]['id']}/dispute", json=reason, headers=b.auth("analyst"))
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
    assert "limit of 2" in over.json()["detail"]
    # the contributor agreeing switches it off for everyone; its own disputes are not counted
    for item in greens[:3]:
        assert client.post(f"/media/items/{item['id']}/dispute", json={"reason": "agreed"},
                           headers=a.auth("analyst")).status_code == 200
    assert client.post("/media/match", json={"md5": md5}, headers=c.auth("screener")).json()["matches"] == []
    # B's dispute of A's shared item is A's and B's business: C does not learn what B contests
    def actions(viewer: Member) -> list[tuple[str, str]]:
        events = client.get(f"/media/items/{greens[1]['id']}/history", headers=viewer.auth("screener")).json()
        return [(e["action"], e["member"]) for e in events]
    assert ("dispute", b.name) in actions(a) and ("dispute", b.name) in actions(b)
    assert [m for _, m in actions(c)] == [a.name] * len(actions(c))


def test_a_hidden_match_can_ask_its_contributor(strict_client: tuple[Engine, TestClient]) -> None:
    engine, client = strict_client
    a, b = make_member(engine), make_member(engine)
    item = _bank(client, a, "amber+strict", "ab" * 16)
    [hidden] = client.post("/media/match", json={"md5": "ab" * 16}, headers=b.auth("screener")).json()["hidden"]
    assert hidden["ref"] == item["ref"] and set(hidden) == {"ref", "notice"}
    asked = client.post(f"/media/refs/{hidden['ref']}/ask", json={"question": "we hold this file: which group?"},
                        headers=b.auth("analyst"))
    assert asked.status_code == 204, asked.text
    events = client.get(f"/media/items/{item['id']}/history", headers=a.auth("screener")).json()
    assert [(e["action"], e["member"], e["user"]) for e in events][-1] == ("ask", b.name, None)
    assert events[-1]["reason"] == "we hold this file: which group?"
    assert client.post(f"/media/refs/{'0' * 32}/ask", json={"question": "?"},
                       headers=b.auth("analyst")).status_code == 404


def test_questions_about_hidden_matches_are_limited_per_day(strict_client: tuple[Engine, TestClient]) -> None:
    from jointwatch.errors import LimitReachedError
    from jointwatch.media import ask

    engine, client = strict_client
    a, b = make_member(engine), make_member(engine)
    item = _bank(client, a, "red", "cd" * 16)
    for n in range(2):
        ask(engine, item["ref"], b.name, "bob", f"question {n}", questions_per_day=2)
    with pytest.raises(LimitReachedError, match="limit of 2"):
        ask(engine, item["ref"], b.name, "bob", "one too many", questions_per_day=2)
    events = client.get(f"/media/items/{item['id']}/history", headers=a.auth("screener")).json()
    assert [e["reason"] for e in events if e["action"] == "ask"] == ["question 0", "question 1"]
