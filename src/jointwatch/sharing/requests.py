"""Requests for information: after a blind hit, the asker asks the holder for the entry.

A request names the holder, the hit's token and day (``discovery.BlindHit``), what the asker
chooses to reveal of its subject, why, on what legal basis, how urgent, and by when. The
holder resolves the token to its entry (``discovery.entry_of_token``); the entry stays the
holder's to know: the asker never sees which entry it is until the holder releases it. The
holder then asks for more, accepts (releasing the entry to the asker through the sharing
model: ``entries.edit_entry``, so the asker's normal screening hits it from then on) or
declines with a reason; the asker answers or withdraws; a request not decided by its
deadline expires. Which step may follow which is ``STEPS``, the one place that says it.
Every step is an event of the request and an audit row of both members.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jointwatch.errors import ConflictError, ForbiddenError, InvalidInputError, JointwatchError, NotFoundError
from jointwatch.releasability import Labels, handling_codes, tlp_level
from jointwatch.sharing.discovery import NO_OFFER, entry_of_token
from jointwatch.sharing.entries import edit_entry
from jointwatch.store import (
    Engine,
    InfoRequest,
    NewEvent,
    NewRequestEvent,
    RequestEvent,
    StoredEntry,
    change_request,
    get_member,
    get_request,
    insert_request,
    list_requests,
    load_entries,
    note_reminded,
    record,
    record_sharing_events,
    request_events,
)

URGENCIES = ("routine", "urgent", "immediate")
DEADLINE_DAYS = {"immediate": 1, "urgent": 3, "routine": 14}    # the default deadline, from the day opened
REMIND_DAYS = {"immediate": 0, "urgent": 1, "routine": 3}       # reminded from this many days before it
MAX_DEADLINE_DAYS = 366
MAX_HIT_AGE_DAYS = 7            # a hit older than this is asked again, not requested: tokens change daily
STATES = ("open", "more_info_requested", "accepted", "declined", "withdrawn", "expired")
PENDING = ("open", "more_info_requested")
MAX_TEXT = 2000
_BIRTH_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_TOKEN = re.compile(r"[0-9a-f]{8,64}")
# control characters but tab and line ends: the other member's words reach a terminal, and an ESC
# there can retitle the window, clear the screen or hide a link (rich passes them through)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Step:
    """One step of a request: from which states, to which, and whose step it is."""

    action: str
    before: tuple[str, ...]
    after: str
    side: str                    # asker, holder, or server (the deadline's own step)


# The one table of what may follow what.
STEPS: dict[str, Step] = {s.action: s for s in (
    Step("ask", ("open",), "more_info_requested", "holder"),
    Step("answer", ("more_info_requested",), "open", "asker"),
    Step("accept", PENDING, "accepted", "holder"),
    Step("decline", PENDING, "declined", "holder"),
    Step("withdraw", PENDING, "withdrawn", "asker"),
    Step("expire", PENDING, "expired", "server"),
)}
# the event's action as history shows it
PAST = {"open": "opened", "ask": "more info requested", "answer": "answered", "accept": "accepted",
        "decline": "declined", "withdraw": "withdrawn", "expire": "expired", "remind": "reminded"}


@dataclass(frozen=True)
class Subject:
    """What the asker chooses to reveal of the person it asks about (at least one of these)."""

    name: str = ""
    birth_date: str = ""
    nationality: str = ""
    id_numbers: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        for what, value, most in (("name", self.name, 500), ("nationality", self.nationality, 100),
                                  ("note", self.note, MAX_TEXT)):
            if len(value) > most or CONTROL.search(value):
                raise InvalidInputError(f"subject.{what}: at most {most} characters of text")
        if self.birth_date and not _BIRTH_DATE.fullmatch(self.birth_date):
            raise InvalidInputError("subject.birth_date: YYYY, YYYY-MM or YYYY-MM-DD")
        if len(self.id_numbers) > 20 or any(not n.strip() or len(n) > 100 or CONTROL.search(n)
                                            for n in self.id_numbers):
            raise InvalidInputError("subject.id_numbers: at most 20, each 1 to 100 characters")
        if not any((self.name.strip(), self.birth_date, self.nationality.strip(), self.id_numbers,
                    self.note.strip())):
            raise InvalidInputError("subject: reveal at least one of name, birth_date, nationality, id_numbers, note")

    def to_dict(self) -> dict[str, Any]:
        """Only what was given: an empty field was not revealed."""
        out: dict[str, Any] = {"name": self.name.strip(), "birth_date": self.birth_date,
                               "nationality": self.nationality.strip(), "id_numbers": list(self.id_numbers),
                               "note": self.note.strip()}
        return {k: v for k, v in out.items() if v}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Subject:
        try:
            return cls(str(data.get("name", "")), str(data.get("birth_date", "")), str(data.get("nationality", "")),
                       tuple(str(n).strip() for n in data.get("id_numbers", ())), str(data.get("note", "")))
        except TypeError as exc:
            raise InvalidInputError(f"subject: {exc}") from None


@dataclass(frozen=True)
class RequestView:
    """A request as one of its two members sees it: ``role`` asker or holder, its history, and
    whether it is due soon or overdue. ``entry_ref`` (the holder's entry) for the holder only."""

    request: InfoRequest
    role: str
    events: list[RequestEvent] = field(default_factory=list)
    due: str | None = None
    entry_ref: str | None = None

    def to_dict(self, history: bool = True) -> dict[str, Any]:
        r = self.request
        out: dict[str, Any] = {
            "ref": r.ref, "role": self.role, "state": r.state, "asker": r.asker, "holder": r.holder,
            "token": r.entry_token, "epoch": r.epoch, "subject": r.subject, "reason": r.reason,
            "legal_basis": r.legal_basis, "urgency": r.urgency, "deadline": r.deadline.isoformat(), "due": self.due,
            "answer": r.answer, "released_ref": r.released_ref, "created_at": r.created_at.isoformat(),
            "updated_at": r.updated_at.isoformat()}
        if self.role == "holder":
            out["entry_ref"] = self.entry_ref
        if history:
            out["history"] = [{"at": e.at.isoformat(), "action": e.action, "member": e.actor, "user": e.user,
                               "detail": e.detail, "state": e.state} for e in self.events]
        return out


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _text(what: str, value: str, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise InvalidInputError(f"{what}: required")
    if len(text) > MAX_TEXT or CONTROL.search(text):
        raise InvalidInputError(f"{what}: at most {MAX_TEXT} characters of text")
    return text


def deadline_of(urgency: str, opened: date, deadline: date | None = None) -> date:
    """The request's deadline: the one given (never in the past, at most a year on), or by urgency."""
    if urgency not in URGENCIES:
        raise InvalidInputError(f"urgency {urgency!r} is not one of {', '.join(URGENCIES)}")
    if deadline is None:
        return opened + timedelta(days=DEADLINE_DAYS[urgency])
    if deadline < opened:
        raise InvalidInputError(f"deadline {deadline.isoformat()} is in the past")
    if deadline > opened + timedelta(days=MAX_DEADLINE_DAYS):
        raise InvalidInputError(f"deadline: at most {MAX_DEADLINE_DAYS} days ahead")
    return deadline


def check_hit(token: str, epoch: str, today: date) -> None:
    """InvalidInputError for a token that is no token, or a hit older than MAX_HIT_AGE_DAYS (or from the future)."""
    if not _TOKEN.fullmatch(token):
        raise InvalidInputError("token: the hit's token, as the blind query gave it (hexadecimal)")
    try:
        day = date.fromisoformat(epoch)
    except ValueError:
        raise InvalidInputError(f"epoch {epoch[:20]!r} is not a date (YYYY-MM-DD)") from None
    if day > today:
        raise InvalidInputError(f"epoch {epoch}: a hit from a day still to come")
    if (today - day).days > MAX_HIT_AGE_DAYS:
        raise InvalidInputError(f"the hit is from {epoch}, more than {MAX_HIT_AGE_DAYS} days ago: its token is no "
                                "longer kept; run the blind query again and request from the new hit")


def due_of(request: InfoRequest, today: date) -> str | None:
    """``overdue`` past the deadline, ``due soon`` from the reminder day on, else None (and None once decided)."""
    if request.state not in PENDING:
        return None
    if today > request.deadline:
        return "overdue"
    if today >= request.deadline - timedelta(days=REMIND_DAYS.get(request.urgency, 0)):
        return "due soon"
    return None


def role_of(request: InfoRequest, member_id: int) -> str | None:
    """``asker`` or ``holder`` when ``member_id`` is that member of ``request`` here, else None."""
    if request.asker_id == member_id and request.side in ("both", "asker"):
        return "asker"
    if request.holder_id == member_id and request.side in ("both", "holder"):
        return "holder"
    return None


def _audit(engine: Engine, request: InfoRequest, user: str, action: str, actor: str) -> None:
    """An audit row for each member of ``request`` on this server (by reference: never the subject)."""
    summary = f"request {request.ref} {PAST.get(action, action)} by {actor}: {request.state}"
    for member_id in dict.fromkeys(m for m in (request.asker_id, request.holder_id) if m is not None):
        if role_of(request, member_id) is not None:
            record(engine, member_id, user, f"requests.{action}", 200, subject={"request": request.ref},
                   result_summary=summary)


def apply_step(engine: Engine, request: InfoRequest, action: str, actor: str, user: str, detail: str,
               member_id: int | None = None, values: dict[str, Any] | None = None,
               now: datetime | None = None, remote_event: int | None = None) -> InfoRequest:
    """``request`` moved by ``action`` (ConflictError when its state does not allow it), recorded and audited.
    The caller has checked that ``actor`` may take this step."""
    step = STEPS[action]
    if request.state not in step.before:
        raise ConflictError(f"request {request.ref} is {request.state.replace('_', ' ')}: it cannot be "
                            f"{PAST[action]} now")
    changed = change_request(engine, request, step.after,
                             NewRequestEvent(member_id, actor, user, PAST[action], detail, remote_event), values, now)
    _audit(engine, changed, user, action, actor)
    return changed


def expire_if_due(engine: Engine, request: InfoRequest, now: datetime | None = None) -> InfoRequest:
    """``request`` expired if its deadline passed undecided (done when read and by ``remind``)."""
    when = _now(now)
    if request.state in PENDING and when.date() > request.deadline:
        try:
            return apply_step(engine, request, "expire", "jointwatch", "", "the deadline passed without a decision",
                              now=when)
        except ConflictError:
            found = get_request(engine, request.ref)   # decided meanwhile: read what it is now
            assert found is not None
            return found
    return request


def _entry_ref(engine: Engine, request: InfoRequest) -> str | None:
    if request.entry_id is None:
        return None
    found = load_entries(engine, [request.entry_id])
    return found[0].ref if found else None


def _mine(engine: Engine, ref: str, member_id: int, now: datetime | None) -> tuple[InfoRequest, str]:
    """The request and the member's role in it; NotFoundError (as for none) for anyone else."""
    request = get_request(engine, ref) if isinstance(ref, str) and len(ref) <= 64 else None
    role = role_of(request, member_id) if request is not None else None
    if request is None or role is None:
        raise NotFoundError(f"no request {ref[:64]!r}")
    if request.side == "asker":
        request = _pulled(engine, [request])[0]
    return expire_if_due(engine, request, now), role


def view_request(engine: Engine, ref: str, member_id: int, now: datetime | None = None) -> RequestView:
    """The request with its history, for its asker or holder only (NotFoundError for any other member)."""
    request, role = _mine(engine, ref, member_id, now)
    return RequestView(request, role, request_events(engine, request.id), due_of(request, _now(now).date()),
                       _entry_ref(engine, request) if role == "holder" else None)


def requests_of(engine: Engine, member_id: int, box: str, states: Iterable[str] = (),
                now: datetime | None = None) -> list[RequestView]:
    """The member's ``inbox`` (requests to it as holder) or ``outbox`` (its own), newest first, without history."""
    wanted = tuple(states)
    unknown = [s for s in wanted if s not in STATES]
    if unknown:
        raise InvalidInputError(f"state {unknown[0]!r} is not one of {', '.join(STATES)}")
    if box == "inbox":
        found = list_requests(engine, holder_id=member_id)
    elif box == "outbox":
        found = list_requests(engine, asker_id=member_id)
    else:
        raise InvalidInputError(f"box {box!r} is not inbox or outbox")
    role = "holder" if box == "inbox" else "asker"
    if role == "asker":
        found = _pulled(engine, found)
    today = _now(now).date()
    out = []
    for request in found:
        if role_of(request, member_id) != role:
            continue
        request = expire_if_due(engine, request, now)
        if not wanted or request.state in wanted:
            out.append(RequestView(request, role, due=due_of(request, today),
                                   entry_ref=_entry_ref(engine, request) if role == "holder" else None))
    return out


def _push(engine: Engine, request: InfoRequest, action: str, detail: str) -> None:
    """An asker's step on a request to another server goes there first: if it cannot, nothing changes here."""
    if request.side == "asker":
        from jointwatch.sharing.requests_remote import push_step  # noqa: PLC0415 - it builds on this module

        push_step(engine, request, action, detail)


def _pulled(engine: Engine, found: list[InfoRequest]) -> list[InfoRequest]:
    """``found`` as it is after pulling the holders' news from their servers (requests to other servers)."""
    links = sorted({r.link_id for r in found if r.side == "asker" and r.link_id is not None and r.state in PENDING})
    if not links:
        return found
    from jointwatch.sharing.requests_remote import pull_quietly  # noqa: PLC0415 - it builds on this module

    for link_id in links:
        pull_quietly(engine, link_id)
    return [get_request(engine, r.ref) or r for r in found]


# -- the asker's steps -----------------------------------------------------------------------

def open_request(engine: Engine, asker_id: int, user: str, holder: str | int, token: str, epoch: str,
                 subject: Subject, reason: str, legal_basis: str, urgency: str = "routine",
                 deadline: date | None = None, now: datetime | None = None) -> InfoRequest:
    """A request from ``asker_id`` to ``holder`` (a member of this server, by name or number) about
    the entry behind the hit ``token`` of ``epoch``; NotFoundError for a token the holder never gave
    this asker that day (or no such holder, or an entry withdrawn since)."""
    when = _now(now)
    if isinstance(holder, str) and "@" in holder:
        from jointwatch.sharing.requests_remote import open_remote  # noqa: PLC0415 - it builds on this module

        return open_remote(engine, asker_id, user, holder, token, epoch, subject, reason, legal_basis, urgency,
                           deadline, when)
    check_hit(token, epoch, when.date())
    reason = _text("reason", reason)
    legal_basis = _text("legal_basis", legal_basis)
    due = deadline_of(urgency, when.date(), deadline)
    try:
        owner = get_member(engine, holder)
    except NotFoundError:
        # answered as a member without an offer (as /discovery does): an asker learns no member names
        raise NotFoundError(NO_OFFER) from None
    if owner.id == asker_id:
        raise ForbiddenError("a member does not request from itself")
    entry = entry_of_token(engine, owner.id, asker_id, epoch, token)
    asker = get_member(engine, asker_id)
    created = insert_request(engine, {
        "side": "both", "asker_id": asker_id, "asker": asker.name, "holder_id": owner.id, "holder": owner.name,
        "entry_token": token, "epoch": epoch, "entry_id": entry.id, "subject": subject.to_dict(), "reason": reason,
        "legal_basis": legal_basis, "urgency": urgency, "deadline": due, "state": "open"},
        NewRequestEvent(asker_id, asker.name, user, "opened", f"{urgency}, deadline {due.isoformat()}"), when)
    _audit(engine, created, user, "open", asker.name)
    return created


def _act(engine: Engine, ref: str, member_id: int, action: str, now: datetime | None) -> tuple[InfoRequest, str]:
    request, role = _mine(engine, ref, member_id, now)
    step = STEPS[action]
    if role != step.side:
        raise ForbiddenError(f"request {request.ref}: only its {step.side} may do this ({action})")
    if request.state not in step.before:
        raise ConflictError(f"request {request.ref} is {request.state.replace('_', ' ')}: it cannot be "
                            f"{PAST[action]} now")
    return request, get_member(engine, member_id).name


def answer_request(engine: Engine, ref: str, member_id: int, user: str, text: str,
                   now: datetime | None = None) -> InfoRequest:
    """The asker answers the holder's question: the request is open again."""
    detail = _text("answer", text)
    request, actor = _act(engine, ref, member_id, "answer", now)
    _push(engine, request, "answer", detail)
    return apply_step(engine, request, "answer", actor, user, detail, member_id, {"answer": detail}, now)


def withdraw_request(engine: Engine, ref: str, member_id: int, user: str, reason: str = "",
                     now: datetime | None = None) -> InfoRequest:
    """The asker no longer needs the answer."""
    detail = _text("reason", reason, required=False)
    request, actor = _act(engine, ref, member_id, "withdraw", now)
    _push(engine, request, "withdraw", detail)
    return apply_step(engine, request, "withdraw", actor, user, detail, member_id, None, now)


# -- the holder's steps ----------------------------------------------------------------------

def ask_more(engine: Engine, ref: str, member_id: int, user: str, question: str,
             now: datetime | None = None) -> InfoRequest:
    """The holder asks the asker for more before deciding."""
    detail = _text("question", question)
    request, actor = _act(engine, ref, member_id, "ask", now)
    return apply_step(engine, request, "ask", actor, user, detail, member_id, {"answer": detail}, now)


def decline_request(engine: Engine, ref: str, member_id: int, user: str, reason: str,
                    now: datetime | None = None) -> InfoRequest:
    """The holder declines, with a reason the asker reads."""
    detail = _text("reason", reason)
    request, actor = _act(engine, ref, member_id, "decline", now)
    return apply_step(engine, request, "decline", actor, user, detail, member_id, {"answer": detail}, now)


@dataclass(frozen=True)
class Release:
    """What the holder chooses for the asker on acceptance; None keeps the entry's own."""

    tlp: str | None = None
    handling: tuple[str, ...] | None = None
    expires_on: date | None = None
    note: str = ""

    def labels_for(self, entry: StoredEntry, distribution: str, audience: tuple[int, ...], today: date) -> Labels:
        if self.expires_on is not None and self.expires_on < today:
            raise InvalidInputError(f"expires_on {self.expires_on.isoformat()} is in the past")
        current = entry.labels
        return Labels(distribution, audience, tlp_level(self.tlp) if self.tlp else current.tlp,
                      handling_codes(self.handling) if self.handling is not None else current.handling,
                      current.reason, self.expires_on if self.expires_on is not None else current.expires_on)


def released_labels(entry: StoredEntry, asker_id: int, release: Release, today: date) -> Labels:
    """The entry's labels once released to ``asker_id``: originator becomes members [asker], members
    gets the asker added; everything else kept but what the holder chose. A wider distribution the
    asker is not in (a group, another server's) is not widened by a request: ConflictError."""
    labels = entry.labels
    if labels.distribution == "originator":
        return release.labels_for(entry, "members", (asker_id,), today)
    if labels.distribution == "members":
        return release.labels_for(entry, "members", tuple(dict.fromkeys((*labels.audience, asker_id))), today)
    raise ConflictError(f"the entry is shared with distribution {labels.distribution!r}: a request releases only "
                        "an entry of distribution originator or members; share the asker its own entry instead")


def accept_request(engine: Engine, ref: str, member_id: int, user: str, release: Release,
                   now: datetime | None = None) -> InfoRequest:
    """The holder releases its entry to the asker (a new version of the entry, whose note says to whom
    and on which request): the asker's screening hits it from then on."""
    when = _now(now)
    note = _text("note", release.note, required=False)
    request, actor = _act(engine, ref, member_id, "accept", when)
    found = load_entries(engine, [request.entry_id]) if request.entry_id is not None else []
    if not found or found[0].status != "active":
        raise ConflictError(f"request {request.ref}: the entry was withdrawn since; decline the request instead")
    entry = found[0]
    if request.side == "holder":
        # the asker is on another server: the entry stays as it is here; its server pulls it with
        # the accepted event, under these labels, for the asker alone (requests_remote.link_events)
        labels = release.labels_for(entry, "originator", (), when.date())
    else:
        assert request.asker_id is not None
        labels = released_labels(entry, request.asker_id, release, when.date())
    detail = f"released at TLP:{labels.tlp}" + (f", {', '.join(labels.handling)}" if labels.handling else "") + \
        (f", until {labels.expires_on.isoformat()}" if labels.expires_on else "") + (f"; {note}" if note else "")
    chosen = {"tlp": labels.tlp, "handling": list(labels.handling),
              "expires_on": labels.expires_on.isoformat() if labels.expires_on else None}
    # accepted first (a compare-and-set on the state read), released after: an asker's withdrawal or
    # the deadline landing in between must leave nothing released on a request that is not accepted
    accepted = apply_step(engine, request, "accept", actor, user, detail, member_id,
                          {"answer": note, "released_ref": entry.ref, "release": chosen}, when)
    if request.side == "holder":
        record_sharing_events(engine, [NewEvent(entry.id, member_id, user, "released", request.asker,
                                                f"on request {request.ref}")])
        return accepted
    try:
        edit_entry(engine, entry.ref, member_id, user, f"released to {request.asker} on request {request.ref}",
                   labels=labels)
    except JointwatchError as exc:
        # not released after all (the entry changed meanwhile): the request is undecided again
        change_request(engine, accepted, request.state,
                       NewRequestEvent(member_id, actor, user, "release failed", str(exc)[:MAX_TEXT]),
                       {"answer": request.answer, "released_ref": None, "release": None}, when)
        raise
    return accepted


# -- the deadline ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Reminder:
    """What ``remind`` did to one request: reminded (due soon) or expired (overdue)."""

    request: InfoRequest
    what: str

    def to_dict(self) -> dict[str, Any]:
        r = self.request
        return {"ref": r.ref, "what": self.what, "asker": r.asker, "holder": r.holder, "urgency": r.urgency,
                "deadline": r.deadline.isoformat(), "state": r.state}


def remind(engine: Engine, now: datetime | None = None) -> list[Reminder]:
    """Remind the undecided requests whose deadline is near (once a day each) and expire the overdue
    ones; what it did, for a cron job's mail. Immediate ones on their deadline day, urgent ones from
    the day before, routine ones from three days before."""
    when = _now(now)
    out = []
    for request in reversed(list_requests(engine, states=PENDING)):
        due = due_of(request, when.date())
        if due == "overdue":
            expired = expire_if_due(engine, request, when)
            if expired.state == "expired":
                out.append(Reminder(expired, "expired"))
        elif due == "due soon":
            detail = f"deadline {request.deadline.isoformat()} ({request.urgency})"
            if note_reminded(engine, request, NewRequestEvent(None, "jointwatch", "", "reminded", detail), when):
                _audit(engine, request, "", "remind", "jointwatch")
                out.append(Reminder(request, "reminded"))
    return out
