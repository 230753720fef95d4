"""/federation: what a connected jointwatch server pushes to us and pulls from us, in signed bundles.

Only ``peer`` keys reach the bundle routes (Right.FEDERATE), and the key's member must stand
for a link: the link decides which keys a bundle may be signed with and what its entries
become here. Our public keys are public (peers are given them out of band anyway).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from jointwatch.api.auth import Caller, Right, authorize
from jointwatch.api.problems import PROBLEM_RESPONSES
from jointwatch.errors import ForbiddenError
from jointwatch.sharing import (
    BUNDLE_ENTRIES,
    MAX_BUNDLE_ENTRIES,
    link_events,
    note_sent,
    outgoing_bundle,
    peer_evaluate,
    peer_holders,
    peer_index,
    receive_bundle,
    receive_request,
    receive_step,
    released_entries,
    signing_key,
)
from jointwatch.store import Engine, FederationLink, InfoRequest, link_of_member, list_signing_keys

router = APIRouter(tags=["federation"])


class SignedBundle(BaseModel):
    """A bundle as it travels: its canonical JSON text and the base64 Ed25519 signature of that text."""

    model_config = ConfigDict(extra="forbid")

    bundle: str = Field(description="Canonical JSON (sorted keys, UTF-8, no spaces) of the bundle.")
    signature: str = Field(max_length=200, description="Base64 Ed25519 signature over the bundle's UTF-8 bytes.")


class PublicKey(BaseModel):
    key_id: str
    public_key: str = Field(description="Raw Ed25519 public key, base64.")
    current: bool


def _link(engine: Engine, caller: Caller) -> FederationLink:
    link = link_of_member(engine, caller.member_id)
    if link is None:
        raise ForbiddenError("this key's member stands for no federation link")
    return link


@router.post("/federation/bundles", responses=PROBLEM_RESPONSES)
def receive(body: SignedBundle, request: Request,
            caller: Annotated[Caller, Depends(authorize("federation.receive", Right.FEDERATE))]) -> dict[str, Any]:
    """Take in a signed bundle from the caller's link: verified before anything is stored (403 when
    refused: unknown key, bad signature, changed, stale or replayed), then applied where newer."""
    engine = request.app.state.engine
    link = _link(engine, caller)
    received = receive_bundle(engine, link, body.model_dump())
    caller.note.summary = (f"bundle {received.bundle_id} from link {link.name}: {received.new} new, "
                           f"{received.updated} updated, {received.unchanged} unchanged, {received.refused} refused")
    return received.as_dict()


@router.get("/federation/bundles", response_model=SignedBundle, responses=PROBLEM_RESPONSES)
def serve(request: Request, caller: Annotated[Caller, Depends(authorize("federation.pull", Right.FEDERATE))],
          after: Annotated[int, Query(ge=0, le=2**62, description="The caller's checkpoint: our sequence number.")] = 0,
          limit: Annotated[int, Query(ge=1, le=MAX_BUNDLE_ENTRIES)] = BUNDLE_ENTRIES) -> SignedBundle:
    """A signed bundle of what the caller's link may receive, changed after ``after``, at most ``limit``
    entries; its ``seq_to`` is the next ``after`` (equal to ``after``: nothing more)."""
    engine = request.app.state.engine
    link = _link(engine, caller)
    out = outgoing_bundle(engine, link, after, limit)
    note_sent(engine, link, out)
    caller.note.summary = f"bundle {out.bundle_id} to link {link.name}: {len(out.entry_ids)} entries"
    return SignedBundle(**out.envelope)


@router.get("/federation/keys", response_model=list[PublicKey])
def keys(request: Request) -> list[PublicKey]:
    """This server's Ed25519 public keys: the current one, and the retired ones (old bundles stay checkable)."""
    engine = request.app.state.engine
    current = signing_key(engine)
    return [PublicKey(key_id=k.key_id, public_key=k.public_key, current=k.key_id == current.key_id)
            for k in reversed(list_signing_keys(engine))]


# -- blind discovery: a linked server's askers, through its peer member -------------------------

HolderName = Annotated[str, Path(min_length=1, max_length=200, description="The holder member's name here.")]


class BlindElements(BaseModel):
    """A blind query as it travels: blinded ristretto255 elements, padded to a bucket."""

    model_config = ConfigDict(extra="forbid")

    elements: list[Annotated[str, Field(max_length=64)]] = Field(
        max_length=256, description="Base64 of each 32-byte blinded element (16, 32, 64, 128 or 256 of them).")
    epoch: str | None = Field(None, max_length=10, description=(
        "The UTC day of the index the caller will look the answer up in; another day is refused (409) "
        "before anything is charged."))


@router.get("/federation/discovery/holders", responses=PROBLEM_RESPONSES)
def discovery_holders(request: Request, caller: Annotated[
        Caller, Depends(authorize("federation.discovery.holders", Right.FEDERATE))]) -> dict[str, Any]:
    """The holders here whose discovery offer reaches the caller's link (scope ``connected``), each
    with its index's day and version (fetch the index again only when they change) and today's spend."""
    engine = request.app.state.engine
    link = _link(engine, caller)
    holders = peer_holders(engine, caller.member_id)
    caller.note.summary = f"discovery holders to link {link.name}: {len(holders)}"
    return {"holders": [h.to_dict() for h in holders]}


@router.get("/federation/discovery/holders/{holder}/index", responses=PROBLEM_RESPONSES)
def discovery_index(holder: HolderName, request: Request, caller: Annotated[
        Caller, Depends(authorize("federation.discovery.index", Right.FEDERATE))]) -> Response:
    """The holder's blind index for the caller's link today (404 when its offer does not reach the
    link); ETag is its version, and If-None-Match with it answers 304."""
    engine = request.app.state.engine
    link = _link(engine, caller)
    version, body = peer_index(engine, holder, caller.member_id)
    caller.note.summary = f"blind index of {holder} to link {link.name}"
    etag = f'"{version}"'
    if request.headers.get("if-none-match", "").strip() == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.post("/federation/discovery/holders/{holder}/evaluate", responses=PROBLEM_RESPONSES)
def discovery_evaluate(holder: HolderName, body: BlindElements, request: Request, caller: Annotated[
        Caller, Depends(authorize("federation.discovery.evaluate", Right.FEDERATE))]) -> dict[str, Any]:
    """Evaluate a blind query of the caller's link with the holder's key for it today, charging the
    link's budget at that holder (429 with Retry-After when spent or over the rate; 422 for elements
    that are not a bucket of valid group elements). The holder learns the link, the time and the count."""
    engine = request.app.state.engine
    link = _link(engine, caller)
    caller.note.summary = f"blind query from link {link.name} to {holder}: {len(body.elements)} keys"
    return peer_evaluate(engine, holder, caller.member_id, body.elements, body.epoch)


# -- requests for information from the askers behind a link (sharing.requests_remote) --------

class PeerRequest(BaseModel):
    """A request for information from an asker on the caller's server, about a hit in a blind index
    this server gave the caller's link."""

    model_config = ConfigDict(extra="forbid")

    ref: Annotated[str, Field(pattern=r"^rq-[0-9a-f]{8,40}$", description="The asker's server's reference.")]
    asker: Annotated[str, Field(min_length=1, max_length=200, description="The asker's name on its server.")]
    holder: Annotated[str, Field(min_length=1, max_length=128, description="The holder member here.")]
    token: Annotated[str, Field(pattern=r"^[0-9a-f]{8,64}$")]
    epoch: Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    subject: dict[str, Any] = Field(max_length=5)
    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    legal_basis: Annotated[str, Field(min_length=1, max_length=2000)]
    urgency: Literal["routine", "urgent", "immediate"] = "routine"
    deadline: date | None = None


class PeerStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[str, Field(max_length=2000)] = ""


class PeerRequestOut(BaseModel):
    ref: str
    state: str
    deadline: str


RequestRef = Annotated[str, Path(min_length=1, max_length=64, description="This server's request reference.")]


def _taken(made: InfoRequest) -> PeerRequestOut:
    return PeerRequestOut(ref=made.ref, state=made.state, deadline=made.deadline.isoformat())


@router.post("/federation/requests", response_model=PeerRequestOut, responses=PROBLEM_RESPONSES)
def request_received(body: PeerRequest, request: Request, caller: Annotated[
        Caller, Depends(authorize("federation.requests.open", Right.FEDERATE))]) -> PeerRequestOut:
    """Take a request for information from the caller's link (404 for a token this server never gave
    the link that day). The same request sent again answers the same reference."""
    engine = request.app.state.engine
    link = _link(engine, caller)
    caller.note.summary = f"request from link {link.name}: refused"
    made = receive_request(engine, link, body.model_dump(mode="json"))
    caller.note.summary = f"request {made.ref} from link {link.name}"
    return _taken(made)


@router.get("/federation/requests/events", responses=PROBLEM_RESPONSES)
def request_events(request: Request,
                   caller: Annotated[Caller, Depends(authorize("federation.requests.events", Right.FEDERATE))],
                   since: Annotated[int, Query(ge=0, le=2**62, description="The last event id applied.")] = 0,
                   limit: Annotated[int, Query(ge=1, le=500)] = 200) -> dict[str, Any]:
    """The holders' steps on the requests of the caller's link after ``since``: more info requested,
    accepted (with the released entry), declined, expired."""
    engine = request.app.state.engine
    link = _link(engine, caller)
    events = link_events(engine, link, since, limit)
    caller.note.summary = f"{len(events)} request events to link {link.name}"
    return {"events": events}


@router.get("/federation/requests/released", responses=PROBLEM_RESPONSES)
def requests_released(request: Request, caller: Annotated[
        Caller, Depends(authorize("federation.requests.released", Right.FEDERATE))]) -> dict[str, Any]:
    """The entries released on requests of the caller's link, as they are now (edits and withdrawals follow)."""
    engine = request.app.state.engine
    link = _link(engine, caller)
    entries = released_entries(engine, link)
    caller.note.summary = f"{len(entries)} released entries to link {link.name}"
    return {"entries": entries}


@router.post("/federation/requests/{ref}/{step}", response_model=PeerRequestOut, responses=PROBLEM_RESPONSES)
def request_step(ref: RequestRef, step: Literal["answer", "withdraw"], body: PeerStep, request: Request,
                 caller: Annotated[Caller, Depends(authorize("federation.requests.step", Right.FEDERATE))]
                 ) -> PeerRequestOut:
    """The asker's answer to the holder's question, or its withdrawal, from the caller's link."""
    engine = request.app.state.engine
    link = _link(engine, caller)
    caller.note.summary = f"{step} of {ref[:64]} from link {link.name}: refused"
    done = receive_step(engine, link, ref, step, body.text)
    caller.note.summary = f"{step} of {done.ref} from link {link.name}"
    return _taken(done)
