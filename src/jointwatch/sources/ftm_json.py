"""Partner lists as FollowTheMoney entities in JSON lines (``ftm`` tools, OpenSanctions exports).

One entity per line: ``{"id": ..., "schema": ..., "properties": {prop: [values]}}``; other
top-level keys (``caption``, ``datasets``, ``first_seen`` …) are ignored. Every entity whose
schema is a LegalEntity (Person, Organization, Company …), Vessel or Airplane is a listed
entity and starts a Record whose reference is its id. Dependent entities join the Record of
the entity they point at: a Sanction through ``entity``, an Identification or Passport
through ``holder``, an Address when a listed entity names it in ``addressEntity``.

Dependents may come before or after the entity they point at, so the file is read twice,
in bounded memory whatever its size (an OpenSanctions collection has millions of entities):
a first pass checks every line's JSON, id and schema and notes where each entity is and what
it points at (ids and byte offsets only); the second builds each listed entity's record in
file order, reading its addresses and dependents back by their offsets. Property values are
cleaned once by FollowTheMoney (countries through :func:`add_country`); a value that cleaning
rejects (a date it cannot read, a country no table knows) is an error, never dropped. Any
other schema (relationships such as Ownership or Family) is an error: a partner list names
listed entities and what hangs off them, nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from followthemoney import StatementEntity, model, registry
from followthemoney.schema import Schema
from followthemoney.util import sanitize_text

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
        """The records, once the whole file has been looked through."""
        yield from _records(path, source, _survey(path))

    def parts(n: int) -> list[Iterator[Record]]:
        """The records in ``n`` consecutive shares, once the whole file has been looked through."""
        survey = _survey(path)
        size = -(-len(survey.listed) // max(1, n))
        return [_records(path, source, survey, start, start + size)
                for start in range(0, len(survey.listed), size)]

    return ParsedList(source=source, format=FORMAT, paths=(path,), published=date_from_name(path),
                      records=records(), parts=parts)


def is_listed(schema: Schema) -> bool:
    """Whether entities of ``schema`` are listed entities (rather than dependents)."""
    return any(schema.is_a(name) for name in LISTED_SCHEMAS)


def _lines(path: Path) -> Iterator[tuple[int, int, str]]:
    """(line number, byte offset, text) of every non-blank line; over-long lines and non-UTF-8
    are errors."""
    with open(path, "rb") as fh:
        number = 0
        offset = 0
        while raw := fh.readline(_READ_BYTES):
            number += 1
            text = _text(path, number, raw)
            if text.strip():
                yield number, offset, text
            offset += len(raw)


def _text(path: Path, number: int, raw: bytes) -> str:
    """One line's text, checked for its length and encoding."""
    too_long = len(raw) >= _READ_BYTES and not raw.endswith(b"\n")
    try:
        text = raw.decode("utf-8-sig" if number == 1 else "utf-8") if not too_long else ""
    except UnicodeDecodeError as exc:
        raise ListFormatError(path, f"line {number}",
                              f"wrong encoding: byte 0x{raw[exc.start]:02x} is not UTF-8") from None
    text = text.rstrip("\r\n")
    if too_long or len(text) > MAX_LINE_CHARS:
        raise ListFormatError(path, f"line {number}", f"line longer than the limit of {MAX_LINE_CHARS} characters")
    return text


@dataclass
class _Survey:
    """Where every entity of the file is and what points where: ids, line numbers and offsets."""

    listed: list[tuple[str, int, int]] = field(default_factory=list)  # (id, line, offset) in file order
    schemata: dict[str, str] = field(default_factory=dict)  # every entity's schema by id
    lines: dict[str, int] = field(default_factory=dict)
    addresses: dict[str, int] = field(default_factory=dict)  # Address id -> offset
    dependents: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # target -> (line, offset)s
    addressed: set[str] = field(default_factory=set)  # Address ids some listed entity names
    links: list[tuple[str, str, int, list[str]]] = field(default_factory=list)  # dependents to check


def _survey(path: Path) -> _Survey:
    """The first pass: every line's JSON, id and schema checked, and where each entity is."""
    survey = _Survey()
    for number, offset, text in _lines(path):
        data, entity_id, schema = _head(path, f"line {number}", text)
        if entity_id in survey.lines:
            raise ListFormatError(path, f"line {number}", f"entity {entity_id} appears twice "
                                  f"(lines {survey.lines[entity_id]} and {number})")
        survey.lines[entity_id] = number
        survey.schemata[entity_id] = schema.name
        properties = data.get("properties")
        if is_listed(schema):
            survey.listed.append((entity_id, number, offset))
            survey.addressed.update(_ids(properties, "addressEntity"))
        elif schema.name == "Address":
            survey.addresses[entity_id] = offset
        else:
            link = DEPENDENT_LINKS[schema.name]
            targets = _ids(properties, link)
            survey.links.append((entity_id, schema.name, number, targets))
            for target in dict.fromkeys(targets):
                survey.dependents.setdefault(target, []).append((number, offset))
    if not survey.listed:
        raise ListFormatError(path, None, "the file holds no records (no listed entity)")
    listed = {entity_id for entity_id, _, _ in survey.listed}
    for entity_id, schema_name, number, targets in survey.links:
        link = DEPENDENT_LINKS[schema_name]
        if not targets:
            raise ListFormatError(path, f"line {number}", f"{schema_name} {entity_id} has no {link}")
        for target in targets:
            if target not in listed:
                what = "an unknown entity" if target not in survey.schemata else "an entity that is not listed"
                raise ListFormatError(path, f"line {number}", f"{schema_name} {entity_id} points at {what}: "
                                      f"{target}")
    for address_id in survey.addresses:
        if address_id not in survey.addressed:
            raise ListFormatError(path, f"line {survey.lines[address_id]}",
                                  f"Address {address_id} is not the address of any listed entity")
    survey.links = []
    return survey


def _ids(properties: object, prop: str) -> list[str]:
    """The entity ids a property of a JSON entity names, cleaned as FollowTheMoney will
    (values that are not ids are left to the second pass to refuse)."""
    if not isinstance(properties, dict):
        return []
    raw = properties.get(prop)
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    cleaned = (registry.entity.clean(v) for v in values if isinstance(v, str))
    return [v for v in cleaned if v is not None]


def _records(path: Path, source: str, survey: _Survey, start: int = 0, stop: int | None = None) -> Iterator[Record]:
    """The second pass: one Record per listed entity (those from ``start`` to ``stop``), in file
    order, with the addresses it names and the dependents that point at it."""
    with open(path, "rb") as fh:

        def entity_at(offset: int, number: int) -> StatementEntity:
            fh.seek(offset)
            return _entity(path, f"line {number}", source, _text(path, number, fh.readline(_READ_BYTES)))

        for entity_id, number, offset in survey.listed[start:stop]:
            main = entity_at(offset, number)
            main.add("topics", "sanction")
            record = Record(reference=entity_id, entities=[main])
            for address_id in main.get("addressEntity"):
                if survey.schemata.get(address_id) != "Address":
                    raise ListFormatError(path, f"line {number}",
                                          f"entity {entity_id}: addressEntity {address_id} is not "
                                          "an Address in the file")
                record.entities.append(entity_at(survey.addresses[address_id], survey.lines[address_id]))
            for line, at in survey.dependents.get(entity_id, ()):
                record.entities.append(entity_at(at, line))
            yield record


def _head(path: Path, where: str, text: str) -> tuple[dict[str, Any], str, Schema]:
    """The JSON object of one line, its id and schema checked."""
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
    return data, entity_id, schema


def _entity(path: Path, where: str, source: str, text: str) -> StatementEntity:
    """The entity one JSON line describes, its id, schema and properties checked."""
    data, entity_id, schema = _head(path, where, text)
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
        # cleaned once, here, and added as cleaned: the same statement (value and original
        # value) as entity.add would make, without cleaning it a second time
        text = sanitize_text(value)
        clean = None if text is None else prop.type.clean_text(text, proxy=entity)
        if clean is None:
            raise ListFormatError(path, where, f"entity {entity.id}: {value[:200]!r} is not a valid "
                                  f"{prop.type.name} for {prop_name}")
        entity.unsafe_add(prop, clean, cleaned=True, original_value=text)
