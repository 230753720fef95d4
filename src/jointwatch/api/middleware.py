"""ASGI middleware: request body limit, and per-request metrics plus the audit row.

Plain ASGI rather than BaseHTTPMiddleware so that the audit row is written before the
response starts: a request is never answered without being audited.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jointwatch.api.auth import AuditNote
from jointwatch.api.metrics import Metrics
from jointwatch.api.problems import problem_response
from jointwatch.errors import StoreBusyError
from jointwatch.store import AuditWriter, record

log = logging.getLogger("jointwatch.api")


def _has_nul(scope: Scope) -> bool:
    """The path or query string carries a NUL character (raw or as %00)."""
    query = bytes(scope.get("query_string") or b"")
    return "\x00" in str(scope.get("path", "")) or b"\x00" in query or b"%00" in query


def _refused(scope: Scope, why: str) -> None:
    """Say in the request's audit note (when a key was checked) why it was refused before its route."""
    note = (scope.get("state") or {}).get("audit")
    if isinstance(note, AuditNote):
        note.summary = f"refused: {why}"


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_bytes`` with 413, by Content-Length or while reading.

    Being the first to see every request, it also refuses a NUL character in the path or
    query string with 400: no reference, source or version has one, and PostgreSQL cannot
    even compare text with it, so it would otherwise surface as a 500.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            _refused(scope, "a NUL character in the path or query string")
            await problem_response(400, "the path or query string contains a NUL character")(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        too_large = f"the body is over {self.max_bytes:,} bytes"
        if declared is not None:
            if not declared.isdigit():
                _refused(scope, "Content-Length is not a number")
                await problem_response(400, "Content-Length is not a number")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                _refused(scope, too_large)
                await problem_response(413, too_large, "too-large")(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            # a chunked body has no Content-Length: count what actually arrives
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    _refused(scope, too_large)
                    raise HTTPException(413, too_large)
            return message

        await self.app(scope, limited, send)


def _route_of(scope: Scope) -> str:
    # the route template, never the raw path: a path holds references and would explode the label set
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    template = (scope.get("state") or {}).get("route_template")
    if template is not None:  # a keyed route refused before routing (401, 413 …): AuthenticateMiddleware
        return str(template)
    # plain Starlette routes (/openapi.json, /docs) have fixed paths; anything else matched nothing
    return str(scope["path"]) if scope.get("endpoint") is not None else "unmatched"


class AuditBacklog:
    """Audit rows the store was too busy to take when their request was answered (with 503):
    one thread writes them, retrying until the store takes each, so none is lost while the
    service runs. Rows still waiting when the process ends are logged."""

    RETRY_SECONDS = (1, 2, 5, 10, 30)  # waits between attempts, on top of each attempt's busy timeout

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._rows: queue.Queue[dict[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, row: dict[str, Any]) -> None:
        """Write ``row`` (``store.audit.record``'s arguments) as soon as the store takes it."""
        self._rows.put(row)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="jointwatch-audit-backlog", daemon=True)
                self._thread.start()

    def join(self) -> None:
        """Return once every row put so far is written (or failed for another reason than a busy store)."""
        self._rows.join()

    def pending(self) -> int:
        return self._rows.unfinished_tasks

    def _run(self) -> None:
        while True:
            row = self._rows.get()
            try:
                self._write(row)
            finally:
                self._rows.task_done()

    def _write(self, row: dict[str, Any]) -> None:
        for attempt in range(1_000_000):
            try:
                record(self.engine, **row)
                return
            except StoreBusyError:
                time.sleep(self.RETRY_SECONDS[min(attempt, len(self.RETRY_SECONDS) - 1)])
            except Exception:
                log.exception("audit row could not be written: %s", {k: row[k] for k in ("member_id", "action")})
                return


async def committed(writer: AuditWriter, row: dict[str, Any]) -> None:
    """Return once ``row`` is committed by ``writer`` (in a batch with the rows of other requests),
    or raise why it could not be. The request's task waits on the event loop; no thread is held."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if future.done():
            return  # the request was cancelled meanwhile; its row is written all the same
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)

    def done(error: BaseException | None) -> None:  # on the writer's thread
        loop.call_soon_threadsafe(settle, error)

    writer.submit(row, done)
    await future


class ObserveMiddleware:
    """Counts and times every request, and writes the audit row its route left a note for.

    The row is written before the answer starts. When the store is too busy to take it (a
    writer held it past the busy timeout), the answer is not sent: the caller gets 503 with
    Retry-After instead, and a row for that 503 goes to the ``AuditBacklog``."""

    def __init__(self, app: ASGIApp, writer: AuditWriter, metrics: Metrics, backlog: AuditBacklog) -> None:
        self.app = app
        self.writer = writer
        self.metrics = metrics
        self.backlog = backlog

    @staticmethod
    def _row(scope: Scope, status: int) -> dict[str, Any] | None:
        note = scope["state"].get("audit")
        if not isinstance(note, AuditNote) or note.key is None:
            return None  # no data route, or nobody known to file it under (unknown key)
        # stamped with the request's arrival, not the commit: what a request started (a batch job) may finish and
        # write its own row before this one is committed, and the trail must read submission first
        return {"member_id": note.key.member_id, "user": note.key.user, "action": note.action, "status": status,
                "subject": note.subject, "list_versions": note.list_versions, "result_summary": note.summary,
                "digest": note.digest, "at": scope["state"]["received"]}

    async def _audit(self, scope: Scope, status: int) -> StoreBusyError | None:
        """Write the request's audit row; the error if the store was too busy (the row then waits
        in the backlog, as a 503: the answer it was for will not be sent)."""
        row = self._row(scope, status)
        if row is None:
            return None
        try:
            await committed(self.writer, row)
        except StoreBusyError as busy:
            summary = (f"not answered, the store was busy (arrived {row['at']:%Y-%m-%dT%H:%M:%SZ}; {status}: "
                       f"{row['result_summary']})")
            # stamped when it is written, a minute or more after the request: a reader following the trail by time
            # (GET /audit?since=) would otherwise never see it
            self.backlog.put({**row, "at": None, "status": busy.http_status, "result_summary": summary})
            return busy
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # a state of this request's own, so concurrent requests never share an audit note
        scope = {**scope, "state": {**(scope.get("state") or {}), "received": datetime.now(UTC)}}
        started = time.perf_counter()
        status = 500
        audit_tried = False
        replaced = False

        async def busy_answer(busy: StoreBusyError) -> None:
            nonlocal status, replaced
            status, replaced = busy.http_status, True
            await problem_response(busy.http_status, str(busy), busy.slug,
                                   headers={"Retry-After": str(busy.retry_after)})(scope, receive, send)

        async def observed_send(message: Message) -> None:
            nonlocal status, audit_tried
            if replaced:
                return  # the app's answer was not audited, so none of it is sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                audit_tried = True
                busy = await self._audit(scope, status)
                if busy is not None:
                    await busy_answer(busy)
                    return
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except Exception:
            if not audit_tried:
                busy = await self._audit(scope, 500)
                if busy is not None:
                    await busy_answer(busy)
                    return
            raise
        finally:
            self.metrics.observe(scope["method"], _route_of(scope), status, time.perf_counter() - started)
