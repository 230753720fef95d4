"""Who is calling and what their role allows: API keys, roles, rights, and the audit note.

Every protected route depends on ``authorize(action, right)``. It finds the key, refuses
with 401 (no, unknown or revoked key) or 403 (role without the right), and leaves an
``AuditNote`` on the request that the audit middleware turns into one audit row, also for
refusals once the member is known. A key over its rate limit gets 429 (``ratelimit``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from jointwatch.store.members import ApiKey, find_key


class Right(StrEnum):
    SCREEN = "screen"                  # POST /match, POST /screen
    READ_REGISTER = "read_register"    # GET /entities, GET /lists
    DECIDE = "decide"                  # POST /decisions, GET /decisions (own member)
    READ_AUDIT = "read_audit"          # GET /audit (own member)
    MANAGE_KEYS = "manage_keys"        # GET /keys (own member)


RIGHTS: dict[str, frozenset[Right]] = {
    "screener": frozenset({Right.SCREEN, Right.READ_REGISTER}),
    "analyst": frozenset({Right.SCREEN, Right.READ_REGISTER, Right.DECIDE, Right.READ_AUDIT}),
    "admin": frozenset(Right),
}


@dataclass
class AuditNote:
    """What the audit row of this request will say; routes fill in subject and result."""

    action: str
    key: ApiKey | None = None
    subject: str | None = None
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


def _within_rate(request: Request, key: ApiKey) -> None:
    """Raise 429 with Retry-After when this key is over its rate."""
    wait = request.app.state.rate_limiter.retry_after(key.id)
    if wait is None:
        return
    # not audited: the limit protects the store, and a row per refused request would defeat it
    # (the refusals are counted in /metrics)
    request.state.audit = None
    raise HTTPException(429, f"over the rate limit of this key; retry in {wait} s", headers={"Retry-After": str(wait)})


def authorize(action: str, right: Right) -> Callable[..., Caller]:
    """A dependency: the caller if their key is valid and their role has ``right``."""

    def dependency(request: Request,
                   bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                   header_key: Annotated[str | None, Depends(_header)]) -> Caller:
        note = AuditNote(action)
        request.state.audit = note
        presented = bearer.credentials if bearer else header_key
        if not presented:
            raise _unauthorized("no API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'")
        key = find_key(request.app.state.engine, presented.strip())
        if key is None:
            raise _unauthorized("the API key is not valid")
        note.key = key  # from here on the member is known, so even a refusal is audited
        if not key.active:
            raise _unauthorized("the API key has been revoked")
        _within_rate(request, key)
        if right not in RIGHTS.get(key.role, frozenset()):
            raise HTTPException(403, f"role {key.role!r} may not {action}")
        return Caller(key, note)

    return dependency
