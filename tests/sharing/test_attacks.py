"""The partner-sharing feature attacked as a hostile member, a hostile peer server and a careless
user would: each test is an attack that once worked (or a guard kept), answered as the rules say."""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jointwatch.errors import BundleRefusedError, FetchError, InvalidInputError
from jointwatch.releasability import Labels
from jointwatch.sharing import MAX_BUNDLE_ENTRIES, EntryInput, receive_bundle, share_entry, signing_key, sync
from jointwatch.sharing.evidence import check_pdf
from jointwatch.sharing.signing import canonical, sign
from jointwatch.store import add_link, add_member, get_entry, open_engine
from tests.api.conftest import Member
from tests.sharing.test_api_shared import subject_name
from tests.sharing.test_evidence import jpeg_with_gps
from tests.sharing.test_federation import Pair


def _group(client: TestClient, owner: Member) -> str:
    name = f"group-of-{owner.name}"
    response = client.post("/shared/groups", json={"name": name}, headers=owner.auth("admin"))
    assert response.status_code == 201, response.text
    return name


def _problem(response: object) -> tuple[int, str]:
    status, body = response.status_code, response.json()  # type: ignore[attr-defined]
    return status, body["detail"].replace("'", "")


def test_a_group_the_member_is_not_in_answers_as_one_that_does_not_exist(
        client: TestClient, new_member: Callable[[], Member]) -> None:
    owner, outsider = new_member(), new_member()
    theirs = _group(client, owner)
    missing = f"no-such-group-{outsider.name}"

    def share_to(group: str) -> tuple[int, str]:
        body = {"schema": "Person", "properties": {"name": [subject_name()]}, "distribution": "group",
                "audience": [group], "tlp": "amber", "reason": "Europol SIENA 2026/114"}
        response = client.post("/shared/entries", json=body, headers=outsider.auth("analyst"))
        return _problem(response)

    def join(group: str) -> tuple[int, str]:
        return _problem(client.post(f"/shared/groups/{group}/members", json={"member": outsider.name},
                                    headers=outsider.auth("admin")))

    def import_to(group: str) -> tuple[int, str]:
        line = b'{"id": "x1", "schema": "Person", "properties": {"name": ["Abu Imported Testfield"]}}\n'
        return _problem(client.post("/shared/import", params={"distribution": "group", "audience": [group]},
                                    content=line, headers=outsider.auth("analyst")))

    for attempt in (share_to, join, import_to):
        (status, detail), (status_missing, detail_missing) = attempt(theirs), attempt(missing)
        assert status == status_missing and status in (404, 422), attempt.__name__
        assert detail.replace(theirs, "X") == detail_missing.replace(missing, "X"), attempt.__name__
    # nothing was shared into the group behind its members' backs
    listed = client.get("/shared/entries", params={"mine": True}, headers=outsider.auth("analyst")).json()
    assert listed["total"] == 0
    # a member of the group that does not own it is told so (it knows the group)
    assert client.post(f"/shared/groups/{theirs}/members", json={"member": outsider.name, "action": "add"},
                       headers=owner.auth("admin")).status_code == 200
    assert join(theirs)[0] == 403


# -- a hostile peer server ------------------------------------------------------------------------

def _signed(engine: Engine, records: list[dict[str, Any]], bundle_id: str) -> dict[str, str]:
    key = signing_key(engine)
    bundle = {"bundle_id": bundle_id, "from": "agency-a", "key_id": key.key_id,
              "created": datetime.now(UTC).isoformat(timespec="seconds"), "seq_from": 0, "seq_to": len(records),
              "entries": records}
    return {"bundle": canonical(bundle).decode(), "signature": sign(key, canonical(bundle))}


def _record(ref: str, originator: str, name: str = "Abu Spoofed Testfield") -> dict[str, Any]:
    return {"id": ref, "schema": "Person", "properties": {"name": [name]},
            "jointwatch": {"originator": originator, "version": 1, "status": "active", "distribution": "connected",
                           "tlp": "amber", "handling": [], "reason": "r"}}


def test_a_peer_cannot_pass_its_entries_off_as_another_servers_or_a_local_members(tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    c_key = signing_key(open_engine(str(tmp_path / "c.db"), create=True))
    add_link(pair.b, "agency-c", None, {c_key.key_id: c_key.public_key})
    local = add_member(pair.b, "customs").name
    claims = {"sh-" + "1" * 20: "customs@agency-c", "sh-" + "2" * 20: local, "sh-" + "3" * 20: "border-police"}
    received = receive_bundle(pair.b, pair.b_from_a, _signed(pair.a, [_record(r, o) for r, o in claims.items()],
                                                             "b" * 32))
    assert received.new == 3
    originators = {ref: get_entry(pair.b, ref).originator for ref in claims}  # type: ignore[union-attr]
    # every one names the link it came through, last; none reads as agency-c's or as a member here
    assert all(o.endswith("agency-a") for o in originators.values()), originators
    assert originators["sh-" + "3" * 20] == "border-police@agency-a"
    assert "customs@agency-c" != originators["sh-" + "1" * 20] != local
    # and no member here is named like another server's originator
    with pytest.raises(InvalidInputError):
        add_member(pair.b, "border-police@agency-a")


# -- evidence ---------------------------------------------------------------------------------------

def test_a_recipient_of_evidence_learns_not_who_at_the_originator_added_it_nor_from_where(
        client: TestClient, un_store: Engine, new_member: Callable[[], Member]) -> None:
    a, b = new_member(), new_member()
    ref = share_entry(un_store, a.id, "officer-a", EntryInput("Person", {"name": [subject_name()]}),
                      Labels("members", (b.id,), "amber", (), "EU 2017/541")).ref
    added = client.post(f"/shared/entries/{ref}/evidence", content=jpeg_with_gps(), headers=a.auth("analyst"),
                        params={"filename": "convoy.jpg"})
    assert added.status_code == 201, added.text
    evidence = added.json()["ref"]
    assert added.json()["user"] == "analyst-user" and added.json()["origin"].startswith("api ")
    seen = [client.get(f"/shared/entries/{ref}/evidence", headers=b.auth("analyst")).json()[0],
            client.get(f"/shared/evidence/{evidence}", headers=b.auth("analyst")).json()]
    for record in seen:
        assert (record["user"], record["origin"], record["member_id"], record["mine"]) == ("", "", None, False)
        assert record["sha256"] == added.json()["sha256"] and record["latitude"] == added.json()["latitude"]
    # its originator still has the whole chain of custody
    own = client.get(f"/shared/evidence/{evidence}", headers=a.auth("analyst")).json()
    assert own["user"] == "analyst-user" and own["origin"].startswith("api ") and own["member_id"] == a.id


def test_a_peer_cannot_send_or_answer_more_than_a_bundle_holds(tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    many = [_record(f"sh-{i:020d}", "border-police", f"Abu Many {i} Testfield")
            for i in range(MAX_BUNDLE_ENTRIES + 1)]
    with pytest.raises(BundleRefusedError, match="at most"):
        receive_bundle(pair.b, pair.b_from_a, _signed(pair.a, many, "a" * 32))
    assert get_entry(pair.b, many[0]["id"]) is None
    # a pull whose answer never ends is cut off, not read into memory
    endless = httpx.MockTransport(lambda request: httpx.Response(
        200, headers={"content-type": "application/json"}, content=iter([b"x" * 1_000_000] * 100)))
    link = replace(pair.b_from_a, url="http://agency-a.invalid")
    with pytest.raises(FetchError, match="over"):
        sync(pair.b, link, transport=endless)


def test_one_entry_is_never_too_large_to_travel_in_a_bundle(tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    huge = {"name": ["Abu Huge Testfield"],
            **{prop: [f"{prop} {i} " + "x" * 900 for i in range(200)] for prop in ("notes", "summary", "address")}}
    with pytest.raises(InvalidInputError, match="at most"):
        share_entry(pair.a, pair.a_member, "officer", EntryInput("Person", huge),
                    Labels("connected", (), "amber", (), "r"))


def _pdf(stream_dictionary: bytes, data: bytes) -> bytes:
    return (b"%PDF-1.7\n1 0 obj\n" + stream_dictionary + b"\nstream\n" + data + b"\nendstream\nendobj\n"
            b"trailer << /Root 1 0 R >>\n%%EOF\n")


def test_a_pdf_cannot_hide_active_content_under_a_filter_the_check_does_not_read() -> None:
    action = b"3 0 << /Type /Action /S /JavaScript /JS (app.alert(1)) >>"
    hidden = {
        # an object stream the lookback for /ObjStm missed: "obj" in a string of its own dictionary
        "hex, (obj)": _pdf(b"<< /Type /ObjStm /N 1 /First 4 /X (obj) /Filter /ASCIIHexDecode >>",
                           binascii.hexlify(action)),
        "ascii85, long dictionary": _pdf(b"<< /Type /ObjStm /N 1 /First 4 /Filter /ASCII85Decode /Pad ("
                                         + b"p" * 1200 + b") >>", base64.a85encode(action)),
        # Flate first, so it inflates, but what comes out is hex
        "flate then hex": _pdf(b"<< /Type /ObjStm /N 1 /First 4 /Filter [/FlateDecode /ASCIIHex#44ecode] >>",
                               zlib.compress(binascii.hexlify(action))),
        "escaped /Encrypt": _pdf(b"<< /Length 3 >>", b"abc").replace(b"trailer <<", b"trailer << /Encr#79pt 9 0 R"),
    }
    for what, content in hidden.items():
        with pytest.raises(InvalidInputError, match="refused|cannot be checked"):
            check_pdf(content, f"{what}.pdf")
    # a plain PDF with Flate streams and a DCT image still goes in
    check_pdf(_pdf(b"<< /Filter /FlateDecode >>", zlib.compress(b"BT /F1 12 Tf (Convoy) Tj ET"))
              + _pdf(b"<< /Subtype /Image /Filter /DCTDecode >>", b"\xff\xd8\xff\xe0 not really"), "fine.pdf")


def test_a_peer_entry_with_a_reference_no_url_can_name_or_a_version_no_column_holds_is_refused_alone(
        tmp_path: Path) -> None:
    pair = Pair(tmp_path)
    records = [_record("sh-fine_ref-1", "border-police")]
    for ref in ("../../shared/groups", "sh-a/b", "sh-a?b", "ev-00000000000000000000", "sh- "):
        records.append(_record(ref, "border-police"))
    huge = _record("sh-hugeversion", "border-police")
    huge["jointwatch"]["version"] = 2**64
    records.append(huge)
    received = receive_bundle(pair.b, pair.b_from_a, _signed(pair.a, records, "9" * 32))
    assert (received.new, received.refused) == (1, len(records) - 1)
    assert get_entry(pair.b, "sh-fine_ref-1") is not None and get_entry(pair.b, "sh-hugeversion") is None
