"""Loading a list version into the store: all of it in one transaction, or nothing.

The file is parsed first and written after, so the store's write lock is held only while
writing: a running service's requests (their audit rows) wait for that, not for the parse.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from followthemoney.statement import Statement
from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from jointwatch.errors import ListFormatError
from jointwatch.sources import ParsedList, Record, content_hash, date_from_name, file_date
from jointwatch.store.engine import inserted_id, write_transaction
from jointwatch.store.schema import list_versions, statements, version_statements

BATCH = 5000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class LoadResult:
    """What a load did: the version it created (or found) and its size."""

    source: str
    version: str
    published: date
    created: bool
    entities: int
    statements: int
    schema_counts: dict[str, int]


def version_label(published: date, digest: str) -> str:
    """The human name of a list version: publication date and content-hash prefix."""
    return f"{published.isoformat()}-{digest[:8]}"


def statement_key(source: str, entity_id: str, schema: str, prop: str, value: str,
                  lang: str | None, original: str | None) -> str:
    """The identity of a statement: the same fact from the same source keeps its key."""
    raw = "\x1f".join((source, entity_id, schema, prop, value, lang or "", original or ""))
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()


_COLUMNS = ("id", "entity_id", "schema", "prop", "prop_type", "value", "lang", "original_value",
            "source", "reference", "first_seen", "last_seen")


def _rows(record: Record, source: str, seen: object) -> Iterator[tuple[object, ...]]:
    """Database rows (in ``_COLUMNS`` order) for every statement of a record."""
    for entity in record.entities:
        # the public `statements` property also mints an id statement and a key for every
        # statement; we key statements ourselves, so read the entity's own statement sets
        for stmts in entity._statements.values():
            for stmt in stmts:
                yield _row(stmt, source, record.reference, seen)


def _row(stmt: Statement, source: str, reference: str, seen: object) -> tuple[object, ...]:
    key = statement_key(source, stmt.entity_id, stmt.schema, stmt.prop, stmt.value, stmt.lang,
                        stmt.original_value)
    return (key, stmt.entity_id, stmt.schema, stmt.prop, stmt.prop_type, stmt.value, stmt.lang,
            stmt.original_value, source, reference, seen, seen)


Chunk = tuple[list[str], list[str], list[tuple[object, ...]]]


def _row_chunks(parsed: ParsedList, seen_on: object) -> Iterator[Chunk]:
    """(references, schemata, new statement rows) for every ``BATCH`` rows of the list."""
    seen: set[str] = set()
    refs: list[str] = []
    schemata: list[str] = []
    rows: list[tuple[object, ...]] = []
    for record in parsed.records:
        refs.append(record.reference)
        schemata.append(record.main.schema.name)
        for row in _rows(record, parsed.source, seen_on):
            if row[0] not in seen:
                seen.add(str(row[0]))
                rows.append(row)
        if len(rows) >= BATCH:
            yield refs, schemata, rows
            refs, schemata, rows = [], [], []
    if refs or rows:
        yield refs, schemata, rows


class _BulkWriter:
    """Fast executemany on the driver connection: SQLAlchemy's per-row parameter handling
    costs more than the database itself on a 200,000-statement list."""

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect.name
        self.cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cols = ", ".join(_COLUMNS)
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in _COLUMNS)
            self.stmt_sql = f"INSERT OR IGNORE INTO statements ({cols}) VALUES ({marks})"
            self.member_sql = "INSERT INTO version_statements (version_id, statement_id) VALUES (?, ?)"
        elif self.dialect == "postgresql":
            marks = ", ".join("%s" for _ in _COLUMNS)
            self.stmt_sql = f"INSERT INTO statements ({cols}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING"
            self.member_sql = "INSERT INTO version_statements (version_id, statement_id) VALUES (%s, %s)"
        else:
            raise NotImplementedError(f"bulk loading is not implemented for {self.dialect}")

    def write(self, version_id: int, rows: list[tuple[object, ...]]) -> None:
        self.cursor.executemany(self.stmt_sql, rows)
        self.cursor.executemany(self.member_sql, [(version_id, r[0]) for r in rows])


def find_version(connection: Connection, source: str, digest: str) -> dict | None:
    row = connection.execute(
        select(list_versions).where(list_versions.c.source == source,
                                    list_versions.c.content_hash == digest)
    ).mappings().first()
    return dict(row) if row else None


def load_list(engine: Engine, parsed: ParsedList, progress: Progress | None = None) -> LoadResult:
    """Store one list version; an identical file already loaded creates nothing.

    Any error while reading the file rolls the whole load back.
    """
    digest = content_hash(parsed.paths)
    with engine.begin() as connection:
        existing = find_version(connection, parsed.source, digest)
        if existing is not None:
            # the publisher's file is unchanged: the list is confirmed current as of now
            connection.execute(update(list_versions).where(list_versions.c.id == existing["id"])
                               .values(checked_at=datetime.now(UTC)))
    if existing is not None:
        return _unchanged(parsed.source, existing)
    published = parsed.published or date_from_name(parsed.paths[0]) or file_date(parsed.paths[0])
    label = version_label(published, digest)
    # the whole file is parsed before the store's write lock is taken: on SQLite one writer
    # at a time holds it, and a running service's audit rows wait for it, so it is held for
    # the writing only (under a second for the UN list), never for the parse
    rows = _parse_rows(parsed, _seen_value(engine.dialect.name, published), progress)
    with write_transaction(engine) as connection:
        # a load of the same file that ran at the same time may have won the lock
        existing = find_version(connection, parsed.source, digest)
        if existing is not None:
            connection.execute(update(list_versions).where(list_versions.c.id == existing["id"])
                               .values(checked_at=datetime.now(UTC)))
            return _unchanged(parsed.source, existing)
        version_id = inserted_id(connection.execute(
            insert(list_versions).values(
                source=parsed.source, version=label, format=parsed.format, published=published,
                content_hash=digest, files=json.dumps([p.name for p in parsed.paths]),
                loaded_at=datetime.now(UTC), entity_count=0, statement_count=0,
                schema_counts="{}",
            )
        ))
        writer = _BulkWriter(connection)
        for chunk in rows.chunks:
            writer.write(version_id, chunk)
        _update_seen(connection, version_id, published)
        connection.execute(
            update(list_versions).where(list_versions.c.id == version_id).values(
                entity_count=rows.entities, statement_count=rows.statements,
                schema_counts=json.dumps(dict(sorted(rows.schema_counts.items()))),
            )
        )
    return LoadResult(source=parsed.source, version=label, published=published, created=True,
                      entities=rows.entities, statements=rows.statements, schema_counts=dict(rows.schema_counts))


def _unchanged(source: str, existing: dict) -> LoadResult:
    """The result of loading a file that is already a version of ``source``."""
    return LoadResult(
        source=source, version=existing["version"], published=existing["published"],
        created=False, entities=existing["entity_count"],
        statements=existing["statement_count"], schema_counts=json.loads(existing["schema_counts"]),
    )


@dataclass
class _ParsedRows:
    """Every new statement row of a list, in ``BATCH``-sized chunks, with its counts."""

    chunks: list[list[tuple[object, ...]]] = field(default_factory=list)
    entities: int = 0
    statements: int = 0
    schema_counts: Counter[str] = field(default_factory=Counter)


def _parse_rows(parsed: ParsedList, seen_on: object, progress: Progress | None) -> _ParsedRows:
    """The statement rows of the whole list; ListFormatError for a repeated reference or no records."""
    result = _ParsedRows()
    references: set[str] = set()
    for refs, schemata, rows in _row_chunks(parsed, seen_on):
        for ref in refs:
            if ref in references:
                raise ListFormatError(parsed.paths[0], None, f"reference {ref} appears twice")
            references.add(ref)
        result.schema_counts.update(schemata)
        result.chunks.append(rows)
        result.statements += len(rows)
        if progress is not None:
            progress(len(references))
    if not references:
        raise ListFormatError(parsed.paths[0], None, "the file holds no records")
    result.entities = len(references)
    return result


def _seen_value(dialect: str, published: date) -> object:
    # SQLAlchemy stores SQLite dates as ISO text; PostgreSQL takes date objects
    return published.isoformat() if dialect == "sqlite" else published


def _update_seen(connection: Connection, version_id: int, published: date) -> None:
    """Widen first_seen / last_seen of every statement in this version to include it."""
    members = select(version_statements.c.statement_id).where(
        version_statements.c.version_id == bindparam("vid"))
    connection.execute(
        update(statements).where(statements.c.id.in_(members), statements.c.last_seen < published)
        .values(last_seen=published), {"vid": version_id})
    connection.execute(
        update(statements).where(statements.c.id.in_(members), statements.c.first_seen > published)
        .values(first_seen=published), {"vid": version_id})
