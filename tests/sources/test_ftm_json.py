"""Tests of the FollowTheMoney JSON-lines partner list parser."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import MAX_FIELD_CHARS, Record
from jointwatch.sources.ftm_json import parse_ftm_json
from tests.sources.helpers import by_schema

FIXTURE = Path(__file__).parent.parent / "fixtures" / "partner_entities.ftm.json"
SOURCE = "partner_fr_dgsi"
PERSON = {"id": "p1", "schema": "Person", "properties": {"name": ["Ali Example"]}}


def _records(path: Path = FIXTURE) -> dict[str, Record]:
    """The records of an FtM partner list by reference."""
    return {r.reference: r for r in parse_ftm_json(path, SOURCE).records}


def _write(tmp_path: Path, *lines: object, name: str = "partner.ftm.json") -> Path:
    """A JSON-lines file: dicts are dumped as JSON, strings written as they are."""
    path = tmp_path / name
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    path.write_text(text, encoding="utf-8")
    return path


def _error(path: Path, source: str = SOURCE) -> ListFormatError:
    """The ListFormatError raised opening and reading the whole list."""
    with pytest.raises(ListFormatError) as info:
        list(parse_ftm_json(path, source).records)
    return info.value


def test_metadata(tmp_path: Path) -> None:
    parsed = parse_ftm_json(FIXTURE, SOURCE)
    assert parsed.source == SOURCE
    assert parsed.format == "ftm"
    assert parsed.paths == (FIXTURE,)
    assert parsed.published is None
    assert [r.reference for r in parsed.records] == ["fr-dgsi-354", "fr-dgsi-143", "fr-dgsi-vessel-1"]
    dated = _write(tmp_path, PERSON, name="partner_2025-06-01.ftm.json")
    assert parse_ftm_json(dated, SOURCE).published == date(2025, 6, 1)


def test_person_and_dependents() -> None:
    record = _records()["fr-dgsi-354"]
    person = record.main
    assert person.schema.name == "Person"
    assert person.id == "fr-dgsi-354"
    assert person.get("name") == ["Tarak Ben Taher Ben Faleh Ouni Harzi"]
    assert sorted(person.get("alias")) == ["Abu Omar al Tunisi", "Tarak Ben Taher Ben Falah Al-Awni Al-Harzi"]
    assert person.get("weakAlias") == ["Abu Sufyan"]
    assert person.get("firstName") == ["Tarak"]
    assert person.get("lastName") == ["Harzi"]
    assert person.get("birthDate") == ["1982-05-03"]
    assert person.get("birthPlace") == ["Tunis, Tunisia"]
    assert person.get("nationality") == ["tn"]
    assert person.get("gender") == ["male"]
    assert person.get("passportNumber") == ["Z050399"]
    assert sorted(person.get("topics")) == ["crime.terror", "sanction"]
    # the passport comes before its holder in the file, the sanction after it
    assert [e.schema.name for e in record.entities] == ["Person", "Address", "Passport", "Sanction"]
    [passport] = by_schema(record, "Passport")
    assert passport.id == "fr-dgsi-pass-z050399"
    assert passport.get("number") == ["Z050399"]
    assert passport.get("holder") == ["fr-dgsi-354"]
    assert passport.get("country") == ["tn"]
    [address] = by_schema(record, "Address")
    assert address.get("full") == ["Raqqa, Syria"]
    assert address.get("country") == ["sy"]
    [sanction] = by_schema(record, "Sanction")
    assert sanction.get("entity") == ["fr-dgsi-354"]
    assert sanction.get("authorityId") == ["FR-TER-2014-0354"]
    assert sanction.get("program") == ["Terrorist persons and entities"]
    assert sanction.get("listingDate") == ["2014-09-23"]


def test_organisation_and_vessel() -> None:
    records = _records()
    org = records["fr-dgsi-143"]
    assert org.main.schema.name == "Organization"
    assert org.main.get("country") == ["tn"]
    assert org.main.get("weakAlias") == ["AAS-T"]
    assert org.main.get("topics") == ["sanction"]
    assert [e.schema.name for e in org.entities] == ["Organization", "Sanction", "Identification"]
    assert by_schema(org, "Identification")[0].get("number") == ["RCS-123456789"]
    vessel = records["fr-dgsi-vessel-1"]
    assert [e.schema.name for e in vessel.entities] == ["Vessel"]
    assert vessel.main.get("imoNumber") == ["IMO 9321483"]
    assert vessel.main.get("flag") == ["tg"]


def test_values_are_cleaned(tmp_path: Path) -> None:
    entity = {"id": "p1", "schema": "Person", "caption": "ignored",
              "properties": {"name": ["  Ali   Example "], "nationality": "Tunisia", "gender": ["M"]}}
    path = _write(tmp_path, "", entity, "   ")
    [record] = _records(path).values()
    assert record.main.get("name") == ["Ali Example"]
    assert record.main.get("nationality") == ["tn"]
    assert record.main.get("gender") == ["male"]


def test_shared_address_joins_each_record(tmp_path: Path) -> None:
    addr = {"id": "a1", "schema": "Address", "properties": {"full": ["1 Main St"]}}
    one = {"id": "p1", "schema": "Person", "properties": {"name": ["A"], "addressEntity": ["a1"]}}
    two = {"id": "o1", "schema": "Company", "properties": {"name": ["B"], "addressEntity": ["a1"]}}
    records = _records(_write(tmp_path, addr, one, two))
    assert [e.id for e in records["p1"].entities] == ["p1", "a1"]
    assert [e.id for e in records["o1"].entities] == ["o1", "a1"]


@pytest.mark.parametrize(
    ("lines", "line", "reason"),
    [
        ([PERSON, "{not json"], 2, "not valid JSON"),
        ([PERSON, "[1, 2]"], 2, "a JSON list, not an entity object"),
        ([PERSON, {"schema": "Person", "properties": {}}], 2, "entity without an id"),
        ([PERSON, {"id": "bad id", "schema": "Person"}], 2, "invalid entity id 'bad id'"),
        ([PERSON, {"id": "p2", "properties": {}}], 2, "entity p2 without a schema"),
        ([PERSON, {"id": "p2", "schema": "Terrorist"}], 2, "unknown schema 'Terrorist'"),
        ([PERSON, {"id": "p2", "schema": "Thing"}], 2, "unknown schema 'Thing'"),
        ([PERSON, {"id": "p2", "schema": "Ownership"}], 2, "schema Ownership is not accepted"),
        ([{"id": "p2", "schema": "Person", "properties": {"name": ["A"], "imoNumber": ["1"]}}], 1,
         "property 'imoNumber' is not on schema Person"),
        ([{"id": "p2", "schema": "Person", "properties": {"sanctions": ["s1"]}}], 1, "reverse property"),
        ([{"id": "p2", "schema": "Person", "properties": {"name": [1]}}], 1,
         "values of name must be strings"),
        ([{"id": "p2", "schema": "Person", "properties": []}], 1, "properties is not an object"),
        ([{"id": "p2", "schema": "Person", "properties": {"birthDate": ["3rd May 82"]}}], 1,
         "'3rd May 82' is not a valid date for birthDate"),
        ([{"id": "p2", "schema": "Person", "properties": {"nationality": ["Atlantis"]}}], 1,
         "nationality 'Atlantis' is not a country known"),
        ([PERSON, {"id": "p1", "schema": "Person"}], 2, "entity p1 appears twice (lines 1 and 2)"),
        ([PERSON, {"id": "s1", "schema": "Sanction", "properties": {"entity": ["p9"]}}], 2,
         "Sanction s1 points at an unknown entity: p9"),
        ([{"id": "d1", "schema": "Passport", "properties": {"holder": ["p9"]}}, PERSON], 1,
         "Passport d1 points at an unknown entity: p9"),
        ([PERSON, {"id": "i1", "schema": "Identification", "properties": {"number": ["1"]}}], 2,
         "Identification i1 has no holder"),
        ([{"id": "p1", "schema": "Person", "properties": {"name": ["A"], "addressEntity": ["a1"]}},
          {"id": "a1", "schema": "Address", "properties": {"full": ["x"]}},
          {"id": "s1", "schema": "Sanction", "properties": {"entity": ["a1"]}}], 3,
         "Sanction s1 points at an entity that is not listed: a1"),
        ([PERSON, {"id": "a1", "schema": "Address", "properties": {"full": ["x"]}}], 2,
         "Address a1 is not the address of any listed entity"),
        ([{"id": "p2", "schema": "Person", "properties": {"addressEntity": ["p1"]}}, PERSON], 1,
         "addressEntity p1 is not an Address in the file"),
    ],
)
def test_errors(tmp_path: Path, lines: list[object], line: int, reason: str) -> None:
    path = _write(tmp_path, *lines)
    error = _error(path)
    assert str(error).startswith(f"{path}, line {line}: ")
    assert reason in error.reason


def test_no_listed_entity(tmp_path: Path) -> None:
    path = _write(tmp_path, "", "  ")
    assert str(_error(path)) == f"{path}: the file holds no records (no listed entity)"


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.ftm.json"
    path.write_bytes(b"")
    assert str(_error(path)) == f"{path}: file is empty"


def test_wrong_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.ftm.json"
    path.write_bytes(json.dumps(PERSON).encode() + b"\n" + '{"id": "é"}'.encode("latin-1") + b"\n")
    assert str(_error(path)).startswith(f"{path}, line 2: wrong encoding")


@pytest.mark.parametrize("extra", [0, 5_000_000])
def test_overlong_line(tmp_path: Path, extra: int) -> None:
    notes = "x" * (MAX_FIELD_CHARS * 10 + extra)
    path = _write(tmp_path, PERSON, {"id": "p2", "schema": "Person", "properties": {"notes": [notes]}})
    error = _error(path)
    assert str(error).startswith(f"{path}, line 2: line longer than the limit")


def test_overlong_value(tmp_path: Path) -> None:
    notes = "x" * (MAX_FIELD_CHARS + 1)
    path = _write(tmp_path, {"id": "p2", "schema": "Person", "properties": {"notes": [notes]}})
    assert str(_error(path)).startswith(f"{path}, line 1, property notes: field of")


def test_deeply_nested_json(tmp_path: Path) -> None:
    path = _write(tmp_path, PERSON, "[" * 200_000 + "]" * 200_000)
    assert "not valid JSON" in str(_error(path))


@pytest.mark.parametrize("source", ["", "Partner", "partner-fr", "partner_fr\n"])
def test_invalid_source_name(source: str) -> None:
    error = _error(FIXTURE, source)
    assert str(error).startswith(f"{FIXTURE}: source name")
