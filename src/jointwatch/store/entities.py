"""Reading listed entities back out of the store, with the provenance of every statement."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Engine, or_, select

from jointwatch.errors import NotFoundError
from jointwatch.store.load import statement_key
from jointwatch.store.schema import statements, version_statements
from jointwatch.store.versions import DEPENDENT_SCHEMATA, latest_versions, list_versions_of, listing_rows

if TYPE_CHECKING:
    from followthemoney import StatementEntity


@dataclass(frozen=True)
class StatementView:
    """One statement about a listed entity, with where and when it was seen."""

    entity_id: str
    schema: str
    prop: str
    value: str
    original_value: str | None
    lang: str | None
    source: str
    reference: str
    first_seen: date
    last_seen: date
    current: bool

    @property
    def key(self) -> str:
        """The statement's identity in the store (``listing_versions`` is keyed by it)."""
        return statement_key(self.source, self.entity_id, self.schema, self.prop, self.value, self.lang,
                             self.original_value)


@dataclass(frozen=True)
class EntityView:
    """A listing as the store holds it: the listed entity and its dependent entities."""

    source: str
    reference: str
    entity_id: str
    schema: str
    caption: str
    listed_now: bool
    statements: list[StatementView]

    def entities(self) -> list[StatementEntity]:
        """The statements reassembled as FollowTheMoney entities (listed entity first)."""
        from followthemoney import StatementEntity  # noqa: PLC0415 - its model takes half a second to load
        from followthemoney.statement import Statement  # noqa: PLC0415

        from jointwatch.sources import dataset_for  # noqa: PLC0415

        grouped: dict[str, StatementEntity] = {}
        for s in self.statements:
            if s.entity_id not in grouped:
                grouped[s.entity_id] = StatementEntity(
                    dataset_for(s.source), {"schema": s.schema, "id": s.entity_id})
            grouped[s.entity_id].add_statement(Statement(
                entity_id=s.entity_id, prop=s.prop, schema=s.schema, value=s.value,
                dataset=s.source, lang=s.lang, original_value=s.original_value,
                first_seen=s.first_seen.isoformat(), last_seen=s.last_seen.isoformat()))
        main = grouped.pop(self.entity_id)
        return [main, *grouped.values()]


def show_entity(engine: Engine, reference: str, source: str | None = None) -> list[EntityView]:
    """Every listing whose reference or entity id is ``reference`` (one per source)."""
    latest = latest_versions(engine)
    query = select(statements).where(or_(statements.c.reference == reference,
                                         statements.c.entity_id == reference))
    if source:
        query = query.where(statements.c.source == source)
    with engine.connect() as connection:
        rows = list(connection.execute(query))
        if rows and not any(r.reference == reference for r in rows):
            # asked by entity id: widen to the whole listing that entity belongs to
            pairs = {(r.source, r.reference) for r in rows}
            rows = [r for s, rf in pairs for r in connection.execute(
                select(statements).where(statements.c.source == s, statements.c.reference == rf))]
        current_ids = set()
        for src in {r.source for r in rows}:
            if src in latest:
                members = select(version_statements.c.statement_id).where(
                    version_statements.c.version_id == latest[src].id)
                current_ids |= {x.statement_id for x in connection.execute(
                    members.where(version_statements.c.statement_id.in_([r.id for r in rows if r.source == src])))}
    if not rows:
        raise NotFoundError(f"no listed entity with reference or id {reference!r}")
    views = []

    def r_current(name: str) -> bool:
        # a name in the newest version first, then a Latin-script one, for people to read
        return not any(r.value == name and r.id in current_ids for r in rows)

    for src, listed_as in sorted({(r.source, r.reference) for r in rows}):
        mine = [r for r in rows if r.source == src and r.reference == listed_as]
        heads = [r for r in mine if r.schema not in DEPENDENT_SCHEMATA]
        head = heads[0] if heads else mine[0]
        names = sorted({r.value for r in mine if r.entity_id == head.entity_id and r.prop == "name"},
                       key=lambda n: (r_current(n), not n.isascii(), n))
        stmts = sorted(
            (StatementView(r.entity_id, r.schema, r.prop, r.value, r.original_value, r.lang,
                           r.source, r.reference, r.first_seen, r.last_seen, r.id in current_ids)
             for r in mine),
            key=lambda s: (s.entity_id != head.entity_id, s.entity_id, s.prop, s.value))
        views.append(EntityView(src, listed_as, head.entity_id, head.schema,
                                names[0] if names else listed_as,
                                any(s.current for s in stmts), stmts))
    return views


def one_listing(engine: Engine, reference: str, source: str | None = None) -> EntityView:
    """The single listing ``reference`` names; NotFoundError if none, or several sources list it."""
    views = show_entity(engine, reference, source)
    if len(views) > 1:
        raise NotFoundError(f"{reference!r} is listed by {', '.join(v.source for v in views)}: say which source")
    return views[0]


def listing_versions(engine: Engine, source: str, reference: str) -> dict[str, list[str]]:
    """The list versions that hold each statement of one listing (by ``StatementView.key``),
    oldest publication first: first and last seen say when, this says in which publications."""
    versions = list_versions_of(engine, source)
    with engine.connect() as connection:
        _, held = listing_rows(connection, source, reference, [v.id for v in versions])
    out: dict[str, list[str]] = {}
    for v in versions:
        for statement_id in held[v.id]:
            out.setdefault(statement_id, []).append(v.version)
    return out


def iter_entities(engine: Engine, source: str, version_id: int | None = None) -> Iterator[StatementEntity]:
    """Every entity in one version of a source's list (the newest if not given)."""
    from followthemoney import StatementEntity  # noqa: PLC0415 - its model takes half a second to load
    from followthemoney.statement import Statement  # noqa: PLC0415

    from jointwatch.sources import dataset_for  # noqa: PLC0415

    if version_id is None:
        latest = latest_versions(engine)
        if source not in latest:
            raise NotFoundError(f"no versions of source {source!r} are loaded")
        version_id = latest[source].id
    query = (
        select(statements)
        .join(version_statements, version_statements.c.statement_id == statements.c.id)
        .where(version_statements.c.version_id == version_id)
        .order_by(statements.c.entity_id)
    )
    dataset = dataset_for(source)
    with engine.connect() as connection:
        current: StatementEntity | None = None
        for r in connection.execute(query):
            if current is None or current.id != r.entity_id:
                if current is not None:
                    yield current
                current = StatementEntity(dataset, {"schema": r.schema, "id": r.entity_id})
            current.add_statement(Statement(
                entity_id=r.entity_id, prop=r.prop, schema=r.schema, value=r.value, dataset=source,
                lang=r.lang, original_value=r.original_value,
                first_seen=r.first_seen.isoformat(), last_seen=r.last_seen.isoformat()))
        if current is not None:
            yield current


StatementRow = tuple[str, str, str, str, str, str]  # source, reference, entity_id, schema, prop, value


def iter_statement_rows(engine: Engine, version_ids: list[int], props: tuple[str, ...]) -> Iterator[StatementRow]:
    """The values of ``props`` in these list versions, as (source, reference, entity_id, schema,
    prop, value), ordered by source and reference so a listing's rows come together: what the
    screening index is built from, read in one streaming query."""
    query = (
        select(statements.c.source, statements.c.reference, statements.c.entity_id, statements.c.schema,
               statements.c.prop, statements.c.value)
        .join(version_statements, version_statements.c.statement_id == statements.c.id)
        .where(version_statements.c.version_id.in_(version_ids))
        .where(statements.c.prop.in_(props))
        .order_by(statements.c.source, statements.c.reference)
    )
    with engine.connect() as connection:
        for row in connection.execute(query):
            yield tuple(row)  # type: ignore[misc]
