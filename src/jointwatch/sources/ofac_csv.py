"""OFAC SDN and consolidated (non-SDN) lists in the legacy CSV layout.

Two shapes are read: the triplet (``sdn.csv`` + ``alt.csv`` + ``add.csv``, or
``cons_prim.csv`` + ``cons_alt.csv`` + ``cons_add.csv``) given as a folder, and a single
primary file whose weak aliases sit inline in the remarks as ``a.k.a. '…'``. The files
have no header row, write ``-0-`` for empty, end with a DOS end-of-file byte (0x1A), and
may be Latin-1 in older releases. Layout, per OFAC's "SDN data file specification":

- primary: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage,
  GRT, Vess_flag, Vess_owner, Remarks
- alt: ent_num, alt_num, alt_type, alt_name, alt_remarks
- add: ent_num, add_num, address, city/state/postal code, country, add_remarks
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from followthemoney import StatementEntity

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
from jointwatch.sources.ofac_remarks import apply_remarks

SDN_SOURCE = "us_ofac_sdn"
CONS_SOURCE = "us_ofac_cons"
AUTHORITY = "US Treasury Office of Foreign Assets Control"
_EMPTY = "-0-"
_END_MARK = "\x1a"  # OFAC's legacy CSV files end with Ctrl-Z
_PRIMARY_FIELDS = 12
_ALT_FIELDS = 5
_ADD_FIELDS = 6
_SCHEMAS = {"individual": "Person", "vessel": "Vessel", "aircraft": "Airplane", "": "Organization"}
_ALT_PROPS = {"aka": "alias", "fka": "previousName", "nka": "alias"}
_TRIPLETS = {"sdn": ("sdn.csv", "alt.csv", "add.csv"), "cons": ("cons_prim.csv", "cons_alt.csv", "cons_add.csv")}


def resolve_files(path: Path, kind: str) -> tuple[Path, ...]:
    """The files making up one OFAC list: the triplet in a folder, or one primary file."""
    if path.is_dir():
        primary, alt, add = (path / name for name in _TRIPLETS[kind])
        if not primary.exists():
            raise ListFormatError(path, None, f"folder has no {primary.name}")
        return tuple(p for p in (primary, alt, add) if p.exists())
    return (path,)


def parse_ofac_sdn(path: Path, source: str = SDN_SOURCE) -> ParsedList:
    """Open the OFAC SDN list (triplet folder or single sdn.csv) for streaming its records."""
    return _parse(path, "sdn", source, "ofac-sdn")


def parse_ofac_cons(path: Path, source: str = CONS_SOURCE) -> ParsedList:
    """Open the OFAC consolidated non-SDN list (triplet folder or single file)."""
    return _parse(path, "cons", source, "ofac-cons")


def _parse(path: Path, kind: str, source: str, fmt: str) -> ParsedList:
    files = resolve_files(path, kind)
    for file in files:
        check_size(file)
    primary = files[0]
    alts: dict[str, list[list[str]]] = defaultdict(list)
    adds: dict[str, list[list[str]]] = defaultdict(list)
    for file in files[1:]:
        width = _ALT_FIELDS if file.name.endswith("alt.csv") else _ADD_FIELDS
        target = alts if width == _ALT_FIELDS else adds
        for _, row in read_rows(file, width):
            target[row[0]].append(row)
    published = date_from_name(path)

    def records() -> Iterator[Record]:
        seen: set[str] = set()
        for line, row in read_rows(primary, _PRIMARY_FIELDS):
            if row[0] in seen:
                raise ListFormatError(primary, f"line {line}", f"ent_num {row[0]} appears twice")
            seen.add(row[0])
            yield _record(primary, line, row, alts.get(row[0], []), adds.get(row[0], []), source)
        for missing in (set(alts) | set(adds)) - seen:
            raise ListFormatError(files[1], None, f"ent_num {missing} has no primary record")

    return ParsedList(source=source, format=fmt, paths=files, published=published, records=records())


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # older OFAC releases are Windows-1252; every byte decodes, so say which we chose
        if not _is_cp1252(data):
            raise ListFormatError(path, None, "wrong encoding: neither UTF-8 nor Windows-1252") from None
        text = data.decode("cp1252", errors="strict")
    return text


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def read_rows(path: Path, width: int) -> Iterator[tuple[int, list[str]]]:
    """(line number, cleaned fields) for each row; ``-0-`` becomes ``""``; wrong widths are errors."""
    text = _decode(path)
    if "\x00" in text:
        raise ListFormatError(path, None, "binary content (NUL bytes) in a CSV file")
    body = text.rstrip("\r\n")
    complete = body.endswith(_END_MARK)
    reader = csv.reader(io.StringIO(body.removesuffix(_END_MARK).rstrip("\r\n"), newline=""), strict=True)
    try:
        for row in reader:
            line = reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise ListFormatError(path, f"line {line}", f"expected {width} fields, found {len(row)}")
            cleaned = []
            for i, value in enumerate(row):
                value = clip(path, f"line {line} field {i + 1}", value) or ""
                cleaned.append("" if value == _EMPTY else value)
            if not cleaned[0].isdigit():
                raise ListFormatError(path, f"line {line}", f"ent_num {cleaned[0]!r} is not a number")
            yield line, cleaned
    except csv.Error as exc:
        raise ListFormatError(path, f"line {reader.line_num}", f"malformed CSV: {exc}") from exc
    if not complete:
        # a file cut at a line end reads as a shorter list: every listing after the cut would
        # silently stop matching. OFAC ends each of its CSV files with this mark.
        raise ListFormatError(path, f"after line {reader.line_num}",
                              "no end-of-file mark (0x1A): the file looks truncated; download it again")


def _record(
    path: Path, line: int, row: list[str], alts: list[list[str]], adds: list[list[str]], source: str
) -> Record:
    uid, name, sdn_type, programs, title, call_sign, vess_type, tonnage, grt, flag, owner, remarks = row
    if not name:
        raise ListFormatError(path, f"line {line}", f"ent_num {uid} has no name")
    schema = _SCHEMAS.get(sdn_type.lower())
    if schema is None:
        raise ListFormatError(path, f"line {line}", f"unknown SDN_Type {sdn_type!r}")
    main = make_entity(source, schema, listing_id(source, uid))
    main.add("name", name)
    if schema == "Person" and "," in name:
        last, first = name.split(",", 1)
        main.add("lastName", last.strip())
        main.add("firstName", first.strip())
    main.add("topics", "sanction")
    program_list = [p.strip() for p in programs.strip("[]").split("] [") if p.strip()]
    main.add("programId", program_list)
    if schema == "Person":
        main.add("position", title)
    elif title:
        main.add("notes", f"Title: {title}")
    if schema == "Vessel":
        main.add("callSign", call_sign)
        main.add("type", vess_type)
        main.add("tonnage", tonnage.replace(",", "") or None, original_value=tonnage or None)
        main.add("grossRegisteredTonnage", grt.replace(",", "") or None, original_value=grt or None)
        add_country(main, "flag", flag)
        if owner:
            main.add("notes", f"Vessel owner: {owner}")
    elif any((call_sign, vess_type, tonnage, grt, flag, owner)):
        main.add("notes", "; ".join(v for v in (call_sign, vess_type, tonnage, grt, flag, owner) if v))

    sanction = make_sanction(source, main, AUTHORITY, uid)
    sanction.add("program", program_list)
    record = Record(reference=uid, entities=[main])
    if remarks:
        record.entities.extend(apply_remarks(remarks, main, sanction, source))
    for alt in alts:
        _, _alt_num, alt_type, alt_name, alt_remarks = alt
        prop = _ALT_PROPS.get(alt_type.lower().replace(".", ""), "alias")
        main.add(prop, alt_name or None)
        if alt_remarks:
            main.add("notes", f"Alias {alt_name}: {alt_remarks}")
    for add in adds:
        record.entities.extend(_address(main, add, source))
    record.entities.append(sanction)
    return record


def _address(main: StatementEntity, row: list[str], source: str) -> list[StatementEntity]:
    _, add_num, street, city, country, add_remarks = row
    full = ", ".join(p for p in (street, city, country) if p)
    if not full and not add_remarks:
        return []
    addr = make_entity(source, "Address", hashed_id(f"{main.id}-addr", add_num))
    addr.add("full", full or add_remarks)
    addr.add("street", street or None)
    addr.add("city", city or None)
    if country:
        add_country(addr, "country", country)
        if main.schema.get("country") is not None:
            add_country(main, "country", country)
    addr.add("summary", add_remarks or None)
    if full and main.schema.get("address") is not None:
        main.add("address", full)
        main.add("addressEntity", addr.id)
    return [addr]
