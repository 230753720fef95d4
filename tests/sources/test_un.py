"""The UN consolidated list, read field by field and checked against the XML itself."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import pytest

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import Record
from jointwatch.sources.un import parse_un_list
from tests.conftest import UN_FILE
from tests.sources.helpers import by_schema


@pytest.fixture(scope="module")
def records() -> dict[str, Record]:
    parsed = parse_un_list(UN_FILE)
    assert parsed.published == date(2026, 2, 27)
    return {r.reference: r for r in parsed.records}


def test_counts_persons_and_organisations(records: dict[str, Record]) -> None:
    schemata = [r.main.schema.name for r in records.values()]
    assert schemata.count("Person") == 730
    assert schemata.count("Organization") == 273


def test_qdi_354_field_by_field(records: dict[str, Record]) -> None:
    harzi = records["QDi.354"].main
    assert harzi.id == "un-sc-QDi.354"
    assert set(harzi.get("name")) == {
        "TARAK BEN TAHER BEN FALEH OUNI HARZI",
        "طارق بن الطاھر بن الفالح العوني الحرزي",
    }
    assert harzi.get("firstName") == ["TARAK"]
    assert harzi.get("secondName") == ["BEN TAHER"]
    assert harzi.get("middleName") == ["BEN FALEH"]
    assert harzi.get("lastName") == ["OUNI HARZI"]
    # UN quality "Low" is a weak alias, never a strong one
    assert harzi.get("weakAlias") == ["Abou Omar Al Tounisi"]
    assert harzi.get("alias") == []
    assert harzi.get("birthDate") == ["1982-05-03"]
    assert harzi.get("birthPlace") == ["Tunis, Tunisia"]
    assert harzi.get("nationality") == ["tn"]
    assert harzi.get("passportNumber") == ["Z050399"]
    assert harzi.get("idNumber") == ["04711809"]
    assert set(harzi.get("country")) == {"tn", "sy", "iq", "ly"}

    passport = by_schema(records["QDi.354"], "Passport")[0]
    assert passport.get("number") == ["Z050399"]
    assert passport.get("country") == ["tn"]
    assert passport.get("startDate") == ["2003-12-09"]
    assert passport.get("summary") == ["expired on 8 Dec. 2008"]
    assert passport.get("holder") == [harzi.id]

    sanction = by_schema(records["QDi.354"], "Sanction")[0]
    assert sanction.get("authorityId") == ["QDi.354"]
    assert sanction.get("program") == ["Al-Qaida"]
    assert sanction.get("programId") == ["QDi"]
    assert sanction.get("listingDate") == ["2015-04-10"]
    assert set(sanction.get("modifiedAt")) == {"2016-09-14", "2019-05-01", "2021-11-15"}


def test_alias_qualities_map_to_properties(records: dict[str, Record]) -> None:
    # QDi.355: "Good" → alias, "Low" → weakAlias
    qumu = records["QDi.355"].main
    assert qumu.get("alias") == ["Sufyan bin Qumu"]
    assert qumu.get("weakAlias") == ["ABOU FARAI AL LIBI"]


def _xml_index() -> dict[str, ET.Element]:
    root = ET.parse(UN_FILE).getroot()
    return {(el.findtext("REFERENCE_NUMBER") or "").strip(): el for el in root.iter()
            if el.tag in ("INDIVIDUAL", "ENTITY")}


def _squash(text: str) -> str:
    # the XML wraps some long values over lines; the register keeps them on one line,
    # and (as FollowTheMoney does for names) without surrounding quotes
    return " ".join(text.split()).strip('"')


def test_every_alias_original_script_dob_and_document_is_loaded(records: dict[str, Record]) -> None:
    """Derived independently from the XML with the standard library parser."""
    xml = _xml_index()
    assert set(xml) == set(records)
    originals = aliases = documents = dobs = 0
    for ref, el in xml.items():
        record = records[ref]
        main = record.main
        names = set(main.get("alias")) | set(main.get("weakAlias")) | set(main.get("previousName"))
        for alias in el.iter("ALIAS_NAME"):
            if alias.text and alias.text.strip():
                assert _squash(alias.text) in names, (ref, alias.text)
                aliases += 1
        original = el.findtext("NAME_ORIGINAL_SCRIPT")
        if original and original.strip():
            assert _squash(original) in main.get("name"), ref
            originals += 1
        numbers = {n for e in record.entities for n in e.get("number", quiet=True)}
        for number in el.iter("NUMBER"):
            if number.text and number.text.strip():
                assert _squash(number.text) in numbers, (ref, number.text)
                documents += 1
        birth = set(main.get("birthDate", quiet=True))
        for dob in el.iter("INDIVIDUAL_DATE_OF_BIRTH"):
            for tag in ("DATE", "YEAR", "FROM_YEAR", "TO_YEAR"):
                value = dob.findtext(tag)
                if value:
                    assert value.strip() in birth, (ref, tag, value)
                    dobs += 1
    assert originals == 378
    assert aliases == 2308 + 735 - 291  # every ALIAS_NAME with text (291 empty placeholders)
    assert documents == 454
    assert dobs > 800


def _write(tmp_path: Path, text: str, name: str = "list.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _consume(path: Path) -> None:
    for _ in parse_un_list(path).records:
        pass


def test_truncated_file_names_file_and_line(tmp_path: Path) -> None:
    data = UN_FILE.read_bytes()
    path = tmp_path / "truncated.xml"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ListFormatError) as info:
        _consume(path)
    assert "truncated.xml" in str(info.value)
    assert "line" in str(info.value)


def test_billion_laughs_and_external_entities_are_refused(tmp_path: Path) -> None:
    bomb = _write(tmp_path, """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z"><INDIVIDUALS><INDIVIDUAL>
<REFERENCE_NUMBER>QDi.1</REFERENCE_NUMBER><FIRST_NAME>&lol2;&xxe;</FIRST_NAME>
</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>""")
    with pytest.raises(ListFormatError, match="DOCTYPE"):
        _consume(bomb)


def test_record_without_reference_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, """<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z"><INDIVIDUALS>
<INDIVIDUAL><FIRST_NAME>NO REF</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>""")
    with pytest.raises(ListFormatError, match=r"line 2 <INDIVIDUAL>.*REFERENCE_NUMBER"):
        _consume(path)


def test_wrong_encoding_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.xml"
    path.write_bytes('<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL>'
                     '<REFERENCE_NUMBER>QDi.1</REFERENCE_NUMBER><FIRST_NAME>Jos\xe9</FIRST_NAME>'
                     '</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>'.encode("latin-1"))
    with pytest.raises(ListFormatError) as info:
        _consume(path)
    assert "latin1.xml" in str(info.value)


def test_wrong_root_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ListFormatError, match="not a UN consolidated list"):
        _consume(_write(tmp_path, "<sdnList/>"))
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    with pytest.raises(ListFormatError, match="empty"):
        _consume(empty)


def test_unreadable_birth_date_names_the_element(tmp_path: Path) -> None:
    path = _write(tmp_path, """<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z"><INDIVIDUALS>
<INDIVIDUAL><REFERENCE_NUMBER>QDi.1</REFERENCE_NUMBER><FIRST_NAME>A</FIRST_NAME>
<INDIVIDUAL_DATE_OF_BIRTH><TYPE_OF_DATE>EXACT</TYPE_OF_DATE><DATE>soon</DATE></INDIVIDUAL_DATE_OF_BIRTH>
</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>""")
    with pytest.raises(ListFormatError, match="INDIVIDUAL_DATE_OF_BIRTH.*soon"):
        _consume(path)


def test_huge_field_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, '<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z"><INDIVIDUALS><INDIVIDUAL>'
                  "<REFERENCE_NUMBER>QDi.1</REFERENCE_NUMBER><FIRST_NAME>" + "A" * 200_000 +
                  "</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>")
    with pytest.raises(ListFormatError, match="exceeds"):
        _consume(path)
