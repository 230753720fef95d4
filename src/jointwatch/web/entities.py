"""An entity's page: every statement of one listing with its provenance, its changes between
list versions, the partner entries releasable to the viewer that match it, their evidence.

The same calls as GET /entities/{reference} (``show_entity``) and GET /lists/{source}/diff
(``diff_versions``, restricted to the listing), plus ``listing_versions`` for the versions
each statement is in. Partner entries are found as screening finds them: the listing's names
screened through the service's ``SharedScreener`` as the viewer's member, so what the viewer may
not see is never even a candidate (and, as in screening, the originator's trail notes the
match). Evidence comes from ``sharing.list_evidence`` / ``get_evidence``, which decide again on
every read, thumbnails included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

import anyio
import numpy as np
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from jointwatch.api import Right
from jointwatch.errors import InvalidInputError, JointwatchError, NotFoundError, ScreeningUnavailableError
from jointwatch.screening import NAME_PROPS, QUERY_SCHEMATA, Match, Query, Screener, prepare
from jointwatch.sharing import EvidenceView, get_evidence, list_evidence
from jointwatch.store import (
    Engine,
    EntityView,
    ListDiff,
    VersionInfo,
    diff_versions,
    list_versions_of,
    listing_versions,
    show_entity,
)
from jointwatch.web.pages import SECURITY_HEADERS, Refused, audit, render, require, viewer_of
from jointwatch.web.placemap import PlaceMap, place_map
from jointwatch.web.sessions import Viewer
from jointwatch.web.thumbnails import thumbnail_png

router = APIRouter(include_in_schema=False)
Segment = Annotated[str, Path(min_length=1, max_length=128)]
MAX_NAMES = 12            # the listing's names screened for partner entries
MAX_DIFFS = 50            # newest consecutive version pairs compared on one page


@dataclass(frozen=True)
class VersionChange:
    """The listing's part of the diff between two consecutive versions of its source."""

    diff: ListDiff

    @property
    def kind(self) -> str:
        return "added" if self.diff.added else "removed" if self.diff.removed else "changed"

    @property
    def changes(self) -> list:  # type: ignore[type-arg]
        return [fc for c in (*self.diff.added, *self.diff.removed, *self.diff.changed) for fc in c.changes]


@dataclass
class PartnerEntry:
    """A partner entry that matched the listing, with the evidence the viewer may see."""

    match: Match
    evidence: list[tuple[EvidenceView, PlaceMap | None]] = field(default_factory=list)


def the_listing(engine: Engine, source: str, reference: str) -> EntityView:
    """The listing ``reference`` of ``source`` exactly (not an entity id, not another source's)."""
    missing = NotFoundError(f"no listing {reference!r} of {source!r}")
    try:
        views = show_entity(engine, reference, source)
    except NotFoundError:
        raise missing from None
    for view in views:
        if view.source == source and view.reference == reference:
            return view
    raise missing


def version_changes(engine: Engine, source: str, reference: str, versions: list[VersionInfo]) -> list[VersionChange]:
    """The listing's changes between each two consecutive versions (newest first), as ``lists diff``
    computes them; the newest ``MAX_DIFFS`` pairs."""
    pairs = list(zip(versions, versions[1:], strict=False))[-MAX_DIFFS:]
    found = []
    for older, newer in reversed(pairs):
        diff = diff_versions(engine, source, older.version, newer.version, reference=reference)
        if diff.added or diff.removed or diff.changed:
            found.append(VersionChange(diff))
    return found


def query_of(view: EntityView, name: str) -> Query | None:
    """A name of the listing as a screening subject, with its birth date when it has one."""
    schema = view.schema if view.schema in QUERY_SCHEMATA else "LegalEntity"
    births = sorted(s.value for s in view.statements
                    if s.entity_id == view.entity_id and s.prop == "birthDate" and s.current)
    for birth_date in (births[0] if births else None, None):
        try:
            return prepare(Query(name=name, schema=schema, birth_date=birth_date))
        except InvalidInputError:
            continue  # a listed birth date screening cannot read: the name alone
    return None


def partner_matches(screener: Screener, view: EntityView, member_id: int) -> list[Match]:
    """The partner entries releasable to ``member_id`` that match one of the listing's current
    names, best score first (one row per entry)."""
    names = []
    for s in view.statements:
        if s.entity_id == view.entity_id and s.prop in NAME_PROPS and s.prop != "weakAlias" and s.current:
            if s.value not in names:
                names.append(s.value)
    best: dict[str, Match] = {}
    # the official listings are hidden (``visible``): only partner entries are looked for, so the
    # official index costs no scoring; the partner entries are masked by releasability as ever
    no_listing = np.zeros(len(screener.index), dtype=bool)
    for name in names[:MAX_NAMES]:
        query = query_of(view, name)
        if query is None:
            continue
        for match in screener.screen(query, screener.threshold, 10, member_id, visible=no_listing):
            if match.shared is not None and (match.reference not in best or match.score > best[match.reference].score):
                best[match.reference] = match
    return sorted(best.values(), key=lambda m: (-m.score, m.reference))


def with_evidence(engine: Engine, matches: list[Match], member_id: int, user: str) -> list[PartnerEntry]:
    """Each matched entry with the evidence ``member_id`` may see (``sharing.list_evidence`` decides)."""
    out = []
    for match in matches:
        try:
            views = list_evidence(engine, match.reference, member_id, user)
        except NotFoundError:
            views = []  # no longer releasable since the index looked: shown without evidence
        out.append(PartnerEntry(match, [(v, place_map(v.evidence.latitude, v.evidence.longitude)) for v in views]))
    return out


@router.get("/entities/{source}/{reference:path}", response_class=HTMLResponse)
async def entity(source: Segment, reference: Segment, request: Request,
                 viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """One listing: statements with provenance and versions, its changes, matching partner entries."""
    require(viewer, Right.READ_REGISTER, "read the lists")
    engine = request.app.state.engine
    try:
        view = await anyio.to_thread.run_sync(the_listing, engine, source, reference)
    except NotFoundError as missing:
        await audit(request, viewer, "entity.show", 404, subject={"source": source[:64], "reference": reference[:64]},
                    summary="not found")
        raise Refused(404, str(missing)) from None
    versions = await anyio.to_thread.run_sync(list_versions_of, engine, source)
    held = await anyio.to_thread.run_sync(listing_versions, engine, source, reference)
    changes = await anyio.to_thread.run_sync(version_changes, engine, source, reference, versions)
    partners: list[PartnerEntry] | None = None
    partner_note = ""
    if viewer.may(Right.SCREEN):
        try:
            screener, _ = await anyio.to_thread.run_sync(request.app.state.screeners.current)
            matches = await anyio.to_thread.run_sync(partner_matches, screener, view, viewer.member_id)
            if viewer.may(Right.SHARE):
                partners = await anyio.to_thread.run_sync(
                    with_evidence, engine, matches, viewer.member_id, viewer.user.user)
            else:
                partners = [PartnerEntry(m) for m in matches]
        except ScreeningUnavailableError as unavailable:
            partner_note = f"Partner entries cannot be looked up now: {unavailable}"
    await audit(request, viewer, "entity.show", 200, subject={"source": source, "reference": reference},
                summary=f"{source}:{reference}, {len(view.statements)} statements"
                        + (f", {len(partners)} partner entries" if partners else ""))
    return render(request, "entity.html", viewer=viewer, active="lists", view=view, versions=versions, held=held,
                  changes=changes, partners=partners, partner_note=partner_note,
                  may_share=viewer.may(Right.SHARE))


@router.get("/evidence/{evidence_ref}/thumbnail")
async def thumbnail(evidence_ref: Annotated[str, Path(min_length=1, max_length=32)], request: Request,
                    viewer: Annotated[Viewer, Depends(viewer_of)]) -> Response:
    """A thumbnail of an evidence image the viewer may see, asked of ``sharing.get_evidence`` on
    every fetch (never a static path): evidence it may not see is "not found"."""
    require(viewer, Right.SHARE, "read evidence")
    try:
        view, content = await anyio.to_thread.run_sync(
            lambda: get_evidence(request.app.state.engine, evidence_ref, viewer.member_id, viewer.user.user))
    except JointwatchError as refused:
        await audit(request, viewer, "evidence.thumbnail", refused.http_status, summary=f"{evidence_ref}: refused")
        raise Refused(refused.http_status, str(refused)) from None
    if content is None or not view.evidence.media_type.startswith("image/"):
        raise Refused(404, f"evidence {evidence_ref} is not an image")
    png = await anyio.to_thread.run_sync(thumbnail_png, content)
    await audit(request, viewer, "evidence.thumbnail", 200, summary=f"{evidence_ref} thumbnail")
    return Response(png, media_type="image/png", headers=SECURITY_HEADERS)
