"""POST /match and POST /screen: the same screener as `jointwatch screen`.

Screening runs in a worker thread under ``settings.screen_timeout``: past it the caller gets
503 at once. A thread cannot be killed, so a /match already under way finishes in the
background and its answer is dropped; an inline batch stops at its next subject.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.jobs import screen_subject
from jointwatch.api.models import MatchRequest, MatchResponse, ScreenRequest, ScreenResponse, ScreenResult
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.api.routes.jobs import ACCEPTED_RESPONSE, accept_job
from jointwatch.api.screeners import Screeners
from jointwatch.api.settings import ServiceSettings
from jointwatch.screening import Match, Screener, prepare

router = APIRouter(tags=["screening"])
SUMMARY_REFS = 10
T = TypeVar("T")
TIMEOUT_RESPONSE: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "Screening took longer than the service's timeout."}}


class _TimedOut(Exception):
    """An inline batch ran past its deadline and stopped."""


def _summary(matches: list[Match]) -> str:
    """What came back, for the audit row: the listed references and scores, never the subject."""
    best = ", ".join(f"{m.source}:{m.reference} {m.score:.3f}" for m in matches[:SUMMARY_REFS])
    return f"{len(matches)} matches" + (f": {best}" if best else "")


async def _in_time(request: Request, caller: Caller, work: Callable[[float], T]) -> T:
    """``work(deadline)`` run in a thread, or 503 if it takes longer than the screening timeout."""
    timeout: float = request.app.state.settings.screen_timeout
    try:
        with anyio.move_on_after(timeout):
            # abandon_on_cancel: answer at the deadline instead of waiting for the thread
            return await anyio.to_thread.run_sync(work, time.monotonic() + timeout, abandon_on_cancel=True)
    except _TimedOut:
        pass
    caller.note.summary = f"timed out after {timeout:g} s"
    raise HTTPException(503, f"screening took longer than {timeout:g} s; try again, or send a batch as a job",
                        headers={"Retry-After": "1"})


@router.post("/match", response_model=MatchResponse, responses={**PROBLEM_RESPONSES, **TIMEOUT_RESPONSE})
async def match(body: MatchRequest, request: Request,
                caller: Annotated[Caller, Depends(authorize("match", Right.SCREEN))]) -> MatchResponse:
    """Screen one subject against the newest version of every loaded list."""
    caller.note.subject = body.audit_view()
    query = prepare(body.to_query())  # a bad subject is a 422 before the index is touched
    screeners: Screeners = request.app.state.screeners
    # outside the timeout: a rebuild after a list load is slow once, and every request waits for it
    screener, versions = await screeners.now()
    caller.note.list_versions = versions
    threshold = screener.threshold if body.threshold is None else body.threshold
    matches = await _in_time(request, caller, lambda _deadline: screener.screen(query, threshold, body.limit,
                                                                                  caller.member_id))
    caller.note.summary = _summary(matches)
    return MatchResponse(threshold=threshold, list_versions=versions,
                         matches=matches)


def _screen_batch(screener: Screener, body: ScreenRequest, threshold: float, deadline: float,
                  member_id: int) -> list[ScreenResult]:
    """Every subject screened in order, or _TimedOut once past ``deadline`` (checked between subjects)."""
    results = []
    for index, subject in enumerate(body.subjects):
        if time.monotonic() > deadline:
            raise _TimedOut  # the caller has had its 503; stop spending the thread on it
        results.append(screen_subject(screener, subject, index, threshold, body.limit, member_id))
    return results


@router.post("/screen", response_model=ScreenResponse,
             responses={**PROBLEM_RESPONSES, **TIMEOUT_RESPONSE, **ACCEPTED_RESPONSE})
async def screen(body: ScreenRequest, request: Request,
                 caller: Annotated[Caller, Depends(authorize("screen", Right.SCREEN))],
                 as_job: Annotated[bool | None, Query(
                     alias="async", description="true: always a job; false: inline only (413 over the inline "
                                                "limit); unset: a job when over the inline limit.")] = None,
                 ) -> ScreenResponse | JSONResponse:
    """Screen a batch inline (up to 1,000 subjects); a larger one (or ?async=true) is accepted as a job (202)."""
    caller.note.subject = [s.audit_view() for s in body.subjects]
    settings: ServiceSettings = request.app.state.settings
    too_many = len(body.subjects) > settings.max_batch
    if as_job or (too_many and as_job is None):
        return await anyio.to_thread.run_sync(accept_job, request, caller, body)
    if too_many:
        caller.note.summary = f"refused: {len(body.subjects)} subjects"
        raise HTTPException(413, f"{len(body.subjects):,} subjects: at most {settings.max_batch:,} per request "
                                 "inline; leave out async=false to send it as a job")
    screener, versions = await request.app.state.screeners.now()
    caller.note.list_versions = versions
    threshold = screener.threshold if body.threshold is None else body.threshold
    results = await _in_time(request, caller,
                             lambda deadline: _screen_batch(screener, body, threshold, deadline, caller.member_id))
    with_matches = sum(1 for r in results if r.matches)
    errors = sum(1 for r in results if r.error)
    caller.note.summary = f"{len(results)} subjects, {with_matches} with matches, {errors} rejected"
    return ScreenResponse(threshold=threshold, list_versions=versions, screened=len(results) - errors,
                          with_matches=with_matches, errors=errors, results=results)
