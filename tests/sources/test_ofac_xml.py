"""The OFAC SDN legacy XML parser: field-by-field mapping and refusal of bad input.

The four real entries the field-by-field tests check (individuals 6931 and 17293, vessel
15036, entity 15117) are written out as ``sdn.xml`` at test time from the July 2021 legacy
CSV files in ../shared/data, so that no list data is copied into the repository. The CSV
packs into its Remarks what the XML lays out as elements; ``_entry`` spreads it back out the
way OFAC's XML publication does (documents into ``idList``, quoted aliases into ``akaList``
as weak ones, dates and places of birth into their lists, links to others into remarks).
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from followthemoney import StatementEntity

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import Record, listing_id
from jointwatch.sources.ofac_xml import FORMAT, SOURCE, parse_ofac_xml
from tests.conftest import OFAC_TRIPLET
from tests.sources.helpers import by_schema

SLS_NS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/XML"
# the namespace sdn.xml was published in in 2021, the date of the CSV files it is built from
TEMPURI_NS = "http://tempuri.org/sdnList.xsd"
UIDS = ("6931", "17293", "15036", "15117")

# Remark labels that OFAC's XML carries as idList entries (the label is the idType); longest
# first, so that no label is taken for a shorter one it starts with.
_ID_TYPES = sorted(
    (
        "Passport", "SSN", "National ID No.", "Tax ID No.", "Website", "Email Address",
        "Gender", "SWIFT/BIC", "Former Vessel Flag", "Vessel Registration Identification",
        "MMSI", "Additional Sanctions Information -", "IFCA Determination -",
    ),
    key=len,
    reverse=True,
)
_ID_VALUE = re.compile(
    r"^(?P<number>.+?)(?: \((?P<country>[^)]*)\))?(?: issued (?P<issued>.+?))?"
    r"(?: expires (?P<expires>.+))?$"
)
_QUOTED_ALIAS = re.compile(r"^(?P<type>[afn]\.k\.a\.) '(?P<name>.+)'$")
_BIRTH_AND_COUNTRY = {
    "DOB": ("dateOfBirthList", "dateOfBirthItem", "dateOfBirth"),
    "POB": ("placeOfBirthList", "placeOfBirthItem", "placeOfBirth"),
    "citizen": ("citizenshipList", "citizenship", "country"),
    "nationality": ("nationalityList", "nationality", "country"),
}
_SDN_TYPES = {"individual": "Individual", "vessel": "Vessel", "aircraft": "Aircraft",
              "": "Entity"}
_ALT_TYPES = {"aka": "a.k.a.", "fka": "f.k.a.", "nka": "n.k.a."}
# the order of an sdnEntry's lists in the published XML
_LIST_TAGS = ("idList", "akaList", "addressList", "nationalityList", "citizenshipList",
              "dateOfBirthList", "placeOfBirthList")


def _csv_rows(path: Path, uids: set[str]) -> list[list[str]]:
    """The rows of one legacy CSV file about ``uids``, with ``-0-`` read as empty."""
    text = path.read_text(encoding="utf-8").rstrip("\x1a\r\n")
    rows = ([f.strip() for f in row] for row in csv.reader(io.StringIO(text)) if row)
    return [["" if f == "-0-" else f for f in row] for row in rows if row[0] in uids]


def _sub(parent: ET.Element, tag: str, value: str | None = None) -> ET.Element:
    """A new child element, with text when a value is given."""
    child = ET.SubElement(parent, tag)
    if value is not None:
        child.text = value
    return child


def _names(parent: ET.Element, name: str, individual: bool) -> None:
    """firstName and lastName from the CSV's "LAST, First" (the XML splits only a person's)."""
    last, _, first = name.partition(", ") if individual else (name, "", "")
    if first:
        _sub(parent, "firstName", first)
    _sub(parent, "lastName", last)


def _aka(uid: str, kind: str, category: str, name: str, individual: bool) -> ET.Element:
    """One ``aka`` element."""
    aka = ET.Element("aka")
    _sub(aka, "uid", uid)
    _sub(aka, "type", kind)
    _sub(aka, "category", category)
    _names(aka, name, individual)
    return aka


def _entry(root: ET.Element, row: list[str], alts: list[list[str]],
           adds: list[list[str]]) -> None:
    """One ``sdnEntry`` from a sdn.csv row and the alt.csv and add.csv rows of its uid."""
    (uid, name, sdn_type, programs, title, call_sign, vess_type, tonnage, grt, flag, owner,
     remarks) = row
    individual = sdn_type.lower() == "individual"
    # the CSV gives no uids to documents, birth items and weak aliases; the parser ignores them
    item_uids = (str(n) for n in range(int(uid) * 1000, int(uid) * 1000 + 1000))
    lists: dict[str, list[ET.Element]] = defaultdict(list)
    lists["akaList"] = [_aka(alt[1], _ALT_TYPES[alt[2]], "strong", alt[3], individual)
                        for alt in alts]
    unstructured: list[str] = []
    links: list[str] = []
    for raw in remarks.removesuffix(".").split(";"):
        part = raw.strip().removeprefix("alt. ")
        id_type = next((t for t in _ID_TYPES if part.startswith(f"{t} ")), None)
        label = part.partition(" ")[0]
        if m := _QUOTED_ALIAS.match(part):
            lists["akaList"].append(_aka(next(item_uids), m["type"], "weak", m["name"],
                                         individual))
        elif id_type and (m := _ID_VALUE.match(part[len(id_type) + 1:])):
            item = ET.Element("id")
            _sub(item, "uid", next(item_uids))
            _sub(item, "idType", id_type)
            _sub(item, "idNumber", m["number"])
            for tag, key in (("idCountry", "country"), ("issueDate", "issued"),
                             ("expirationDate", "expires")):
                if m[key]:
                    _sub(item, tag, m[key])
            lists["idList"].append(item)
        elif label in _BIRTH_AND_COUNTRY:
            list_tag, item_tag, value_tag = _BIRTH_AND_COUNTRY[label]
            item = ET.Element(item_tag)
            _sub(item, "uid", next(item_uids))
            _sub(item, value_tag, part[len(label) + 1:])
            _sub(item, "mainEntry", "false" if lists[list_tag] else "true")
            lists[list_tag].append(item)
        elif part.startswith("Linked To: "):
            links.append(f"({part})")
        elif part:
            unstructured.append(part)
    for _, add_num, street, city, country, _ in adds:
        address = ET.Element("address")
        _sub(address, "uid", add_num)
        for tag, value in (("address1", street), ("city", city), ("country", country)):
            if value:
                _sub(address, tag, value)
        lists["addressList"].append(address)

    entry = _sub(root, "sdnEntry")
    _sub(entry, "uid", uid)
    _names(entry, name, individual)
    if title:
        _sub(entry, "title", title)
    _sub(entry, "sdnType", _SDN_TYPES[sdn_type.lower()])
    # what has no element of its own stays in remarks, the links to other entries last
    rest = ([f"{'; '.join(unstructured)}."] if unstructured else []) + links
    if rest:
        _sub(entry, "remarks", " ".join(rest))
    program_list = _sub(entry, "programList")
    for program in programs.strip("[]").split("] ["):
        _sub(program_list, "program", program)
    for list_tag in _LIST_TAGS:
        if lists[list_tag]:
            _sub(entry, list_tag).extend(lists[list_tag])
    if sdn_type.lower() == "vessel":
        info = _sub(entry, "vesselInfo")
        for tag, value in (("callSign", call_sign), ("vesselType", vess_type),
                           ("vesselFlag", flag), ("vesselOwner", owner), ("tonnage", tonnage),
                           ("grossRegisteredTonnage", grt)):
            if value:
                _sub(info, tag, value)


def write_sdn_xml(folder: Path, path: Path, uids: tuple[str, ...]) -> Path:
    """``sdn.xml`` at ``path`` holding the entries of ``uids`` (in that order) of the CSV
    triplet in ``folder``; the publication date is the month in the folder's name."""
    wanted = set(uids)
    primary = {row[0]: row for row in _csv_rows(folder / "sdn.csv", wanted)}
    assert set(primary) == wanted, f"uids missing from {folder / 'sdn.csv'}"
    alts: dict[str, list[list[str]]] = defaultdict(list)
    for row in _csv_rows(folder / "alt.csv", wanted):
        alts[row[0]].append(row)
    adds: dict[str, list[list[str]]] = defaultdict(list)
    for row in _csv_rows(folder / "add.csv", wanted):
        adds[row[0]].append(row)
    month = re.search(r"(\d{4})-(\d{2})$", folder.name)
    assert month is not None, f"no YYYY-MM at the end of {folder.name}"

    root = ET.Element("sdnList", {"xmlns": TEMPURI_NS})
    info = _sub(root, "publshInformation")
    _sub(info, "Publish_Date", f"{month[2]}/01/{month[1]}")
    _sub(info, "Record_Count", str(len(uids)))
    for uid in uids:
        _entry(root, primary[uid], alts[uid], adds[uid])
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


@pytest.fixture(scope="module")
def sdn_xml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sdn_xml(OFAC_TRIPLET, tmp_path_factory.mktemp("ofac") / "sdn.xml", UIDS)


@pytest.fixture(scope="module")
def records(sdn_xml: Path) -> dict[str, Record]:
    parsed = parse_ofac_xml(sdn_xml)
    return {record.reference: record for record in parsed.records}


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


def test_metadata_and_publish_date(sdn_xml: Path) -> None:
    parsed = parse_ofac_xml(sdn_xml)
    assert parsed.source == SOURCE == "us_ofac_sdn"
    assert parsed.format == FORMAT == "ofac-xml"
    assert parsed.paths == (sdn_xml,)
    assert parsed.published == date(2021, 7, 1)
    assert [r.reference for r in parsed.records] == ["6931", "17293", "15036", "15117"]


def test_source_can_be_overridden(sdn_xml: Path) -> None:
    parsed = parse_ofac_xml(sdn_xml, source="us_ofac_cons")
    first = next(parsed.records)
    assert parsed.source == "us_ofac_cons"
    assert first.main.datasets == {"us_ofac_cons"}


def test_main_entity_id_is_shared_with_the_csv_parser(records: dict[str, Record]) -> None:
    assert listing_id("us_ofac_sdn", "6931") == "us-ofac-sdn-6931"
    for uid, record in records.items():
        assert record.main.id == listing_id("us_ofac_sdn", uid)
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
    assert us.get("holder") == ["us-ofac-sdn-6931"]
    assert us.get("type") == ["Passport"]
    assert passports["M0887925"].get("country") == ["iq"]
    (ssn,) = by_schema(record, "Identification")
    assert ssn.get("type") == ["SSN"]
    assert ssn.get("number") == ["156-92-9858"]
    assert ssn.get("country") == ["us"]
    assert record.main.get("socialSecurityNumber") == ["156-92-9858"]


def test_yasin_sanction(records: dict[str, Record]) -> None:
    sanction = sanction_of(records["6931"])
    assert sanction.id == "us-ofac-sdn-6931-sanction"
    assert sanction.get("entity") == ["us-ofac-sdn-6931"]
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
    assert set(addresses) == {"us-ofac-sdn-15117-addr-22489", "us-ofac-sdn-15117-addr-45451"}
    addr = addresses["us-ofac-sdn-15117-addr-22489"]
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


def test_dependent_ids_are_stable_across_parses(sdn_xml: Path) -> None:
    first = [e.id for r in parse_ofac_xml(sdn_xml).records for e in r.entities]
    second = [e.id for r in parse_ofac_xml(sdn_xml).records for e in r.entities]
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
    assert wallet.get("holder") == ["us-ofac-sdn-5"]
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


def test_truncated_file_names_file_and_line(tmp_path: Path, sdn_xml: Path) -> None:
    data = sdn_xml.read_bytes()
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
    assert parse_one(old).main.id == "us-ofac-sdn-36"
    bare = tmp_path / "bare.xml"
    bare.write_text(f"<sdnList>{entry}</sdnList>")
    assert parse_one(bare).main.id == "us-ofac-sdn-36"
