"""Structured facts hidden in the Remarks field of OFAC's legacy CSV files.

OFAC packs birth dates, places, nationality, identifiers, gender, vessel data and weak
aliases into one free-text field: ``DOB 03 May 1982; alt. DOB 1981; POB Tunis, Tunisia;
Passport Z-050399; a.k.a. 'HOUDOUD, Abu Omar'.`` This module reads it back into
FollowTheMoney properties, following the labels in ``resources/ofac_remarks.yml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from followthemoney import StatementEntity

from jointwatch.resources import load_resource
from jointwatch.sources.base import hashed_id, make_entity
from jointwatch.sources.countries import add_country, country_code
from jointwatch.sources.dates import parse_dates

_AKA = re.compile(r"^(a\.k\.a\.|f\.k\.a\.|n\.k\.a\.)\s*'(.+)'$", re.DOTALL)
_AKA_PROP = {"a.k.a.": "weakAlias", "f.k.a.": "previousName", "n.k.a.": "alias"}
_ID_VALUE = re.compile(
    r"^(?P<number>.+?)(?:\s*\((?P<country>[^)]*)\))?"
    r"(?:\s+issued\s+(?P<issued>.+?))?(?:\s+expires\s+(?P<expires>.+?))?$",
    re.DOTALL,
)
_COUNTRY_PROPS = {"nationality", "citizenship", "flag"}
_DATE_PROPS = {"birthDate", "incorporationDate", "buildDate"}


@dataclass(frozen=True)
class _Label:
    label: str
    prop: str
    kind: str  # "identifier" | "attribute" | "sanction"
    schema: str = "Identification"


def _labels() -> list[_Label]:
    spec = load_resource("ofac_remarks")
    labels = [
        _Label(k, v["prop"], "identifier", v.get("schema", "Identification"))
        for k, v in spec["identifiers"].items()
    ]
    labels += [_Label(k, v, "attribute") for k, v in spec["attributes"].items()]
    labels += [_Label(k, "provisions", "sanction") for k in spec["sanction"]]
    return sorted(labels, key=lambda lab: len(lab.label), reverse=True)


_LABELS = _labels()
_BY_LABEL = {lab.label: lab for lab in _LABELS}
_LABEL_RE = re.compile("^(" + "|".join(re.escape(lab.label) for lab in _LABELS) + r")(?![A-Za-z0-9])")


_QUOTED_ALIAS = re.compile(r"[afn]\.k\.a\.\s*'.*?'(?=\.?\s*(?:;|$))", re.S)


def split_remarks(remarks: str) -> Iterator[str]:
    """The ``;``-separated parts of a remark, not splitting inside quoted aliases.

    Only an alias (``a.k.a. '…'``) is quoted; its closing quote is the one followed by
    ``;`` or the end. Apostrophes elsewhere (``Biqa' Valley``, ``O'BRIEN``) are plain text.
    """
    start = 0
    protected = [(m.start(), m.end()) for m in _QUOTED_ALIAS.finditer(remarks)]

    for i, char in enumerate(remarks):
        if char != ";":
            continue
        if any(lo <= i < hi for lo, hi in protected):
            continue
        part = remarks[start:i].strip()
        if part:
            yield part
        start = i + 1

    tail = remarks[start:].strip()
    if tail:
        yield tail


def _match_label(part: str) -> tuple[_Label, str] | None:
    m = _LABEL_RE.match(part)
    if m is None:
        return None
    return _BY_LABEL[m.group(1)], part[m.end():].strip(" :-")


def apply_remarks(
    remarks: str, main: StatementEntity, sanction: StatementEntity, source: str
) -> list[StatementEntity]:
    """Add the facts in an OFAC remark to ``main`` and ``sanction``; return new identity documents."""
    main.add("notes", remarks)
    documents: list[StatementEntity] = []
    for raw in split_remarks(remarks):
        part = raw.rstrip(".").strip() if not raw.endswith("'.") else raw[:-1]
        if part.startswith("alt. "):
            part = part[5:].strip()
        if m := _AKA.match(part):
            main.add(_AKA_PROP[m.group(1)], m.group(2).strip(), quiet=True)
            continue
        found = _match_label(part)
        if found is None or not found[1]:
            continue
        label, value = found
        if label.kind == "sanction":
            sanction.add("provisions", part)
        elif label.kind == "identifier":
            documents.extend(_identifier(label, value, main, source))
        else:
            _attribute(label.prop, value, main)
    return documents


def _attribute(prop: str, value: str, main: StatementEntity) -> None:
    if main.schema.get(prop) is None:
        return
    if prop in _COUNTRY_PROPS:
        add_country(main, prop, value)
    elif prop in _DATE_PROPS:
        main.add(prop, parse_dates(value) or None, quiet=True, original_value=value)
    elif prop == "imoNumber":
        main.add(prop, value, quiet=True, fuzzy=True)
    elif prop == "gender":
        main.add(prop, value, quiet=True, fuzzy=True, original_value=value)
    else:
        main.add(prop, value, quiet=True)


def _identifier(label: _Label, value: str, main: StatementEntity, source: str) -> list[StatementEntity]:
    m = _ID_VALUE.match(value)
    if m is None:
        return []
    number = m.group("number").strip()
    country = (m.group("country") or "").strip() or None
    if main.schema.get(label.prop) is not None:
        main.add(label.prop, number, quiet=True)
    if not main.schema.is_a("LegalEntity"):
        return []
    schema = label.schema if main.schema.is_a("Person") or label.schema != "Passport" else "Identification"
    doc = make_entity(source, schema, hashed_id(f"{main.id}-doc", label.label, number, country))
    doc.add("holder", main.id)
    doc.add("type", label.label)
    doc.add("number", number)
    if country:
        if country_code(country):
            add_country(doc, "country", country)
        else:
            doc.add("summary", country)
    for prop, key in (("startDate", "issued"), ("endDate", "expires")):
        if m.group(key):
            doc.add(prop, parse_dates(m.group(key)) or None, original_value=m.group(key))
    return [doc]
