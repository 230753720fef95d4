"""Tests of the partner CSV list parser against a fixture and hand-written bad files."""

from __future__ import annotations

import csv
import io
import tempfile
import unicodedata
from datetime import date
from pathlib import Path

import pytest
from followthemoney import registry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import Record
from jointwatch.sources.partner_csv import COLUMNS, parse_partner_csv
from tests.sources.helpers import by_schema

FIXTURES = Path(__file__).parent.parent / "fixtures"
FIXTURE = FIXTURES / "partner_list.csv"
EXAMPLE = Path(__file__).parent.parent.parent / "docs" / "examples" / "partner_list.csv"
SOURCE = "partner_fr_dgsi"
HEADER = "reference,schema,name,birth_date,gender,passport_numbers\n"


def _records(path: Path = FIXTURE) -> dict[str, Record]:
    """The records of a partner list by reference."""
    return {r.reference: r for r in parse_partner_csv(path, SOURCE).records}


def _write(tmp_path: Path, content: str | bytes, name: str = "partner.csv") -> Path:
    """A list file with the given content in the test's temporary folder."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _error(path: Path, source: str = SOURCE) -> ListFormatError:
    """The ListFormatError raised opening and reading the whole list."""
    with pytest.raises(ListFormatError) as info:
        list(parse_partner_csv(path, source).records)
    return info.value


def test_metadata(tmp_path: Path) -> None:
    parsed = parse_partner_csv(FIXTURE, SOURCE)
    assert parsed.source == SOURCE
    assert parsed.format == "csv"
    assert parsed.paths == (FIXTURE,)
    assert parsed.published is None
    assert [r.reference for r in parsed.records] == [
        "FR-TER-2014-0354", "FR-TER-2014-0143", "FR-TER-2019-0021", "FR-TER-2020-0007", "FR-TER-2021-0003"]
    dated = _write(tmp_path, FIXTURE.read_text(encoding="utf-8"), "partner_fr_dgsi_2025-06-01.csv")
    assert parse_partner_csv(dated, SOURCE).published == date(2025, 6, 1)


def test_person_fields() -> None:
    record = _records()["FR-TER-2014-0354"]
    person = record.main
    assert person.schema.name == "Person"
    assert person.id == "partner-fr-dgsi-FR-TER-2014-0354"
    assert person.get("name") == ["Tarak Ben Taher Ben Faleh Ouni Harzi"]
    assert sorted(person.get("alias")) == ["Abu Omar al Tunisi", "Tarak Ben Taher Ben Falah Al-Awni Al-Harzi"]
    assert sorted(person.get("weakAlias")) == ["Abu Omar al Mahajer", "Abu Sufyan"]
    assert person.get("firstName") == ["Tarak"]
    assert person.get("lastName") == ["Harzi"]
    assert person.get("birthDate") == ["1982-05-03"]
    assert person.get("birthPlace") == ["Tunis, Tunisia"]
    assert person.get("nationality") == ["tn"]
    assert person.get("country") == ["sy"]
    assert person.get("gender") == ["male"]
    assert person.get("topics") == ["sanction"]
    assert person.get("notes") == ["Also listed by the UN Security Council as QDi.354."]
    assert person.get("sourceUrl") == ["https://partner.example.fr/list/FR-TER-2014-0354"]
    assert [e.schema.name for e in record.entities] == ["Person", "Passport", "Address", "Sanction"]


def test_person_passport_address_and_sanction() -> None:
    record = _records()["FR-TER-2014-0354"]
    person = record.main
    assert person.get("passportNumber") == ["Z050399"]
    [passport] = by_schema(record, "Passport")
    assert passport.get("number") == ["Z050399"]
    assert passport.get("holder") == [person.id]
    [address] = by_schema(record, "Address")
    assert address.get("full") == ["Raqqa, Syrian Arab Republic"]
    assert person.get("addressEntity") == [address.id]
    assert person.get("address") == ["Raqqa, Syrian Arab Republic"]
    [sanction] = by_schema(record, "Sanction")
    assert sanction.id == "partner-fr-dgsi-FR-TER-2014-0354-sanction"
    assert sanction.get("entity") == [person.id]
    assert sanction.get("authority") == [SOURCE]
    assert sanction.get("authorityId") == ["FR-TER-2014-0354"]
    assert sanction.get("program") == ["Terrorist persons and entities"]
    assert sanction.get("listingDate") == ["2014-09-23"]


def test_multi_valued_person() -> None:
    record = _records()["FR-TER-2019-0021"]
    person = record.main
    assert sorted(person.get("birthDate")) == ["1975", "1976", "1976-03-12", "1977"]
    assert sorted(person.get("nationality")) == ["dz", "fr"]
    assert person.get("gender") == ["male"]
    assert sorted(person.get("passportNumber")) == ["12AB34567", "98CD76543"]
    assert sorted(p.get("number")[0] for p in by_schema(record, "Passport")) == ["12AB34567", "98CD76543"]
    [ident] = by_schema(record, "Identification")
    assert ident.get("number") == ["FR-CNI-880412345"]
    assert person.get("idNumber") == ["FR-CNI-880412345"]
    assert by_schema(record, "Address") == []


def test_organisation_and_vessel() -> None:
    records = _records()
    org = records["FR-TER-2014-0143"].main
    assert org.schema.name == "Organization"
    assert sorted(org.get("alias")) == ["Ansar al-Sharia in Tunisia", "Ansar al-Shariah in Tunisia"]
    assert org.get("weakAlias") == ["AAS-T"]
    assert org.get("country") == ["tn"]
    [sanction] = by_schema(records["FR-TER-2014-0143"], "Sanction")
    assert sanction.get("listingDate") == ["2014-09-23"]
    company = records["FR-TER-2020-0007"]
    assert company.main.get("imoNumber") == ["9187629"]
    assert company.main.get("idNumber") == ["RCS-123456789"]
    assert by_schema(company, "Identification")[0].get("holder") == [company.main.id]
    vessel = records["FR-TER-2021-0003"].main
    assert vessel.schema.name == "Vessel"
    assert vessel.get("imoNumber") == ["IMO 9321483"]
    assert vessel.get("country") == ["tg"]
    assert by_schema(records["FR-TER-2021-0003"], "Sanction")[0].get("program") == ["Financing of terrorism"]


def test_documented_example_parses() -> None:
    records = _records(EXAMPLE)
    assert list(records) == ["FR-TER-2014-0354", "FR-TER-2014-0143", "FR-TER-2013-0137"]
    harzi = records["FR-TER-2014-0354"].main
    assert harzi.get("birthDate") == ["1982-05-03"]
    assert harzi.get("nationality") == ["tn"]
    assert harzi.get("passportNumber") == ["Z050399"]


def test_header_order_case_bom_and_blank_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, b"\xef\xbb\xbf Name ,SCHEMA,Reference\r\nAbu Example,person,R-1\r\n,,\r\n\r\n")
    [record] = parse_partner_csv(path, SOURCE).records
    assert record.reference == "R-1"
    assert record.main.schema.name == "Person"
    assert record.main.get("name") == ["Abu Example"]


def test_unknown_nationality_kept_in_notes(tmp_path: Path) -> None:
    path = _write(tmp_path, "reference,schema,name,nationality\nR-1,Person,A B,Tunisian;TN\n")
    [record] = parse_partner_csv(path, SOURCE).records
    assert record.main.get("nationality") == ["tn"]
    assert record.main.get("notes") == ["nationality: Tunisian"]


@pytest.mark.parametrize(
    "source", ["", "Partner_fr", "1partner", "p", "partner-fr", "partner_fr\n", "a" * 65]
)
def test_invalid_source_name(tmp_path: Path, source: str) -> None:
    error = _error(FIXTURE, source)
    assert "source name" in str(error)
    assert str(FIXTURE) in str(error)


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (HEADER + "R-1,Person,A B,1982-05-03,male\n", 2, "expected 6 fields, found 5"),
        (HEADER + "R-1,Person,A B,1982,male,X1\nR-2,Person,C D,1982,male,X2,extra\n", 3,
         "expected 6 fields, found 7"),
        (HEADER + "R-1,Person,,1982,male,X1\n", 2, "required value 'name' is empty"),
        (HEADER + "R-1,,A B,1982,male,X1\n", 2, "required value 'schema' is empty"),
        (HEADER + "  ,Person,A B,1982,male,X1\n", 2, "required value 'reference' is empty"),
        (HEADER + "R-1,Company,A B,1982,male,X1\n", 2, "unknown schema 'Company'"),
        (HEADER + "R-1,Person,A B,soon,male,X1\n", 2, "unreadable birth date 'soon'"),
        (HEADER + "R-1,Person,A B,1982;31.02.1980,male,X1\n", 2, "unreadable birth date '31.02.1980'"),
        (HEADER + "R-1,Person,A B,1982,yes,X1\n", 2, "unknown gender 'yes'"),
        (HEADER + 'R-1,Person,"A\nB",1982,male,X1\nR-1,Person,C D,1983,male,X2\n', 4,
         "reference R-1 appears twice (lines 2 and 4)"),
        (HEADER + "A/1,Person,A B,1982,male,X1\nA 1,Person,C D,1983,male,X2\n", 3,
         "give the same entity id partner-fr-dgsi-A-1"),
        (HEADER + "R-1,Organization,A B,1982,,\n", 2,
         "column birth_date does not apply to schema Organization"),
        (HEADER + "R-1,Vessel,A B,,,X1\n", 2, "column passport_numbers does not apply to schema Vessel"),
        ("reference,schema,name,listing_date\nR-1,Person,A B,someday\n", 2, "unreadable listing date"),
        ("reference,schema,name,photo\nR-1,Person,A B,x.jpg\n", 1, "unknown column 'photo'"),
        ("reference,schema,name,notes,Notes\n", 1, "column 'notes' appears twice"),
        ("reference,schema,aliases\nR-1,Person,A B\n", 1, "required column(s) missing: name"),
        ("reference,,schema,name\n", 1, "column 2 of the header has no name"),
        (" \n", 1, "no header row"),
        (HEADER + 'R-1,Person,"A B,1982,male,X1\n', 2, "malformed CSV"),
        (HEADER + 'R-1,Person,"A" B,1982,male,X1\n', 2, "malformed CSV"),
        (HEADER + "R-1,Person,'' ,1982,male,X1\n", 2, "is not a usable name"),
    ],
)
def test_errors(tmp_path: Path, content: str, line: int, reason: str) -> None:
    path = _write(tmp_path, content)
    error = _error(path)
    assert str(error).startswith(f"{path}, line {line}: ")
    assert reason in error.reason


def test_wrong_encoding(tmp_path: Path) -> None:
    latin1 = "R-2,Person,Légère\n".encode("latin-1")
    path = _write(tmp_path, b"reference,schema,name\nR-1,Person,Ali\n" + latin1)
    error = _error(path)
    assert str(error).startswith(f"{path}, line 3: wrong encoding")


def test_nul_byte(tmp_path: Path) -> None:
    path = _write(tmp_path, b"reference,schema,name\nR-1,Person,A\x00B\n")
    assert "NUL" in str(_error(path))


def test_overlong_field(tmp_path: Path) -> None:
    path = _write(tmp_path, "reference,schema,name,notes\nR-1,Person,A B," + "x" * 100_001 + "\n")
    error = _error(path)
    assert str(error).startswith(f"{path}, line 2, column notes: field of 100001 characters")


def test_empty_and_header_only(tmp_path: Path) -> None:
    empty = _write(tmp_path, "", "empty.csv")
    assert str(_error(empty)) == f"{empty}: file is empty"
    header_only = _write(tmp_path, ",".join(COLUMNS) + "\n\n", "header.csv")
    error = _error(header_only)
    assert str(error).startswith(f"{header_only}: the file holds no records")


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in str(_error(tmp_path / "absent.csv"))


def _plain(text: str) -> bool:
    """Whether FollowTheMoney's name cleaning leaves this (stripped) text as it is."""
    return (
        unicodedata.normalize("NFC", text) == text
        and all(c.isalnum() or c in " -.,()" for c in text)
        and "  " not in text
    )


_PLAIN_NAMES = st.text(
    alphabet=st.characters(categories=["L", "Nd"]) | st.sampled_from(" -.,()"), max_size=80
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), _PLAIN_NAMES))
def test_any_name_parses_or_is_a_format_error(name: str) -> None:
    """Any text in the name column gives that text stripped as the name, or a ListFormatError.

    FollowTheMoney cleans names (NFC, control characters removed, runs of spaces squashed,
    a surrounding pair of quotes removed): text it leaves alone is kept exactly, stripped;
    other text becomes its cleaned form.
    """
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["reference", "schema", "name"], ["R-1", "Person", name]])
    stripped = name.strip()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "partner.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        try:
            [record] = parse_partner_csv(path, SOURCE).records
        except ListFormatError as error:
            assert error.path == str(path)
            assert not (stripped and _plain(stripped)), f"plain name {stripped!r} refused: {error}"
            return
    assert record.main.get("name") == [registry.name.clean(stripped)]
    if _plain(stripped):
        assert record.main.get("name") == [stripped]
