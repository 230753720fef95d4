"""Partner entries in the console: the entries the member may see, one entry with its labels
(and, to its originator, its trail), and a form to share a simple Person entry.

The same calls as /shared/entries (``visible_entries``, ``view_entry``, ``share_entry``):
who may see an entry is ``jointwatch.releasability``'s through the sharing package, and an
entry the member may not see is "not found" exactly as one that does not exist. The form
offers the distributions that need no audience (originator, server); members and groups are
the API's and the CLI's for now.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from jointwatch.api import Right
from jointwatch.errors import InvalidInputError, JointwatchError
from jointwatch.releasability import HANDLING_CODES, TLP_LEVELS, Labels, handling_codes, is_live, tlp_level, today
from jointwatch.sharing import EntryInput, share_entry, view_entry, visible_entries
from jointwatch.store import StoredEntry, list_members
from jointwatch.web.pages import Refused, audit, field, form_of, redirect, render, require, viewer_of
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
FORM_DISTRIBUTIONS = {"originator": "only my member (found by blind discovery, released on request)",
                      "server": "every member of this server"}
PER_PAGE = 100
Ref = Annotated[str, Path(min_length=1, max_length=128)]


def status_of(entry: StoredEntry, live: bool) -> str:
    """active, withdrawn or expired, as /shared/entries says it."""
    if entry.status == "withdrawn":
        return "withdrawn"
    return "active" if live else "expired"


def _form_defaults() -> dict[str, Any]:
    return {"tlp_levels": TLP_LEVELS, "handling_codes": HANDLING_CODES, "distributions": FORM_DISTRIBUTIONS}


@router.get("/shared", response_class=HTMLResponse)
async def entries(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)],
                  offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> HTMLResponse:
    """The partner entries the viewer's member may see (its own and those released to it), newest
    change first, ``PER_PAGE`` from ``offset`` (as GET /shared/entries pages them)."""
    require(viewer, Right.SHARE, "read partner entries")
    engine = request.app.state.engine
    found = await anyio.to_thread.run_sync(visible_entries, engine, viewer.member_id)
    day = today()
    rows = [(e, status_of(e, is_live(e.status, e.labels.expires_on, day))) for e in reversed(found)]
    page = rows[offset:offset + PER_PAGE]
    await audit(request, viewer, "shared.read", 200, summary=f"{len(page)} of {len(rows)} partner entries")
    return render(request, "shared.html", viewer=viewer, active="sharing", rows=page, total=len(rows),
                  offset=offset, per_page=PER_PAGE)


@router.get("/shared/new", response_class=HTMLResponse)
def share_form(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The form to share a Person entry."""
    require(viewer, Right.SHARE, "share partner entries")
    return render(request, "share.html", viewer=viewer, active="sharing", sent={}, **_form_defaults())


def labels_of(fields: dict[str, list[str]]) -> Labels:
    """The entry's labels from the form, checked by the releasability module's own parsers."""
    distribution = field(fields, "distribution") or "originator"
    if distribution not in FORM_DISTRIBUTIONS:
        raise InvalidInputError(f"distribution: one of {', '.join(FORM_DISTRIBUTIONS)} here")
    expires = field(fields, "expires_on")
    try:
        expires_on = date.fromisoformat(expires) if expires else None
    except ValueError:
        raise InvalidInputError(f"expires_on {expires[:20]!r} is not a date (YYYY-MM-DD)") from None
    return Labels(distribution, (), tlp_level(field(fields, "tlp") or "amber"),
                  handling_codes(fields.get("handling", [])), field(fields, "reason"), expires_on)


def person_of(fields: dict[str, list[str]]) -> EntryInput:
    """A Person entry from the form's name and birth date (the sharing package cleans and checks it)."""
    properties = {"name": [field(fields, "name")]}
    if field(fields, "birth_date"):
        properties["birthDate"] = [field(fields, "birth_date")]
    return EntryInput("Person", properties)


@router.post("/shared", response_class=HTMLResponse)
async def share(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Share a Person entry under the labels chosen, as POST /shared/entries does."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.SHARE, "share partner entries")
    sent = {k: v[0] if k != "handling" else v for k, v in fields.items() if k != "csrf"}
    try:
        labels = labels_of(fields)
        entry = await anyio.to_thread.run_sync(lambda: share_entry(
            request.app.state.engine, viewer.member_id, viewer.user.user, person_of(fields), labels))
    except JointwatchError as refused:
        await audit(request, viewer, "shared.create", refused.http_status, summary=f"refused: {refused}")
        return render(request, "share.html", refused.http_status, viewer=viewer, active="sharing",
                      error=str(refused), sent=sent, **_form_defaults())
    await audit(request, viewer, "shared.create", 201,
                summary=f"shared {entry.ref} v{entry.version} ({labels.distribution}, TLP:{labels.tlp})")
    return redirect(f"/shared/{entry.ref}")


@router.get("/shared/{ref}", response_class=HTMLResponse)
async def entry(ref: Ref, request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """One entry with its labels; to its originator also its versions and trail. A recipient's
    read goes on the trail, as with GET /shared/entries/{ref}."""
    require(viewer, Right.SHARE, "read partner entries")
    engine = request.app.state.engine
    try:
        view = await anyio.to_thread.run_sync(view_entry, engine, ref, viewer.member_id, viewer.user.user)
    except JointwatchError as refused:
        await audit(request, viewer, "shared.show", refused.http_status, summary=f"entry {ref[:64]}: refused")
        raise Refused(refused.http_status, str(refused)) from None
    names = {m.id: m.name for m in await anyio.to_thread.run_sync(list_members, engine)}
    await audit(request, viewer, "shared.show", 200, summary=f"entry {view.entry.ref}")
    return render(request, "entry.html", viewer=viewer, active="sharing", view=view, names=names,
                  entry_status=status_of(view.entry, view.live), handling_codes=HANDLING_CODES)
