"""Requests for information between federated servers: the asker on one server (A), the
holder on another (B), each server keeping its own row of the request.

A pushes: the opening, the asker's answers and its withdrawal go to B over the link
(``/federation/requests``), authenticated with the link's key as B's peer member for A, and
change A's row only once B has taken them. B never calls A: A pulls B's steps (more info
requested, accepted, declined, expired) from ``/federation/requests/events`` during
``share links sync`` and when the asker reads its requests. Acceptance carries the released
entry (``records.to_record``, under the TLP, handling codes and expiry the holder chose); A
stores it as an entry received over the link, with distribution ``members`` and the asker
alone as audience: A decides who on A sees it (a peer never names A's members), and A's
normal screening hits it from then on; its holder's later edits and withdrawal follow at each
pull (``released_entries``). Which pulled event A has applied is kept with A's
events (``remote_event``), so a pull repeated after any failure applies nothing twice.

B resolves the token with the link's peer member as asker (``discovery.entry_of_token``): a
token B's index gave that link. The entry's id stays on B.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import httpx

from jointwatch.errors import (
    BundleRefusedError,
    ConflictError,
    FetchError,
    ForbiddenError,
    InvalidInputError,
    JointwatchError,
    NotFoundError,
)
from jointwatch.releasability import Labels
from jointwatch.sharing.discovery import NO_OFFER, entry_of_token
from jointwatch.sharing.entries import _caption, clean_entity
from jointwatch.sharing.federation import _client, _get_capped, _originator
from jointwatch.sharing.records import from_record, to_record
from jointwatch.sharing.requests import (
    CONTROL,
    PAST,
    STEPS,
    Subject,
    _audit,
    _text,
    apply_step,
    check_hit,
    deadline_of,
    expire_if_due,
)
from jointwatch.store import (
    Engine,
    FederationLink,
    InfoRequest,
    NewRequestEvent,
    append_event,
    get_entry,
    get_link,
    get_member,
    get_request,
    insert_entry,
    insert_request,
    known_entries,
    last_remote_event,
    link_of_member,
    link_request_events,
    list_requests,
    load_entries,
    new_request_ref,
    request_events,
    request_of_link,
    update_entry,
)

# B's steps that A pulls (as history names them), and the step each is on A's row
FEED: dict[str, str] = {"more info requested": "ask", "accepted": "accept", "declined": "decline",
                        "expired": "expire"}
PUSHED = ("answer", "withdraw")
EVENTS_PER_PULL = 200
_REF = re.compile(r"rq-[0-9a-f]{8,40}")
_ENTRY_REF = re.compile(r"sh-[0-9A-Za-z_-]{1,61}")


def _link_user(link: FederationLink) -> str:
    return f"link:{link.name}"


def peer_link(engine: Engine, member_id: int) -> FederationLink:
    """The link whose peer member is calling (ForbiddenError for any other key)."""
    link = link_of_member(engine, member_id)
    if link is None:
        raise ForbiddenError("this key's member stands for no federation link")
    return link


# -- the holder's server (B) -----------------------------------------------------------------

def receive_request(engine: Engine, link: FederationLink, body: Mapping[str, Any],
                    now: datetime | None = None) -> InfoRequest:
    """A request from an asker behind ``link``: the token resolved as one B gave that link (404
    otherwise), kept as B's row (side ``holder``). The same request sent again is the same row."""
    when = now or datetime.now(UTC)
    remote_ref = str(body.get("ref", ""))
    if not _REF.fullmatch(remote_ref):
        raise InvalidInputError("ref: the asker's server's reference, rq- and hex digits")
    existing = request_of_link(engine, link.id, remote_ref)
    if existing is not None:
        return existing                     # a retry of a push whose answer was lost
    token, epoch = str(body.get("token", "")), str(body.get("epoch", ""))
    check_hit(token, epoch, when.date())
    subject = Subject.from_dict(body.get("subject") or {})
    reason = _text("reason", str(body.get("reason", "")))
    legal_basis = _text("legal_basis", str(body.get("legal_basis", "")))
    urgency = str(body.get("urgency", "routine"))
    deadline = date.fromisoformat(str(body["deadline"])) if body.get("deadline") else None
    due = deadline_of(urgency, when.date(), deadline)
    try:
        holder = get_member(engine, str(body.get("holder", "")))
    except NotFoundError:
        raise NotFoundError(NO_OFFER) from None     # a peer learns no member names of this server either
    if holder.id == link.member_id:
        raise NotFoundError("no entry of this holder has that token")
    entry = entry_of_token(engine, holder.id, link.member_id, epoch, token)
    asker = f"{' '.join(CONTROL.sub('', str(body.get('asker', ''))).split())[:200] or 'unknown'}@{link.name}"
    # one reference on both servers, as an entry's: the liaison officers of A and B quote the same rq-…
    # (a reference this server already uses for another request gets a new one here)
    ref = remote_ref if get_request(engine, remote_ref) is None else new_request_ref()
    created = insert_request(engine, {
        "ref": ref, "side": "holder", "asker_id": None, "asker": asker, "holder_id": holder.id, "holder": holder.name,
        "link_id": link.id, "remote_ref": remote_ref, "entry_token": token, "epoch": epoch, "entry_id": entry.id,
        "subject": subject.to_dict(), "reason": reason, "legal_basis": legal_basis, "urgency": urgency,
        "deadline": due, "state": "open"},
        NewRequestEvent(None, asker, _link_user(link), "opened", f"{urgency}, deadline {due.isoformat()}"), when)
    _audit(engine, created, _link_user(link), "open", asker)
    return created


def _of_link(engine: Engine, link: FederationLink, ref: str) -> InfoRequest:
    request = get_request(engine, ref) if len(ref) <= 64 else None
    if request is None or request.link_id != link.id or request.side != "holder":
        raise NotFoundError(f"no request {ref[:64]!r}")
    return request


def receive_step(engine: Engine, link: FederationLink, ref: str, action: str, text: str,
                 now: datetime | None = None) -> InfoRequest:
    """The asker's answer or withdrawal of B's request ``ref``, from ``link``. Sent again after it
    was taken, it changes nothing (the asker's server retries when it lost the answer)."""
    if action not in PUSHED:
        raise InvalidInputError(f"action {action!r} is not one of {', '.join(PUSHED)}")
    request = expire_if_due(engine, _of_link(engine, link, ref), now)
    detail = _text("text", text, required=action == "answer")
    if request.state == STEPS[action].after:
        last = request_events(engine, request.id)[-1]
        if last.action == PAST[action] and (action == "withdraw" or last.detail == detail):
            return request      # taken before: the asker's server lost our answer and sent it again
    values = {"answer": detail} if action == "answer" else None
    return apply_step(engine, request, action, request.asker, _link_user(link), detail, None, values, now)


def link_events(engine: Engine, link: FederationLink, since: int, limit: int = EVENTS_PER_PULL) -> list[
        dict[str, Any]]:
    """B's steps on the requests of ``link``'s askers after event ``since``: what A pulls. An
    acceptance carries the entry under the labels the holder released it with."""
    out = []
    for request, event in link_request_events(engine, link.id, since, tuple(FEED), max(1, min(limit, 500))):
        item: dict[str, Any] = {"event": event.id, "ref": request.ref, "remote_ref": request.remote_ref,
                                "action": event.action, "detail": event.detail, "actor": event.actor,
                                "user": event.user, "at": event.at.isoformat()}
        if event.action == "accepted":
            record = _released_record(engine, request)
            if record is not None:
                item["entry"] = record
        out.append(item)
    return out


def _released_record(engine: Engine, request: InfoRequest) -> dict[str, Any] | None:
    """The entry of an accepted request as it is now, under the labels the holder released it with."""
    found = load_entries(engine, [request.entry_id]) if request.entry_id is not None else []
    if not found or request.release is None:
        return None
    entry, chosen = found[0], request.release
    labels = Labels("originator", (), str(chosen["tlp"]), tuple(chosen.get("handling") or ()), entry.labels.reason,
                    date.fromisoformat(chosen["expires_on"]) if chosen.get("expires_on") else None)
    return to_record(replace(entry, labels=labels))


def released_entries(engine: Engine, link: FederationLink) -> list[dict[str, Any]]:
    """The entries released to ``link``'s askers, as they are now: their holders' later edits and
    withdrawals reach the askers' server as the sharing model's do (a withdrawn entry stops matching)."""
    out: dict[int, dict[str, Any]] = {}
    for request in list_requests(engine, states=("accepted",), link_id=link.id):
        if request.side == "holder" and request.entry_id is not None and request.entry_id not in out:
            record = _released_record(engine, request)
            if record is not None:
                out[request.entry_id] = record
    return list(out.values())


# -- the asker's server (A) ------------------------------------------------------------------

def _answer(response: httpx.Response, what: str) -> Any:
    """The holder's server's answer, or its refusal as the error the same refusal is here."""
    if response.status_code in (200, 201):
        return response.json()
    try:
        detail = str(response.json().get("detail", ""))[:300]
    except ValueError:
        detail = response.text[:300]
    kind: type[JointwatchError] = {404: NotFoundError, 409: ConflictError, 422: InvalidInputError,
                                   403: BundleRefusedError}.get(response.status_code, FetchError)
    raise kind(f"{what}: the holder's server answered {response.status_code}: {detail}")


def _call(link: FederationLink, method: str, path: str, what: str, transport: httpx.BaseTransport | None = None,
          **kwargs: Any) -> Any:
    try:
        with _client(link, transport) as client:
            if method == "GET":   # read no further than a bundle's answer: a peer cannot make us hold any size
                return _answer(_get_capped(client, path, kwargs.get("params", {})), what)
            return _answer(client.request(method, path, **kwargs), what)
    except httpx.HTTPError as error:
        raise FetchError(f"link {link.name!r}: {what}: {type(error).__name__}: {error}") from None


def open_remote(engine: Engine, asker_id: int, user: str, holder: str, token: str, epoch: str, subject: Subject,
                reason: str, legal_basis: str, urgency: str = "routine", deadline: date | None = None,
                now: datetime | None = None, transport: httpx.BaseTransport | None = None) -> InfoRequest:
    """A request to ``holder`` = ``name@link``: sent to the link's server first (its refusal is this
    call's error, nothing kept here), then kept here as the asker's row."""
    when = now or datetime.now(UTC)
    check_hit(token, epoch, when.date())
    reason, legal_basis = _text("reason", reason), _text("legal_basis", legal_basis)
    due = deadline_of(urgency, when.date(), deadline)
    name, _, link_name = holder.rpartition("@")
    if not name or not link_name:
        raise InvalidInputError(f"holder {holder[:80]!r}: a member here, or name@link")
    link = get_link(engine, link_name)
    asker = get_member(engine, asker_id)
    ref = new_request_ref()
    body = {"ref": ref, "asker": asker.name, "holder": name, "token": token, "epoch": epoch,
            "subject": subject.to_dict(), "reason": reason, "legal_basis": legal_basis, "urgency": urgency,
            "deadline": due.isoformat()}
    taken = _call(link, "POST", "/federation/requests", "request", transport, json=body)
    remote_ref = str(taken.get("ref", ""))
    if not _REF.fullmatch(remote_ref):
        raise FetchError(f"link {link.name!r}: the holder's server answered no request reference")
    created = insert_request(engine, {
        "ref": ref, "side": "asker", "asker_id": asker_id, "asker": asker.name, "holder_id": None,
        "holder": f"{name}@{link.name}", "link_id": link.id, "remote_ref": remote_ref, "entry_token": token,
        "epoch": epoch, "entry_id": None, "subject": subject.to_dict(), "reason": reason,
        "legal_basis": legal_basis, "urgency": urgency, "deadline": due, "state": "open"},
        NewRequestEvent(asker_id, asker.name, user, "opened", f"{urgency}, deadline {due.isoformat()}, "
                                                               f"sent to {link.name}"), when)
    _audit(engine, created, user, "open", asker.name)
    return created


def push_step(engine: Engine, request: InfoRequest, action: str, detail: str,
              transport: httpx.BaseTransport | None = None) -> None:
    """The asker's ``action`` sent to the holder's server (its refusal raised: nothing changes here)."""
    if request.link_id is None or request.remote_ref is None:
        raise ConflictError(f"request {request.ref} names no link")
    link = get_link(engine, request.link_id)
    _call(link, "POST", f"/federation/requests/{request.remote_ref}/{action}", PAST[action], transport,
          json={"text": detail})


def _store_release(engine: Engine, link: FederationLink, request: InfoRequest, item: Any, where: str) -> str:
    """The released entry stored as received over ``link``, for the asker alone; its reference."""
    record = from_record(item, where)
    if not _ENTRY_REF.fullmatch(record.ref):
        raise InvalidInputError(f"{where}: reference {record.ref[:80]!r} is not sh- and letters, digits, '-', '_'")
    assert request.asker_id is not None
    entity = clean_entity(record.ref, record.data)
    note = f"released to {request.asker} on request {request.ref}"
    known = known_entries(engine, [record.ref]).get(record.ref)
    if known is None:
        labels = Labels("members", (request.asker_id,), record.tlp, record.handling, record.reason or note,
                        record.expires_on)
        insert_entry(engine, ref=record.ref, member_id=None, originator=_originator(record.originator, link),
                     schema=record.data.schema, caption=_caption(entity), entity=entity, labels=labels,
                     user=_link_user(link), note=note, change="released", status=record.status, link_id=link.id,
                     version=record.version)
        return record.ref
    entry = get_entry(engine, record.ref)
    if entry is None or known.member_id is not None or known.link_id != link.id:
        raise InvalidInputError(f"{where}: entry {record.ref} is not one {link.name} sent: not taken")
    audience = entry.labels.audience if entry.labels.distribution == "members" else ()
    labels = Labels("members", tuple(dict.fromkeys((*audience, request.asker_id))), record.tlp, record.handling,
                    record.reason or note, record.expires_on)
    update_entry(engine, entry, schema=record.data.schema, caption=_caption(entity), entity=entity, labels=labels,
                 status=record.status, change="released", member_id=None, user=_link_user(link), note=note,
                 version=max(entry.version + 1, record.version))
    return record.ref


def _apply(engine: Engine, link: FederationLink, item: Mapping[str, Any]) -> bool:
    """One pulled event applied to A's row (True), or noted where A's row has moved on (False)."""
    event_id = int(item["event"])
    request = request_of_link(engine, link.id, str(item.get("ref", "")))
    if request is None or request.side != "asker" or str(item.get("remote_ref")) != request.ref:
        return False                                  # not a request of ours: nothing to apply
    action = FEED.get(str(item.get("action")))
    if action is None:
        return False
    # the holder's server's words, shown on our askers' terminals: without control characters
    detail = CONTROL.sub("", str(item.get("detail", "")))[:2000]
    actor = request.holder
    user = f"{CONTROL.sub('', str(item.get('user', '')))[:100]} via {link.name}"
    if request.state not in STEPS[action].before:
        append_event(engine, request, NewRequestEvent(None, actor, user, PAST[action],
                                                      f"{detail} (already {request.state} here)", event_id))
        return False
    values: dict[str, Any] = {"answer": detail} if action in ("ask", "decline") else {}
    if action == "accept":
        try:
            values["released_ref"] = _store_release(engine, link, request, item.get("entry"), f"event {event_id}")
        except InvalidInputError as error:
            detail = f"{detail}; the entry was not taken: {error}"[:2000]
    apply_step(engine, request, action, actor, user, detail, None, values, remote_event=event_id)
    return True


def pull_request_events(engine: Engine, link: FederationLink | int | str,
                        transport: httpx.BaseTransport | None = None) -> int:
    """Apply the holder's steps from ``link``'s server since the last one applied; how many changed a request."""
    current = link if isinstance(link, FederationLink) else get_link(engine, link)
    applied = 0
    while True:
        since = last_remote_event(engine, current.id)
        answer = _call(current, "GET", "/federation/requests/events", "request events", transport,
                       params={"since": since, "limit": EVENTS_PER_PULL})
        events = answer.get("events") if isinstance(answer, dict) else None
        if not isinstance(events, list):
            raise FetchError(f"link {current.name!r}: request events: not a list of events")
        moved = False
        for item in events:
            if not isinstance(item, dict) or not isinstance(item.get("event"), int) or item["event"] <= since:
                continue
            applied += _apply(engine, current, item)
            moved = moved or last_remote_event(engine, current.id) > since
        if len(events) < EVENTS_PER_PULL or not moved:
            return applied + follow_releases(engine, current, transport)


def follow_releases(engine: Engine, link: FederationLink, transport: httpx.BaseTransport | None = None) -> int:
    """Bring the entries ``link``'s holders released to our askers up to their holders' newest
    version (edits, withdrawals); only entries released to us on a request, each kept for the same
    askers. How many changed."""
    ours = {r.released_ref for r in list_requests(engine, states=("accepted",), link_id=link.id)
            if r.side == "asker" and r.released_ref}
    if not ours:
        return 0
    answer = _call(link, "GET", "/federation/requests/released", "released entries", transport, params={})
    items = answer.get("entries") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise FetchError(f"link {link.name!r}: released entries: not a list of entries")
    changed = 0
    for index, item in enumerate(items):
        try:
            record = from_record(item, f"released entry {index}")
            entity = clean_entity(record.ref, record.data)
        except InvalidInputError:
            continue          # one the holder's server sent that this one cannot read: the rest still follow
        known = known_entries(engine, [record.ref]).get(record.ref)
        entry = get_entry(engine, record.ref) if record.ref in ours else None
        if (entry is None or known is None or known.member_id is not None or known.link_id != link.id
                or record.version <= entry.version):
            continue
        labels = Labels(entry.labels.distribution, entry.labels.audience, record.tlp, record.handling,
                        record.reason or entry.labels.reason, record.expires_on)
        try:
            update_entry(engine, entry, schema=record.data.schema, caption=_caption(entity), entity=entity,
                         labels=labels, status=record.status, change="synced", member_id=None,
                         user=_link_user(link), version=record.version)
            changed += 1
        except ConflictError:
            continue          # changed here meanwhile: the next pull brings it again
    return changed


def pull_quietly(engine: Engine, link_id: int) -> None:
    """``pull_request_events`` when an asker reads its requests: a holder's server out of reach leaves the request
    as last known here (it says its state and deadline; nothing is lost), it does not stop the read."""
    try:
        pull_request_events(engine, link_id)
    except (FetchError, BundleRefusedError):
        pass
