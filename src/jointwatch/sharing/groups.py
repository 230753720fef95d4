"""Sharing groups as members change them: only a group's owner decides who is in it.

The store adds and removes members of a group without asking who acts; the rule that only
the owner changes a group lives here, so the CLI and the API ask the same function. A
group's members see the entries shared to the group from their next read on.
"""

from __future__ import annotations

from jointwatch.errors import ConflictError, ForbiddenError, NotFoundError
from jointwatch.store import Engine, SharingGroup, get_member, list_groups, set_group_member


def group_named(engine: Engine, name: str, member_id: int | None = None) -> SharingGroup:
    """The sharing group called ``name`` (spacing forgiven); NotFoundError otherwise. With
    ``member_id``, only a group that member is in: one it is not in is answered exactly as one
    that does not exist (a group's name and existence are its members' business)."""
    wanted = " ".join(name.split())
    for group in list_groups(engine):
        if group.name == wanted and (member_id is None or member_id in group.member_ids):
            return group
    raise NotFoundError(f"no sharing group {name!r}")


def change_group(engine: Engine, group_name: str, member_name: str, acting_member_id: int,
                 present: bool) -> SharingGroup:
    """The group after adding ``member_name`` to it (``present``) or taking it out.

    ForbiddenError unless ``acting_member_id`` owns the group (a member cannot join itself to
    a group to see its entries); ConflictError for taking the owner out of its own group. (The
    service first asks ``group_named`` with the caller's member, so that a group it is not in
    reads as none; the CLI is the operator's, who sees every group.)"""
    group = group_named(engine, group_name)
    if group.owner_member_id != acting_member_id:
        raise ForbiddenError(f"sharing group {group.name!r} is changed by its owner only")
    member = get_member(engine, member_name)
    if not present and member.id == group.owner_member_id:
        raise ConflictError(f"the owner of sharing group {group.name!r} stays in it")
    set_group_member(engine, group.id, member.id, present)
    return group_named(engine, group.name)
