"""The freeze register: the member's frozen assets, totals as charts, an asset's history, freeze and release.

The same calls as POST /freeze, POST /freeze/{id}/release, GET /freeze and GET /freeze/totals
(``freeze_listed_asset``, ``release_asset``, ``list_assets``, ``get_asset``, ``totals``), with
the API's right (DECIDE) and its member isolation: another member's asset is "not found".
Totals are exact and per currency; each is drawn as a server-made SVG chart (charts.py).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from jointwatch.api import Right
from jointwatch.errors import JointwatchError
from jointwatch.payments import freeze_listed_asset
from jointwatch.store import FrozenAsset, get_asset, list_assets, release_asset, totals
from jointwatch.web.charts import Bar, bar_chart, money
from jointwatch.web.pages import Refused, audit, field, form_of, redirect, render, require, viewer_of
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
DIMENSIONS = {"source": "By list", "regime": "By regime", "country": "By country", "member": "By member"}
STATUS_WORDS = {"frozen": "frozen", "partially_released": "partly released", "released": "released"}
FORM_FIELDS = ("holder", "account", "institution", "amount", "currency", "source", "reference", "country",
               "reason", "regime", "frozen_on", "customer_ref")


def charts_of(assets: list[FrozenAsset], member_name: str, member_id: int) -> list[dict[str, Any]]:
    """Per dimension, one chart per currency of the still-frozen totals (``totals``, as GET /freeze/totals)."""
    out = []
    for by, title in DIMENSIONS.items():
        per_currency: dict[str, list[Bar]] = {}
        for (key, currency), amount in totals(assets, by).items():
            label = member_name if by == "member" and key == str(member_id) else key
            per_currency.setdefault(currency, []).append(Bar(label, amount))
        out.append({"by": by, "title": title, "charts": [
            bar_chart(title, currency, sorted(bars, key=lambda b: (-b.amount, b.label)), f"chart-{by}-{currency}")
            for currency, bars in sorted(per_currency.items())]})
    return out


def _amount(text: str, name: str = "amount") -> Decimal:
    try:
        return Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise Refused(422, f"The {name} is not a number: {text!r}.") from None


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Refused(422, f"The date frozen is not a date (YYYY-MM-DD): {text!r}.") from None


async def _register(request: Request, viewer: Viewer, after: int | None, status_code: int = 200,
                    **extra: Any) -> HTMLResponse:
    engine = request.app.state.engine
    everything = await anyio.to_thread.run_sync(lambda: list_assets(engine, viewer.member_id, with_history=False))
    page = await anyio.to_thread.run_sync(lambda: list_assets(engine, viewer.member_id, after=after,
                                                              limit=PER_PAGE + 1))
    shown, more = page[:PER_PAGE], len(page) > PER_PAGE
    return render(request, "freezes.html", status_code, viewer=viewer, assets=shown, total=len(everything),
                  charts=charts_of(everything, viewer.user.member_name, viewer.member_id),
                  later=shown[-1].id if more and shown else None, first_page=after is None, money=money,
                  words=STATUS_WORDS, **{"form": {}, "error": None, **extra})


@router.get("/freezes", response_class=HTMLResponse)
async def register(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)],
                   after: Annotated[int | None, Query(ge=0, le=2**62)] = None) -> HTMLResponse:
    """The member's frozen assets (never another member's) with totals per list, regime, country
    and member, a page at a time (``after``: the page after the asset with this number)."""
    require(viewer, Right.DECIDE, "read the freeze register")
    response = await _register(request, viewer, after)
    await audit(request, viewer, "freeze.read", 200, summary="freeze register")
    return response


@router.post("/freezes", response_class=HTMLResponse)
async def freeze(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Enter a frozen asset on the legal basis of a listing, as POST /freeze does."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.DECIDE, "freeze assets")
    form = {name: field(fields, name) for name in FORM_FIELDS}
    try:
        amount, frozen_on = _amount(form["amount"]), _date(form["frozen_on"])
        asset = await anyio.to_thread.run_sync(lambda: freeze_listed_asset(
            request.app.state.engine, holder=form["holder"], account=form["account"],
            institution=form["institution"], amount=amount, currency=form["currency"].upper(),
            source=form["source"], reference=form["reference"], country=form["country"].upper(),
            reason=form["reason"], regime=form["regime"] or None, frozen_on=frozen_on, member_id=viewer.member_id,
            customer_ref=form["customer_ref"] or None, by_user=viewer.user.user))
    except (Refused, JointwatchError) as refused:
        status = refused.status if isinstance(refused, Refused) else refused.http_status
        message = refused.message if isinstance(refused, Refused) else str(refused)
        await audit(request, viewer, "freeze.create", status, subject=f"{form['holder']}|{form['account']}",
                    summary=f"refused: {message}")
        return await _register(request, viewer, None, status, form=form, error=f"Not frozen: {message}")
    await audit(request, viewer, "freeze.create", 201, subject=f"{asset.holder}|{asset.account}",
                summary=f"frozen asset {asset.id}: {asset.frozen_amount} {asset.currency} "
                        f"({asset.source} {asset.reference})")
    return redirect(f"/freezes/{asset.id}")


def _number(asset_id: str) -> int:
    """An asset's number from the URL; anything else is "not found", a page and not the API's 422."""
    if len(asset_id) > 19 or not asset_id.isascii() or not asset_id.isdigit() or not 1 <= int(asset_id) <= 2**62:
        raise Refused(404, f"no frozen asset {asset_id[:40]!r}")
    return int(asset_id)


async def _asset_of(request: Request, viewer: Viewer, asset_id: int, action: str) -> FrozenAsset:
    try:
        return await anyio.to_thread.run_sync(get_asset, request.app.state.engine, asset_id, viewer.member_id)
    except JointwatchError as missing:  # another member's asset is not found, as one that does not exist
        await audit(request, viewer, action, missing.http_status, summary=f"refused: {missing}")
        raise Refused(missing.http_status, str(missing)) from None


@router.get("/freezes/{asset_id}", response_class=HTMLResponse)
async def asset_page(request: Request, asset_id: str,
                     viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """One of the member's assets with its history and the release form."""
    require(viewer, Right.DECIDE, "read the freeze register")
    asset = await _asset_of(request, viewer, _number(asset_id), "freeze.read")
    await audit(request, viewer, "freeze.read", 200, summary=f"frozen asset {asset.id}")
    return render(request, "freeze.html", viewer=viewer, asset=asset, money=money, words=STATUS_WORDS, error=None)


@router.post("/freezes/{asset_id}/release", response_class=HTMLResponse)
async def release(request: Request, asset_id: str, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Release part of the asset under a licence, or all of it, as POST /freeze/{id}/release does."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.DECIDE, "release frozen assets")
    asset = await _asset_of(request, viewer, _number(asset_id), "freeze.release")
    reason, licence, amount_text = field(fields, "reason"), field(fields, "licence"), field(fields, "amount")
    try:
        amount = _amount(amount_text) if amount_text else None
        released = await anyio.to_thread.run_sync(lambda: release_asset(
            request.app.state.engine, asset.id, reason, amount, licence or None, member_id=viewer.member_id,
            by_user=viewer.user.user))
    except (Refused, JointwatchError) as refused:
        status = refused.status if isinstance(refused, Refused) else refused.http_status
        message = refused.message if isinstance(refused, Refused) else str(refused)
        await audit(request, viewer, "freeze.release", status, summary=f"refused: {message}")
        return render(request, "freeze.html", status, viewer=viewer, asset=asset, money=money, words=STATUS_WORDS,
                      error=f"Not released: {message}")
    await audit(request, viewer, "freeze.release", 200,
                summary=f"frozen asset {released.id}: {released.status}, {released.frozen_amount} "
                        f"{released.currency} frozen")
    return redirect(f"/freezes/{asset.id}")
