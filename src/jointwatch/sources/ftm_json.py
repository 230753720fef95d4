"""Partner lists as FollowTheMoney entities in JSON lines (``ftm`` tools, OpenSanctions exports).

One entity per line: ``{"id": ..., "schema": ..., "properties": {prop: [values]}}``; other
top-level keys (``caption``, ``datasets``, ``first_seen`` …) are ignored. Every entity whose
schema is a LegalEntity (Person, Organization, Company …), Vessel or Airplane is a listed
entity and starts a Record whose reference is its id. Dependent entities join the Record of
the entity they point at: a Sanction through ``entity``, an Identification or Passport
through ``holder``, an Address when a listed entity names it in ``addressEntity``.

Dependents may come before or after the entity they point at, so the whole file is read in
one pass and its entities kept in memory before any record is produced. Partner lists are
small, and the file size limit of :func:`check_size` bounds what is held. Property values
are cleaned by FollowTheMoney (countries through :func:`add_country`); a value that cleaning
rejects (a date it cannot read, a country no table knows) is an error, never dropped. Any
other schema (relationships such as Ownership or Family) is an error: a partner list names
listed entities and what hangs off them, nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from followthemoney import StatementEntity, model, registry
from followthemoney.schema import Schema

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import (
    MAX_FIELD_CHARS,
    ParsedList,
    Record,
    check_size,
    clip,
    date_from_name,
    make_entity,
)
from jointwatch.sources.countries import add_country, country_code
from jointwatch.sources.partner_csv import check_source

FORMAT = "ftm"
MAX_LINE_CHARS = MAX_FIELD_CHARS * 10
LISTED_SCHEMAS = ("LegalEntity", "Vessel", "Airplane")
# dependent schema → the property pointing at the listed entity it belongs to
DEPENDENT_LINKS = {"Sanction": "entity", "Identification": "holder", "Passport": "holder"}
_READ_BYTES = MAX_LINE_CHARS * 4 + 2  # a UTF-8 character is at most 4 bytes


def parse_ftm_json(path: Path, source: str) -> ParsedList:
    """A ParsedList of the records in a FollowTheMoney JSON-lines file, read on first use."""
    check_source(path, source)
    check_size(path)

    def records() -> Iterator[Record]:
        """The records, once the whole file has been read."""
        entities, lines = _read(path, source)
        yield from _group(path, entities, lines)

    return ParsedList(source=source, format=FORMAT, paths=(path,), published=date_from_name(path),
                      records=records())


def is_listed(schema: Schema) -> bool:
    """Whether entities of ``schema`` are listed entities (rather than dependents)."""
    return any(schema.is_a(name) for name in LISTED_SCHEMAS)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line; over-long lines and non-UTF-8 are errors."""
    with open(path, "rb") as fh:
        number = 0
        while raw := fh.readline(_READ_BYTES):
            number += 1
            too_long = len(raw) >= _READ_BYTES and not raw.endswith(b"\n")
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8") if not too_long else ""
            except UnicodeDecodeError as exc:
                raise ListFormatError(path, f"line {number}",
                                      f"wrong encoding: byte 0x{raw[exc.start]:02x} is not UTF-8") from None
            text = text.rstrip("\r\n")
            if too_long or len(text) > MAX_LINE_CHARS:
                raise ListFormatError(path, f"line {number}",
                                      f"line longer than the limit of {MAX_LINE_CHARS} characters")
            if text.strip():
                yield number, text


def _read(path: Path, source: str) -> tuple[dict[str, StatementEntity], dict[str, int]]:
    """Every entity of the file by id (in file order), and the line each came from."""
    entities: dict[str, StatementEntity] = {}
    lines: dict[str, int] = {}
    for number, text in _lines(path):
        entity = _entity(path, f"line {number}", source, text)
        entity_id = entity.id or ""
        if entity_id in entities:
            raise ListFormatError(path, f"line {number}",
                                  f"entity {entity_id} appears twice (lines {lines[entity_id]} and {number})")
        entities[entity_id] = entity
        lines[entity_id] = number
    return entities, lines


def _entity(path: Path, where: str, source: str, text: str) -> StatementEntity:
    """The entity one JSON line describes, its id, schema and properties checked."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ListFormatError(path, where, f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ListFormatError(path, where, f"a JSON {type(data).__name__}, not an entity object")
    entity_id, schema_name = data.get("id"), data.get("schema")
    if not isinstance(entity_id, str) or not entity_id:
        raise ListFormatError(path, where, "entity without an id")
    if registry.entity.clean(entity_id) != entity_id:
        raise ListFormatError(path, where, f"invalid entity id {entity_id[:200]!r} "
                              "(letters, digits, '-', '.' and '_' only)")
    if not isinstance(schema_name, str) or not schema_name:
        raise ListFormatError(path, where, f"entity {entity_id} without a schema")
    schema = model.get(schema_name)
    if schema is None or schema.abstract:
        raise ListFormatError(path, where, f"entity {entity_id} has unknown schema {schema_name[:200]!r}")
    if not is_listed(schema) and schema.name not in DEPENDENT_LINKS and schema.name != "Address":
        raise ListFormatError(path, where, f"entity {entity_id}: schema {schema.name} is not accepted in "
                              "a partner list (listed entities, Sanction, Identification, Passport, Address)")
    properties = data.get("properties", {})
    if not isinstance(properties, dict):
        raise ListFormatError(path, where, f"entity {entity_id}: properties is not an object")
    entity = make_entity(source, schema.name, entity_id)
    for prop_name, raw in properties.items():
        _add(path, where, entity, prop_name, raw)
    return entity


def _add(path: Path, where: str, entity: StatementEntity, prop_name: str, raw: Any) -> None:
    """Add one property's values to the entity, cleaned; anything cleaning rejects is an error."""
    prop = entity.schema.get(prop_name)
    if prop is None:
        raise ListFormatError(path, where, f"entity {entity.id}: property {prop_name[:200]!r} "
                              f"is not on schema {entity.schema.name}")
    if prop.stub:
        raise ListFormatError(path, where, f"entity {entity.id}: {prop_name} is a reverse property; "
                              "set it on the entity that points here")
    values = [raw] if isinstance(raw, str) else raw
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ListFormatError(path, where, f"entity {entity.id}: values of {prop_name} must be strings")
    for value in values:
        value = clip(path, f"{where}, property {prop_name}", value)
        if value is None:
            continue
        if prop.type == registry.country:
            if country_code(value) is None:
                raise ListFormatError(path, where, f"entity {entity.id}: {prop_name} {value[:200]!r} "
                                      "is not a country known to jointwatch")
            add_country(entity, prop_name, value)
            continue
        if prop.type.clean(value, proxy=entity) is None:
            raise ListFormatError(path, where, f"entity {entity.id}: {value[:200]!r} is not a valid "
                                  f"{prop.type.name} for {prop_name}")
        entity.add(prop, value)


def _group(path: Path, entities: dict[str, StatementEntity], lines: dict[str, int]) -> list[Record]:
    """One Record per listed entity, in file order, with the dependents that point at it."""
    records = {eid: Record(reference=eid, entities=[e]) for eid, e in entities.items() if is_listed(e.schema)}
    if not records:
        raise ListFormatError(path, None, "the file holds no records (no listed entity)")
    for record in records.values():
        record.main.add("topics", "sanction")
    addresses: set[str] = set()
    for record in records.values():
        for address_id in record.main.get("addressEntity"):
            address = entities.get(address_id)
            if address is None or address.schema.name != "Address":
                raise ListFormatError(path, f"line {lines[record.reference]}",
                                      f"entity {record.reference}: addressEntity {address_id} is not "
                                      "an Address in the file")
            record.entities.append(address)
            addresses.add(address_id)
    for entity_id, entity in entities.items():
        where = f"line {lines[entity_id]}"
        if entity.schema.name == "Address" and entity_id not in addresses:
            raise ListFormatError(path, where, f"Address {entity_id} is not the address of any listed entity")
        link = DEPENDENT_LINKS.get(entity.schema.name)
        if link is None:
            continue
        targets = entity.get(link)
        if not targets:
            raise ListFormatError(path, where, f"{entity.schema.name} {entity_id} has no {link}")
        for target in targets:
            if target not in records:
                what = "an unknown entity" if target not in entities else "an entity that is not listed"
                raise ListFormatError(path, where, f"{entity.schema.name} {entity_id} points at {what}: "
                                      f"{target}")
            records[target].entities.append(entity)
    return list(records.values())
