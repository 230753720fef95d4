"""Partner entries: share, edit, withdraw, and read them as a member may.

An entry is one FtM entity (a person, organisation, company, vessel or aircraft with its
names, birth dates, nationalities, documents, addresses, notes) plus the labels it is shared
under (``jointwatch.releasability``). Every change is a new version; a withdrawal is a
version too, so the entry stays readable as withdrawn and stops matching at once.

A member that may not see an entry gets exactly what it gets for an entry that does not
exist (NotFoundError with the same message), on every read and every change.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jointwatch.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from jointwatch.releasability import Labels, Recipient, is_live, may_pass_on, may_see, today
from jointwatch.store import (
    Engine,
    EntryVersion,
    NewEvent,
    SharingEvent,
    StoredEntry,
    all_entry_labels,
    entry_history,
    get_entry,
    get_member,
    insert_entry,
    list_groups,
    list_members,
    load_entries,
    recipient_of,
    record_sharing_events,
    sharing_events_of,
    update_entry,
)

SCHEMATA = ("Person", "Organization", "Company", "LegalEntity", "Vessel", "Airplane")
MAX_VALUES = 200            # values per property
MAX_VALUE_CHARS = 1000
MAX_LISTINGS = 20
# an entry's whole FtM entity as JSON: well inside a federation bundle (600 KB) and the service's
# body limit, so one entry can never be too large to travel and stall a link
MAX_ENTITY_BYTES = 256 * 1024
REF_PREFIX = "sh-"


@dataclass(frozen=True)
class EntryInput:
    """What a member sends to share or edit an entry (CLI, API, import)."""

    schema: str
    properties: Mapping[str, Sequence[str]]
    listings: Sequence[str] = ()     # official listings it is linked to, as "source:reference" (un_sc:QDi.354)


@dataclass(frozen=True)
class EntryView:
    """An entry as one member may see it; ``history`` and ``trail`` for its originator only."""

    entry: StoredEntry
    mine: bool
    live: bool
    may_pass_on: bool
    history: list[EntryVersion] = field(default_factory=list)
    trail: list[SharingEvent] = field(default_factory=list)


def new_ref() -> str:
    """A global, unguessable entry reference: it travels between servers unchanged."""
    return REF_PREFIX + secrets.token_hex(10)


def clean_entity(ref: str, data: EntryInput) -> dict[str, Any]:
    """The FtM entity of an entry, every value cleaned by its property type; InvalidInputError
    naming the property for an unknown property, a value FtM cannot read, or no name."""
    # imported here: FollowTheMoney's model takes about half a second to load (jointwatch.sources.base.dataset_for)
    from followthemoney import model  # noqa: PLC0415
    from followthemoney.exc import InvalidData  # noqa: PLC0415

    if data.schema not in SCHEMATA:
        raise InvalidInputError(f"schema {data.schema!r} is not one of {', '.join(SCHEMATA)}")
    entity = model.make_entity(data.schema)
    entity.id = ref
    for prop_name, values in data.properties.items():
        prop = entity.schema.get(prop_name)
        if prop is None or prop.stub or prop.type.name == "entity":
            raise InvalidInputError(f"properties.{prop_name}: not a property of {data.schema} an entry can hold")
        if isinstance(values, str):
            values = [values]
        if len(values) > MAX_VALUES:
            raise InvalidInputError(f"properties.{prop_name}: at most {MAX_VALUES} values")
        for value in values:
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_VALUE_CHARS or "\x00" in value:
                raise InvalidInputError(f"properties.{prop_name}: each value is text of 1 to {MAX_VALUE_CHARS} "
                                        "characters")
            # cleaned as FtM's add would clean it (with the property's format: an IMO number's check
            # digit), so a value FtM would drop without a word is refused instead: nothing vanishes unseen
            cleaned = prop.type.clean(value, proxy=entity, format=prop.format)
            if cleaned is None:
                raise InvalidInputError(f"properties.{prop_name}: {value[:80]!r} is not a valid "
                                        f"{prop.format or prop.type.name}")
            try:
                entity.add(prop_name, cleaned, cleaned=True)
            except InvalidData as error:
                raise InvalidInputError(f"properties.{prop_name}: {error}") from None
    if not entity.get("name"):
        raise InvalidInputError("properties.name: an entry needs at least one name")
    out = entity.to_dict()
    listings = sorted({_listing(item) for item in data.listings})
    if len(listings) > MAX_LISTINGS:
        raise InvalidInputError(f"listings: at most {MAX_LISTINGS}")
    if listings:
        out["listings"] = listings
    if len(json.dumps(out, ensure_ascii=False).encode("utf-8")) > MAX_ENTITY_BYTES:
        raise InvalidInputError(f"an entry is at most {MAX_ENTITY_BYTES // 1024} KB of names and properties")
    return out


def _listing(text: str) -> str:
    source, _, reference = text.strip().partition(":")
    if not source or not reference or len(text) > 200:
        raise InvalidInputError(f"listings: {text[:80]!r} is not source:reference (un_sc:QDi.354)")
    return f"{source.strip()}:{reference.strip()}"


def _caption(entity: dict[str, Any]) -> str:
    names = sorted(entity["properties"].get("name", []), key=lambda n: (not n.isascii(), n))
    return names[0][:500]


def _originator_name(engine: Engine, member_id: int) -> str:
    member = get_member(engine, member_id)
    return member.name


def share_entry(engine: Engine, member_id: int, user: str, data: EntryInput, labels: Labels) -> StoredEntry:
    """A new partner entry of ``member_id``, under ``labels``; audited on the sharing trail."""
    check_audience(engine, labels.distribution, labels.audience)
    ref = new_ref()
    entity = clean_entity(ref, data)
    return insert_entry(engine, ref=ref, member_id=member_id, originator=_originator_name(engine, member_id),
                        schema=data.schema, caption=_caption(entity), entity=entity, labels=labels, user=user,
                        note=labels.reason, events=[NewEvent(None, member_id, user, "shared",
                                                             _audience_text(labels), labels.reason)])


def check_audience(engine: Engine, distribution: str, audience: Iterable[int]) -> None:
    """InvalidInputError for an audience id that is no member or no sharing group. (Which groups a
    member may name is the front end's: the service resolves only the groups the caller is in, so a
    group it is not in reads as none; the CLI is the operator's, who sees every group.)"""
    if distribution == "members":
        known = {m.id for m in list_members(engine)}
        missing = [m for m in audience if m not in known]
        if missing:
            raise InvalidInputError(f"audience: no member {missing[0]}")
    elif distribution == "group":
        known = {g.id for g in list_groups(engine)}
        missing = [g for g in audience if g not in known]
        if missing:
            raise InvalidInputError(f"audience: no sharing group {missing[0]}")


def _audience_text(labels: Labels) -> str:
    if labels.audience:
        return f"{labels.distribution}: {', '.join(str(a) for a in labels.audience)}"
    return labels.distribution


def _own(engine: Engine, ref: str, member_id: int) -> StoredEntry:
    """The entry, if ``member_id`` may see it (else NotFoundError, as if it did not exist) and is its originator."""
    entry = get_entry(engine, ref)
    recipient = recipient_of(engine, member_id)
    if entry is None or not may_see(entry.member_id, entry.labels, recipient):
        raise NotFoundError(f"no partner entry {ref!r}")
    if entry.member_id != member_id:
        raise ForbiddenError(f"partner entry {ref!r} is {entry.originator}'s: only its originator changes it")
    return entry


def edit_entry(engine: Engine, ref: str, member_id: int, user: str, note: str, data: EntryInput | None = None,
               labels: Labels | None = None, expected_version: int | None = None) -> StoredEntry:
    """The entry's next version with new properties and/or labels (the rest kept); only the originator edits."""
    entry = _own(engine, ref, member_id)
    if expected_version is not None and expected_version != entry.version:
        raise ConflictError(f"partner entry {ref!r} is at version {entry.version}, not {expected_version}")
    if entry.status != "active":
        raise ConflictError(f"partner entry {ref!r} is withdrawn: share a new entry instead")
    if not note.strip():
        raise InvalidInputError("an edit needs a note (what changed and why)")
    new_labels = labels or entry.labels
    check_audience(engine, new_labels.distribution, new_labels.audience)
    entity = clean_entity(ref, data) if data is not None else entry.entity
    schema = data.schema if data is not None else entry.schema
    return update_entry(engine, entry, schema=schema, caption=_caption(entity), entity=entity, labels=new_labels,
                        status="active", change="edited", member_id=member_id, user=user, note=note,
                        events=[NewEvent(entry.id, member_id, user, "edited", _audience_text(new_labels), note)])


def withdraw_entry(engine: Engine, ref: str, member_id: int, user: str, reason: str) -> StoredEntry:
    """Withdrawn: it stops matching everywhere at the next request and reads as withdrawn, never deleted."""
    entry = _own(engine, ref, member_id)
    if entry.status == "withdrawn":
        raise ConflictError(f"partner entry {ref!r} is already withdrawn")
    if not reason.strip():
        raise InvalidInputError("a withdrawal needs a reason")
    return update_entry(engine, entry, schema=entry.schema, caption=entry.caption, entity=entry.entity,
                        labels=entry.labels, status="withdrawn", change="withdrawn", member_id=member_id, user=user,
                        note=reason, events=[NewEvent(entry.id, member_id, user, "withdrawn", "", reason)])


def view_entry(engine: Engine, ref: str, member_id: int, user: str = "") -> EntryView:
    """The entry as ``member_id`` may see it (NotFoundError otherwise); its history and trail to its originator.
    A recipient's read is put on the trail, so the originator sees who looked."""
    entry = get_entry(engine, ref)
    recipient = recipient_of(engine, member_id)
    if entry is None or not may_see(entry.member_id, entry.labels, recipient):
        raise NotFoundError(f"no partner entry {ref!r}")
    mine = entry.member_id == member_id
    if not mine:
        record_sharing_events(engine, [NewEvent(entry.id, member_id, user, "viewed", "", "")])
    return EntryView(entry, mine, is_live(entry.status, entry.labels.expires_on, today()),
                     may_pass_on(entry.member_id, entry.labels, recipient),
                     history=entry_history(engine, entry.id) if mine else [],
                     trail=sharing_events_of(engine, [entry.id]) if mine else [])


def visible_entries(engine: Engine, member_id: int, mine_only: bool = False, include_withdrawn: bool = True,
                    since_seq: int | None = None) -> list[StoredEntry]:
    """Every entry ``member_id`` may see (its own with ``mine_only``), in order of change."""
    recipient = recipient_of(engine, member_id)
    ids = [e.id for e in all_entry_labels(engine)
           if may_see(e.member_id, e.labels, recipient) and (not mine_only or e.member_id == member_id)
           and (include_withdrawn or e.status == "active") and (since_seq is None or e.seq > since_seq)]
    return load_entries(engine, ids)


def releasable_ids(engine: Engine, recipient: Recipient, when: date | None = None) -> set[int]:
    """The entries that match for ``recipient`` now: visible to it, active and not expired."""
    day = when or today()
    return {e.id for e in all_entry_labels(engine)
            if may_see(e.member_id, e.labels, recipient) and is_live(e.status, e.labels.expires_on, day)}


def passable(entries: Iterable[StoredEntry], recipient: Recipient) -> list[StoredEntry]:
    """The entries ``recipient`` may pass on (export, TAXII): see ``releasability.may_pass_on``."""
    return [e for e in entries if may_pass_on(e.member_id, e.labels, recipient)]
