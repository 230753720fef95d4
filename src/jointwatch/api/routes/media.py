"""The media routes: match uploads or hashes against the bank, contribute, dispute, withdraw."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models_media import (
    ContentType,
    ContributionOut,
    HashesOut,
    MediaEventOut,
    MediaItemOut,
    MediaItemRequest,
    MediaMatchOut,
    MediaMatchRequest,
    MediaMatchResponse,
    StatusRequest,
    Tlp,
)
from jointwatch.api.params import RowId
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.store.audit import subject_digest

router = APIRouter(tags=["media"])
# item numbers are SQL INTEGERs: anything larger cannot name one (and PostgreSQL would refuse to compare)
ItemId = RowId
_NOT_FOUND: dict[int | str, dict[str, object]] = {**PROBLEM_RESPONSES,
                                                   404: {"model": Problem, "description": "Not Found"}}
_CONFLICT: dict[int | str, dict[str, object]] = {**_NOT_FOUND, 409: {"model": Problem, "description": "Conflict"}}
_UPLOAD = {"requestBody": {"required": True, "description": "The file's bytes, as they are",
                           "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                                       "image/*": {"schema": {"type": "string", "format": "binary"}}}}}


def _matcher(request: Request):  # type: ignore[no-untyped-def]
    from jointwatch.media.matcher import MatcherCache

    state = request.app.state
    if getattr(state, "media_matchers", None) is None:
        state.media_matchers = MatcherCache()
    return state.media_matchers.get(state.engine)


def _item_out(item: object) -> MediaItemOut:
    return MediaItemOut.model_validate(asdict(item))  # type: ignore[call-overload]


def _matches_out(matches: list) -> list[MediaMatchOut]:  # type: ignore[type-arg]
    return [MediaMatchOut(item=_item_out(m.item), method=m.method, distance=m.distance, inliers=m.inliers)
            for m in matches]


@router.post("/media/match", response_model=MediaMatchResponse, responses=PROBLEM_RESPONSES)
def match_hashes(body: MediaMatchRequest, request: Request,
                 caller: Annotated[Caller, Depends(authorize("media.match", Right.SCREEN))]) -> MediaMatchResponse:
    """Match a file's hashes (MD5, SHA-256, PDQ) against the bank's active items."""
    from jointwatch.media.matcher import MatchOptions

    caller.note.subject = subject_digest(body.model_dump())
    matches = _matcher(request).match_hashes(body.md5.lower() if body.md5 else None,
                                             body.sha256.lower() if body.sha256 else None,
                                             [p.lower() for p in body.pdq], MatchOptions(pdq_threshold=body.threshold))
    caller.note.summary = f"{len(matches)} media matches"
    return MediaMatchResponse(matches=_matches_out(matches))


async def _body(request: Request) -> bytes:
    from jointwatch.media.files import check_upload

    data = await request.body()
    check_upload(data, request.app.state.settings.max_body_bytes)
    return data


@router.post("/media/match/upload", response_model=MediaMatchResponse, responses=PROBLEM_RESPONSES,
             openapi_extra=_UPLOAD)
def match_upload(request: Request, caller: Annotated[Caller, Depends(authorize("media.match", Right.SCREEN))],
                 data: Annotated[bytes, Depends(_body)],
                 threshold: Annotated[int, Query(ge=0, le=128)] = 31,
                 signatures: Annotated[bool, Query(description="Also match by local features")] = True,
                 ) -> MediaMatchResponse:
    """Hash an uploaded file and match it: exact, PDQ, and local features (crops, rotations, captions)."""
    from jointwatch.media.files import hash_media
    from jointwatch.media.matcher import MatchOptions

    hashed = hash_media(data, "upload", signatures=signatures)
    caller.note.subject = hashed.hashes.sha256
    matches = _matcher(request).match(hashed.hashes, hashed.query,
                                      MatchOptions(pdq_threshold=threshold, use_signatures=signatures))
    caller.note.summary = f"{len(matches)} media matches"
    return MediaMatchResponse(hashes=HashesOut.model_validate(asdict(hashed.hashes)), note=hashed.note,
                              matches=_matches_out(matches))


@router.post("/media/items", response_model=ContributionOut, status_code=201, responses=_NOT_FOUND)
def contribute_hashes(body: MediaItemRequest, request: Request,
                      caller: Annotated[Caller, Depends(authorize("media.contribute", Right.DECIDE))],
                      ) -> ContributionOut:
    """Bank a file by its hashes, with your labels, under your member."""
    from jointwatch.media.bank import contribute_hashes
    from jointwatch.media.labels import make_labels

    caller.note.subject = subject_digest(body.model_dump())
    done = contribute_hashes(request.app.state.engine, caller.member_id, caller.key.user,
                             make_labels(body.content_type, body.group, body.tlp),
                             md5=body.md5.lower() if body.md5 else None,
                             sha256=body.sha256.lower() if body.sha256 else None,
                             pdq=body.pdq.lower() if body.pdq else None, pdq_quality=body.pdq_quality, origin="api")
    caller.note.summary = f"media item {done.item.id} {'created' if done.created else 'relabelled'}"
    return ContributionOut(item=_item_out(done.item), created=done.created)


@router.post("/media/items/upload", response_model=ContributionOut, status_code=201, responses=_NOT_FOUND,
             openapi_extra=_UPLOAD)
def contribute_upload(request: Request,
                      caller: Annotated[Caller, Depends(authorize("media.contribute", Right.DECIDE))],
                      data: Annotated[bytes, Depends(_body)],
                      content_type: ContentType, tlp: Tlp = "amber",
                      group: Annotated[str | None, Query(min_length=1, max_length=128)] = None) -> ContributionOut:
    """Bank an uploaded file: its hashes and signature are kept, the file is not."""
    from jointwatch.media.bank import contribute
    from jointwatch.media.files import hash_media
    from jointwatch.media.labels import make_labels

    labels = make_labels(content_type, group, tlp)
    hashed = hash_media(data, "upload", for_bank=True)
    caller.note.subject = hashed.hashes.sha256
    signature = hashed.signature.to_bytes() if hashed.signature else None
    done = contribute(request.app.state.engine, caller.member_id, caller.key.user, hashed.hashes, labels, signature,
                      origin="api-upload")
    caller.note.summary = f"media item {done.item.id} {'created' if done.created else 'relabelled'}"
    return ContributionOut(item=_item_out(done.item), created=done.created, note=hashed.note)


@router.get("/media/items/{item_id}", response_model=MediaItemOut, responses=_NOT_FOUND)
def item(item_id: ItemId, request: Request,
         caller: Annotated[Caller, Depends(authorize("media.read", Right.READ_REGISTER))]) -> MediaItemOut:
    """One banked item with its labels and status."""
    from jointwatch.media.bank import get_item

    found = get_item(request.app.state.engine, item_id)
    caller.note.summary = f"media item {item_id}"
    return _item_out(found)


@router.get("/media/items/{item_id}/history", response_model=list[MediaEventOut], responses=_NOT_FOUND)
def item_history(item_id: ItemId, request: Request,
                 caller: Annotated[Caller, Depends(authorize("media.read", Right.READ_REGISTER))],
                 ) -> list[MediaEventOut]:
    """What happened to an item, oldest first: contributed, relabelled, disputed, withdrawn, reinstated."""
    from jointwatch.media.bank import history

    events = history(request.app.state.engine, item_id)
    caller.note.summary = f"media item {item_id}: {len(events)} events"
    return [MediaEventOut.model_validate(asdict(e)) for e in events]


def _change(request: Request, caller: Caller, item_id: int, action: str, reason: str) -> MediaItemOut:
    from jointwatch.media.bank import change_status

    caller.note.subject = subject_digest({"item": item_id, "reason": reason})
    done = change_status(request.app.state.engine, item_id, caller.member_id, caller.key.user, action, reason)
    caller.note.summary = f"media item {item_id} {done.status}"
    return _item_out(done)


@router.post("/media/items/{item_id}/dispute", response_model=MediaItemOut, responses=_CONFLICT)
def dispute_item(item_id: ItemId, body: StatusRequest, request: Request,
                 caller: Annotated[Caller, Depends(authorize("media.dispute", Right.DECIDE))]) -> MediaItemOut:
    """Dispute any member's item (a false-positive appeal): it stops matching at once; its history stays."""
    return _change(request, caller, item_id, "dispute", body.reason)


@router.post("/media/items/{item_id}/withdraw", response_model=MediaItemOut, responses=_CONFLICT)
def withdraw_item(item_id: ItemId, body: StatusRequest, request: Request,
                  caller: Annotated[Caller, Depends(authorize("media.withdraw", Right.DECIDE))]) -> MediaItemOut:
    """Withdraw your member's own item for good; its history stays."""
    return _change(request, caller, item_id, "withdraw", body.reason)


@router.post("/media/items/{item_id}/reinstate", response_model=MediaItemOut, responses=_CONFLICT)
def reinstate_item(item_id: ItemId, body: StatusRequest, request: Request,
                   caller: Annotated[Caller, Depends(authorize("media.reinstate", Right.DECIDE))]) -> MediaItemOut:
    """Reinstate your member's own disputed item after review: it matches again."""
    return _change(request, caller, item_id, "reinstate", body.reason)
