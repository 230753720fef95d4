"""The media routes: match by upload or by hashes, contribute, dispute; authorised and audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from jointwatch.api import create_app
from jointwatch.store.audit import read_audit
from tests.api.conftest import Member, make_member
from tests.media.conftest import BACKENDS, edited, image_bytes, make_store

OCTET = {"Content-Type": "application/octet-stream"}


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    store = make_store(str(request.param), tmp_path)
    yield store
    store.dispose()


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine)) as test_client:
        yield test_client


def _upload(client: TestClient, member: Member, role: str, image: Image.Image, **params: str):  # type: ignore[no-untyped-def]
    return client.post("/media/items/upload", params={"content_type": "propaganda", "group": "ISIL", **params},
                       content=image_bytes(image, "JPEG", quality=90), headers={**member.auth(role), **OCTET})


def test_contribute_match_dispute_over_http(client: TestClient, engine: Engine,
                                            photos: dict[str, Image.Image]) -> None:
    platform, agency = make_member(engine), make_member(engine)
    created = _upload(client, platform, "analyst", photos["astronaut"], tlp="green")
    assert created.status_code == 201, created.text
    item = created.json()["item"]
    assert (item["contributor"], item["group"], item["tlp"], item["status"]) == (
        platform.name, "ISIL", "green", "active")

    query = image_bytes(edited(photos["astronaut"], "crop"), "JPEG", quality=60)
    found = client.post("/media/match/upload", content=query, headers={**agency.auth("screener"), **OCTET})
    assert found.status_code == 200, found.text
    assert [(m["item"]["id"], m["method"]) for m in found.json()["matches"]] == [(item["id"], "orb")]
    assert len(found.json()["hashes"]["pdq"]) == 64

    by_hash = client.post("/media/match", json={"pdq": [item["pdq"]]}, headers=agency.auth("screener"))
    assert [m["distance"] for m in by_hash.json()["matches"]] == [0]

    disputed = client.post(f"/media/items/{item['id']}/dispute", json={"reason": "public-domain NASA photo"},
                           headers=agency.auth("analyst"))
    assert disputed.status_code == 200 and disputed.json()["status"] == "disputed"
    # its own dispute drops the item from the agency's matches; being the bank's only item, the agency has
    # nothing left to match against: refused (503), not an empty "no match"
    again = client.post("/media/match/upload", content=query, headers={**agency.auth("screener"), **OCTET})
    assert again.status_code == 503 and "disputed every active item" in again.json()["detail"]
    withdraw = client.post(f"/media/items/{item['id']}/withdraw", json={"reason": "no"},
                           headers=agency.auth("analyst"))
    assert withdraw.status_code == 409 and withdraw.headers["content-type"] == "application/problem+json"
    history = client.get(f"/media/items/{item['id']}/history", headers=agency.auth("screener"))
    assert [e["action"] for e in history.json()] == ["contribute", "dispute"]

    actions = [(e.action, e.status) for e in read_audit(engine, agency.id)]
    assert ("media.match", 200) in actions and ("media.dispute", 200) in actions
    assert ("media.withdraw", 409) in actions


def test_a_form_upload_is_refused_not_hashed_as_a_file(client: TestClient, engine: Engine,
                                                       photos: dict[str, Image.Image]) -> None:
    """A multipart form (curl -F) wraps the file in an envelope: hashed as it is, it matched nothing and banked an
    unreadable "file". It is refused, and nothing is banked."""
    platform = make_member(engine)
    data = image_bytes(photos["astronaut"], "JPEG", quality=90)
    banked = client.post("/media/items/upload", params={"content_type": "propaganda"},
                         files={"file": ("astronaut.jpg", data, "image/jpeg")}, headers=platform.auth("analyst"))
    assert banked.status_code == 422 and "--data-binary" in banked.json()["detail"]
    assert client.get("/media/items/1", headers=platform.auth("analyst")).status_code == 404
    assert _upload(client, platform, "analyst", photos["astronaut"]).status_code == 201
    found = client.post("/media/match/upload", files={"file": ("astronaut.jpg", data, "image/jpeg")},
                        headers=platform.auth("screener"))
    assert found.status_code == 422 and "multipart form" in found.json()["detail"]
    # curl --data-binary without -H says url-encoded over the file's own bytes: taken as the file
    plain = client.post("/media/match/upload", content=data,
                        headers={**platform.auth("screener"), "Content-Type": "application/x-www-form-urlencoded"})
    assert plain.status_code == 200 and [m["item"]["id"] for m in plain.json()["matches"]] == [1]


def test_contribute_by_hashes_and_roles(client: TestClient, engine: Engine) -> None:
    member = make_member(engine)
    body = {"pdq": "ab" * 32, "md5": "CD" * 16, "content_type": "logo", "group": "Al-Qaida"}
    refused = client.post("/media/items", json=body, headers=member.auth("screener"))
    assert refused.status_code == 403
    created = client.post("/media/items", json=body, headers=member.auth("analyst"))
    assert created.status_code == 201 and created.json()["item"]["md5"] == "cd" * 16
    assert client.post("/media/items", json={"content_type": "logo"},
                       headers=member.auth("analyst")).status_code == 422
    assert client.post("/media/match", json={"md5": "cd" * 16}).status_code == 401


def test_bad_uploads_are_problems_naming_the_fault(client: TestClient, engine: Engine,
                                                   photos: dict[str, Image.Image]) -> None:
    member = make_member(engine)
    headers = {**member.auth("screener"), **OCTET}
    empty = client.post("/media/match/upload", content=b"", headers=headers)
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    data = image_bytes(photos["coffee"], "JPEG")
    cut = client.post("/media/match/upload", content=data[: len(data) // 4], headers=headers)
    assert cut.status_code == 422 and "truncated" in cut.json()["detail"]
    # an empty bank cannot say a file is not known content: refused (fail closed), never "no match"
    unbanked = client.post("/media/match/upload", content=b"hello", headers=headers)
    assert unbanked.status_code == 503 and "no active item" in unbanked.json()["detail"]
    by_hash = client.post("/media/match", json={"md5": "cd" * 16}, headers=member.auth("screener"))
    assert by_hash.status_code == 503
    assert _upload(client, member, "analyst", photos["astronaut"]).status_code == 201
    text = client.post("/media/match/upload", content=b"hello", headers=headers)
    assert text.status_code == 200 and "exact hashes only" in text.json()["note"]
    big = client.post("/media/match/upload", content=b"x" * 1_100_000, headers=headers)
    assert big.status_code == 413
    # no hash at all is no question: 422, never an empty "no match"
    for body in ({}, {"pdq": []}, {"vpdq": [], "threshold": 10}):
        nothing = client.post("/media/match", json=body, headers=member.auth("screener"))
        assert nothing.status_code == 422 and "at least one hash" in nothing.json()["detail"], body
    # a member that disputed every active item has nothing left to match against: 503, others still match
    [item] = client.get("/media/items", headers=member.auth("screener")).json()
    disputer = make_member(engine)
    assert client.post(f"/media/items/{item['id']}/dispute", json={"reason": "not propaganda"},
                       headers=disputer.auth("analyst")).status_code == 200
    data = image_bytes(photos["astronaut"], "PNG")
    refused = client.post("/media/match/upload", content=data, headers={**disputer.auth("screener"), **OCTET})
    assert refused.status_code == 503 and "disputed every active item" in refused.json()["detail"]
    assert client.post("/media/match", json={"pdq": [item["pdq"]]},
                       headers=disputer.auth("screener")).status_code == 503
    found = client.post("/media/match/upload", content=data, headers=headers)
    assert [m["item"]["id"] for m in found.json()["matches"]] == [item["id"]]


def test_unknown_and_impossible_item_numbers(client: TestClient, engine: Engine) -> None:
    member = make_member(engine)
    assert client.get("/media/items/12345", headers=member.auth("screener")).status_code == 404
    # past an SQL INTEGER: refused before the store is asked (PostgreSQL would not compare it)
    huge = client.post("/media/items/99999999999/dispute", json={"reason": "x"}, headers=member.auth("analyst"))
    assert huge.status_code == 422


def test_signals_as_threatexchange_fetch_deltas_with_a_checkpoint(client: TestClient, engine: Engine,
                                                                  photos: dict[str, Image.Image],
                                                                  tmp_path: Path) -> None:
    from jointwatch.media import make_labels
    from jointwatch.media.bank import list_items
    from jointwatch.media.te import fetch_signals

    pytest.importorskip("threatexchange")
    platform, agency = make_member(engine), make_member(engine)
    assert _upload(client, platform, "analyst", photos["astronaut"], tlp="green").status_code == 201
    first = client.get("/media/signals", headers=agency.auth("analyst"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert {u["signal_type"] for u in body["updates"]} == {"pdq", "video_md5", "video_sha256"}
    assert body["more"] is False
    assert {"propaganda", "group:ISIL", "tlp:green"} <= set(body["updates"][0]["metadata"]["tags"])
    # the delta, fetched into agency's own bank; the checkpoint kept; nothing new since it
    (tmp_path / "delta.json").write_text(first.text)
    checkpoint = tmp_path / "checkpoint.json"
    result = fetch_signals(str(tmp_path / "delta.json"), engine, agency.id, "y", make_labels("other"), checkpoint)
    assert result.created == 1
    [mine] = list_items(engine, agency.id, member=agency.id)
    assert (mine.group, mine.content_type, mine.tlp) == ("ISIL", "propaganda", "green")
    again = client.get("/media/signals", params={"checkpoint": checkpoint.read_text()}, headers=agency.auth("analyst"))
    assert again.status_code == 200 and [u for u in again.json()["updates"]
                                         if u["metadata"]["item"] != mine.ref] == []
    for text in ("{not json", '{"updated_at": 1, "item_id": "x"}', '{"updated_at": 1e308, "item_id": 0}', "[1, 2]",
                 "[" * 5_000 + "]" * 5_000):
        bad = client.get("/media/signals", params={"checkpoint": text}, headers=agency.auth("analyst"))
        assert bad.status_code == 422 and "checkpoint" in bad.json()["detail"], text[:40]
