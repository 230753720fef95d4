"""/requests: requests for information after a blind hit, as `jointwatch requests` does them.

Which step may follow which, and who may take it, is ``jointwatch.sharing.requests``; these
routes only translate. A request is answered only to its two members: to anyone else it is
404, exactly as one that does not exist. The holder's entry behind a request is shown to the
holder only (``entry_ref``); the asker learns it when the entry is released, by screening.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models import Text
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.releasability import HANDLING_CODES, TLP_LEVELS
from jointwatch.sharing import (
    Release,
    RequestView,
    Subject,
    accept_request,
    answer_request,
    ask_more,
    decline_request,
    open_request,
    requests_of,
    view_request,
    withdraw_request,
)

router = APIRouter(tags=["requests"])
_NOT_FOUND: dict[int | str, dict[str, object]] = {
    **PROBLEM_RESPONSES,
    404: {"model": Problem, "description": "No such request, or one the caller's member is not a party to"}}
_STEP: dict[int | str, dict[str, object]] = {
    **_NOT_FOUND,
    403: {"model": Problem, "description": "A step for the other member of the request"},
    409: {"model": Problem, "description": "The request's state does not allow this step"}}
Ref = Annotated[str, Path(min_length=1, max_length=64, description="The request's reference (rq-…).")]
Note = Annotated[Text, Field(min_length=1, max_length=2000)]
State = Literal["open", "more_info_requested", "accepted", "declined", "withdrawn", "expired"]


class SubjectIn(BaseModel):
    """What the asker chooses to reveal of the person (at least one field)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[Text, Field(max_length=500)] = ""
    birth_date: Annotated[Text, Field(max_length=10, description="YYYY, YYYY-MM or YYYY-MM-DD.")] = ""
    nationality: Annotated[Text, Field(max_length=100)] = ""
    id_numbers: list[Annotated[Text, Field(min_length=1, max_length=100)]] = Field(default_factory=list,
                                                                                    max_length=20)
    note: Annotated[Text, Field(max_length=2000)] = ""

    def to_subject(self) -> Subject:
        return Subject(self.name, self.birth_date, self.nationality, tuple(self.id_numbers), self.note)


class OpenRequest(BaseModel):
    """A request for information after a blind hit."""

    model_config = ConfigDict(extra="forbid")

    holder: Annotated[Text, Field(min_length=1, max_length=128, description="The holder member's name.")]
    token: Annotated[str, Field(pattern=r"^[0-9a-f]{8,64}$", description="The hit's token.")]
    epoch: date = Field(description="The hit's day (its tokens change daily; at most 7 days old).")
    subject: SubjectIn
    reason: Note
    legal_basis: Note
    urgency: Literal["routine", "urgent", "immediate"] = "routine"
    deadline: date | None = Field(None, description="Default by urgency: immediate +1 day, urgent +3, routine +14.")


class TextBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Note


class WithdrawBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[Text, Field(max_length=2000)] = ""


class DeclineBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Note


class AcceptBody(BaseModel):
    """What the asker gets: TLP, handling codes and expiry (each left out keeps the entry's own)."""

    model_config = ConfigDict(extra="forbid")

    tlp: Annotated[str, Field(max_length=32, description=f"TLP 2.0: {', '.join(TLP_LEVELS)}.")] | None = None
    handling: list[Annotated[str, Field(max_length=64)]] | None = Field(
        None, max_length=len(HANDLING_CODES), description=f"Handling codes: {', '.join(HANDLING_CODES)}.")
    expires_on: date | None = None
    note: Annotated[Text, Field(max_length=2000)] = ""


class HistoryEvent(BaseModel):
    at: str
    action: str
    member: str
    user: str
    detail: str
    state: str


class RequestOut(BaseModel):
    """A request as one of its members sees it (``entry_ref`` for the holder only)."""

    ref: str
    role: Literal["asker", "holder"]
    state: str
    asker: str
    holder: str
    token: str
    epoch: str
    subject: dict[str, Any]
    reason: str
    legal_basis: str
    urgency: str
    deadline: str
    due: str | None = Field(description="'due soon', 'overdue' or null.")
    answer: str
    released_ref: str | None
    created_at: str
    updated_at: str
    entry_ref: str | None = None
    history: list[HistoryEvent] | None = None


def _out(view: RequestView, history: bool = True) -> RequestOut:
    return RequestOut(**view.to_dict(history))


def _show(request: Request, caller: Caller, ref: str) -> RequestOut:
    return _out(view_request(request.app.state.engine, ref, caller.member_id))


@router.post("/requests", response_model=RequestOut, status_code=201, responses=_NOT_FOUND)
def create(body: OpenRequest, request: Request,
           caller: Annotated[Caller, Depends(authorize("requests.open", Right.SHARE))]) -> RequestOut:
    """Open a request for information to the holder of a blind hit (404 for a token it never gave the caller)."""
    engine = request.app.state.engine
    caller.note.subject = body.model_dump(mode="json")
    caller.note.summary = "request: refused"
    made = open_request(engine, caller.member_id, caller.key.user, body.holder, body.token, body.epoch.isoformat(),
                        body.subject.to_subject(), body.reason, body.legal_basis, body.urgency, body.deadline)
    caller.note.summary = f"request {made.ref} opened ({made.urgency})"
    return _show(request, caller, made.ref)


@router.get("/requests", response_model=list[RequestOut], responses=PROBLEM_RESPONSES)
def listing(request: Request, caller: Annotated[Caller, Depends(authorize("requests.read", Right.SHARE))],
            box: Annotated[Literal["inbox", "outbox"], Query(description="inbox: to the caller's member as "
                                                                         "holder; outbox: its own.")] = "inbox",
            state: Annotated[State | None, Query()] = None) -> list[RequestOut]:
    """The caller's member's requests, newest first, flagged 'due soon' or 'overdue' (no history)."""
    found = requests_of(request.app.state.engine, caller.member_id, box, (state,) if state else ())
    caller.note.summary = f"{len(found)} requests ({box})"
    return [_out(v, history=False) for v in found]


@router.get("/requests/{ref}", response_model=RequestOut, responses=_NOT_FOUND)
def show(ref: Ref, request: Request,
         caller: Annotated[Caller, Depends(authorize("requests.show", Right.SHARE))]) -> RequestOut:
    """One request with its history, for its asker or holder."""
    caller.note.summary = f"request {ref[:64]}"
    return _show(request, caller, ref)


@router.post("/requests/{ref}/ask", response_model=RequestOut, responses=_STEP)
def ask(ref: Ref, body: TextBody, request: Request,
        caller: Annotated[Caller, Depends(authorize("requests.ask", Right.SHARE))]) -> RequestOut:
    """The holder asks the asker for more (open → more_info_requested)."""
    caller.note.summary = f"ask on {ref[:64]}: refused"
    ask_more(request.app.state.engine, ref, caller.member_id, caller.key.user, body.text)
    caller.note.summary = f"asked more on {ref}"
    return _show(request, caller, ref)


@router.post("/requests/{ref}/answer", response_model=RequestOut, responses=_STEP)
def answer(ref: Ref, body: TextBody, request: Request,
           caller: Annotated[Caller, Depends(authorize("requests.answer", Right.SHARE))]) -> RequestOut:
    """The asker answers the holder's question (more_info_requested → open)."""
    caller.note.summary = f"answer on {ref[:64]}: refused"
    answer_request(request.app.state.engine, ref, caller.member_id, caller.key.user, body.text)
    caller.note.summary = f"answered {ref}"
    return _show(request, caller, ref)


@router.post("/requests/{ref}/accept", response_model=RequestOut, responses=_STEP)
def accept(ref: Ref, body: AcceptBody, request: Request,
           caller: Annotated[Caller, Depends(authorize("requests.accept", Right.SHARE))]) -> RequestOut:
    """The holder releases its entry to the asker at the TLP, handling codes and expiry it chooses."""
    caller.note.subject = body.model_dump(mode="json")
    caller.note.summary = f"accept {ref[:64]}: refused"
    release = Release(body.tlp, tuple(body.handling) if body.handling is not None else None, body.expires_on,
                      body.note)
    accept_request(request.app.state.engine, ref, caller.member_id, caller.key.user, release)
    caller.note.summary = f"accepted {ref}"
    return _show(request, caller, ref)


@router.post("/requests/{ref}/decline", response_model=RequestOut, responses=_STEP)
def decline(ref: Ref, body: DeclineBody, request: Request,
            caller: Annotated[Caller, Depends(authorize("requests.decline", Right.SHARE))]) -> RequestOut:
    """The holder declines, with a reason."""
    caller.note.summary = f"decline {ref[:64]}: refused"
    decline_request(request.app.state.engine, ref, caller.member_id, caller.key.user, body.reason)
    caller.note.summary = f"declined {ref}"
    return _show(request, caller, ref)


@router.post("/requests/{ref}/withdraw", response_model=RequestOut, responses=_STEP)
def withdraw(ref: Ref, body: WithdrawBody, request: Request,
             caller: Annotated[Caller, Depends(authorize("requests.withdraw", Right.SHARE))]) -> RequestOut:
    """The asker withdraws its request."""
    caller.note.summary = f"withdraw {ref[:64]}: refused"
    withdraw_request(request.app.state.engine, ref, caller.member_id, caller.key.user, body.reason)
    caller.note.summary = f"withdrew {ref}"
    return _show(request, caller, ref)
