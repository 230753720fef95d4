"""The travel page: upload a passenger list or reservation message and read each traveller's status.

The same calls as POST /travel/screen and `jointwatch travel screen` (``read_travellers``,
``screen_manifest`` with the store's lost/stolen documents): a traveller is clear, refer or hit
with the library's reasons, never a denial; the listed matches of referred and hit travellers
are filed in the alerts queue (``file_traveller_alerts``), as the API files them. A message that
cannot be read to its end is refused with the place the library names (the segment), and nothing
of it is screened.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from jointwatch.api import Right
from jointwatch.errors import MessageFormatError, ScreeningUnavailableError
from jointwatch.store import find_documents
from jointwatch.travel import FORMATS, ManifestResult, file_traveller_alerts, read_travellers, screen_manifest
from jointwatch.web.pages import audit, field, render, require, upload_of, viewer_of
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
STATUS_WORDS = {"clear": "clear", "refer": "referred", "hit": "hit"}


def upload_text(data: bytes) -> str:
    """A message's text: UTF-8, or Latin-1 bytes read as such, as `jointwatch travel screen` reads a file."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


@router.get("/travel", response_class=HTMLResponse)
def travel_form(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The upload form."""
    require(viewer, Right.SCREEN, "screen travellers")
    return render(request, "travel.html", viewer=viewer, formats=FORMATS, results=None, chosen="auto")


@router.post("/travel", response_class=HTMLResponse)
async def travel_screen(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """Screen every traveller of every interchange of the uploaded message, as POST /travel/screen does."""
    fields, files = await upload_of(request, viewer.csrf, request.app.state.settings.max_body_bytes)
    require(viewer, Right.SCREEN, "screen travellers")
    chosen = field(fields, "format") or "auto"
    page: dict[str, Any] = {"viewer": viewer, "formats": FORMATS, "chosen": chosen, "results": None}
    upload = files.get("message")
    if upload is None or not upload.data:
        return render(request, "travel.html", 422, error="Choose a passenger list (PAXLST) or reservation "
                                                         "message (PNRGOV) to upload.", **page)
    name = upload.filename or "upload"
    text = upload_text(upload.data)
    try:
        manifests = read_travellers(text, name, chosen)
    except MessageFormatError as unreadable:
        await audit(request, viewer, "travel.screen", unreadable.http_status, subject=text,
                    summary=f"refused: {unreadable}")
        return render(request, "travel.html", unreadable.http_status,
                      error=f"Nothing screened: {unreadable}", **page)
    try:
        screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
    except ScreeningUnavailableError as unavailable:
        await audit(request, viewer, "travel.screen", 503, subject=text, summary=f"refused: {unavailable}")
        return render(request, "travel.html", 503, error=f"Screening is not possible: {unavailable}", **page)
    engine = request.app.state.engine

    def screen_all() -> list[ManifestResult]:
        return [screen_manifest(m, screener, lambda numbers: find_documents(engine, numbers), None,
                                viewer.member_id) for m in manifests]

    results = await anyio.to_thread.run_sync(screen_all)
    counts = {k: sum(r.counts()[k] for r in results) for k in ("hit", "refer", "clear")}
    filed = []
    if counts["hit"] or counts["refer"]:  # their listed matches go to the alerts queue, as POST /travel/screen's
        filed = await anyio.to_thread.run_sync(file_traveller_alerts, engine, viewer.member_id, results)
    await audit(request, viewer, "travel.screen", 200, subject=text, list_versions=versions,
                summary=f"{sum(len(r.results) for r in results)} travellers: "
                        + ", ".join(f"{v} {k}" for k, v in counts.items()) + f", {len(filed)} alerts filed")
    return render(request, "travel.html", **{**page, "results": results}, counts=counts, versions=versions,
                  filename=name, words=STATUS_WORDS, filed=len(filed))
