"""The payments page: upload or paste a payment file and read each payment's pass or hold.

The same calls as POST /payments/screen and `jointwatch payments screen` (``read_payment_text``,
``PaymentScreener``): a payment is held when a party, bank, account, identifier or the
remittance text matches a listing, with each hit's source, reference, score and why. A held
payment's hits are filed in the alerts queue (``file_payment_alerts``, as the API files them)
and decided there (one way to decide), linked from here.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from jointwatch.api import Right
from jointwatch.errors import MessageFormatError, ScreeningUnavailableError
from jointwatch.payments import (
    Hit,
    PaymentDecision,
    PaymentScreener,
    UnreadMessage,
    file_payment_alerts,
    read_payment_text,
)
from jointwatch.web.pages import audit, field, render, require, upload_of, viewer_of
from jointwatch.web.sessions import Viewer
from jointwatch.web.travel import upload_text

router = APIRouter(include_in_schema=False)


def hits_by_party(decision: PaymentDecision) -> list[tuple[str, list[Hit]]]:
    """A held payment's hits grouped by the party (role) they were found on, in message order."""
    grouped: dict[str, list[Hit]] = {}
    for hit in decision.hits:
        grouped.setdefault(hit.role, []).append(hit)
    return list(grouped.items())


@router.get("/payments", response_class=HTMLResponse)
def payments_form(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The upload form."""
    require(viewer, Right.SCREEN, "screen payments")
    return render(request, "payments.html", viewer=viewer, results=None, may_freeze=viewer.may(Right.DECIDE))


@router.post("/payments", response_class=HTMLResponse)
async def payments_screen(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """Screen every message of the uploaded (or pasted) payment file, as POST /payments/screen does."""
    fields, files = await upload_of(request, viewer.csrf, request.app.state.settings.max_body_bytes)
    require(viewer, Right.SCREEN, "screen payments")
    page: dict[str, Any] = {"viewer": viewer, "results": None, "may_freeze": viewer.may(Right.DECIDE)}
    upload = files.get("file")
    pasted = field(fields, "content")
    if upload is not None and upload.data:
        content, name = upload_text(upload.data), upload.filename or "upload"
    elif pasted:
        content, name = pasted, "pasted"
    else:
        return render(request, "payments.html", 422,
                      error="Choose a payment file (pacs.008, pain.001 or MT103) or paste its text.", **page)
    try:
        screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
    except ScreeningUnavailableError as unavailable:
        await audit(request, viewer, "payments.screen", 503, subject=content, summary=f"refused: {unavailable}")
        return render(request, "payments.html", 503, error=f"Screening is not possible: {unavailable}", **page)
    payments = PaymentScreener(screener, None, viewer.member_id, True)
    try:
        results: list[PaymentDecision | UnreadMessage] = await anyio.to_thread.run_sync(
            lambda: list(payments.screen_all(read_payment_text(content, name))))
    except MessageFormatError as unreadable:
        await audit(request, viewer, "payments.screen", unreadable.http_status, subject=content,
                    summary="refused: unreadable payment file")
        return render(request, "payments.html", unreadable.http_status, error=f"Nothing screened: {unreadable}",
                      **page)
    t = payments.totals
    filed = []
    if t.held:  # a held payment's hits go to the alerts queue, as POST /payments/screen's do
        filed = await anyio.to_thread.run_sync(file_payment_alerts, request.app.state.engine, viewer.member_id,
                                               results)
    await audit(request, viewer, "payments.screen", 200, subject=content, list_versions=versions,
                summary=f"{t.messages} messages, {t.held} held, {t.errors} unreadable, {len(filed)} alerts filed")
    return render(request, "payments.html", **{**page, "results": results}, totals=t, versions=versions,
                  filename=name, hits_by_party=hits_by_party, filed=len(filed))

