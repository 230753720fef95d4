"""The alerts queue: what the tool flagged for the viewer's member, filtered, a page at a time;
an alert's page with the explanation, its history and the decide form.

The same calls as GET /alerts, GET /alerts/counts, GET /alerts/{id}, POST /alerts/{id}/assign
and POST /alerts/{id}/decide (``alerts_page``, ``count_alerts_by_state``, ``get_alert``,
``assign_alert``, ``decide_alert``), with the same right (DECIDE, as decisions): another
member's alert is not found, exactly as in the API.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from jointwatch.api import Right
from jointwatch.errors import JointwatchError
from jointwatch.store import (
    ALERTS_PER_PAGE,
    ORIGINS,
    STATE_FILTERS,
    Engine,
    alert_history,
    alerts_page,
    assign_alert,
    count_alerts_by_state,
    decide_alert,
    get_alert,
    member_users,
)
from jointwatch.web.pages import Refused, audit, field, form_of, redirect, render, require, viewer_of
from jointwatch.web.screening import VERDICTS
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
STATE_LABELS = {"open": "Open", "assigned": "Assigned", "true_positive": "True match", "false_positive": "False match",
                "withdrawn": "Withdrawn", "decided": "Decided"}
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]   # PostgreSQL's integer: a larger number is a 422


def _explanation(raw: str | None) -> dict[str, Any] | None:
    try:
        found = json.loads(raw) if raw else None
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


@router.get("/alerts", response_class=HTMLResponse)
async def alerts(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)],
                 state: Annotated[str, Query(max_length=16)] = "",
                 origin: Annotated[str, Query(max_length=16)] = "",
                 source: Annotated[str, Query(max_length=64)] = "",
                 assignee: Annotated[str, Query(max_length=128)] = "",
                 q: Annotated[str, Query(max_length=200)] = "",
                 before: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> HTMLResponse:
    """The member's alerts newest first, 50 to a page, filtered as GET /alerts filters them."""
    require(viewer, Right.DECIDE, "read alerts")
    if state and state not in STATE_FILTERS:
        raise Refused(422, f"There is no state {state!r}.")
    if origin and origin not in ORIGINS:
        raise Refused(422, f"There is no origin {origin!r}.")
    engine = request.app.state.engine
    if assignee == "me":
        assignee = viewer.user.user
    try:
        found = await anyio.to_thread.run_sync(lambda: alerts_page(
            engine, viewer.member_id, ALERTS_PER_PAGE + 1, before, state=state or None, origin=origin or None,
            source=source.strip() or None, assignee=assignee.strip() or None, text=q or None))
    except JointwatchError as refused:
        raise Refused(refused.http_status, str(refused)) from None
    counts = await anyio.to_thread.run_sync(count_alerts_by_state, engine, viewer.member_id)
    shown = found[:ALERTS_PER_PAGE]
    filters = {"state": state, "origin": origin, "source": source, "assignee": assignee, "q": q}
    kept = {k: v for k, v in filters.items() if v}
    older = (urlencode({**kept, "before": shown[-1].id}) if len(found) > ALERTS_PER_PAGE and shown else None)
    await audit(request, viewer, "alert.read", 200, summary=f"{len(shown)} alerts ({urlencode(kept) or 'all'})")
    return render(request, "alerts.html", viewer=viewer, alerts=shown, counts=counts, filters=filters,
                  states=STATE_LABELS, origins=ORIGINS, older=older, newest=urlencode(kept),
                  first_page=before is None, back=request.url.query)


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
async def alert(request: Request, alert_id: AlertId, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """One alert: the match and its explanation, where it came from, its history, assign and decide."""
    require(viewer, Right.DECIDE, "read alerts")
    engine = request.app.state.engine
    try:
        found = await anyio.to_thread.run_sync(get_alert, engine, viewer.member_id, alert_id)
        history = await anyio.to_thread.run_sync(alert_history, engine, viewer.member_id, alert_id)
    except JointwatchError as refused:
        await audit(request, viewer, "alert.read", refused.http_status, summary=f"refused: {refused}")
        raise Refused(refused.http_status, str(refused)) from None
    users = await anyio.to_thread.run_sync(member_users, engine, viewer.member_id)
    waiting = await anyio.to_thread.run_sync(next_waiting, engine, viewer.member_id, found.id, viewer.user.user)
    await audit(request, viewer, "alert.read", 200, summary=f"alert {found.id}: {found.source}:{found.reference}")
    return render(request, "alert.html", viewer=viewer, alert=found, history=history, states=STATE_LABELS,
                  verdicts=VERDICTS, explanation=_explanation(found.explanation), users=users, waiting=waiting)


def next_waiting(engine: Engine, member_id: int, after: int, user: str) -> int | None:
    """The alert to work after ``after``: the next in the queue's order (older) that is open or
    assigned to ``user``; past the oldest, the newest such one. None when nothing else waits.
    An analyst deciding all day goes from one to the next without going back to the queue."""
    def first(before: int | None) -> int | None:
        ids = [a.id for state, assignee in (("open", None), ("assigned", user))
               for a in alerts_page(engine, member_id, 2, before, state=state, assignee=assignee) if a.id != after]
        return max(ids, default=None)
    return first(after) or first(None)


@router.post("/alerts/{alert_id}/assign")
async def assign(request: Request, alert_id: AlertId, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Take an alert (``to`` = me), give it to a user of the same member, or leave it to nobody
    (``to`` empty), as POST /alerts/{id}/assign; back to the queue or the alert page."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.DECIDE, "assign alerts")
    to = field(fields, "to")
    assignee = viewer.user.user if to == "me" else to or None
    try:
        done = await anyio.to_thread.run_sync(assign_alert, request.app.state.engine, viewer.member_id, alert_id,
                                              viewer.user.user, assignee)
    except JointwatchError as refused:
        await audit(request, viewer, "alert.assign", refused.http_status, summary=f"refused: {refused}")
        raise Refused(refused.http_status, str(refused)) from None
    await audit(request, viewer, "alert.assign", 200, summary=f"alert {done.id} to {done.assignee or 'nobody'}")
    back = field(fields, "back")
    # only a query string of the queue itself: a form cannot send the browser anywhere else
    return redirect(f"/alerts?{back}" if back and "/" not in back and ":" not in back
                    else f"/alerts/{done.id}")


@router.post("/alerts/{alert_id}/decide", response_class=HTMLResponse)
async def decide(request: Request, alert_id: AlertId, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Decide an alert a true or false match with a reason, as POST /alerts/{id}/decide: the
    member's decision is filed too (a false match stops alerting again for this member)."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.DECIDE, "decide alerts")
    verdict, reason = field(fields, "verdict"), field(fields, "reason")
    try:
        done = await anyio.to_thread.run_sync(decide_alert, request.app.state.engine, viewer.member_id, alert_id,
                                              viewer.user.user, verdict, reason)
    except JointwatchError as refused:
        await audit(request, viewer, "alert.decide", refused.http_status, summary=f"refused: {refused}")
        raise Refused(refused.http_status, str(refused)) from None
    await audit(request, viewer, "alert.decide", 200,
                summary=f"alert {done.id}: {done.decision} {done.source}:{done.reference}, decision {done.decision_id}")
    return redirect(f"/alerts/{done.id}")
