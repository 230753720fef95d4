"""POST /payments/screen: the same payment screening as `jointwatch payments screen`; the freeze
register (POST /freeze, POST /freeze/{id}/release, GET /freeze, GET /freeze/totals) as
`jointwatch freeze`; the customer base (POST /customers/screen, POST /customers/rescreen,
GET /customers/alerts) as `jointwatch customers`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Engine

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models_payments import (
    CustomerFileRequest,
    FreezeRequest,
    FreezeTotal,
    PaymentScreenRequest,
    PaymentScreenResponse,
    ReleaseRequest,
    UnreadOut,
)
from jointwatch.api.params import RowId
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.errors import MessageFormatError
from jointwatch.payments import (
    CustomerRun,
    PaymentDecision,
    PaymentScreener,
    file_payment_alerts,
    freeze_listed_asset,
    read_payment_text,
    rescreen_delta,
    rescreen_full,
    screen_customer_file,
)
from jointwatch.screening import Screener
from jointwatch.sharing import partner_entries
from jointwatch.store import CustomerAlert, FrozenAsset, list_alerts, list_assets, release_asset, totals

router = APIRouter(tags=["payments"])
_RESPONSES: dict[int | str, dict[str, object]] = {
    **PROBLEM_RESPONSES, 404: {"model": Problem, "description": "No such listing or asset"},
    409: {"model": Problem, "description": "Already released"}}


@router.post("/payments/screen", response_model=PaymentScreenResponse, responses=PROBLEM_RESPONSES)
async def screen_payments(body: PaymentScreenRequest, request: Request,
                          caller: Annotated[Caller, Depends(authorize("payments.screen", Right.SCREEN))],
                          ) -> PaymentScreenResponse:
    """Screen every message of a payment file: pass or hold, with the hits and reasons."""
    caller.note.subject = body.content
    screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
    caller.note.list_versions = versions
    payments = PaymentScreener(screener, body.threshold, caller.member_id, body.remittance)
    try:  # the messages are named after the body, as the caller knows them
        results = await anyio.to_thread.run_sync(lambda: list(payments.screen_all(read_payment_text(body.content))))
    except MessageFormatError:
        caller.note.summary = "refused: unreadable payment file"
        raise
    t = payments.totals
    if t.held:  # a held payment's hits go to the member's alerts queue (GET /alerts)
        await anyio.to_thread.run_sync(file_payment_alerts, request.app.state.engine, caller.member_id, results)
    caller.note.summary = f"{t.messages} messages, {t.held} held, {t.errors} unreadable"
    out: list[PaymentDecision | UnreadOut] = [
        r if isinstance(r, PaymentDecision) else
        UnreadOut(error=str(r), position=r.position, field=r.field, reason=r.reason, reference=r.reference)
        for r in results]
    return PaymentScreenResponse(list_versions=versions, messages=t.messages, held=t.held, passed=t.passed,
                                 errors=t.errors, results=out)


# -- freeze register ------------------------------------------------------------------------
# Each member keeps its own register; entering and releasing assets are analysts' decisions.
# The responses are the store's records themselves (FastAPI builds their schema from the
# dataclasses), so the CLI's JSON and the API's are one form.

@router.post("/freeze", response_model=FrozenAsset, status_code=201, responses=_RESPONSES)
def freeze(body: FreezeRequest, request: Request,
           caller: Annotated[Caller, Depends(authorize("freeze.create", Right.DECIDE))]) -> FrozenAsset:
    """Enter a frozen asset with its legal basis (source and reference; regime from the listing)."""
    caller.note.subject = f"{body.holder}|{body.account}"
    asset = freeze_listed_asset(
        request.app.state.engine, holder=body.holder, account=body.account, institution=body.institution,
        amount=body.amount, currency=body.currency, source=body.source, reference=body.reference,
        country=body.country, reason=body.reason, regime=body.regime, frozen_on=body.frozen_on,
        member_id=caller.member_id, customer_ref=body.customer_ref, by_user=caller.key.user)
    caller.note.summary = (f"frozen asset {asset.id}: {asset.frozen_amount} {asset.currency} "
                           f"({asset.source} {asset.reference})")
    return asset


AssetId = RowId


@router.post("/freeze/{asset_id}/release", response_model=FrozenAsset, responses=_RESPONSES)
def release(asset_id: AssetId, body: ReleaseRequest, request: Request,
            caller: Annotated[Caller, Depends(authorize("freeze.release", Right.DECIDE))]) -> FrozenAsset:
    """Release part of a frozen asset under a licence, or all of it."""
    asset = release_asset(request.app.state.engine, asset_id, body.reason, body.amount, body.licence,
                          member_id=caller.member_id, by_user=caller.key.user)
    caller.note.summary = f"frozen asset {asset.id}: {asset.status}, {asset.frozen_amount} {asset.currency} frozen"
    return asset


@router.get("/freeze", response_model=list[FrozenAsset], responses=PROBLEM_RESPONSES)
def frozen_assets(request: Request,
                  caller: Annotated[Caller, Depends(authorize("freeze.read", Right.DECIDE))],
                  status: Annotated[str | None, Query(pattern="^(frozen|partially_released|released)$")] = None,
                  ) -> list[FrozenAsset]:
    """The caller's member's frozen assets with their histories."""
    found = list_assets(request.app.state.engine, caller.member_id, status)
    caller.note.summary = f"{len(found)} frozen assets"
    return found


@router.get("/freeze/totals", response_model=list[FreezeTotal], responses=PROBLEM_RESPONSES)
def frozen_totals(request: Request,
                  caller: Annotated[Caller, Depends(authorize("freeze.read", Right.DECIDE))],
                  by: Annotated[str, Query(pattern="^(source|regime|country)$")] = "source") -> list[FreezeTotal]:
    """Amounts still frozen, per source (list), regime or country and currency."""
    sums = totals(list_assets(request.app.state.engine, caller.member_id, with_history=False), by)
    caller.note.summary = f"totals by {by}: {len(sums)} rows"
    return [FreezeTotal(key=key, currency=currency, frozen=amount) for (key, currency), amount in sorted(sums.items())]


# -- customer base ------------------------------------------------------------------------
# A member's customer base: screened in full when it is sent, re-screened after list changes
# (only what changed, or everything with full=true); each member's base and alerts are its own.

def _screen_file(engine: Engine, screener: Screener, content: str, member_id: int) -> CustomerRun:
    # the reader streams from a file; a file it cannot read is named as the sender knows it, the body, never the
    # service's temporary file (as ``read_payment_text`` does)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customers.csv"
        path.write_text(content, encoding="utf-8")
        try:
            return screen_customer_file(engine, screener, path, member_id, partners=partner_entries(screener))
        except MessageFormatError as error:
            raise MessageFormatError("body", error.location, error.reason) from None


@router.post("/customers/screen", response_model=CustomerRun, responses=PROBLEM_RESPONSES)
async def screen_customers(body: CustomerFileRequest, request: Request,
                           caller: Annotated[Caller, Depends(authorize("customers.screen", Right.SCREEN))],
                           ) -> CustomerRun:
    """Make the file the member's customer base and screen it in full (rows in error are reported)."""
    caller.note.subject = body.content
    screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
    caller.note.list_versions = versions
    run = await anyio.to_thread.run_sync(_screen_file, request.app.state.engine, screener, body.content,
                                         caller.member_id)
    caller.note.summary = (f"{run.run.customers} customers screened, {len(run.new_alerts)} new alerts, "
                           f"{len(run.errors)} rows refused")
    return run


@router.post("/customers/rescreen", response_model=CustomerRun, responses=_RESPONSES)
async def rescreen_customers(request: Request,
                             caller: Annotated[Caller, Depends(authorize("customers.rescreen", Right.SCREEN))],
                             full: Annotated[bool, Query(description="Screen every customer again.")] = False,
                             ) -> CustomerRun:
    """Screen the base again after a list change: only what the change touches, or all with full=true."""
    screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
    caller.note.list_versions = versions
    rescreen = rescreen_full if full else rescreen_delta
    run = await anyio.to_thread.run_sync(lambda: rescreen(request.app.state.engine, screener, caller.member_id,
                                                          partners=partner_entries(screener)))
    caller.note.summary = (f"{run.run.kind}: {run.run.screened} of {run.run.customers} screened, "
                           f"{run.run.new_alerts} new, {run.run.withdrawn_alerts} withdrawn alerts")
    return run


@router.get("/customers/alerts", response_model=list[CustomerAlert], responses=PROBLEM_RESPONSES)
def customer_alerts(request: Request,
                    caller: Annotated[Caller, Depends(authorize("customers.alerts", Right.SCREEN))],
                    status: Annotated[str, Query(pattern="^(open|withdrawn)$")] = "open") -> list[CustomerAlert]:
    """The member's customer alerts (open, or withdrawn with the reason)."""
    found = list_alerts(request.app.state.engine, caller.member_id, status)
    caller.note.summary = f"{len(found)} {status} customer alerts"
    return found
