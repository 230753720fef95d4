"""Finding the customers a list change can concern, without screening the whole base again.

The changed entities make a small index weighed with the whole register's word weights
(``ChangedIndex``), so a customer's score on one of them is exactly what the full index gives.
Each customer's analysed words are stored by the run that screened them (``name_tokens``);
per distinct word, the changed names it reaches and the most it can add are worked out once,
and summed per customer they bound every changed name's score ceiling (``ChangedBound``). Only
customers above that bound are screened against the small index (``may_match_changed``), and
only those it finds, by the caller, against the full one.
"""

from __future__ import annotations

import numpy as np

from jointwatch.errors import QueryError
from jointwatch.names import AnalyzedName, Token
from jointwatch.names.keys import joined_keys
from jointwatch.screening.index import BOUND_SLACK, MIN_JOINED_KEY, NEAR_SIMILARITY, TEXT, ScreeningIndex
from jointwatch.screening.model import COMPATIBLE, Listed, Query
from jointwatch.screening.qualifiers import COUNTRY_MATCH, DOB_EXACT
from jointwatch.screening.qualifiers import _birth_date as birth_date_evidence
from jointwatch.screening.score import score_ceilings
from jointwatch.screening.screener import Screener
from jointwatch.store.customers import StoredCustomer


def name_tokens(name: AnalyzedName) -> tuple[str, ...]:
    """The analysed words of a name as stored with the customer ("text|canonical|keys|flags"),
    so a delta run reads them back instead of analysing a million names again."""
    return tuple(f"{t.text}|{t.canonical}|{','.join(t.keys)}|{int(t.native)}{int(t.known)}" for t in name.tokens)


def token_of(stored: str) -> Token:
    """A word stored by ``name_tokens``, as the engine's Token (its spelling as written is not kept)."""
    text, canonical, keys, flags = stored.split("|")
    return Token(text, canonical, tuple(k for k in keys.split(",") if k), text, flags[0] == "1", flags[1] == "1")


def customer_query(c: StoredCustomer) -> Query:
    """The customer as the engine's query (birth date, nationalities and country as evidence)."""
    countries = tuple(v for v in [*(c.nationality or "").split(";"), c.country or ""] if v)
    return Query(name=c.name, schema=c.schema, birth_date=c.birth_date, countries=countries, id=c.ref)


class ChangedIndex(ScreeningIndex):
    """The changed entities only, weighed with the whole register's word weights: a customer's
    score on one of their names is exactly what the full index computes for it, and a name the
    full index retrieves among its best candidates this one retrieves too (it ranks names by the
    same weights, among fewer of them)."""

    def __init__(self, entities: list[Listed], full: ScreeningIndex) -> None:
        self._full = full
        super().__init__(entities)

    def _both(self, token: Token) -> tuple[float, float]:
        return self._full._both(token)


def changed_screener(entities: list[Listed], full: Screener) -> Screener:
    """A screener over the changed entities alone (no whitelist: it must find a superset)."""
    return Screener(ChangedIndex(entities, full.index), full.threshold)


class ChangedBound:
    """The score ceiling each changed entity's name can have for a customer, from their stored
    words alone, computed from the word's side: per distinct word, the changed names retrieval
    reaches through it (spelling, skeleton key, key one edit away) and the most it adds to each;
    per pair of adjacent words, the names their joined key reaches. Summed per name, these give
    at least what retrieval gives (``ScreeningIndex.retrieve_arrays``: each word counts once per
    name, adjacent words read as one add the larger weight) and so a ceiling (``score_ceilings``)
    at least the engine's: a customer under it for every changed name cannot match one."""

    def __init__(self, sub: ScreeningIndex) -> None:
        self.sub = sub
        self._tokens: dict[str, Token] = {}
        self._reach: dict[Token, tuple[np.ndarray, np.ndarray]] = {}
        self._pairs: dict[tuple[Token, Token], np.ndarray] = {}

    def _names_of(self, token: Token) -> tuple[np.ndarray, np.ndarray]:
        """Changed names this word reaches, and the most it adds to each one's matched weight."""
        found = self._reach.get(token)
        if found is None:
            postings = self.sub.postings
            w_text, w_key = self.sub._both(token)
            parts: list[tuple[np.ndarray, float]] = []
            if not token.native and (TEXT + token.canonical) in postings:
                parts.append((postings[TEXT + token.canonical], w_text))
            exact = {k for k in token.keys if k in postings}
            parts += [(postings[k], max(w_key, NEAR_SIMILARITY * w_text)) for k in exact]
            near = {n for k in token.keys for n in self.sub.near_keys(k)} - exact
            parts += [(postings[k], NEAR_SIMILARITY * w_text) for k in near]
            best: dict[int, float] = {}
            for names, bound in parts:
                for n in names.tolist():
                    if best.get(n, -1.0) < bound:
                        best[n] = bound
            found = (np.fromiter(best.keys(), dtype=np.int64, count=len(best)),
                     np.fromiter(best.values(), dtype=np.float64, count=len(best)))
            self._reach[token] = found
        return found

    def _joined(self, a: Token, b: Token) -> np.ndarray:
        """Changed names the two words read as one reach."""
        found = self._pairs.get((a, b))
        if found is None:
            postings = self.sub.postings
            hits = [postings[k] for k in joined_keys(a.keys, b.keys) if len(k) >= MIN_JOINED_KEY and k in postings]
            found = np.unique(np.concatenate(hits)).astype(np.int64) if hits else np.empty(0, dtype=np.int64)
            if len(self._pairs) < 1_000_000:
                self._pairs[(a, b)] = found
        return found

    def tokens(self, stored: tuple[str, ...]) -> list[Token]:
        out = []
        for s in stored:
            token = self._tokens.get(s)
            if token is None:
                token = self._tokens[s] = token_of(s)
            out.append(token)
        return out

    def could_reach(self, c: StoredCustomer, floor: float) -> bool:
        """False when no changed entity's name can have a ceiling of ``floor`` for this customer."""
        tokens = self.tokens(c.name_keys)
        if not tokens:
            return True
        weights = [self.sub._both(t)[0] for t in tokens]
        total = sum(weights) or 1.0
        names: list[np.ndarray] = []
        bounds: list[np.ndarray] = []
        texts: list[float] = []
        lengths: list[int] = []
        for token, w_text in zip(tokens, weights, strict=True):
            n, b = self._names_of(token)
            if len(n):
                names.append(n)
                bounds.append(b)
                texts.append(w_text)
                lengths.append(len(n))
        for i in range(len(tokens) - 1):
            n = self._joined(tokens[i], tokens[i + 1])
            if len(n):
                names.append(n)
                bounds.append(np.full(len(n), max(weights[i], weights[i + 1])))
                texts.append(0.0)
                lengths.append(len(n))
        if not names:
            return False
        uniq, inverse = np.unique(np.concatenate(names), return_inverse=True)
        b_arr = np.bincount(inverse, weights=np.concatenate(bounds))
        hit_text = np.bincount(inverse, weights=np.repeat(np.asarray(texts), lengths))
        hit_words = np.bincount(inverse)
        unhit = np.maximum(total - hit_text, 0.0)
        cover = np.minimum(1.0, b_arr / np.maximum(b_arr + unhit, 1e-9) + BOUND_SLACK)
        extra = (DOB_EXACT if c.birth_date else 0.0) + (COUNTRY_MATCH if (c.nationality or c.country) else 0.0)
        initials = any(len(t.text) == 1 for t in tokens)
        names_list = uniq.tolist()
        person = c.schema == "Person"
        ceilings = score_ceilings(cover, b_arr + BOUND_SLACK * total + extra, hit_words, len(tokens), initials,
                                  person=person)
        passing = np.flatnonzero(ceilings >= floor - 1e-6).tolist()
        if not passing:
            return False
        # the birth date and country of each such name's entity: what they can add, or take away
        allowed = COMPATIBLE.get(c.schema)
        for i in passing:
            entity = self.sub.entities[int(self.sub.name_owner[names_list[i]])]
            if allowed is not None and entity.schema not in allowed:
                continue
            evidence, factor = 0.0, 1.0
            if c.birth_date and (found := birth_date_evidence(c.birth_date, entity.birth_dates)):
                evidence, factor = found[0], found[1]
            if (c.nationality or c.country) and entity.countries:
                evidence += COUNTRY_MATCH
            ceiling = score_ceilings(cover[i:i + 1], b_arr[i:i + 1] + BOUND_SLACK * total + evidence,
                                     hit_words[i:i + 1], len(tokens), initials, person=person)[0] * factor
            if ceiling >= floor - 1e-6:
                return True
        return False


def may_match_changed(c: StoredCustomer, sub: Screener, bound: ChangedBound, floor: float) -> bool:
    """Whether the full engine could score the customer at ``floor`` or more on a changed entity:
    the cheap bound first, then the customer screened against the changed entities alone, with
    the full register's weights."""
    if not len(sub.index.entities) or not bound.could_reach(c, floor):
        return False
    try:
        return bool(sub.screen(customer_query(c), floor, limit=1))
    except QueryError:
        return True   # cannot tell: screen in full (which will report the same error)
