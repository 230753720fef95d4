"""GET /entities/{reference}, GET /lists, GET /lists/{source}/diff: the register as the store holds it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models import EntityResponse, ListsResponse
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.store import ListDiff, diff_versions, list_versions_of, show_entity

router = APIRouter(tags=["register"])
_RESPONSES: dict[int | str, dict[str, object]] = {
    **PROBLEM_RESPONSES, 404: {"model": Problem, "description": "Not Found"}}


@router.get("/entities/{reference}", response_model=EntityResponse, responses=_RESPONSES)
def entity(reference: str, request: Request,
           caller: Annotated[Caller, Depends(authorize("entity.read", Right.READ_REGISTER))],
           source: Annotated[str | None, Query(max_length=64)] = None) -> EntityResponse:
    """A listing by the source's reference (QDi.354) or entity id, with every statement's provenance."""
    caller.note.subject = {"reference": reference, "source": source}
    views = show_entity(request.app.state.engine, reference, source)  # NotFoundError → 404
    caller.note.summary = ", ".join(f"{v.source}:{v.reference}" for v in views)
    return EntityResponse(reference=reference, listings=views)


@router.get("/lists", response_model=ListsResponse, responses=PROBLEM_RESPONSES)
def lists(request: Request, caller: Annotated[Caller, Depends(authorize("lists.read", Right.READ_REGISTER))],
          source: Annotated[str | None, Query(max_length=64)] = None) -> ListsResponse:
    """Every loaded list version, oldest publication first (optionally of one source)."""
    versions = list_versions_of(request.app.state.engine, source)
    caller.note.summary = f"{len(versions)} versions"
    return ListsResponse(versions=versions)


@router.get("/lists/{source}/diff", response_model=ListDiff, responses=_RESPONSES)
def diff(source: str, request: Request,
         caller: Annotated[Caller, Depends(authorize("lists.diff", Right.READ_REGISTER))],
         from_label: Annotated[str | None, Query(alias="from", max_length=96, description="Older version.")] = None,
         to_label: Annotated[str | None, Query(alias="to", max_length=96, description="Newer; default newest.")] = None,
         ) -> ListDiff:
    """Listings added, removed and changed between two versions of a source's list."""
    result = diff_versions(request.app.state.engine, source, from_label, to_label)
    caller.note.list_versions = {f"{source} from": result.from_version, f"{source} to": result.to_version}
    caller.note.summary = f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed"
    return result
