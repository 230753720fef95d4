"""Partner entries as STIX 2.1 bundles (the ``stix2`` package), and back.

STIX has no person fields (birth date, nationality, passport), so every entry carries its
screening-grade identity data in a property extension that the bundle declares
(``extension-definition`` with a fixed id, ``EXTENSION_ID``): the FtM schema and properties,
and the same data flattened for readers that do not speak FtM (names, aliases, birth_dates,
nationalities, id_numbers, addresses, countries), the listings, originator, version, status
and labels. A person is an ``identity`` (individual), an organisation or company an
``identity`` (organization); vessels and aircraft, which STIX has no object for, are
``infrastructure`` with ``infrastructure_types`` ``vessel`` or ``aircraft`` (an open
vocabulary, so every STIX tool accepts them) and the same extension.

Markings: TLP 2.0 as the marking definitions OASIS publishes (fixed ids, carried in the
bundle since ``stix2`` has only TLP 1.0), and each handling code as a ``statement`` marking
definition with a fixed id. Ids are derived from the entry's ref (uuid5), so a re-export
updates the same objects; ``created`` and ``modified`` are the entry's first and latest
versions; a withdrawn entry is ``revoked``. Each entry's originator is an ``identity``
(organization) named in ``created_by_ref``.

Import reads a bundle with ``stix2.parse(..., allow_custom=True)``; objects with the extension
come back whole; a foreign tool's ``identity`` (individual or organization) that is not an
author (``created_by_ref``) becomes a Person or Organization with its name; every other object
is skipped and counted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import stix2
from stix2.exceptions import STIXError

from jointwatch.errors import InvalidInputError
from jointwatch.releasability import HANDLING_CODES, TLP_LEVELS, stricter_tlp
from jointwatch.sharing.exchange import (
    MAX_IMPORT_ENTRIES,
    NAMESPACE,
    ImportItem,
    check_size,
    loads,
)
from jointwatch.sharing.records import EXTENSION, from_record, to_record
from jointwatch.store import StoredEntry

STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
EXTENSION_ID = "extension-definition--4eeca78d-3edc-4aff-8c1b-9142cd175216"
EXTENSION_VERSION = "1.0.0"
EXTENSION_SCHEMA = "https://github.com/jointwatch/jointwatch/blob/main/docs/exchange.md#the-partner-entry-extension"
# the author of the extension definition: jointwatch itself (the same id on every server)
AUTHOR_IDENTITY = "identity--8c8e07cc-e9cf-4467-ba38-faeae8d09887"
FIXED_CREATED = "2026-12-01T00:00:00.000Z"

# TLP 2.0 in STIX 2.1: the marking definitions OASIS publishes (cti-stix-common-objects,
# extension-definition-specifications/tlp-2.0), ids and created fixed by them
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"
TLP2_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
# TLP 1.0 (predefined in STIX 2.1) read on import: white is TLP 2.0's clear
TLP1_IDS = {stix2.TLP_WHITE.id: "clear", stix2.TLP_GREEN.id: "green", stix2.TLP_AMBER.id: "amber",
            stix2.TLP_RED.id: "red"}
HANDLING_PREFIX = "jointwatch handling code "
HANDLING_IDS = {code: f"marking-definition--{uuid.uuid5(NAMESPACE, f'handling:{code}')}" for code in HANDLING_CODES}

# FtM properties flattened into the extension, for readers that do not speak FtM
FLAT = {
    "names": ("name",),
    "aliases": ("alias", "weakAlias", "previousName"),
    "birth_dates": ("birthDate",),
    "nationalities": ("nationality", "citizenship"),
    "id_numbers": ("idNumber", "passportNumber", "registrationNumber", "taxNumber", "imoNumber", "mmsi",
                   "serialNumber", "innCode", "ogrnCode", "leiCode", "swiftBic"),
    "addresses": ("address",),
    "countries": ("country", "jurisdiction", "flag"),
}
SDO_OF_SCHEMA = {"Person": ("identity", "individual"), "Organization": ("identity", "organization"),
                 "Company": ("identity", "organization"), "LegalEntity": ("identity", "organization"),
                 "Vessel": ("infrastructure", "vessel"), "Airplane": ("infrastructure", "aircraft")}


@lru_cache(maxsize=250_000)  # a TAXII page request derives the id of every entry of its collection
def stix_id(kind: str, ref: str) -> str:
    """The STIX id of the entry ``ref`` as a ``kind`` object: the same on every export."""
    return f"{kind}--{uuid.uuid5(NAMESPACE, f'entry:{ref}')}"


def originator_id(originator: str) -> str:
    return f"identity--{uuid.uuid5(NAMESPACE, f'originator:{originator}')}"


def _timestamp(value: datetime) -> str:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def definitions() -> list[Any]:
    """The objects every bundle declares: jointwatch's identity, the extension, TLP 2.0 and handling markings."""
    author = stix2.v21.Identity(id=AUTHOR_IDENTITY, name="jointwatch", identity_class="system",
                                created=FIXED_CREATED, modified=FIXED_CREATED)
    extension = stix2.v21.ExtensionDefinition(
        id=EXTENSION_ID, created_by_ref=AUTHOR_IDENTITY, created=FIXED_CREATED, modified=FIXED_CREATED,
        name="jointwatch partner entry", version=EXTENSION_VERSION, extension_types=["property-extension"],
        schema=EXTENSION_SCHEMA,
        description="Screening-grade identity data of a watchlist entry shared between partners: the "
                    "FollowTheMoney schema and properties, the same flattened, listings, originator, "
                    "version, status and sharing labels.")
    tlp = [stix2.v21.MarkingDefinition(id=TLP2_IDS[level], created=TLP2_CREATED, name=f"TLP:{level.upper()}",
                                       extensions={TLP2_EXTENSION: {"extension_type": "property-extension",
                                                                    "tlp_2_0": level}})
           for level in TLP_LEVELS]
    handling = [stix2.v21.MarkingDefinition(id=HANDLING_IDS[code], created=FIXED_CREATED, name=code,
                                            definition_type="statement",
                                            definition={"statement": f"{HANDLING_PREFIX}{code}: {text}"})
                for code, text in HANDLING_CODES.items()]
    return [author, extension, *tlp, *handling]


def _flattened(properties: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, names in FLAT.items():
        values = [v for name in names for v in properties.get(name, [])]
        if values:
            out[key] = list(dict.fromkeys(values))
    return out


def entry_object(entry: StoredEntry) -> Any:
    """The entry as one STIX object (``identity`` or ``infrastructure``) with the extension."""
    record = to_record(entry)
    labels = record.pop(EXTENSION)
    properties: dict[str, list[str]] = record["properties"]
    extension = {"extension_type": "property-extension", "ref": entry.ref, "schema": entry.schema,
                 "properties": properties, **_flattened(properties), "listings": record.get("listings", []),
                 **{k: v for k, v in labels.items() if k != "updated_at" and v is not None}}
    kind, detail = SDO_OF_SCHEMA[entry.schema]
    common: dict[str, Any] = {
        "id": stix_id(kind, entry.ref), "name": entry.caption, "created": _timestamp(entry.created_at),
        "modified": _timestamp(entry.updated_at), "created_by_ref": originator_id(entry.originator),
        "revoked": entry.status == "withdrawn",
        "object_marking_refs": [TLP2_IDS[entry.labels.tlp], *(HANDLING_IDS[h] for h in entry.labels.handling)],
        "labels": ["partner-entry", *entry.labels.handling],
        "extensions": {EXTENSION_ID: extension}}
    notes = properties.get("notes")
    if notes:
        common["description"] = "\n".join(notes)
    listings = record.get("listings", [])
    if listings:
        common["external_references"] = [{"source_name": listing.partition(":")[0],
                                          "external_id": listing.partition(":")[2]} for listing in listings]
    if kind == "identity":
        return stix2.v21.Identity(identity_class=detail, **common)
    return stix2.v21.Infrastructure(infrastructure_types=[detail], **common)


def originators(names: Iterable[str]) -> list[Any]:
    """The author identity of each originator named, once each."""
    return [stix2.v21.Identity(id=originator_id(name), name=name, identity_class="organization",
                               created=FIXED_CREATED, modified=FIXED_CREATED) for name in sorted(set(names))]


def stix_bundle(entries: Sequence[StoredEntry]) -> str:
    """One STIX 2.1 bundle (JSON text) of ``entries`` with every definition they refer to."""
    objects = [*definitions(), *originators(e.originator for e in entries), *(entry_object(e) for e in entries)]
    bundle_id = f"bundle--{uuid.uuid5(NAMESPACE, 'bundle:' + ','.join(sorted(e.ref for e in entries)))}"
    return str(stix2.v21.Bundle(objects=objects, id=bundle_id, allow_custom=True).serialize())


# -- import ---------------------------------------------------------------------------------

def _tlp_and_handling(obj: Mapping[str, Any], markings: Mapping[str, Mapping[str, Any]]) -> tuple[str | None,
                                                                                                   list[str]]:
    """The strictest TLP and the handling codes among the object's markings (None: no TLP)."""
    tlp: str | None = None
    handling: list[str] = []
    by_handling_id = {v: k for k, v in HANDLING_IDS.items()}
    by_tlp_id = {**{v: k for k, v in TLP2_IDS.items()}, **TLP1_IDS}
    for ref in obj.get("object_marking_refs", []):
        level = by_tlp_id.get(ref)
        marking = markings.get(ref, {})
        if level is None:
            extension = marking.get("extensions", {}).get(TLP2_EXTENSION, {})
            level = extension.get("tlp_2_0") if isinstance(extension, Mapping) else None
        if isinstance(level, str) and level in TLP_LEVELS:
            tlp = level if tlp is None else stricter_tlp(tlp, level)
            continue
        code = by_handling_id.get(ref)
        statement = marking.get("definition", {}).get("statement", "") if marking.get("definition_type") == \
            "statement" else ""
        if code is None and isinstance(statement, str) and statement.startswith(HANDLING_PREFIX):
            code = statement[len(HANDLING_PREFIX):].partition(":")[0]
        if code in HANDLING_CODES:
            handling.append(code)
    return tlp, handling


def _record_of(obj: Mapping[str, Any], authors: Mapping[str, str], markings: Mapping[str, Mapping[str, Any]],
               where: str) -> tuple[str, dict[str, Any]] | None:
    """The key and the JSON record (``records`` form) of one STIX object, or None to skip it."""
    extension = obj.get("extensions", {}).get(EXTENSION_ID)
    tlp, handling = _tlp_and_handling(obj, markings)
    status = "withdrawn" if obj.get("revoked") else "active"
    if extension is not None:
        if not isinstance(extension, Mapping):
            raise InvalidInputError(f"{where}: the jointwatch extension must be an object")
        key = extension.get("ref")
        if not isinstance(key, str) or not key or len(key) > 64:
            raise InvalidInputError(f"{where}: the extension's ref must be text of 1 to 64 characters")
        labels = {k: extension[k] for k in ("originator", "version", "distribution", "reason", "expires_on")
                  if k in extension}
        return key, {"id": key, "schema": extension.get("schema"), "properties": extension.get("properties"),
                     "listings": extension.get("listings", []),
                     EXTENSION: {**labels, "status": status, "tlp": tlp or extension.get("tlp", "amber"),
                                 "handling": handling or extension.get("handling", [])}}
    if obj.get("type") == "identity" and obj.get("identity_class") in ("individual", "organization") \
            and obj["id"] not in authors:
        schema = "Person" if obj["identity_class"] == "individual" else "Organization"
        properties: dict[str, list[str]] = {"name": [str(obj.get("name", ""))]}
        if obj.get("description"):
            properties["notes"] = [str(obj["description"])]
        return str(obj["id"]), {"id": str(obj["id"]), "schema": schema, "properties": properties,
                                EXTENSION: {"originator": authors.get(str(obj.get("created_by_ref")), ""),
                                            "status": status, "tlp": tlp or "amber", "handling": handling}}
    return None


def read_stix_bundle(data: bytes, name: str) -> tuple[list[ImportItem], dict[str, int]]:
    """Records from one STIX 2.1 bundle, and the objects skipped by type; InvalidInputError naming
    ``name`` and the object's index for anything ``stix2`` or the extension's checks refuse."""
    check_size(data, name)
    raw = loads(data, name)
    if not isinstance(raw, dict) or raw.get("type") != "bundle" or not isinstance(raw.get("objects", []), list):
        raise InvalidInputError(f"{name}: not a STIX 2.1 bundle (an object of type 'bundle' with 'objects')")
    objects: list[Any] = raw.get("objects", [])
    if len(objects) > MAX_IMPORT_ENTRIES + 1000:
        raise InvalidInputError(f"{name}: more than {MAX_IMPORT_ENTRIES:,} objects")
    parsed: list[dict[str, Any]] = []
    for index, obj in enumerate(objects):
        where = f"{name} object {index}"
        if not isinstance(obj, dict) or obj.get("spec_version", "2.1") != "2.1":
            raise InvalidInputError(f"{where}: not a STIX 2.1 object")
        try:
            stix2.parse(obj, allow_custom=True, version="2.1")
        except (STIXError, ValueError, TypeError, KeyError, RecursionError) as error:
            raise InvalidInputError(f"{where}: {str(error)[:300]}") from None
        parsed.append(obj)
    authors = {str(o["id"]): str(o.get("name", "")) for o in parsed if o.get("type") == "identity"
               and any(p.get("created_by_ref") == o["id"] for p in parsed)}
    markings = {str(o["id"]): o for o in parsed if o.get("type") == "marking-definition"}
    latest: dict[str, tuple[str, int, dict[str, Any]]] = {}
    skipped: dict[str, int] = {}
    for index, obj in enumerate(parsed):
        where = f"{name} object {index}"
        found = _record_of(obj, authors, markings, where)
        if found is None:
            skipped[str(obj.get("type"))] = skipped.get(str(obj.get("type")), 0) + 1
            continue
        key, record = found
        modified = str(obj.get("modified", ""))
        if key not in latest or modified >= latest[key][0]:  # several versions of one object: the newest
            latest[key] = (modified, index, record)
    items = []
    for key, (_, index, record) in sorted(latest.items(), key=lambda kv: kv[1][1]):
        where = f"{name} object {index}"
        items.append(ImportItem(key, from_record(record, where), where))
    return items, skipped
