"""EU Financial Sanctions Files (FSF): the consolidated list XML ``xmlFullSanctionsList_1_1``.

The published file has a root ``export`` (attribute ``generationDate``) in the namespace
``http://eu.europa.ec/fpi/fsd/export`` (note ``.ec``, not ``.eu``; the namespace is not
checked, only the local names). Each ``sanctionEntity`` (attributes ``logicalId``,
``euReferenceNumber``, ``unitedNationId``, ``designationDate``, ``designationDetails``)
holds ``regulation`` (attributes ``programme``, ``numberTitle``, ``publicationDate``,
``entryIntoForceDate``; the URL is a child element ``publicationUrl``), ``subjectType``
(``code`` person/enterprise), ``nameAlias``, ``citizenship``, ``birthdate``,
``identification``, ``address`` and ``remark`` children, with the details in attributes.
The UN reference is published as ``unitedNationId`` (not ``unitedNationRegulationId``).

A person becomes a Person, an enterprise an Organization, identified by the EU reference
number (``EU.27.28``), or the ``logicalId`` when the list gives none. The EU marks no
primary name: the first strong ``nameAlias`` is the name, the other strong ones are
aliases and ``strong="false"`` ones are weak aliases. Citizenship → nationality;
``passport`` documents become Passport entities, other identifiers Identification ones;
each address an Address; one Sanction per record (programme, listing date, legal act).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from followthemoney import StatementEntity
from lxml import etree
from rigour.langs import iso_639_alpha3

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import (
    ParsedList,
    Record,
    clip,
    hashed_id,
    listing_id,
    make_entity,
    make_sanction,
)
from jointwatch.sources.countries import add_country, country_code
from jointwatch.sources.dates import parse_dates, parse_timestamp_date, year_range
from jointwatch.sources.xmlsafe import children, iter_elements, local, where

SOURCE = "eu_fsf"
AUTHORITY = "European Union"
_SCHEMAS = {
    "person": "Person",
    "enterprise": "Organization",
    "entity": "Organization",
    "organisation": "Organization",
    "vessel": "Vessel",
    "ship": "Vessel",
}
# identificationTypeCode → property of the listed entity that repeats the number
_ID_PROPS = {
    "passport": "passportNumber",
    "id": "idNumber",
    "regnumber": "registrationNumber",
    "swiftbic": "swiftBic",
    "imo": "imoNumber",
    "fiscalcode": "taxNumber",
    "taxid": "taxNumber",
}
_DOC_FLAGS = ("diplomatic", "knownExpired", "knownFalse", "reportedLost", "revokedByIssuer")


def parse_eu_list(path: Path, source: str = SOURCE) -> ParsedList:
    """A ParsedList streaming the records of an EU FSF consolidated list XML file."""
    elements = iter_elements(path, {"sanctionEntity"})
    try:
        _, root = next(elements)
    except StopIteration:
        raise ListFormatError(path, None, "no XML content") from None
    if local(root.tag) != "export":
        raise ListFormatError(path, where(root), "not an EU FSF list (root is not export)")
    generated = root.get("generationDate")
    published = parse_timestamp_date(generated)
    if generated and published is None:
        raise ListFormatError(path, where(root), f"unreadable generationDate {generated!r}")

    def records() -> Iterator[Record]:
        for _, element in elements:
            yield _parse_record(path, source, element)

    return ParsedList(
        source=source, format="eu", paths=(path,), published=published, records=records()
    )


def _attr(path: Path, el: etree._Element, name: str) -> str | None:
    """The clipped value of an attribute, or None when absent or blank."""
    return clip(path, where(el), el.get(name))


def _text(path: Path, el: etree._Element) -> str | None:
    """The clipped text of an element, or None."""
    return clip(path, where(el), el.text)


def _remarks(path: Path, el: etree._Element) -> list[str]:
    """The texts of the ``remark`` children of an element."""
    return [r for r in (_text(path, c) for c in children(el, "remark")) if r]


def _date(path: Path, el: etree._Element, name: str) -> list[str]:
    """ISO dates of a date attribute; an unreadable date is a format error."""
    value = _attr(path, el, name)
    if value is None:
        return []
    parsed = parse_dates(value)
    if not parsed:
        raise ListFormatError(path, where(el), f"unreadable {name} {value!r}")
    return parsed


def _parse_record(path: Path, source: str, el: etree._Element) -> Record:
    """The Record of one ``sanctionEntity``: the listed entity, its documents, addresses and sanction."""
    reference = _attr(path, el, "euReferenceNumber") or _attr(path, el, "logicalId")
    if reference is None:
        raise ListFormatError(
            path, where(el), "sanctionEntity without euReferenceNumber or logicalId"
        )
    subject = next(iter(children(el, "subjectType")), None)
    code = (_attr(path, subject, "code") or "").lower() if subject is not None else ""
    if not code:
        raise ListFormatError(path, where(el), f"{reference} has no subjectType code")
    schema = _SCHEMAS.get(code, "LegalEntity")
    main = make_entity(source, schema, listing_id(source, reference))
    record = Record(reference=reference, entities=[main])
    if schema == "LegalEntity":
        main.add("notes", f"subject type: {code}")

    _add_names(path, main, reference, children(el, "nameAlias"))
    main.add("topics", "sanction")
    main.add("notes", _remarks(path, el))
    for cit in children(el, "citizenship"):
        _add_country(path, main, "nationality" if schema == "Person" else "country", cit)
    for dob in children(el, "birthdate"):
        _add_birth(path, main, dob)
    for addr in children(el, "address"):
        record.entities.extend(_address(path, source, main, addr))
    for doc in children(el, "identification"):
        record.entities.extend(_document(path, source, main, doc))
    record.entities.append(_sanction(path, source, main, el, reference))
    return record


def _has(entity: StatementEntity, prop: str) -> bool:
    """Whether the entity's schema has the property."""
    return entity.schema.get(prop) is not None


def _add_names(
    path: Path, main: StatementEntity, reference: str, aliases: list[etree._Element]
) -> None:
    """Name, aliases, weak aliases and name parts from the ``nameAlias`` elements."""
    named = False
    ordered = sorted(aliases, key=lambda a: (a.get("strong") or "true").lower() == "false")
    for alias in ordered:
        parts = [_attr(path, alias, a) for a in ("firstName", "middleName", "lastName")]
        whole = _attr(path, alias, "wholeName") or " ".join(p for p in parts if p) or None
        if whole is None:
            continue
        strong = (_attr(path, alias, "strong") or "true").lower() != "false"
        prop = "name" if not named else ("alias" if strong else "weakAlias")
        named = True
        main.add(prop, whole, lang=_lang(alias))
        if main.schema.name == "Person" and strong:
            for part_prop, part in zip(("firstName", "middleName", "lastName"), parts, strict=False):
                main.add(part_prop, part)
            main.add("title", _attr(path, alias, "title"))
            main.add("position", _attr(path, alias, "function"))
            gender = _attr(path, alias, "gender")
            main.add("gender", gender, fuzzy=True, original_value=gender)
        elif (function := _attr(path, alias, "function")) is not None:
            main.add("notes", f"function: {function}")
        for remark in _remarks(path, alias):
            main.add("notes", f"Name {whole}: {remark}")
    if not named:
        raise ListFormatError(
            path, where(aliases[0]) if aliases else None, f"{reference} has no name"
        )


def _lang(alias: etree._Element) -> str | None:
    """The ISO 639-3 code of a ``nameLanguage`` (two-letter upper case in the list), if known."""
    code = (alias.get("nameLanguage") or "").strip().lower()
    return iso_639_alpha3(code) if code else None


def _add_country(path: Path, entity: StatementEntity, prop: str, el: etree._Element) -> None:
    """A country from ``countryIso2Code`` (``00`` means unknown), else ``countryDescription``."""
    code = _attr(path, el, "countryIso2Code")
    description = _attr(path, el, "countryDescription")
    if code and code != "00" and country_code(code):
        add_country(entity, prop, code)
    elif description and description.upper() != "UNKNOWN":
        add_country(entity, prop, description)


def _add_birth(path: Path, main: StatementEntity, el: etree._Element) -> None:
    """Birth date (full, year-only or a year range), place and country from a ``birthdate``."""
    circa = (_attr(path, el, "circa") or "false").lower() == "true"
    dates = _date(path, el, "birthdate")
    year, month, day = (_attr(path, el, a) for a in ("year", "monthOfYear", "dayOfMonth"))
    if not dates and year:
        dates = _date_parts(year, month, day)
        if not dates:
            raise ListFormatError(path, where(el), f"unreadable birth date {year}/{month}/{day}")
    start, end = _attr(path, el, "yearRangeFrom"), _attr(path, el, "yearRangeTo")
    if not dates and start and end:
        if not (start.isdigit() and end.isdigit()):
            raise ListFormatError(
                path, where(el), f"birth year range {start!r}-{end!r} is not numeric"
            )
        dates = year_range(int(start), int(end))
    for value in dates:
        main.add("birthDate", value, original_value=f"circa {value}" if circa else None)
    if main.schema.name != "Person":
        return
    place = ", ".join(p for p in (_attr(path, el, a) for a in ("place", "city", "region")) if p)
    main.add("birthPlace", place or None)
    _add_country(path, main, "birthCountry", el)
    for remark in _remarks(path, el):
        main.add("notes", f"Birth: {remark}")


def _date_parts(year: str, month: str | None, day: str | None) -> list[str]:
    """ISO date prefix from separate year, month and day numbers (month and day optional)."""
    if not year.isdigit() or any(p is not None and not p.isdigit() for p in (month, day)):
        return []
    text = year
    if month:
        text += f"-{int(month):02d}" + (f"-{int(day):02d}" if day else "")
    return parse_dates(text)


def _address(
    path: Path, source: str, main: StatementEntity, el: etree._Element
) -> list[StatementEntity]:
    """An Address entity for an ``address`` element, linked from the listed entity."""
    fields = {
        a: _attr(path, el, a) for a in ("street", "poBox", "place", "city", "region", "zipCode")
    }
    country = _attr(path, el, "countryDescription")
    if country and country.upper() == "UNKNOWN":
        country = None
    full = ", ".join(v for v in (*fields.values(), country) if v) or None
    remarks = _remarks(path, el)
    if not full:
        main.add("notes", [f"Address: {r}" for r in remarks])
        return []
    addr = make_entity(source, "Address", hashed_id(f"{main.id}-addr", full))
    addr.add("full", full)
    addr.add("street", fields["street"])
    addr.add("postOfficeBox", fields["poBox"])
    addr.add("city", fields["city"] or fields["place"])
    addr.add("postalCode", fields["zipCode"])
    addr.add("region", fields["region"])
    _add_country(path, addr, "country", el)
    addr.add("remarks", remarks)
    _add_country(path, main, "country", el)
    main.add("address", full)
    main.add("addressEntity", addr.id)
    return [addr]


def _document(
    path: Path, source: str, main: StatementEntity, el: etree._Element
) -> list[StatementEntity]:
    """A Passport or Identification entity for an ``identification`` element."""
    code = (_attr(path, el, "identificationTypeCode") or "").lower()
    number = _attr(path, el, "number") or _attr(path, el, "latinNumber")
    if number is None:
        return []
    is_passport = code == "passport"
    country = _attr(path, el, "countryIso2Code")
    doc_id = hashed_id(f"{main.id}-doc", code, number, country)
    doc = make_entity(source, "Passport" if is_passport else "Identification", doc_id)
    doc.add("holder", main.id)
    doc.add("number", number)
    doc.add("type", _attr(path, el, "identificationTypeDescription") or code or None)
    _add_country(path, doc, "country", el)
    doc.add("authority", _attr(path, el, "issuedBy"))
    flags = [f"flagged {f}" for f in _DOC_FLAGS if (el.get(f) or "").lower() == "true"]
    doc.add("summary", [*_remarks(path, el), *flags])
    if (latin := _attr(path, el, "latinNumber")) and latin != number:
        doc.add("number", latin)
    prop = _ID_PROPS.get(code, "idNumber")
    if _has(main, prop):
        main.add(prop, number)
    else:
        main.add("notes", f"{code or 'identifier'}: {number}")
    return [doc]


def _sanction(
    path: Path, source: str, main: StatementEntity, el: etree._Element, reference: str
) -> StatementEntity:
    """The Sanction entity for the listing: programme, listing date, legal acts and URLs."""
    sanction = make_sanction(source, main, AUTHORITY, reference,
                             record_id=_attr(path, el, "logicalId"),
                             unsc_id=_attr(path, el, "unitedNationId"))
    sanction.add("summary", _attr(path, el, "designationDetails"))
    published: list[str] = []
    amended: list[str] = []
    for reg in children(el, "regulation"):
        programme = _attr(path, reg, "programme")
        sanction.add("program", programme)
        sanction.add("programId", programme)
        main.add("programId", programme)
        sanction.add("provisions", _attr(path, reg, "numberTitle"))
        urls = [_text(path, u) for u in children(reg, "publicationUrl")]
        sanction.add("sourceUrl", [u for u in urls if u] or _attr(path, reg, "publicationUrl"))
        dates = _date(path, reg, "publicationDate")
        published.extend(dates)
        if (reg.get("regulationType") or "").lower() == "amendment":
            amended.extend(dates)
    listed = _date(path, el, "designationDate")
    sanction.add("listingDate", listed or sorted(published)[:1])
    if amended:
        sanction.add("modifiedAt", max(amended))
    return sanction
