"""One partner entry as one JSON object: the form every exchange carries (FtM JSON lines,
federation bundles) and the STIX extension maps from.

It is an FtM entity (``id``, ``schema``, ``properties``: any FtM reader takes it as it is)
with the official listings it is linked to and a ``jointwatch`` object of the labels that
travel: originator, version, status, distribution, TLP, handling, reason, expiry. Audiences
(member and group ids) never leave the server: they mean nothing anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from jointwatch.errors import InvalidInputError
from jointwatch.releasability import DISTRIBUTIONS, STATUSES, handling_codes, tlp_level
from jointwatch.sharing.entries import EntryInput
from jointwatch.store import StoredEntry

EXTENSION = "jointwatch"
MAX_VERSION = 2**31 - 1      # what every store's integer column holds


@dataclass(frozen=True)
class EntryRecord:
    """An entry read from an exchange: what to store, and the labels it came with."""

    ref: str
    data: EntryInput
    originator: str
    version: int
    status: str
    distribution: str        # as sent; the receiver decides what it becomes (downgrade, import rules)
    tlp: str
    handling: tuple[str, ...]
    reason: str
    expires_on: date | None
    # whether the record says under which TLP it was shared: an FtM line without a jointwatch
    # block (a member's own data, an OpenSanctions file) carries no marking to respect
    marked: bool = True


def to_record(entry: StoredEntry) -> dict[str, Any]:
    """The entry as one JSON object (FtM entity + ``jointwatch`` labels)."""
    labels = entry.labels
    record = {k: v for k, v in entry.entity.items() if k in ("id", "schema", "properties", "listings")}
    record[EXTENSION] = {
        "originator": entry.originator, "version": entry.version, "status": entry.status,
        "distribution": labels.distribution, "tlp": labels.tlp, "handling": list(labels.handling),
        "reason": labels.reason, "expires_on": labels.expires_on.isoformat() if labels.expires_on else None,
        "updated_at": entry.updated_at.isoformat(),
    }
    return record


def from_record(record: Any, where: str) -> EntryRecord:
    """An entry from one JSON object; InvalidInputError naming ``where`` (file and line, bundle and item)."""
    if not isinstance(record, dict):
        raise InvalidInputError(f"{where}: not a JSON object")
    ref, schema, properties = record.get("id"), record.get("schema"), record.get("properties")
    if not isinstance(ref, str) or not ref or len(ref) > 64:
        raise InvalidInputError(f"{where}: id must be text of 1 to 64 characters")
    if not isinstance(schema, str) or not isinstance(properties, dict):
        raise InvalidInputError(f"{where}: an FtM entity needs a schema and properties")
    listings = record.get("listings", [])
    if not isinstance(listings, list) or not all(isinstance(x, str) for x in listings):
        raise InvalidInputError(f"{where}: listings must be a list of text")
    labels = record.get(EXTENSION) or {}
    if not isinstance(labels, dict):
        raise InvalidInputError(f"{where}: {EXTENSION} must be an object")
    try:
        version = int(labels.get("version", 1))
        status = str(labels.get("status", "active"))
        distribution = str(labels.get("distribution", "originator"))
        if status not in STATUSES or distribution not in DISTRIBUTIONS or not 1 <= version <= MAX_VERSION:
            raise ValueError("status, distribution or version")
        expires = labels.get("expires_on")
        handling = labels.get("handling", [])
        if not isinstance(handling, list):
            raise ValueError("handling")
        return EntryRecord(
            ref=ref, data=EntryInput(schema, properties, tuple(listings)),
            originator=str(labels.get("originator", "")), version=version, status=status,
            distribution=distribution, tlp=tlp_level(str(labels.get("tlp", "amber"))),
            handling=handling_codes(str(h) for h in handling), reason=str(labels.get("reason", "")),
            expires_on=date.fromisoformat(expires) if expires else None, marked="tlp" in labels)
    except (ValueError, TypeError) as error:
        raise InvalidInputError(f"{where}: {EXTENSION} labels: {error}") from None
