"""/discovery: blind hit/no-hit discovery between the members of this server, as `jointwatch discover` does it.

Rights (decided here): a holder's offer says who may query its restricted entries and how
much, an organisation's decision like a sharing group or a link, so opening, changing,
closing and reading it (with its log) needs MANAGE_SHARING (admin). Asking is the analyst's
act of looking a person up among partners' restricted holdings, so it needs SHARE (analyst,
admin), not SCREEN: a screener key of an automated system does not fan names out to partners.

What each side learns is decided by ``jointwatch.sharing.discovery``; these routes only
translate. A holder without an offer, with a closed one, or with one that does not reach the
caller is answered exactly as a member that does not exist (404, the same message). The
asker's audit row keeps its query as a keyed digest; the holder gets a row per evaluation
that names the asking member and the key count, never a name.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import Engine

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.models_discovery import (
    BlindQueryOut,
    DiscoveryRequest,
    DiscoveryResponse,
    EvaluateOut,
    EvaluateRequest,
    HitOut,
    HolderAnswerOut,
    HolderOut,
    IndexOut,
    OfferOut,
    OfferRequest,
    OfferView,
    SpendOut,
)
from jointwatch.api.problems import PROBLEM_RESPONSES, Problem
from jointwatch.errors import InvalidInputError, LimitReachedError, NotFoundError
from jointwatch.screening import prepare
from jointwatch.sharing import (
    DEFAULT_DAILY_KEYS,
    DEFAULT_PER_MINUTE,
    DEFAULT_TLP_MAX,
    HolderAnswer,
    asker_label,
    blind_index,
    close_offer,
    discover,
    epoch_of,
    evaluate_blinded,
    local_holders,
    note_answered,
    open_offer,
)
from jointwatch.store import Offer, Spend, blind_queries, get_offer, list_members, spend_of

router = APIRouter(tags=["discovery"])
NO_OFFER = "no discovery offer from this holder"   # the one answer for every holder the caller cannot ask
LOG_LENGTH = 100
_NOT_FOUND: dict[int | str, dict[str, object]] = {
    **PROBLEM_RESPONSES,
    404: {"model": Problem, "description": "No such holder, or none whose open offer reaches the caller"}}
_LIMITED: dict[int | str, dict[str, object]] = {
    **_NOT_FOUND,
    429: {"model": Problem, "description": "The day's budget or the rate at this holder is spent; see Retry-After. "
                                           "Nothing was evaluated."}}
Holder = Annotated[str, Path(min_length=1, max_length=128, description="The holder member's name.")]


def _names(engine: Engine) -> dict[int, str]:
    return {m.id: m.name for m in list_members(engine)}


def _holder_id(engine: Engine, name: str) -> int:
    """The member called ``name``; 404 with the same message as a holder without an offer, so an
    asker cannot tell the members that exist from those that offer nothing to it."""
    wanted = " ".join(name.split())
    found = next((m.id for m in list_members(engine) if m.name == wanted), None)
    if found is None:
        raise NotFoundError(NO_OFFER)
    return found


def _asker_name(label: str, names: dict[int, str]) -> str:
    """An asker as the holder sees it: its member's name here (``member:<id>`` otherwise)."""
    kind, _, number = label.partition(":")
    return names.get(int(number), label) if kind == "member" and number.isdigit() else label


def _offer_out(offer: Offer, names: dict[int, str]) -> OfferOut:
    return OfferOut(holder=names.get(offer.holder_id, str(offer.holder_id)), status=offer.status,  # type: ignore[arg-type]
                    daily_keys=offer.daily_keys, per_minute=offer.per_minute, scope=offer.scope,  # type: ignore[arg-type]
                    tlp_max=offer.tlp_max, created_at=offer.created_at, updated_at=offer.updated_at)


def _spend_out(spend: Spend, names: dict[int, str]) -> SpendOut:
    return SpendOut(holder=names.get(spend.holder_id, str(spend.holder_id)), asker=_asker_name(spend.asker, names),
                    day=spend.day, keys=spend.keys, queries=spend.queries, refused=spend.refused,
                    budget=spend.daily_keys)


# -- the holder's offer ------------------------------------------------------------------------

@router.put("/discovery/offer", response_model=OfferOut, responses=PROBLEM_RESPONSES)
def set_offer(body: OfferRequest, request: Request,
              caller: Annotated[Caller, Depends(authorize("discovery.offer.set", Right.MANAGE_SHARING))]) -> OfferOut:
    """Open or change the caller's member's offer: what is not sent keeps its current value (or the default)."""
    engine = request.app.state.engine
    caller.note.subject = body.model_dump(mode="json")
    current = get_offer(engine, caller.member_id)
    offer = open_offer(
        engine, caller.member_id,
        daily_keys=body.daily_keys or (current.daily_keys if current else DEFAULT_DAILY_KEYS),
        per_minute=body.per_minute or (current.per_minute if current else DEFAULT_PER_MINUTE),
        scope=body.scope or (current.scope if current else "server"),
        tlp_max=body.tlp_max or (current.tlp_max if current else DEFAULT_TLP_MAX),
        new_seed=body.new_seed)
    caller.note.summary = (f"discovery offer open: {offer.daily_keys} keys a day, {offer.per_minute} a minute, "
                           f"{offer.scope}, up to TLP:{offer.tlp_max}{', new seed' if body.new_seed else ''}")
    return _offer_out(offer, _names(engine))


@router.delete("/discovery/offer", response_model=OfferOut,
               responses={**PROBLEM_RESPONSES, 404: {"model": Problem, "description": "The member has no offer"}})
def delete_offer(request: Request,
                 caller: Annotated[Caller, Depends(authorize("discovery.offer.close", Right.MANAGE_SHARING))],
                 ) -> OfferOut:
    """Close the caller's member's offer: from now on it is not asked, and its indexes are not given out."""
    engine = request.app.state.engine
    offer = close_offer(engine, caller.member_id)
    caller.note.summary = "discovery offer closed"
    return _offer_out(offer, _names(engine))


@router.get("/discovery/offer", response_model=OfferView,
            responses={**PROBLEM_RESPONSES, 404: {"model": Problem, "description": "The member has no offer"}})
def show_offer(request: Request,
               caller: Annotated[Caller, Depends(authorize("discovery.offer.read", Right.MANAGE_SHARING))],
               limit: Annotated[int, Query(ge=1, le=1000, description="Log rows, newest first.")] = LOG_LENGTH,
               ) -> OfferView:
    """The caller's member's offer (never its seed), today's spend per asker, and its log of blind queries:
    who asked, when, how many keys. That is all a holder learns of a blind query."""
    engine = request.app.state.engine
    offer = get_offer(engine, caller.member_id)
    if offer is None:
        raise NotFoundError("this member has no discovery offer")
    names = _names(engine)
    spend = spend_of(engine, epoch_of(), holder_id=caller.member_id)
    log = blind_queries(engine, caller.member_id, limit)
    caller.note.summary = f"discovery offer: {len(spend)} askers today, {len(log)} log rows"
    return OfferView(offer=_offer_out(offer, names), spend=[_spend_out(s, names) for s in spend],
                     log=[BlindQueryOut(asker=_asker_name(q.asker, names), at=q.at, keys=q.keys,
                                        outcome=q.outcome) for q in log])  # type: ignore[arg-type]


# -- the asker's side --------------------------------------------------------------------------

@router.get("/discovery/holders", response_model=list[HolderOut], responses=PROBLEM_RESPONSES)
def holders(request: Request,
            caller: Annotated[Caller, Depends(authorize("discovery.holders", Right.SHARE))]) -> list[HolderOut]:
    """The holders on this server whose offer reaches the caller's member, with its spend and budget at each today."""
    engine = request.app.state.engine
    names = _names(engine)
    day = epoch_of()
    spent = {s.holder_id: s for s in spend_of(engine, day, asker=asker_label(caller.member_id))}
    out = []
    for holder_id in local_holders(engine, caller.member_id):
        offer = get_offer(engine, holder_id)
        assert offer is not None  # local_holders lists open offers only
        s = spent.get(holder_id)
        out.append(HolderOut(holder=names.get(holder_id, str(holder_id)), day=day, spent=s.keys if s else 0,
                             budget=offer.daily_keys, queries=s.queries if s else 0, refused=s.refused if s else 0,
                             per_minute=offer.per_minute))
    caller.note.summary = f"{len(out)} discovery holders"
    return out


@router.get("/discovery/holders/{holder}/index", response_model=IndexOut, responses=_NOT_FOUND)
def index(holder: Holder, request: Request,
          caller: Annotated[Caller, Depends(authorize("discovery.index", Right.SHARE))]) -> IndexOut:
    """The holder's blind index for the caller's member today: keyed values, word counts and tokens only.
    With it and /evaluate a client blinds its query on its own machine."""
    engine = request.app.state.engine
    caller.note.summary = "blind index: refused"
    built = blind_index(engine, _holder_id(engine, holder), caller.member_id)
    caller.note.summary = f"blind index of {built.holder} for {built.epoch}: {len(built.tokens)} entries"
    return IndexOut.model_validate(built.to_json())


def _elements(encoded: list[str]) -> list[bytes]:
    out = []
    for position, text in enumerate(encoded):
        try:
            out.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            raise InvalidInputError(f"elements.{position}: not base64") from None
    return out


@router.post("/discovery/holders/{holder}/evaluate", response_model=EvaluateOut, responses=_LIMITED)
def evaluate(holder: Holder, body: EvaluateRequest, request: Request,
             caller: Annotated[Caller, Depends(authorize("discovery.evaluate", Right.SHARE))]) -> EvaluateOut:
    """The holder's step of a blind query: its key of the day times each element. A count that is not a
    bucket or an element that is not a valid group element is refused (422) before anything is charged;
    a spent budget or rate is 429 with Retry-After, and nothing is evaluated."""
    engine = request.app.state.engine
    caller.note.summary = f"blind evaluation of {len(body.elements)} elements: refused"
    elements = _elements(body.elements)
    holder_id = _holder_id(engine, holder)
    asker = caller.key.member_name
    try:
        evaluated, spend = evaluate_blinded(engine, holder_id, caller.member_id, elements)
    except LimitReachedError:
        note_answered(engine, holder_id, asker, len(elements), refused=True)
        caller.note.summary = f"blind evaluation at {holder}: {len(elements)} keys refused (budget or rate)"
        raise
    note_answered(engine, holder_id, asker, len(elements), refused=False)
    caller.note.summary = f"blind evaluation at {holder}: {len(elements)} keys, {spend.keys}/{spend.daily_keys} spent"
    return EvaluateOut(elements=[base64.b64encode(e).decode() for e in evaluated], epoch=spend.day,
                       spent=spend.keys, budget=spend.daily_keys)


def _answer_out(answer: HolderAnswer) -> HolderAnswerOut:
    # a holder that refused did not answer: no hit/no-hit, only null (fail closed)
    return HolderAnswerOut(holder=answer.holder, hit=None if answer.refused else bool(answer.hits), keys=answer.keys,
                           spent=answer.spent, budget=answer.budget, refused=answer.refused,
                           hits=[HitOut(token=h.token, epoch=h.epoch, strength=h.strength, agreed=list(h.agreed),
                                        words=list(h.words)) for h in answer.hits])


@router.post("/discovery/query", response_model=DiscoveryResponse, responses=_NOT_FOUND)
def query(body: DiscoveryRequest, request: Request,
          caller: Annotated[Caller, Depends(authorize("discovery.query", Right.SHARE))]) -> DiscoveryResponse:
    """A blind query to every holder whose offer reaches the caller's member (or to ``holders``): the server
    blinds, has each holder evaluate, and looks the answers up. The name never reaches a holder.

    Words are weighed as the official screener weighs them; with no list loaded (or lists too old) the
    answer is 503, as for /screen. A holder whose budget or rate is spent is answered with ``refused``
    and ``hit`` null: it was not asked, which is not "no hit"."""
    engine = request.app.state.engine
    caller.note.subject = body.model_dump(mode="json", by_alias=True, exclude={"holders"})
    caller.note.summary = "blind query: refused"
    checked = prepare(body.to_query())  # a bad subject is a 422 before any holder is asked
    screener, versions = request.app.state.screeners.current()  # fails closed: 503 with no usable list
    caller.note.list_versions = versions
    # "name@link": a holder on a linked server, asked through that link (sharing.discover)
    holder_ids: list[int | str] | None = None if body.holders is None else [
        h if "@" in h else _holder_id(engine, h) for h in dict.fromkeys(body.holders)]
    answers = discover(engine, caller.member_id, checked, screener.index, holder_ids)
    for answer in answers:
        if answer.holder_id is not None:
            note_answered(engine, answer.holder_id, caller.key.member_name, answer.keys, answer.refused is not None)
    hits = sum(1 for a in answers if a.hits)
    refused = sum(1 for a in answers if a.refused)
    caller.note.summary = (f"blind query to {len(answers)} holders: {hits} with a hit, {refused} refused"
                           + (f" ({', '.join(a.holder for a in answers if a.hits)})" if hits else ""))
    return DiscoveryResponse(answers=[_answer_out(a) for a in answers])
