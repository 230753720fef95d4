"""Evidence files of partner entries: attach (the originator), list, read the record, fetch the bytes.

An upload is the file's raw bytes as the body (its name in ``?filename=``): the service has no
multipart parser, and a raw body is what the media routes take too. The type is read from the
bytes, never from the name or the Content-Type sent. The bytes go back as an attachment, with
``nosniff`` and a policy that forbids scripts, so no browser runs what a partner uploaded.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel

from jointwatch import sharing
from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.params import file_body
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.api.routes.media import service_media_gate as media_gate
from jointwatch.sharing import EvidenceView

router = APIRouter(tags=["sharing"])
_RESPONSES: dict[int | str, dict[str, object]] = {
    **PROBLEM_RESPONSES, 403: {"model": Problem, "description": "Not the entry's originator"},
    404: {"model": Problem, "description": "Not Found"}, 409: {"model": Problem, "description": "Conflict"}}
_UPLOAD = {"requestBody": {"required": True, "description": "The file's bytes, as they are",
                           "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
_UPLOAD_PATH = re.compile(r"^/shared/entries/[^/]+/evidence/?$")
EntryRef = Annotated[str, Path(min_length=1, max_length=64)]
EvidenceRef = Annotated[str, Path(min_length=1, max_length=32)]
# what a browser may do with a partner's file opened from the console: nothing active
CONTENT_POLICY = "default-src 'none'; script-src 'none'; object-src 'none'; sandbox"


def is_upload_path(path: str) -> bool:
    """Whether ``path`` takes an evidence file (its own body limit, larger than the usual)."""
    return _UPLOAD_PATH.match(path) is not None


class Evidence(BaseModel):
    """An evidence file's record: its chain of custody, and where and when it was taken."""

    ref: str
    entry_ref: str
    filename: str
    media_type: str
    size: int
    sha256: str
    tlp: str
    description: str
    status: str
    member_id: int | None
    user: str
    origin: str
    added_at: datetime
    captured_at: datetime | None
    latitude: float | None
    longitude: float | None
    mine: bool

    @classmethod
    def of(cls, view: EvidenceView) -> Evidence:
        e = view.evidence
        return cls(ref=e.ref, entry_ref=view.entry_ref, filename=e.filename, media_type=e.media_type, size=e.size,
                   sha256=e.sha256, tlp=e.tlp, description=e.description, status=e.status, member_id=e.member_id,
                   user=e.user, origin=e.origin, added_at=e.added_at, captured_at=e.captured_at,
                   latitude=e.latitude, longitude=e.longitude, mine=view.mine)


@router.post("/shared/entries/{ref}/evidence", response_model=Evidence, status_code=201, responses=_RESPONSES,
             openapi_extra=_UPLOAD)
async def add(ref: EntryRef, request: Request,
              caller: Annotated[Caller, Depends(authorize("evidence.add", Right.SHARE))],
              filename: Annotated[str, Query(min_length=1, max_length=255)],
              tlp: Annotated[str | None, Query(max_length=32, description="The entry's, or stricter")] = None,
              description: Annotated[str, Query(max_length=4000)] = "",
              world_file: Annotated[str | None, Query(max_length=4096, description=(
                  "An image's world file (.tfw, .jgw, .pgw: six numbers), in a geographic CRS"))] = None,
              ) -> Evidence:
    """Attach a file to your entry: JPEG, PNG, TIFF (GeoTIFF), WebP, PDF without active content,
    or UTF-8 text. Capture time and place are read from EXIF, GeoTIFF tags or the world file."""
    data = await file_body(request)
    caller.note.subject = {"entry": ref, "filename": filename, "size": len(data)}
    engine, settings = request.app.state.engine, request.app.state.settings
    origin = f"api {request.client.host}" if request.client else "api"

    def work() -> sharing.EvidenceView:
        stored = sharing.add_evidence(engine, ref, caller.member_id, caller.key.user, filename, data, tlp,
                                      description, origin, world_file.encode() if world_file else None,
                                      max_bytes=settings.max_evidence_bytes)
        return EvidenceView(stored, ref, True)

    view = await media_gate(request).run(work)
    caller.note.summary = f"evidence {view.evidence.ref} added to {ref}"
    return Evidence.of(view)


@router.get("/shared/entries/{ref}/evidence", response_model=list[Evidence], responses=_RESPONSES)
def list_(ref: EntryRef, request: Request,
          caller: Annotated[Caller, Depends(authorize("evidence.list", Right.SHARE))]) -> list[Evidence]:
    """The entry's evidence you may see (its withdrawn files shown as withdrawn)."""
    caller.note.subject = {"entry": ref}
    views = sharing.list_evidence(request.app.state.engine, ref, caller.member_id, caller.key.user)
    caller.note.summary = f"{len(views)} evidence files of {ref}"
    return [Evidence.of(v) for v in views]


@router.get("/shared/evidence/{evidence_ref}", response_model=Evidence, responses=_RESPONSES)
def record(evidence_ref: EvidenceRef, request: Request,
           caller: Annotated[Caller, Depends(authorize("evidence.read", Right.SHARE))]) -> Evidence:
    """One evidence file's record: chain of custody, capture time and place."""
    caller.note.subject = {"evidence": evidence_ref}
    view, _ = sharing.get_evidence(request.app.state.engine, evidence_ref, caller.member_id, caller.key.user,
                                   with_content=False)
    caller.note.summary = f"evidence {evidence_ref}"
    return Evidence.of(view)


@router.get("/shared/evidence/{evidence_ref}/content", responses={
    **_RESPONSES, 200: {"description": "The file's bytes", "content": {"application/octet-stream": {}}}})
def content(evidence_ref: EvidenceRef, request: Request,
            caller: Annotated[Caller, Depends(authorize("evidence.read", Right.SHARE))]) -> Response:
    """The file's bytes, as an attachment of the type read from them when it was added."""
    caller.note.subject = {"evidence": evidence_ref}
    view, data = sharing.get_evidence(request.app.state.engine, evidence_ref, caller.member_id, caller.key.user)
    assert data is not None
    caller.note.summary = f"evidence {evidence_ref} content, {len(data)} bytes"
    name = view.evidence.filename
    ascii_name = "".join(ch if ch.isascii() and ch.isalnum() or ch in "._-" else "_" for ch in name)
    return Response(data, media_type=view.evidence.media_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CONTENT_POLICY,
        "Cache-Control": "no-store",
        "X-Evidence-SHA256": view.evidence.sha256})
