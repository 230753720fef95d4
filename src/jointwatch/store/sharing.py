"""Partner entries, their versions, sharing groups and the sharing trail, as stored.

The store keeps labels and history; who may see what is decided by ``jointwatch.releasability``
over the rows loaded here. Every change bumps the sharing generation in the same transaction,
so a screener built before it knows it is out of date at its next request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, event, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from jointwatch.errors import ConflictError, InvalidInputError, NotFoundError
from jointwatch.releasability import Labels, Recipient
from jointwatch.store.engine import inserted_id
from jointwatch.store.schema import (
    federation_links,
    members,
    shared_entries,
    shared_entry_versions,
    sharing_events,
    sharing_group_members,
    sharing_groups,
    sharing_state,
)


@dataclass(frozen=True)
class StoredEntry:
    """A partner entry as it stands: labels, status, and the entity of its current version."""

    id: int
    ref: str
    member_id: int | None        # the contributing member here; None when it came through a link
    originator: str
    link_id: int | None
    schema: str
    caption: str
    labels: Labels
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    seq: int
    entity: dict[str, Any]       # FtM entity JSON of the current version


@dataclass(frozen=True)
class EntryVersion:
    version: int
    entity: dict[str, Any]
    labels: dict[str, Any]
    change: str                  # shared, edited, withdrawn, renewed, imported, synced
    member_id: int | None
    user: str
    note: str
    at: datetime


@dataclass(frozen=True)
class SharingGroup:
    id: int
    name: str
    owner_member_id: int
    member_ids: tuple[int, ...]


@dataclass(frozen=True)
class SharingEvent:
    id: int
    entry_id: int | None
    member_id: int | None
    user: str
    action: str                  # shared, edited, withdrawn, viewed, matched, exported, imported, sent, received
    counterpart: str
    detail: str
    at: datetime


@dataclass(frozen=True)
class NewEvent:
    entry_id: int | None
    member_id: int | None
    user: str
    action: str
    counterpart: str = ""
    detail: str = ""


def _labels(row: Any) -> Labels:
    return Labels(row.distribution, tuple(json.loads(row.audience)), row.tlp, tuple(json.loads(row.handling)),
                  row.reason, row.expires_on)


def _label_columns(labels: Labels) -> dict[str, Any]:
    return {"distribution": labels.distribution, "audience": json.dumps(list(labels.audience)), "tlp": labels.tlp,
            "handling": json.dumps(list(labels.handling)), "reason": labels.reason, "expires_on": labels.expires_on}


def _bump(connection: Connection) -> int:
    connection.info[_CHANGED] = True  # seen by the commit listener of ``SharingWatch``
    connection.execute(update(sharing_state).where(sharing_state.c.id == 1)
                       .values(generation=sharing_state.c.generation + 1))
    return int(connection.execute(select(sharing_state.c.generation).where(sharing_state.c.id == 1)).scalar_one())


_CHANGED = "jointwatch_sharing_changed"


def _forget_change(connection: Connection) -> None:
    # cleared when the next transaction begins, not by the first commit listener: every watch on
    # the engine must see the flag of the transaction that committed (a rolled-back one never commits)
    connection.info.pop(_CHANGED, None)


class SharingWatch:
    """Tells a reader cheaply whether partner entries, groups or links may have changed.

    Changes committed through this engine (this process) are counted as they commit, so a
    reader sees its own process's withdrawal at its very next call; changes by other
    processes are found by asking the store's generation at most every ``recheck_seconds``."""

    def __init__(self, engine: Engine, recheck_seconds: float = 0.5) -> None:
        self.engine = engine
        self.recheck_seconds = recheck_seconds
        self._local = 0
        self._seen_local = -1
        self._asked = 0.0
        self._generation = -1
        if not event.contains(engine, "begin", _forget_change):
            event.listen(engine, "begin", _forget_change)
        event.listen(engine, "commit", self._on_commit)

    def _on_commit(self, connection: Connection) -> None:
        if connection.info.get(_CHANGED, False):
            self._local += 1

    def generation(self) -> int:
        """The store's sharing generation, as of this process's last change or the last recheck."""
        now = time.monotonic()
        if self._local != self._seen_local or now - self._asked >= self.recheck_seconds:
            self._seen_local = self._local
            self._asked = now
            self._generation = sharing_generation(self.engine)
        return self._generation

    def close(self) -> None:
        if event.contains(self.engine, "commit", self._on_commit):
            event.remove(self.engine, "commit", self._on_commit)


def sharing_generation(engine: Engine) -> int:
    """The number of changes to partner entries, groups and links so far (cheap: one row)."""
    with engine.connect() as connection:
        return int(connection.execute(select(sharing_state.c.generation).where(sharing_state.c.id == 1)).scalar_one())


def _entry_query() -> Any:
    return (select(shared_entries, shared_entry_versions.c.entity)
            .join(shared_entry_versions, and_(shared_entry_versions.c.entry_id == shared_entries.c.id,
                                              shared_entry_versions.c.version == shared_entries.c.version)))


def _entry(row: Any) -> StoredEntry:
    return StoredEntry(row.id, row.ref, row.member_id, row.originator, row.link_id, row.schema, row.caption,
                       _labels(row), row.status, row.version, row.created_at, row.updated_at, row.seq,
                       json.loads(row.entity))


def _version_row(entry_id: int, version: int, entity: dict[str, Any], labels: Labels, status: str, change: str,
                 member_id: int | None, user: str, note: str, at: datetime) -> dict[str, Any]:
    return {"entry_id": entry_id, "version": version, "entity": json.dumps(entity, ensure_ascii=False, sort_keys=True),
            "labels": json.dumps({**labels.to_dict(), "status": status}), "change": change,
            "member_id": member_id, "user": user[:128], "note": note, "at": at}


def insert_entry(engine: Engine, *, ref: str, member_id: int | None, originator: str, schema: str, caption: str,
                 entity: dict[str, Any], labels: Labels, user: str, note: str = "", change: str = "shared",
                 status: str = "active", link_id: int | None = None, version: int = 1,
                 events: Sequence[NewEvent] = ()) -> StoredEntry:
    """A new entry at ``version`` (1, or the version it has at its origin); ConflictError if the ref exists."""
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            seq = _bump(connection)
            entry_id = inserted_id(connection.execute(insert(shared_entries).values(
                ref=ref, member_id=member_id, originator=originator, link_id=link_id, schema=schema,
                caption=caption, status=status, version=version, created_at=now, updated_at=now, seq=seq,
                **_label_columns(labels))))
            connection.execute(insert(shared_entry_versions).values(
                _version_row(entry_id, version, entity, labels, status, change, member_id, user, note, now)))
            _insert_events(connection, [NewEvent(entry_id, e.member_id, e.user, e.action, e.counterpart, e.detail)
                                        for e in events])
            row = connection.execute(_entry_query().where(shared_entries.c.id == entry_id)).one()
    except IntegrityError:
        raise ConflictError(f"partner entry {ref!r} already exists") from None
    return _entry(row)


def update_entry(engine: Engine, entry: StoredEntry, *, schema: str, caption: str, entity: dict[str, Any],
                 labels: Labels, status: str, change: str, member_id: int | None, user: str, note: str = "",
                 version: int | None = None, events: Sequence[NewEvent] = ()) -> StoredEntry:
    """The entry's next version (``version``, or the one after ``entry``'s); ConflictError when the
    entry changed since ``entry`` was read (two editors at once: the second must re-read)."""
    now = datetime.now(UTC)
    new_version = entry.version + 1 if version is None else version
    with engine.begin() as connection:
        seq = _bump(connection)
        changed = connection.execute(update(shared_entries).where(
            shared_entries.c.id == entry.id, shared_entries.c.version == entry.version).values(
            schema=schema, caption=caption, status=status, version=new_version, updated_at=now, seq=seq,
            **_label_columns(labels))).rowcount
        if changed != 1:
            raise ConflictError(f"partner entry {entry.ref!r} changed meanwhile: read it again")
        connection.execute(insert(shared_entry_versions).values(
            _version_row(entry.id, new_version, entity, labels, status, change, member_id, user, note, now)))
        _insert_events(connection, events)
        row = connection.execute(_entry_query().where(shared_entries.c.id == entry.id)).one()
    return _entry(row)


def get_entry(engine: Engine, ref: str) -> StoredEntry | None:
    with engine.connect() as connection:
        row = connection.execute(_entry_query().where(shared_entries.c.ref == ref)).one_or_none()
    return None if row is None else _entry(row)


def load_entries(engine: Engine, ids: Iterable[int] | None = None, since_seq: int | None = None,
                 until_seq: int | None = None) -> list[StoredEntry]:
    """Entries by id, or changed after ``since_seq`` (up to ``until_seq``), in order of change."""
    query = _entry_query().order_by(shared_entries.c.seq)
    if ids is not None:
        wanted = sorted(set(ids))
        out: list[StoredEntry] = []
        with engine.connect() as connection:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                out.extend(_entry(r) for r in connection.execute(query.where(shared_entries.c.id.in_(chunk))))
        return sorted(out, key=lambda e: e.seq)
    if since_seq is not None:
        query = query.where(shared_entries.c.seq > since_seq)
    if until_seq is not None:
        query = query.where(shared_entries.c.seq <= until_seq)
    with engine.connect() as connection:
        return [_entry(r) for r in connection.execute(query)]


@dataclass(frozen=True)
class EntryLabels:
    """An entry without its entity: what releasability and listing need, cheap to load for all."""

    id: int
    ref: str
    member_id: int | None
    originator: str
    schema: str
    caption: str
    labels: Labels
    status: str
    version: int
    updated_at: datetime
    seq: int


def all_entry_labels(engine: Engine, since_seq: int | None = None) -> list[EntryLabels]:
    """Every entry's labels (or those changed after ``since_seq``), without the entities."""
    c = shared_entries.c
    query = select(c.id, c.ref, c.member_id, c.originator, c.schema, c.caption, c.distribution, c.audience, c.tlp,
                   c.handling, c.reason, c.expires_on, c.status, c.version, c.updated_at, c.seq).order_by(c.id)
    if since_seq is not None:
        query = query.where(c.seq > since_seq)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [EntryLabels(r.id, r.ref, r.member_id, r.originator, r.schema, r.caption, _labels(r), r.status,
                        r.version, r.updated_at, r.seq) for r in rows]


def entry_history(engine: Engine, entry_id: int) -> list[EntryVersion]:
    v = shared_entry_versions.c
    with engine.connect() as connection:
        rows = connection.execute(select(shared_entry_versions).where(v.entry_id == entry_id)
                                  .order_by(v.version)).all()
    return [EntryVersion(r.version, json.loads(r.entity), json.loads(r.labels), r.change, r.member_id, r.user,
                         r.note, r.at) for r in rows]


def recipient_of(engine: Engine, member_id: int) -> Recipient:
    """The member as releasability sees it: its groups, and whether it stands for a link."""
    with engine.connect() as connection:
        groups = connection.execute(select(sharing_group_members.c.group_id)
                                    .where(sharing_group_members.c.member_id == member_id)).scalars().all()
        link = connection.execute(select(func.count()).select_from(federation_links)
                                  .where(federation_links.c.member_id == member_id)).scalar_one()
    return Recipient(member_id, frozenset(int(g) for g in groups), bool(link))


# -- sharing groups ------------------------------------------------------------------------

def create_group(engine: Engine, name: str, owner_member_id: int) -> SharingGroup:
    name = " ".join(name.split())
    if not name or len(name) > 128:
        raise InvalidInputError("a sharing group's name is 1 to 128 characters")
    try:
        with engine.begin() as connection:
            group_id = inserted_id(connection.execute(insert(sharing_groups).values(
                name=name, owner_member_id=owner_member_id, created_at=datetime.now(UTC))))
            connection.execute(insert(sharing_group_members).values(group_id=group_id, member_id=owner_member_id))
            _bump(connection)
    except IntegrityError:
        raise ConflictError(f"sharing group {name!r} already exists") from None
    return SharingGroup(group_id, name, owner_member_id, (owner_member_id,))


def list_groups(engine: Engine) -> list[SharingGroup]:
    with engine.connect() as connection:
        groups = connection.execute(select(sharing_groups).order_by(sharing_groups.c.name)).all()
        pairs = connection.execute(select(sharing_group_members)).all()
    by_group: dict[int, list[int]] = {}
    for pair in pairs:
        by_group.setdefault(pair.group_id, []).append(pair.member_id)
    return [SharingGroup(g.id, g.name, g.owner_member_id, tuple(sorted(by_group.get(g.id, [])))) for g in groups]


def set_group_member(engine: Engine, group_id: int, member_id: int, present: bool) -> None:
    """Add a member to a group (``present``) or take it out; from the next read on it sees accordingly."""
    with engine.begin() as connection:
        if connection.execute(select(members.c.id).where(members.c.id == member_id)).first() is None:
            raise NotFoundError(f"no member {member_id}")
        where = and_(sharing_group_members.c.group_id == group_id, sharing_group_members.c.member_id == member_id)
        there = connection.execute(select(sharing_group_members).where(where)).first() is not None
        if present and not there:
            connection.execute(insert(sharing_group_members).values(group_id=group_id, member_id=member_id))
        elif not present and there:
            connection.execute(delete(sharing_group_members).where(where))
        _bump(connection)


# -- the sharing trail ----------------------------------------------------------------------

def _insert_events(connection: Connection, events: Sequence[NewEvent]) -> None:
    if not events:
        return
    now = datetime.now(UTC)
    connection.execute(insert(sharing_events), [
        {"entry_id": e.entry_id, "member_id": e.member_id, "user": e.user[:128], "action": e.action,
         "counterpart": e.counterpart[:255], "detail": e.detail, "at": now} for e in events])


def record_sharing_events(engine: Engine, events: Sequence[NewEvent]) -> None:
    """Append to the sharing trail (never edited, never deleted)."""
    with engine.begin() as connection:
        _insert_events(connection, events)


def sharing_events_of(engine: Engine, entry_ids: Iterable[int], limit: int = 1000) -> list[SharingEvent]:
    ids = sorted(set(entry_ids))
    if not ids:
        return []
    e = sharing_events.c
    out: list[SharingEvent] = []
    with engine.connect() as connection:
        for start in range(0, len(ids), 500):
            rows = connection.execute(select(sharing_events).where(e.entry_id.in_(ids[start:start + 500]))
                                      .order_by(e.id.desc()).limit(limit)).all()
            out.extend(SharingEvent(r.id, r.entry_id, r.member_id, r.user, r.action, r.counterpart, r.detail, r.at)
                       for r in rows)
    return sorted(out, key=lambda ev: -ev.id)[:limit]


@dataclass(frozen=True)
class NewEntry:
    """One entry of a bulk insert (``insert_entries``)."""

    ref: str
    member_id: int | None
    originator: str
    schema: str
    caption: str
    entity: dict[str, Any]
    labels: Labels
    user: str
    status: str = "active"
    version: int = 1
    change: str = "shared"
    link_id: int | None = None


def insert_entries(engine: Engine, entries: Sequence[NewEntry], batch: int = 5000) -> int:
    """Many new entries at once (an import, a first sync, a benchmark): one transaction, executemany
    in batches, each entry its own sequence number (so a sync can page through them); ConflictError
    (and nothing stored) if a ref exists."""
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            connection.info[_CHANGED] = True  # seen by the commit listener of ``SharingWatch``
            connection.execute(update(sharing_state).where(sharing_state.c.id == 1)
                               .values(generation=sharing_state.c.generation + len(entries)))
            last = int(connection.execute(select(sharing_state.c.generation)
                                          .where(sharing_state.c.id == 1)).scalar_one())
            first_seq = last - len(entries) + 1
            for start in range(0, len(entries), batch):
                chunk = entries[start:start + batch]
                connection.execute(insert(shared_entries), [
                    {"ref": e.ref, "member_id": e.member_id, "originator": e.originator, "link_id": e.link_id,
                     "schema": e.schema, "caption": e.caption, "status": e.status, "version": e.version,
                     "created_at": now, "updated_at": now, "seq": first_seq + start + i, **_label_columns(e.labels)}
                    for i, e in enumerate(chunk)])
                made = select(shared_entries.c.ref, shared_entries.c.id).where(
                    shared_entries.c.ref.in_([e.ref for e in chunk]))
                ids = {row.ref: row.id for row in connection.execute(made)}
                connection.execute(insert(shared_entry_versions), [
                    _version_row(ids[e.ref], e.version, e.entity, e.labels, e.status, e.change, e.member_id, e.user,
                                 e.labels.reason, now) for e in chunk])
    except IntegrityError:
        raise ConflictError("a partner entry of this batch already exists: nothing was stored") from None
    return len(entries)


@dataclass(frozen=True)
class EntryChange:
    """One entry's next version in a bulk change (``apply_import``): ``entry`` as it was read."""

    entry: StoredEntry
    schema: str
    caption: str
    entity: dict[str, Any]
    labels: Labels
    status: str
    change: str
    member_id: int | None
    user: str
    note: str


def apply_import(engine: Engine, new: Sequence[NewEntry], changed: Sequence[EntryChange],
                 notes: dict[str, str], trail: Sequence[tuple[str, NewEvent]]) -> None:
    """New entries and next versions of existing ones, all in one transaction (an import stores
    everything or nothing). ``notes`` holds each new entry's version note by ref; ``trail`` the
    sharing events, each with the ref of its entry (new or changed). ConflictError (nothing
    stored) when a ref exists or an entry changed meanwhile."""
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            ids: dict[str, int] = {}
            for e in new:
                seq = _bump(connection)
                entry_id = inserted_id(connection.execute(insert(shared_entries).values(
                    ref=e.ref, member_id=e.member_id, originator=e.originator, link_id=e.link_id, schema=e.schema,
                    caption=e.caption, status=e.status, version=e.version, created_at=now, updated_at=now, seq=seq,
                    **_label_columns(e.labels))))
                ids[e.ref] = entry_id
                connection.execute(insert(shared_entry_versions).values(
                    _version_row(entry_id, e.version, e.entity, e.labels, e.status, e.change, e.member_id, e.user,
                                 notes.get(e.ref, ""), now)))
            for c in changed:
                seq = _bump(connection)
                done = connection.execute(update(shared_entries).where(
                    shared_entries.c.id == c.entry.id, shared_entries.c.version == c.entry.version).values(
                    schema=c.schema, caption=c.caption, status=c.status, version=c.entry.version + 1,
                    updated_at=now, seq=seq, **_label_columns(c.labels))).rowcount
                if done != 1:
                    raise ConflictError(f"partner entry {c.entry.ref!r} changed meanwhile: nothing was stored")
                connection.execute(insert(shared_entry_versions).values(
                    _version_row(c.entry.id, c.entry.version + 1, c.entity, c.labels, c.status, c.change,
                                 c.member_id, c.user, c.note, now)))
            ids.update((c.entry.ref, c.entry.id) for c in changed)
            _insert_events(connection, [NewEvent(ids[ref], e.member_id, e.user, e.action, e.counterpart, e.detail)
                                        for ref, e in trail])
    except IntegrityError:
        raise ConflictError("a partner entry of this import already exists: nothing was stored") from None
