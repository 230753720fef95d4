"""Decisions: decide a match true or false, list the member's decisions a page at a time, withdraw one.

The same calls as POST, GET and DELETE /decisions (``record_decision``, ``decisions_page``,
``withdraw_decision``), filed under the viewer's member: another member's decision is not
found, exactly as in the API.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from jointwatch.api import Right
from jointwatch.errors import JointwatchError
from jointwatch.screening import prepare
from jointwatch.store import count_decisions, decisions_page, record_decision, withdraw_decision
from jointwatch.web.pages import Refused, audit, field, form_of, redirect, render, require, viewer_of
from jointwatch.web.screening import VERDICTS, subject_of, validated
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


@router.post("/decisions", response_class=HTMLResponse)
async def decide(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """Record the viewer's member's verdict on one match, as POST /decisions does; a false
    match stops that match alerting again for this member. Under htmx only the row's form is
    replaced by the outcome."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.DECIDE, "decide matches")
    subject = validated(subject_of(fields))
    verdict, reason = field(fields, "verdict"), field(fields, "reason")
    reference, source = field(fields, "reference"), field(fields, "source") or None
    fragment = request.headers.get("hx-request") == "true"
    template = "_decided.html" if fragment else "decided.html"
    try:
        query = prepare(subject.to_query())
        decision = await anyio.to_thread.run_sync(lambda: record_decision(
            request.app.state.engine, viewer.member_id, viewer.user.user, query.identity(), subject.name,
            query.birth_date, reference, source, verdict, reason))
    except JointwatchError as refused:
        await audit(request, viewer, "decision.create", refused.http_status, subject=subject.audit_view(),
                    summary=f"refused: {refused}")
        return render(request, template, refused.http_status, viewer=viewer, error=str(refused), decision=None,
                      verdicts=VERDICTS)
    await audit(request, viewer, "decision.create", 201, subject=subject.audit_view(),
                summary=f"decision {decision.id}: {decision.verdict} {decision.source}:{decision.reference}")
    return render(request, template, 200 if fragment else 201, viewer=viewer, decision=decision, verdicts=VERDICTS)


@router.get("/decisions", response_class=HTMLResponse)
async def decisions(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)],
                    before: Annotated[int | None, Query(ge=1, le=2**62)] = None) -> HTMLResponse:
    """The decisions of the viewer's member (never another member's), newest first, a page at
    a time (``before``: the page after the decision with this number)."""
    require(viewer, Right.DECIDE, "read decisions")
    engine = request.app.state.engine
    # one more than a page: whether there is an older page, without counting it
    found = await anyio.to_thread.run_sync(decisions_page, engine, viewer.member_id, PER_PAGE + 1, before)
    total = await anyio.to_thread.run_sync(count_decisions, engine, viewer.member_id)
    shown, older = found[:PER_PAGE], len(found) > PER_PAGE
    await audit(request, viewer, "decision.read", 200, summary=f"{len(shown)} of {total} decisions")
    return render(request, "decisions.html", viewer=viewer, decisions=shown, total=total, verdicts=VERDICTS,
                  older=shown[-1].id if older and shown else None, first_page=before is None)


@router.post("/decisions/{decision_id}/withdraw")
async def withdraw(request: Request, decision_id: int, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Withdraw one of the member's decisions, as DELETE /decisions/{id}: a false match's
    match alerts again. Another member's decision is "not found", as one that does not exist."""
    await form_of(request, viewer.csrf)
    require(viewer, Right.DECIDE, "withdraw decisions")
    try:
        decision = await anyio.to_thread.run_sync(withdraw_decision, request.app.state.engine, viewer.member_id,
                                                  decision_id)
    except JointwatchError as refused:
        await audit(request, viewer, "decision.withdraw", refused.http_status, summary=f"refused: {refused}")
        raise Refused(refused.http_status, str(refused)) from None
    await audit(request, viewer, "decision.withdraw", 200,
                summary=f"withdrew decision {decision.id}: {decision.verdict} {decision.source}:{decision.reference}")
    return redirect("/decisions")
