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
from jointwatch.screening.score import PARAMS, score_ceilings
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


_NONE = np.empty(0, dtype=np.int64)


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
        self._words: dict[str, tuple[Token, float, np.ndarray, np.ndarray]] = {}
        self._prefixes = {k[:i] for k in sub.postings if len(k) >= MIN_JOINED_KEY for i in range(2, len(k) + 1)}

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
            if not parts:
                found = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
            else:
                # each name once, at the most any of the word's keys adds to it
                names = np.concatenate([p[0] for p in parts]).astype(np.int64)
                bounds = np.repeat(np.asarray([p[1] for p in parts], dtype=np.float64), [len(p[0]) for p in parts])
                order = np.lexsort((-bounds, names))
                names, bounds = names[order], bounds[order]
                first = np.ones(len(names), dtype=bool)
                first[1:] = names[1:] != names[:-1]
                found = (names[first], bounds[first])
            self._reach[token] = found
        return found

    def _joined(self, a: Token, b: Token) -> np.ndarray:
        """Changed names the two words read as one reach."""
        found = self._pairs.get((a, b))
        if found is None and not any(len(k) < 2 or k in self._prefixes for k in a.keys[:3]):
            # a key of two words read as one begins with the first word's key (it is already
            # without doubled letters and a final h): no changed name's key begins so, none is reached
            return _NONE
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

    def _word(self, stored: str) -> tuple[Token, float, np.ndarray, np.ndarray]:
        """A stored word, its weight as written, and the changed names it reaches with their bounds."""
        found = self._words.get(stored)
        if found is None:
            token = self.tokens((stored,))[0]
            found = self._words[stored] = (token, self.sub._both(token)[0], *self._names_of(token))
        return found

    def may_reach(self, customers: list[StoredCustomer], floor: float) -> np.ndarray:
        """For many customers at once, the first half of ``could_reach`` (each changed name's
        ceiling from the summed word bounds, the listed birth dates and countries left aside):
        False where no changed name can reach ``floor``, so ``could_reach`` would be False too.
        Customers without stored words are True. The sums run over (customer, changed name)
        pairs in numpy rather than customer by customer."""
        count = len(customers)
        out = np.zeros(count, dtype=bool)
        totals = np.ones(count)
        extra = np.zeros(count)
        many_words = np.zeros(count, dtype=bool)     # more than one word, no initial: the one-word penalty
        person = np.zeros(count, dtype=bool)
        t_rows: list[int] = []
        t_names: list[np.ndarray] = []
        t_bounds: list[np.ndarray] = []
        t_texts: list[float] = []
        p_rows: list[int] = []
        p_names: list[np.ndarray] = []
        p_bounds: list[float] = []
        for i, c in enumerate(customers):
            if not c.name_keys:
                out[i] = True
                continue
            words = [self._word(s) for s in c.name_keys]
            totals[i] = sum(w[1] for w in words) or 1.0
            extra[i] = (DOB_EXACT if c.birth_date else 0.0) + (COUNTRY_MATCH if (c.nationality or c.country) else 0.0)
            many_words[i] = len(words) > 1 and not any(len(w[0].text) == 1 for w in words)
            person[i] = c.schema == "Person"
            for _, w_text, names, bounds in words:
                if len(names):
                    t_rows.append(i)
                    t_names.append(names)
                    t_bounds.append(bounds)
                    t_texts.append(w_text)
            for a, b in zip(words, words[1:], strict=False):
                names = self._joined(a[0], b[0])
                if len(names):
                    p_rows.append(i)
                    p_names.append(names)
                    p_bounds.append(max(a[1], b[1]))
        if not t_names and not p_names:
            return out
        t_len = [len(n) for n in t_names]
        p_len = [len(n) for n in p_names]
        rows = np.concatenate([np.repeat(np.asarray(t_rows, dtype=np.int64), t_len),
                               np.repeat(np.asarray(p_rows, dtype=np.int64), p_len)])
        names = np.concatenate([*t_names, *p_names]).astype(np.int64)
        bounds = np.concatenate([*t_bounds, np.repeat(np.asarray(p_bounds, dtype=np.float64), p_len)])
        texts = np.concatenate([np.repeat(np.asarray(t_texts, dtype=np.float64), t_len), np.zeros(sum(p_len))])
        width = len(self.sub.names) + 1
        pairs, inverse = np.unique(rows * width + names, return_inverse=True)
        who = pairs // width
        b_arr = np.bincount(inverse, weights=bounds)
        hit_text = np.bincount(inverse, weights=texts)
        hit_words = np.bincount(inverse)
        total = totals[who]
        unhit = np.maximum(total - hit_text, 0.0)
        cover = np.minimum(1.0, b_arr / np.maximum(b_arr + unhit, 1e-9) + BOUND_SLACK)
        weight = b_arr + BOUND_SLACK * total + extra[who]
        ceilings = np.where(person[who], score_ceilings(cover, weight, hit_words, 1, False, person=True),
                            score_ceilings(cover, weight, hit_words, 1, False, person=False))
        ceilings = np.where(many_words[who] & (hit_words == 1), ceilings * PARAMS.one_word, ceilings)
        # a little under the floor: rounding must never drop a customer the exact bound keeps
        keep = np.flatnonzero(ceilings >= floor - 1e-4)
        # then, as ``could_reach`` does, what each such name's entity's birth dates and countries can add
        owners = self.sub.name_owner[pairs[keep] % width].tolist()
        evidence = np.zeros(len(keep))
        factor = np.ones(len(keep))
        allowed_pair = np.ones(len(keep), dtype=bool)
        for j, (k, e_idx) in enumerate(zip(who[keep].tolist(), owners, strict=True)):
            c = customers[k]
            entity = self.sub.entities[e_idx]
            allowed = COMPATIBLE.get(c.schema)
            if allowed is not None and entity.schema not in allowed:
                allowed_pair[j] = False
                continue
            if c.birth_date and (found := birth_date_evidence(c.birth_date, entity.birth_dates)):
                evidence[j], factor[j] = found[0], found[1]
            if (c.nationality or c.country) and entity.countries:
                evidence[j] += COUNTRY_MATCH
        k_who = who[keep]
        weight = b_arr[keep] + BOUND_SLACK * totals[k_who] + evidence
        second = np.where(person[k_who], score_ceilings(cover[keep], weight, hit_words[keep], 1, False, person=True),
                          score_ceilings(cover[keep], weight, hit_words[keep], 1, False, person=False))
        second = np.where(many_words[k_who] & (hit_words[keep] == 1), second * PARAMS.one_word, second) * factor
        out[k_who[allowed_pair & (second >= floor - 1e-4)]] = True
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
