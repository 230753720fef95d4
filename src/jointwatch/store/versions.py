"""List versions and what changed between two of them."""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Engine, Select, and_, select

from jointwatch.errors import NotFoundError
from jointwatch.store.schema import list_versions, statements, version_statements


@dataclass(frozen=True)
class VersionInfo:
    """One loaded version of one source's list."""

    source: str
    version: str
    format: str
    published: date
    content_hash: str
    files: list[str]
    loaded_at: datetime
    entities: int
    statements: int
    schema_counts: dict[str, int]
    id: int
    checked_at: datetime | None = None   # last load/update that found this file unchanged


def _info(row) -> VersionInfo:  # type: ignore[no-untyped-def]
    return VersionInfo(
        source=row.source, version=row.version, format=row.format, published=row.published,
        content_hash=row.content_hash, files=json.loads(row.files), loaded_at=row.loaded_at,
        entities=row.entity_count, statements=row.statement_count,
        schema_counts=json.loads(row.schema_counts), id=row.id, checked_at=row.checked_at,
    )


def list_versions_of(engine: Engine, source: str | None = None) -> list[VersionInfo]:
    """Every loaded version, oldest publication first, optionally of one source."""
    query = select(list_versions).order_by(
        list_versions.c.source, list_versions.c.published, list_versions.c.id)
    if source:
        query = query.where(list_versions.c.source == source)
    with engine.connect() as connection:
        return [_info(row) for row in connection.execute(query)]


def latest_versions(engine: Engine) -> dict[str, VersionInfo]:
    """The newest version of each source: the register as it stands."""
    latest: dict[str, VersionInfo] = {}
    for info in list_versions_of(engine):
        latest[info.source] = info  # ordered by publication, so the last one wins
    return latest


def resolve_version(engine: Engine, source: str, label: str | None) -> VersionInfo:
    """A version of ``source`` by label (or unique prefix / publication date); newest if None."""
    versions = list_versions_of(engine, source)
    if not versions:
        raise NotFoundError(f"no versions of source {source!r} are loaded")
    if label is None:
        return versions[-1]
    matches = [v for v in versions if v.version == label]
    matches = matches or [v for v in versions if v.version.startswith(label)]
    if len(matches) != 1:
        known = ", ".join(v.version for v in versions)
        what = "matches no" if not matches else "is ambiguous among the"
        raise NotFoundError(f"version {label!r} {what} versions of {source}: {known}")
    return matches[0]


@dataclass
class FieldChange:
    """Values of one field that appeared or disappeared between two versions."""

    field: str
    added: list[str] = dataclasses.field(default_factory=list)   # the attribute `field` hides the function
    removed: list[str] = dataclasses.field(default_factory=list)


@dataclass
class EntityChange:
    """One listing (by the source's reference) that was added, removed or changed."""

    reference: str
    entity_id: str
    schema: str
    name: str
    changes: list[FieldChange] = field(default_factory=list)


@dataclass
class ListDiff:
    """What changed in a source's list from one version to another."""

    source: str
    from_version: str
    to_version: str
    added: list[EntityChange]
    removed: list[EntityChange]
    changed: list[EntityChange]


def _only_in(connection: Connection, version_id: int, other_id: int) -> list:  # type: ignore[type-arg]
    """Statements held by one version and not by the other: the two versions' members compared
    in key order (both are ranges of one primary key: a merge, no table scanned), then the few
    that differ read by their key."""
    def members(vid: int) -> Select:  # type: ignore[type-arg]
        return select(version_statements.c.statement_id).where(version_statements.c.version_id == vid)

    ids = members(version_id).except_(members(other_id))
    return list(connection.execute(select(statements).where(statements.c.id.in_(ids))))


def _references(connection: Connection, version_id: int, refs: set[str]) -> set[str]:
    """Which of these references the version lists: read by reference and the version's key,
    never by scanning the whole version (a million-entity list has a million references)."""
    held: set[str] = set()
    ordered = sorted(refs)
    for i in range(0, len(ordered), 500):
        query = (
            select(statements.c.reference).distinct()
            .join(version_statements, and_(version_statements.c.statement_id == statements.c.id,
                                            version_statements.c.version_id == version_id))
            .where(statements.c.reference.in_(ordered[i:i + 500]))
        )
        held.update(row.reference for row in connection.execute(query))
    return held


def listing_rows(connection: Connection, source: str, reference: str,
                 version_ids: list[int]) -> tuple[list, dict[int, set[str]]]:  # type: ignore[type-arg]
    """One listing's statements and, per version, the ids of those it holds: read by the
    listing's reference and the versions' keys, never by scanning a whole version."""
    rows = list(connection.execute(select(statements).where(statements.c.source == source,
                                                            statements.c.reference == reference)))
    ids = [row.id for row in rows]
    held: dict[int, set[str]] = {}
    for version_id in version_ids:
        held[version_id] = set()
        for i in range(0, len(ids), 500):
            held[version_id] |= {r.statement_id for r in connection.execute(
                select(version_statements.c.statement_id).where(version_statements.c.version_id == version_id,
                                                                version_statements.c.statement_id.in_(ids[i:i + 500])))}
    return rows, held


DEPENDENT_SCHEMATA = frozenset({"Sanction", "Address", "Passport", "Identification"})


def _main_entities(connection: Connection, source: str, refs: set[str]) -> dict[str, tuple[str, str, str]]:
    """(entity id, schema, a name) of the listed entity behind each reference."""
    out: dict[str, tuple[str, str, str]] = {}
    ordered = sorted(refs)
    for i in range(0, len(ordered), 500):
        chunk = ordered[i:i + 500]
        query = (
            select(statements.c.reference, statements.c.entity_id, statements.c.schema,
                   statements.c.value)
            .where(statements.c.source == source, statements.c.reference.in_(chunk),
                   statements.c.prop == "name", statements.c.schema.notin_(DEPENDENT_SCHEMATA))
            .order_by(statements.c.reference, statements.c.last_seen.desc())
        )
        for row in connection.execute(query):
            out.setdefault(row.reference, (row.entity_id, row.schema, row.value))
    return out


def diff_versions(engine: Engine, source: str, from_label: str | None = None,
                  to_label: str | None = None, reference: str | None = None) -> ListDiff:
    """Entities added, removed and changed (with the changed fields) between two versions.

    Without labels: the newest version against the one published before it. With
    ``reference``: that one listing's part of the diff (an entity's page shows its own changes
    without reading the whole list's).
    """
    versions = list_versions_of(engine, source)
    if not versions:
        raise NotFoundError(f"no versions of source {source!r} are loaded")
    to_v = resolve_version(engine, source, to_label)
    if from_label is None:
        earlier = [v for v in versions if (v.published, v.id) < (to_v.published, to_v.id)]
        if not earlier:
            raise NotFoundError(f"{source} has no version before {to_v.version} to compare with")
        from_v = earlier[-1]
    else:
        from_v = resolve_version(engine, source, from_label)
    with engine.connect() as connection:
        if reference is None:
            gained = _only_in(connection, to_v.id, from_v.id)
            lost = _only_in(connection, from_v.id, to_v.id)
            touched = {row.reference for row in gained} | {row.reference for row in lost}
            before = _references(connection, from_v.id, touched)
            after = _references(connection, to_v.id, touched)
        else:  # the same diff, of the listing's own statements only
            rows, held = listing_rows(connection, source, reference, [from_v.id, to_v.id])
            gained = [r for r in rows if r.id in held[to_v.id] and r.id not in held[from_v.id]]
            lost = [r for r in rows if r.id in held[from_v.id] and r.id not in held[to_v.id]]
            before = {reference} if held[from_v.id] else set()
            after = {reference} if held[to_v.id] else set()
        by_ref: dict[str, EntityChange] = {}
        fields: dict[str, dict[str, FieldChange]] = defaultdict(dict)
        refs = {row.reference for row in gained} | {row.reference for row in lost}
        heads = _main_entities(connection, source, refs)
    for rows, direction in ((gained, "added"), (lost, "removed")):
        for row in rows:
            if row.reference not in by_ref:
                entity_id, schema, name = heads.get(row.reference, ("", "", ""))
                by_ref[row.reference] = EntityChange(row.reference, entity_id, schema, name)
            is_main = row.entity_id == by_ref[row.reference].entity_id
            name = row.prop if is_main else f"{row.schema}.{row.prop}"
            fc = fields[row.reference].setdefault(name, FieldChange(name))
            value = row.value if row.original_value is None else f"{row.value} ({row.original_value})"
            getattr(fc, direction).append(value)
    added, removed, changed = [], [], []
    for ref, change in sorted(by_ref.items()):
        change.changes = [fields[ref][k] for k in sorted(fields[ref])]
        for fc in change.changes:
            fc.added.sort()
            fc.removed.sort()
        if ref in after and ref not in before:
            added.append(change)
        elif ref in before and ref not in after:
            removed.append(change)
        else:
            changed.append(change)
    return ListDiff(source, from_v.version, to_v.version, added, removed, changed)
