"""Scoring a blind query against a holder's blind index: which of the asker's words hit
which of the holder's names, and how strongly, without either side seeing the other's names.

The asker knows its own words (their weights as the plaintext screener weighs them, which are
in another script, which are words names gain); the index tells it, per evaluated key it
holds, which of the holder's names carry that key, and how many words each name has (capped).
From that the asker computes the plaintext screener's own features of each name as far as it
can know them (``features_of``) and scores them with the plaintext screener's own model
(``screening.score.name_score``): one scorer, so a blind strength reads like a screening
score. A birth year adds or costs what a partial birth date does in plaintext screening; a
document number that agrees decides it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from jointwatch.names import Token, is_addition, is_arabic_script
from jointwatch.screening import ADDED_WORD, DEFAULT_SCORING, NameFeatures, name_score
from jointwatch.sharing.blind_keys import DOCUMENT, NEAR, SKELETON, WORD, YEAR, QueryKey

AGREEMENT = {WORD: 1.0, SKELETON: 0.9, NEAR: 0.7}
ROMANISED = 0.95            # a word in another script whose skeleton agreed: a romanisation (plaintext: 0.98)
LISTED_UNMATCHED = 0.5      # what a listed word the query did not reach costs, against a matched one
DOCUMENT_SCORE = 0.99
# benchmarks/bench_discovery.py: at most 0.1% of the 3,085 dev innocents reach it (their 0.1% point is 0.62, on
# another draw of 2,088 it was 0.70); the 2,912 test innocents: 0.31% (plaintext screening at its default: 0.21%)
DEFAULT_THRESHOLD = 0.70


@dataclass(frozen=True)
class QueryWords:
    """What the asker knows of its own words (and keeps to itself), per word."""

    text: tuple[float, ...]         # its weight as written
    key: tuple[float, ...]          # its skeleton's weight: what a skeleton agreement proves
    arabic: tuple[bool, ...]        # in Arabic script: a skeleton agreement is a romanisation (the engine reads
                                    # its skeletons for that; other scripts' short skeletons meet strangers)
    addition: tuple[bool, ...]      # a word names gain (kunya, nisba, title): costs little unmatched

    @classmethod
    def of(cls, tokens: Sequence[Token], text: Sequence[float], key: Sequence[float] | None = None) -> QueryWords:
        return cls(tuple(text), tuple(key if key is not None else text),
                   tuple(t.native and is_arabic_script(t.original) for t in tokens),
                   tuple(is_addition(t) for t in tokens))


@dataclass(frozen=True)
class NameShape:
    """What the index says of the holder's names: whose they are, how many words (capped)."""

    entry: np.ndarray           # per name: the entry position
    words: np.ndarray           # per name: its word count, capped
    has_year: np.ndarray        # per entry: whether it has a birth year


@dataclass(frozen=True)
class Scored:
    """One entry's blind score and what agreed."""

    entry: int
    score: float
    agreed: tuple[str, ...]     # name, birth_year, document
    words: tuple[int, ...]      # the query words that hit its best name


def features_of(row: np.ndarray, words: QueryWords, listed_words: int,
                listed_cost: float = LISTED_UNMATCHED) -> NameFeatures:
    """The plaintext scorer's features of one listed name, as far as the asker can know them
    (``screening.compare.name_features``): ``row`` holds, per query word, its best agreement
    with the name (1.0 the spelling group, 0.9 a skeleton, 0.7 a skeleton one edit off, 0
    none); ``listed_words`` how many words the name has (capped). The listed words' weights
    are unknown: each unmatched one costs ``listed_cost`` of a matched one."""
    hit = np.flatnonzero(row > 0)
    if not hit.size:
        return NameFeatures(0.0, 0.0, 0.0, 0, len(row), listed_words)
    proof, proved, weak, strong = [], [], 0.0, True
    for i in hit.tolist():
        agree = float(row[i])
        if agree >= 1.0:
            effective, similarity = words.text[i], 1.0
        elif words.arabic[i] and agree >= AGREEMENT[SKELETON]:
            effective, similarity = words.text[i], ROMANISED
        else:   # a Latin word alike by its skeleton (or one edit off it) only proves what its skeleton proves
            effective, similarity, strong = words.key[i], agree, False
            weak += similarity * effective * (1 - effective)
        proof.append(effective)
        proved.append(similarity * effective)
    first, last = int(hit[0]), int(hit[-1])
    matched = set(hit.tolist())
    # unmatched query words cost their weight; the words names gain, and those between matched ones, a quarter
    left = sum(w * (ADDED_WORD if (first < i < last or words.addition[i]) else 1.0)
               for i, w in enumerate(words.text) if i not in matched)
    mq = sum(proved)
    listed_left = max(0, listed_words - len(matched))
    listed_cover = sum(proved) / max(1e-9, sum(proof)) * len(matched) / (len(matched) + listed_cost * listed_left)
    return NameFeatures(
        query_coverage=min(1.0, mq / (sum(proof) + left or 1.0)), listed_coverage=min(1.0, listed_cover),
        matched_weight=mq, matched_words=len(matched), query_words=len(row), listed_words=listed_words,
        rarest=max(proved), weak_share=weak / mq if mq else 0.0,
        complete=strong and len(matched) == len(row) == listed_words)


def score_entries(found: list[tuple[QueryKey, np.ndarray]], words: QueryWords | Sequence[float], shape: NameShape,
                  asked_year: bool, threshold: float) -> list[Scored]:
    """Entries scoring at least ``threshold``, best first. ``found``: each evaluated key that
    is in the index, with the names that carry it; ``words``: the query's (bare weights: each
    word in Latin script, weighed alike as written and by its skeleton).

    A name's score is the plaintext screener's (``screening.score.name_score``) on the features
    the asker can know (``features_of``); a birth year adds the evidence a partial birth date
    adds in plaintext screening, or scales the score down where the entry has another; a
    document number that agrees decides it, as in plaintext screening."""
    if not isinstance(words, QueryWords):
        weights = tuple(words)
        words = QueryWords(weights, weights, (False,) * len(weights), (False,) * len(weights))
    n_words = len(words.text)
    names: dict[int, np.ndarray] = {}
    year_hit: set[int] = set()
    doc_hit: set[int] = set()
    for key, postings in found:
        if key.kind == YEAR:
            year_hit.update(shape.entry[postings].tolist())
            continue
        if key.kind == DOCUMENT:
            doc_hit.update(shape.entry[postings].tolist())
            continue
        agree = AGREEMENT[key.kind]
        # a near key two query words share stands for one listed word, not two (feng and song
        # both one edit from "sng"); a skeleton key of two words is two adjacent words read as one
        reached = key.words[:1] if key.kind == NEAR else key.words
        for n in postings.tolist():
            row = names.get(n)
            if row is None:
                row = names[n] = np.zeros(n_words, dtype=np.float64)
            for i in reached:
                if agree > row[i]:
                    row[i] = agree
    p = DEFAULT_SCORING
    best: dict[int, tuple[float, tuple[int, ...]]] = {}
    for n, row in names.items():
        e = int(shape.entry[n])
        features = features_of(row, words, int(shape.words[n]))
        if asked_year and bool(shape.has_year[e]):
            if e in year_hit:
                score = name_score(replace(features, matched_weight=features.matched_weight + p.birth_date_partial))
            else:
                score = name_score(features) * p.birth_date_mismatch
        else:
            score = name_score(features)
        if e not in best or score > best[e][0]:
            best[e] = (score, tuple(int(i) for i in np.flatnonzero(row)))
    out: list[Scored] = []
    for e in set(best) | doc_hit:
        score, hit = best.get(e, (0.0, ()))
        agreed = ["name"] if hit else []
        if asked_year and bool(shape.has_year[e]) and e in year_hit:
            agreed.append("birth_year")
        if e in doc_hit:
            agreed.append("document")
            score = max(score, DOCUMENT_SCORE)
        if score >= threshold:
            out.append(Scored(e, round(score, 4), tuple(agreed), hit))
    return sorted(out, key=lambda s: (-s.score, s.entry))
