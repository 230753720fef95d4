"""ASGI middleware: request body limit, and per-request metrics plus the audit row.

Plain ASGI rather than BaseHTTPMiddleware so that the audit row is written before the
response starts: a request is never answered without being audited.
"""

from __future__ import annotations

import time
from functools import partial

import anyio
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jointwatch.api.auth import AuditNote
from jointwatch.api.metrics import Metrics
from jointwatch.api.problems import problem_response
from jointwatch.store.audit import record


def _has_nul(scope: Scope) -> bool:
    """The path or query string carries a NUL character (raw or as %00)."""
    query = bytes(scope.get("query_string") or b"")
    return "\x00" in str(scope.get("path", "")) or b"\x00" in query or b"%00" in query


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
            await problem_response(400, "the path or query string contains a NUL character")(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await problem_response(400, "Content-Length is not a number")(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await problem_response(413, f"the body is over {self.max_bytes:,} bytes",
                                       "too-large")(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            # a chunked body has no Content-Length: count what actually arrives
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, f"the body is over {self.max_bytes:,} bytes")
            return message

        await self.app(scope, limited, send)


def _route_of(scope: Scope) -> str:
    # the route template, never the raw path: a path holds references and would explode the label set
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    # plain Starlette routes (/openapi.json, /docs) have fixed paths; anything else matched nothing
    return str(scope["path"]) if scope.get("endpoint") is not None else "unmatched"


class ObserveMiddleware:
    """Counts and times every request, and writes the audit row its route left a note for."""

    def __init__(self, app: ASGIApp, engine: Engine, metrics: Metrics) -> None:
        self.app = app
        self.engine = engine
        self.metrics = metrics

    async def _audit(self, scope: Scope, status: int) -> None:
        note = scope["state"].get("audit")
        if not isinstance(note, AuditNote) or note.key is None:
            return  # no data route, or nobody known to file it under (unknown key)
        await anyio.to_thread.run_sync(partial(
            record, self.engine, note.key.member_id, note.key.user, note.action, status, note.subject,
            note.list_versions, note.summary))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # a state of this request's own, so concurrent requests never share an audit note
        scope = {**scope, "state": dict(scope.get("state") or {})}
        started = time.perf_counter()
        status = 500
        audit_tried = False

        async def observed_send(message: Message) -> None:
            nonlocal status, audit_tried
            if message["type"] == "http.response.start":
                status = int(message["status"])
                audit_tried = True
                await self._audit(scope, status)
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        except Exception:
            if not audit_tried:
                await self._audit(scope, 500)
            raise
        finally:
            self.metrics.observe(scope["method"], _route_of(scope), status, time.perf_counter() - started)
