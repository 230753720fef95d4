"""UK Sanctions List published by the FCDO (``UK-Sanctions-List.xml``).

The published XML has a root ``Designations`` whose first child ``DateGenerated``
(dd/mm/yyyy, an element rather than an attribute) dates the file, then one ``Designation``
per listing: ``UniqueID`` (``AQD0104``), ``OFSIGroupID``, ``UNReferenceNumber``,
``LastUpdated`` and ``DateDesignated`` (dd/mm/yyyy), ``RegimeName``, ``IndividualEntityShip``
(Individual / Entity / Ship), ``DesignationSource``, ``SanctionsImposed`` (``|``-separated),
``OtherInformation``, ``UKStatementofReasons``, ``Names/Name`` (``Name1``..``Name6``,
``NameType``, ``AliasStrength``), ``NonLatinNames``, ``Titles``, ``Addresses/Address``
(``AddressLine1``..``AddressLine6``, ``AddressPostalCode``, ``AddressCountry``), phone,
e-mail and website lists, and one details block by kind: ``IndividualDetails/Individual``
(``DOBs``, ``Nationalities``, ``PassportDetails``, ``NationalIdentifierDetails``,
``Positions``, ``Genders``, ``BirthDetails``), ``EntityDetails/Entity`` (types, business
registration numbers, parents, subsidiaries) or ``ShipDetails/Ship`` (``IMONumbers``,
flags, type, tonnage, year built, owner/operators).

Individuals become Person, entities Organization and ships Vessel entities, identified by
the UniqueID. Names: ``Primary Name`` → name, ``Primary name variation`` → alias, ``Alias``
→ alias, or weakAlias when its ``AliasStrength`` says low quality; name parts map
Name1→firstName, Name2..Name5→middleName, Name6→lastName. A date of birth with masked parts
(``dd/mm/1975``) keeps only what is known (``1975``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from followthemoney import StatementEntity
from followthemoney.types import registry
from lxml import etree

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import (
    ParsedList,
    Record,
    clip,
    date_from_name,
    hashed_id,
    listing_id,
    make_entity,
    make_sanction,
)
from jointwatch.sources.dates import parse_dates
from jointwatch.sources.xmlsafe import children, iter_elements, local, text, texts, where

SOURCE = "uk_sanctions"
AUTHORITY = "United Kingdom Foreign, Commonwealth and Development Office"
_SCHEMAS = {"individual": "Person", "entity": "Organization", "ship": "Vessel"}
_PARTS = ("Name1", "Name2", "Name3", "Name4", "Name5", "Name6")
_PART_PROPS = ("firstName", "middleName", "middleName", "middleName", "middleName", "lastName")
_UK_DATE = re.compile(r"^(dd|\d{1,2})/(mm|\d{1,2})/(\d{4})$", re.IGNORECASE)
_IMO = re.compile(r"^(?:IMO)?\s*(\d{7})$", re.IGNORECASE)


def parse_uk_list(path: Path, source: str = SOURCE) -> ParsedList:
    """A ParsedList streaming the records of a UK Sanctions List XML file."""
    elements = iter_elements(path, {"Designation", "DateGenerated"})
    try:
        _, root = next(elements)
    except StopIteration:
        raise ListFormatError(path, None, "no XML content") from None
    if local(root.tag) != "Designations":
        raise ListFormatError(
            path, where(root), "not a UK Sanctions List (root is not Designations)"
        )
    # DateGenerated precedes the first Designation; read ahead to it, keeping what comes first.
    published: date | None = None
    pending = next(elements, None)
    if pending is not None and pending[0] == "DateGenerated":
        value = clip(path, where(pending[1]), pending[1].text)
        iso = _uk_date(value) if value else []
        if value and (not iso or len(iso[0]) != 10):
            raise ListFormatError(path, where(pending[1]), f"unreadable DateGenerated {value!r}")
        published = date.fromisoformat(iso[0]) if iso else None
        pending = None
    if published is None:
        published = date_from_name(path)

    def records() -> Iterator[Record]:
        if pending is not None and pending[0] == "Designation":
            yield _parse_record(path, source, pending[1])
        for kind, element in elements:
            if kind == "Designation":
                yield _parse_record(path, source, element)

    return ParsedList(
        source=source, format="uk", paths=(path,), published=published, records=records()
    )


def _uk_date(value: str) -> list[str]:
    """ISO date prefixes for a UK date: ``25/01/2001``, masked ``dd/mm/1975`` or ``dd/05/1975``."""
    m = _UK_DATE.match(value.strip())
    if not m:
        return parse_dates(value)
    day, month, year = m.groups()
    if not month.isdigit():
        return [year]
    if not day.isdigit():
        return parse_dates(f"{year}-{int(month):02d}")
    return parse_dates(f"{year}-{int(month):02d}-{int(day):02d}")


def _value(path: Path, el: etree._Element, *steps: str) -> str | None:
    """The clipped text of the first descendant at ``steps``."""
    return clip(path, where(el), text(el, *steps))


def _values(path: Path, el: etree._Element, *steps: str) -> list[str]:
    """The clipped texts of every descendant at ``steps``."""
    return [v for v in (clip(path, where(el), t) for t in texts(el, *steps)) if v]


def _dates(path: Path, el: etree._Element, value: str | None, what: str) -> list[str]:
    """ISO dates for a UK date field; an unreadable date is a format error."""
    if value is None:
        return []
    parsed = _uk_date(value)
    if not parsed:
        raise ListFormatError(path, where(el), f"unreadable {what} {value!r}")
    return parsed


def _parse_record(path: Path, source: str, el: etree._Element) -> Record:
    """The Record of one ``Designation``: listed entity, documents, addresses and sanction."""
    reference = _value(path, el, "UniqueID")
    if reference is None:
        raise ListFormatError(path, where(el), "Designation without UniqueID")
    kind = (_value(path, el, "IndividualEntityShip") or _value(path, el, "GroupType") or "").lower()
    schema = _SCHEMAS.get(kind)
    if schema is None:
        raise ListFormatError(path, where(el), f"{reference} has unknown designation type {kind!r}")
    main = make_entity(source, schema, listing_id(source, reference))
    record = Record(reference=reference, entities=[main])

    _add_names(path, main, el, reference)
    main.add("topics", "sanction")
    main.add("notes", _value(path, el, "OtherInformation"))
    for prop, steps in (
        ("phone", ("PhoneNumbers", "PhoneNumber")),
        ("email", ("EmailAddresses", "EmailAddress")),
        ("website", ("Websites", "Website")),
    ):
        if main.schema.get(prop) is not None:
            main.add(prop, _values(path, el, *steps), quiet=True)
    for addr in (a for block in children(el, "Addresses") for a in children(block, "Address")):
        record.entities.extend(_address(path, source, main, addr))
    for person in (p for d in children(el, "IndividualDetails") for p in children(d, "Individual")):
        record.entities.extend(_individual(path, source, main, person))
    for entity in (e for d in children(el, "EntityDetails") for e in children(d, "Entity")):
        _entity_details(path, main, entity)
    for ship in (s for d in children(el, "ShipDetails") for s in children(d, "Ship")):
        _ship_details(path, main, ship)
    record.entities.append(_sanction(path, source, main, el, reference))
    return record


def _add_names(path: Path, main: StatementEntity, el: etree._Element, reference: str) -> None:
    """Name, aliases, weak aliases and name parts from ``Names``, ``NonLatinNames`` and ``Titles``."""
    names = [n for block in children(el, "Names") for n in children(block, "Name")]
    primary = [n for n in names if (_value(path, n, "NameType") or "").lower() == "primary name"]
    if not primary and names:
        primary = names[:1]
    for name in names:
        parts = [_value(path, name, tag) for tag in _PARTS]
        full = " ".join(p for p in parts if p) or None
        if full is None:
            continue
        kind = (_value(path, name, "NameType") or "").lower()
        strength = (_value(path, name, "AliasStrength") or "").lower()
        if name in primary:
            main.add("name", full)
            if main.schema.name == "Person":
                for prop, part in zip(_PART_PROPS, parts, strict=False):
                    main.add(prop, part)
        elif kind == "alias" and "low" in strength:
            main.add("weakAlias", full)
        else:
            main.add("alias", full)
    if not main.get("name"):
        raise ListFormatError(path, where(el), f"{reference} has no name")
    main.add("name", _values(path, el, "NonLatinNames", "NonLatinName", "NameNonLatinScript"))
    if main.schema.name == "Person":
        main.add("title", _values(path, el, "Titles", "Title"))


def _add_country(entity: StatementEntity, prop: str, name: str | None) -> None:
    """A country property from a country name; names the registry does not know go to notes."""
    if not name:
        return
    before = len(entity.get(prop))
    entity.add(prop, name, fuzzy=True, original_value=name)
    if len(entity.get(prop)) == before and registry.country.clean(name, fuzzy=True) is None:
        entity.add("notes", f"{prop}: {name}")


def _address(
    path: Path, source: str, main: StatementEntity, el: etree._Element
) -> list[StatementEntity]:
    """An Address entity from ``AddressLine1``..``AddressLine6``, postal code and country."""
    lines = [_value(path, el, f"AddressLine{i}") for i in range(1, 7)]
    postal, country = _value(path, el, "AddressPostalCode"), _value(path, el, "AddressCountry")
    full = ", ".join(p for p in (*lines, postal, country) if p) or None
    if full is None:
        return []
    addr = make_entity(source, "Address", hashed_id(f"{main.id}-addr", full))
    addr.add("full", full)
    addr.add("street", lines[0])
    addr.add("street2", lines[1])
    addr.add("postalCode", postal)
    _add_country(addr, "country", country)
    _add_country(main, "country", country)
    main.add("address", full)
    main.add("addressEntity", addr.id)
    return [addr]


def _individual(
    path: Path, source: str, main: StatementEntity, el: etree._Element
) -> list[StatementEntity]:
    """Birth dates and places, nationality, gender, positions and documents of an ``Individual``."""
    for dob in _values(path, el, "DOBs", "DOB"):
        main.add("birthDate", _dates(path, el, dob, "date of birth"), original_value=dob)
    for nationality in _values(path, el, "Nationalities", "Nationality"):
        _add_country(main, "nationality", nationality)
    for gender in _values(path, el, "Genders", "Gender"):
        main.add("gender", gender, fuzzy=True, original_value=gender)
    main.add("position", _values(path, el, "Positions", "Position"))
    for loc in (c for b in children(el, "BirthDetails") for c in children(b, "Location")):
        town, country = _value(path, loc, "TownOfBirth"), _value(path, loc, "CountryOfBirth")
        main.add("birthPlace", ", ".join(p for p in (town, country) if p) or None)
        _add_country(main, "birthCountry", country)
    docs: list[StatementEntity] = []
    for block, tag, number, info in (
        ("PassportDetails", "Passport", "PassportNumber", "PassportAdditionalInformation"),
        (
            "NationalIdentifierDetails",
            "NationalIdentifier",
            "NationalIdentifierNumber",
            "NationalIdentifierAdditionalInformation",
        ),
    ):
        for item in (i for b in children(el, block) for i in children(b, tag)):
            doc = _document(
                path,
                source,
                main,
                item,
                tag == "Passport",
                _value(path, item, number),
                _value(path, item, info),
            )
            if doc is not None and doc.id not in {d.id for d in docs}:
                docs.append(doc)
    return docs


def _document(
    path: Path,
    source: str,
    main: StatementEntity,
    el: etree._Element,
    passport: bool,
    number: str | None,
    info: str | None,
) -> StatementEntity | None:
    """A Passport or Identification entity for one passport or national identifier."""
    if number is None:
        if info:
            main.add("notes", f"{'Passport' if passport else 'National identifier'}: {info}")
        return None
    schema = "Passport" if passport else "Identification"
    doc = make_entity(source, schema, hashed_id(f"{main.id}-doc", schema, number))
    doc.add("holder", main.id)
    doc.add("number", number)
    doc.add("type", "Passport" if passport else "National identifier")
    doc.add("summary", info)
    main.add("passportNumber" if passport else "idNumber", number)
    return doc


def _entity_details(path: Path, main: StatementEntity, el: etree._Element) -> None:
    """Type, registration numbers, parents and subsidiaries of an ``Entity``."""
    main.add("legalForm", _values(path, el, "TypeOfEntities", "TypeOfEntity"))
    main.add(
        "registrationNumber",
        _values(path, el, "BusinessRegistrationNumbers", "BusinessRegistrationNumber"),
    )
    main.add(
        "notes",
        [f"Parent company: {p}" for p in _values(path, el, "ParentCompanies", "ParentCompany")],
    )
    main.add("notes", [f"Subsidiary: {s}" for s in _values(path, el, "Subsidiaries", "Subsidiary")])


def _ship_details(path: Path, main: StatementEntity, el: etree._Element) -> None:
    """IMO number, flags, type, tonnage, build year and owners of a ``Ship``."""
    for imo in _values(path, el, "IMONumbers", "IMONumber"):
        m = _IMO.match(imo)
        main.add("imoNumber", f"IMO{m.group(1)}" if m else imo, original_value=imo)
    for flag in _values(path, el, "CurrentBelievedFlagOfShips", "CurrentBelievedFlagOfShip"):
        _add_country(main, "flag", flag)
    for flag in _values(path, el, "PreviousFlags", "PreviousFlag"):
        _add_country(main, "pastFlags", flag)
    main.add("type", _values(path, el, "TypeOfShipDetails", "TypeOfShip"))
    main.add("tonnage", _values(path, el, "TonnageOfShipDetails", "TonnageOfShip"), quiet=True)
    for year in _values(path, el, "YearsBuilt", "YearBuilt"):
        main.add("buildDate", parse_dates(year) or None, original_value=year)
    owners = _values(path, el, "CurrentOwnerOperators", "CurrentOwnerOperator")
    main.add("notes", [f"Current owner/operator: {o}" for o in owners])


def _sanction(
    path: Path, source: str, main: StatementEntity, el: etree._Element, reference: str
) -> StatementEntity:
    """The Sanction entity: regime, measures, dates, statement of reasons and UN reference."""
    sanction = make_sanction(source, main, AUTHORITY, reference,
                             record_id=_value(path, el, "OFSIGroupID"),
                             unsc_id=_value(path, el, "UNReferenceNumber"))
    sanction.add("program", _value(path, el, "RegimeName"))
    imposed = _value(path, el, "SanctionsImposed")
    if imposed:
        sanction.add("provisions", [p.strip() for p in imposed.split("|") if p.strip()])
    if source_of := _value(path, el, "DesignationSource"):
        sanction.add("summary", f"Designation source: {source_of}")
    sanction.add("reason", _value(path, el, "UKStatementofReasons"))
    listed = _value(path, el, "DateDesignated")
    sanction.add("listingDate", _dates(path, el, listed, "DateDesignated"), original_value=listed)
    updated = _value(path, el, "LastUpdated")
    sanction.add("modifiedAt", _dates(path, el, updated, "LastUpdated"), original_value=updated)
    return sanction
