"""Which subjects a few listed entities could match, without screening every subject again.

After a list changes, only the subjects (customers) that a changed entity could score at the
threshold need screening again. ``Reach`` answers that for many subjects at once from their
analysed words alone, by the same arithmetic the screener uses to skip names unscored: the
same retrieval (``ScreeningIndex.word_postings``, ``joined_postings``, ``retrieval_bounds``),
the same score ceilings (``score.score_ceilings``) and the same evidence from the facts
(``qualifiers.evidence_ceiling``, ``facts_ceiling``), with the same ``ScoringConfig``. A change
to any of them moves the screener and this bound together, so a subject is never skipped that
a full screening would alert (tests/screening/test_reach.py checks it on the real lists).

    reach = Reach(screener.subset(changed_entities))
    again = reach.may_reach([Subject(query, words) for ...], screener.threshold)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from jointwatch.errors import QueryError
from jointwatch.names import Token
from jointwatch.screening.index import MIN_JOINED_KEY, retrieval_bounds
from jointwatch.screening.model import Query, compatible
from jointwatch.screening.qualifiers import evidence_ceiling, facts_ceiling
from jointwatch.screening.score import one_word_rule_applies, score_ceilings
from jointwatch.screening.screener import Screener

_NONE = np.empty(0, dtype=np.int64)
# a little under the threshold: float rounding must never drop a subject the exact bound keeps
_MANY_MARGIN = 1e-4
_ONE_MARGIN = 1e-6


class Subject(NamedTuple):
    """A subject to bound: the query screening would run, and its name's analysed words
    (``analyze_name(query.name, query.schema).tokens``, or as stored by an earlier run)."""

    query: Query
    words: tuple[Token, ...]


def _year(query: Query) -> float:
    """The subject's birth year, NaN when it has none that can be read as a year."""
    date = query.birth_date or ""
    return float(date[:4]) if len(date) >= 4 and date[:4].isdigit() else np.nan


class Reach:
    """Which subjects could score the threshold on one of a screener's entities (usually a
    small screener over the changed entities: ``Screener.subset``). ``may_reach`` and
    ``could_reach`` say False only where the screener surely finds nothing; ``may_match``
    then screens the subject against the small screener to be sure."""

    def __init__(self, screener: Screener) -> None:
        self.screener = screener
        self.index = screener.index
        self.config = screener.config
        self._reach: dict[Token, tuple[np.ndarray, np.ndarray]] = {}
        self._pairs: dict[tuple[Token, Token], np.ndarray] = {}
        self._begins: dict[Token, bool] = {}
        self._prefixes = {k[:i] for k in self.index.postings if len(k) >= MIN_JOINED_KEY
                          for i in range(2, len(k) + 1)}

    def _names_of(self, token: Token) -> tuple[np.ndarray, np.ndarray]:
        """Names this word reaches, and the most it adds to each one's matched weight."""
        found = self._reach.get(token)
        if found is None:
            parts = self.index.word_postings(token)
            if not parts:
                found = (_NONE, np.empty(0, dtype=np.float64))
            else:
                # each name once, at the most any of the word's keys adds to it
                names = np.concatenate([p[0] for p in parts]).astype(np.int64)
                bounds = np.repeat(np.asarray([p[2] for p in parts], dtype=np.float64), [len(p[0]) for p in parts])
                order = np.lexsort((-bounds, names))
                names, bounds = names[order], bounds[order]
                first = np.ones(len(names), dtype=bool)
                first[1:] = names[1:] != names[:-1]
                found = (names[first], bounds[first])
            if len(self._reach) < 1_000_000:
                self._reach[token] = found
        return found

    def _joined(self, a: Token, b: Token) -> np.ndarray:
        """Names the two words read as one reach."""
        found = self._pairs.get((a, b))
        if found is None and not self._may_begin_joined(a):
            return _NONE
        if found is None:
            hits = self.index.joined_postings(a, b)
            found = np.unique(np.concatenate(hits)).astype(np.int64) if hits else _NONE
            if len(self._pairs) < 1_000_000:
                self._pairs[(a, b)] = found
        return found

    def _may_begin_joined(self, a: Token) -> bool:
        """Whether some listed name's key may begin with this word's: a key of two words read as
        one begins with the first word's key (it is already without doubled letters and a final
        h). Kept per word: most subjects' words begin none."""
        held = self._begins.get(a)
        if held is None:
            held = any(len(k) < 2 or k in self._prefixes for k in a.keys[:3])
            if len(self._begins) < 1_000_000:
                self._begins[a] = held
        return held

    def reaches(self, token: Token) -> bool:
        """Whether this word can bring any name within reach, alone or as the first of two
        words read as one: a subject none of whose words does is reached by nothing."""
        return bool(len(self._names_of(token)[0])) or self._may_begin_joined(token)

    def _hits(self, words: Sequence[Token]) -> tuple[list[np.ndarray], list[np.ndarray], list[float]]:
        """Per word and per adjacent pair that reaches names: (names, bounds, weight as written)."""
        names: list[np.ndarray] = []
        bounds: list[np.ndarray] = []
        texts: list[float] = []
        for token in words:
            n, b = self._names_of(token)
            if len(n):
                names.append(n)
                bounds.append(b)
                texts.append(self.index.weight(token))
        for first, second in zip(words, words[1:], strict=False):
            n = self._joined(first, second)
            if len(n):
                names.append(n)
                bounds.append(np.full(len(n), self.index.joined_weight(first, second)))
                texts.append(0.0)
        return names, bounds, texts

    def _allowed(self, query: Query, name: int) -> tuple[bool, float, float]:
        """Whether the name's entity may match the query, and (evidence, factor) its facts bring."""
        entity = self.index.entities[int(self.index.name_owner[name])]
        if not compatible(query.schema, entity.schema):
            return False, 0.0, 1.0
        return True, *facts_ceiling(query, entity, self.config)

    def may_reach(self, subjects: Sequence[Subject], threshold: float) -> np.ndarray:
        """For many subjects at once, False where no name can reach ``threshold`` (nor then
        could ``could_reach`` say True); subjects without words are True. The ceilings are
        worked out over (subject, name) pairs in numpy rather than subject by subject: first
        with the most any facts can add, then, for the names still above, with what their
        entity's birth dates and countries can add or take away."""
        count = len(subjects)
        out = np.zeros(count, dtype=bool)
        totals = np.ones(count)
        additions = np.zeros(count)
        extra = np.zeros(count)
        one_word = np.zeros(count, dtype=bool)
        person = np.zeros(count, dtype=bool)
        years = np.full(count, np.nan)
        rows: list[int] = []
        names: list[np.ndarray] = []
        bounds: list[np.ndarray] = []
        texts: list[float] = []
        for i, (query, words) in enumerate(subjects):
            if not words:
                out[i] = True
                continue
            n, b, t = self._hits(words)
            if not n:
                continue   # most subjects: no word reaches a changed name, nothing else to work out
            totals[i] = sum(self.index.weight(t) for t in words) or 1.0
            extra[i] = evidence_ceiling(query, self.config)
            one_word[i] = one_word_rule_applies(words)
            person[i] = query.schema == "Person"
            additions[i] = self.index.addition_weight(words)
            years[i] = _year(query)
            rows += [i] * len(n)
            names += n
            bounds += b
            texts += t
        if not names:
            return out
        lengths = [len(n) for n in names]
        row = np.repeat(np.asarray(rows, dtype=np.int64), lengths)
        width = len(self.index.names) + 1
        pairs, inverse = np.unique(row * width + np.concatenate(names), return_inverse=True)
        who = pairs // width
        bound = np.bincount(inverse, weights=np.concatenate(bounds))
        hit_text = np.bincount(inverse, weights=np.repeat(np.asarray(texts), lengths))
        hit_words = np.bincount(inverse)
        cover, weight = retrieval_bounds(bound, hit_text, totals[who], hit_words, person[who], additions[who])
        ceilings = score_ceilings(cover, weight + extra[who], hit_words, one_word[who], person[who], self.config)
        keep = np.flatnonzero(ceilings >= threshold - _MANY_MARGIN)
        # a birth date years off every listed one scales the score down: that bound in numpy, over
        # the pairs, before each pair's facts are weighed one by one below
        owners = self.index.name_owner[pairs[keep] % width]
        keep = keep[ceilings[keep] * self.screener.birth_year_factors(owners, years[who[keep]], self.config)
                    >= threshold - _MANY_MARGIN]
        evidence = np.zeros(len(keep))
        factor = np.ones(len(keep))
        allowed = np.ones(len(keep), dtype=bool)
        for j, (k, name) in enumerate(zip(who[keep].tolist(), (pairs[keep] % width).tolist(), strict=True)):
            allowed[j], evidence[j], factor[j] = self._allowed(subjects[k].query, name)
        k_who = who[keep]
        second = score_ceilings(cover[keep], weight[keep] + evidence, hit_words[keep], one_word[k_who],
                                person[k_who], self.config) * factor
        out[k_who[allowed & (second >= threshold - _MANY_MARGIN)]] = True
        return out

    def could_reach(self, subject: Subject, threshold: float) -> bool:
        """False when no name can have a ceiling of ``threshold`` for this subject."""
        query, words = subject
        if not words:
            return True
        names, bounds, texts = self._hits(words)
        if not names:
            return False
        lengths = [len(n) for n in names]
        uniq, inverse = np.unique(np.concatenate(names), return_inverse=True)
        bound = np.bincount(inverse, weights=np.concatenate(bounds))
        hit_text = np.bincount(inverse, weights=np.repeat(np.asarray(texts), lengths))
        hit_words = np.bincount(inverse)
        total = sum(self.index.weight(t) for t in words) or 1.0
        one_word, person = one_word_rule_applies(words), query.schema == "Person"
        cover, weight = retrieval_bounds(bound, hit_text, total, hit_words, person, self.index.addition_weight(words))
        ceilings = score_ceilings(cover, weight + evidence_ceiling(query, self.config), hit_words, one_word, person,
                                  self.config)
        for i in np.flatnonzero(ceilings >= threshold - _ONE_MARGIN).tolist():
            allowed, evidence, factor = self._allowed(query, int(uniq[i]))
            if not allowed:
                continue
            ceiling = score_ceilings(cover[i:i + 1], weight[i:i + 1] + evidence, hit_words[i:i + 1], one_word,
                                     person, self.config)[0] * factor
            if ceiling >= threshold - _ONE_MARGIN:
                return True
        return False

    def may_match(self, subject: Subject, threshold: float) -> bool:
        """Whether the screener could score the subject at ``threshold`` or more: the bound
        first, then the subject screened against the screener's entities."""
        if not len(self.index.entities) or not self.could_reach(subject, threshold):
            return False
        try:
            return bool(self.screener.screen(subject.query, threshold, limit=1))
        except QueryError:
            return True   # cannot tell: the caller screens in full (and meets the same error)
