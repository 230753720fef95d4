"""Tests of the UK Sanctions List parser against a fixture in the published shape."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import Record
from jointwatch.sources.uk import SOURCE, _uk_date, parse_uk_list
from tests.sources.helpers import by_schema, write_file

FIXTURE = Path(__file__).parent.parent / "fixtures" / "uk_sanctions_sample.xml"
AQ_REGIME = "The ISIL (Da'esh) and Al-Qaida (United Nations Sanctions) (EU Exit) Regulations 2019"


def _records() -> dict[str, Record]:
    """The fixture's records by reference."""
    return {r.reference: r for r in parse_uk_list(FIXTURE).records}


def _designation(body: str) -> str:
    """A one-designation list around the given Designation content."""
    return (
        "<Designations>\n  <DateGenerated>02/01/2025</DateGenerated>\n"
        f"  <Designation>{body}</Designation>\n</Designations>"
    )


def test_metadata() -> None:
    parsed = parse_uk_list(FIXTURE)
    assert parsed.source == SOURCE == "uk_sanctions"
    assert parsed.format == "uk"
    assert parsed.paths == (FIXTURE,)
    assert parsed.published == date(2025, 6, 10)
    assert [r.reference for r in parsed.records] == ["AQD0104", "AQD0011", "DPR0075"]


def test_person_names_and_aliases() -> None:
    person = _records()["AQD0104"].main
    assert person.schema.name == "Person"
    assert person.id == "uk-sanctions-AQD0104"
    assert sorted(person.get("name")) == sorted(["Abdul Rahman YASIN", "عبد الرحمن ياسين"])
    assert sorted(person.get("alias")) == sorted(
        ["Abd al-Rahman YASIN", "Abdul Rahman Said YASIN", "Abdul Rahman S. TAHA"]
    )
    assert person.get("weakAlias") == ["Aboud YASIN"]
    assert "Aboud YASIN" not in person.get("alias")
    assert person.get("firstName") == ["Abdul Rahman"]
    assert person.get("lastName") == ["YASIN"]
    assert person.get("gender") == ["male"]
    assert person.get("topics") == ["sanction"]
    assert person.get("notes") == [
        "Wanted by the FBI in connection with the 1993 World Trade Center bombing."
    ]


def test_person_birth_and_nationality() -> None:
    person = _records()["AQD0104"].main
    assert sorted(person.get("birthDate")) == ["1960-04-10", "1961"]
    assert person.get("birthPlace") == ["Bloomington, Indiana, United States"]
    assert person.get("birthCountry") == ["us"]
    assert person.get("nationality") == ["us"]


def test_person_documents_and_address() -> None:
    record = _records()["AQD0104"]
    person = record.main
    assert sorted(person.get("passportNumber")) == ["27082171", "M0887925"]
    assert person.get("idNumber") == ["156-92-9858"]
    passports = {p.first("number"): p for p in by_schema(record, "Passport")}
    assert set(passports) == {"27082171", "M0887925"}
    assert passports["27082171"].get("holder") == [person.id]
    assert passports["27082171"].get("summary") == ["US. Issued 21 Jun 1992 in Amman, Jordan"]
    [national_id] = by_schema(record, "Identification")
    assert national_id.get("number") == ["156-92-9858"]
    assert national_id.get("summary") == ["US Social Security Number"]
    [address] = by_schema(record, "Address")
    assert address.get("full") == ["Baghdad, Iraq"]
    assert address.get("country") == ["iq"]
    assert person.get("addressEntity") == [address.id]


def test_person_sanction() -> None:
    record = _records()["AQD0104"]
    [sanction] = by_schema(record, "Sanction")
    assert sanction.get("entity") == [record.main.id]
    assert sanction.get("authorityId") == ["AQD0104"]
    assert sanction.get("recordId") == ["7010"]
    assert sanction.get("program") == [AQ_REGIME]
    assert sorted(sanction.get("provisions")) == ["Asset freeze", "Travel Ban"]
    assert sanction.get("listingDate") == ["2001-10-19"]
    assert sanction.get("modifiedAt") == ["2024-04-12"]
    assert sanction.get("summary") == ["Designation source: UN"]
    assert sanction.get("reason") == []  # the statement of reasons is blank


def test_organisation() -> None:
    record = _records()["AQD0011"]
    org = record.main
    assert org.schema.name == "Organization"
    assert org.id == "uk-sanctions-AQD0011"
    assert org.get("name") == ["AL-HARAMAIN & AL MASJED AL-AQSA"]
    assert sorted(org.get("alias")) == [
        "Al-Haramain Al-Aqsa Charity Foundation",
        "Al-Haramayn Al-Masjid Al-Aqsa",
    ]
    assert org.get("weakAlias") == []
    assert org.get("legalForm") == ["Charitable foundation"]
    assert org.get("country") == ["ba"]
    [address] = by_schema(record, "Address")
    assert address.get("street") == ["Hasiba Brankovica 2A"]
    [sanction] = by_schema(record, "Sanction")
    assert sanction.get("listingDate") == ["2004-06-28"]
    assert sanction.get("program") == [AQ_REGIME]


def test_ship() -> None:
    record = _records()["DPR0075"]
    ship = record.main
    assert ship.schema.name == "Vessel"
    assert ship.id == "uk-sanctions-DPR0075"
    assert ship.get("name") == ["PETREL 8"]
    assert ship.get("alias") == ["Jal Vahini"]
    assert ship.get("imoNumber") == ["IMO9562233"]
    assert ship.get("flag") == ["km"]
    assert ship.get("pastFlags") == ["in"]
    assert ship.get("type") == ["Bulk Carrier"]
    assert ship.get("buildDate") == ["2011"]
    [sanction] = by_schema(record, "Sanction")
    assert sanction.get("listingDate") == ["2017-10-03"]
    assert sanction.get("provisions") == ["Prohibition of port entry"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("25/01/2001", ["2001-01-25"]),
        ("dd/mm/1975", ["1975"]),
        ("DD/MM/1975", ["1975"]),
        ("dd/05/1975", ["1975-05"]),
        ("1/2/1975", ["1975-02-01"]),
        ("31/02/1975", []),
        ("unknown", []),
    ],
)
def test_uk_dates(value: str, expected: list[str]) -> None:
    assert _uk_date(value) == expected


def test_truncated_file(tmp_path: Path) -> None:
    content = FIXTURE.read_text(encoding="utf-8")
    cut = content[: content.index("<Name6>Jal Vahini")]
    path = write_file(tmp_path, "uk_truncated.xml", cut)
    with pytest.raises(ListFormatError) as caught:
        list(parse_uk_list(path).records)
    assert "uk_truncated.xml" in str(caught.value)
    assert caught.value.location is not None and caught.value.location.startswith("line ")


def test_record_without_reference(tmp_path: Path) -> None:
    body = (
        "<Names><Name><Name6>NOBODY</Name6><NameType>Primary Name</NameType></Name></Names>"
        "<IndividualEntityShip>Individual</IndividualEntityShip>"
    )
    path = write_file(tmp_path, "uk_noref.xml", _designation(body))
    with pytest.raises(ListFormatError) as caught:
        list(parse_uk_list(path).records)
    assert "uk_noref.xml" in str(caught.value)
    assert caught.value.location == "line 3 <Designation>"
    assert "UniqueID" in caught.value.reason


def test_unreadable_date_of_birth(tmp_path: Path) -> None:
    body = (
        "<UniqueID>TST0001</UniqueID><Names><Name><Name6>SOMEBODY</Name6>"
        "<NameType>Primary Name</NameType></Name></Names>"
        "<IndividualEntityShip>Individual</IndividualEntityShip>"
        "<IndividualDetails><Individual><DOBs><DOB>sometime</DOB></DOBs></Individual>"
        "</IndividualDetails>"
    )
    path = write_file(tmp_path, "uk_baddob.xml", _designation(body))
    with pytest.raises(ListFormatError, match="sometime"):
        list(parse_uk_list(path).records)


def test_unknown_designation_type(tmp_path: Path) -> None:
    body = (
        "<UniqueID>TST0002</UniqueID><Names><Name><Name6>X</Name6></Name></Names>"
        "<IndividualEntityShip>Aircraft</IndividualEntityShip>"
    )
    path = write_file(tmp_path, "uk_kind.xml", _designation(body))
    with pytest.raises(ListFormatError, match="unknown designation type"):
        list(parse_uk_list(path).records)


def test_doctype_with_entities_is_refused(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "uk_bomb.xml",
        """<?xml version="1.0"?>
<!DOCTYPE Designations [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<Designations><DateGenerated>02/01/2025</DateGenerated>
  <Designation><UniqueID>TST0003</UniqueID>
    <Names><Name><Name6>&b;</Name6><NameType>Primary Name</NameType></Name></Names>
    <IndividualEntityShip>Entity</IndividualEntityShip></Designation>
</Designations>""",
    )
    with pytest.raises(ListFormatError, match="DOCTYPE") as caught:
        list(parse_uk_list(path).records)
    assert "uk_bomb.xml" in str(caught.value)


def test_published_date_falls_back_to_file_name(tmp_path: Path) -> None:
    body = (
        "<UniqueID>TST0004</UniqueID><Names><Name><Name6>SOME LTD</Name6>"
        "<NameType>Primary Name</NameType></Name></Names>"
        "<IndividualEntityShip>Entity</IndividualEntityShip>"
    )
    path = write_file(
        tmp_path,
        "uk_sanctions_2024-03-01.xml",
        f"<Designations><Designation>{body}</Designation></Designations>",
    )
    parsed = parse_uk_list(path)
    assert parsed.published == date(2024, 3, 1)
    assert [r.reference for r in parsed.records] == ["TST0004"]


def test_not_a_uk_list(tmp_path: Path) -> None:
    path = write_file(tmp_path, "other.xml", "<export/>")
    with pytest.raises(ListFormatError, match="not a UK Sanctions List"):
        parse_uk_list(path)
