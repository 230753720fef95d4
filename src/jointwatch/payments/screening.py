"""Screening payments: every party name through the one screening engine, every BIC, account
and identifier against the listed identifiers, and the free text for listed names.

A payment is held when anything matches; the decision carries each hit with the listed
entity, its source and reference, the list version, the score and why. Payment flows repeat
the same parties all day, so a name is screened once per screener and remembered (the
cache is keyed by the name as the engine reads it, with the birth date and country that
qualify it); the lists in a screener never change, so a remembered answer stays right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from jointwatch.errors import QueryError
from jointwatch.names import analyze_name
from jointwatch.payments.model import Payment, UnreadMessage
from jointwatch.payments.parties import (
    UNTYPED_ORG_FLOOR,
    ReadParty,
    only_legal_forms,
    organisation_match_holds,
    read_party,
)
from jointwatch.screening import Match, NameMemory, Query, Screener, SharedLabel, normalize_identifier

MAX_CACHE = 500_000
NAME_LIMIT = 5              # matches kept per name (the best ones)
REMITTANCE_FLOOR = 0.8       # free text names no one on purpose: only a whole listed name, read well, counts
MAX_WINDOW = 6               # listed names in free text, looked for in runs of up to this many words
LISTED, PARTICLE, OTHER = 1, 0, -1
MIN_SINGLE_WORD = 5          # a one-word listed name in free text must be this long (HAMAS, not ALI)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)


@dataclass(frozen=True)
class Hit:
    """One reason to hold a payment: a party, bank, account or text that matches a listed entity."""

    role: str                 # debtor, creditor, ultimate_debtor …, debtor_agent …, remittance
    kind: str                 # name, bic, account, identifier, remittance
    value: str                # what the message said
    location: str             # where in the message
    entity_id: str
    source: str
    reference: str            # the list's own id of the listing (QDi.354, 17293)
    caption: str
    listed: str               # the listed name or identifier that matched
    score: float
    list_version: str
    reason: str
    explanation: dict[str, Any] | None = None
    # a partner entry's hit: its originator, TLP, handling codes and version (None for an official list)
    shared: SharedLabel | None = None


@dataclass
class PaymentDecision:
    """pass or hold, for one payment, with the hits behind a hold."""

    position: int
    reference: str
    format: str
    file: str
    decision: str             # pass, hold
    amount: str
    currency: str
    hits: list[Hit] = field(default_factory=list)
    parties: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    message_id: str | None = None     # the group header's MsgId (ISO 20022), where the message has one
    uetr: str | None = None           # the payment's UETR, where the message gives it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScreeningTotals:
    messages: int = 0
    held: int = 0
    passed: int = 0
    errors: int = 0
    names_screened: int = 0   # distinct names sent to the engine (the rest came from the cache)


# a party name as screened: (name, schema as the message gives it, birth date, country)
NameKey = tuple[str, str, str | None, str | None]


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split())


class PaymentScreener:
    """Screens payments with one Screener; holds its own cache of name results."""

    def __init__(self, screener: Screener, threshold: float | None = None, member_id: int | None = None,
                 remittance: bool = True, cache: bool = True) -> None:
        self.screener = screener
        self.threshold = screener.threshold if threshold is None else threshold
        self.member_id = member_id
        self.remittance = remittance
        self.cache_enabled = cache
        self._names: dict[tuple[str, str, str | None, str | None], list[Match]] = {}
        self._orgs: dict[tuple[str, str], list[Match]] = {}
        self._words: dict[str, int] = {}
        self._idents: dict[tuple[str, str], list[tuple[str, int]]] = {}   # identifiers as written → listed
        self._reads: dict[tuple[str, str], ReadParty] = {}
        # a name's work kept for when it comes back in a later batch with other facts (a third of
        # the engine calls of a payment flow: the debtor of one batch is a creditor in the next)
        self.memory = NameMemory() if cache else None
        self.totals = ScreeningTotals()

    # -- names ---------------------------------------------------------------------------

    def cached(self, name: str, schema: str, birth_date: str | None = None, country: str | None = None) -> bool:
        """Whether this party name's matches are in the cache."""
        return (_name_key(name), schema, birth_date, country) in self._names

    def remember(self, name: str, schema: str, birth_date: str | None = None, country: str | None = None, *,
                 found: list[Match], engine_calls: int = 0) -> None:
        """Put a party name's matches, screened elsewhere (a worker process), in the cache."""
        self.totals.names_screened += engine_calls
        if self.cache_enabled:
            if len(self._names) >= MAX_CACHE:
                self._names.clear()
            self._names[(_name_key(name), schema, birth_date, country)] = found

    def organisations_of(self, name: str) -> list[Match] | None:
        """The remembered whole-organisation matches of a bare name, if any (for a worker process)."""
        return self._orgs.get((_name_key(name), "whole-organisation"))

    def remember_organisations(self, name: str, found: list[Match] | None) -> None:
        """Put a bare name's whole-organisation matches, worked out elsewhere, in the cache."""
        if found is not None and self.cache_enabled:
            if len(self._orgs) >= MAX_CACHE:
                self._orgs.clear()
            self._orgs[(_name_key(name), "whole-organisation")] = found

    def screen_name(self, name: str, schema: str, birth_date: str | None = None,
                    country: str | None = None) -> list[Match]:
        """Matches of one party name, read as ``read_party`` says (from the cache when seen before)."""
        key = (_name_key(name), schema, birth_date, country)
        found = self._names.get(key) if self.cache_enabled else None
        if found is None:
            found = self.screen_names([(name, schema, birth_date, country)])[0]
        return found

    def screen_names(self, keys: list[NameKey]) -> list[list[Match]]:
        """``screen_name`` of each key, screened afresh and remembered: the keys of one name (its
        roles' schemas, birth dates and countries) go to the engine together, so the name is
        analysed, retrieved and compared once (``Screener.screen_each``)."""
        reads = [read_party(name, schema) for name, schema, _, _ in keys]
        # (name, schema) as the engine screens it -> the keys' positions and their facts
        calls: dict[tuple[str, str], list[tuple[int, str | None, str | None]]] = {}
        for n, ((name, _, birth_date, country), read) in enumerate(zip(keys, reads, strict=True)):
            if read.schema == "Organization":
                calls.setdefault((read.name, "Organization"), []).append((n, None, country))
            else:
                # a person, or a bare name screened as a person (and as a whole organisation below)
                calls.setdefault((read.name if read.schema == "Person" else name, "Person"), []).append(
                    (n, birth_date, country))
        engine: list[list[Match]] = [[] for _ in keys]
        for (name, schema), facts in calls.items():
            for (n, _, _), found in zip(facts, self._engine_each(name, schema, [(b, c) for _, b, c in facts]),
                                        strict=True):
                engine[n] = found
        out = []
        for (name, schema, birth_date, country), read, found in zip(keys, reads, engine, strict=True):
            if read.schema == "Person":
                found = found[:NAME_LIMIT]
            elif read.schema == "Organization":
                found = [m for m in found if organisation_match_holds(m)][:NAME_LIMIT]
            else:
                # a bare name: as a person, and a listed organisation only by its whole name, scoring high
                floor = max(self.threshold, UNTYPED_ORG_FLOOR)
                best = {m.entity_id: m for m in found}
                for m in self._whole_organisations(name, floor):
                    if m.entity_id not in best or m.score > best[m.entity_id].score:
                        best[m.entity_id] = m
                found = sorted(best.values(), key=lambda m: (-m.score, m.source, m.reference))[:NAME_LIMIT]
            if self.cache_enabled:
                if len(self._names) >= MAX_CACHE:
                    self._names.clear()
                self._names[(_name_key(name), schema, birth_date, country)] = found
            out.append(found)
        return out

    def _read(self, name: str, schema: str) -> ReadParty:
        """``read_party``, remembered (it reads the same words every time)."""
        found = self._reads.get((name, schema))
        if found is None:
            found = read_party(name, schema)
            if len(self._reads) >= MAX_CACHE:
                self._reads.clear()
            self._reads[(name, schema)] = found
        return found

    def _whole_organisations(self, name: str, floor: float) -> list[Match]:
        """Listed organisations a bare name spells in full (but for legal forms), scoring ``floor`` or more. By the name
        alone (an address country is no evidence that a person's name is a company's), so one
        answer serves the name whatever its role and address."""
        key = (_name_key(name), "whole-organisation")
        found = self._orgs.get(key) if self.cache_enabled else None
        if found is None:
            found = [m for m in self._engine(name, "Organization", None, None, floor)
                     if m.score >= floor and only_legal_forms(m.explanation.unmatched_listed)
                     and organisation_match_holds(m)]
            if self.cache_enabled:
                if len(self._orgs) >= MAX_CACHE:
                    self._orgs.clear()
                self._orgs[key] = found
        return found

    def _engine(self, name: str, schema: str, birth_date: str | None, country: str | None,
                threshold: float | None = None) -> list[Match]:
        return self._engine_each(name, schema, [(birth_date, country)], threshold)[0]

    def _engine_each(self, name: str, schema: str, facts: list[tuple[str | None, str | None]],
                     threshold: float | None = None) -> list[list[Match]]:
        """The engine's matches of one name with each (birth date, country), in one engine call."""
        threshold = self.threshold if threshold is None else threshold
        queries = [Query(name=name, schema=schema, birth_date=birth_date if schema == "Person" else None,
                         countries=(country,) if country else ()) for birth_date, country in facts]
        self.totals.names_screened += 1
        try:
            return self.screener.screen_each(queries, threshold, limit=2 * NAME_LIMIT, member_id=self.member_id,
                                             memory=self.memory)
        except QueryError:
            if len(queries) == 1:
                # a birth date or country the engine cannot read still leaves the name to screen
                return [self.screener.screen(Query(name=name, schema=schema), threshold, limit=2 * NAME_LIMIT,
                                             member_id=self.member_id)]
            self.totals.names_screened -= 1
            return [self._engine_each(name, schema, [one], threshold)[0] for one in facts]

    def _word_kind(self, word: str) -> int:
        """LISTED for a word of free text spelled like a word of some listed name, PARTICLE for a
        word names are read without (al, bin, van), else OTHER."""
        found = self._words.get(word)
        if found is None:
            index = self.screener.index
            tokens = analyze_name(word, "LegalEntity").tokens
            if not tokens:
                found = PARTICLE
            else:
                found = LISTED if any(index.lists_word(t.canonical) for t in tokens) else OTHER
            if len(self._words) < MAX_CACHE:
                self._words[word] = found
        return found

    def screen_text(self, lines: list[str]) -> list[tuple[str, Match]]:
        """Listed names in free text: runs of words spelled as listed words (particles such as
        "ben" or "al" may sit between them), screened as names."""
        words = [w for line in lines for w in _WORD.findall(line)]
        hits: dict[str, tuple[str, Match]] = {}
        kinds = [self._word_kind(w.upper()) for w in words]
        for start in range(len(words)):
            if kinds[start] != LISTED:
                continue
            size = 0
            for end in range(start + 1, len(words) + 1):
                if kinds[end - 1] == OTHER:
                    break
                if kinds[end - 1] == PARTICLE:
                    continue      # a run may go on past a particle, but neither starts nor ends on one
                size += 1
                if size > MAX_WINDOW:
                    break
                if size == 1 and len(words[start]) < MIN_SINGLE_WORD:
                    continue
                window = " ".join(words[start:end])
                for match in self.screen_name(window, "LegalEntity"):
                    # every word of the run is part of the listed name, and the name scores high
                    whole = not match.explanation.unmatched_query
                    if whole and match.score >= max(self.threshold, REMITTANCE_FLOOR):
                        held = hits.get(match.entity_id)
                        if held is None or match.score > held[1].score:
                            hits[match.entity_id] = (window, match)
        return list(hits.values())

    # -- identifiers ---------------------------------------------------------------------

    def _identifier_hits(self, role: str, kind: str, value: str, location: str) -> list[Hit]:
        index = self.screener.index
        listed = self._idents.get((kind, value))
        if listed is None:
            candidates = {normalize_identifier(value)}
            if kind == "bic":
                candidates.add(normalize_identifier(value)[:8])   # a listed BIC8 covers all its branches
            listed = [(number, e_idx) for number in candidates for e_idx in index.by_identifier(number)]
            if len(self._idents) >= MAX_CACHE:
                self._idents.clear()
            self._idents[(kind, value)] = listed
        out = []
        for number, e_idx in listed:
            entity = index.entities[e_idx]
            out.append(Hit(role, kind, value, location, entity.entity_id, entity.source, entity.reference,
                           entity.caption, number, 1.0, entity.list_version,
                           f"{kind} {value} is listed for {entity.source} {entity.reference} ({entity.caption})"))
        return out

    # -- payments ------------------------------------------------------------------------

    def screen(self, payment: Payment) -> PaymentDecision:
        """pass or hold, with every hit."""
        hits: list[Hit] = []
        for party in payment.parties:
            if party.name:
                read = self._read(party.name, party.schema)
                for m in self.screen_name(party.name, party.schema, party.birth_date, party.country):
                    hits.append(_name_hit(party.role, "name", party.name, party.location, m, read.why))
            if party.bic:
                hits += self._identifier_hits(party.role, "bic", party.bic, party.location)
            if party.account:
                hits += self._identifier_hits(party.role, "account", party.account.value, party.location)
            for ident in party.identifiers:
                hits += self._identifier_hits(party.role, "identifier", ident, party.location)
        for agent in payment.agents:
            if agent.bic:
                hits += self._identifier_hits(agent.role, "bic", agent.bic, agent.location)
            if agent.name:
                for m in self.screen_name(agent.name, "Organization", None, agent.country):
                    hits.append(_name_hit(agent.role, "name", agent.name, agent.location, m, "a bank"))
        if self.remittance and payment.remittance:
            for window, m in self.screen_text(payment.remittance):
                hits.append(_name_hit("remittance", "remittance", window, "remittance information", m))
        decision = PaymentDecision(
            position=payment.position, reference=payment.reference, format=payment.format, file=payment.source,
            decision="hold" if hits else "pass", amount=str(payment.amount), currency=payment.currency, hits=hits,
            parties=[{"role": p.role, "name": p.name, "country": p.country,
                      "account": p.account.value if p.account else None, "bic": p.bic} for p in payment.parties],
            message_id=payment.message_id, uetr=payment.uetr)
        self.totals.messages += 1
        if hits:
            self.totals.held += 1
        else:
            self.totals.passed += 1
        return decision

    def screen_all(self, items: Iterable[Payment | UnreadMessage]) -> Iterator[PaymentDecision | UnreadMessage]:
        """Each payment's decision, or its read error, in file order."""
        for item in items:
            if isinstance(item, UnreadMessage):
                self.totals.errors += 1
                yield item
            else:
                yield self.screen(item)


def _name_hit(role: str, kind: str, value: str, location: str, m: Match, read_as: str | None = None) -> Hit:
    words = ", ".join(f"{w.query}→{w.listed} ({w.rule})" for w in m.explanation.words)
    how = f"; read as {read_as}" if read_as else ""
    # a partner hit says whose it is and what the originator asks, in the reason a person reads too
    whose = (f" [partner entry of {m.shared.originator}, TLP:{m.shared.tlp.upper()}"
             f"{', handling: ' + ', '.join(m.shared.handling) if m.shared.handling else ''}]" if m.shared else "")
    return Hit(role, kind, value, location, m.entity_id, m.source, m.reference, m.caption, m.name, m.score,
               m.list_version, f"{role} name {value!r} matches {m.source} {m.reference} {m.name!r} "
                               f"({m.score:.2f}: {words}{how}){whose}", asdict(m.explanation), m.shared)
