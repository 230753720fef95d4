"""One score in 0..1 for how well a query name fits a listed name.

The score grows with the share of both names that aligned (the query's share counts more:
a traveller's passport name is usually shorter than a listed name with all its
patronymics) and with how much the aligned words prove (rare words prove more). A single
shared word is weak evidence whatever it is. The constants were set on the development
half of the evaluation sets (benchmarks/bench_screening.py); docs/screening.md says what
the threshold means in measured alert rates.
"""

from __future__ import annotations

import math

import numpy as np
from dataclasses import dataclass

from jointwatch.screening.compare import NameFeatures

# Default alert threshold: on the development half of the evaluation sets, fewer than
# 0.1% of innocent names reach it (docs/screening.md gives the measured figures).
DEFAULT_THRESHOLD = 0.58



@dataclass(frozen=True)
class ScoreParams:
    """The constants of the name score (tuned on the dev half: benchmarks/tune_scoring.py)."""

    query_share: float = 0.9       # exponent of the query's coverage; the listed name's gets the rest
    evidence_scale: float = 2.0    # matched weight at which the evidence factor is ~63% of the way to 1
    evidence_floor: float = 0.3    # the evidence factor when the matched words prove nothing
    one_word: float = 0.7          # a match resting on one word when either name has more
    # Organisations, vessels and aircraft are named uniquely far more often than people:
    # a full match of a short name ("ALPHA", "AL QAIDA") is strong evidence on its own.
    other_floor: float = 0.6


PARAMS = ScoreParams()


def _evidence(weight: float, p: ScoreParams, person: bool) -> float:
    floor = p.evidence_floor if person else p.other_floor
    return floor + (1 - floor) * (1 - math.exp(-weight / p.evidence_scale))


def name_score(f: NameFeatures, p: ScoreParams = PARAMS, person: bool = True) -> float:
    if f.matched_words == 0:
        return 0.0
    coverage = (f.query_coverage ** p.query_share) * (f.listed_coverage ** (1 - p.query_share))
    evidence = _evidence(f.matched_weight, p, person)
    score = coverage * evidence
    if f.matched_words == 1 and (f.query_words > 1 or f.listed_words > 1):
        score *= p.one_word
    return round(min(1.0, score), 4)


def score_ceilings(coverage_bound: np.ndarray, weight_bound: np.ndarray, words_hit: np.ndarray, query_words: int,
                   query_has_initials: bool, p: ScoreParams = PARAMS, person: bool = True) -> np.ndarray:
    """The highest name score each retrieved name could reach, from what retrieval knows of
    it; names whose ceiling is under the threshold are not scored at all."""
    floor = p.evidence_floor if person else p.other_floor
    evidence = floor + (1 - floor) * (1 - np.exp(-weight_bound / p.evidence_scale))
    ceiling = coverage_bound ** p.query_share * evidence
    if query_words > 1 and not query_has_initials:
        ceiling = np.where(words_hit == 1, ceiling * p.one_word, ceiling)
    return ceiling
