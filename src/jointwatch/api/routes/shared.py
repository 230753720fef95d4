"""/shared/entries and /shared/groups: partner entries and sharing groups, as `jointwatch share` does them.

Who may see what is decided by ``jointwatch.releasability`` through the sharing package; these
routes only translate. An entry the caller's member may not see is answered exactly as one that
does not exist (404, the same message), on every route; another member's entry it may see is
403 on a change. Audit rows name entries by their ref, never by the names they hold.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import Engine

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models_sharing import (
    EditRequest,
    EntryList,
    EntryOut,
    EntryRequest,
    EntryVersionOut,
    GroupMemberRequest,
    GroupOut,
    GroupRequest,
    TrailEvent,
    TrailOut,
    WithdrawRequest,
)
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.errors import InvalidInputError, NotFoundError
from jointwatch.releasability import Labels, handling_codes, is_live, may_pass_on, tlp_level, today
from jointwatch.sharing import (
    EntryInput,
    EntryView,
    change_group,
    edit_entry,
    group_named,
    share_entry,
    view_entry,
    visible_entries,
    withdraw_entry,
)
from jointwatch.store import (
    EntryVersion,
    SharingEvent,
    SharingGroup,
    StoredEntry,
    create_group,
    get_entry,
    list_groups,
    list_members,
    recipient_of,
)

router = APIRouter(tags=["sharing"])
_NOT_FOUND: dict[int | str, dict[str, object]] = {
    **PROBLEM_RESPONSES, 404: {"model": Problem, "description": "No such entry, or none the caller's member may see"}}
_CHANGE: dict[int | str, dict[str, object]] = {
    **_NOT_FOUND, 409: {"model": Problem, "description": "Withdrawn already, or not at the expected version"}}
MAX_PAGE = 500
Ref = Annotated[str, Path(min_length=1, max_length=128, description="The entry's reference (sh-…).")]
GroupName = Annotated[str, Path(min_length=1, max_length=128, description="The sharing group's name.")]


# -- names and ids -------------------------------------------------------------------------

def _member_names(engine: Engine) -> dict[int, str]:
    return {m.id: m.name for m in list_members(engine)}


def _audience_ids(engine: Engine, distribution: str, names: list[str], member_id: int) -> tuple[int, ...]:
    """The member or group ids the names of ``audience`` stand for; 422 naming the first unknown one
    (a group ``member_id`` is not in is unknown to it: the same answer as for none)."""
    if distribution == "members":
        known = {m.name: m.id for m in list_members(engine)}
        what = "member"
    elif distribution == "group":
        known = {g.name: g.id for g in list_groups(engine) if member_id in g.member_ids}
        what = "sharing group"
    else:
        if names:
            raise InvalidInputError(f"audience: distribution {distribution!r} takes no audience")
        return ()
    ids = []
    for name in names:
        wanted = " ".join(name.split())
        if wanted not in known:
            raise InvalidInputError(f"audience: no {what} {name!r}")
        ids.append(known[wanted])
    return tuple(dict.fromkeys(ids))


def _audience_names(engine: Engine, labels: Labels | dict[str, Any]) -> list[str]:
    distribution = labels.distribution if isinstance(labels, Labels) else labels.get("distribution")
    audience = labels.audience if isinstance(labels, Labels) else labels.get("audience", [])
    if distribution == "members":
        names = _member_names(engine)
    elif distribution == "group":
        names = {g.id: g.name for g in list_groups(engine)}
    else:
        return []
    return [names.get(int(a), str(a)) for a in audience]


# -- answers -------------------------------------------------------------------------------

def _status(entry: StoredEntry, live: bool) -> Literal["active", "withdrawn", "expired"]:
    if entry.status == "withdrawn":
        return "withdrawn"
    return "active" if live else "expired"


def _trail(events: list[SharingEvent], names: dict[int, str]) -> list[TrailEvent]:
    return [TrailEvent(at=e.at, action=e.action, member=names.get(e.member_id, "") if e.member_id is not None else "",
                       user=e.user, counterpart=e.counterpart, detail=e.detail) for e in events]


def _history(engine: Engine, versions: list[EntryVersion], names: dict[int, str]) -> list[EntryVersionOut]:
    out = []
    for v in versions:
        labels = {**v.labels, "audience": _audience_names(engine, v.labels)}
        out.append(EntryVersionOut(version=v.version, change=v.change, at=v.at,
                                   member=names.get(v.member_id, "") if v.member_id is not None else "",
                                   user=v.user, note=v.note, labels=labels, entity=v.entity))
    return out


def _entry_out(engine: Engine, entry: StoredEntry, mine: bool, live: bool, passable: bool,
               view: EntryView | None = None) -> EntryOut:
    """An entry as the caller may see it: who else got it, its versions and trail to its originator only."""
    labels = entry.labels
    out = EntryOut(ref=entry.ref, schema=entry.schema, caption=entry.caption, originator=entry.originator, mine=mine,
                   status=_status(entry, live), version=entry.version, updated_at=entry.updated_at,
                   distribution=labels.distribution, audience=_audience_names(engine, labels) if mine else None,
                   tlp=labels.tlp, handling=list(labels.handling), reason=labels.reason,
                   expires_on=labels.expires_on, may_pass_on=passable, entity=entry.entity, history=None,
                   trail=None)
    if view is not None and view.mine:
        names = _member_names(engine)
        out.history = _history(engine, view.history, names)
        out.trail = _trail(view.trail, names)
    return out


def _own_entry(engine: Engine, ref: str, member_id: int) -> StoredEntry:
    """The caller's own entry. For any other the library answers, as it does for every change: 404
    for an entry the member may not see (exactly as for none), 403 for another member's it may see."""
    entry = get_entry(engine, ref)
    if entry is not None and entry.member_id == member_id:
        return entry
    # not the caller's, so this raises (and an empty note could change nothing in any case)
    edit_entry(engine, ref, member_id, "", "")
    raise AssertionError("edit_entry accepted a change by a member that is not the originator")


# -- entries -------------------------------------------------------------------------------

@router.post("/shared/entries", response_model=EntryOut, status_code=201, responses=_NOT_FOUND)
def share(body: EntryRequest, request: Request,
          caller: Annotated[Caller, Depends(authorize("shared.create", Right.SHARE))]) -> EntryOut:
    """Share a partner entry (a person, organisation, vessel …) under a distribution, TLP and handling codes."""
    engine = request.app.state.engine
    caller.note.subject = body.model_dump(mode="json", by_alias=True)
    labels = Labels(body.distribution, _audience_ids(engine, body.distribution, body.audience, caller.member_id),
                    tlp_level(body.tlp), handling_codes(body.handling), body.reason, body.expires_on)
    entry = share_entry(engine, caller.member_id, caller.key.user,
                        EntryInput(body.schema_, body.properties, tuple(body.listings)), labels)
    caller.note.summary = f"shared {entry.ref} v{entry.version} ({labels.distribution}, TLP:{labels.tlp})"
    return _entry_out(engine, entry, True, is_live(entry.status, labels.expires_on, today()), True)


@router.get("/shared/entries", response_model=EntryList, responses=PROBLEM_RESPONSES)
def entries(request: Request,
            caller: Annotated[Caller, Depends(authorize("shared.read", Right.SHARE))],
            mine: Annotated[bool, Query(description="Only the entries the caller's member shared.")] = False,
            status: Annotated[Literal["active", "withdrawn", "expired"] | None, Query()] = None,
            limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
            offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0) -> EntryList:
    """The partner entries the caller's member may see (its own and those released to it), newest change first."""
    engine = request.app.state.engine
    recipient = recipient_of(engine, caller.member_id)
    day = today()
    found = []
    for entry in reversed(visible_entries(engine, caller.member_id, mine_only=mine)):
        live = is_live(entry.status, entry.labels.expires_on, day)
        if status is None or _status(entry, live) == status:
            found.append((entry, live))
    page = found[offset:offset + limit]
    caller.note.summary = f"{len(page)} of {len(found)} partner entries"
    return EntryList(total=len(found), offset=offset, limit=limit, entries=[
        _entry_out(engine, e, e.member_id == caller.member_id, live,
                   may_pass_on(e.member_id, e.labels, recipient)) for e, live in page])


@router.get("/shared/entries/{ref}", response_model=EntryOut, responses=_NOT_FOUND)
def entry(ref: Ref, request: Request,
          caller: Annotated[Caller, Depends(authorize("shared.show", Right.SHARE))]) -> EntryOut:
    """One entry; to its originator also its versions and trail. A recipient's read goes on the trail."""
    engine = request.app.state.engine
    caller.note.summary = f"entry {ref[:64]}"
    view = view_entry(engine, ref, caller.member_id, caller.key.user)
    return _entry_out(engine, view.entry, view.mine, view.live, view.may_pass_on, view)


def _labels(engine: Engine, base: Labels, body: EditRequest, member_id: int) -> Labels | None:
    """``base`` with what the edit sends changed, or None when it sends no label."""
    sent = body.model_fields_set
    if not sent & {"distribution", "audience", "tlp", "handling", "reason", "expires_on"}:
        return None
    distribution = body.distribution or base.distribution
    if body.audience is not None:
        audience = _audience_ids(engine, distribution, body.audience, member_id)
    else:
        audience = base.audience if distribution == base.distribution else ()
    changes: dict[str, Any] = {"distribution": distribution, "audience": audience}
    if body.tlp is not None:
        changes["tlp"] = tlp_level(body.tlp)
    if body.handling is not None:
        changes["handling"] = handling_codes(body.handling)
    if body.reason is not None:
        changes["reason"] = body.reason
    if "expires_on" in sent:
        changes["expires_on"] = body.expires_on
    return replace(base, **changes)


@router.post("/shared/entries/{ref}/edit", response_model=EntryOut, responses=_CHANGE)
def edit(ref: Ref, body: EditRequest, request: Request,
         caller: Annotated[Caller, Depends(authorize("shared.edit", Right.SHARE))]) -> EntryOut:
    """The entry's next version (its originator only): the properties and labels sent replace the current ones."""
    engine = request.app.state.engine
    caller.note.subject = body.model_dump(mode="json", by_alias=True, exclude_unset=True)
    caller.note.summary = f"edit {ref[:64]}: refused"
    current = _own_entry(engine, ref, caller.member_id)
    data = None
    if body.schema_ is not None or body.properties is not None or body.listings is not None:
        data = EntryInput(body.schema_ or current.schema,
                          body.properties if body.properties is not None else current.entity.get("properties", {}),
                          tuple(body.listings if body.listings is not None else current.entity.get("listings", [])))
    changed = edit_entry(engine, ref, caller.member_id, caller.key.user, body.note, data,
                         _labels(engine, current.labels, body, caller.member_id),
                         body.expected_version)
    caller.note.summary = f"edited {changed.ref}: v{changed.version}"
    return _entry_out(engine, changed, True, is_live(changed.status, changed.labels.expires_on, today()), True)


@router.post("/shared/entries/{ref}/withdraw", response_model=EntryOut, responses=_CHANGE)
def withdraw(ref: Ref, body: WithdrawRequest, request: Request,
             caller: Annotated[Caller, Depends(authorize("shared.withdraw", Right.SHARE))]) -> EntryOut:
    """Withdraw the entry (its originator only): it stops matching everywhere at once, and stays readable."""
    engine = request.app.state.engine
    caller.note.summary = f"withdraw {ref[:64]}: refused"
    done = withdraw_entry(engine, ref, caller.member_id, caller.key.user, body.reason)
    caller.note.summary = f"withdrew {done.ref}: v{done.version}"
    return _entry_out(engine, done, True, False, True)


@router.get("/shared/entries/{ref}/trail", response_model=TrailOut, responses=_NOT_FOUND)
def trail(ref: Ref, request: Request,
          caller: Annotated[Caller, Depends(authorize("shared.trail", Right.SHARE))]) -> TrailOut:
    """Where the entry went, who viewed it and who matched it (its originator only)."""
    engine = request.app.state.engine
    caller.note.summary = f"trail of {ref[:64]}: refused"
    _own_entry(engine, ref, caller.member_id)
    view = view_entry(engine, ref, caller.member_id, caller.key.user)
    caller.note.summary = f"trail of {ref}: {len(view.trail)} events"
    return TrailOut(ref=ref, trail=_trail(view.trail, _member_names(engine)))


# -- sharing groups ------------------------------------------------------------------------

def _group_out(group: SharingGroup, names: dict[int, str]) -> GroupOut:
    return GroupOut(name=group.name, owner=names.get(group.owner_member_id, str(group.owner_member_id)),
                    members=[names.get(m, str(m)) for m in group.member_ids])


@router.post("/shared/groups", response_model=GroupOut, status_code=201,
             responses={**PROBLEM_RESPONSES, 409: {"model": Problem, "description": "The name is taken"}})
def new_group(body: GroupRequest, request: Request,
              caller: Annotated[Caller, Depends(authorize("shared.group.create", Right.MANAGE_SHARING))]) -> GroupOut:
    """Create a sharing group owned by the caller's member (its first member)."""
    engine = request.app.state.engine
    group = create_group(engine, body.name, caller.member_id)
    caller.note.summary = f"sharing group {group.id} created"
    return _group_out(group, _member_names(engine))


@router.get("/shared/groups", response_model=list[GroupOut], responses=PROBLEM_RESPONSES)
def groups(request: Request,
           caller: Annotated[Caller, Depends(authorize("shared.group.read", Right.MANAGE_SHARING))]) -> list[GroupOut]:
    """The sharing groups the caller's member is in (those it owns among them), with their members."""
    engine = request.app.state.engine
    names = _member_names(engine)
    found = [g for g in list_groups(engine) if caller.member_id in g.member_ids]
    caller.note.summary = f"{len(found)} sharing groups"
    return [_group_out(g, names) for g in found]


@router.post("/shared/groups/{name}/members", response_model=GroupOut,
             responses={**PROBLEM_RESPONSES, 404: {"model": Problem, "description": "No such group or member"},
                        409: {"model": Problem, "description": "The owner stays in its group"}})
def group_members(name: GroupName, body: GroupMemberRequest, request: Request,
                  caller: Annotated[Caller, Depends(authorize("shared.group.change", Right.MANAGE_SHARING))],
                  ) -> GroupOut:
    """Add a member to a group, or take it out (the group's owner only)."""
    engine = request.app.state.engine
    caller.note.summary = f"sharing group: {body.action} refused"
    names = _member_names(engine)
    # members are named here, never numbered (a number sent as a name is a name no member has)
    if body.member not in names.values():
        raise NotFoundError(f"no member {body.member!r}")
    group_named(engine, name, caller.member_id)  # a group the caller is not in: 404, as for none
    group = change_group(engine, name, body.member, caller.member_id, body.action == "add")
    caller.note.summary = f"sharing group {group.id}: {body.action} member"
    return _group_out(group, names)
