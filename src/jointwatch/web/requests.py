"""Requests for information in the console: inbox and outbox, one request with its history, and
each member's steps (the holder asks more, accepts or declines; the asker answers or withdraws).

The same calls as /requests (``open_request``, ``requests_of``, ``view_request`` and the step
functions): which step may follow which, and whose it is, is ``jointwatch.sharing.requests``'s
``STEPS``; a request is shown only to its two members, "not found" to anyone else exactly as
one that does not exist. Every step is a POST with the session's form token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from jointwatch.api import Right
from jointwatch.errors import InvalidInputError, JointwatchError
from jointwatch.releasability import HANDLING_CODES, TLP_LEVELS
from jointwatch.sharing import (
    PENDING,
    STATES,
    STEPS,
    URGENCIES,
    Release,
    Subject,
    accept_request,
    answer_request,
    ask_more,
    decline_request,
    open_request,
    requests_of,
    view_entry,
    view_request,
    withdraw_request,
)
from jointwatch.web.pages import Refused, audit, field, form_of, redirect, render, require, viewer_of
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
Ref = Annotated[str, Path(min_length=1, max_length=64)]
Box = Literal["inbox", "outbox"]


def _date(fields: dict[str, list[str]], name: str) -> date | None:
    text = field(fields, name)
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise InvalidInputError(f"{name} {text[:20]!r} is not a date (YYYY-MM-DD)") from None


def _hit_form(fields: dict[str, list[str]]) -> dict[str, str]:
    return {k: field(fields, k) for k in ("holder", "token", "epoch", "name", "birth_date", "nationality", "note",
                                          "reason", "legal_basis", "urgency", "deadline")}


@router.post("/requests/new", response_class=HTMLResponse)
async def new_request(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The form to request a blind hit's entry, filled with the hit (a POST from the discovery
    page, so the name asked never sits in a URL)."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.SHARE, "request information")
    return render(request, "request_new.html", viewer=viewer, active="sharing", sent=_hit_form(fields),
                  urgencies=URGENCIES)


@router.post("/requests", response_class=HTMLResponse)
async def create(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Open a request to the holder of a blind hit, as POST /requests does."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.SHARE, "request information")
    sent = _hit_form(fields)
    try:
        subject = Subject(sent["name"], sent["birth_date"], sent["nationality"], (), sent["note"])
        deadline = _date(fields, "deadline")
        made = await anyio.to_thread.run_sync(lambda: open_request(
            request.app.state.engine, viewer.member_id, viewer.user.user, sent["holder"], sent["token"],
            sent["epoch"], subject, sent["reason"], sent["legal_basis"], sent["urgency"] or "routine", deadline))
    except JointwatchError as refused:
        await audit(request, viewer, "requests.open", refused.http_status, summary=f"request: refused: {refused}")
        return render(request, "request_new.html", refused.http_status, viewer=viewer, active="sharing",
                      sent=sent, urgencies=URGENCIES, error=str(refused))
    await audit(request, viewer, "requests.open", 201, summary=f"request {made.ref} opened ({made.urgency})")
    return redirect(f"/requests/{made.ref}")


@router.get("/requests", response_class=HTMLResponse)
async def listing(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)], box: Box = "inbox",
                  state: Annotated[str | None, Query(max_length=32)] = None) -> HTMLResponse:
    """The member's inbox (requests to it as holder) or outbox (its own), newest first, flagged
    "due soon" or "overdue"."""
    require(viewer, Right.SHARE, "read requests")
    wanted = (state,) if state else ()
    try:
        found = await anyio.to_thread.run_sync(requests_of, request.app.state.engine, viewer.member_id, box, wanted)
    except JointwatchError as refused:
        raise Refused(refused.http_status, str(refused)) from None
    await audit(request, viewer, "requests.read", 200, summary=f"{len(found)} requests ({box})")
    return render(request, "requests.html", viewer=viewer, active="sharing", box=box, state=state or "",
                  states=STATES, found=found)


@router.get("/requests/{ref}", response_class=HTMLResponse)
async def show(ref: Ref, request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """One request with its history, for its asker or holder ("not found" for anyone else)."""
    require(viewer, Right.SHARE, "read requests")
    try:
        view = await anyio.to_thread.run_sync(view_request, request.app.state.engine, ref, viewer.member_id)
    except JointwatchError as refused:
        await audit(request, viewer, "requests.show", refused.http_status, summary=f"request {ref[:64]}: refused")
        raise Refused(refused.http_status, str(refused)) from None
    # the holder's accept form starts from its entry's own labels (the holder's entry: no "viewed" on its trail)
    entry = None
    if view.entry_ref and view.request.state in PENDING:
        try:
            entry = (await anyio.to_thread.run_sync(view_entry, request.app.state.engine, view.entry_ref,
                                                    viewer.member_id)).entry
        except JointwatchError:
            entry = None  # withdrawn or gone: accepting will say why
    await audit(request, viewer, "requests.show", 200, summary=f"request {view.request.ref}")
    return render(request, "request.html", viewer=viewer, active="sharing", view=view, entry=entry,
                  tlp_levels=TLP_LEVELS, handling_codes=HANDLING_CODES,
                  mine=[a for a, s in STEPS.items() if s.side == view.role and view.request.state in s.before])


def _release(fields: dict[str, list[str]]) -> Release:
    """What the asker gets: TLP and handling codes as chosen (the library checks them), expiry, a note."""
    tlp = field(fields, "tlp")
    return Release(tlp or None, tuple(v.strip() for v in fields.get("handling", []) if v.strip()),
                   _date(fields, "expires_on"), field(fields, "note"))


# each step: the library call, given (engine, ref, member, user, fields)
STEP_CALLS: dict[str, Callable[[Any, str, int, str, dict[str, list[str]]], Any]] = {
    "ask": lambda e, r, m, u, f: ask_more(e, r, m, u, field(f, "text")),
    "answer": lambda e, r, m, u, f: answer_request(e, r, m, u, field(f, "text")),
    "accept": lambda e, r, m, u, f: accept_request(e, r, m, u, _release(f)),
    "decline": lambda e, r, m, u, f: decline_request(e, r, m, u, field(f, "reason")),
    "withdraw": lambda e, r, m, u, f: withdraw_request(e, r, m, u, field(f, "reason")),
}
StepName = Literal["ask", "answer", "accept", "decline", "withdraw"]


@router.post("/requests/{ref}/{step}", response_class=HTMLResponse)
async def take_step(ref: Ref, step: StepName, request: Request,
                    viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """One step of a request (its side and the request's state checked by the library, as for
    POST /requests/{ref}/{step}); back to the request's page."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.SHARE, "act on requests")
    call = STEP_CALLS[step]
    try:
        await anyio.to_thread.run_sync(lambda: call(request.app.state.engine, ref, viewer.member_id,
                                                    viewer.user.user, fields))
    except JointwatchError as refused:
        await audit(request, viewer, f"requests.{step}", refused.http_status, summary=f"{step} {ref[:64]}: refused")
        raise Refused(refused.http_status, str(refused)) from None
    await audit(request, viewer, f"requests.{step}", 200, summary=f"{step} {ref}")
    return redirect(f"/requests/{ref}")
