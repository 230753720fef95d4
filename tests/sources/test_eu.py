"""Tests of the EU FSF consolidated list parser against a fixture in the published shape."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import Record
from jointwatch.sources.eu import SOURCE, parse_eu_list
from tests.sources.helpers import by_schema, write_file

FIXTURE = Path(__file__).parent.parent / "fixtures" / "eu_fsf_sample.xml"
NS = "http://eu.europa.ec/fpi/fsd/export"


def _records() -> dict[str, Record]:
    """The fixture's records by reference."""
    return {r.reference: r for r in parse_eu_list(FIXTURE).records}


def test_metadata() -> None:
    parsed = parse_eu_list(FIXTURE)
    assert parsed.source == SOURCE == "eu_fsf"
    assert parsed.format == "eu"
    assert parsed.paths == (FIXTURE,)
    assert parsed.published == date(2025, 6, 10)
    assert [r.reference for r in parsed.records] == ["EU.513.75", "EU.620.38"]


def test_person_names_and_aliases() -> None:
    person = _records()["EU.513.75"].main
    assert person.schema.name == "Person"
    assert person.id == "eu-fsf-EU.513.75"
    assert person.get("name") == ["Abdul Rahman Yasin"]
    assert sorted(person.get("alias")) == sorted(
        ["Abdul Rahman Said Yasin", "Abdul Rahman S. Taha", "عبد الرحمن ياسين"]
    )
    assert person.get("weakAlias") == ["Aboud Yasin"]
    assert "Aboud Yasin" not in person.get("alias")
    assert person.get("firstName") == ["Abdul Rahman"]
    assert person.get("lastName") == ["Yasin"]
    assert person.get("middleName") == []
    assert person.get("gender") == ["male"]
    assert person.get("topics") == ["sanction"]
    assert person.get("notes") == [
        "Wanted by the FBI in connection with the 1993 World Trade Center bombing."
    ]


def test_person_birth_and_nationality() -> None:
    person = _records()["EU.513.75"].main
    assert sorted(person.get("birthDate")) == ["1960-04-10", "1961"]
    assert person.get("birthPlace") == ["Bloomington, Indiana"]
    assert person.get("birthCountry") == ["us"]
    assert person.get("nationality") == ["us"]


def test_person_documents() -> None:
    record = _records()["EU.513.75"]
    person = record.main
    assert person.get("passportNumber") == ["27082171"]
    assert sorted(person.get("idNumber")) == ["156-92-9858", "M0887925"]
    [passport] = by_schema(record, "Passport")
    assert passport.get("number") == ["27082171"]
    assert passport.get("country") == ["us"]
    assert passport.get("holder") == [person.id]
    assert passport.get("type") == ["National passport"]
    assert passport.get("summary") == ["issued 21.6.1992 in Amman, Jordan"]
    ids = {i.first("number"): i for i in by_schema(record, "Identification")}
    assert set(ids) == {"M0887925", "156-92-9858"}
    assert ids["M0887925"].get("country") == []  # "00" is the list's code for unknown
    assert ids["156-92-9858"].get("country") == ["us"]


def test_person_address() -> None:
    record = _records()["EU.513.75"]
    [address] = by_schema(record, "Address")
    assert address.get("city") == ["Baghdad"]
    assert address.get("country") == ["iq"]
    assert address.get("full") == ["Baghdad, IRAQ"]
    assert record.main.get("addressEntity") == [address.id]
    assert record.main.get("country") == ["iq"]


def test_person_sanction() -> None:
    record = _records()["EU.513.75"]
    [sanction] = by_schema(record, "Sanction")
    assert sanction.get("entity") == [record.main.id]
    assert sanction.get("authority") == ["European Union"]
    assert sanction.get("authorityId") == ["EU.513.75"]
    assert sanction.get("recordId") == ["507"]
    assert sanction.get("program") == ["TAQA"]
    assert sanction.get("listingDate") == ["2001-10-19"]
    assert sanction.get("provisions") == ["881/2002 (OJ L139)"]
    assert sanction.get("sourceUrl") == [
        "http://eur-lex.europa.eu/LexUriServ/LexUriServ.do?uri=OJ:L:2002:139:0009:0022:EN:PDF"
    ]
    assert sanction.get("modifiedAt") == []  # no amending act


def test_organisation() -> None:
    record = _records()["EU.620.38"]
    org = record.main
    assert org.schema.name == "Organization"
    assert org.id == "eu-fsf-EU.620.38"
    assert org.get("name") == ["Benevolence International Foundation"]
    assert org.get("alias") == ["Al Bir al Dawalia"]
    assert org.get("weakAlias") == ["BIF"]
    assert org.get("idNumber") == ["36-3823186"]
    assert org.get("country") == ["us"]
    [address] = by_schema(record, "Address")
    assert address.get("street") == ["9838 S. Roberts Road, Suite 1W"]
    assert address.get("postalCode") == ["60465"]
    [sanction] = by_schema(record, "Sanction")
    assert sanction.get("listingDate") == ["2002-11-21"]
    assert sanction.get("modifiedAt") == ["2024-01-17"]
    assert sorted(sanction.get("provisions")) == ["2024/372 (OJ L18012024)", "881/2002 (OJ L139)"]
    assert len(sanction.get("sourceUrl")) == 2


def test_year_range_and_circa(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "range.xml",
        f"""<export xmlns="{NS}" generationDate="2025-01-02">
  <sanctionEntity euReferenceNumber="EU.1.1" logicalId="1">
    <subjectType code="person"/>
    <nameAlias wholeName="Test Person" strong="true"/>
    <birthdate circa="true" yearRangeFrom="1953" yearRangeTo="1955" countryIso2Code="00"/>
    <birthdate circa="false" year="1970" monthOfYear="5" countryIso2Code="00"/>
  </sanctionEntity>
</export>""",
    )
    [record] = list(parse_eu_list(path).records)
    assert sorted(record.main.get("birthDate")) == ["1953", "1954", "1955", "1970-05"]
    assert record.reference == "EU.1.1"


def test_logical_id_is_the_fallback_reference(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "noref.xml",
        f"""<export xmlns="{NS}" generationDate="2025-01-02">
  <sanctionEntity logicalId="135909"><subjectType code="enterprise"/>
    <nameAlias wholeName="Example JSC" strong="true"/></sanctionEntity>
</export>""",
    )
    [record] = list(parse_eu_list(path).records)
    assert record.reference == "135909"
    assert record.main.id == "eu-fsf-135909"


def test_truncated_file(tmp_path: Path) -> None:
    content = FIXTURE.read_text(encoding="utf-8")
    cut = content[: content.index('wholeName="Al Bir al Dawalia"')]
    path = write_file(tmp_path, "eu_truncated.xml", cut)
    with pytest.raises(ListFormatError) as caught:
        list(parse_eu_list(path).records)
    assert "eu_truncated.xml" in str(caught.value)
    assert caught.value.location is not None and caught.value.location.startswith("line ")


def test_record_without_reference(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "eu_noref.xml",
        f"""<export xmlns="{NS}" generationDate="2025-01-02">
  <sanctionEntity designationDate="2020-01-01">
    <subjectType code="person"/><nameAlias wholeName="Nobody" strong="true"/>
  </sanctionEntity>
</export>""",
    )
    with pytest.raises(ListFormatError) as caught:
        list(parse_eu_list(path).records)
    assert "eu_noref.xml" in str(caught.value)
    assert caught.value.location == "line 2 <sanctionEntity>"
    assert "euReferenceNumber" in caught.value.reason


def test_unreadable_designation_date(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "eu_baddate.xml",
        f"""<export xmlns="{NS}" generationDate="2025-01-02">
  <sanctionEntity euReferenceNumber="EU.2.2" designationDate="someday">
    <subjectType code="person"/><nameAlias wholeName="Somebody" strong="true"/>
  </sanctionEntity>
</export>""",
    )
    with pytest.raises(ListFormatError, match="someday") as caught:
        list(parse_eu_list(path).records)
    assert caught.value.location == "line 2 <sanctionEntity>"


def test_record_without_name(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "eu_noname.xml",
        f"""<export xmlns="{NS}">
  <sanctionEntity euReferenceNumber="EU.3.3"><subjectType code="person"/></sanctionEntity>
</export>""",
    )
    with pytest.raises(ListFormatError, match="EU.3.3 has no name"):
        list(parse_eu_list(path).records)


def test_doctype_with_entities_is_refused(tmp_path: Path) -> None:
    path = write_file(
        tmp_path,
        "eu_xxe.xml",
        f"""<?xml version="1.0"?>
<!DOCTYPE export [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<export xmlns="{NS}" generationDate="2025-01-02">
  <sanctionEntity euReferenceNumber="EU.4.4"><subjectType code="person"/>
    <nameAlias wholeName="&xxe;" strong="true"/></sanctionEntity>
</export>""",
    )
    with pytest.raises(ListFormatError, match="DOCTYPE") as caught:
        list(parse_eu_list(path).records)
    assert "eu_xxe.xml" in str(caught.value)


def test_not_an_eu_list(tmp_path: Path) -> None:
    path = write_file(tmp_path, "other.xml", "<CONSOLIDATED_LIST/>")
    with pytest.raises(ListFormatError, match="not an EU FSF list"):
        parse_eu_list(path)
