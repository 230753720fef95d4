"""POST /travel/screen: a passenger list, reservation message, MRZ zones or CSV screened as `jointwatch
travel screen` does, with the CUSRES reply for the carrier."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.problems import PROBLEM_RESPONSES
from jointwatch.screening import Match, Screener
from jointwatch.store import find_documents
from jointwatch.travel import (
    ManifestResult,
    carrier_reply,
    file_traveller_alerts,
    read_travellers,
    result_record,
    screen_manifest,
)

router = APIRouter(tags=["travel"])
MAX_MESSAGE = 1_000_000     # characters, as the body limit; a wide-body PAXLST is well under 200 kB


class TravelScreenRequest(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE,
                         description="The message as received: PAXLST or PNRGOV (EDIFACT), MRZ zones, or CSV.")
    format: Literal["auto", "paxlst", "pnrgov", "mrz", "csv"] = "auto"
    threshold: float | None = Field(None, ge=0.0, le=1.0, description="Name-match threshold; default the service's.")
    reply: bool = Field(True, description="Include the CUSRES reply for the carrier.")


class ReasonOut(BaseModel):
    kind: str = Field(description="listed_document, name_and_birth_date, lost_stolen_document, listed_name, "
                                  "check_digit, expired_document or unreadable")
    detail: str


class TravellerOut(BaseModel):
    index: int
    location: str = Field(description="Where the traveller starts in the message, e.g. 'segment 12 (NAD)'.")
    status: Literal["clear", "refer", "hit"]
    reasons: list[ReasonOut]
    traveller: dict[str, Any]
    matches: list[Match]
    reported_documents: list[dict[str, Any]]


class ManifestOut(BaseModel):
    source: str
    format: str
    kind: str
    sender: str
    reference: str
    message_reference: str
    flights: list[dict[str, Any]]
    counts: dict[str, int]
    seconds: float
    warnings: list[str]
    problems: list[dict[str, str]]
    travellers: list[TravellerOut]


class TravelScreenResponse(BaseModel):
    list_versions: dict[str, str]
    manifests: list[ManifestOut]
    reply: str | None = Field(None, description="CUSRES answer to the passenger lists (PAXLST), one interchange "
                                                "per list: per traveller OK to board (0Z) or contact government; "
                                                "none for reservations or MRZ.")


def _screen(request: Request, body: TravelScreenRequest, screener: Screener, member_id: int) -> list[ManifestResult]:
    engine = request.app.state.engine
    manifests = read_travellers(body.message, "<request>", body.format)
    return [screen_manifest(m, screener, lambda numbers: find_documents(engine, numbers), body.threshold, member_id)
            for m in manifests]


@router.post("/travel/screen", response_model=TravelScreenResponse, responses=PROBLEM_RESPONSES)
async def travel_screen(body: TravelScreenRequest, request: Request,
                        caller: Annotated[Caller, Depends(authorize("travel_screen", Right.SCREEN))]
                        ) -> TravelScreenResponse:
    """Screen every traveller of every interchange of a message; a broken envelope, or text after
    an UNZ that is not a whole interchange, is a 422 naming the segment (nothing screened)."""
    caller.note.subject = body.message
    screener, versions = await anyio.to_thread.run_sync(request.app.state.screeners.current)
    caller.note.list_versions = versions
    results = await anyio.to_thread.run_sync(_screen, request, body, screener, caller.member_id)
    counts = {k: sum(r.counts()[k] for r in results) for k in ("hit", "refer", "clear")}
    if counts["hit"] or counts["refer"]:  # referred and hit travellers' matches go to the alerts queue (GET /alerts)
        await anyio.to_thread.run_sync(file_traveller_alerts, request.app.state.engine, caller.member_id, results)
    caller.note.summary = f"{sum(len(r.results) for r in results)} travellers: " + \
        ", ".join(f"{v} {k}" for k, v in counts.items())
    return TravelScreenResponse(
        list_versions=versions,
        manifests=[ManifestOut.model_validate(result_record(r)) for r in results],
        reply=carrier_reply(results) if body.reply else None)
