"""Loading a list version into the store: all of it in one transaction, or nothing.

The file is parsed first and written after, so the store's write lock is held only while
writing: a running service's requests (their audit rows) wait for that, not for the parse.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import marshal
import multiprocessing
import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from operator import itemgetter
from typing import IO

from sqlalchemy import Connection, Engine, bindparam, func, insert, select, text, update

from jointwatch.errors import JointwatchError, ListFormatError
from jointwatch.sources import ParsedList, Record, content_hash, date_from_name, file_date
from jointwatch.store.engine import inserted_id, write_transaction
from jointwatch.store.schema import list_versions, statements, version_statements

BATCH = 5000  # statement rows a parsed chunk, and a spilled block
RUN_ROWS = 250_000  # rows sorted in memory at once; a larger list spills its runs to a temporary file
BULK_BATCH = 50_000  # rows one executemany inserts on SQLite
# Secondary indexes of the statements table that a large load drops and builds again after its
# rows are in (the primary keys stay: they keep the store's identities, and the rows come in
# their order). Built once over every row costs less than updated row by row, when the rows
# added are as many as the rows already there.
BULK_INDEXES = ("ix_statements_entity_id", "ix_statements_reference")
MIN_ROWS_TO_REBUILD = 100_000
# A list of this many bytes or more that can be read in parts (FtM JSON lines) is parsed by one
# worker process a core; below it, one process (forking costs more than it saves)
PARALLEL_BYTES = 16 * 1024**2

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
    reference = record.reference
    for entity in record.entities:
        # the public `statements` property also mints an id statement and a key for every
        # statement; we key statements ourselves, so read the entity's own statement sets
        for stmts in entity._statements.values():
            for stmt in stmts:  # each property read once: a list's statements are read by the million
                entity_id, schema, prop, value, lang, original = (
                    stmt.entity_id, stmt.schema, stmt.prop, stmt.value, stmt.lang, stmt.original_value)
                yield (statement_key(source, entity_id, schema, prop, value, lang, original), entity_id, schema,
                       prop, stmt.prop_type, value, lang, original, source, reference, seen, seen)


Row = tuple[object, ...]
Chunk = tuple[list[str], list[str], list[Row]]


def _row_chunks(records: Iterable[Record], source: str, seen_on: object) -> Iterator[Chunk]:
    """(references, schemata, statement rows) for every ``BATCH`` rows of the list, in file
    order; a statement repeated in the list is still here twice (the runs drop repeats)."""
    refs: list[str] = []
    schemata: list[str] = []
    rows: list[Row] = []
    for record in records:
        refs.append(record.reference)
        schemata.append(record.main.schema.name)
        rows.extend(_rows(record, source, seen_on))
        if len(rows) >= BATCH:
            yield refs, schemata, rows
            refs, schemata, rows = [], [], []
    if refs or rows:
        yield refs, schemata, rows


_KEY = itemgetter(0)


class _Runs:
    """The statement rows of a list, sorted by key and without repeats, held in bounded memory.

    Rows come in as parsed and are cut into runs of ``RUN_ROWS``, each sorted by key (stably,
    so the first of a repeated statement stays first); a list larger than one run writes its
    runs to a temporary file, ``BATCH`` rows a block. ``sorted_rows`` merges the runs back into
    one stream in key order, each statement once (its first occurrence in the file): inserting
    in key order appends to the primary-key B-trees instead of splitting pages all over them.
    A worker loading a share of a list writes every run to its own file (``spill_path``); the
    runs of all shares are then merged as one (``joined``).
    """

    def __init__(self, spill_path: str | None = None) -> None:
        self.pending: list[Row] = []
        self.memory: list[list[Row]] = []  # the runs, while the list fits in one
        self.spill_path = spill_path
        self.spill: IO[bytes] | None = None
        # every spilled run: its file and its blocks' (offset, size), in the order rows came
        self.runs: list[tuple[IO[bytes], list[tuple[int, int]]]] = []
        self.files: list[IO[bytes]] = []

    @classmethod
    def joined(cls, shares: list[tuple[str, list[list[tuple[int, int]]]]]) -> _Runs:
        """The runs that workers wrote, share after share (file order kept)."""
        joined = cls()
        try:
            for path, runs in shares:
                fh = open(path, "rb")  # noqa: SIM115 - closed by close()
                joined.files.append(fh)
                joined.runs.extend((fh, blocks) for blocks in runs)
        finally:
            for path, _ in shares:
                os.unlink(path)  # open files stay readable; nothing is left behind
        return joined

    def add(self, rows: list[Row]) -> None:
        self.pending.extend(rows)
        if len(self.pending) >= RUN_ROWS:
            self._cut()

    def _cut(self) -> None:
        if not self.pending:
            return
        run = sorted(self.pending, key=_KEY)
        self.pending = []
        if self.spill is None and not self.memory and self.spill_path is None:
            self.memory.append(run)
            return
        if self.spill is None:  # a second run: from now on every run goes to disk
            if self.spill_path is None:
                self.spill = tempfile.TemporaryFile(prefix="jointwatch-load-")
            else:
                self.spill = open(self.spill_path, "w+b")  # noqa: SIM115 - closed by close()
            self.files.append(self.spill)
            for held in self.memory:
                self._write(held)
            self.memory = []
        self._write(run)

    def _write(self, run: list[Row]) -> None:
        assert self.spill is not None
        blocks = []
        for start in range(0, len(run), BATCH):
            data = marshal.dumps(run[start:start + BATCH])
            blocks.append((self.spill.tell(), len(data)))
            self.spill.write(data)
        self.runs.append((self.spill, blocks))

    @staticmethod
    def _read(fh: IO[bytes], blocks: list[tuple[int, int]]) -> Iterator[Row]:
        for offset, size in blocks:
            # one read a block: marshal.load on the file would read it in tiny pieces
            fh.seek(offset)
            yield from marshal.loads(fh.read(size))

    def finish(self) -> None:
        self._cut()
        if self.spill is not None:
            self.spill.flush()

    def sorted_rows(self) -> Iterator[Row]:
        """Every distinct statement row once, in key order."""
        if not self.runs:
            streams: Iterable[Row] = self.memory[0] if self.memory else []
        else:
            # heapq.merge is stable: on equal keys the earlier run (earlier in the file) comes first
            streams = heapq.merge(*(self._read(fh, blocks) for fh, blocks in self.runs), key=_KEY)
        last = None
        for row in streams:
            if row[0] != last:
                last = row[0]
                yield row

    def close(self) -> None:
        for fh in self.files:
            fh.close()


def _batches(rows: Iterator[Row], size: int = BATCH) -> Iterator[list[Row]]:
    while batch := list(islice(rows, size)):
        yield batch


class _BulkWriter:
    """Bulk inserts on the driver connection, below SQLAlchemy's per-row parameter handling
    (which costs more than the database itself on a 200,000-statement list): executemany in
    large batches on SQLite, COPY on PostgreSQL. Returns how many statements were new."""

    def __init__(self, connection: Connection) -> None:
        self.dialect = connection.dialect.name
        if self.dialect not in ("sqlite", "postgresql"):
            raise NotImplementedError(f"bulk loading is not implemented for {self.dialect}")
        self.connection = connection
        self.cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]

    def write(self, version_id: int, rows: Iterator[Row], empty: bool) -> tuple[int, int]:
        """Insert the rows (distinct, in key order) and their membership of the version:
        (statements in the version, statements that were new to the store). ``empty``: the
        store held no statement before (this load's transaction holds the write lock), so
        every statement is new and every stored statement is this version's."""
        if self.dialect == "sqlite":
            return self._write_sqlite(version_id, rows, empty)
        return self._write_postgresql(version_id, rows, empty)

    def _write_sqlite(self, version_id: int, rows: Iterator[Row], empty: bool) -> tuple[int, int]:
        cols, marks = ", ".join(_COLUMNS), ", ".join("?" for _ in _COLUMNS)
        stmt_sql = f"INSERT OR IGNORE INTO statements ({cols}) VALUES ({marks})"
        member_sql = "INSERT INTO version_statements (version_id, statement_id) VALUES (?, ?)"
        total = new = 0
        for batch in _batches(rows, BULK_BATCH):
            self.cursor.executemany(stmt_sql, batch)
            new += self.cursor.rowcount
            if not empty:
                self.cursor.executemany(member_sql, [(version_id, r[0]) for r in batch])
            total += len(batch)
        if empty:  # one statement inside the database instead of a row at a time from Python
            self.cursor.execute("INSERT INTO version_statements (version_id, statement_id) "
                                "SELECT ?, id FROM statements ORDER BY id", (version_id,))
        return total, new

    def _write_postgresql(self, version_id: int, rows: Iterator[Row], empty: bool) -> tuple[int, int]:
        cols = ", ".join(_COLUMNS)
        if empty:  # nothing to collide with: straight into the table
            total = self._copy("statements", cols, rows)
            self.cursor.execute("INSERT INTO version_statements (version_id, statement_id) "
                                "SELECT %s, id FROM statements ORDER BY id", (version_id,))
            return total, total
        # COPY into a table of this transaction only, then into the store in two statements:
        # statements already held (an unchanged fact of an earlier version) are skipped there
        self.cursor.execute("CREATE TEMPORARY TABLE load_statements "
                            "(LIKE statements INCLUDING DEFAULTS) ON COMMIT DROP")
        total = self._copy("load_statements", cols, rows)
        self.cursor.execute(f"INSERT INTO statements ({cols}) SELECT {cols} FROM load_statements "
                            "ORDER BY id ON CONFLICT (id) DO NOTHING")
        new = self.cursor.rowcount
        self.cursor.execute("INSERT INTO version_statements (version_id, statement_id) "
                            "SELECT %s, id FROM load_statements ORDER BY id", (version_id,))
        self.cursor.execute("DROP TABLE load_statements")
        return total, new

    def _copy(self, table: str, cols: str, rows: Iterator[Row]) -> int:
        total = 0
        with self.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                total += 1
        return total


def find_version(connection: Connection, source: str, digest: str) -> dict | None:
    row = connection.execute(
        select(list_versions).where(list_versions.c.source == source,
                                    list_versions.c.content_hash == digest)
    ).mappings().first()
    return dict(row) if row else None


def load_list(engine: Engine, parsed: ParsedList, progress: Progress | None = None,
              workers: int | None = None, fork_with_threads: bool = False) -> LoadResult:
    """Store one list version; an identical file already loaded creates nothing.

    Any error while reading the file rolls the whole load back: the store is left as it was.
    ``workers``: processes parsing a list that can be read in parts (None: one a core for a
    list of ``PARALLEL_BYTES`` or more when this process runs no other thread, or
    ``fork_with_threads`` says its threads do nothing a forked worker could trip on; else one).
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
    # the writing only, never for the parse (a large list's rows wait in a temporary file)
    rows = _parse_rows(parsed, _seen_value(engine.dialect.name, published), progress,
                       _workers(parsed, workers, fork_with_threads))
    try:
        with write_transaction(engine) as connection:
            # a load of the same file that ran at the same time may have won the lock
            existing = find_version(connection, parsed.source, digest)
            if existing is not None:
                connection.execute(update(list_versions).where(list_versions.c.id == existing["id"])
                                   .values(checked_at=datetime.now(UTC)))
                return _unchanged(parsed.source, existing)
            empty = connection.execute(select(statements.c.id).limit(1)).first() is None
            dropped = _drop_indexes(connection, rows.rows, parsed.source)  # before this version exists
            version_id = inserted_id(connection.execute(
                insert(list_versions).values(
                    source=parsed.source, version=label, format=parsed.format, published=published,
                    content_hash=digest, files=json.dumps([p.name for p in parsed.paths]),
                    loaded_at=datetime.now(UTC), entity_count=0, statement_count=0,
                    schema_counts="{}",
                )
            ))
            count, new = _BulkWriter(connection).write(version_id, rows.runs.sorted_rows(), empty)
            _create_indexes(connection, dropped)
            if new < count:  # statements held before: their first and last seen now include this version
                _update_seen(connection, version_id, published)
            connection.execute(
                update(list_versions).where(list_versions.c.id == version_id).values(
                    entity_count=rows.entities, statement_count=count,
                    schema_counts=json.dumps(dict(sorted(rows.schema_counts.items()))),
                )
            )
    finally:
        rows.runs.close()
    return LoadResult(source=parsed.source, version=label, published=published, created=True,
                      entities=rows.entities, statements=count, schema_counts=dict(rows.schema_counts))


def _drop_indexes(connection: Connection, adding: int, source: str | None = None) -> list[str]:
    """Drop the ``BULK_INDEXES`` when a load adds at least as many rows as the store holds;
    their definitions, to build them again after the rows are in (same transaction: a failed
    load rolls the drop back too). A new version of a source already loaded is no such load:
    most of its statements are held already, and only the few new ones reach the indexes.

    PostgreSQL's DROP INDEX locks the table against readers until the load commits, so there
    only a load into an empty statements table drops them; SQLite's readers keep reading the
    last committed state (WAL) whatever the writer does."""
    if adding < MIN_ROWS_TO_REBUILD:
        return []
    if source is not None and connection.execute(
            select(list_versions.c.id).where(list_versions.c.source == source).limit(1)).first() is not None:
        return []
    dialect = connection.dialect.name
    if dialect == "sqlite":
        held = connection.execute(select(func.coalesce(func.sum(list_versions.c.statement_count), 0))).scalar_one()
        if adding < held:
            return []
        found = connection.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'statements'")).all()
    elif dialect == "postgresql":
        if connection.execute(select(statements.c.id).limit(1)).first() is not None:
            return []
        found = connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'statements' "
            "AND schemaname = current_schema()")).all()
    else:
        return []
    definitions = []
    for name, sql in found:
        if name in BULK_INDEXES and sql:
            connection.execute(text(f'DROP INDEX "{name}"'))
            definitions.append(sql)
    return definitions


def _create_indexes(connection: Connection, definitions: list[str]) -> None:
    if definitions and connection.dialect.name == "sqlite":
        # SQLite sorts an index's entries with helper threads when allowed (5.7M statements:
        # 47 s -> 32 s a index on 2 busy cores)
        connection.exec_driver_sql(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")
    for sql in definitions:
        connection.execute(text(sql))


def _unchanged(source: str, existing: dict) -> LoadResult:
    """The result of loading a file that is already a version of ``source``."""
    return LoadResult(
        source=source, version=existing["version"], published=existing["published"],
        created=False, entities=existing["entity_count"],
        statements=existing["statement_count"], schema_counts=json.loads(existing["schema_counts"]),
    )


@dataclass
class _ParsedRows:
    """Every statement row of a list, sorted runs in bounded memory, with its counts."""

    runs: _Runs = field(default_factory=_Runs)
    entities: int = 0
    rows: int = 0  # statement rows parsed, repeats included
    schema_counts: Counter[str] = field(default_factory=Counter)


def _workers(parsed: ParsedList, workers: int | None, fork_with_threads: bool = False) -> int:
    """How many processes parse the list: as asked, if it can be read in parts; unasked, one a
    core for a large list when this process can fork safely (no other thread: a service's
    loads stay in its own process), else one."""
    if parsed.parts is None or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if workers is None:
        size = sum(p.stat().st_size for p in parsed.paths)
        if size < PARALLEL_BYTES or (threading.active_count() > 1 and not fork_with_threads):
            return 1
        workers = os.cpu_count() or 1
    return max(1, workers)


def _parse_rows(parsed: ParsedList, seen_on: object, progress: Progress | None, workers: int = 1) -> _ParsedRows:
    """The statement rows of the whole list; ListFormatError for a repeated reference or no records."""
    if workers > 1 and parsed.parts is not None:
        result = _parse_parts(parsed, parsed.parts(workers), seen_on)
    else:
        result = _parse_records(parsed.records, parsed.source, seen_on, progress, path=str(parsed.paths[0]))
    if not result.entities:
        result.runs.close()
        raise ListFormatError(parsed.paths[0], None, "the file holds no records")
    if progress is not None:
        progress(result.entities)
    return result


def _parse_records(records: Iterable[Record], source: str, seen_on: object, progress: Progress | None,
                   path: str, spill_path: str | None = None) -> _ParsedRows:
    """The statement rows of these records, runs sorted (all spilled to ``spill_path`` if given)."""
    result = _ParsedRows(runs=_Runs(spill_path))
    references: set[str] = set()
    try:
        for refs, schemata, rows in _row_chunks(records, source, seen_on):
            for ref in refs:
                if ref in references:
                    raise ListFormatError(path, None, f"reference {ref} appears twice")
                references.add(ref)
            result.schema_counts.update(schemata)
            result.runs.add(rows)
            result.rows += len(rows)
            if progress is not None:
                progress(len(references))
        result.runs.finish()
    except BaseException:
        result.runs.close()
        raise
    result.entities = len(references)
    return result


def _parse_parts(parsed: ParsedList, parts: list[Iterator[Record]], seen_on: object) -> _ParsedRows:
    """The statement rows of a list read by one forked process a part, side by side: each
    writes its sorted runs to a file of its own and sends back where they are."""
    context = multiprocessing.get_context("fork")
    folder = tempfile.mkdtemp(prefix="jointwatch-load-")
    workers = []
    try:
        for i, part in enumerate(parts):
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_parse_part, name=f"jointwatch-load-{i}", daemon=True,
                                      args=(part, parsed.source, seen_on, str(parsed.paths[0]),
                                            os.path.join(folder, f"part-{i}"), send))
            process.start()
            send.close()
            workers.append((process, receive))
        answers = []
        for process, receive in workers:
            try:
                answers.append(receive.recv())
            except EOFError:
                answers.append(("failed", f"worker {process.name} ended without an answer"))
            process.join()
        for answer in answers:  # the first share's error is the first in the file
            if answer[0] == "list":
                raise ListFormatError(*answer[1:])
            if answer[0] == "failed":
                raise JointwatchError(f"reading {parsed.paths[0]} failed: {answer[1]}")
        result = _ParsedRows(runs=_Runs.joined([(a[1], a[2]) for a in answers if a[1] is not None]))
        for answer in answers:
            result.entities += answer[3]
            result.rows += answer[4]
            result.schema_counts.update(answer[5])
        return result
    finally:
        for process, _ in workers:
            if process.is_alive():
                process.kill()
                process.join()
        shutil.rmtree(folder, ignore_errors=True)


def _parse_part(part: Iterator[Record], source: str, seen_on: object, path: str, spill_path: str,
                send: multiprocessing.connection.Connection) -> None:
    """In a worker: parse one share of the list and send back where its runs are, or its error."""
    try:
        result = _parse_records(part, source, seen_on, None, path, spill_path)
        result.runs.close()
        send.send(("ok", spill_path if result.runs.runs else None, [b for _, b in result.runs.runs],
                   result.entities, result.rows, dict(result.schema_counts)))
    except ListFormatError as exc:
        send.send(("list", exc.path, exc.location, exc.reason))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the loading process
        send.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()


def _seen_value(dialect: str, published: date) -> object:
    # SQLAlchemy stores SQLite dates as ISO text; PostgreSQL's COPY reads the same text as a
    # date (and a row of plain strings can wait in a spill file, where a date object cannot)
    return published.isoformat()


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
