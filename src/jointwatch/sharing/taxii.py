"""TAXII 2.1 collections of partner entries, one set per caller: what the API serves under /taxii2.

A member sees, read-only: one collection per sharing group it is in (the entries shared to that
group), one ``server`` collection (entries shared to every member of this server or to
connected servers), and ``mine`` (its own entries, whatever their labels). Each holds only
what the member may pass on (``releasability.may_pass_on``, as ``exchange.exportable``):
TAXII feeds other tools (OpenCTI, MISP), so it is an export like any other.

A collection's objects are the STIX objects of its entries (``stix.entry_object``) after the
definitions they refer to (jointwatch's identity, the extension definition, TLP 2.0 and
handling markings) and their originators' identities. An entry is *added* to a collection
whenever it changes (``date_added`` is its latest version's time), so ``added_after`` gives
what changed since the last pull, withdrawals included (``revoked``). Pages are cut by a
``next`` token that carries the last object's place in that order, so an entry that changes
while a client pages is sent again later, never skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jointwatch.errors import InvalidInputError, NotFoundError
from jointwatch.releasability import may_pass_on
from jointwatch.sharing.exchange import NAMESPACE
from jointwatch.sharing.stix import (
    SDO_OF_SCHEMA,
    STIX_MEDIA_TYPE,
    definitions,
    entry_object,
    originators,
    stix_id,
)
from jointwatch.store import (
    Engine,
    EntryLabels,
    StoredEntry,
    all_entry_labels,
    list_groups,
    load_entries,
    recipient_of,
)

MAX_PAGE = 1000         # objects per page, whatever the client asks
DEFAULT_PAGE = 100


@dataclass(frozen=True)
class CollectionInfo:
    """A TAXII collection resource (read-only) and which entries it holds."""

    id: str
    title: str
    description: str
    kind: str               # mine, server, group
    group_id: int | None = None

    def resource(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description, "can_read": True,
                "can_write": False, "media_types": [STIX_MEDIA_TYPE]}


@dataclass
class TaxiiObject:
    """An object of a collection with its place in the collection's order. The STIX object is
    built only when asked for (``obj``): filters and pages need only the id, type and times, so a
    page of 100 out of 100,000 entries builds 100 objects."""

    date_added: str         # STIX timestamp, millisecond precision
    rank: int               # definitions 0, originators 1, entries 2: definitions first at one time
    id: str
    type: str
    version: str            # modified (or created), millisecond precision: what match[version] compares
    source: Any = field(repr=False)     # a stix2 object, or the entry (EntryLabels until load_page)
    _built: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.date_added, self.rank, self.id)

    @property
    def obj(self) -> dict[str, Any]:
        if self._built is None:
            if isinstance(self.source, EntryLabels):
                raise RuntimeError("load_page first: the entry is not loaded")
            source = entry_object(self.source) if isinstance(self.source, StoredEntry) else self.source
            self._built = dict(json.loads(source.serialize()))
        return self._built


@dataclass(frozen=True)
class Page:
    objects: list[TaxiiObject]
    more: bool
    next: str | None


def _collection_id(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"taxii:{name}"))


def collections_for(engine: Engine, member_id: int) -> list[CollectionInfo]:
    """The collections ``member_id`` may read: its sharing groups', ``server`` and ``mine``."""
    out = [CollectionInfo(_collection_id(f"group:{g.id}"), f"group {g.name}",
                          f"Partner entries shared with sharing group {g.name!r} that you may pass on.",
                          "group", g.id)
           for g in list_groups(engine) if member_id in g.member_ids]
    out.append(CollectionInfo(_collection_id("server"), "server",
                              "Partner entries shared with every member of this server (or with connected "
                              "servers) that you may pass on.", "server"))
    out.append(CollectionInfo(_collection_id("mine"), "mine", "Your member's own partner entries.", "mine"))
    return out


def collection_for(engine: Engine, member_id: int, collection_id: str) -> CollectionInfo:
    """One collection ``member_id`` may read; NotFoundError alike for a missing one and another's."""
    for info in collections_for(engine, member_id):
        if info.id == collection_id:
            return info
    raise NotFoundError(f"no collection {collection_id!r}")


def _entries(engine: Engine, member_id: int, info: CollectionInfo) -> list[EntryLabels]:
    """The collection's entries, labels only (cheap for 100,000): the page's are loaded whole later."""
    recipient = recipient_of(engine, member_id)
    entries = [e for e in all_entry_labels(engine) if may_pass_on(e.member_id, e.labels, recipient)]
    if info.kind == "mine":
        return [e for e in entries if e.member_id == member_id]
    if info.kind == "server":
        return [e for e in entries if e.labels.distribution in ("server", "connected")]
    return [e for e in entries if e.labels.distribution == "group" and info.group_id in e.labels.audience]


def stix_time(value: datetime) -> str:
    """A STIX/TAXII timestamp at millisecond precision (what ``added_after`` compares against)."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def collection_objects(engine: Engine, member_id: int, info: CollectionInfo) -> list[TaxiiObject]:
    """Every object of the collection as ``member_id`` may read it, in the collection's order."""
    entries = _entries(engine, member_id, info)
    if not entries:
        return []
    added = {e.ref: stix_time(e.updated_at) for e in entries}
    first = min(added.values())
    out = [TaxiiObject(first, 0, d.id, d.type, stix_time(d.get("modified", d.created)), d) for d in definitions()]
    first_of: dict[str, str] = {}
    for e in entries:
        first_of[e.originator] = min(first_of.get(e.originator, added[e.ref]), added[e.ref])
    out += [TaxiiObject(first_of[str(o.name)], 1, o.id, o.type, stix_time(o.modified), o)
            for o in originators(e.originator for e in entries)]
    for e in entries:
        kind = SDO_OF_SCHEMA[e.schema][0]
        out.append(TaxiiObject(added[e.ref], 2, stix_id(kind, e.ref), kind, added[e.ref], e))
    return sorted(out, key=lambda o: o.key)


def parse_time(text: str, name: str) -> str:
    """A timestamp from a query, as a millisecond STIX timestamp; InvalidInputError naming ``name``."""
    try:
        return stix_time(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError):  # overflow: a time at an end of the calendar, shifted to UTC past it
        raise InvalidInputError(f"{name}: {text[:40]!r} is not a timestamp (2026-01-31T12:00:00.000Z)") from None


def _token(obj: TaxiiObject) -> str:
    date_added, rank, object_id = obj.key
    return base64.urlsafe_b64encode(f"{date_added}|{rank}|{object_id}".encode()).decode().rstrip("=")


def _after_token(token: str) -> tuple[str, int, str]:
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        date_added, rank, object_id = text.split("|")
        return date_added, int(rank), object_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInputError("next: not a token this server gave") from None


def select_page(objects: Sequence[TaxiiObject], *, added_after: str | None = None, ids: Sequence[str] = (),
                types: Sequence[str] = (), versions: Sequence[str] = (), spec_versions: Sequence[str] = (),
                limit: int | None = None, next_token: str | None = None) -> Page:
    """The page of ``objects`` the TAXII filters ask for (``match[version]``: first, last and all are the
    one version held; a timestamp matches ``modified``)."""
    chosen = list(objects)
    if added_after is not None:
        chosen = [o for o in chosen if o.date_added > added_after]
    if ids:
        chosen = [o for o in chosen if o.id in ids]
    if types:
        chosen = [o for o in chosen if o.type in types]
    stamps = [v for v in versions if v not in ("first", "last", "all")]
    if stamps:
        wanted = {parse_time(v, "match[version]") for v in stamps}
        chosen = [o for o in chosen if o.version in wanted]
    if spec_versions and "2.1" not in spec_versions:
        chosen = []
    if next_token:
        after = _after_token(next_token)
        chosen = [o for o in chosen if o.key > after]
    size = min(max(limit or DEFAULT_PAGE, 1), MAX_PAGE)
    page, more = chosen[:size], len(chosen) > size
    return Page(page, more, _token(page[-1]) if more else None)


def load_page(engine: Engine, member_id: int, objects: Sequence[TaxiiObject]) -> list[TaxiiObject]:
    """The page's objects with their entries loaded whole, in one query; an entry whose labels
    changed since the page was cut so that the member may no longer pass it on is left out."""
    ids = [o.source.id for o in objects if isinstance(o.source, EntryLabels)]
    loaded = {e.id: e for e in load_entries(engine, ids)} if ids else {}
    recipient = recipient_of(engine, member_id)
    out = []
    for o in objects:
        if isinstance(o.source, EntryLabels):
            entry = loaded.get(o.source.id)
            if entry is None or not may_pass_on(entry.member_id, entry.labels, recipient):
                continue
            o.source = entry
        out.append(o)
    return out


def entries_in(objects: Sequence[TaxiiObject]) -> list[StoredEntry]:
    """The partner entries among ``objects`` (for the trail: what a pull passed on)."""
    return [o.source for o in objects if isinstance(o.source, StoredEntry)]


def manifest_record(obj: TaxiiObject) -> dict[str, Any]:
    return {"id": obj.id, "date_added": obj.date_added,
            "version": obj.obj.get("modified", obj.obj.get("created")), "media_type": STIX_MEDIA_TYPE}

