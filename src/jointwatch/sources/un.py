"""UN Security Council Consolidated List (XML, schema ``sc-sanctions.xsd``).

Each INDIVIDUAL becomes a Person and each ENTITY an Organization, identified by the UN
reference number (``QDi.354``), with a Sanction entity for the listing (regime, list type,
listing date, last updates), an Identification/Passport per document and an Address per
address. Name parts map as FIRST→firstName, SECOND→secondName, THIRD→middleName,
FOURTH→lastName; the UN gives no family-name role, so ``name`` is the parts in list order.
Alias quality maps: Good and a.k.a. → alias, Low → weakAlias, f.k.a. → previousName.
"""

from __future__ import annotations

from pathlib import Path

from followthemoney import StatementEntity
from lxml import etree

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import (
    MAX_FIELD_CHARS,
    ParsedList,
    Record,
    clip,
    hashed_id,
    listing_id,
    make_entity,
    make_sanction,
)
from jointwatch.sources.countries import add_country
from jointwatch.sources.dates import parse_dates, parse_timestamp_date, year_range
from jointwatch.sources.xmlsafe import children, iter_elements, text, texts, where

SOURCE = "un_sc"
AUTHORITY = "United Nations Security Council"
_ALIAS_PROP = {"good": "alias", "a.k.a.": "alias", "low": "weakAlias", "f.k.a.": "previousName"}


def parse_un_list(path: Path, source: str = SOURCE) -> ParsedList:
    """Open a UN consolidated list XML file for streaming its records."""
    elements = iter_elements(path, {"INDIVIDUAL", "ENTITY"})
    try:
        _kind, root = next(elements)
    except StopIteration:
        raise ListFormatError(path, None, "no XML content") from None
    if root.tag != "CONSOLIDATED_LIST":
        raise ListFormatError(path, where(root), "not a UN consolidated list (root is not CONSOLIDATED_LIST)")
    published = parse_timestamp_date(root.get("dateGenerated"))

    def records():
        for kind, element in elements:
            yield _parse_record(path, source, kind, element)

    return ParsedList(source=source, format="un", paths=(path,), published=published, records=records())


def _value(path: Path, element: etree._Element, *steps: str) -> str | None:
    """A one-line field: the UN wraps long values over indented lines, which mean nothing."""
    value = text(element, *steps)
    if value is not None and len(value) > MAX_FIELD_CHARS:
        clip(path, where(element), value)  # the error naming the place: its line is looked up only now
    return " ".join(value.split()) if value else None


def _parse_record(path: Path, source: str, kind: str, el: etree._Element) -> Record:
    reference = _value(path, el, "REFERENCE_NUMBER")
    if reference is None:
        raise ListFormatError(path, where(el), f"{kind} without REFERENCE_NUMBER")
    schema = "Person" if kind == "INDIVIDUAL" else "Organization"
    entity_id = listing_id(source, reference)
    main = make_entity(source, schema, entity_id)
    record = Record(reference=reference, entities=[main])

    parts = [_value(path, el, tag) for tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")]
    full = " ".join(p for p in parts if p)
    if not full:
        raise ListFormatError(path, where(el), f"{reference} has no name")
    main.add("name", full)
    if schema == "Person":
        for prop, part in zip(("firstName", "secondName", "middleName", "lastName"), parts, strict=False):
            main.add(prop, part)
        main.add("title", texts(el, "TITLE", "VALUE"))
        main.add("position", texts(el, "DESIGNATION", "VALUE"))
        main.add("gender", _value(path, el, "GENDER"), fuzzy=True, original_value=_value(path, el, "GENDER"))
        for nat in texts(el, "NATIONALITY", "VALUE"):
            add_country(main, "nationality", nat)
    main.add("name", _value(path, el, "NAME_ORIGINAL_SCRIPT"))
    main.add("notes", clip(path, where(el), text(el, "COMMENTS1")))
    main.add("topics", "sanction")
    main.add("programId", reference.split(".")[0])

    alias_tag = "INDIVIDUAL_ALIAS" if kind == "INDIVIDUAL" else "ENTITY_ALIAS"
    for alias in children(el, alias_tag):
        _add_alias(path, main, alias)
    for dob in children(el, "INDIVIDUAL_DATE_OF_BIRTH"):
        _add_birth_date(path, main, dob)
    for pob in children(el, "INDIVIDUAL_PLACE_OF_BIRTH"):
        place = _join(path, pob, "STREET", "CITY", "STATE_PROVINCE", "COUNTRY")
        main.add("birthPlace", place)
        if country := _value(path, pob, "COUNTRY"):
            add_country(main, "birthCountry", country)
        if note := _value(path, pob, "NOTE"):
            main.add("notes", f"Place of birth: {note}")
    addr_tag = "INDIVIDUAL_ADDRESS" if kind == "INDIVIDUAL" else "ENTITY_ADDRESS"
    for addr in children(el, addr_tag):
        record.entities.extend(_address(path, source, main, addr))
    for doc in children(el, "INDIVIDUAL_DOCUMENT"):
        record.entities.extend(_document(path, source, main, doc))
    record.entities.append(_sanction(path, source, main, el, reference))
    return record


def _add_alias(path: Path, main: StatementEntity, alias: etree._Element) -> None:
    name = _value(path, alias, "ALIAS_NAME")
    if name is None:
        return
    quality = (_value(path, alias, "QUALITY") or "good").lower()
    prop = _ALIAS_PROP.get(quality, "alias")
    main.add(prop, name, original_value=None)
    for dob in texts(alias, "DATE_OF_BIRTH"):
        main.add("birthDate", parse_dates(dob) or None, original_value=dob)
    place = _join(path, alias, "CITY_OF_BIRTH", "COUNTRY_OF_BIRTH")
    if place and main.schema.name == "Person":
        main.add("birthPlace", place)
    if note := _value(path, alias, "NOTE"):
        main.add("notes", f"Alias {name}: {note}")


def _add_birth_date(path: Path, main: StatementEntity, dob: etree._Element) -> None:
    kind = (_value(path, dob, "TYPE_OF_DATE") or "EXACT").upper()
    exact = _value(path, dob, "DATE")
    year = _value(path, dob, "YEAR")
    start, end = _value(path, dob, "FROM_YEAR"), _value(path, dob, "TO_YEAR")
    if kind == "BETWEEN" and start and end:
        if not (start.isdigit() and end.isdigit()):
            raise ListFormatError(path, where(dob), f"birth year range {start!r}-{end!r} is not numeric")
        for y in year_range(int(start), int(end)):
            main.add("birthDate", y, original_value=f"between {start} and {end}")
    for value in (exact, year):
        if not value:
            continue
        parsed = parse_dates(value)
        if not parsed:
            raise ListFormatError(path, where(dob), f"unreadable birth date {value!r}")
        original = f"approximately {value}" if kind == "APPROXIMATELY" else None
        main.add("birthDate", parsed, original_value=original)
    if note := _value(path, dob, "NOTE"):
        main.add("notes", f"Date of birth: {note}")


def _join(path: Path, el: etree._Element, *tags: str) -> str | None:
    parts = [_value(path, el, tag) for tag in tags]
    joined = ", ".join(p for p in parts if p)
    return joined or None


def _address(path: Path, source: str, main: StatementEntity, el: etree._Element) -> list[StatementEntity]:
    full = _join(path, el, "STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")
    note = _value(path, el, "NOTE")
    if not full and not note:
        return []
    country = _value(path, el, "COUNTRY")
    if country:
        add_country(main, "country", country)
    addr = make_entity(source, "Address", hashed_id(f"{main.id}-addr", full, note))
    addr.add("full", full or note)
    addr.add("street", _value(path, el, "STREET"))
    addr.add("city", _value(path, el, "CITY"))
    addr.add("region", _value(path, el, "STATE_PROVINCE"))
    addr.add("postalCode", _value(path, el, "ZIP_CODE"))
    if country:
        add_country(addr, "country", country)
    addr.add("summary", note)
    main.add("address", full)
    main.add("addressEntity", addr.id)
    return [addr]


def _document(path: Path, source: str, main: StatementEntity, el: etree._Element) -> list[StatementEntity]:
    doc_type = _value(path, el, "TYPE_OF_DOCUMENT")
    doc_type2 = _value(path, el, "TYPE_OF_DOCUMENT2")
    number = _value(path, el, "NUMBER")
    note = _value(path, el, "NOTE")
    if not any((doc_type, doc_type2, number, note)):
        return []
    kind = " ".join(t for t in (doc_type, doc_type2) if t).lower()
    is_passport = "passport" in kind or "pasaporte" in kind or "passeport" in kind
    schema = "Passport" if is_passport else "Identification"
    country = _value(path, el, "ISSUING_COUNTRY") or _value(path, el, "COUNTRY_OF_ISSUE")
    doc = make_entity(source, schema, hashed_id(f"{main.id}-doc", doc_type, number, country, note))
    doc.add("holder", main.id)
    doc.add("type", doc_type)
    if doc_type2 and doc_type2 != doc_type:
        doc.add("type", doc_type2)
    doc.add("number", number)
    if country:
        add_country(doc, "country", country)
    doc.add("authority", _value(path, el, "CITY_OF_ISSUE"))
    issued = _value(path, el, "DATE_OF_ISSUE")
    if issued:
        doc.add("startDate", parse_dates(issued) or None, original_value=issued)
    doc.add("summary", note)
    if number:
        main.add("passportNumber" if is_passport else "idNumber", number)
    return [doc]


def _sanction(
    path: Path, source: str, main: StatementEntity, el: etree._Element, reference: str
) -> StatementEntity:
    """The Sanction entity: list type, regime (the reference's prefix), listing and update dates."""
    sanction = make_sanction(source, main, AUTHORITY, reference, unsc_id=reference)
    sanction.add("program", _value(path, el, "UN_LIST_TYPE"))
    sanction.add("programId", reference.split(".")[0])
    sanction.add("recordId", _value(path, el, "DATAID"))
    sanction.add("provisions", texts(el, "LIST_TYPE", "VALUE"))
    listed = _value(path, el, "LISTED_ON")
    if listed:
        sanction.add("listingDate", parse_dates(listed) or None, original_value=listed)
    sanction.add("modifiedAt", texts(el, "LAST_DAY_UPDATED", "VALUE"))
    return sanction
