"""A banked video's vPDQ through threatexchange's own VPDQSignal, out and back in (issue 21), with the real package.

The video is a real file FFmpeg encoded (tests/media/clips.py), hashed by the real vpdq; the exported signal is
read by the package's own LocalFileSignalExchangeAPI and checked by VPDQSignal's validate_signal_str and
compare_hash; imported into another store as another member, the item matches a re-encode of the video.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import Engine

from jointwatch.errors import ListFormatError
from jointwatch.media import hash_media, load_matcher, make_labels
from jointwatch.media.bank import list_items
from jointwatch.media.exchange import export_bank, import_file
from jointwatch.media.files import contribute_files
from jointwatch.media.te import apply_delta, bank_deltas, delta_from_json, delta_to_json, read_signal_file
from jointwatch.store import add_member, open_engine
from jointwatch.store.members import Member
from tests.media import clips

pytest.importorskip("vpdq")
pytest.importorskip("av")
pytest.importorskip("threatexchange")
from threatexchange.extensions.vpdq.vpdq import VPDQSignal  # noqa: E402


@pytest.fixture(scope="module")
def footage(photos: dict[str, Image.Image]) -> dict[str, bytes]:
    frames = clips.pan(np.asarray(photos["astronaut"]), 4, 1) + clips.pan(np.asarray(photos["coffee"]), 4, 2)
    return {"video": clips.video(frames),
            # the same pictures re-encoded as MPEG-4 Part 2 in Matroska: no byte in common
            "reencoded": clips.video(frames, codec="mpeg4", container="matroska"),
            "unrelated": clips.video(clips.pan(np.asarray(photos["chelsea"]), 8, 3))}


@pytest.fixture(scope="module")
def sender(tmp_path_factory: pytest.TempPathFactory, footage: dict[str, bytes]) -> tuple[Engine, int, Path]:
    """A store where Platform A banked the video (green, ISIL); the video's file (only read by the tests)."""
    tmp_path = tmp_path_factory.mktemp("sender")
    engine = open_engine(str(tmp_path / "sender.db"), create=True)
    member = add_member(engine, "Platform A").id
    path = tmp_path / "video.mp4"
    path.write_bytes(footage["video"])
    [banked] = list(contribute_files(engine, member, "x", [path], make_labels("propaganda", "ISIL", "green")))
    assert banked.item is not None and banked.item.kind == "video"
    return engine, member, path


def _vpdq_matches(engine: Engine, data: bytes) -> list[tuple[int, str]]:
    hashed = hash_media(data, "upload")
    return [(m.item.id, m.method) for m in load_matcher(engine).match(hashed.hashes, hashed.clip)]


def test_vpdq_leaves_as_threatexchange_signal_and_an_imported_vpdq_only_item_matches_the_video(
        bank_store: Engine, partners: tuple[Member, Member], sender: tuple[Engine, int, Path],
        footage: dict[str, bytes], tmp_path: Path) -> None:
    engine, _, _ = sender
    path = tmp_path / "signals.txt"
    assert export_bank(engine, path, "te-file") == 3     # video_md5, video_sha256, vpdq
    delta = read_signal_file(path)                        # the package's LocalFileSignalExchangeAPI reads it
    [signal] = [s for t, s in delta.updates if t == "vpdq"]
    assert VPDQSignal.validate_signal_str(signal) == signal
    # the package's own comparison: our exported frames against its hash of the re-encoded file (HMA's rule)
    reencoded = tmp_path / "reencoded.mkv"
    reencoded.write_bytes(footage["reencoded"])
    assert VPDQSignal.compare_hash(VPDQSignal.hash_from_file(reencoded), signal).match
    unrelated = tmp_path / "unrelated.mp4"
    unrelated.write_bytes(footage["unrelated"])
    assert not VPDQSignal.compare_hash(VPDQSignal.hash_from_file(unrelated), signal).match

    # into another store, as another member: one item a signal (the file ties nothing); the vPDQ one has no file
    # hash and is a video, and it matches the re-encode (whose bytes no exact hash knows) by its frames
    _, b = partners
    assert import_file(bank_store, path, "te-file", b.id, "y", make_labels("propaganda")).created == 3
    [only] = [i for i in list_items(bank_store, b.id) if not (i.md5 or i.sha256 or i.pdq)]
    assert only.kind == "video"
    assert _vpdq_matches(bank_store, footage["reencoded"]) == [(only.id, "vpdq")]
    assert _vpdq_matches(bank_store, footage["unrelated"]) == []
    # the same file again: the same items relabelled, none new
    assert import_file(bank_store, path, "te-file", b.id, "y", make_labels("propaganda")).created == 0


def test_vpdq_in_fetch_deltas_and_te_signals_joins_the_video_into_one_item(
        bank_store: Engine, partners: tuple[Member, Member], sender: tuple[Engine, int, Path],
        footage: dict[str, bytes], tmp_path: Path) -> None:
    engine, _, _ = sender
    a, b = partners
    [delta] = list(bank_deltas(engine, None))
    wire = tmp_path / "delta.json"
    wire.write_text(json.dumps(delta_to_json(delta)))
    parsed = delta_from_json(json.loads(wire.read_text()), wire)
    assert {t for t, _ in parsed.updates} == {"video_md5", "video_sha256", "vpdq"}
    assert apply_delta(bank_store, parsed, a.id, "y", make_labels("other"), wire).created == 1
    [item] = list_items(bank_store, a.id)
    assert (item.kind, item.group, item.tlp, item.md5 is not None) == ("video", "ISIL", "green", True)
    assert _vpdq_matches(bank_store, footage["reencoded"]) == [(item.id, "vpdq")]

    # our plain signal file (tags after the value): the vPDQ written without spaces, the lines joined again
    plain = tmp_path / "plain.txt"
    assert export_bank(engine, plain, "te-signals") == 1
    [line] = [line for line in plain.read_text().splitlines() if line.startswith("vpdq ")]
    assert VPDQSignal.validate_signal_str(line.split()[1])
    assert import_file(bank_store, plain, "te-signals", b.id, "y", make_labels("other")).created == 1
    [theirs] = list_items(bank_store, b.id, member=b.id)
    assert theirs.kind == "video" and theirs.content_type == "propaganda"
    assert sorted(_vpdq_matches(bank_store, footage["reencoded"])) == [(item.id, "vpdq"), (theirs.id, "vpdq")]
    # the vPDQ of long videos runs to megabytes: deltas are cut by size too, each with its own checkpoint
    small = list(bank_deltas(bank_store, None, max_chars=1))
    assert [len(d.updates) for d in small] == [3, 3]
    assert small[0].checkpoint.item_id < small[1].checkpoint.item_id
    assert len(list(bank_deltas(bank_store, None))) == 1


def test_a_bad_vpdq_signal_names_its_place(bank_store: Engine, partners: tuple[Member, Member],
                                           tmp_path: Path) -> None:
    a, _ = partners
    where = tmp_path / "delta.json"
    with pytest.raises(ListFormatError, match=r"updates\[0\]"):
        delta_from_json({"checkpoint": {}, "updates": [{"signal_type": "vpdq", "signal": '["zz,1,0.0"]',
                                                        "metadata": None}]}, where)
    bad = tmp_path / "bad.txt"
    bad.write_text("video_sha256 " + "a" * 64 + "\nvpdq [\"" + "a" * 64 + ",101,0.0\"]\n")
    with pytest.raises(ListFormatError, match="line 2"):
        read_signal_file(bad)
    plain = tmp_path / "plain.txt"
    plain.write_text("vpdq [] propaganda\n")
    with pytest.raises(ListFormatError, match="line 1.*vpdq"):
        import_file(bank_store, plain, "te-signals", a.id, "x", make_labels("other"))
    assert list_items(bank_store, a.id) == []
