"""Blind hit/no-hit discovery: does a partner hold this person, without either side showing its list.

A holder member opens an offer (``open_offer``). For each asker and each UTC day it derives
an OPRF key (RFC 9497) from its secret seed and builds a blind index of its restricted
entries (``blind_index``): every matching key of every name (``blind_keys``), birth years
and document numbers, each replaced by the first 16 bytes of F(key, value), grouped by
name, with an opaque token per entry that changes every day. The asker derives the same
values from its query, blinds them, has the holder evaluate them (``evaluate_blinded``:
budgeted per asker per day, padded to a bucket so the count says little of the name),
unblinds and looks them up in the index, then scores what hit (``blind_match``).

What each side learns is written down in docs/blind-discovery.md and tested in
tests/sharing/test_discovery_claims.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import numpy as np
import rbcl

from jointwatch.errors import ForbiddenError, InvalidInputError, NotFoundError
from jointwatch.names import AnalyzedName, Token, analyze_name
from jointwatch.releasability import Recipient, may_discover, tlp_level, today
from jointwatch.screening import Query, Weights
from jointwatch.sharing import oprf
from jointwatch.sharing.blind_keys import QueryKey, document_keys, name_keys, query_keys, year_key, years_of
from jointwatch.sharing.blind_match import DEFAULT_THRESHOLD, NameShape, QueryWords, Scored, score_entries
from jointwatch.sharing.screening import listed_of
from jointwatch.store import (
    Engine,
    Offer,
    Spend,
    StoredEntry,
    all_entry_labels,
    charge,
    get_member,
    get_offer,
    load_entries,
    open_offers,
    recipient_of,
    record,
    set_offer,
)

FORMAT = 1
BUCKETS = (16, 32, 64, 128, 256)    # a query's key count is rounded up to one of these
MAX_KEYS = BUCKETS[-1]
KEPT_BYTES = 16                      # of the 64-byte OPRF output: 128 bits, collisions out of reach
TOKEN_BYTES = 12
ENTRY_PAD = 32                       # the index's entry count is rounded up to a multiple of this
MAX_WORDS_SHOWN = 5                  # a name's word count is shown up to this ("5": five or more)
DEFAULT_DAILY_KEYS = 6400            # about 100 queries of 64 keys per asker per day
DEFAULT_PER_MINUTE = 30
DEFAULT_TLP_MAX = "red"
_KEY_INFO = b"jointwatch blind discovery v1"
NO_OFFER = "no discovery offer from this holder"   # the one answer for every holder an asker cannot ask
NO_TOKEN = "no entry of this holder has that token"  # forged, another asker's, padding or withdrawn since: alike


def epoch_of(when: date | None = None) -> str:
    """The day keys, indexes and tokens belong to (UTC): they all change at midnight."""
    return (when or today()).isoformat()


def asker_label(member_id: int) -> str:
    """How a holder names an asker in its budget and log: the member here (a link's peer member
    for every asker behind that link, so a partner server has one budget, not one per name it sends)."""
    return f"member:{member_id}"


def day_key(offer: Offer, asker: str, epoch: str) -> bytes:
    return oprf.derive_key(offer.seed, b"|".join((_KEY_INFO, asker.encode(), epoch.encode())))


def entry_token(offer: Offer, asker: str, epoch: str, entry_id: int) -> str:
    """An entry's name in one asker's index for one day: unlinkable across askers and days."""
    message = f"token|{asker}|{epoch}|{entry_id}".encode()
    return hmac.new(offer.seed, message, hashlib.sha256).digest()[:TOKEN_BYTES].hex()


# -- the holder's side -------------------------------------------------------------------------

def open_offer(engine: Engine, holder_id: int, daily_keys: int = DEFAULT_DAILY_KEYS,
               per_minute: int = DEFAULT_PER_MINUTE, scope: str = "server", tlp_max: str = DEFAULT_TLP_MAX,
               new_seed: bool = False) -> Offer:
    """Open (or change) ``holder_id``'s offer; ``new_seed`` voids every key and token it gave out."""
    if scope not in ("server", "connected"):
        raise InvalidInputError(f"scope {scope!r} is not one of server, connected")
    if not 1 <= daily_keys <= 10_000_000:
        raise InvalidInputError("daily_keys must be between 1 and 10,000,000")
    if not 1 <= per_minute <= 10_000:
        raise InvalidInputError("per_minute must be between 1 and 10,000")
    return set_offer(engine, holder_id, daily_keys, per_minute, scope, tlp_level(tlp_max), "open", new_seed)


def close_offer(engine: Engine, holder_id: int) -> Offer:
    offer = get_offer(engine, holder_id)
    if offer is None:
        raise NotFoundError("this member has no discovery offer")
    return set_offer(engine, holder_id, offer.daily_keys, offer.per_minute, offer.scope, offer.tlp_max, "closed")


def offer_for(engine: Engine, holder_id: int, recipient: Recipient) -> Offer:
    """The holder's open offer if it reaches ``recipient`` (a link's peer only with scope
    ``connected``); otherwise NotFoundError, as for a holder with no offer at all."""
    offer = get_offer(engine, holder_id)
    if (offer is None or offer.status != "open" or recipient.member_id == holder_id
            or (recipient.link and offer.scope != "connected")):
        raise NotFoundError(NO_OFFER)
    return offer


def discoverable(engine: Engine, offer: Offer, recipient: Recipient, day: date | None = None) -> list[StoredEntry]:
    """The holder's entries its index for ``recipient`` covers (``releasability.may_discover``)."""
    when = day or today()
    ids = [e.id for e in all_entry_labels(engine)
           if may_discover(e.member_id, e.labels, e.status, offer.holder_id, offer.tlp_max, recipient, when)]
    return load_entries(engine, ids)


@dataclass(frozen=True)
class BlindIndex:
    """One holder's index for one asker and one day: keyed values only."""

    holder: str                      # the holder's name, as the asker will see it
    epoch: str
    tokens: tuple[str, ...]          # per entry (padding included)
    shape: NameShape
    postings: dict[bytes, np.ndarray]   # 16-byte value -> name positions

    def to_json(self) -> dict[str, Any]:
        keys = sorted(self.postings)
        return {"format": FORMAT, "holder": self.holder, "epoch": self.epoch,
                "entries": [{"token": t, "birth_year": bool(y)} for t, y in
                            zip(self.tokens, self.shape.has_year.tolist(), strict=True)],
                "names": [[int(e), int(w)] for e, w in zip(self.shape.entry.tolist(), self.shape.words.tolist(),
                                                          strict=True)],
                "keys": base64.b64encode(b"".join(keys)).decode(),
                "postings": [self.postings[k].tolist() for k in keys]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BlindIndex:
        """An index as received from a holder, checked so that a bad one is refused, not half-read."""
        try:
            if data["format"] != FORMAT:
                raise InvalidInputError(f"blind index format {data['format']!r} is not {FORMAT}")
            entries = data["entries"]
            names = np.asarray(data["names"], dtype=np.int64).reshape(-1, 2)
            raw = base64.b64decode(data["keys"], validate=True)
            postings = data["postings"]
            if len(raw) != KEPT_BYTES * len(postings):
                raise InvalidInputError("blind index: keys and postings differ in number")
            n_names = len(names)
            if n_names and (names[:, 0].min() < 0 or names[:, 0].max() >= len(entries)):
                raise InvalidInputError("blind index: a name points at no entry")
            if n_names and (names[:, 1].min() < 1 or names[:, 1].max() > MAX_WORDS_SHOWN):
                raise InvalidInputError(f"blind index: a name's word count is not 1 to {MAX_WORDS_SHOWN}")
            table: dict[bytes, np.ndarray] = {}
            for i, names_of in enumerate(postings):
                arr = np.asarray(names_of, dtype=np.int64)
                if arr.ndim != 1 or (arr.size and (arr.min() < 0 or arr.max() >= n_names)):
                    raise InvalidInputError("blind index: a key points at no name")
                table[raw[i * KEPT_BYTES:(i + 1) * KEPT_BYTES]] = arr
            shape = NameShape(names[:, 0].copy(), names[:, 1].copy(),
                              np.asarray([bool(e["birth_year"]) for e in entries], dtype=bool))
            tokens = tuple(e["token"] for e in entries)
            if not all(isinstance(t, str) and _HEX_TOKEN.fullmatch(t) for t in tokens):
                raise InvalidInputError("blind index: a token is not hexadecimal")
            return cls(str(data["holder"]), str(data["epoch"]), tokens, shape, table)
        # OverflowError: a number past int64, which a peer may send to fail our whole query
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError(f"blind index: malformed ({exc})") from exc


_HEX_TOKEN = re.compile(r"[0-9a-f]{8,64}")   # what a request accepts as a token (sharing.requests)
_CACHE: dict[tuple[str, int, str, str, tuple[tuple[int, int], ...]], BlindIndex] = {}
_CACHE_LOCK = threading.Lock()


def blind_index(engine: Engine, holder_id: int, asker_member_id: int, day: date | None = None) -> BlindIndex:
    """``holder_id``'s blind index for ``asker_member_id`` today (NotFoundError without an offer
    reaching it). Built once per asker, day and content; kept in memory."""
    recipient = recipient_of(engine, asker_member_id)
    offer = offer_for(engine, holder_id, recipient)
    epoch = epoch_of(day)
    entries = discoverable(engine, offer, recipient, day)
    cache_key = (str(engine.url), holder_id, asker_label(asker_member_id), epoch + offer.seed.hex()[:8],
                 tuple((e.id, e.version) for e in entries))
    with _CACHE_LOCK:
        cached = _CACHE.get(cache_key)
    if cached is not None:
        return cached
    index = build_index(offer, get_member(engine, holder_id).name, asker_label(asker_member_id), epoch, entries)
    with _CACHE_LOCK:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[cache_key] = index
    return index


def build_index(offer: Offer, holder: str, asker: str, epoch: str, entries: list[StoredEntry]) -> BlindIndex:
    """The index itself (no store): names' keys, years and documents, evaluated with the day's key.
    Padded with entries of random values, so its size says little of the list's."""
    key = day_key(offer, asker, epoch)
    tokens: list[str] = []
    has_year: list[bool] = []
    name_entry: list[int] = []
    name_words: list[int] = []
    values: dict[str, list[int]] = {}
    for entry in entries:
        listed = listed_of(entry)
        if listed is None:
            continue
        e = len(tokens)
        tokens.append(entry_token(offer, asker, epoch, entry.id))
        years = years_of(listed.birth_dates)
        has_year.append(bool(years))
        first = len(name_entry)
        for name in listed.names:
            n = len(name_entry)
            name_entry.append(e)
            name_words.append(min(MAX_WORDS_SHOWN, max(1, len(name.tokens))))
            for value in name_keys(name):
                values.setdefault(value, []).append(n)
        own = range(first, len(name_entry))
        for value in [*map(year_key, years), *document_keys(listed.identifiers)]:
            values.setdefault(value, []).extend(own)
    postings = {oprf.evaluate(key, v.encode())[:KEPT_BYTES]: np.asarray(sorted(set(ns)), dtype=np.int64)
                for v, ns in values.items()}
    real = len(tokens)
    keys_per_entry = max(1, len(postings) // max(1, real))
    pad_to = -(-max(real, 1) // ENTRY_PAD) * ENTRY_PAD
    # padding drawn from the seed, not at random: the same asker, day and entries give the same
    # index on every build (cache emptied, another worker, a restart), else a diff of two fetches
    # would keep the real entries and drop the padding
    pad = _padding(offer, asker, epoch)
    rng = np.random.default_rng(int.from_bytes(pad("order", 8), "big"))
    for i in range(real, pad_to):
        e = len(tokens)
        tokens.append(pad(f"token|{i}", TOKEN_BYTES).hex())
        has_year.append(bool(rng.random() < 0.5))
        n = len(name_entry)
        name_entry.append(e)
        name_words.append(int(rng.integers(2, MAX_WORDS_SHOWN + 1)))
        for j in range(keys_per_entry):
            postings[pad(f"value|{i}|{j}", KEPT_BYTES)] = np.asarray([n], dtype=np.int64)
    # the entries' order would tell which are padding (and the store's order): shuffle it
    order = rng.permutation(len(tokens))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    shape = NameShape(position[np.asarray(name_entry, dtype=np.int64)] if name_entry else np.empty(0, np.int64),
                      np.asarray(name_words, dtype=np.int64),
                      np.asarray(has_year, dtype=bool)[order])
    return BlindIndex(holder, epoch, tuple(tokens[i] for i in order), shape, postings)


def _padding(offer: Offer, asker: str, epoch: str) -> Callable[[str, int], bytes]:
    """Padding bytes for one asker's index of one day, from the holder's seed: as unpredictable
    as random ones to the asker, the same at every build."""
    def draw(label: str, size: int) -> bytes:
        return hmac.new(offer.seed, f"padding|{asker}|{epoch}|{label}".encode(), hashlib.sha256).digest()[:size]
    return draw


def evaluate_blinded(engine: Engine, holder_id: int, asker_member_id: int, elements: list[bytes],
                     now: datetime | None = None) -> tuple[list[bytes], Spend]:
    """The holder's step of a blind query: its day key times each element, after charging the
    asker's budget (LimitReachedError, 429, when spent; nothing evaluated). The count must be
    one of BUCKETS. The holder learns who asked, when and how many; the elements say nothing."""
    if len(elements) not in BUCKETS:
        raise InvalidInputError(f"a blind query has {', '.join(map(str, BUCKETS))} elements, not {len(elements)}")
    try:
        checked = [oprf.check_element(e) for e in elements]
    except oprf.OprfError as exc:
        raise InvalidInputError(f"blind query: {exc}") from exc
    recipient = recipient_of(engine, asker_member_id)
    offer = offer_for(engine, holder_id, recipient)
    when = now or datetime.now(UTC)
    spend = charge(engine, offer, asker_label(asker_member_id), len(checked), when)
    key = day_key(offer, asker_label(asker_member_id), epoch_of(when.date()))
    return [oprf.blind_evaluate(key, e) for e in checked], spend


def note_answered(engine: Engine, holder_id: int, asker: str, keys: int, refused: bool) -> None:
    """The holder's own audit row for one evaluation of a blind query: who asked and how many
    keys, never what (the API's and the console's one way to file it)."""
    record(engine, holder_id, "blind-discovery", "discovery.answered", 429 if refused else 200,
           result_summary=f"blind query from {asker}: {keys} keys, {'refused' if refused else 'evaluated'}")


def entry_of_token(engine: Engine, holder_id: int, asker_member_id: int, epoch: str, token: str) -> StoredEntry:
    """The holder's entry behind a token it gave ``asker_member_id`` on ``epoch`` (for a request
    for information); NotFoundError for a token it never gave that asker that day."""
    recipient = recipient_of(engine, asker_member_id)
    offer = offer_for(engine, holder_id, recipient)
    try:
        date.fromisoformat(epoch)
    except ValueError as exc:
        raise InvalidInputError(f"epoch {epoch!r} is not a date") from exc
    asker = asker_label(asker_member_id)
    for entry in load_entries(engine, [e.id for e in all_entry_labels(engine) if e.member_id == holder_id]):
        if hmac.compare_digest(entry_token(offer, asker, epoch, entry.id), token):
            if entry.status != "active":
                break       # a withdrawn entry's token answers as one never given: the asker learns no withdrawal
            return entry
    raise NotFoundError(NO_TOKEN)


# -- the asker's side --------------------------------------------------------------------------

@dataclass
class BlindQuery:
    """An asker's query, blinded: what goes to the holder is ``elements`` (padded to a bucket)."""

    keys: list[QueryKey]
    blinds: list[bytes]
    elements: list[bytes]
    weights: list[float]
    words: list[str]
    asked_year: bool
    dropped: int = 0                 # keys left out: the query had more than MAX_KEYS
    outputs: dict[bytes, QueryKey] = field(default_factory=dict)
    profile: QueryWords | None = None    # the words as the scorer needs them (blind_match.QueryWords)


def bucket_of(count: int) -> int:
    return next((b for b in BUCKETS if b >= count), MAX_KEYS)


class WordWeights(Protocol):
    """How much each word proves: the official screening index (``ScreeningIndex``) is one.
    The asker weighs its words as plaintext screening does, as written (``weight``) and by
    skeleton alone (``weights_of``), so a blind score means what a screening score means."""

    def weight(self, token: Token) -> float: ...

    def weights_of(self, name: AnalyzedName) -> Weights: ...


def prepare(query: Query, weights: WordWeights, name: AnalyzedName | None = None) -> BlindQuery:
    """Derive, blind and pad the keys of ``query``, weighing its words with ``weights``."""
    analyzed = name or analyze_name(query.name)
    if not analyzed.tokens:
        raise InvalidInputError("the name has no word to look for")
    years = years_of([query.birth_date] if query.birth_date else [])
    keys = query_keys(analyzed, years, query.id_numbers)
    dropped = max(0, len(keys) - MAX_KEYS)
    keys = keys[:MAX_KEYS]
    blinds, elements = [], []
    for key in keys:
        r, element = oprf.blind(key.value.encode())
        blinds.append(r)
        elements.append(element)
    # padding: random group elements, which the holder cannot tell from blinded values
    elements += [rbcl.crypto_core_ristretto255_random() for _ in range(bucket_of(len(keys)) - len(keys))]
    text = [weights.weight(t) for t in analyzed.tokens]
    profile = QueryWords.of(analyzed.tokens, text, weights.weights_of(analyzed).key)
    return BlindQuery(keys, blinds, elements, text, [t.original for t in analyzed.tokens], bool(years), dropped,
                      profile=profile)


def finish(query: BlindQuery, evaluated: list[bytes]) -> BlindQuery:
    """Take the blinds off the holder's answer (the padding's answers are dropped)."""
    if len(evaluated) != len(query.elements):
        raise InvalidInputError(f"the holder answered {len(evaluated)} elements for {len(query.elements)}")
    try:
        query.outputs = {oprf.finalize(k.value.encode(), r, e)[:KEPT_BYTES]: k
                         for k, r, e in zip(query.keys, query.blinds, evaluated, strict=False)}
    except oprf.OprfError as exc:
        raise InvalidInputError(f"the holder's answer: {exc}") from exc
    return query


@dataclass(frozen=True)
class BlindHit:
    """What the asker learns of one hit: the holder, the entry's token for today (to request
    it), the strength, and which kinds of key agreed, in its own words."""

    holder: str
    token: str
    epoch: str
    strength: float
    agreed: tuple[str, ...]
    words: tuple[str, ...]

    @property
    def hit(self) -> str:
        """The hit in one word, for a request: ``HOLDER:EPOCH:TOKEN`` (``read_hit`` splits it)."""
        return f"{self.holder}:{self.epoch}:{self.token}"

    def to_dict(self) -> dict[str, Any]:
        return {"holder": self.holder, "token": self.token, "epoch": self.epoch, "strength": self.strength,
                "agreed": list(self.agreed), "words": list(self.words), "hit": self.hit}


def read_hit(text: str) -> tuple[str, str, str]:
    """(holder, epoch, token) of a hit written as ``BlindHit.hit``: the holder's name may hold
    colons, the day and the token do not."""
    parts = text.strip().rsplit(":", 2)
    if len(parts) != 3 or not all(parts):
        raise InvalidInputError(f"a hit is written HOLDER:YYYY-MM-DD:TOKEN, not {text[:100]!r}")
    holder, epoch, token = parts
    try:
        date.fromisoformat(epoch)
    except ValueError as exc:
        raise InvalidInputError(f"a hit is written HOLDER:YYYY-MM-DD:TOKEN; {epoch[:20]!r} is not a day") from exc
    return holder, epoch, token


def look_up(query: BlindQuery, index: BlindIndex, threshold: float = DEFAULT_THRESHOLD) -> list[BlindHit]:
    """The hits at the holder whose index this is (an empty list: no hit)."""
    found = [(k, index.postings[o]) for o, k in query.outputs.items() if o in index.postings]
    scored: list[Scored] = score_entries(found, query.profile or query.weights, index.shape, query.asked_year,
                                         threshold)
    return [BlindHit(index.holder, index.tokens[s.entry], index.epoch, s.score, s.agreed,
                     tuple(query.words[i] for i in s.words)) for s in scored]


# -- both sides in one process (members of one server) ----------------------------------------

@dataclass(frozen=True)
class HolderAnswer:
    """One holder's answer to one blind query, as the asker sees it."""

    holder: str
    holder_id: int | None            # None for a holder on another server
    hits: tuple[BlindHit, ...]
    keys: int                        # elements sent (the bucket)
    spent: int                       # of the day's budget at this holder, after this query
    budget: int
    refused: str | None = None       # why the holder refused (budget spent, rate), if it did

    def to_dict(self) -> dict[str, Any]:
        # fail closed: a holder that did not answer (refused, unreachable) has no hit/no-hit, only null
        return {"holder": self.holder, "hit": None if self.refused else bool(self.hits),
                "hits": [h.to_dict() for h in self.hits],
                "keys": self.keys, "spent": self.spent, "budget": self.budget, "refused": self.refused}


def local_holders(engine: Engine, asker_member_id: int) -> list[int]:
    """The members of this server whose open offers reach ``asker_member_id``."""
    recipient = recipient_of(engine, asker_member_id)
    out = []
    for offer in open_offers(engine):
        try:
            offer_for(engine, offer.holder_id, recipient)
        except NotFoundError:
            continue
        out.append(offer.holder_id)
    return out


def discover_local(engine: Engine, asker_member_id: int, query: Query, weights: WordWeights,
                   holders: list[int] | None = None, threshold: float = DEFAULT_THRESHOLD) -> list[HolderAnswer]:
    """A blind query to every holder on this server whose offer reaches the asker (or to
    ``holders``), each through the same steps as between servers: prepare, evaluate, finish, look up."""
    from jointwatch.errors import LimitReachedError  # noqa: PLC0415

    answers: list[HolderAnswer] = []
    for holder_id in holders if holders is not None else local_holders(engine, asker_member_id):
        if holder_id == asker_member_id:
            raise ForbiddenError("a member does not ask itself")
        when = datetime.now(UTC)   # one day for the index, the key and the charge, even across midnight
        index = blind_index(engine, holder_id, asker_member_id, when.date())
        blinded = prepare(query, weights)
        name = index.holder
        try:
            evaluated, spend = evaluate_blinded(engine, holder_id, asker_member_id, blinded.elements, when)
        except LimitReachedError as exc:
            # the spend as the holder counts it, so that both sides see the same number
            from jointwatch.store import spend_of  # noqa: PLC0415

            offer = offer_for(engine, holder_id, recipient_of(engine, asker_member_id))
            spent = sum(s.keys for s in spend_of(engine, epoch_of(when.date()), holder_id,
                                                 asker_label(asker_member_id)))
            answers.append(HolderAnswer(name, holder_id, (), len(blinded.elements), spent, offer.daily_keys,
                                        str(exc)))
            continue
        hits = look_up(finish(blinded, evaluated), index, threshold)
        answers.append(HolderAnswer(name, holder_id, tuple(hits), len(blinded.elements), spend.keys,
                                    spend.daily_keys))
    return answers
