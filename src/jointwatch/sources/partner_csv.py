"""Partner lists in jointwatch's CSV format (documented in ``docs/partner-lists.md``).

A partner agency writes one row per listed person, organisation, vessel or aircraft: UTF-8,
comma-separated, the first row a header naming the columns (any order; header names are
matched ignoring case and surrounding spaces). Multi-valued columns separate values with
``;``. Each row becomes the listed entity, a Sanction naming the partner as authority, a
Passport per passport number, an Identification per other id number and an Address.
Blank rows (no value in any column) are skipped. Anything else that is not as documented
is a :class:`ListFormatError` naming the file and the line: the list is not loaded at all
rather than loaded in part.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from followthemoney import StatementEntity, registry

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import (
    ParsedList,
    Record,
    check_size,
    clip,
    date_from_name,
    hashed_id,
    listing_id,
    make_entity,
    make_sanction,
)
from jointwatch.sources.countries import add_country
from jointwatch.sources.dates import parse_dates

FORMAT = "csv"
COLUMNS = (
    "reference", "schema", "name", "aliases", "weak_aliases", "first_name", "last_name",
    "birth_date", "birth_place", "nationality", "gender", "passport_numbers", "id_numbers",
    "imo_number", "address", "country", "program", "listing_date", "notes", "source_url",
)
REQUIRED = ("reference", "schema", "name")
SCHEMAS = ("Person", "Organization", "LegalEntity", "Vessel", "Airplane")
_SCHEMA_BY_KEY = {s.lower(): s for s in SCHEMAS}
# The property of the listed entity each column fills; a value in a column whose property
# the row's schema lacks (a birth date for an Organization) is an error, not dropped.
_PROPS = {
    "aliases": "alias", "weak_aliases": "weakAlias", "first_name": "firstName",
    "last_name": "lastName", "birth_date": "birthDate", "birth_place": "birthPlace",
    "nationality": "nationality", "gender": "gender", "passport_numbers": "passportNumber",
    "id_numbers": "idNumber", "imo_number": "imoNumber", "address": "address",
    "country": "country", "notes": "notes", "source_url": "sourceUrl",
}
_SOURCE_NAME = re.compile(r"[a-z][a-z0-9_]{1,63}")

Row = dict[str, str | None]


class _Reader(Protocol):
    """What we use of a ``csv.reader``: its rows and the number of lines read so far."""

    line_num: int

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


def check_source(path: Path, source: str) -> None:
    """Nothing, or a ListFormatError when ``source`` is not a valid partner source name."""
    if not isinstance(source, str) or not _SOURCE_NAME.fullmatch(source):
        raise ListFormatError(
            path, None, f"source name {source!r} is invalid: lower-case letters, digits and _, "
            "starting with a letter, 2 to 64 characters (e.g. partner_fr_dgsi)")


def parse_partner_csv(path: Path, source: str) -> ParsedList:
    """A ParsedList streaming the records of a partner CSV list; header checked on opening."""
    check_source(path, source)
    check_size(path)
    text = decode_utf8(path, path.read_bytes())
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns = _header(path, reader)
    records = _records(path, source, reader, columns)
    return ParsedList(source=source, format=FORMAT, paths=(path,), published=date_from_name(path),
                      records=records)


def decode_utf8(path: Path, data: bytes) -> str:
    """The text of a UTF-8 file (a leading byte-order mark is dropped); other bytes are errors."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ListFormatError(path, f"line {line}",
                              f"wrong encoding: byte 0x{data[exc.start]:02x} is not UTF-8") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ListFormatError(path, f"line {line}", "binary content (NUL byte) in a CSV file")
    return text


def _header(path: Path, reader: _Reader) -> list[str]:
    """The column names of the header row, checked against the documented columns."""
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ListFormatError(path, "line 1", f"malformed CSV header: {exc}") from exc
    if header is None or not any(cell.strip() for cell in header):
        raise ListFormatError(path, "line 1", "no header row (the first row must name the columns)")
    columns = [cell.strip().lower() for cell in header]
    for number, column in enumerate(columns, start=1):
        if not column:
            raise ListFormatError(path, "line 1", f"column {number} of the header has no name")
        if column not in COLUMNS:
            raise ListFormatError(path, "line 1", f"unknown column {column!r} (known: {', '.join(COLUMNS)})")
        if columns.count(column) > 1:
            raise ListFormatError(path, "line 1", f"column {column!r} appears twice in the header")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ListFormatError(path, "line 1", f"required column(s) missing: {', '.join(missing)}")
    return columns


def _rows(path: Path, reader: _Reader, columns: list[str]) -> Iterator[tuple[int, Row]]:
    """(first line of the row, values by column) for every non-blank row after the header."""
    start = 2
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(columns):
                raise ListFormatError(path, f"line {line}",
                                      f"expected {len(columns)} fields, found {len(cells)}")
            row = {c: clip(path, f"line {line}, column {c}", v) for c, v in zip(columns, cells, strict=True)}
            yield line, row
    except csv.Error as exc:
        raise ListFormatError(path, f"line {start}", f"malformed CSV: {exc}") from exc


def _records(path: Path, source: str, reader: _Reader, columns: list[str]) -> Iterator[Record]:
    """The Record of every row, refusing repeated references and a list with no rows."""
    seen: dict[str, tuple[str, int]] = {}
    for line, row in _rows(path, reader, columns):
        record = _record(path, source, line, row)
        entity_id = record.main.id or ""
        if entity_id in seen:
            reference, first = seen[entity_id]
            reason = (f"reference {record.reference} appears twice (lines {first} and {line})"
                      if reference == record.reference else
                      f"references {reference} (line {first}) and {record.reference} "
                      f"give the same entity id {entity_id}")
            raise ListFormatError(path, f"line {line}", reason)
        seen[entity_id] = (record.reference, line)
        yield record
    if not seen:
        raise ListFormatError(path, None, "the file holds no records (only a header)")


def split(value: str | None) -> list[str]:
    """The non-empty, stripped values of a ``;``-separated cell, first occurrence kept."""
    if not value:
        return []
    parts = (part.strip() for part in value.split(";"))
    return list(dict.fromkeys(part for part in parts if part))


def _record(path: Path, source: str, line: int, row: Row) -> Record:
    """The Record of one row: listed entity, passports, identifications, address, sanction."""
    where = f"line {line}"
    for column in REQUIRED:
        if not row.get(column):
            raise ListFormatError(path, where, f"required value {column!r} is empty")
    reference, schema_text, name = row["reference"] or "", row["schema"] or "", row["name"] or ""
    schema = _SCHEMA_BY_KEY.get(schema_text.lower())
    if schema is None:
        raise ListFormatError(path, where, f"unknown schema {schema_text!r} (one of: {', '.join(SCHEMAS)})")
    main = make_entity(source, schema, listing_id(source, reference))
    for column, prop in _PROPS.items():
        if row.get(column) and main.schema.get(prop) is None:
            raise ListFormatError(path, where, f"column {column} does not apply to schema {schema}")
    main.add("name", name)
    if not main.get("name"):
        raise ListFormatError(path, where, f"name {name!r} is not a usable name")
    main.add("alias", split(row.get("aliases")))
    main.add("weakAlias", split(row.get("weak_aliases")))
    main.add("topics", "sanction")
    for column in ("first_name", "last_name", "birth_place", "imo_number", "notes", "source_url"):
        if row.get(column):
            main.add(_PROPS[column], row[column])
    for value in split(row.get("birth_date")):
        dates = parse_dates(value)
        if not dates:
            raise ListFormatError(path, where, f"unreadable birth date {value!r}")
        main.add("birthDate", dates, original_value=None if dates == [value] else value)
    for nationality in split(row.get("nationality")):
        add_country(main, "nationality", nationality)
    add_country(main, "country", row.get("country"))
    if gender := row.get("gender"):
        if registry.gender.clean(gender) is None:
            raise ListFormatError(path, where, f"unknown gender {gender!r} (male, female or other)")
        main.add("gender", gender)
    record = Record(reference=reference, entities=[main])
    record.entities.extend(_documents(source, main, "Passport", split(row.get("passport_numbers"))))
    record.entities.extend(_documents(source, main, "Identification", split(row.get("id_numbers"))))
    if address := row.get("address"):
        record.entities.append(_address(source, main, address))
    record.entities.append(_sanction(path, where, source, main, reference, row))
    return record


def _documents(source: str, main: StatementEntity, schema: str, numbers: list[str]) -> list[StatementEntity]:
    """A Passport or Identification held by ``main`` for each number."""
    is_passport = schema == "Passport"
    docs = []
    for number in numbers:
        kind = "passport" if is_passport else "id"
        doc = make_entity(source, schema, hashed_id(f"{main.id}-{kind}", number))
        doc.add("holder", main.id)
        doc.add("number", number)
        if is_passport:
            doc.add("type", "passport")
        main.add("passportNumber" if is_passport else "idNumber", number)
        docs.append(doc)
    return docs


def _address(source: str, main: StatementEntity, full: str) -> StatementEntity:
    """The Address entity of ``main``, linked from it through ``addressEntity``."""
    addr = make_entity(source, "Address", hashed_id(f"{main.id}-addr", full))
    addr.add("full", full)
    main.add("address", full)
    main.add("addressEntity", addr.id)
    return addr


def _sanction(path: Path, where: str, source: str, main: StatementEntity, reference: str,
              row: Row) -> StatementEntity:
    """The Sanction naming the partner as authority and its reference as authorityId."""
    sanction = make_sanction(source, main, source, reference)
    sanction.add("program", row.get("program"))
    if listed := row.get("listing_date"):
        dates = parse_dates(listed)
        if not dates:
            raise ListFormatError(path, where, f"unreadable listing date {listed!r}")
        sanction.add("listingDate", dates, original_value=None if dates == [listed] else listed)
    sanction.add("sourceUrl", row.get("source_url"))
    return sanction
