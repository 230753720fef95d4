"""Scoring a blind query against a holder's blind index: which of the asker's words hit
which of the holder's names, and how strongly, without either side seeing the other's names.

The asker knows its own words and their weights (the official lists' word weights, the same
the plaintext screener uses); the index tells it, per evaluated key it holds, which of the
holder's names carry that key, and how many words each name has (capped). A name's score is
the share of the query's weight its keys covered (a word counts at its best agreement: the
spelling group 1.0, a skeleton key 0.9, a key one edit away 0.7) times how much of the
listed name those words cover; a birth year that disagrees where the entry has one lowers
it, a document number that agrees decides it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jointwatch.sharing.blind_keys import DOCUMENT, NEAR, SKELETON, WORD, YEAR, QueryKey

AGREEMENT = {WORD: 1.0, SKELETON: 0.9, NEAR: 0.7}
LISTED_FLOOR = 0.5          # a name whose every word the query covered counts fully; half at worst
YEAR_MISMATCH = 0.8         # the entry has a birth year and the query's is not it
DOCUMENT_SCORE = 0.99
DEFAULT_THRESHOLD = 0.70    # set from benchmarks/bench_discovery.py: 0.1% false hits on innocent names


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


def score_entries(found: list[tuple[QueryKey, np.ndarray]], weights: list[float], shape: NameShape,
                  asked_year: bool, threshold: float) -> list[Scored]:
    """Entries scoring at least ``threshold``, best first. ``found``: each evaluated key that
    is in the index, with the names that carry it; ``weights``: per query word."""
    n_words = len(weights)
    w = np.asarray(weights, dtype=np.float32)
    total = float(w.sum()) or 1.0
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
        agree = AGREEMENT[key.kind] if len(key.words) == 1 else AGREEMENT[SKELETON]
        for n in postings.tolist():
            row = names.get(n)
            if row is None:
                row = names[n] = np.zeros(n_words, dtype=np.float32)
            for i in key.words:
                if agree > row[i]:
                    row[i] = agree
    best: dict[int, tuple[float, tuple[int, ...]]] = {}
    for n, row in names.items():
        matched = int((row > 0).sum())
        listed_cover = min(1.0, matched / max(1, int(shape.words[n])))
        score = float(row @ w) / total * (LISTED_FLOOR + (1 - LISTED_FLOOR) * listed_cover)
        e = int(shape.entry[n])
        if e not in best or score > best[e][0]:
            best[e] = (score, tuple(int(i) for i in np.flatnonzero(row)))
    out: list[Scored] = []
    for e in set(best) | doc_hit:
        score, words = best.get(e, (0.0, ()))
        agreed = ["name"] if words else []
        if asked_year and bool(shape.has_year[e]):
            if e in year_hit:
                agreed.append("birth_year")
            else:
                score *= YEAR_MISMATCH
        if e in doc_hit:
            agreed.append("document")
            score = max(score, DOCUMENT_SCORE)
        if score >= threshold:
            out.append(Scored(e, round(score, 4), tuple(agreed), words))
    return sorted(out, key=lambda s: (-s.score, s.entry))
