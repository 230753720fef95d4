"""Requests for information as stored: one row per request on each server that takes part,
and every step of it as an event.

A request between two members of this server is one row (side ``both``); between servers each
keeps its own row (side ``asker`` here for a holder there, ``holder`` here for an asker there,
with the link and the other server's reference). Which step may follow which is
``jointwatch.sharing.requests``; this module only keeps the rows, and changes a state only
from the state the caller read (so two officers acting at once never both win).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from jointwatch.errors import ConflictError
from jointwatch.store.engine import inserted_id
from jointwatch.store.schema import info_request_events, info_requests

REQUEST_PREFIX = "rq-"
SIDES = ("both", "asker", "holder")


@dataclass(frozen=True)
class InfoRequest:
    """One request for information as this server holds it. ``entry_id`` is the holder's only."""

    id: int
    ref: str
    side: str
    asker_id: int | None
    asker: str
    holder_id: int | None
    holder: str
    link_id: int | None
    remote_ref: str | None
    entry_token: str
    epoch: str
    entry_id: int | None
    subject: dict[str, Any]
    reason: str
    legal_basis: str
    urgency: str
    deadline: date
    state: str
    answer: str
    released_ref: str | None
    created_at: datetime
    updated_at: datetime
    reminded_at: datetime | None
    release: dict[str, Any] | None = None    # the labels it was released under (tlp, handling, expires_on)


@dataclass(frozen=True)
class RequestEvent:
    """One step of a request: who (member and user), what, the detail given, the state it left."""

    id: int
    request_id: int
    member_id: int | None
    actor: str
    user: str
    action: str
    detail: str
    state: str
    at: datetime
    remote_event: int | None = None        # the holder's server's event id, for one pulled from there


@dataclass(frozen=True)
class NewRequestEvent:
    member_id: int | None
    actor: str
    user: str
    action: str
    detail: str
    remote_event: int | None = None


def new_request_ref() -> str:
    """A request's reference: unguessable, so a reference alone gives no one a way in."""
    return REQUEST_PREFIX + secrets.token_hex(10)


def _request(row: Any) -> InfoRequest:
    deadline = row.deadline if isinstance(row.deadline, date) else date.fromisoformat(str(row.deadline))
    return InfoRequest(row.id, row.ref, row.side, row.asker_id, row.asker, row.holder_id, row.holder, row.link_id,
                       row.remote_ref, row.entry_token, row.epoch, row.entry_id, json.loads(row.subject), row.reason,
                       row.legal_basis, row.urgency, deadline, row.state, row.answer, row.released_ref,
                       row.created_at, row.updated_at, row.reminded_at,
                       json.loads(row.release) if row.release else None)


def _event(row: Any) -> RequestEvent:
    return RequestEvent(row.id, row.request_id, row.member_id, row.actor, row.user, row.action, row.detail,
                        row.state, row.at, row.remote_event)


def insert_request(engine: Engine, values: dict[str, Any], event: NewRequestEvent,
                   now: datetime | None = None) -> InfoRequest:
    """A new request (``values``: the columns but id, ref unless given, and times) with its first event."""
    when = now or datetime.now(UTC)
    row = {"ref": values.get("ref") or new_request_ref(), "answer": "", **values,
           "subject": json.dumps(values["subject"], ensure_ascii=False, sort_keys=True),
           "created_at": when, "updated_at": when}
    with engine.begin() as connection:
        request_id = inserted_id(connection.execute(insert(info_requests).values(**row)))
        connection.execute(insert(info_request_events).values(
            request_id=request_id, state=row["state"], at=when, **event.__dict__))
    found = get_request_by_id(engine, request_id)
    assert found is not None
    return found


def get_request(engine: Engine, ref: str) -> InfoRequest | None:
    with engine.connect() as connection:
        row = connection.execute(select(info_requests).where(info_requests.c.ref == ref)).first()
    return _request(row) if row else None


def get_request_by_id(engine: Engine, request_id: int) -> InfoRequest | None:
    with engine.connect() as connection:
        row = connection.execute(select(info_requests).where(info_requests.c.id == request_id)).first()
    return _request(row) if row else None


def request_of_link(engine: Engine, link_id: int, remote_ref: str) -> InfoRequest | None:
    """The request this server keeps for ``link_id``'s request ``remote_ref`` (its reference there)."""
    with engine.connect() as connection:
        row = connection.execute(select(info_requests).where(
            (info_requests.c.link_id == link_id) & (info_requests.c.remote_ref == remote_ref))).first()
    return _request(row) if row else None


def list_requests(engine: Engine, asker_id: int | None = None, holder_id: int | None = None,
                  states: tuple[str, ...] = (), link_id: int | None = None) -> list[InfoRequest]:
    """Requests asked by ``asker_id`` or held by ``holder_id`` (or all; or those of ``link_id``), newest first."""
    query = select(info_requests).order_by(info_requests.c.id.desc())
    if link_id is not None:
        query = query.where(info_requests.c.link_id == link_id)
    if asker_id is not None:
        query = query.where(info_requests.c.asker_id == asker_id)
    if holder_id is not None:
        query = query.where(info_requests.c.holder_id == holder_id)
    if states:
        query = query.where(info_requests.c.state.in_(states))
    with engine.connect() as connection:
        return [_request(r) for r in connection.execute(query)]


def change_request(engine: Engine, request: InfoRequest, state: str, event: NewRequestEvent,
                   values: dict[str, Any] | None = None, now: datetime | None = None) -> InfoRequest:
    """``request`` moved to ``state`` (with ``values``) and the step recorded, if it is still in the
    state it was read in; ConflictError if someone else moved it meanwhile (nothing changed)."""
    when = now or datetime.now(UTC)
    changes = dict(values or {})
    if changes.get("release") is not None:
        changes["release"] = json.dumps(changes["release"], sort_keys=True)
    with engine.begin() as connection:
        moved = connection.execute(update(info_requests).where(
            (info_requests.c.id == request.id) & (info_requests.c.state == request.state))
            .values(state=state, updated_at=when, **changes))
        if moved.rowcount != 1:
            raise ConflictError(f"request {request.ref} changed meanwhile: read it again")
        connection.execute(insert(info_request_events).values(request_id=request.id, state=state, at=when,
                                                              **event.__dict__))
    found = get_request_by_id(engine, request.id)
    assert found is not None
    return found


def note_reminded(engine: Engine, request: InfoRequest, event: NewRequestEvent, now: datetime) -> bool:
    """Record a reminder of ``request`` unless one was recorded on ``now``'s day already (True if recorded)."""
    start = datetime.combine(now.date(), datetime.min.time(), UTC)
    with engine.begin() as connection:
        moved = connection.execute(update(info_requests).where(
            (info_requests.c.id == request.id) & (info_requests.c.state == request.state)
            & ((info_requests.c.reminded_at.is_(None)) | (info_requests.c.reminded_at < start)))
            .values(reminded_at=now))
        if moved.rowcount != 1:
            return False
        connection.execute(insert(info_request_events).values(request_id=request.id, state=request.state, at=now,
                                                              **event.__dict__))
    return True


def append_event(engine: Engine, request: InfoRequest, event: NewRequestEvent, now: datetime | None = None) -> None:
    """An event that changes nothing (a step the other server reports that was taken here already)."""
    with engine.begin() as connection:
        connection.execute(insert(info_request_events).values(request_id=request.id, state=request.state,
                                                              at=now or datetime.now(UTC), **event.__dict__))


def request_events(engine: Engine, request_id: int) -> list[RequestEvent]:
    with engine.connect() as connection:
        rows = connection.execute(select(info_request_events).where(info_request_events.c.request_id == request_id)
                                  .order_by(info_request_events.c.id)).all()
    return [_event(r) for r in rows]


def link_request_events(engine: Engine, link_id: int, after_id: int, actions: tuple[str, ...],
                        limit: int = 500) -> list[tuple[InfoRequest, RequestEvent]]:
    """The events (of ``actions``) after ``after_id`` of the requests this server holds for ``link_id``'s
    askers, in order."""
    query = (select(info_request_events.c.request_id, info_request_events.c.id)
             .join(info_requests, info_requests.c.id == info_request_events.c.request_id)
             .where((info_requests.c.link_id == link_id) & (info_requests.c.side == "holder")
                    & (info_request_events.c.id > after_id) & (info_request_events.c.action.in_(actions)))
             .order_by(info_request_events.c.id).limit(limit))
    with engine.connect() as connection:
        pairs = [(r.request_id, r.id) for r in connection.execute(query)]
        events = {r.id: _event(r) for r in connection.execute(
            select(info_request_events).where(info_request_events.c.id.in_([e for _, e in pairs])))}
    out = []
    for request_id, event_id in pairs:
        request = get_request_by_id(engine, request_id)
        assert request is not None
        out.append((request, events[event_id]))
    return out


def last_remote_event(engine: Engine, link_id: int) -> int:
    """The highest event id of ``link_id``'s server this server has applied to its askers' requests
    (0 for none): where the next pull starts. Kept with the events, so no checkpoint can drift."""
    query = (select(func.max(info_request_events.c.remote_event))
             .join(info_requests, info_requests.c.id == info_request_events.c.request_id)
             .where((info_requests.c.link_id == link_id) & (info_requests.c.side == "asker")))
    with engine.connect() as connection:
        return int(connection.execute(query).scalar() or 0)
