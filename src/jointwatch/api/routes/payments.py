"""POST /payments/screen: the same payment screening as `jointwatch payments screen`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, HTTPException, Request

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models_payments import PaymentScreenRequest, PaymentScreenResponse
from jointwatch.api.problems import PROBLEM_RESPONSES
from jointwatch.payments.model import MessageError, PaymentFormatError
from jointwatch.payments.reader import read_payments
from jointwatch.payments.screening import PaymentDecision, PaymentScreener
from jointwatch.store.audit import subject_digest

router = APIRouter(tags=["payments"])


def _screen(screener: PaymentScreener, content: str) -> list[PaymentDecision | MessageError]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "payments"
        path.write_text(content, encoding="utf-8")
        results = list(screener.screen_all(read_payments(path)))
    for r in results:   # the temporary name means nothing to the caller
        if isinstance(r, MessageError):
            r.path = "body"
        else:
            r.file = "body"
    return results


@router.post("/payments/screen", response_model=PaymentScreenResponse, responses=PROBLEM_RESPONSES)
async def screen_payments(body: PaymentScreenRequest, request: Request,
                          caller: Annotated[Caller, Depends(authorize("payments.screen", Right.SCREEN))],
                          ) -> PaymentScreenResponse:
    """Screen every message of a payment file: pass or hold, with the hits and reasons."""
    caller.note.subject = subject_digest(body.content)
    screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
    caller.note.list_versions = versions
    payments = PaymentScreener(screener, body.threshold, caller.member_id, body.remittance)
    try:
        results = await anyio.to_thread.run_sync(_screen, payments, body.content)
    except PaymentFormatError as error:
        caller.note.summary = "refused: unreadable payment file"
        raise HTTPException(422, str(error).replace(error.path, "body", 1)) from None
    t = payments.totals
    caller.note.summary = f"{t.messages} messages, {t.held} held, {t.errors} unreadable"
    out: list[dict[str, Any]] = [r.to_dict() if isinstance(r, PaymentDecision) else
                                 {"error": str(r), "position": r.position, "field": r.field, "reason": r.reason,
                                  "reference": r.reference} for r in results]
    return PaymentScreenResponse(list_versions=versions, messages=t.messages, held=t.held, passed=t.passed,
                                 errors=t.errors, results=out)
