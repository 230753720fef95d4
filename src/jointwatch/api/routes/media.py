"""The media routes: match uploads or hashes against the bank, contribute, dispute, withdraw."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from jointwatch import media
from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models_media import (
    AskRequest,
    ContentType,
    MediaItemRequest,
    MediaMatchRequest,
    MediaMatchResponse,
    StatusRequest,
    Tlp,
)
from jointwatch.api.params import RowId, file_body
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.errors import InvalidInputError
from jointwatch.media import BankEvent, BankItem, Contribution, MatchOptions

router = APIRouter(tags=["media"])
# item numbers are SQL INTEGERs: anything larger cannot name one (and PostgreSQL would refuse to compare)
ItemId = RowId
_NOT_FOUND: dict[int | str, dict[str, object]] = {**PROBLEM_RESPONSES,
                                                   404: {"model": Problem, "description": "Not Found"}}
_CONFLICT: dict[int | str, dict[str, object]] = {**_NOT_FOUND, 409: {"model": Problem, "description": "Conflict"}}
_UPLOAD = {"requestBody": {"required": True, "description": "The file's bytes, as they are",
                           "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                                       "image/*": {"schema": {"type": "string", "format": "binary"}}}}}


def service_matcher(request: Request, viewer: int | None) -> media.Matcher:
    """The service's one matcher over the bank (the API's and the console's), rebuilt when the bank changes; 503
    when nothing in it could match for ``viewer`` (``media.require_bank``)."""
    state = request.app.state
    if getattr(state, "media_matchers", None) is None:
        state.media_matchers = media.MatcherCache()
    return media.require_bank(state.media_matchers.get(state.engine), state.engine, viewer)


def service_media_gate(request: Request) -> media.DecodeGate:
    """The service's one DecodeGate: media work runs there, never in the threads /match needs."""
    state = request.app.state
    if getattr(state, "media_gate", None) is None:
        state.media_gate = media.DecodeGate(state.settings.media_decode_workers)
    return state.media_gate


@router.post("/media/match", response_model=MediaMatchResponse, responses=PROBLEM_RESPONSES)
def match_hashes(body: MediaMatchRequest, request: Request,
                 caller: Annotated[Caller, Depends(authorize("media.match", Right.SCREEN))]) -> MediaMatchResponse:
    """Match a file's hashes (MD5, SHA-256, PDQ, a video's vPDQ) against the bank's active items, as your member may
    see them."""
    caller.note.subject = body.model_dump()
    if not (body.md5 or body.sha256 or body.pdq or body.vpdq):
        # an empty body would answer "no match", which reads as "not known content"
        raise InvalidInputError("give at least one hash to match: md5, sha256, pdq or vpdq")
    matcher = service_matcher(request, caller.member_id)
    matches = matcher.match_hashes(body.md5.lower() if body.md5 else None,
                                   body.sha256.lower() if body.sha256 else None,
                                   [p.lower() for p in body.pdq], MatchOptions(pdq_threshold=body.threshold))
    if body.vpdq:
        found = {m.item.id for m in matches}
        matches += [m for m in matcher.match_clip(media.vpdq_signature(body.vpdq)) if m.item.id not in found]
    seen = media.seen_by(request.app.state.engine, caller.member_id, matches)
    caller.note.summary = f"{len(seen.matches)} media matches, {len(seen.hidden)} hidden"
    return MediaMatchResponse(matches=seen.matches, hidden=seen.hidden)


async def _body(request: Request) -> bytes:
    data = await file_body(request)
    media.check_upload(data, request.app.state.settings.max_body_bytes)
    return data


@router.post("/media/match/upload", response_model=MediaMatchResponse, responses=PROBLEM_RESPONSES,
             openapi_extra=_UPLOAD)
async def match_upload(request: Request,
                       caller: Annotated[Caller, Depends(authorize("media.match", Right.SCREEN))],
                       data: Annotated[bytes, Depends(_body)],
                       threshold: Annotated[int, Query(ge=0, le=128)] = 31,
                       signatures: Annotated[bool, Query(description="Also match by local features")] = True,
                       ) -> MediaMatchResponse:
    """Hash an uploaded file and match it: exact, PDQ, and local features (crops, rotations, captions)."""
    def work():  # type: ignore[no-untyped-def]
        hashed = media.hash_media(data, "upload", signatures=signatures)
        matcher = service_matcher(request, caller.member_id)
        matches = matcher.match(hashed.hashes, hashed.match_query,
                                MatchOptions(pdq_threshold=threshold, use_signatures=signatures))
        return hashed, media.seen_by(request.app.state.engine, caller.member_id, matches)

    hashed, seen = await service_media_gate(request).run(work)
    caller.note.subject = hashed.hashes.sha256
    caller.note.summary = f"{len(seen.matches)} media matches, {len(seen.hidden)} hidden"
    return MediaMatchResponse(hashes=hashed.hashes, note=hashed.note, matches=seen.matches, hidden=seen.hidden)


@router.post("/media/items", response_model=Contribution, status_code=201, responses=_NOT_FOUND)
def contribute_hashes(body: MediaItemRequest, request: Request,
                      caller: Annotated[Caller, Depends(authorize("media.contribute", Right.DECIDE))],
                      ) -> Contribution:
    """Bank a file by its hashes, with your labels, under your member."""
    caller.note.subject = body.model_dump()
    done = media.contribute_hashes(request.app.state.engine, caller.member_id, caller.key.user,
                                   media.make_labels(body.content_type, body.group, body.tlp),
                                   md5=body.md5.lower() if body.md5 else None,
                                   sha256=body.sha256.lower() if body.sha256 else None,
                                   pdq=body.pdq.lower() if body.pdq else None, pdq_quality=body.pdq_quality,
                                   signature=media.vpdq_signature(body.vpdq).to_bytes() if body.vpdq else None,
                                   origin="api")
    caller.note.summary = f"media item {done.item.id} {'created' if done.created else 'relabelled'}"
    return done


@router.post("/media/items/upload", response_model=Contribution, status_code=201, responses=_NOT_FOUND,
             openapi_extra=_UPLOAD)
async def contribute_upload(request: Request,
                            caller: Annotated[Caller, Depends(authorize("media.contribute", Right.DECIDE))],
                            data: Annotated[bytes, Depends(_body)],
                            content_type: ContentType, tlp: Tlp = "amber",
                            group: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
                            ) -> Contribution:
    """Bank an uploaded file: its hashes and signature are kept, the file is not."""
    labels = media.make_labels(content_type, group, tlp)

    def work():  # type: ignore[no-untyped-def]
        hashed = media.hash_media(data, "upload", for_bank=True)
        signature = hashed.signature_bytes()
        return hashed, media.contribute(request.app.state.engine, caller.member_id, caller.key.user, hashed.hashes,
                                        labels, signature, origin="api-upload", note=hashed.note)

    hashed, done = await service_media_gate(request).run(work)
    caller.note.subject = hashed.hashes.sha256
    caller.note.summary = f"media item {done.item.id} {'created' if done.created else 'relabelled'}"
    return done


@router.get("/media/items/{item_id}", response_model=BankItem, responses=_NOT_FOUND)
def item(item_id: ItemId, request: Request,
         caller: Annotated[Caller, Depends(authorize("media.read", Right.READ_REGISTER))]) -> BankItem:
    """One banked item your member may see, with its labels and status (404 for one it may not)."""
    found = media.get_item(request.app.state.engine, item_id, caller.member_id)
    caller.note.summary = f"media item {item_id}"
    return found


@router.get("/media/items/{item_id}/history", response_model=list[BankEvent], responses=_NOT_FOUND)
def item_history(item_id: ItemId, request: Request,
                 caller: Annotated[Caller, Depends(authorize("media.read", Right.READ_REGISTER))],
                 ) -> list[BankEvent]:
    """What happened to an item your member may see, oldest first (other members' users left out)."""
    events = media.history(request.app.state.engine, item_id, caller.member_id)
    caller.note.summary = f"media item {item_id}: {len(events)} events"
    return events


def _change(request: Request, caller: Caller, item_id: int, action: str, reason: str) -> BankItem:
    caller.note.subject = {"item": item_id, "reason": reason}
    done = media.change_status(request.app.state.engine, item_id, caller.member_id, caller.key.user, action, reason,
                               request.app.state.settings.media_disputes_per_day)
    caller.note.summary = f"media item {item_id} {done.status}"
    return done


_LIMITED: dict[int | str, dict[str, object]] = {**_CONFLICT,
                                                  429: {"model": Problem, "description": "Too Many Requests"}}


@router.post("/media/items/{item_id}/dispute", response_model=BankItem, responses=_LIMITED)
def dispute_item(item_id: ItemId, body: StatusRequest, request: Request,
                 caller: Annotated[Caller, Depends(authorize("media.dispute", Right.DECIDE))]) -> BankItem:
    """Dispute an item you may see (a false-positive appeal): another member's stops matching for your member at
    once (a limited number a day), and for everyone when its contributor disputes it too; its history stays."""
    return _change(request, caller, item_id, "dispute", body.reason)


@router.post("/media/items/{item_id}/withdraw", response_model=BankItem, responses=_CONFLICT)
def withdraw_item(item_id: ItemId, body: StatusRequest, request: Request,
                  caller: Annotated[Caller, Depends(authorize("media.withdraw", Right.DECIDE))]) -> BankItem:
    """Withdraw your member's own item for good; its history stays."""
    return _change(request, caller, item_id, "withdraw", body.reason)


@router.post("/media/items/{item_id}/reinstate", response_model=BankItem, responses=_CONFLICT)
def reinstate_item(item_id: ItemId, body: StatusRequest, request: Request,
                   caller: Annotated[Caller, Depends(authorize("media.reinstate", Right.DECIDE))]) -> BankItem:
    """Reinstate your member's own disputed item after review: it matches again."""
    return _change(request, caller, item_id, "reinstate", body.reason)


@router.get("/media/items", response_model=list[BankItem], responses=PROBLEM_RESPONSES)
def items(request: Request, caller: Annotated[Caller, Depends(authorize("media.read", Right.READ_REGISTER))],
          status: Annotated[Literal["active", "disputed", "withdrawn"] | None, Query()] = None,
          ref: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{32}$")] = None,
          limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[BankItem]:
    """The items your member may see, oldest first (``ref``: the one a hidden match named, if it is yours)."""
    found = media.list_items(request.app.state.engine, caller.member_id, status=status, limit=limit, ref=ref)
    caller.note.summary = f"{len(found)} media items"
    return found


@router.post("/media/refs/{ref}/ask", status_code=204, responses=_LIMITED)
def ask_contributor(ref: Annotated[str, Path(pattern=r"^[0-9a-fA-F]{32}$")], body: AskRequest, request: Request,
                    caller: Annotated[Caller, Depends(authorize("media.ask", Right.DECIDE))]) -> None:
    """Ask the contributor of an item you matched but may not see: the question goes into its history."""
    caller.note.subject = {"ref": ref, "question": body.question}
    media.ask(request.app.state.engine, ref, caller.member_id, caller.key.user, body.question)
    caller.note.summary = "asked a media item's contributor"


@router.get("/media/signals", responses=PROBLEM_RESPONSES)
def signals(request: Request, caller: Annotated[Caller, Depends(authorize("media.signals", Right.READ_REGISTER))],
            checkpoint: Annotated[str | None, Query(max_length=200, description="The checkpoint the last answer "
                                                    "gave (JSON); none: from the start")] = None,
            max_tlp: Annotated[Literal["clear", "green", "amber", "amber+strict", "red"], Query()] = "amber",
            ) -> dict[str, object]:
    """What changed in the bank since ``checkpoint``, as python-threatexchange's fetch delta (HMA's shape):
    ``updates`` of ``(signal_type, signal)`` with metadata (item ref, labels as tags, dispute), or ``null``
    when withdrawn; ask again with the answer's ``checkpoint`` while ``more`` is true."""
    since = media.parse_checkpoint(checkpoint) if checkpoint else None
    deltas = media.bank_deltas(request.app.state.engine, caller.member_id, since, max_tlp)
    first = next(deltas, None)
    if first is None:
        caller.note.summary = "no media signal changed"
        return {"checkpoint": checkpoint and json.loads(checkpoint), "updates": [], "more": False}
    caller.note.summary = f"{len(first.updates)} media signals"
    return {**media.delta_to_json(first), "more": next(deltas, None) is not None}


# HMA 2.x's curator routes (its /c/…) over our bank, so a jointwatch service (or any HMA client) can push to it:
# the caller's member is the contributor; the bank's name is kept as the items' origin. docs/media.md, "Pushing".
HmaBank = Annotated[str, Path(pattern=r"^[A-Z0-9_]{1,60}$", description="The bank's name, as HMA's (capitals, "
                                                                          "digits, underscores)")]


@router.get("/media/hma/c/signal_type", responses=PROBLEM_RESPONSES)
def hma_signal_types(caller: Annotated[Caller, Depends(authorize("media.hma.read", Right.READ_REGISTER))],
                     ) -> list[dict[str, object]]:
    """The signal types this bank takes, as HMA's ``GET /c/signal_type`` lists them."""
    caller.note.summary = "media signal types"
    return [{"name": name, "enabled_ratio": 1.0} for name in media.signal_type_names()]


@router.get("/media/hma/c/bank/{bank}", responses=PROBLEM_RESPONSES)
def hma_bank(bank: HmaBank,
             caller: Annotated[Caller, Depends(authorize("media.hma.read", Right.READ_REGISTER))]) -> dict[str, object]:
    """HMA's ``GET /c/bank/<NAME>``: every name is a bank here (the items keep it as their origin)."""
    caller.note.summary = f"media bank {bank}"
    return {"name": bank, "matching_enabled_ratio": 1.0}


@router.post("/media/hma/c/bank/{bank}/signal", responses=_NOT_FOUND)
def hma_add_signals(bank: HmaBank, body: dict[str, str], request: Request,
                    caller: Annotated[Caller, Depends(authorize("media.hma.add", Right.DECIDE))],
                    content_type: ContentType = "other", tlp: Tlp = "amber",
                    group: Annotated[str | None, Query(min_length=1, max_length=128)] = None) -> dict[str, object]:
    """HMA's ``POST /c/bank/<NAME>/signal``: one item of ``{"<signal type>": "<signal>", …}`` under your member
    (the same file again: your item, relabelled); labels from the query (HMA ignores them). Answers HMA's
    ``{"id": <item number>, "signals": {…}}``."""
    caller.note.subject = {"bank": bank, "signals": body}
    done = media.bank_signals(request.app.state.engine, caller.member_id, caller.key.user, bank, body,
                        media.make_labels(content_type, group, tlp))
    caller.note.summary = f"media item {done.item.id} {'created' if done.created else 'relabelled'} in {bank}"
    return {"id": done.item.id, "signals": body}


@router.delete("/media/hma/c/bank/{bank}/content/{content_id}", responses=PROBLEM_RESPONSES)
def hma_remove_content(bank: HmaBank, content_id: ItemId, request: Request,
                       caller: Annotated[Caller, Depends(authorize("media.hma.remove", Right.DECIDE))],
                       ) -> dict[str, int]:
    """HMA's ``DELETE /c/bank/<NAME>/content/<id>``: your member's active item stops matching (disputed by you, its
    history kept; added again, it is reinstated). Answers HMA's ``{"deleted": <count>}``."""
    caller.note.subject = {"bank": bank, "item": content_id}
    count = media.remove_content(request.app.state.engine, caller.member_id, caller.key.user, bank, content_id)
    caller.note.summary = f"media item {content_id}: {count} removed from {bank}"
    return {"deleted": count}
