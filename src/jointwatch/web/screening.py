"""The screening page: screen a name with its qualifiers and read each match's explanation.

The same calls as POST /match (``api.Subject`` to validate, ``prepare``, the service's
``Screeners``): the console holds no rule of its own. Like the API it fails closed: with no
list loaded, or a list too old, it says so and screens nothing. Deciding a match: decisions.py.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from jointwatch.api import Right, Subject
from jointwatch.errors import JointwatchError, ScreeningUnavailableError
from jointwatch.screening import QUERY_SCHEMATA, Match, prepare
from jointwatch.web.pages import Refused, audit, field, form_of, redirect, render, require, viewer_of
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
LIMIT = 10  # matches shown per screening
VERDICTS = {"true_positive": "true match", "false_positive": "false match"}


def _listed(text: str) -> list[str]:
    """A comma-separated field as its items ("DE, FR" → ["DE", "FR"])."""
    return [item.strip() for item in text.split(",") if item.strip()]


def subject_of(fields: dict[str, list[str]]) -> dict[str, Any]:
    """The subject as the API's body would carry it, from the form's fields."""
    return {"name": field(fields, "name"), "schema": field(fields, "schema") or "Person",
            "birth_date": field(fields, "birth_date") or None, "countries": _listed(field(fields, "countries")),
            "id_numbers": _listed(field(fields, "id_numbers"))}


def validated(raw: dict[str, Any]) -> Subject:
    """The API's own ``Subject`` (same limits and checks), or Refused (422) saying which field is wrong."""
    try:
        return Subject.model_validate(raw)
    except ValidationError as invalid:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in invalid.errors())
        raise Refused(422, f"The subject is not valid: {problems}") from None


@router.get("/", response_class=HTMLResponse)
def home() -> Response:
    return redirect("/screen")


@router.get("/screen", response_class=HTMLResponse)
def screen_form(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The screening form."""
    return render(request, "screen.html", viewer=viewer, schemata=QUERY_SCHEMATA, subject=None, matches=None)


@router.post("/screen", response_class=HTMLResponse)
async def screen(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """Screen the subject against the newest lists (and the partner entries released to the
    viewer's member), as POST /match does."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.SCREEN, "screen")
    raw = subject_of(fields)
    page: dict[str, Any] = {"viewer": viewer, "schemata": QUERY_SCHEMATA, "subject": raw}
    try:
        subject = validated(raw)
        query = prepare(subject.to_query())
    except Refused as refused:
        return render(request, "screen.html", refused.status, error=refused.message, matches=None, **page)
    except JointwatchError as invalid:
        return render(request, "screen.html", invalid.http_status, error=str(invalid), matches=None, **page)
    try:
        screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
    except ScreeningUnavailableError as unavailable:
        await audit(request, viewer, "screen", 503, subject=subject.audit_view(), summary=f"refused: {unavailable}")
        return render(request, "screen.html", 503, error=f"Screening is not possible: {unavailable}",
                      matches=None, **page)
    timeout: float = request.app.state.settings.screen_timeout
    started = time.perf_counter()
    matches: list[Match] | None = None
    with anyio.move_on_after(timeout):
        matches = await anyio.to_thread.run_sync(
            lambda: screener.screen(query, screener.threshold, LIMIT, viewer.member_id), abandon_on_cancel=True)
    if matches is None:
        await audit(request, viewer, "screen", 503, subject=subject.audit_view(), list_versions=versions,
                    summary=f"timed out after {timeout:g} s")
        return render(request, "screen.html", 503, error=f"Screening took longer than {timeout:g} s; try again.",
                      matches=None, **page)
    summary = f"{len(matches)} matches" + "".join(f", {m.source}:{m.reference} {m.score:.3f}" for m in matches)
    await audit(request, viewer, "screen", 200, subject=subject.audit_view(), list_versions=versions,
                summary=summary)
    return render(request, "screen.html", matches=matches, versions=versions, threshold=screener.threshold,
                  elapsed=time.perf_counter() - started, may_decide=viewer.may(Right.DECIDE), verdicts=VERDICTS,
                  **page)
