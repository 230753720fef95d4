"""TAXII 2.1 (read-only) under /taxii2/, and GET /shared/export, POST /shared/import.

Discovery, one API root, the caller's collections (``sharing.taxii``: its sharing groups',
``server``, ``mine``), their objects and manifests, with ``limit``/``next`` paging,
``added_after`` and ``match[id|type|version|spec_version]`` as TAXII 2.1 says. Media type
``application/taxii+json;version=2.1``. Keys as everywhere, and also as the password of HTTP
Basic (what TAXII clients send). The right is ``share``: a TAXII feed passes partner entries
on to another tool, as an export does, so a screening-only key (``screener``) gets none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.errors import InvalidInputError, NotFoundError
from jointwatch.releasability import handling_codes, tlp_level
from jointwatch.sharing import (
    MAX_IMPORT_BYTES,
    STIX_MEDIA_TYPE,
    ImportChoice,
    TaxiiObject,
    collection_for,
    collection_objects,
    collections_for,
    entries_in,
    exportable,
    ftm_lines,
    group_named,
    import_items,
    load_page,
    manifest_record,
    note_export,
    parse_time,
    read_ftm_lines,
    read_stix_bundle,
    select_page,
    stix_bundle,
)
from jointwatch.store import get_member

TAXII_MEDIA_TYPE = "application/taxii+json;version=2.1"
ROOT = "/taxii2/api/"

router = APIRouter(tags=["taxii"])
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES, 404: {"model": Problem, "description": "No such collection, or none the caller may read"}}


class TaxiiResponse(JSONResponse):
    media_type = TAXII_MEDIA_TYPE


class Discovery(BaseModel):
    title: str
    description: str
    default: str
    api_roots: list[str]


class ApiRootInfo(BaseModel):
    title: str
    description: str
    versions: list[str]
    max_content_length: int


class CollectionOut(BaseModel):
    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool
    media_types: list[str]


class Collections(BaseModel):
    collections: list[CollectionOut]


class Envelope(BaseModel):
    more: bool
    next: str | None = None
    objects: list[dict[str, Any]]


class ManifestRecord(BaseModel):
    id: str
    date_added: str
    version: str
    media_type: str


class Manifest(BaseModel):
    more: bool
    next: str | None = None
    objects: list[ManifestRecord]


def _taxii(body: BaseModel, headers: dict[str, str] | None = None) -> TaxiiResponse:
    return TaxiiResponse(body.model_dump(exclude_none=True), headers=headers)


_READ = authorize("taxii.read", Right.SHARE)
ListParam = Annotated[str | None, Query(max_length=4000)]
CollectionId = Annotated[str, Path(max_length=64, description="The collection's id (a UUID).")]
ObjectId = Annotated[str, Path(max_length=128, description="A STIX id (type--UUID).")]


@router.get("/taxii2/", response_class=TaxiiResponse, response_model=Discovery, responses=PROBLEM_RESPONSES)
def discovery(caller: Annotated[Caller, Depends(_READ)]) -> TaxiiResponse:
    """TAXII 2.1 discovery: the one API root of this server."""
    return _taxii(Discovery(title="jointwatch", description="Partner entries (watchlist identity data) that the "
                            "caller's member may pass on, as STIX 2.1.", default=ROOT, api_roots=[ROOT]))


@router.get(ROOT, response_class=TaxiiResponse, response_model=ApiRootInfo, responses=PROBLEM_RESPONSES)
def api_root(caller: Annotated[Caller, Depends(_READ)]) -> TaxiiResponse:
    """The API root: TAXII 2.1, read-only."""
    return _taxii(ApiRootInfo(title="jointwatch partner entries", description="Read-only collections per audience.",
                              versions=[TAXII_MEDIA_TYPE], max_content_length=0))


@router.get(ROOT + "collections/", response_class=TaxiiResponse, response_model=Collections,
            responses=PROBLEM_RESPONSES)
def collections(request: Request, caller: Annotated[Caller, Depends(_READ)]) -> TaxiiResponse:
    """The collections the caller's member may read: its sharing groups', server, mine."""
    found = collections_for(request.app.state.engine, caller.member_id)
    caller.note.summary = f"{len(found)} collections"
    return _taxii(Collections(collections=[CollectionOut(**c.resource()) for c in found]))


@router.get(ROOT + "collections/{collection_id}/", response_class=TaxiiResponse, response_model=CollectionOut,
            responses=_NOT_FOUND)
def collection(collection_id: CollectionId, request: Request,
               caller: Annotated[Caller, Depends(_READ)]) -> TaxiiResponse:
    """One collection (404 alike for a missing one and one the caller may not read)."""
    caller.note.subject = {"collection": collection_id}
    info = collection_for(request.app.state.engine, caller.member_id, collection_id)
    return _taxii(CollectionOut(**info.resource()))


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@dataclass(frozen=True)
class PageFilter:
    """The filters and paging of a TAXII objects or manifest request (TAXII 2.1, 3.4 and 5.3)."""

    added_after: str | None = None
    limit: int | None = None
    next: str | None = None
    match_id: str | None = None
    match_type: str | None = None
    match_version: str | None = None
    match_spec_version: str | None = None


def _filter(added_after: ListParam = None, limit: Annotated[int | None, Query(ge=1, le=100000)] = None,
            next: ListParam = None,  # noqa: A002 - the TAXII parameter's name
            match_id: Annotated[str | None, Query(alias="match[id]", max_length=4000)] = None,
            match_type: Annotated[str | None, Query(alias="match[type]", max_length=4000)] = None,
            match_version: Annotated[str | None, Query(alias="match[version]", max_length=4000)] = None,
            match_spec_version: Annotated[str | None, Query(alias="match[spec_version]", max_length=100)] = None,
            ) -> PageFilter:
    return PageFilter(added_after, limit, next, match_id, match_type, match_version, match_spec_version)


Filter = Annotated[PageFilter, Depends(_filter)]


def _page(request: Request, caller: Caller, collection_id: str, f: PageFilter, passes_on: bool = True,
          ) -> tuple[list[TaxiiObject], bool, str | None, dict[str, str]]:
    """The page asked for; when it ``passes_on`` the entries (objects, not the manifest), each
    entry sent goes on its trail, so its originator sees which tool pulled it."""
    engine = request.app.state.engine
    info = collection_for(engine, caller.member_id, collection_id)
    caller.note.subject = {"collection": collection_id, "added_after": f.added_after}
    page = select_page(collection_objects(engine, caller.member_id, info),
                       added_after=parse_time(f.added_after, "added_after") if f.added_after else None,
                       ids=_split(f.match_id), types=_split(f.match_type), versions=_split(f.match_version),
                       spec_versions=_split(f.match_spec_version), limit=f.limit, next_token=f.next)
    found = load_page(engine, caller.member_id, page.objects)
    headers = {}
    if found:
        headers = {"X-TAXII-Date-Added-First": found[0].date_added, "X-TAXII-Date-Added-Last": found[-1].date_added}
    caller.note.summary = f"{info.title}: {len(found)} objects"
    if passes_on:
        note_export(engine, entries_in(found), caller.member_id, caller.key.user, f"taxii {info.title}")
    return found, page.more, page.next, headers


@router.get(ROOT + "collections/{collection_id}/objects/", response_class=TaxiiResponse, response_model=Envelope,
            responses=_NOT_FOUND)
def objects(collection_id: CollectionId, request: Request, caller: Annotated[Caller, Depends(_READ)],
            f: Filter) -> TaxiiResponse:
    """The collection's STIX objects, oldest added first, a page at a time (``limit``, ``next``)."""
    found, more, token, headers = _page(request, caller, collection_id, f)
    return _taxii(Envelope(more=more, next=token, objects=[o.obj for o in found]), headers)


@router.get(ROOT + "collections/{collection_id}/objects/{object_id}/", response_class=TaxiiResponse,
            response_model=Envelope, responses=_NOT_FOUND)
def one_object(collection_id: CollectionId, object_id: ObjectId, request: Request,
               caller: Annotated[Caller, Depends(_READ)]) -> TaxiiResponse:
    """One object of the collection (an empty envelope when the collection does not hold it)."""
    found, more, token, headers = _page(request, caller, collection_id, PageFilter(match_id=object_id))
    return _taxii(Envelope(more=more, next=token, objects=[o.obj for o in found]), headers)


@router.get(ROOT + "collections/{collection_id}/manifest/", response_class=TaxiiResponse, response_model=Manifest,
            responses=_NOT_FOUND)
def manifest(collection_id: CollectionId, request: Request, caller: Annotated[Caller, Depends(_READ)],
             f: Filter) -> TaxiiResponse:
    """What the collection holds (id, date added, version), a page at a time."""
    found, more, token, headers = _page(request, caller, collection_id, f, passes_on=False)
    return _taxii(Manifest(more=more, next=token, objects=[ManifestRecord(**manifest_record(o)) for o in found]),
                  headers)


# -- files: the same export and import as `jointwatch share export|import` --------------------------

@router.get("/shared/export", responses={200: {"content": {STIX_MEDIA_TYPE: {}, "application/x-ndjson": {}},
                                               "description": "A STIX 2.1 bundle or FtM JSON lines"},
                                         **PROBLEM_RESPONSES}, response_class=Response)
def export(request: Request, caller: Annotated[Caller, Depends(authorize("shared.export", Right.SHARE))],
           fmt: Annotated[str, Query(alias="format", pattern="^(ftm|stix)$")] = "ftm",
           mine: bool = False) -> Response:
    """The partner entries the caller's member may pass on (its own with ``mine``), as a file."""
    engine = request.app.state.engine
    entries = exportable(engine, caller.member_id, mine_only=mine)
    note_export(engine, entries, caller.member_id, caller.key.user, f"{fmt} over the API")
    caller.note.summary = f"{len(entries)} entries ({fmt})"
    if fmt == "stix":
        return Response(stix_bundle(entries), media_type=STIX_MEDIA_TYPE)
    return Response("".join(ftm_lines(entries)), media_type="application/x-ndjson")


class ImportReportOut(BaseModel):
    added: list[str]
    updated: list[str]
    withdrawn: list[str]
    unchanged: int
    skipped: dict[str, int]


@router.post("/shared/import", response_model=ImportReportOut, responses=PROBLEM_RESPONSES,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def import_file(request: Request,
                      caller: Annotated[Caller, Depends(authorize("shared.import", Right.SHARE))],
                      fmt: Annotated[str, Query(alias="format", pattern="^(ftm|stix)$")] = "ftm",
                      distribution: Annotated[str, Query(max_length=32)] = "originator",
                      audience: Annotated[list[str] | None, Query(max_length=128)] = None,
                      tlp: Annotated[str | None, Query(max_length=32)] = None,
                      handling: Annotated[list[str] | None, Query(max_length=64)] = None,
                      reason: Annotated[str | None, Query(max_length=2000)] = None,
                      name: Annotated[str, Query(max_length=128)] = "upload") -> ImportReportOut:
    """Import an FtM JSON lines file or a STIX bundle (the body) as the caller's member's entries.

    As `jointwatch share import`: the caller's member becomes the originator and gives the labels
    (``audience``: member names for ``members``, group names for ``group``); all or nothing; the
    usual body limit applies (the CLI takes files up to 64 MB)."""
    data = await request.body()
    if len(data) > MAX_IMPORT_BYTES:
        raise InvalidInputError(f"{name}: larger than {MAX_IMPORT_BYTES:,} bytes")
    engine = request.app.state.engine
    caller.note.subject = {"format": fmt, "name": name, "distribution": distribution}

    def run() -> ImportReportOut:
        try:
            ids = tuple(sorted({get_member(engine, a).id if distribution == "members"
                                else group_named(engine, a, caller.member_id).id
                                for a in audience or ()}))
        except NotFoundError as error:  # a name in the query: the request is wrong, nothing is missing
            raise InvalidInputError(f"audience: {error}") from None
        choice = ImportChoice(distribution, ids, tlp_level(tlp) if tlp else None,
                              handling_codes(handling) if handling is not None else None, reason)
        items = read_stix_bundle(data, name)[0] if fmt == "stix" else read_ftm_lines(data, name)
        report = import_items(engine, caller.member_id, caller.key.user, items, choice, name)
        return ImportReportOut(**report.to_dict())  # type: ignore[arg-type]

    report = await anyio.to_thread.run_sync(run)
    caller.note.summary = f"{len(report.added)} added, {len(report.updated)} updated"
    return report

