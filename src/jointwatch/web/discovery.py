"""Blind discovery in the console: ask every holder blind for a name, and the holder's view of its offer.

The same calls as POST /discovery/query and GET /discovery/offer (``discover``, ``note_answered``,
``get_offer``, ``spend_of``, ``blind_queries``) and the same rights: asking needs SHARE (an
analyst's act), the offer and its log MANAGE_SHARING (an organisation's decision). Like the
API it fails closed: with no usable list the words cannot be weighed, and nobody is asked.
The name never reaches a holder; the holder's log says who asked, when and how many keys.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from jointwatch.api import Right
from jointwatch.errors import InvalidInputError, JointwatchError, ScreeningUnavailableError
from jointwatch.releasability import TLP_LEVELS
from jointwatch.screening import prepare
from jointwatch.sharing import (
    DEFAULT_DAILY_KEYS,
    DEFAULT_PER_MINUTE,
    DEFAULT_TLP_MAX,
    HolderAnswer,
    close_offer,
    discover,
    epoch_of,
    note_answered,
    open_offer,
)
from jointwatch.store import blind_queries, get_offer, list_members, spend_of
from jointwatch.web.pages import Refused, audit, field, form_of, redirect, render, require, viewer_of
from jointwatch.web.screening import subject_of, validated
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
LOG_LENGTH = 100


def asker_name(label: str, names: dict[int, str]) -> str:
    """An asker as the holder sees it: its member's name here (``member:<id>`` otherwise)."""
    kind, _, number = label.partition(":")
    return names.get(int(number), label) if kind == "member" and number.isdigit() else label


@router.get("/discover", response_class=HTMLResponse)
def discover_form(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The blind query form."""
    require(viewer, Right.SHARE, "ask partners blind")
    return render(request, "discover.html", viewer=viewer, active="sharing", subject=None, answers=None)


@router.post("/discover", response_class=HTMLResponse)
async def ask_blind(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """A blind query to every holder whose offer reaches the viewer's member, as POST /discovery/query:
    per holder hit or no hit (or refused: not asked, which is not "no hit"), strength and what agreed."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.SHARE, "ask partners blind")
    raw = subject_of(fields)
    raw.update(countries=[], id_numbers=[])  # a blind query takes the name and birth date only, here
    page: dict[str, Any] = {"viewer": viewer, "active": "sharing", "subject": raw, "answers": None}
    try:
        subject = validated(raw)
        checked = prepare(subject.to_query())
    except Refused as refused:
        return render(request, "discover.html", refused.status, error=refused.message, **page)
    except JointwatchError as invalid:
        return render(request, "discover.html", invalid.http_status, error=str(invalid), **page)
    engine = request.app.state.engine
    try:
        screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
        answers: list[HolderAnswer] = await anyio.to_thread.run_sync(
            lambda: discover(engine, viewer.member_id, checked, screener.index))
    except (ScreeningUnavailableError, JointwatchError) as refused:
        await audit(request, viewer, "discovery.query", refused.http_status, subject=subject.audit_view(),
                    summary=f"blind query: refused: {refused}")
        return render(request, "discover.html", refused.http_status, error=f"Nobody was asked: {refused}", **page)

    def note_holders() -> None:
        for answer in answers:
            if answer.holder_id is not None:
                note_answered(engine, answer.holder_id, viewer.user.member_name, answer.keys,
                              answer.refused is not None)

    await anyio.to_thread.run_sync(note_holders)
    hits = [a.holder for a in answers if a.hits]
    refused_count = sum(1 for a in answers if a.refused)
    await audit(request, viewer, "discovery.query", 200, subject=subject.audit_view(), list_versions=versions,
                summary=f"blind query to {len(answers)} holders: {len(hits)} with a hit, {refused_count} refused"
                        + (f" ({', '.join(hits)})" if hits else ""))
    page["answers"] = answers
    return render(request, "discover.html", **page)


@router.get("/discover/offer", response_class=HTMLResponse)
async def offer(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """The viewer's member's offer (never its seed), today's spend per asker, and its log of
    blind queries: who asked, when, how many keys. That is all a holder learns of a blind query."""
    require(viewer, Right.MANAGE_SHARING, "read the member's discovery offer")
    engine = request.app.state.engine

    def read() -> dict[str, Any]:
        names = {m.id: m.name for m in list_members(engine)}
        found = get_offer(engine, viewer.member_id)
        day = epoch_of()
        spend = spend_of(engine, day, holder_id=viewer.member_id) if found else []
        log = blind_queries(engine, viewer.member_id, LOG_LENGTH) if found else []
        return {"offer": found, "day": day, "names": names,
                "spend": [(asker_name(s.asker, names), s) for s in spend],
                "log": [(asker_name(q.asker, names), q) for q in log]}

    shown = await anyio.to_thread.run_sync(read)
    await audit(request, viewer, "discovery.offer.read", 200 if shown["offer"] else 404,
                summary=f"discovery offer: {len(shown['spend'])} askers today, {len(shown['log'])} log rows")
    return render(request, "offer.html", viewer=viewer, active="sharing", tlp_levels=TLP_LEVELS,
                  defaults={"daily_keys": DEFAULT_DAILY_KEYS, "per_minute": DEFAULT_PER_MINUTE,
                            "tlp_max": DEFAULT_TLP_MAX}, **shown)


def _count(fields: dict[str, list[str]], name: str) -> int:
    text = field(fields, name).replace(",", "").replace("_", "")
    if not text.isdigit():
        raise InvalidInputError(f"{name}: a whole number")
    return int(text)


@router.post("/discover/offer")
async def set_offer(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """Open or change the member's offer (``action=open``), or close it (``action=close``), as PUT
    and DELETE /discovery/offer do; the library checks every value."""
    fields = await form_of(request, viewer.csrf)
    require(viewer, Right.MANAGE_SHARING, "change the member's discovery offer")
    engine = request.app.state.engine
    closing = field(fields, "action") == "close"
    try:
        if closing:
            offer = await anyio.to_thread.run_sync(close_offer, engine, viewer.member_id)
        else:
            daily_keys, per_minute = _count(fields, "daily_keys"), _count(fields, "per_minute")
            offer = await anyio.to_thread.run_sync(lambda: open_offer(
                engine, viewer.member_id, daily_keys=daily_keys, per_minute=per_minute,
                scope=field(fields, "scope") or "server", tlp_max=field(fields, "tlp_max") or DEFAULT_TLP_MAX,
                new_seed=field(fields, "new_seed") == "yes"))
    except JointwatchError as refused:
        action = "discovery.offer.close" if closing else "discovery.offer.set"
        await audit(request, viewer, action, refused.http_status, summary=f"refused: {refused}")
        raise Refused(refused.http_status, str(refused)) from None
    if closing:
        await audit(request, viewer, "discovery.offer.close", 200, summary="discovery offer closed")
    else:
        await audit(request, viewer, "discovery.offer.set", 200,
                    summary=f"discovery offer open: {offer.daily_keys} keys a day, {offer.per_minute} a minute, "
                            f"{offer.scope}, up to TLP:{offer.tlp_max}"
                            f"{', new seed' if field(fields, 'new_seed') == 'yes' else ''}")
    return redirect("/discover/offer")
