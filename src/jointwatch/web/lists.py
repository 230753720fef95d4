"""The lists in the store: every source with its versions and how fresh it is, and the diff
between two versions of one source, a page at a time.

The same calls as GET /lists (``list_versions_of``) and GET /lists/{source}/diff
(``diff_versions``); whether a source is fresh enough to screen is the screening policy's own
rule (``check_lists`` with the service's ``list_policy``), asked per source.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal

import anyio
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from jointwatch.api import Right
from jointwatch.errors import JointwatchError
from jointwatch.screening import ListPolicy, OnStale, check_lists, last_confirmed
from jointwatch.store import Engine, EntityChange, ListDiff, VersionInfo, diff_versions, list_versions_of
from jointwatch.web.pages import Refused, audit, render, require, viewer_of
from jointwatch.web.sessions import Viewer

router = APIRouter(include_in_schema=False)
PER_PAGE = 100
KINDS = ("added", "removed", "changed")


@dataclass(frozen=True)
class SourceLists:
    """One source's versions (newest first) and whether its newest is fresh enough to screen."""

    source: str
    versions: list[VersionInfo]
    confirmed: datetime
    stale: str  # the policy's warning ('' when fresh)


def sources_of(versions: list[VersionInfo], policy: ListPolicy) -> list[SourceLists]:
    """The versions grouped by source, each source's freshness told by ``check_lists`` itself
    (in its warning mode, so a stale source is described, not refused)."""
    grouped: dict[str, list[VersionInfo]] = {}
    for info in versions:
        grouped.setdefault(info.source, []).append(info)
    warn = replace(policy, on_stale=OnStale.warn)
    out = []
    for source, infos in sorted(grouped.items()):
        newest = infos[-1]  # list_versions_of orders by publication
        stale = " ".join(check_lists({source: newest}, warn))
        out.append(SourceLists(source, infos[::-1], last_confirmed(newest), stale))
    return out


@lru_cache(maxsize=8)
def _diff(engine: Engine, source: str, from_label: str | None, to_label: str | None,
          loaded: tuple[int, ...]) -> ListDiff:
    return diff_versions(engine, source, from_label, to_label)


def diff_of(engine: Engine, source: str, from_label: str | None, to_label: str | None,
            versions: list[VersionInfo]) -> ListDiff:
    """``diff_versions``, kept for the next page: a version's statements never change once loaded,
    so the diff of two labels holds while the source's versions are the same (``loaded``, the
    key, changes when one is loaded, and with it what "newest" means). An OFAC diff costs ~2 s."""
    return _diff(engine, source, from_label, to_label, tuple(v.id for v in versions))


@router.get("/lists", response_class=HTMLResponse)
async def lists(request: Request, viewer: Annotated[Viewer, Depends(viewer_of)]) -> HTMLResponse:
    """Every loaded source with its versions, as GET /lists and `jointwatch lists show`."""
    require(viewer, Right.READ_REGISTER, "read the lists")
    versions = await anyio.to_thread.run_sync(list_versions_of, request.app.state.engine)
    policy: ListPolicy = request.app.state.settings.list_policy
    sources = sources_of(versions, policy)
    await audit(request, viewer, "lists.read", 200, summary=f"{len(versions)} versions of {len(sources)} sources")
    return render(request, "lists.html", viewer=viewer, active="lists", sources=sources, policy=policy)


@router.get("/lists/{source}/diff", response_class=HTMLResponse)
async def diff(source: Annotated[str, Path(min_length=1, max_length=64)], request: Request,
               viewer: Annotated[Viewer, Depends(viewer_of)],
               from_label: Annotated[str | None, Query(alias="from", max_length=96)] = None,
               to_label: Annotated[str | None, Query(alias="to", max_length=96)] = None,
               kind: Annotated[Literal["added", "removed", "changed"], Query()] = "added",
               offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> HTMLResponse:
    """The listings added, removed and changed between two versions (default: the newest and the
    one before it), as GET /lists/{source}/diff; one kind, ``PER_PAGE`` from ``offset``."""
    require(viewer, Right.READ_REGISTER, "compare list versions")
    engine = request.app.state.engine
    versions = await anyio.to_thread.run_sync(list_versions_of, engine, source)
    if not versions:
        await audit(request, viewer, "lists.diff", 404, subject={"source": source}, summary="no such source")
        raise Refused(404, f"No versions of source {source!r} are loaded.")
    try:
        result = await anyio.to_thread.run_sync(diff_of, engine, source, from_label or None, to_label or None,
                                                versions)
    except JointwatchError as refused:
        await audit(request, viewer, "lists.diff", refused.http_status, subject={"source": source},
                    summary=f"refused: {refused}")
        return render(request, "diff.html", refused.http_status, viewer=viewer, active="lists", source=source,
                      versions=versions[::-1], result=None, error=str(refused), sent={"from": from_label or "",
                                                                                       "to": to_label or ""})
    rows: list[EntityChange] = getattr(result, kind)
    await audit(request, viewer, "lists.diff", 200, subject={"source": source},
                list_versions={f"{source} from": result.from_version, f"{source} to": result.to_version},
                summary=f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed")
    return render(request, "diff.html", viewer=viewer, active="lists", source=source, versions=versions[::-1],
                  result=result, kind=kind, kinds=KINDS, rows=rows[offset:offset + PER_PAGE], total=len(rows),
                  offset=offset, per_page=PER_PAGE, error="",
                  sent={"from": result.from_version, "to": result.to_version})
