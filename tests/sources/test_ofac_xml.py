"""The OFAC SDN legacy XML parser: field-by-field mapping and refusal of bad input."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from followthemoney import StatementEntity

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import Record, make_id
from jointwatch.sources.ofac_xml import FORMAT, SOURCE, ofac_entity_id, parse_ofac_xml

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ofac_sdn_sample.xml"
SLS_NS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML"


@pytest.fixture(scope="module")
def records() -> dict[str, Record]:
    parsed = parse_ofac_xml(FIXTURE)
    return {record.reference: record for record in parsed.records}


def by_schema(record: Record, schema: str) -> list[StatementEntity]:
    return [e for e in record.entities if e.schema.name == schema]


def sanction_of(record: Record) -> StatementEntity:
    (sanction,) = by_schema(record, "Sanction")
    return sanction


def write(tmp_path: Path, entries: str, *, ns: str = SLS_NS, name: str = "sdn.xml",
          publish: str = "<Publish_Date>03/01/2023</Publish_Date>") -> Path:
    path = tmp_path / name
    path.write_text(
        f'<?xml version="1.0" standalone="yes"?>\n<sdnList xmlns="{ns}">\n'
        f"<publshInformation>{publish}<Record_Count>1</Record_Count></publshInformation>\n"
        f"{entries}\n</sdnList>\n",
        encoding="utf-8",
    )
    return path


def parse_one(path: Path) -> Record:
    (record,) = list(parse_ofac_xml(path).records)
    return record


# --- the list as a whole ------------------------------------------------------------------


def test_metadata_and_publish_date() -> None:
    parsed = parse_ofac_xml(FIXTURE)
    assert parsed.source == SOURCE == "us_ofac_sdn"
    assert parsed.format == FORMAT == "ofac-xml"
    assert parsed.paths == (FIXTURE,)
    assert parsed.published == date(2021, 7, 1)
    assert [r.reference for r in parsed.records] == ["6931", "17293", "15036", "15117"]


def test_source_can_be_overridden() -> None:
    parsed = parse_ofac_xml(FIXTURE, source="us_ofac_cons")
    first = next(parsed.records)
    assert parsed.source == "us_ofac_cons"
    assert first.main.datasets == {"us_ofac_cons"}


def test_main_entity_id_is_shared_with_the_csv_parser(records: dict[str, Record]) -> None:
    assert ofac_entity_id("6931") == make_id("ofac", "6931") == "ofac-6931"
    for uid, record in records.items():
        assert record.main.id == make_id("ofac", uid)
        assert record.main.get("topics") == ["sanction"]


# --- individuals --------------------------------------------------------------------------


def test_yasin_names(records: dict[str, Record]) -> None:
    main = records["6931"].main
    assert main.schema.name == "Person"
    assert main.get("name") == ["Abdul Rahman YASIN"]
    assert main.get("firstName") == ["Abdul Rahman"]
    assert main.get("lastName") == ["YASIN"]
    assert set(main.get("alias")) == {
        "Abdul Rahman Said YASIN", "Aboud YASIN", "Abdul Rahman S. TAHA", "Abdul Rahman S. TAHER",
    }
    assert main.get("weakAlias") == []
    # decision: the CSV's "LAST, First" form is not added as another name
    assert "YASIN, Abdul Rahman" not in main.get("alias") + main.get("name")


def test_yasin_birth_citizenship_and_remarks(records: dict[str, Record]) -> None:
    main = records["6931"].main
    assert main.get("birthDate") == ["1960-04-10"]
    assert main.get("birthPlace") == ["Bloomington, Indiana USA"]
    assert main.get("citizenship") == ["us"]
    originals = {s.original_value for s in main.statements if s.prop == "citizenship"}
    assert originals == {"United States"}
    assert main.get("nationality") == []
    assert main.get("notes") == ["U.S.A. Passport issued 21 Jun 1992 in Amman, Jordan."]


def test_yasin_documents(records: dict[str, Record]) -> None:
    record = records["6931"]
    assert set(record.main.get("passportNumber")) == {"27082171", "M0887925"}
    passports = {p.first("number"): p for p in by_schema(record, "Passport")}
    assert set(passports) == {"27082171", "M0887925"}
    us = passports["27082171"]
    assert us.get("country") == ["us"]
    assert us.get("startDate") == ["1992-06-21"]
    assert us.get("holder") == ["ofac-6931"]
    assert us.get("type") == ["Passport"]
    assert passports["M0887925"].get("country") == ["iq"]
    (ssn,) = by_schema(record, "Identification")
    assert ssn.get("type") == ["SSN"]
    assert ssn.get("number") == ["156-92-9858"]
    assert ssn.get("country") == ["us"]
    assert record.main.get("socialSecurityNumber") == ["156-92-9858"]


def test_yasin_sanction(records: dict[str, Record]) -> None:
    sanction = sanction_of(records["6931"])
    assert sanction.id == "ofac-6931-sanction"
    assert sanction.get("entity") == ["ofac-6931"]
    assert sanction.get("authority") == ["US Treasury OFAC"]
    assert sanction.get("authorityId") == ["6931"]
    assert sanction.get("program") == ["SDGT"]
    assert sanction.get("listingDate") == []
    assert records["6931"].entities[-1] is sanction


def test_al_harzi_aliases_strong_and_weak(records: dict[str, Record]) -> None:
    main = records["17293"].main
    assert main.get("name") == ["Tariq Bin-Al-Tahar Bin Al Falih Al-'Awni AL-HARZI"]
    aliases = set(main.get("alias"))
    assert "Tariq Tahir Faleh Al-Awni AL-HARZI" in aliases
    assert "Tariq Tahir Falih 'Awni HARZI" in aliases
    assert main.get("weakAlias") == ["Abu Omar HOUDOUD"]
    assert "Abu Omar HOUDOUD" not in aliases


def test_al_harzi_birth_and_passport(records: dict[str, Record]) -> None:
    record = records["17293"]
    main = record.main
    assert set(main.get("birthDate")) == {"1982-05-03", "1982-03-05", "1981"}
    assert main.get("birthPlace") == ["Tunis, Tunisia"]
    assert main.get("passportNumber") == ["Z-050399"]
    (passport,) = by_schema(record, "Passport")
    assert passport.get("number") == ["Z-050399"]
    assert passport.get("country") == []
    assert sanction_of(record).get("program") == ["SDGT"]


# --- vessel and entity --------------------------------------------------------------------


def test_vessel(records: dict[str, Record]) -> None:
    record = records["15036"]
    main = record.main
    assert main.schema.name == "Vessel"
    assert main.get("name") == ["ARTAVIL"]
    assert main.get("imoNumber") == ["IMO9187629"]
    assert main.get("mmsi") == ["572469210"]
    assert main.get("callSign") == ["T2EU4"]
    assert main.get("type") == ["Crude/Oil Products Tanker"]
    assert main.get("flag") == ["ir"]
    assert set(main.get("pastFlags")) == {"mt", "tv", "tz"}
    assert main.get("tonnage") == ["99144"]
    assert main.get("grossRegisteredTonnage") == ["56068"]
    assert set(main.get("previousName")) == {"ABADAN", "SHONA"}
    assert main.get("alias") == []
    assert "Former Vessel Flag: None Identified" in main.get("notes")
    assert "(Linked To: NATIONAL IRANIAN TANKER COMPANY)" in main.get("notes")
    assert [e.schema.name for e in record.entities] == ["Vessel", "Sanction"]
    sanction = sanction_of(record)
    assert sanction.get("program") == ["IRAN"]
    assert sanction.get("provisions") == [
        "Additional Sanctions Information - Subject to Secondary Sanctions"
    ]


def test_entity_with_addresses(records: dict[str, Record]) -> None:
    record = records["15117"]
    main = record.main
    assert main.schema.name == "Organization"
    assert main.get("name") == ["NATIONAL IRANIAN TANKER COMPANY"]
    assert main.get("alias") == ["NITC"]
    assert main.get("country") == ["ir"]
    assert set(main.get("email")) == {"info@nitc.co.ir", "administrator@nitc.co.ir"}
    assert main.get("website") == ["http://www.nitc.co.ir/"]
    assert main.get("idNumber") == ["4891"]
    addresses = {a.id: a for a in by_schema(record, "Address")}
    assert set(addresses) == {"ofac-15117-addr-22489", "ofac-15117-addr-45451"}
    addr = addresses["ofac-15117-addr-22489"]
    assert addr.get("street") == ["NITC Building, 67-88, Shahid Atefi Street, Africa Avenue"]
    assert addr.get("city") == ["Tehran"]
    assert addr.get("country") == ["ir"]
    assert addr.get("full") == [
        "NITC Building, 67-88, Shahid Atefi Street, Africa Avenue, Tehran, Iran"
    ]
    assert set(main.get("addressEntity")) == set(addresses)
    (national_id,) = by_schema(record, "Identification")
    assert national_id.get("type") == ["National ID No."]
    assert national_id.get("number") == ["4891"]
    assert national_id.get("country") == ["ir"]
    sanction = sanction_of(record)
    assert set(sanction.get("program")) == {"IRAN", "SDGT", "IFSR", "IFCA"}
    assert set(sanction.get("provisions")) == {
        "IFCA Determination - Involved in the Shipping Sector",
        "Additional Sanctions Information - Subject to Secondary Sanctions",
    }


def test_dependent_ids_are_stable_across_parses() -> None:
    first = [e.id for r in parse_ofac_xml(FIXTURE).records for e in r.entities]
    second = [e.id for r in parse_ofac_xml(FIXTURE).records for e in r.entities]
    assert first == second
    assert len(set(first)) == len(first)


# --- less common shapes (inline XML in the current SLS namespace) -------------------------


def test_aircraft_wallet_and_unusual_values(tmp_path: Path) -> None:
    path = write(tmp_path, """
<sdnEntry><uid>1</uid><lastName>EP-ABC</lastName><sdnType>Aircraft</sdnType>
  <programList><program>IRAN</program></programList>
  <idList>
    <id><uid>2</uid><idType>Aircraft Manufacturer's Serial Number (MSN)</idType>
        <idNumber>1234</idNumber></id>
    <id><uid>3</uid><idType>Aircraft Model</idType><idNumber>Airbus A310</idNumber></id>
    <id><uid>4</uid><idType>Aircraft Operator</idType><idNumber>Some Air</idNumber></id>
  </idList>
</sdnEntry>
<sdnEntry><uid>5</uid><firstName>Jane</firstName><lastName>DOE</lastName>
  <title>Minister of Finance</title><sdnType>individual</sdnType>
  <programList><program>CYBER2</program></programList>
  <idList>
    <id><uid>6</uid><idType>Gender</idType><idNumber>Female</idNumber></id>
    <id><uid>7</uid><idType>Digital Currency Address - XBT</idType>
        <idNumber>1AbCdEfGhIjKlMnOpQrStUvWxYz123456</idNumber></id>
    <id><uid>8</uid><idType>Driver's License No.</idType><idNumber>D123</idNumber>
        <idCountry>Atlantis</idCountry><expirationDate>2030</expirationDate></id>
  </idList>
  <akaList>
    <aka><uid>9</uid><type>f.k.a.</type><category>weak</category><lastName>ROE</lastName></aka>
    <aka><uid>10</uid><type>n.k.a.</type><category>strong</category><lastName>SMITH</lastName>
         <firstName>Jane</firstName></aka>
  </akaList>
  <nationalityList><nationality><uid>11</uid><country>Russia</country>
    <mainEntry>true</mainEntry></nationality></nationalityList>
  <dateOfBirthList>
    <dateOfBirthItem><uid>12</uid><dateOfBirth>circa 1961</dateOfBirth></dateOfBirthItem>
    <dateOfBirthItem><uid>13</uid><dateOfBirth>01 Jan 1963 to 31 Dec 1965</dateOfBirth>
    </dateOfBirthItem>
    <dateOfBirthItem><uid>14</uid><dateOfBirth>sometime in spring</dateOfBirth>
    </dateOfBirthItem>
  </dateOfBirthList>
</sdnEntry>
<sdnEntry><uid>15</uid><lastName>SEA STAR</lastName><sdnType>Vessel</sdnType>
  <vesselInfo><vesselFlag>None Identified</vesselFlag><vesselOwner>ACME SHIPPING</vesselOwner>
  </vesselInfo>
</sdnEntry>""")
    plane, person, vessel = list(parse_ofac_xml(path).records)
    assert plane.main.schema.name == "Airplane"
    assert plane.main.get("serialNumber") == ["1234"]
    assert plane.main.get("model") == ["Airbus A310"]
    assert plane.main.get("notes") == ["Aircraft Operator: Some Air"]
    assert [e.schema.name for e in plane.entities] == ["Airplane", "Sanction"]

    main = person.main
    assert main.get("name") == ["Jane DOE"]
    assert main.get("position") == ["Minister of Finance"]
    assert main.get("gender") == ["female"]
    assert main.get("nationality") == ["ru"]
    assert main.get("weakAlias") == ["ROE"]
    assert main.get("previousName") == []
    assert main.get("alias") == ["Jane SMITH"]
    assert set(main.get("birthDate")) == {"1961", "1963", "1964", "1965"}
    assert "Date of birth: sometime in spring" in main.get("notes")
    (wallet,) = by_schema(person, "CryptoWallet")
    assert wallet.get("publicKey") == ["1AbCdEfGhIjKlMnOpQrStUvWxYz123456"]
    assert wallet.get("currency") == ["XBT"]
    assert wallet.get("holder") == ["ofac-5"]
    (licence,) = by_schema(person, "Identification")
    assert licence.get("type") == ["Driver's License No."]
    assert licence.get("endDate") == ["2030"]
    assert licence.get("country") == []
    assert licence.get("summary") == ["country: Atlantis"]
    assert main.get("idNumber") == ["D123"]

    assert vessel.main.get("flag") == []
    assert set(vessel.main.get("notes")) == {"vesselFlag: None Identified",
                                             "Vessel owner: ACME SHIPPING"}


def test_missing_publish_date_gives_none(tmp_path: Path) -> None:
    path = write(tmp_path, "", publish="")
    parsed = parse_ofac_xml(path)
    assert parsed.published is None
    assert list(parsed.records) == []


def test_list_without_publish_information(tmp_path: Path) -> None:
    path = tmp_path / "sdn.xml"
    path.write_text(f'<sdnList xmlns="{SLS_NS}"><sdnEntry><uid>1</uid><lastName>X</lastName>'
                    "<sdnType>Entity</sdnType></sdnEntry></sdnList>")
    parsed = parse_ofac_xml(path)
    assert parsed.published is None
    assert [r.main.get("name") for r in parsed.records] == [["X"]]


# --- bad input ----------------------------------------------------------------------------


def consume(path: Path) -> None:
    list(parse_ofac_xml(path).records)


def test_truncated_file_names_file_and_line(tmp_path: Path) -> None:
    data = FIXTURE.read_bytes()
    path = tmp_path / "sdn.xml"
    path.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(ListFormatError) as info:
        consume(path)
    assert info.value.path == str(path)
    assert info.value.location is not None and re.fullmatch(r"line \d+", info.value.location)
    assert str(path) in str(info.value)
    assert "malformed XML" in info.value.reason


def test_entry_without_uid(tmp_path: Path) -> None:
    path = write(tmp_path, "<sdnEntry><lastName>NO UID</lastName><sdnType>Entity</sdnType>"
                           "</sdnEntry>")
    with pytest.raises(ListFormatError) as info:
        consume(path)
    assert "without uid" in info.value.reason
    assert info.value.location is not None and info.value.location.startswith("line ")
    assert str(path) in str(info.value)


def test_doctype_with_entities_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sdn.xml"
    path.write_text(
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE sdnList [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n'
        f'<sdnList xmlns="{SLS_NS}"><sdnEntry><uid>1</uid><lastName>&lol2;</lastName>'
        "<sdnType>Entity</sdnType></sdnEntry></sdnList>\n"
    )
    with pytest.raises(ListFormatError) as info:
        consume(path)
    assert "DOCTYPE" in info.value.reason


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ("<sdnEntry><uid>1</uid><lastName>X</lastName><sdnType>Ship</sdnType></sdnEntry>",
         "unknown sdnType 'Ship'"),
        ("<sdnEntry><uid>1</uid><lastName>X</lastName></sdnEntry>", "unknown sdnType None"),
        ("<sdnEntry><uid>1</uid><sdnType>Entity</sdnType></sdnEntry>", "has no name"),
        (("<sdnEntry><uid>1</uid><lastName>X</lastName><sdnType>Entity</sdnType></sdnEntry>"
          "<sdnEntry><uid>1</uid><lastName>Y</lastName><sdnType>Entity</sdnType></sdnEntry>"),
         "uid 1 appears twice"),
    ],
)
def test_malformed_entries(tmp_path: Path, entries: str, reason: str) -> None:
    with pytest.raises(ListFormatError) as info:
        consume(write(tmp_path, entries))
    assert reason in info.value.reason


def test_bad_publish_date(tmp_path: Path) -> None:
    path = write(tmp_path, "", publish="<Publish_Date>2021-07-01</Publish_Date>")
    with pytest.raises(ListFormatError, match="unreadable Publish_Date"):
        parse_ofac_xml(path)


def test_wrong_root_and_empty_file(tmp_path: Path) -> None:
    un = tmp_path / "un.xml"
    un.write_text("<CONSOLIDATED_LIST><INDIVIDUALS/></CONSOLIDATED_LIST>")
    with pytest.raises(ListFormatError, match="not an OFAC SDN XML list"):
        parse_ofac_xml(un)
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"")
    with pytest.raises(ListFormatError, match="file is empty"):
        parse_ofac_xml(empty)


def test_tempuri_and_no_namespace_both_accepted(tmp_path: Path) -> None:
    entry = "<sdnEntry><uid>36</uid><lastName>AEROCARIBBEAN AIRLINES</lastName>" \
            "<sdnType>Entity</sdnType></sdnEntry>"
    old = write(tmp_path, entry, ns="http://tempuri.org/sdnList.xsd", name="old.xml")
    assert parse_one(old).main.id == "ofac-36"
    bare = tmp_path / "bare.xml"
    bare.write_text(f"<sdnList>{entry}</sdnList>")
    assert parse_one(bare).main.id == "ofac-36"
