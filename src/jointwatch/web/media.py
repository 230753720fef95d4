"""Media in the console: match an uploaded image against the bank, read an item and its history,
dispute it, ask the contributor of an item the member may not see, and the member's disputes.

The same calls as /media/match/upload, /media/items/{id}, /media/items/{id}/dispute and
/media/refs/{ref}/ask: ``hash_media`` and the service's one ``Matcher`` in the service's one
``DecodeGate`` (``jointwatch.api.service_matcher``/``service_media_gate``), then ``media.seen_by``,
which alone decides what the member may know of each match (another member's TLP:AMBER+STRICT or
RED item is only a random reference to ask about). The bank holds hashes, not media: a match shows
the banked item's labels beside the upload's own thumbnail, made in memory and never kept. The
thumbnail is greyscale and blurred; the reviewer sees it in full only by asking (POST
/console/media/reveal), which is audited as ``console.media.reveal``: who, when, which upload (its
SHA-256) and which matched items (``web.thumbnails``). Without the media extra the library's
MissingExtraError is shown on the page.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from jointwatch import media
from jointwatch.api import Right, service_matcher, service_media_gate
from jointwatch.errors import InvalidInputError, JointwatchError
from jointwatch.web.pages import Refused, audit, field, form_of, redirect, render, require, upload_of, viewer_of
from jointwatch.web.sessions import SESSION_COOKIE, Viewer
from jointwatch.web.thumbnails import open_preview, preview_uri, safe_thumbnail_uri, seal_preview

router = APIRouter(include_in_schema=False)
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Ref = Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$")]
METHODS = {"sha256": "exact (SHA-256)", "md5": "exact (MD5)", "pdq": "PDQ", "pdq-mirror": "PDQ of the mirror image",
           "pdq-canonical": "PDQ, rotated", "pdq-centred": "PDQ of the centred window",
           "pdq-trimmed": "PDQ without borders or caption bars",
           "orb": "signature (local features)",
           "orb-mirror": "signature (local features, mirrored)"}


async def _page(request: Request, viewer: Viewer, status: int = 200, **context: object) -> HTMLResponse:
    disputes = await anyio.to_thread.run_sync(
        lambda: media.list_items(request.app.state.engine, viewer.member_id, status="disputed", limit=200))
    return render(request, "media.html", status, viewer=viewer, active="media", disputes=disputes, methods=METHODS,
                  may_decide=viewer.may(Right.DECIDE), **context)


@router.get("/media", response_class=HTMLResponse)
async def media_page(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)],
                     asked: str = "") -> HTMLResponse:
    """The upload form and the member's disputed items."""
    require(viewer, Right.SCREEN, "match media")
    return await _page(request, viewer, asked=asked == "1")


@router.post("/media/match", response_class=HTMLResponse)
async def match_upload(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """Hash the uploaded file and match it, as POST /media/match/upload does; show what the member may know."""
    fields, files = await upload_of(request, viewer.csrf, request.app.state.settings.max_body_bytes)
    require(viewer, Right.SCREEN, "match media")
    upload = files.get("file")
    signatures = field(fields, "signatures") == "on"
    engine = request.app.state.engine

    session_secret = request.cookies.get(SESSION_COOKIE, "")

    def work() -> tuple[media.SeenBy, str | None, str | None, str | None, str]:
        if upload is None:
            raise InvalidInputError("choose a file to match")
        media.check_upload(upload.data, request.app.state.settings.max_body_bytes)
        hashed = media.hash_media(upload.data, "upload", signatures=signatures)
        matches = service_matcher(request, viewer.member_id).match(hashed.hashes, hashed.match_query,
                                                 media.MatchOptions(use_signatures=signatures))
        seen = media.seen_by(engine, viewer.member_id, matches)
        sha256 = hashed.hashes.sha256
        if not hashed.hashes.pdq:
            return seen, None, None, hashed.note, sha256
        # blurred greyscale by default; the full picture only sealed for this session, opened on request
        sealed = seal_preview(upload.data, session_secret, sha256, [m.item.id for m in seen.matches])
        return seen, safe_thumbnail_uri(upload.data), sealed, hashed.note, sha256

    try:
        seen, picture, sealed, note, sha256 = await service_media_gate(request).run(work)
    except JointwatchError as refused:
        await audit(request, viewer, "media.match", refused.http_status, summary=f"refused: {refused}"[:300])
        return await _page(request, viewer, refused.http_status, error=str(refused))
    await audit(request, viewer, "media.match", 200, subject=sha256,
                summary=f"{len(seen.matches)} media matches, {len(seen.hidden)} hidden")
    return await _page(request, viewer, seen=seen, picture=picture, sealed=sealed, note=note,
                       filename=upload.filename[:200] if upload else "", sha256=sha256,
                       items=",".join(str(m.item.id) for m in seen.matches))


@router.post("/media/reveal", response_class=HTMLResponse)
async def reveal(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The upload's thumbnail in full, on the reviewer's explicit request: audited (who, when, which upload and
    items). The picture comes sealed from the match page (nothing of the upload is kept here)."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.SCREEN, "match media")
    sha256, sealed, filename = field(fields, "sha256"), field(fields, "preview"), field(fields, "filename")[:200]
    fragment = request.headers.get("hx-request") == "true"
    try:
        items = [int(i) for i in field(fields, "items").split(",") if i]
        jpeg = open_preview(sealed, request.cookies.get(SESSION_COOKIE, ""), sha256, items)
    except (ValueError, InvalidInputError) as exc:
        refused = exc if isinstance(exc, InvalidInputError) else InvalidInputError(f"items: {exc}")
        await audit(request, viewer, "media.reveal", refused.http_status, summary=f"refused: {refused}"[:300])
        raise Refused(refused.http_status, str(refused)) from None
    shown = ", ".join(f"#{i}" for i in items) or "no visible item"
    await audit(request, viewer, "media.reveal", 200, subject={"sha256": sha256, "items": items},
                summary=f"upload sha256:{sha256[:16]} shown in full (matched {shown})")
    return render(request, "_media_preview.html" if fragment else "media_revealed.html", viewer=viewer,
                  active="media", revealed=preview_uri(jpeg), filename=filename, sha256=sha256)


@router.get("/media/items/{item_id}", response_class=HTMLResponse)
async def item(item_id: ItemId, request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """One item the member may see, with its history (404 for one it may not), as GET /media/items/{id}."""
    require(viewer, Right.READ_REGISTER, "read media items")
    engine = request.app.state.engine
    try:
        found = await anyio.to_thread.run_sync(media.get_item, engine, item_id, viewer.member_id)
        events = await anyio.to_thread.run_sync(media.history, engine, item_id, viewer.member_id)
    except JointwatchError as refused:
        await audit(request, viewer, "media.read", refused.http_status, summary=f"media item {item_id}: refused")
        raise Refused(refused.http_status, str(refused)) from None
    await audit(request, viewer, "media.read", 200, summary=f"media item {item_id}")
    return render(request, "media_item.html", viewer=viewer, active="media", item=found, events=events,
                  own=found.member_id == viewer.member_id, may_decide=viewer.may(Right.DECIDE))


@router.post("/media/items/{item_id}/dispute", response_class=HTMLResponse)
async def dispute(item_id: ItemId, request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Dispute an item with a reason, as POST /media/items/{id}/dispute does (a limited number a day)."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.DECIDE, "dispute media items")
    reason = field(fields, "reason")
    try:
        done = await anyio.to_thread.run_sync(lambda: media.change_status(
            request.app.state.engine, item_id, viewer.member_id, viewer.user.user, "dispute", reason,
            request.app.state.settings.media_disputes_per_day))
    except JointwatchError as refused:
        await audit(request, viewer, "media.dispute", refused.http_status, subject={"item": item_id, "reason": reason},
                    summary=f"media item {item_id}: refused")
        raise Refused(refused.http_status, str(refused)) from None
    await audit(request, viewer, "media.dispute", 200, subject={"item": item_id, "reason": reason},
                summary=f"media item {item_id} {done.status}")
    return redirect(f"/media/items/{item_id}")


@router.post("/media/refs/{ref}/ask", response_class=HTMLResponse)
async def ask(ref: Ref, request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Ask the contributor of an item the member matched but may not see, as POST /media/refs/{ref}/ask."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.DECIDE, "ask a media item's contributor")
    question = field(fields, "question")
    try:
        await anyio.to_thread.run_sync(lambda: media.ask(
            request.app.state.engine, ref, viewer.member_id, viewer.user.user, question))
    except JointwatchError as refused:
        await audit(request, viewer, "media.ask", refused.http_status, summary="asked a media item's contributor: "
                                                                               "refused")
        raise Refused(refused.http_status, str(refused)) from None
    await audit(request, viewer, "media.ask", 204, subject={"ref": ref, "question": question},
                summary="asked a media item's contributor")
    return redirect("/media?asked=1")
