"""US Treasury OFAC SDN list, legacy XML format (``sdn.xml``, root ``sdnList``).

Each ``sdnEntry`` becomes a Person (Individual), Organization (Entity), Vessel or Airplane
(Aircraft), identified by ``listing_id(source, uid)`` – the same id the CSV parser gives the same
uid of the same source, so XML and CSV versions of the list diff against each other. Next to it: one Sanction
(authority, uid, programs, "…-"/"…:" statements as provisions), a Passport or Identification
per identity document, a CryptoWallet per digital currency address and an Address per address.

Decisions:
- ``name`` is "firstName lastName" (``Abdul Rahman YASIN``); ``firstName``/``lastName`` are
  kept on a Person. The CSV's "LAST, First" is OFAC's sort order, not another name, so it is
  not added as an alias (it would double every screening hit). The CSV parser should turn
  an individual's "LAST, First" into "First LAST" so both formats give the same name.
- Aliases: category weak → weakAlias (whatever the type); f.k.a. → previousName; a.k.a. and
  n.k.a. → alias. The XML ``title`` is mostly a position ("Minister of Finance") → position.
- ``idList`` entries that are attributes, not documents, go on the listed entity (IMO number
  as ``IMO9187629``, MMSI, former flags, gender, SWIFT/BIC, e-mail, website, aircraft serial
  and tail numbers …); passports → Passport + passportNumber; everything else with a number
  → Identification + idNumber (SSN → socialSecurityNumber, tax/registration numbers likewise).
- Nothing is dropped silently: a value FollowTheMoney cannot type (flag "None Identified",
  birth date "circa 01 Jan 1961" variants it cannot read) is kept in ``notes``.
- Dependent ids are stable across formats: addresses use OFAC's address uid (the CSV's
  ``add_num``), documents hash (idType, idNumber, idCountry) under ``<main id>-doc``.
- Tonnages lose their thousands separators ("99,144" → "99144").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from followthemoney import StatementEntity
from followthemoney.types import registry
from lxml import etree

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import (
    ParsedList,
    Record,
    clip,
    hashed_id,
    listing_id,
    make_entity,
    make_id,
    make_sanction,
)
from jointwatch.sources.countries import country_code
from jointwatch.sources.dates import parse_dates
from jointwatch.sources.xmlsafe import children, iter_elements, local, text, texts, where

SOURCE = "us_ofac_sdn"
FORMAT = "ofac-xml"
AUTHORITY = "US Treasury OFAC"
_SCHEMAS = {"individual": "Person", "entity": "Organization", "vessel": "Vessel",
            "aircraft": "Airplane"}
# idType (lower case) → property of the listed entity; no document entity is made.
_ID_PROPS = {
    "vessel registration identification": "imoNumber",
    "mmsi": "mmsi",
    "former vessel flag": "pastFlags",
    "gender": "gender",
    "swift/bic": "swiftBic",
    "email address": "email",
    "website": "website",
    "organization established date": "incorporationDate",
    "organization type:": "sector",
    "aircraft manufacturer's serial number (msn)": "serialNumber",
    "aircraft tail number": "registrationNumber",
    "aircraft model": "model",
    "aircraft manufacture date": "buildDate",
}
# idType (lower case) → property of the listed entity that repeats a document's number.
_DOC_PROPS = {
    "ssn": "socialSecurityNumber",
    "tax id no.": "taxNumber",
    "registration id": "registrationNumber",
    "registration number": "registrationNumber",
}
_WALLET = "digital currency address - "
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
_IMO = re.compile(r"^(?:IMO)?\s*(\d{7})$", re.IGNORECASE)


def parse_ofac_xml(path: Path, source: str = SOURCE) -> ParsedList:
    """Open an OFAC ``sdn.xml`` file for streaming its records, publication date read first."""
    elements = iter_elements(path, {"publshInformation", "sdnEntry"})
    try:
        _, root = next(elements)
    except StopIteration:
        raise ListFormatError(path, None, "no XML content") from None
    if local(root.tag) != "sdnList":
        raise ListFormatError(path, where(root), "not an OFAC SDN XML list (root is not sdnList)")
    published: date | None = None
    pending: etree._Element | None = None
    for kind, element in elements:
        if kind == "publshInformation":
            published = _publish_date(path, element)
        else:
            pending = element  # stays intact until the generator is advanced again
        break

    def records() -> Iterator[Record]:
        seen: set[str] = set()
        if pending is not None:
            yield _checked(path, source, pending, seen)
        for kind, element in elements:
            if kind == "sdnEntry":
                yield _checked(path, source, element, seen)

    return ParsedList(source=source, format=FORMAT, paths=(path,), published=published,
                      records=records())


def _publish_date(path: Path, el: etree._Element) -> date | None:
    """The publication date in ``publshInformation/Publish_Date`` (MM/DD/YYYY), if any."""
    value = _value(path, el, "Publish_Date")
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%m/%d/%Y").date()
    except ValueError:
        raise ListFormatError(path, where(el), f"unreadable Publish_Date {value!r}") from None


def _value(path: Path, el: etree._Element, *steps: str) -> str | None:
    """The bounded, stripped text at ``steps`` below ``el``, or None."""
    return clip(path, where(el), text(el, *steps))


def _items(el: etree._Element, list_tag: str, item_tag: str) -> list[etree._Element]:
    """The items of a ``…List`` child (``akaList/aka``)."""
    return [item for lst in children(el, list_tag) for item in children(lst, item_tag)]


def _full_name(path: Path, el: etree._Element) -> str | None:
    """"firstName lastName" of an entry or alias element."""
    parts = [_value(path, el, "firstName"), _value(path, el, "lastName")]
    return " ".join(p for p in parts if p) or None


def _checked(path: Path, source: str, el: etree._Element, seen: set[str]) -> Record:
    """The record of one entry, refusing a uid already seen in the file."""
    record = _parse_entry(path, source, el)
    if record.reference in seen:
        raise ListFormatError(path, where(el), f"uid {record.reference} appears twice")
    seen.add(record.reference)
    return record


def _parse_entry(path: Path, source: str, el: etree._Element) -> Record:
    """The record for one ``sdnEntry``: listed entity, addresses, documents, sanction."""
    uid = _value(path, el, "uid")
    if uid is None:
        raise ListFormatError(path, where(el), "sdnEntry without uid")
    sdn_type = _value(path, el, "sdnType")
    schema = _SCHEMAS.get((sdn_type or "").lower())
    if schema is None:
        raise ListFormatError(path, where(el), f"uid {uid}: unknown sdnType {sdn_type!r}")
    name = _full_name(path, el)
    if name is None:
        raise ListFormatError(path, where(el), f"uid {uid} has no name")
    main = make_entity(source, schema, listing_id(source, uid))
    record = Record(reference=uid, entities=[main])
    main.add("name", name)
    main.add("topics", "sanction")
    if schema == "Person":
        main.add("firstName", _value(path, el, "firstName"))
        main.add("lastName", _value(path, el, "lastName"))
    if title := _value(path, el, "title"):
        _put_or_note(main, "position", title, "Title")
    main.add("notes", _value(path, el, "remarks"))

    for aka in _items(el, "akaList", "aka"):
        _add_alias(path, main, aka)
    for tag, item, prop in (("nationalityList", "nationality", "nationality"),
                            ("citizenshipList", "citizenship", "citizenship")):
        for node in _items(el, tag, item):
            if country := _value(path, node, "country"):
                _put_or_note(main, prop if main.schema.get(prop) else "country", country, prop)
    for node in _items(el, "dateOfBirthList", "dateOfBirthItem"):
        if dob := _value(path, node, "dateOfBirth"):
            _put_or_note(main, "birthDate", dob, "Date of birth")
    for node in _items(el, "placeOfBirthList", "placeOfBirthItem"):
        if pob := _value(path, node, "placeOfBirth"):
            _put_or_note(main, "birthPlace", pob, "Place of birth")
    for info in children(el, "vesselInfo"):
        _add_vessel_info(path, main, info)

    provisions: list[str] = []
    for addr in _items(el, "addressList", "address"):
        record.entities.extend(_address(path, source, main, addr))
    for node in _items(el, "idList", "id"):
        record.entities.extend(_identifier(path, source, main, node, provisions))
    programs = [p for p in (clip(path, where(el), t) for t in texts(el, "programList", "program"))
                if p]
    record.entities.append(_sanction(source, main, uid, programs, provisions))
    return record


def _add_alias(path: Path, main: StatementEntity, aka: etree._Element) -> None:
    """Add one ``aka`` to the listed entity as alias, weakAlias or previousName."""
    name = _full_name(path, aka)
    if name is None:
        return
    kind = (_value(path, aka, "type") or "a.k.a.").lower()
    if (_value(path, aka, "category") or "strong").lower() == "weak":
        main.add("weakAlias", name)
    elif kind == "f.k.a.":
        main.add("previousName", name)
    else:
        main.add("alias", name)


def _add_vessel_info(path: Path, main: StatementEntity, info: etree._Element) -> None:
    """Add call sign, vessel type, flag, owner and tonnages from ``vesselInfo``."""
    for tag, prop in (("callSign", "callSign"), ("vesselType", "type"), ("vesselFlag", "flag"),
                      ("tonnage", "tonnage"), ("grossRegisteredTonnage", "grossRegisteredTonnage")):
        if value := _value(path, info, tag):
            _put_or_note(main, prop, value, tag)
    if owner := _value(path, info, "vesselOwner"):
        main.add("notes", f"Vessel owner: {owner}")


def _address(path: Path, source: str, main: StatementEntity,
             el: etree._Element) -> list[StatementEntity]:
    """An Address entity for one ``address`` element, linked from the listed entity."""
    tags = ("address1", "address2", "address3", "city", "stateOrProvince", "postalCode",
            "country")
    parts = {tag: _value(path, el, tag) for tag in tags}
    full = ", ".join(v for v in parts.values() if v)
    if not full:
        return []
    addr_uid = _value(path, el, "uid")
    addr_id = (make_id(main.id or "", "addr", addr_uid) if addr_uid
               else hashed_id(f"{main.id}-addr", full))
    addr = make_entity(source, "Address", addr_id)
    addr.add("full", full)
    addr.add("street", parts["address1"])
    addr.add("street2", ", ".join(v for v in (parts["address2"], parts["address3"]) if v) or None)
    addr.add("city", parts["city"])
    addr.add("state", parts["stateOrProvince"])
    addr.add("postalCode", parts["postalCode"])
    if country := parts["country"]:
        _put_or_note(addr, "country", country, "country")
        _put_or_note(main, "country", country, "country")
    main.add("address", full)
    main.add("addressEntity", addr.id)
    return [addr]


def _identifier(path: Path, source: str, main: StatementEntity, el: etree._Element,
                provisions: list[str]) -> list[StatementEntity]:
    """The entities (document, wallet) or properties one ``id`` element stands for."""
    id_type = _value(path, el, "idType") or ""
    number = _value(path, el, "idNumber")
    kind = id_type.lower()
    if number is None:
        if id_type:
            main.add("notes", id_type)
        return []
    if kind in _ID_PROPS:
        _put_or_note(main, _ID_PROPS[kind], number, id_type)
        return []
    if kind.endswith(("-", ":")):
        provisions.append(f"{id_type} {number}")
        return []
    if not main.schema.is_a("LegalEntity"):  # a vessel or aircraft holds no documents
        main.add("notes", f"{id_type}: {number}")
        return []
    if kind.startswith(_WALLET):
        wallet = make_entity(source, "CryptoWallet",
                             hashed_id(f"{main.id}-wallet", kind, number))
        wallet.add("publicKey", number)
        wallet.add("currency", id_type[len(_WALLET):].strip())
        wallet.add("holder", main.id)
        wallet.add("topics", "sanction")
        return [wallet]
    country = _value(path, el, "idCountry")
    is_passport = "passport" in kind
    doc = make_entity(source, "Passport" if is_passport else "Identification",
                      hashed_id(f"{main.id}-doc", id_type, number, country))
    doc.add("holder", main.id)
    doc.add("type", id_type or None)
    doc.add("number", number)
    if country:
        _put_or_note(doc, "country", country, "country")
    for tag, prop in (("issueDate", "startDate"), ("expirationDate", "endDate")):
        if value := _value(path, el, tag):
            _put_or_note(doc, prop, value, tag)
    if is_passport:
        doc.add("passportNumber", number)
    prop = "passportNumber" if is_passport else _DOC_PROPS.get(kind, "idNumber")
    if main.schema.get(prop):  # the document entity carries the number either way
        main.add(prop, number)
    return [doc]


def _sanction(source: str, main: StatementEntity, uid: str, programs: list[str],
              provisions: list[str]) -> StatementEntity:
    """The Sanction entity of one listing (OFAC gives no listing date in this format)."""
    sanction = make_sanction(source, main, AUTHORITY, uid)
    sanction.add("country", "us")
    sanction.add("program", programs)
    sanction.add("provisions", provisions)
    return sanction


def _put_or_note(entity: StatementEntity, prop: str, value: str, label: str) -> None:
    """Add ``value`` typed as ``prop``; a value that cannot be typed goes to notes instead."""
    prop_obj = entity.schema.get(prop)
    cleaned: list[str] = []
    if prop_obj is not None:
        if prop_obj.type == registry.date:
            cleaned = parse_dates(value)
        elif prop_obj.type == registry.country:
            code = country_code(value)
            cleaned = [code] if code else []
        elif prop_obj.type == registry.number and _THOUSANDS.match(value):
            cleaned = [value.replace(",", "")]
        elif prop == "imoNumber" and (m := _IMO.match(value)):
            cleaned = [f"IMO{m.group(1)}"]
        else:
            one = prop_obj.type.clean(value, fuzzy=True, format=prop_obj.format)
            cleaned = [one] if one else []
    if not cleaned:
        if entity.schema.get("notes"):
            entity.add("notes", f"{label}: {value}")
        else:
            entity.add("summary", f"{label}: {value}")
        return
    original = None if cleaned == [value] else value
    entity.add(prop, cleaned, cleaned=True, original_value=original)
