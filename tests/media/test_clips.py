"""Video and sound (issue 21): the kind told from the bytes, vPDQ and Chromaprint matching, CLI, API, TLP.

Every clip is a real file FFmpeg encoded (tests/media/clips.py); hashing is the real vpdq,
av and Chromaprint, nothing mocked.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import Engine
from typer.testing import CliRunner

from jointwatch.api import create_app
from jointwatch.api.settings import ServiceSettings
from jointwatch.cli import app
from jointwatch.errors import MessageFormatError
from jointwatch.media import MatchableRow, Matcher, hash_media, make_labels
from jointwatch.media.bank import contribute, list_items
from jointwatch.media.clips import ClipSignature, vpdq_features, vpdq_signature
from jointwatch.media.labels import TLP_LEVELS
from jointwatch.media.matcher import HIDDEN_NOTICE
from jointwatch.media.sniff import sniff
from jointwatch.store import matchable_bank_rows
from tests.api.conftest import Member, make_member
from tests.media import clips
from tests.media.conftest import image_bytes, make_store

pytest.importorskip("vpdq")
pytest.importorskip("av")
OCTET = {"Content-Type": "application/octet-stream"}
SHARED = {"clear", "green", "amber"}


@pytest.fixture(scope="module")
def footage(photos: dict[str, Image.Image]) -> dict[str, list[np.ndarray]]:
    """Frames of two unrelated 12-second videos (three photographs each panned) and of a third."""
    arrays = {name: np.asarray(image) for name, image in photos.items()}
    return {"known": clips.pan(arrays["astronaut"], 6, 1) + clips.pan(arrays["coffee"], 6, 2),
            "other": clips.pan(arrays["chelsea"], 6, 3) + clips.pan(arrays["rocket"], 6, 4)}


@pytest.fixture(scope="module")
def files(footage: dict[str, list[np.ndarray]]) -> dict[str, bytes]:
    known = footage["known"]
    nasheed, other_tune = clips.melody(1, 15), clips.melody(2, 15)
    return {
        "video": clips.video(known),
        # 7 seconds cut out from 3.3 s, re-encoded as MPEG-4 Part 2 in Matroska
        "clip": clips.video(known[33:103], codec="mpeg4", container="matroska"),
        "flipped": clips.video([np.ascontiguousarray(f[:, ::-1]) for f in known]),
        "watermarked": clips.video([clips.watermark(f) for f in known]),
        "unrelated": clips.video(footage["other"]),
        "nasheed.wav": clips.sound(nasheed, "pcm_s16le", "wav"),
        "quieter.mp3": clips.sound(nasheed * 0.5, "libmp3lame", "mp3", 22_050),
        "tune.m4a": clips.sound(other_tune, "aac", "ipod"),
        "tune.ogg": clips.sound(other_tune, "libopus", "ogg", 48_000),
        "soundtrack": clips.video(footage["other"], sound=nasheed),
    }


def _rows(*signatures: tuple[bytes, ClipSignature]) -> list[MatchableRow]:
    """Banked rows of hashed files, numbered from 1 (what the store hands the matcher)."""
    from datetime import UTC, datetime

    from jointwatch.media import BankItem

    now = datetime.now(UTC)
    return [MatchableRow(BankItem(n, 1, "m", uuid.uuid4().hex, None, None, None, None, "propaganda", "amber",
                                  "active", "test", now, now, kind=signature.kind), signature.to_bytes())
            for n, (_, signature) in enumerate(signatures, start=1)]


def _banked(data: bytes) -> tuple[bytes, ClipSignature]:
    hashed = hash_media(data, "banked", for_bank=True)
    assert hashed.clip is not None
    return data, hashed.clip


def _match(matcher: Matcher, data: bytes) -> list[tuple[int, str]]:
    hashed = hash_media(data, "upload")
    return [(m.item.id, m.method) for m in matcher.match(hashed.hashes, hashed.clip)]


def test_the_kind_comes_from_the_bytes_never_the_name(files: dict[str, bytes], photos: dict[str, Image.Image],
                                                      tmp_path: Path) -> None:
    webp = image_bytes(photos["coffee"], "WEBP")
    # WAV and WebP are both RIFF: the form type tells them apart (a WAV was refused as a broken WebP, exit 7)
    assert sniff(files["nasheed.wav"]).kind == "audio" and sniff(webp).kind == "image"  # type: ignore[union-attr]
    assert sniff(files["quieter.mp3"]).kind == "audio"  # type: ignore[union-attr]
    assert sniff(files["tune.m4a"]).kind == "audio"  # type: ignore[union-attr]
    assert sniff(files["video"]).format == "MP4/QuickTime"  # type: ignore[union-attr]
    assert sniff(b"%PDF-1.7 not media") is None
    kinds = {name: hash_media(data, name, signatures=False).hashes.kind for name, data in files.items()}
    assert kinds == {"video": "video", "clip": "video", "flipped": "video", "watermarked": "video",
                     "unrelated": "video", "nasheed.wav": "audio", "quieter.mp3": "audio", "tune.m4a": "audio",
                     "tune.ogg": "audio", "soundtrack": "video"}
    assert hash_media(webp, "coffee.wav").hashes.kind == "image"   # the name says nothing
    assert hash_media(b"%PDF-1.7 not media", "a.pdf").hashes.kind == "other"
    # bytes that say "an image" which cannot be decoded are refused, naming the file, not hashed exactly
    with pytest.raises(MessageFormatError, match=r"photo\.heic: a HEIF/AVIF image"):
        hash_media(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64, "photo.heic")


def test_a_damaged_video_or_sound_file_is_refused_naming_it(files: dict[str, bytes]) -> None:
    for name, data in (("cut.mp4", files["video"][:3000]), ("cut.wav", files["nasheed.wav"][:30] + b"\0" * 9)):
        with pytest.raises(MessageFormatError, match=name.replace(".", r"\.")):
            hash_media(data, name)


def test_a_sound_cut_short_is_banked_with_a_note_never_silently_unmatchable(files: dict[str, bytes]) -> None:
    # a WAV truncated after ~0.1 s decodes, but nothing can line up with so little sound: the
    # reviewer is told it matches by its exact hashes alone
    short = hash_media(files["nasheed.wav"][:3000], "cut.wav", for_bank=True)
    assert short.hashes.kind == "audio" and short.note is not None and "exact hashes only" in short.note
    assert hash_media(files["nasheed.wav"], "nasheed.wav", for_bank=True).note is None


def test_cli_match_of_a_sound_cut_short_says_it_was_matched_by_exact_hashes_alone(tmp_path: Path,
                                                                                 files: dict[str, bytes]) -> None:
    # "0 files matched" alone would read as "not known content" for a file that could not be looked at
    runner = CliRunner()
    db = str(tmp_path / "jw.db")
    (tmp_path / "cut.wav").write_bytes(files["nasheed.wav"][:3000])
    (tmp_path / "tune.m4a").write_bytes(files["tune.m4a"])
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    # something banked: an empty bank refuses to match at all (exit 9)
    banked = runner.invoke(app, ["media", "add", str(tmp_path / "tune.m4a"), "-t", "propaganda", "--db", db])
    assert banked.exit_code == 0, banked.output
    matched = runner.invoke(app, ["media", "match", str(tmp_path / "cut.wav"), "--db", db])
    assert matched.exit_code == 0, matched.output
    said = " ".join(matched.output.split())   # the console may wrap a long temporary path
    assert "cut.wav: under 6 s of sound can be read" in said and "exact hashes only" in said


def test_a_banked_video_is_found_from_a_cut_reencoded_clip_and_a_flipped_copy(files: dict[str, bytes]) -> None:
    matcher = Matcher(_rows(_banked(files["video"])))
    hashed = hash_media(files["clip"], "clip.mkv")
    [found] = matcher.match(hashed.hashes, hashed.clip)
    assert found.method == "vpdq" and found.share is not None and found.share >= 0.9
    assert found.bank_share is not None and found.bank_share < 0.7          # 7 s of 12
    assert found.offset is not None and abs(found.offset - 3.3) <= 1.0       # where the clip was cut
    assert _match(matcher, files["flipped"]) == [(1, "vpdq-mirror")]
    assert _match(matcher, files["watermarked"]) == [(1, "vpdq")]
    assert _match(matcher, files["unrelated"]) == []


def test_a_sound_is_found_reencoded_and_quieter_and_under_another_video(files: dict[str, bytes]) -> None:
    matcher = Matcher(_rows(_banked(files["nasheed.wav"]), _banked(files["tune.m4a"])))
    hashed = hash_media(files["quieter.mp3"], "quieter.mp3")
    [found] = matcher.match(hashed.hashes, hashed.clip)
    assert (found.item.id, found.method) == (1, "chromaprint")
    assert found.bit_error_rate is not None and found.bit_error_rate < 0.1
    assert _match(matcher, files["tune.ogg"]) == [(2, "chromaprint")]
    # a known nasheed as the soundtrack of a video the bank has never seen
    assert _match(matcher, files["soundtrack"]) == [(1, "chromaprint")]
    assert _match(matcher, files["video"]) == []   # no sound, frames of nothing banked


def test_a_clip_signature_round_trips_and_refuses_garbage(files: dict[str, bytes]) -> None:
    _, signature = _banked(files["soundtrack"])
    again = ClipSignature.from_bytes(signature.to_bytes())
    assert again.kind == "video" and len(again.frames) == len(signature.frames) > 0
    assert np.array_equal(again.fingerprint, signature.fingerprint) and len(again.mirrored) > 0
    with pytest.raises(ValueError, match="not a valid clip signature"):
        ClipSignature.from_bytes(signature.to_bytes()[:-3])
    # as ThreatExchange's vPDQ features and back (what a partner's HMA reads and writes)
    features = vpdq_features(signature)
    assert len(features) == len(signature.frames) and features[0].count(",") == 2
    back = vpdq_signature(features)
    assert np.array_equal(back.frames.hashes, signature.frames.hashes)
    assert np.array_equal(back.frames.qualities, signature.frames.qualities)


def test_cli_banks_and_matches_video_and_sound(tmp_path: Path, files: dict[str, bytes]) -> None:
    runner = CliRunner()
    db = str(tmp_path / "jw.db")
    for name in ("video", "nasheed.wav", "clip", "quieter.mp3"):
        (tmp_path / name).write_bytes(files[name])
    assert runner.invoke(app, ["init", "--db", db]).exit_code == 0
    added = runner.invoke(app, ["media", "add", str(tmp_path / "video"), str(tmp_path / "nasheed.wav"), "-t",
                                "propaganda", "-g", "ISIL", "--db", db, "--json"])
    assert added.exit_code == 0, added.output
    assert [o["item"]["kind"] for o in json.loads(added.stdout)] == ["video", "audio"]
    matched = runner.invoke(app, ["media", "match", str(tmp_path / "clip"), str(tmp_path / "quieter.mp3"),
                                  "--db", db, "--json"])
    assert matched.exit_code == 0, matched.output
    found = [[(m["item"]["id"], m["method"]) for m in o["matches"]] for o in json.loads(matched.stdout)]
    assert found == [[(1, "vpdq")], [(2, "chromaprint")]]
    exported = tmp_path / "bank.json"
    assert runner.invoke(app, ["media", "export", str(exported), "-f", "jointwatch-json", "--db", db]).exit_code == 0
    assert runner.invoke(app, ["members", "add", "Agency B", "--db", db]).exit_code == 0
    imported = runner.invoke(app, ["media", "import", str(exported), "-f", "jointwatch-json", "-m", "Agency B",
                                   "-t", "propaganda", "--db", db])
    assert imported.exit_code == 0, imported.output
    again = runner.invoke(app, ["media", "match", str(tmp_path / "clip"), "--db", db, "--json"])
    assert sorted(m["item"]["contributor"] for m in json.loads(again.stdout)[0]["matches"]) == ["Agency B", "local"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, TestClient, list[Member]]]:
    engine = make_store("sqlite", tmp_path_factory.mktemp("clips"))
    members = [make_member(engine) for _ in range(2)]
    with TestClient(create_app(engine, ServiceSettings(rate_per_second=0))) as client:
        yield engine, client, members
    engine.dispose()


def test_api_banks_a_video_and_matches_its_clip(service: tuple[Engine, TestClient, list[Member]],
                                                files: dict[str, bytes], tmp_path: Path) -> None:
    _, client, (platform, agency) = service
    made = client.post("/media/items/upload", params={"content_type": "recruitment", "tlp": "green"},
                       content=files["video"], headers={**platform.auth("analyst"), **OCTET})
    assert made.status_code == 201, made.text
    assert made.json()["item"]["kind"] == "video" and made.json()["item"]["pdq"] is None
    found = client.post("/media/match/upload", content=files["clip"], headers={**agency.auth("screener"), **OCTET})
    assert found.status_code == 200, found.text
    [match] = [m for m in found.json()["matches"] if m["item"]["id"] == made.json()["item"]["id"]]
    assert match["method"] == "vpdq" and match["share"] >= 0.9 and found.json()["hashes"]["kind"] == "video"

    # a partner that hashed the clip itself sends its vPDQ as ThreatExchange writes it; the file never leaves
    features = _vpdq_strings(files["clip"], tmp_path)
    by_hash = client.post("/media/match", json={"vpdq": features}, headers=agency.auth("screener"))
    assert by_hash.status_code == 200, by_hash.text
    assert made.json()["item"]["id"] in {m["item"]["id"] for m in by_hash.json()["matches"]}
    bad = client.post("/media/match", json={"vpdq": ["00ff,100,0"]}, headers=agency.auth("screener"))
    assert bad.status_code == 422
    # and banks a video by its bare vPDQ (with its MD5): an upload of the cut clip finds it
    banked = client.post("/media/items", json={"md5": uuid.uuid4().hex, "content_type": "propaganda",
                                               "vpdq": _vpdq_strings(files["video"], tmp_path)},
                         headers=agency.auth("analyst"))
    assert banked.status_code == 201, banked.text
    assert banked.json()["item"]["kind"] == "video"
    again = client.post("/media/match/upload", content=files["clip"], headers={**platform.auth("screener"), **OCTET})
    assert banked.json()["item"]["id"] in {m["item"]["id"] for m in again.json()["matches"]}


def _vpdq_strings(data: bytes, folder: Path) -> list[str]:
    """The vPDQ of a video by the vpdq package itself, as '<hex>,<quality>,<seconds>' (ThreatExchange's form)."""
    import vpdq

    path = folder / f"{uuid.uuid4().hex}.video"
    path.write_bytes(data)
    return [f"{f.hex},{f.quality},{f.timestamp:.3f}" for f in vpdq.computeHash(str(path))]


# (contributing member, TLP) of each banked copy of the same sound
COPIES = st.lists(st.tuples(st.integers(0, 1), st.sampled_from(TLP_LEVELS)), min_size=1, max_size=3)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(copies=COPIES)
def test_a_sound_match_shows_a_member_exactly_what_tlp_allows(
        service: tuple[Engine, TestClient, list[Member]], files: dict[str, bytes],
        copies: list[tuple[int, str]]) -> None:
    engine, client, members = service
    # the sound each member banks is told apart by its exact hashes; its fingerprint is the same
    hashed = hash_media(files["tune.m4a"], "tune.m4a", for_bank=True)
    assert hashed.clip is not None
    banked = []   # (id, owner, tlp, group, ref)
    for owner, tlp in copies:
        group = f"group-{uuid.uuid4().hex}"
        fresh = type(hashed.hashes)(uuid.uuid4().hex, uuid.uuid4().hex * 2, None, None, "audio")
        done = contribute(engine, members[owner].id, "analyst", fresh, make_labels("propaganda", group, tlp),
                          hashed.signature_bytes())
        banked.append((done.item.id, owner, tlp, group, done.item.ref))
    mine = {b[0] for b in banked}
    for v, viewer in enumerate(members):
        found = client.post("/media/match/upload", content=files["tune.ogg"],
                            headers={**viewer.auth("screener"), **OCTET})
        assert found.status_code == 200, found.text
        body = found.json()
        visible = {b[0] for b in banked if b[2] in SHARED or b[1] == v}
        assert {m["item"]["id"] for m in body["matches"]} & mine == visible
        assert all(m["method"] == "chromaprint" for m in body["matches"])
        hidden_refs = {h["ref"] for h in body["hidden"]}
        assert hidden_refs & {b[4] for b in banked} == {b[4] for b in banked if b[0] not in visible}
        assert all(h == {"ref": h["ref"], "notice": HIDDEN_NOTICE} for h in body["hidden"])
        for item_id, _, _, group, _ in banked:
            if item_id not in visible:
                assert group not in found.text
        assert {i.id for i in list_items(engine, members[v].id)} & mine == visible
    assert {row.item.id for row in matchable_bank_rows(engine, ("active",))} >= mine
