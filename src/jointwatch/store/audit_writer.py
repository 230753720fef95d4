"""Audit rows written in group commits: the rows of concurrent requests share one transaction.

A service writes one audit row per request and answers only once that row is committed, so an
answer is never sent that the trail does not hold, even if the process is killed right after.
Committing each row on its own costs a transaction (and, on SQLite with ``synchronous=FULL``,
an fsync) per request and makes every request queue for the store's one write lock. Here one
thread takes the rows as they come, writes all those waiting in one transaction, commits, and
only then tells each row's caller (``done``): while a batch commits the next one gathers, so the
cost of a commit is shared by every request that arrived meanwhile, and no caller hears "written"
before its row is durable.

On SQLite the writer's own connection commits with ``synchronous=FULL`` (the WAL is synced at
every commit), so a committed row survives a power cut as well as a killed process; the rest of
the store keeps ``NORMAL``. On PostgreSQL a commit is durable already (``synchronous_commit``).

A batch the store is too busy to take (StoreBusyError) fails for each of its callers, as a lone
row would. Any other error is retried row by row, so one row the database refuses cannot take its
neighbours down with it.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert

from jointwatch.errors import StoreBusyError
from jointwatch.store.audit import keyed_digest
from jointwatch.store.audit_keys import current_key
from jointwatch.store.schema import audit

log = logging.getLogger("jointwatch.store")

Done = Callable[[BaseException | None], None]
MAX_BATCH = 512  # rows in one transaction at most


def _rows(connection: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``record``'s arguments as audit table rows, each subject digested under the current key."""
    key = None
    now = datetime.now(UTC)
    out = []
    for row in rows:
        digest = row.get("digest")
        if digest is None and row.get("subject") is not None:
            key = key or current_key(connection)
            digest = keyed_digest(key, row["subject"])
        out.append({"member_id": row["member_id"], "user": row["user"], "action": row["action"],
                    "subject_digest": digest,
                    "list_versions": json.dumps(row.get("list_versions") or {}, sort_keys=True),
                    "result_summary": row.get("result_summary", ""), "status": row["status"],
                    "at": row.get("at") or now})
    return out


def write_audit_rows(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` (each ``record``'s arguments) in ``connection``'s transaction, in one statement."""
    if rows:
        connection.execute(insert(audit), _rows(connection, rows))


class AuditWriter:
    """One thread per process that commits the audit rows handed to it in batches.

    ``submit(row, done)`` queues a row (``store.audit.record``'s keyword arguments); ``done(None)``
    is called once it is committed, ``done(error)`` if it could not be. ``done`` is called on the
    writer's thread and must not block. The thread starts on first use in each process, so a
    writer made before the service forks its workers serves each worker with a thread of its own."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.batches = 0   # transactions committed by this process, for the benchmark and tests
        self.rows = 0
        self._queue: queue.SimpleQueue[tuple[dict[str, Any], Done]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid = -1
        self._connection: Connection | None = None

    def submit(self, row: dict[str, Any], done: Done) -> None:
        self._start()
        self._queue.put((row, done))

    def _start(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                # a forked worker: the queue and connection of the parent are not this process's
                self._queue = queue.SimpleQueue()
                self._connection = None
                threading.Thread(target=self._run, name="jointwatch-audit-writer", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            for (_row, done), error in zip(batch, self._write(batch), strict=True):
                try:
                    done(error)
                except Exception:
                    log.exception("audit writer: a caller's callback failed")

    def _connect(self) -> Connection:
        if self._connection is None:
            connection = self.engine.connect()
            if self.engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA synchronous=FULL")
                connection.commit()
            self._connection = connection
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.exception("audit writer: closing a failed connection")
            self._connection = None

    def _write(self, batch: list[tuple[dict[str, Any], Done]]) -> list[BaseException | None]:
        """One transaction for the whole batch; its outcome for each row."""
        rows = [row for row, _done in batch]
        try:
            connection = self._connect()
            with connection.begin():
                write_audit_rows(connection, rows)
        except StoreBusyError as busy:
            self._drop_connection()
            return [busy] * len(rows)
        except Exception:
            log.exception("audit writer: a batch of %d rows failed; writing them one by one", len(rows))
            self._drop_connection()
            return [self._write_one(row) for row in rows]
        self.batches += 1
        self.rows += len(rows)
        return [None] * len(rows)

    def _write_one(self, row: dict[str, Any]) -> BaseException | None:
        try:
            connection = self._connect()
            with connection.begin():
                write_audit_rows(connection, [row])
        except Exception as error:  # noqa: BLE001 - handed to the row's caller, who raises it
            self._drop_connection()
            return error
        self.rows += 1
        return None
