"""GET /audit and GET /keys: a member's own trail and keys. Read-only by design."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.problems import PROBLEM_RESPONSES
from jointwatch.store import MAX_LIMIT, ApiKey, AuditEntry, list_keys, read_audit

router = APIRouter(tags=["members"])


@router.get("/audit", response_model=list[AuditEntry], responses=PROBLEM_RESPONSES)
def audit_trail(request: Request, caller: Annotated[Caller, Depends(authorize("audit.read", Right.READ_AUDIT))],
                since: Annotated[datetime | None, Query(description="ISO 8601 time; rows at or after it.")] = None,
                limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000) -> list[AuditEntry]:
    """The audit rows of the caller's member, oldest first. There is no route that changes them."""
    rows = read_audit(request.app.state.engine, caller.member_id, since, limit)
    caller.note.summary = f"{len(rows)} audit rows"
    return rows


@router.get("/keys", response_model=list[ApiKey], responses=PROBLEM_RESPONSES)
def keys(request: Request,
         caller: Annotated[Caller, Depends(authorize("keys.read", Right.MANAGE_KEYS))]) -> list[ApiKey]:
    """The caller's member's API keys (prefixes and roles; secrets are never stored)."""
    found = list_keys(request.app.state.engine, caller.member_id)
    caller.note.summary = f"{len(found)} keys"
    return found
