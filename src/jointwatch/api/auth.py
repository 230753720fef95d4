"""Who is calling and what their role allows: API keys, roles, rights, and the audit note.

Every protected route depends on ``authorize(action, right)``. ``AuthenticateMiddleware``
checks the key of such a route before anything reads the body (401: no, unknown or revoked
key), so a large body without a valid key costs nothing, and leaves an ``AuditNote`` on the
request that the audit middleware turns into one audit row, also for the refusals that come
before the route (400 not JSON, 413 too large, a NUL in the query) once the member is known.
The dependency then refuses 403 (role without the right) or 429 (over the rate, ``ratelimit``).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from starlette.datastructures import Headers
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from jointwatch.api.problems import problem_response
from jointwatch.store import ApiKey, RevocationCheck, find_key, key_digest


class Right(StrEnum):
    SCREEN = "screen"                  # POST /match, POST /screen
    READ_REGISTER = "read_register"    # GET /entities, GET /lists
    DECIDE = "decide"                  # POST /decisions, GET /decisions (own member)
    READ_AUDIT = "read_audit"          # GET /audit (own member)
    MANAGE_KEYS = "manage_keys"        # GET /keys (own member)
    SHARE = "share"                    # /shared/entries: share, edit, withdraw, read partner entries
    MANAGE_SHARING = "manage_sharing"  # /shared/groups, federation links and signing keys
    FEDERATE = "federate"              # /federation: a connected server pushing and pulling bundles


RIGHTS: dict[str, frozenset[Right]] = {
    "screener": frozenset({Right.SCREEN, Right.READ_REGISTER}),
    "analyst": frozenset({Right.SCREEN, Right.READ_REGISTER, Right.DECIDE, Right.READ_AUDIT, Right.SHARE}),
    "admin": frozenset(Right) - {Right.FEDERATE},
    # the key another jointwatch server presents over a federation link: sync and nothing else
    "peer": frozenset({Right.FEDERATE}),
}


@dataclass
class AuditNote:
    """What the audit row of this request will say; routes fill in subject and result."""

    action: str
    key: ApiKey | None = None
    # the subject as sent: the audit row holds its keyed digest (store.audit), never the subject
    subject: Any = None
    digest: str | None = None  # a digest already made (a job's, at submission), used as it is
    list_versions: dict[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass(frozen=True)
class Caller:
    """An authenticated, authorised caller and the audit note of their request."""

    key: ApiKey
    note: AuditNote

    @property
    def member_id(self) -> int:
        return self.key.member_id


# auto_error=False: a missing key is our 401 problem, not FastAPI's 403
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <key>")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same key in an X-API-Key header")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


# TAXII clients (taxii2-client, OpenCTI, MISP) send HTTP Basic credentials: under this prefix the
# key is also taken as a Basic password (any user name); elsewhere Basic stays refused, so a
# browser never offers to remember a key for the rest of the API
BASIC_AUTH_PREFIX = "/taxii2/"


def presented_key(headers: Headers, path: str = "") -> str | None:
    """The key sent as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` (or, under /taxii2/,
    as the password of ``Authorization: Basic``), if any."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    if scheme.lower() == "basic" and credentials.strip() and path.startswith(BASIC_AUTH_PREFIX):
        return _basic_password(credentials.strip())
    return headers.get("x-api-key", "").strip() or None


def _basic_password(credentials: str) -> str | None:
    """The password of Basic ``credentials`` (base64 of user:password), or None if they are not that."""
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _user, colon, password = decoded.partition(":")
    return password.strip() or None if colon else None


class KeyCache:
    """The active keys this process has seen, by the digest of the presented secret.

    A key found once (``find_key``: its row read, its secret's digest compared) is kept, and each
    later request asks the store only whether it is revoked (``RevocationCheck``: one read by
    primary key on a connection held for it; on SQLite without a thread hand-off), so a revocation by the CLI or
    by another worker refuses the key at its very next request to any worker. Keys are never
    edited otherwise (no role or member change), so nothing else can go stale."""

    MAX_KEYS = 10_000  # past this many distinct keys the cache starts again

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.revocations = RevocationCheck(engine)
        self._keys: dict[str, ApiKey] = {}

    async def find(self, presented: str) -> ApiKey | None:
        """The key record of ``presented`` (revoked or not), or None for an unknown key."""
        digest = key_digest(presented)
        key = self._keys.get(digest)
        if key is not None:
            if self.revocations.local:
                revoked = self.revocations.revoked(key.id)  # a read of a local file: microseconds
            else:  # a round trip to a server: never on the event loop, which a stalled server would freeze
                revoked = await anyio.to_thread.run_sync(self.revocations.revoked, key.id)
            if not revoked:
                return key
            self._keys.pop(digest, None)  # read again below: the refusal names when it was revoked
        key = await anyio.to_thread.run_sync(find_key, self.engine, presented)
        if key is not None and key.active:
            if len(self._keys) >= self.MAX_KEYS:
                self._keys.clear()
            self._keys[digest] = key
        return key


async def authenticate(keys: KeyCache, presented: str | None, note: AuditNote) -> str | None:
    """Why the key ``presented`` is refused (401), or None; ``note.key`` is set once the key is
    known, revoked or not, so that from there on even a refusal is audited under its member."""
    if not presented:
        return "no API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
    key = await keys.find(presented)
    if key is None:
        return "the API key is not valid"
    note.key = key
    return None if key.active else "the API key has been revoked"


def _within_rate(request: Request, key: ApiKey) -> None:
    """Raise 429 with Retry-After when this key is over its rate."""
    wait = request.app.state.rate_limiter.retry_after(key.id)
    if wait is None:
        return
    # not audited: the limit protects the store, and a row per refused request would defeat it
    # (the refusals are counted in /metrics)
    request.state.audit = None
    raise HTTPException(429, f"over the rate limit of this key; retry in {wait} s", headers={"Retry-After": str(wait)})


def authorize(action: str, right: Right) -> Callable[..., Any]:
    """A dependency: the caller if their key is valid and their role has ``right``."""

    async def dependency(request: Request,
                         bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                         header_key: Annotated[str | None, Depends(_header)]) -> Caller:
        note = getattr(request.state, "audit", None)
        if not isinstance(note, AuditNote) or note.key is None or not note.key.active:
            # AuthenticateMiddleware has checked the key already; this is for routes served without it
            note = AuditNote(action)
            request.state.audit = note
            refused = await authenticate(request.app.state.keys,
                                          presented_key(request.headers, request.url.path), note)
            if refused:
                raise _unauthorized(refused)
        assert note.key is not None
        note.action = action
        _within_rate(request, note.key)
        if right not in RIGHTS.get(note.key.role, frozenset()):
            raise HTTPException(403, f"role {note.key.role!r} may not {action}")
        return Caller(note.key, note)

    dependency.audit_action = action  # type: ignore[attr-defined]  # read by keyed_routes
    return dependency


@dataclass(frozen=True)
class KeyedRoute:
    """A route behind ``authorize``: where it is, and the action its audit rows are filed under."""

    methods: frozenset[str]
    path: re.Pattern[str]
    template: str  # the path as declared ("/jobs/{job_id}"): the metrics label of a refusal here
    action: str


def keyed_routes(routers: Iterable[APIRouter]) -> list[KeyedRoute]:
    """The routes of ``routers`` (included without a prefix) that depend on ``authorize``."""
    found = []
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            actions = [getattr(d.call, "audit_action", None) for d in route.dependant.dependencies]
            action = next((a for a in actions if a), None)
            if action:
                methods = frozenset(route.methods or ())
                found.append(KeyedRoute(methods, compile_path(route.path)[0], route.path, action))
    return found


class AuthenticateMiddleware:
    """Checks the key of a keyed route before the body is read, and notes its audit row.

    Ahead of the body limit and FastAPI's body parsing: a request without a valid key is
    refused (401) having read nothing, and every refusal after this point (400 not JSON,
    413, a NUL in the query) is audited under the member. Other paths (health, metrics,
    the docs, unknown routes) pass untouched."""

    def __init__(self, app: ASGIApp, keys: KeyCache, routes: list[KeyedRoute]) -> None:
        self.app = app
        self.keys = keys
        self.routes = routes

    def _route(self, scope: Scope) -> KeyedRoute | None:
        path, method = str(scope["path"]), str(scope["method"])
        return next((r for r in self.routes if method in r.methods and r.path.match(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._route(scope) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        note = AuditNote(route.action)
        state = scope.setdefault("state", {})
        state["audit"] = note
        state["route_template"] = route.template  # a refusal from here on never reaches the router
        refused = await authenticate(self.keys, presented_key(Headers(scope=scope), str(scope["path"])), note)
        if refused:
            await problem_response(401, refused, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        await self.app(scope, receive, send)
