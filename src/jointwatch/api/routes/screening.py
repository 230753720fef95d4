"""POST /match and POST /screen: the same screener as `jointwatch screen`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models import MatchOut, MatchRequest, MatchResponse, ScreenRequest, ScreenResponse, ScreenResult
from jointwatch.api.problems import PROBLEM_RESPONSES
from jointwatch.api.screeners import Screeners
from jointwatch.api.settings import ServiceSettings
from jointwatch.errors import QueryError
from jointwatch.screening import Match
from jointwatch.screening.screener import prepare
from jointwatch.store.audit import subject_digest

router = APIRouter(tags=["screening"])
SUMMARY_REFS = 10


def _summary(matches: list[Match]) -> str:
    """What came back, for the audit row: the listed references and scores, never the subject."""
    best = ", ".join(f"{m.source}:{m.ref} {m.score:.3f}" for m in matches[:SUMMARY_REFS])
    return f"{len(matches)} matches" + (f": {best}" if best else "")


@router.post("/match", response_model=MatchResponse, responses=PROBLEM_RESPONSES)
def match(body: MatchRequest, request: Request,
          caller: Annotated[Caller, Depends(authorize("match", Right.SCREEN))]) -> MatchResponse:
    """Screen one subject against the newest version of every loaded list."""
    caller.note.subject = subject_digest(body.audit_view())
    query = prepare(body.to_query())  # a bad subject is a 422 before the index is touched
    screeners: Screeners = request.app.state.screeners
    screener, versions = screeners.current()
    caller.note.list_versions = versions
    threshold = screener.threshold if body.threshold is None else body.threshold
    matches = screener.screen(query, threshold=threshold, limit=body.limit)
    caller.note.summary = _summary(matches)
    return MatchResponse(threshold=threshold, list_versions=versions,
                         matches=[MatchOut.model_validate(m.to_dict()) for m in matches])


@router.post("/screen", response_model=ScreenResponse, responses=PROBLEM_RESPONSES)
def screen(body: ScreenRequest, request: Request,
           caller: Annotated[Caller, Depends(authorize("screen", Right.SCREEN))]) -> ScreenResponse:
    """Screen a batch of subjects inline (up to 1,000); a bad subject gets an error, the rest go on."""
    caller.note.subject = subject_digest([s.audit_view() for s in body.subjects])
    settings: ServiceSettings = request.app.state.settings
    if len(body.subjects) > settings.max_batch:
        caller.note.summary = f"refused: {len(body.subjects)} subjects"
        raise HTTPException(413, f"{len(body.subjects):,} subjects: at most {settings.max_batch:,} per request")
    screener, versions = request.app.state.screeners.current()
    caller.note.list_versions = versions
    threshold = screener.threshold if body.threshold is None else body.threshold
    results = []
    for index, subject in enumerate(body.subjects):
        try:
            found = screener.screen(subject.to_query(), threshold=threshold, limit=body.limit)
        except QueryError as error:
            results.append(ScreenResult(index=index, id=subject.id, matches=[], error=f"subjects.{index}: {error}"))
            continue
        results.append(ScreenResult(index=index, id=subject.id,
                                    matches=[MatchOut.model_validate(m.to_dict()) for m in found]))
    with_matches = sum(1 for r in results if r.matches)
    errors = sum(1 for r in results if r.error)
    caller.note.summary = f"{len(results)} subjects, {with_matches} with matches, {errors} rejected"
    return ScreenResponse(threshold=threshold, list_versions=versions, screened=len(results) - errors,
                          with_matches=with_matches, errors=errors, results=results)
