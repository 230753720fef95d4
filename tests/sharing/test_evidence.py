"""Evidence files of partner entries, through the library, the API and the CLI: real files made here
(a JPEG with EXIF GPS and capture time, a GeoTIFF, a PNG with a world file), refused files (active
PDF, SVG and HTML whatever their names, a decompression bomb, oversize), TLP and releasability,
and the chain of custody."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import tifffile
from fastapi.testclient import TestClient
from PIL import Image
from PIL.ExifTags import IFD
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from jointwatch.cli import app as cli_app
from jointwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from jointwatch.releasability import Labels, Recipient, may_see_evidence
from jointwatch.sharing import (
    EntryInput,
    add_evidence,
    get_evidence,
    list_evidence,
    share_entry,
    withdraw_entry,
    withdraw_evidence,
)
from jointwatch.store import (
    add_member,
    create_group,
    open_engine,
    set_group_member,
    sharing_events_of,
    sharing_generation,
)
from jointwatch.store.schema import evidence_blobs
from tests.api.conftest import Member, app, client, new_member, store_of, un_store  # noqa: F401 - fixtures

# -- files made here ------------------------------------------------------------------------------


def jpeg_with_gps() -> bytes:
    """A photograph as a phone writes it: DateTimeOriginal with its offset, GPS in degrees, minutes, seconds."""
    image = Image.new("RGB", (64, 48), (200, 80, 40))
    exif = Image.Exif()
    exif.get_ifd(IFD.Exif)[36867] = "2025:03:14 09:26:53"      # DateTimeOriginal
    exif.get_ifd(IFD.Exif)[36881] = "+02:00"                   # OffsetTimeOriginal
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[1], gps[2], gps[3], gps[4] = "N", (36.0, 11.0, 24.0), "E", (37.0, 9.0, 36.0)   # Aleppo
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def geotiff() -> bytes:
    """A 100 x 80 GeoTIFF in WGS 84: tiepoint at (30.0 E, 40.0 N), 0.001 degrees a pixel."""
    out = io.BytesIO()
    keys = (1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326)   # geographic, pixel is area, EPSG:4326
    tifffile.imwrite(out, np.full((80, 100), 90, dtype=np.uint8),
                     extratags=[(33550, "d", 3, (0.001, 0.001, 0.0), True),
                                (33922, "d", 6, (0.0, 0.0, 0.0, 30.0, 40.0, 0.0), True),
                                (34735, "H", len(keys), keys, True)])
    return out.getvalue()


def png(size: tuple[int, int] = (101, 81)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 30)).save(out, "PNG")
    return out.getvalue()


WORLD_FILE = b"0.01\n0.0\n0.0\n-0.01\n10.0\n50.0\n"   # centre pixel (50, 40): 10.5 E, 49.6 N


def png_bomb() -> bytes:
    """A few hundred bytes that claim 30,000 x 30,000 pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 30_000, 30_000, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 30_000 // 8) * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


CLEAN_PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
             b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
JS_PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R /OpenAction 3 0 R >> endobj\n"
          b"3 0 obj << /S /JavaScript /JS (app.alert\\(1\\)) >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


def hidden_js_pdf() -> bytes:
    """JavaScript in a compressed object stream, its name spelt with a #xx escape."""
    inner = zlib.compress(b"3 0 << /S /J#61vaScript /J#53 (app.alert(1)) >>")
    return (b"%PDF-1.5\n4 0 obj << /Type /ObjStm /Filter /FlateDecode /Length " + str(len(inner)).encode()
            + b" >>\nstream\n" + inner + b"\nendstream\nendobj\n%%EOF\n")


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML = b"  <!DOCTYPE html><html><body onload='alert(1)'>hi</body></html>"


# -- the library ----------------------------------------------------------------------------------

@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_engine(str(tmp_path / "evidence.db"), create=True)


def _three(engine: Engine) -> tuple[int, int, int]:
    return tuple(add_member(engine, name).id for name in ("police-a", "police-b", "police-c"))  # type: ignore[return-value]


def _entry(engine: Engine, originator: int, labels: Labels) -> str:
    return share_entry(engine, originator, "officer-a", EntryInput("Person", {"name": ["Abu Example"]}), labels).ref


def test_a_photograph_keeps_its_capture_time_and_place_and_its_chain_of_custody(engine: Engine) -> None:
    a, b, _ = _three(engine)
    ref = _entry(engine, a, Labels("members", (b,), "amber", (), "EU 2017/541 art. 3"))
    content = jpeg_with_gps()
    before, generation = datetime.now(UTC), sharing_generation(engine)
    ev = add_evidence(engine, ref, a, "officer-a", "convoy.jpg", content, None, "oil convoy", "cli test")
    assert ev.ref.startswith("ev-") and ev.media_type == "image/jpeg" and ev.tlp == "amber"
    assert ev.captured_at == datetime(2025, 3, 14, 7, 26, 53, tzinfo=UTC)
    assert ev.latitude == pytest.approx(36.19, abs=1e-6) and ev.longitude == pytest.approx(37.16, abs=1e-6)
    # chain of custody: what, who, when, from where
    assert ev.sha256 == hashlib.sha256(content).hexdigest() and ev.size == len(content)
    assert (ev.member_id, ev.user, ev.origin, ev.status) == (a, "officer-a", "cli test", "active")
    assert ev.added_at >= before and ev.description == "oil convoy" and ev.filename == "convoy.jpg"
    assert sharing_generation(engine) == generation + 1
    view, data = get_evidence(engine, ev.ref, b, "officer-b")
    assert data == content and not view.mine and view.entry_ref == ref
    actions = [e.action for e in sharing_events_of(engine, [view.evidence.entry_id])]
    assert "evidence added" in actions and "evidence viewed" in actions


def test_the_same_bytes_are_stored_once(engine: Engine) -> None:
    a, _, _ = _three(engine)
    ref = _entry(engine, a, Labels(reason="case 7"))
    first = add_evidence(engine, ref, a, "u", "one.png", png(), None, "", "t")
    second = add_evidence(engine, ref, a, "u", "two.png", png(), None, "", "t")
    assert first.ref != second.ref and first.sha256 == second.sha256
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(evidence_blobs)).scalar_one() == 1


def test_a_geotiff_is_placed_at_its_centre(engine: Engine) -> None:
    a, _, _ = _three(engine)
    ev = add_evidence(engine, _entry(engine, a, Labels(reason="r")), a, "u", "scene.tif", geotiff(), None, "", "t")
    assert ev.media_type == "image/tiff"
    assert (ev.latitude, ev.longitude) == (pytest.approx(39.96), pytest.approx(30.05))


def test_a_png_is_placed_by_its_world_file(engine: Engine) -> None:
    a, _, _ = _three(engine)
    ev = add_evidence(engine, _entry(engine, a, Labels(reason="r")), a, "u", "tanker.png", png(), None, "", "t",
                      world_file=WORLD_FILE)
    assert (ev.latitude, ev.longitude) == (pytest.approx(49.6), pytest.approx(10.5))
    assert ev.captured_at is None


def test_a_projected_world_file_is_refused_as_out_of_range(engine: Engine) -> None:
    a, _, _ = _three(engine)
    with pytest.raises(InvalidInputError, match="not a place on Earth"):
        add_evidence(engine, _entry(engine, a, Labels(reason="r")), a, "u", "utm.png", png(), None, "", "t",
                     world_file=b"0.5 0 0 -0.5 500000 5500000")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("report.pdf", JS_PDF, "active content"),
    ("report.pdf", hidden_js_pdf(), "active content"),
    ("packed.pdf", b"%PDF-1.5\n4 0 obj << /Type /ObjStm /Filter /ASCIIHexDecode >>\nstream\n2f4a53>\nendstream\n"
                   b"endobj\n%%EOF\n", "object stream"),
    ("photo.png", SVG, "markup"),
    ("drawing.svg", SVG, "markup"),
    ("notes.txt", HTML, "markup"),
    ("page.html", HTML, "markup"),
    ("run.txt", b"#!/bin/sh\nrm -rf /\n", "script"),
    ("tool.jpg", b"MZ\x90\x00" + b"\x00" * 100, "executable"),
    ("bundle.pdf", b"PK\x03\x04" + b"\x00" * 100, "ZIP"),
    ("anim.gif", b"GIF89a" + b"\x00" * 100, "GIF"),
    ("bomb.png", png_bomb(), "decompression bomb"),
    ("cut.jpg", jpeg_with_gps()[:300], "corrupt or truncated"),
    ("blob.bin", bytes(range(256)), "not JPEG"),
    ("empty.txt", b"", "empty"),
    ("nul.txt", b"abc\x00def", "binary"),
])
def test_refused_files_are_named_whatever_their_extension(engine: Engine, name: str, content: bytes,
                                                          message: str) -> None:
    a, _, _ = _three(engine)
    ref = _entry(engine, a, Labels(reason="r"))
    with pytest.raises(InvalidInputError, match=message) as refused:
        add_evidence(engine, ref, a, "u", name, content, None, "", "t")
    assert name in str(refused.value)
    assert list_evidence(engine, ref, a) == []


def test_a_clean_pdf_and_plain_text_are_taken(engine: Engine) -> None:
    a, _, _ = _three(engine)
    ref = _entry(engine, a, Labels(reason="r"))
    assert add_evidence(engine, ref, a, "u", "r.pdf", CLEAN_PDF, None, "", "t").media_type == "application/pdf"
    text = "Intercept 14 March: « the convoy leaves at dawn » 3 < 4\n".encode()
    assert add_evidence(engine, ref, a, "u", "r.txt", text, None, "", "t").media_type.startswith("text/plain")


def test_oversize_is_refused(engine: Engine) -> None:
    a, _, _ = _three(engine)
    with pytest.raises(InvalidInputError, match="over the limit of 1,000"):
        add_evidence(engine, _entry(engine, a, Labels(reason="r")), a, "u", "big.txt", b"x" * 1001, None, "", "t",
                     max_bytes=1000)


def test_evidence_is_as_strict_as_its_entry_or_stricter(engine: Engine) -> None:
    a, _, _ = _three(engine)
    ref = _entry(engine, a, Labels(tlp="amber", reason="r"))
    with pytest.raises(InvalidInputError, match="less strict"):
        add_evidence(engine, ref, a, "u", "p.png", png(), "green", "", "t")
    assert add_evidence(engine, ref, a, "u", "p.png", png(), "TLP:RED", "", "t").tlp == "red"


def test_only_the_originator_adds_or_withdraws(engine: Engine) -> None:
    a, b, c = _three(engine)
    ref = _entry(engine, a, Labels("members", (b,), "amber", (), "r"))
    with pytest.raises(ForbiddenError):
        add_evidence(engine, ref, b, "u", "p.png", png(), None, "", "t")
    with pytest.raises(NotFoundError) as hidden:
        add_evidence(engine, ref, c, "u", "p.png", png(), None, "", "t")
    with pytest.raises(NotFoundError) as missing:
        add_evidence(engine, "sh-00000000000000000000", c, "u", "p.png", png(), None, "", "t")
    assert str(hidden.value).replace(ref, "REF") == str(missing.value).replace("sh-00000000000000000000", "REF")
    ev = add_evidence(engine, ref, a, "u", "p.png", png(), None, "", "t")
    with pytest.raises(ForbiddenError):
        withdraw_evidence(engine, ev.ref, b, "u", "wrong person")
    withdrawn = withdraw_evidence(engine, ev.ref, a, "u", "wrong person")
    assert withdrawn.status == "withdrawn"
    assert [v.evidence.status for v in list_evidence(engine, ref, b)] == ["withdrawn"]
    with pytest.raises(ConflictError):
        get_evidence(engine, ev.ref, b)
    assert get_evidence(engine, ev.ref, a)[1] == png()     # never deleted


def test_releasability_of_evidence(engine: Engine) -> None:
    a, b, c = _three(engine)
    ref = _entry(engine, a, Labels("members", (b,), "amber", (), "r"))
    amber = add_evidence(engine, ref, a, "u", "a.png", png(), None, "", "t")
    red = add_evidence(engine, ref, a, "u", "r.png", png((20, 20)), "red", "", "t")
    assert [v.evidence.ref for v in list_evidence(engine, ref, b)] == [amber.ref, red.ref]
    for evidence_ref in (amber.ref, red.ref, "ev-00000000000000000000"):
        with pytest.raises(NotFoundError) as refused:
            get_evidence(engine, evidence_ref, c)
        assert str(refused.value) == f"no evidence {evidence_ref!r}"
    with pytest.raises(NotFoundError):
        list_evidence(engine, ref, c)
    # shared to a group: red evidence stays with the originator
    group = create_group(engine, "border", a)
    set_group_member(engine, group.id, b, True)
    grouped = _entry(engine, a, Labels("group", (group.id,), "amber", (), "r"))
    add_evidence(engine, grouped, a, "u", "a.png", png(), None, "", "t")
    add_evidence(engine, grouped, a, "u", "r.png", png((20, 20)), "red", "", "t")
    assert [v.evidence.tlp for v in list_evidence(engine, grouped, b)] == ["amber"]
    assert [v.evidence.tlp for v in list_evidence(engine, grouped, a)] == ["amber", "red"]
    # a withdrawn entry's evidence stays listed, as the entry does
    withdraw_entry(engine, ref, a, "u", "closed")
    assert len(list_evidence(engine, ref, b)) == 2
    with pytest.raises(ConflictError):
        add_evidence(engine, ref, a, "u", "late.png", png(), None, "", "t")


def test_may_see_evidence_is_the_rule() -> None:
    members = Labels("members", (2,), "amber", (), "r")
    server = Labels("server", (), "green", (), "r")
    connected = Labels("connected", (), "green", (), "r")
    assert may_see_evidence(1, members, "red", Recipient(1))
    assert may_see_evidence(1, members, "red", Recipient(2))
    assert not may_see_evidence(1, members, "amber", Recipient(3))
    assert may_see_evidence(1, server, "amber+strict", Recipient(3))
    assert not may_see_evidence(1, server, "red", Recipient(3))
    assert may_see_evidence(1, connected, "amber", Recipient(9, link=True))
    assert not may_see_evidence(1, connected, "amber+strict", Recipient(9, link=True))
    # an entry made stricter after the file was added: the stricter of the two counts
    assert not may_see_evidence(1, Labels("members", (2,), "red", (), "r"), "amber", Recipient(3))


# -- the API --------------------------------------------------------------------------------------

def _api_entry(engine: Engine, originator: Member, to: Member) -> str:
    return _entry(engine, originator.id, Labels("members", (to.id,), "amber", (), "EU 2017/541"))


def test_api_upload_list_record_and_content(client: TestClient, un_store: Engine,  # noqa: F811
                                            new_member: Callable[[], Member]) -> None:  # noqa: F811
    a, b, c = new_member(), new_member(), new_member()
    ref = _api_entry(un_store, a, b)
    content = jpeg_with_gps()
    added = client.post(f"/shared/entries/{ref}/evidence", content=content, headers={
        **a.auth("analyst"), "Content-Type": "text/html"}, params={"filename": "convoy.jpg", "description": "d"})
    assert added.status_code == 201, added.text
    body = added.json()
    assert body["media_type"] == "image/jpeg" and body["origin"].startswith("api ")
    assert body["user"] == "analyst-user" and body["member_id"] == a.id and body["mine"]
    assert body["latitude"] == pytest.approx(36.19) and body["captured_at"].startswith("2025-03-14T07:26:53")
    listed = client.get(f"/shared/entries/{ref}/evidence", headers=b.auth("analyst"))
    assert [e["ref"] for e in listed.json()] == [body["ref"]] and not listed.json()[0]["mine"]
    record = client.get(f"/shared/evidence/{body['ref']}", headers=b.auth("analyst"))
    assert record.status_code == 200 and record.json()["sha256"] == hashlib.sha256(content).hexdigest()
    got = client.get(f"/shared/evidence/{body['ref']}/content", headers=b.auth("analyst"))
    assert got.status_code == 200 and got.content == content
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["content-disposition"].startswith('attachment; filename="convoy.jpg"')
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "script-src 'none'" in got.headers["content-security-policy"]
    # member C may not see the entry: its evidence is a 404, as a ref that does not exist
    for path in (f"/shared/evidence/{body['ref']}", f"/shared/evidence/{body['ref']}/content"):
        hidden = client.get(path, headers=c.auth("analyst"))
        missing = client.get(path.replace(body["ref"], "ev-00000000000000000000"), headers=c.auth("analyst"))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json()["detail"].replace(body["ref"], "X") == missing.json()["detail"].replace(
            "ev-00000000000000000000", "X")
    assert client.get(f"/shared/entries/{ref}/evidence", headers=c.auth("analyst")).status_code == 404
    # a screener key has no right to share
    assert client.get(f"/shared/entries/{ref}/evidence", headers=b.auth("screener")).status_code == 403


def test_api_refuses_active_and_oversize_files_and_non_originators(client: TestClient, un_store: Engine,  # noqa: F811
                                                                   new_member: Callable[[], Member],  # noqa: F811
                                                                   ) -> None:
    a, b = new_member(), new_member()
    ref = _api_entry(un_store, a, b)
    url = f"/shared/entries/{ref}/evidence"
    for name, content in (("x.png", SVG), ("x.txt", HTML), ("x.pdf", JS_PDF)):
        refused = client.post(url, content=content, params={"filename": name}, headers=a.auth("analyst"))
        assert refused.status_code == 422 and name in refused.json()["detail"]
    assert client.post(url, content=png(), params={"filename": "p.png"},
                       headers=b.auth("analyst")).status_code == 403
    assert client.post(url, content=png(), params={"filename": "p.png", "tlp": "clear"},
                       headers=a.auth("analyst")).status_code == 422
    # a form (curl -F) wraps the file: a text file's envelope would be stored as the evidence
    form = client.post(url, files={"file": ("note.txt", b"seen at the border", "text/plain")},
                       params={"filename": "note.txt"}, headers=a.auth("analyst"))
    assert form.status_code == 422 and "--data-binary" in form.json()["detail"]
    world = client.post(url, content=png(), params={"filename": "p.png", "world_file": WORLD_FILE.decode()},
                        headers=a.auth("analyst"))
    assert world.status_code == 201 and world.json()["longitude"] == pytest.approx(10.5)
    # over 1 MB (the usual body limit) is taken, over the evidence limit (20 MB) is not
    big = b"x" * 2_000_000
    assert client.post(url, content=big, params={"filename": "big.txt"}, headers=a.auth("analyst")).status_code == 201
    assert client.post(url, content=b"x" * 20_000_001, params={"filename": "huge.txt"},
                       headers=a.auth("analyst")).status_code == 413


# -- the CLI --------------------------------------------------------------------------------------

def test_cli_add_list_get(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    engine = open_engine(str(db), create=True)
    a, b, c = _three(engine)
    ref = _entry(engine, a, Labels("members", (b,), "amber", (), "r"))
    (tmp_path / "scene.png").write_bytes(png())
    (tmp_path / "scene.pgw").write_bytes(WORLD_FILE)
    (tmp_path / "fake.jpg").write_bytes(SVG)
    runner = CliRunner()

    def jw(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli_app, [*args, "--db", str(db)], env={"COLUMNS": "300", "JOINTWATCH_DB": None})
        return result.exit_code, result.stdout

    code, out = jw("share", "evidence", "add", ref, str(tmp_path / "scene.png"), "--world-file",
                   str(tmp_path / "scene.pgw"), "--tlp", "red", "--description", "tanker", "--member", "police-a")
    assert code == 0, out
    evidence_ref = out.strip().splitlines()[-1]
    assert evidence_ref.startswith("ev-")
    assert jw("share", "evidence", "add", ref, str(tmp_path / "fake.jpg"), "--member", "police-a")[0] == 7
    assert jw("share", "evidence", "add", ref, str(tmp_path / "scene.png"), "--member", "police-b")[0] == 4
    code, out = jw("share", "evidence", "list", ref, "--member", "police-b", "--json")
    assert code == 0 and evidence_ref in out and "49.6" in out
    target = tmp_path / "out.png"
    assert jw("share", "evidence", "get", evidence_ref, "--output", str(target), "--member", "police-b")[0] == 0
    assert target.read_bytes() == png()
    assert jw("share", "evidence", "get", evidence_ref, "--output", str(target), "--member", "police-c")[0] == 6
    assert jw("share", "evidence", "list", ref, "--member", "police-c")[0] == 6
    del c
