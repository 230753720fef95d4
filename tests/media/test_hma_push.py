"""Push to an HMA bank (issue 21): `media push` against our own HMA-shaped routes on a real service.

The receiving service is `create_app` under uvicorn in a thread on a loopback port (as `jointwatch serve` runs
it); the pushing side is a store of its own. Hostile cases: a key without the right, TLP:RED (the member's own and
another member's), a refusal (403, 429, no connection) that leaves the checkpoint where it was, and a re-run after
an interruption that sends nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import Engine
from typer.testing import CliRunner

from jointwatch.api import ServiceSettings, create_app
from jointwatch.cli import app as cli_app
from jointwatch.errors import InvalidInputError, LinkAnswerError
from jointwatch.media import change_status, history, list_items, make_labels, push_signals
from jointwatch.media.files import contribute_files
from jointwatch.store import add_member, create_key, open_engine
from jointwatch.store.members import Member
from tests.media import clips
from tests.media.conftest import image_bytes
from tests.serving import free_port
from tests.serving import serving as serving_app

pytest.importorskip("vpdq")
pytest.importorskip("av")
pytest.importorskip("threatexchange")
BANK = "TERROR_PROPAGANDA"


@contextmanager
def serving(engine: Engine, settings: ServiceSettings | None = None, port: int | None = None) -> Iterator[str]:
    """The service over ``engine`` on a loopback port (a free one): its /media/hma root."""
    with serving_app(create_app(engine, settings or ServiceSettings(rate_per_second=0)), port) as origin:
        yield f"{origin}/media/hma"


@pytest.fixture(scope="module")
def files(photos: dict[str, Image.Image], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("push")
    frames = clips.pan(np.asarray(photos["astronaut"]), 4, 1) + clips.pan(np.asarray(photos["rocket"]), 4, 2)
    data = {"video.mp4": clips.video(frames), "reencoded.mkv": clips.video(frames, codec="mpeg4",
                                                                             container="matroska")}
    data.update({f"{name}.png": image_bytes(photos[name]) for name in ("coffee", "chelsea", "astronaut", "rocket")
                 })
    for name, content in data.items():
        (folder / name).write_bytes(content)
    return {name: folder / name for name in data}


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[Engine, int, dict[str, str]]]:
    """The receiving store: Platform A's member there, with a key that may bank (analyst) and one that may not."""
    engine = open_engine(str(tmp_path / "receiver.db"), create=True)
    member = add_member(engine, "Platform A").id
    keys = {role: create_key(engine, member, f"{role}-push", role)[1] for role in ("analyst", "screener")}
    yield engine, member, keys
    engine.dispose()


def _bank(engine: Engine, member: int, path: Path, tlp: str, group: str | None = None) -> str:
    [done] = list(contribute_files(engine, member, "x", [path], make_labels("propaganda", group, tlp)))
    assert done.item is not None, done.error
    return done.item.ref


def _sha256s(engine: Engine, member: int) -> dict[str, str]:
    return {i.sha256: i.status for i in list_items(engine, member, member=member) if i.sha256}


def test_push_to_a_jointwatch_hma_bank_then_match_there_and_follow_disputes(
        bank_store: Engine, partners: tuple[Member, Member], receiver: tuple[Engine, int, dict[str, str]],
        files: dict[str, Path], tmp_path: Path) -> None:
    a, c = partners
    engine, theirs, keys = receiver
    video = _bank(bank_store, a.id, files["video.mp4"], "green", "ISIL")
    image = _bank(bank_store, a.id, files["coffee.png"], "amber")
    _bank(bank_store, a.id, files["chelsea.png"], "red")                 # A's own red: never leaves
    _bank(bank_store, c.id, files["astronaut.png"], "red")               # another member's red: A cannot see it
    shared = _bank(bank_store, c.id, files["rocket.png"], "green")       # another member's green: A may push it
    sha = {i.ref: i.sha256 for i in list_items(bank_store, a.id)}
    checkpoint = tmp_path / "push.json"

    with serving(engine) as url:
        # a key that may not bank: refused (403), nothing banked, no checkpoint
        with pytest.raises(LinkAnswerError, match="403"):
            push_signals(url, BANK, bank_store, a.id, checkpoint, keys["screener"])
        assert not checkpoint.exists() and _sha256s(engine, theirs) == {}
        with pytest.raises(InvalidInputError, match="RED"):
            push_signals(url, BANK, bank_store, a.id, checkpoint, keys["analyst"], max_tlp="red")

        done = push_signals(url, BANK, bank_store, a.id, checkpoint, keys["analyst"])
        assert (done.added, done.removed, done.skipped) == (3, 0, 0)
        arrived = list_items(engine, theirs, member=theirs)
        assert {i.sha256 for i in arrived} == {sha[video], sha[image], sha[shared]}
        by_sha = {i.sha256: i for i in arrived}
        assert (by_sha[sha[video]].kind, by_sha[sha[video]].group, by_sha[sha[video]].tlp,
                by_sha[sha[video]].origin) == ("video", "ISIL", "green", f"hma:{BANK}")
        # the far side matches a re-encode of the video (no exact hash in common) by the pushed vPDQ
        screener = {"Authorization": f"Bearer {keys['screener']}", "Content-Type": "application/octet-stream"}
        answer = httpx.post(url.removesuffix("/hma") + "/match/upload", content=files["reencoded.mkv"].read_bytes(),
                            headers=screener, timeout=120)
        assert answer.status_code == 200, answer.text
        assert [(m["item"]["sha256"], m["method"]) for m in answer.json()["matches"]] == [(sha[video], "vpdq")]

        # run again: nothing changed, nothing sent
        assert push_signals(url, BANK, bank_store, a.id, checkpoint, keys["analyst"]).added == 0
        # its contributor makes the shared item red: A no longer sees it, and the push takes it back
        _bank(bank_store, c.id, files["rocket.png"], "red")
        done = push_signals(url, BANK, bank_store, a.id, checkpoint, keys["analyst"])
        assert (done.added, done.removed) == (0, 1)
        assert _sha256s(engine, theirs)[sha[shared]] == "disputed"
        # disputed at home: removed there (it stops matching); reinstated: added back, the same item
        [item] = [i for i in list_items(bank_store, a.id) if i.ref == image]
        change_status(bank_store, item.id, a.id, "x", "dispute", "a stock photo")
        assert push_signals(url, BANK, bank_store, a.id, checkpoint, keys["analyst"]).removed == 1
        assert _sha256s(engine, theirs)[sha[image]] == "disputed"
        change_status(bank_store, item.id, a.id, "x", "reinstate", "reviewed: propaganda after all")
        result = CliRunner().invoke(cli_app, ["media", "push", url, "--bank", BANK, "--checkpoint", str(checkpoint),
                                              "-m", "Platform A", "--json", "--db", str(bank_store.url)
                                              .replace("sqlite:///", "")],
                                    env={"JOINTWATCH_PUSH_KEY": keys["analyst"]}) if bank_store.url.get_backend_name() \
            == "sqlite" else None
        if result is not None:
            assert result.exit_code == 0, result.output
            assert json.loads(result.stdout) == {"added": 1, "removed": 0, "skipped": 0}
        else:
            assert push_signals(url, BANK, bank_store, a.id, checkpoint, keys["analyst"]).added == 1
        assert _sha256s(engine, theirs) == {sha[video]: "active", sha[image]: "active", sha[shared]: "disputed"}
        assert len(list_items(engine, theirs, member=theirs)) == 3

    # a checkpoint kept for one bank is refused for another; so is a name HMA would refuse
    with pytest.raises(InvalidInputError, match="its own checkpoint"):
        push_signals(url, "OTHER_BANK", bank_store, a.id, checkpoint)
    with pytest.raises(InvalidInputError, match="capitals"):
        push_signals(url, "lower-case", bank_store, a.id, tmp_path / "new.json")


def test_another_members_amber_item_goes_only_to_the_members_own_service(
        bank_store: Engine, partners: tuple[Member, Member], receiver: tuple[Engine, int, dict[str, str]],
        files: dict[str, Path], tmp_path: Path) -> None:
    """TLP 2.0: an AMBER recipient shares within its own organisation. A's push to a partner's service carries A's
    own AMBER item and C's GREEN one, never C's AMBER one; told the far side is A's own, it carries that too."""
    a, c = partners
    engine, theirs, keys = receiver
    sha = {}
    for member, name, tlp in ((a.id, "coffee.png", "amber"), (c.id, "chelsea.png", "amber"),
                              (c.id, "rocket.png", "green")):
        ref = _bank(bank_store, member, files[name], tlp)
        sha[name] = next(i.sha256 for i in list_items(bank_store, a.id) if i.ref == ref)
    with serving(engine) as url:
        done = push_signals(url, BANK, bank_store, a.id, tmp_path / "partner.json", keys["analyst"])
        assert (done.added, done.removed) == (2, 0)
        assert _sha256s(engine, theirs) == {sha["coffee.png"]: "active", sha["rocket.png"]: "active"}
        result = CliRunner().invoke(cli_app, ["media", "push", url, "--bank", BANK, "--own-service", "--checkpoint",
                                              str(tmp_path / "own.json"), "-m", "Platform A", "--json", "--db",
                                              str(bank_store.url).replace("sqlite:///", "")],
                                    env={"JOINTWATCH_PUSH_KEY": keys["analyst"]}) \
            if bank_store.url.get_backend_name() == "sqlite" else None
        if result is not None:
            assert result.exit_code == 0, result.output
            assert json.loads(result.stdout)["added"] == 3
        else:
            assert push_signals(url, BANK, bank_store, a.id, tmp_path / "own.json", keys["analyst"],
                                own_service=True).added == 3
        assert sha["chelsea.png"] in _sha256s(engine, theirs)


def test_an_interrupted_push_resumes_where_it_stopped_and_sends_nothing_twice(
        bank_store: Engine, partners: tuple[Member, Member], receiver: tuple[Engine, int, dict[str, str]],
        files: dict[str, Path], tmp_path: Path) -> None:
    a, _ = partners
    engine, theirs, _ = receiver
    refs = [_bank(bank_store, a.id, files[name], "green") for name in ("coffee.png", "chelsea.png", "astronaut.png")]
    checkpoint = tmp_path / "push.json"
    # the far side lets each key send 3 requests (the signal types, the bank, one item): then 429
    throttled = ServiceSettings(rate_per_second=0.001, rate_burst=3)
    first, second = (create_key(engine, theirs, f"pusher-{n}", "analyst")[1] for n in (1, 2))
    with serving(engine, throttled) as url:
        with pytest.raises(LinkAnswerError, match="429"):
            push_signals(url, BANK, bank_store, a.id, checkpoint, first)
        kept = json.loads(checkpoint.read_text())
        assert list(kept["pushed"]) == refs[:1]                 # the one item accepted, and where the walk stood
        assert len(list_items(engine, theirs, member=theirs)) == 1
        # no connection at all: refused, the checkpoint as it was
        with pytest.raises(LinkAnswerError):
            push_signals(f"http://127.0.0.1:{free_port()}/media/hma", BANK, bank_store, a.id,
                         tmp_path / "nowhere.json", first)
        assert json.loads(checkpoint.read_text()) == kept
        # resumed with a key that has its allowance: the next item only (429 again on the third)
        with pytest.raises(LinkAnswerError, match="429"):
            push_signals(url, BANK, bank_store, a.id, checkpoint, second)
        assert list(json.loads(checkpoint.read_text())["pushed"]) == refs[:2]
    # the far side restarted without the limit, at the same address: the last item only
    with serving(engine, port=int(url.split(":")[2].split("/")[0])) as again:
        assert push_signals(again, BANK, bank_store, a.id, checkpoint, first).added == 1
    items = list_items(engine, theirs, member=theirs)
    assert len(items) == 3
    # each item was sent once: contributed, never relabelled by a second copy
    assert all([e.action for e in history(engine, i.id, theirs)] == ["contribute"] for i in items)


def test_the_hma_routes_check_every_signal_and_touch_only_the_callers_items(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from threatexchange.extensions.vpdq.vpdq import VPDQSignal

    engine = open_engine(str(tmp_path / "store.db"), create=True)
    mine, other = (add_member(engine, name).id for name in ("Platform A", "Agency B"))
    keys = {name: {"Authorization": f"Bearer {create_key(engine, member, 'u', role)[1]}"}
            for name, member, role in (("mine", mine, "analyst"), ("other", other, "analyst"),
                                       ("screener", mine, "screener"))}
    root = f"/media/hma/c/bank/{BANK}"
    with TestClient(create_app(engine)) as client:
        assert {"pdq", "video_md5", "video_sha256", "vpdq"} <= {
            t["name"] for t in client.get("/media/hma/c/signal_type", headers=keys["screener"]).json()}
        # a video known by its vPDQ alone (the package's own example signal): one item, a video, no file hash
        [example] = VPDQSignal.get_examples()
        added = client.post(f"{root}/signal", json={"vpdq": example}, headers=keys["mine"],
                            params={"content_type": "recruitment", "tlp": "green"})
        assert added.status_code == 200, added.text
        [item] = list_items(engine, mine, member=mine)
        assert (added.json()["id"], item.kind, item.sha256, item.md5, item.tlp) == (item.id, "video", None, None,
                                                                                    "green")
        again = client.post(f"{root}/signal", json={"vpdq": example}, headers=keys["mine"])
        assert again.json()["id"] == item.id and len(list_items(engine, mine, member=mine)) == 1
        for body, fault in (({"url": "http://x"}, "no such signal type 'url'"), ({"pdq": "1234"}, "invalid pdq"),
                            ({"vpdq": '["zz,1,0.0"]'}, "invalid vpdq"), ({}, "no signals")):
            refused = client.post(f"{root}/signal", json=body, headers=keys["mine"])
            assert refused.status_code == 422 and fault in refused.text, refused.text
        assert client.post(f"{root}/signal", json={"pdq": "f" * 64}, headers=keys["screener"]).status_code == 403
        assert client.post("/media/hma/c/bank/lower/signal", json={"pdq": "f" * 64},
                           headers=keys["mine"]).status_code == 422
        # another member cannot take the item away; its contributor can (it stops matching, its history kept)
        assert client.delete(f"{root}/content/{item.id}", headers=keys["other"]).json() == {"deleted": 0}
        assert client.delete(f"{root}/content/{item.id}", headers=keys["mine"]).json() == {"deleted": 1}
        assert client.delete(f"{root}/content/{item.id}", headers=keys["mine"]).json() == {"deleted": 0}
        assert [i.status for i in list_items(engine, mine, member=mine)] == ["disputed"]
        client.post(f"{root}/signal", json={"vpdq": example}, headers=keys["mine"])
        assert [i.status for i in list_items(engine, mine, member=mine)] == ["active"]
    engine.dispose()
