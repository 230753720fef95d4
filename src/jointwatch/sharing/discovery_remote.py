"""Blind discovery between federated servers: the holder's server answering a link's peer, and the
asker's server asking its links.

The blinding and the look-up happen on the asker's server (its members trust it with their
queries); the holder's server sees only the link's peer member (one member for every asker
behind that link, one budget per partner server), the time and the number of elements. Over
the link travel: the list of holders whose offer reaches the peer, each holder's blind index
for that peer and day, and blinded elements and their evaluations. Never a name.

Freshness of a cached index. An index belongs to one day (its ``epoch``) and changes when the
holder's covered entries change. The holders' list, fetched once per query and link, gives each
holder's ``epoch`` and ``version`` (a digest of the index as the holder's server serves it, also
its ETag); the asker's server keeps one index per link, holder and epoch and fetches it again
only when the version differs. So a changed index is noticed at the next query, for one extra
round trip per link, and an unchanged one is never downloaded twice. The evaluation carries the
epoch of the index it will be looked up in: a holder whose day has turned refuses it (409)
before charging, and the asker fetches the new day's index and asks once more, so an old index
never turns a hit into a silent "no hit".

Fail closed: a link or holder that cannot be reached, refuses (budget, rate), or answers
something that does not read as an index or an evaluation gives a ``HolderAnswer`` with
``refused`` set (never an empty "no hit") that names the link.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from jointwatch.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    JointwatchError,
    LinkAnswerError,
    NotFoundError,
)
from jointwatch.screening import Query
from jointwatch.sharing.blind_match import DEFAULT_THRESHOLD
from jointwatch.sharing.discovery import (
    BlindIndex,
    BlindQuery,
    HolderAnswer,
    WordWeights,
    asker_label,
    blind_index,
    discover_local,
    epoch_of,
    evaluate_blinded,
    finish,
    local_holders,
    look_up,
    offer_for,
    prepare,
)
from jointwatch.sharing.federation import _client
from jointwatch.store import Engine, FederationLink, get_member, get_offer, list_links, recipient_of, spend_of

DISCOVERY_TIMEOUT = 20.0              # a dead link delays a query by this much at most, not a sync's 120 s
MAX_INDEX_BYTES = 64 * 1024 * 1024    # an index of ~100,000 entries; a peer cannot make us hold more
MAX_SMALL_ANSWER = 1024 * 1024        # holders' list, evaluations
_MAX_HOLDER_NAME = 200


# -- the holder's server: what a link's peer may ask -------------------------------------------

@dataclass(frozen=True)
class PeerHolder:
    """A holder of this server whose offer reaches a link's peer, as that peer sees it."""

    holder: str
    epoch: str
    version: str                      # the ETag of today's index for this peer
    daily_keys: int
    per_minute: int
    spent: int                        # today's spend of this peer at this holder (both sides see it)

    def to_dict(self) -> dict[str, Any]:
        return {"holder": self.holder, "epoch": self.epoch, "version": self.version,
                "daily_keys": self.daily_keys, "per_minute": self.per_minute, "spent": self.spent}


_SERVED: dict[int, tuple[BlindIndex, str, bytes]] = {}
_SERVED_LOCK = threading.Lock()


def _served(index: BlindIndex) -> tuple[str, bytes]:
    """An index's wire text and its version, made once per index object (``blind_index`` keeps
    the same object while the holder's entries and the day stay the same)."""
    with _SERVED_LOCK:
        memo = _SERVED.get(id(index))
    if memo is not None and memo[0] is index:
        return memo[1], memo[2]
    body = json.dumps(index.to_json(), separators=(",", ":")).encode()
    version = hashlib.sha256(body).hexdigest()[:32]
    with _SERVED_LOCK:
        if len(_SERVED) > 128:
            _SERVED.clear()
        _SERVED[id(index)] = (index, version, body)
    return version, body


def _holder_id(engine: Engine, holder: str, peer_member_id: int) -> int:
    """The holder named ``holder`` if its open offer reaches the peer; NotFoundError (one message,
    so a peer cannot tell a member without an offer from no member at all) otherwise."""
    try:
        holder_id = get_member(engine, holder).id
        offer_for(engine, holder_id, recipient_of(engine, peer_member_id))
    except NotFoundError:
        raise NotFoundError("no discovery offer from this holder") from None
    return holder_id


def peer_holders(engine: Engine, peer_member_id: int) -> list[PeerHolder]:
    """The holders here whose open offer reaches the link's peer ``peer_member_id`` (scope ``connected``)."""
    day = epoch_of()
    out = []
    for holder_id in local_holders(engine, peer_member_id):
        offer = get_offer(engine, holder_id)
        if offer is None:
            continue                        # closed between the two reads
        index = blind_index(engine, holder_id, peer_member_id)
        version, _ = _served(index)
        spend = spend_of(engine, day, offer.holder_id, asker_label(peer_member_id))
        out.append(PeerHolder(index.holder, index.epoch, version, offer.daily_keys, offer.per_minute,
                              spend[0].keys if spend else 0))
    return out


def peer_index(engine: Engine, holder: str, peer_member_id: int) -> tuple[str, bytes]:
    """The holder's blind index for the peer today: its version (ETag) and wire text."""
    return _served(blind_index(engine, _holder_id(engine, holder, peer_member_id), peer_member_id))


def peer_evaluate(engine: Engine, holder: str, peer_member_id: int, elements: Sequence[str],
                  epoch: str | None = None) -> dict[str, Any]:
    """Evaluate a peer's blinded elements (base64) with the holder's key for the peer today,
    charging the peer's budget (LimitReachedError, 429). ``epoch``: the day of the index the peer
    will look the answer up in; another day is refused (ConflictError, 409) before anything is charged."""
    holder_id = _holder_id(engine, holder, peer_member_id)
    now = datetime.now(UTC)
    today = epoch_of(now.date())
    if epoch is not None and epoch != today:
        raise ConflictError(f"the index of {epoch} is not today's ({today}): fetch today's index first")
    try:
        raw = [base64.b64decode(e, validate=True) for e in elements]
    except (binascii.Error, ValueError) as exc:
        raise InvalidInputError(f"blind query: an element is not base64 ({exc})") from exc
    evaluated, spend = evaluate_blinded(engine, holder_id, peer_member_id, raw, now)
    return {"epoch": today, "elements": [base64.b64encode(e).decode() for e in evaluated],
            "keys": len(raw), "spent": spend.keys, "budget": spend.daily_keys}


# -- the asker's server: asking a link's holders -----------------------------------------------

@dataclass(frozen=True)
class RemoteHolder:
    """A holder on a linked server, as its holders' list gave it."""

    link: str
    holder: str
    epoch: str
    version: str
    spent: int = -1                   # today's spend of our link at this holder, as the holder counts it
    budget: int = -1

    @property
    def shown(self) -> str:
        """How the asker sees it: ``customs@agency-b``."""
        return f"{self.holder}@{self.link}"


_INDEXES: dict[tuple[str, int, str, str], tuple[str, BlindIndex]] = {}
_INDEXES_LOCK = threading.Lock()


def _read(response: httpx.Response, what: str, limit: int) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise LinkAnswerError(f"{what}: the answer is over {limit:,} bytes: not read")
    return bytes(body)


def _detail(body: bytes) -> str:
    try:
        data = json.loads(body)
        return str(data.get("detail", data))[:300] if isinstance(data, dict) else body[:300].decode(errors="replace")
    except ValueError:
        return body[:300].decode(errors="replace")


def _call(client: httpx.Client, method: str, path: str, what: str, limit: int = MAX_SMALL_ANSWER,
          **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
    """One request to the link, its answer read no further than ``limit`` bytes."""
    try:
        with client.stream(method, path, **kwargs) as response:
            return response.status_code, dict(response.headers), _read(response, what, limit)
    except httpx.HTTPError as error:
        raise LinkAnswerError(f"{what}: {type(error).__name__}: {error}") from None


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        raise LinkAnswerError(f"{what}: the answer is not JSON") from None


def _status(status: int, body: bytes, what: str) -> None:
    if status == 200:
        return
    if status == 404:
        raise NotFoundError(f"{what}: {_detail(body)}")
    raise LinkAnswerError(f"{what}: HTTP {status}: {_detail(body)}")


def remote_holders(client: httpx.Client, link: FederationLink) -> list[RemoteHolder]:
    """The holders on ``link``'s server whose offers reach us."""
    what = f"link {link.name!r}: holders"
    status, _, body = _call(client, "GET", "/federation/discovery/holders", what)
    _status(status, body, what)
    data = _json(body, what)
    try:
        holders = [RemoteHolder(link.name, " ".join(str(h["holder"]).split())[:_MAX_HOLDER_NAME],
                                str(h["epoch"]), str(h["version"]), int(h.get("spent", -1)),
                                int(h.get("daily_keys", -1))) for h in data["holders"]]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LinkAnswerError(f"{what}: not a list of holders ({exc})") from None
    return [h for h in holders if h.holder]


def remote_index(client: httpx.Client, link: FederationLink, holder: RemoteHolder) -> BlindIndex:
    """``holder``'s index for us today: the cached one while its version holds, else fetched and checked."""
    key = (str(client.base_url), link.id, holder.holder, holder.epoch)
    with _INDEXES_LOCK:
        cached = _INDEXES.get(key)
    if cached is not None and cached[0] == holder.version:
        return cached[1]
    what = f"link {link.name!r}: index of {holder.holder!r}"
    headers = {"If-None-Match": f'"{cached[0]}"'} if cached else {}
    status, answer_headers, body = _call(client, "GET", f"/federation/discovery/holders/{_quote(holder.holder)}/index",
                                         what, MAX_INDEX_BYTES, headers=headers)
    if status == 304 and cached is not None:
        return cached[1]
    _status(status, body, what)
    try:
        index = BlindIndex.from_json(_json(body, what))
    except InvalidInputError as exc:
        raise LinkAnswerError(f"{what}: refused: {exc}") from None
    if index.holder != holder.holder or index.epoch != holder.epoch:
        raise LinkAnswerError(f"{what}: refused: it is {index.holder!r}'s of {index.epoch}, not "
                              f"{holder.holder!r}'s of {holder.epoch}")
    index = replace(index, holder=holder.shown)
    version = answer_headers.get("etag", "").strip('"') or holder.version
    with _INDEXES_LOCK:
        for old in [k for k in _INDEXES if k[:3] == key[:3]]:
            del _INDEXES[old]          # yesterday's index of this holder is of no use any more
        if len(_INDEXES) > 256:
            _INDEXES.clear()
        _INDEXES[key] = (version, index)
    return index


def _quote(name: str) -> str:
    return quote(name, safe="")


def remote_evaluate(client: httpx.Client, link: FederationLink, holder: RemoteHolder,
                    elements: list[bytes]) -> dict[str, Any]:
    """The holder's evaluation of our blinded ``elements``; LimitReachedError-like refusals come
    back as LinkAnswerError with the holder's words and its Retry-After."""
    what = f"link {link.name!r}: blind query to {holder.holder!r}"
    payload = {"elements": [base64.b64encode(e).decode() for e in elements], "epoch": holder.epoch}
    status, headers, body = _call(client, "POST", f"/federation/discovery/holders/{_quote(holder.holder)}/evaluate",
                                  what, json=payload)
    if status == 409:
        raise _DayTurned(_detail(body))
    if status == 429:
        retry = headers.get("retry-after")
        raise LinkAnswerError(f"{what}: HTTP 429: {_detail(body)}" + (f" (retry after {retry} s)" if retry else ""))
    _status(status, body, what)
    data = _json(body, what)
    try:
        evaluated = [base64.b64decode(e, validate=True) for e in data["elements"]]
        answer = {"epoch": str(data["epoch"]), "elements": evaluated, "spent": int(data["spent"]),
                  "budget": int(data["budget"])}
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise LinkAnswerError(f"{what}: not an evaluation ({exc})") from None
    return answer


class _DayTurned(Exception):
    """The holder's day turned between our index and our evaluation: nothing was charged."""


def _ask_holder(client: httpx.Client, link: FederationLink, holder: RemoteHolder, blinded: BlindQuery,
                threshold: float) -> HolderAnswer:
    keys = len(blinded.elements)
    for attempt in range(2):
        index = remote_index(client, link, holder)
        try:
            answer = remote_evaluate(client, link, holder, blinded.elements)
        except _DayTurned as turned:
            if attempt:
                raise LinkAnswerError(f"link {link.name!r}: {holder.holder!r}: {turned}") from None
            fresh = {h.holder: h for h in remote_holders(client, link)}
            if holder.holder not in fresh:
                raise NotFoundError(f"link {link.name!r}: {holder.holder!r} no longer answers") from None
            holder = fresh[holder.holder]
            continue
        if answer["epoch"] != index.epoch:
            raise LinkAnswerError(f"link {link.name!r}: {holder.holder!r} evaluated with the key of "
                                  f"{answer['epoch']}, not of its index's day {index.epoch}")
        try:
            hits = look_up(finish(blinded, answer["elements"]), index, threshold)
        except InvalidInputError as exc:
            raise LinkAnswerError(f"link {link.name!r}: {holder.holder!r}: refused: {exc}") from None
        return HolderAnswer(holder.shown, None, tuple(hits), keys, answer["spent"], answer["budget"])
    raise AssertionError("unreachable")


def _refused(shown: str, keys: int, why: str, holder: RemoteHolder | None = None) -> HolderAnswer:
    """A holder that did not answer: no hit/no hit; its spend as last listed (-1: unknown)."""
    return HolderAnswer(shown, None, (), keys, holder.spent if holder else -1, holder.budget if holder else -1, why)


def ask_link(link: FederationLink, query: Query, weights: WordWeights,
             holders: Sequence[str] | None = None, threshold: float = DEFAULT_THRESHOLD,
             transport: httpx.BaseTransport | None = None) -> list[HolderAnswer]:
    """A blind query to every holder on ``link``'s server whose offer reaches us (or to the names
    in ``holders``), each with its own blinds. One holder's failure is that holder's refused
    answer; a link that cannot list its holders is one refused answer named ``*@link``."""
    try:
        client = _client(link, transport)
    except InvalidInputError as exc:
        return [_refused(f"*@{link.name}", 0, str(exc))]
    client.timeout = httpx.Timeout(DISCOVERY_TIMEOUT)
    answers: list[HolderAnswer] = []
    with client:
        try:
            offered = remote_holders(client, link)
        except JointwatchError as exc:
            names = holders or ["*"]
            return [_refused(f"{name}@{link.name}", 0, f"not answered: {exc}") for name in names]
        by_name = {h.holder: h for h in offered}
        for name in holders if holders is not None else list(by_name):
            holder = by_name.get(name)
            if holder is None:
                answers.append(_refused(f"{name}@{link.name}", 0,
                                        f"not answered: link {link.name!r} has no discovery offer from {name!r}"))
                continue
            blinded = prepare(query, weights)   # fresh blinds for each holder: two holders cannot link the query
            try:
                answers.append(_ask_holder(client, link, holder, blinded, threshold))
            except JointwatchError as exc:
                answers.append(_refused(holder.shown, len(blinded.elements), f"not answered: {exc}", holder))
    return answers


def discover(engine: Engine, asker_member_id: int, query: Query, weights: WordWeights,
             holders: Sequence[int | str] | None = None, threshold: float = DEFAULT_THRESHOLD,
             transport: httpx.BaseTransport | None = None) -> list[HolderAnswer]:
    """A blind query to every holder whose offer reaches the asker: this server's (``discover_local``)
    and those of every linked server with a URL (each link's holders listed by that server). Or only
    to ``holders``: member ids or names here, ``name@link`` on a linked server. The answers of the
    holders here come first, then each link's, in the order of the links."""
    if recipient_of(engine, asker_member_id).link:
        raise ForbiddenError("a link's peer does not ask onward: blind queries are its own server's")
    if holders is None:
        local: list[int] = local_holders(engine, asker_member_id)
        remote: dict[str, list[str] | None] = {link.name: None for link in list_links(engine)
                                               if link.status == "active" and link.url}
    else:
        local = []
        remote = {}
        for holder in holders:
            if isinstance(holder, str) and "@" in holder:
                name, _, link_name = holder.rpartition("@")
                if not name or not link_name:
                    raise InvalidInputError(f"holder {holder!r}: a member here, or name@link")
                names = remote.setdefault(link_name, [])
                assert names is not None
                names.append(name)
            else:
                local.append(get_member(engine, holder).id)
    answers = discover_local(engine, asker_member_id, query, weights, local, threshold) if local else []
    links = {link.name: link for link in list_links(engine)}
    for link_name, names in remote.items():
        link = links.get(link_name)
        if link is None:
            raise NotFoundError(f"no link {link_name!r}")
        answers += ask_link(link, query, weights, names, threshold, transport)
    return answers
