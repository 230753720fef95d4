"""One score in 0..1 for how well a query name fits a listed name.

The score grows with the share of both names that aligned (the query's share counts more:
a traveller's passport name is usually shorter than a listed name with all its
patronymics) and with how much the aligned words prove (rare words prove more). A single
shared word is weak evidence whatever it is. The constants (``screening.config``) were set on
the development half of the evaluation sets (benchmarks/tune_scoring.py); docs/screening.md
says what the threshold means in measured alert rates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from jointwatch.names import Token
from jointwatch.screening.compare import NameFeatures
from jointwatch.screening.config import DEFAULT_SCORING, ScoringConfig

# Default alert threshold: on the development half of the evaluation sets, fewer than
# 0.1% of innocent names reach it (docs/screening.md gives the measured figures).
DEFAULT_THRESHOLD = DEFAULT_SCORING.threshold


def _evidence(weight: float, p: ScoringConfig, person: bool) -> float:
    floor = p.evidence_floor if person else p.other_floor
    return floor + (1 - floor) * (1 - math.exp(-weight / p.evidence_scale))


def name_score(f: NameFeatures, p: ScoringConfig = DEFAULT_SCORING, person: bool = True) -> float:
    """The name score in 0..1: coverage of both names times the evidence of the matched words."""
    if f.matched_words == 0:
        return 0.0
    coverage = (f.query_coverage ** p.query_share) * (f.listed_coverage ** (1 - p.query_share))
    evidence = _evidence(f.matched_weight, p, person)
    score = coverage * evidence
    if f.matched_words == 1 and (f.query_words > 1 or f.listed_words > 1):
        score *= p.one_word
    if not person and not f.in_order:
        # people write their names in any order, organisations do not ("Sara Nasser" / "Ansar al-Sharia")
        score *= p.order_mismatch
    return round(min(1.0, score), 4)


def one_word_rule_applies(words: Sequence[Token]) -> bool:
    """Whether a name hit through one of these query words alone surely takes the one-word factor
    (more than one word and no initial, which may yet align without a key)."""
    return len(words) > 1 and not any(len(t.text) == 1 for t in words)


def score_ceilings(coverage_bound: np.ndarray, weight_bound: np.ndarray, words_hit: np.ndarray,
                   one_word_rule: bool | np.ndarray, person: bool | np.ndarray,
                   p: ScoringConfig = DEFAULT_SCORING) -> np.ndarray:
    """The highest name score each retrieved name could reach, from what retrieval knows of
    it (``ScreeningIndex.retrieve_arrays``); names whose ceiling is under the threshold are
    not scored at all. ``one_word_rule`` and ``person`` may be one value or one per name."""
    # one value stays a Python float, so float32 bounds stay float32 as the screener has them
    floor = (p.evidence_floor if person else p.other_floor) if isinstance(person, bool) \
        else np.where(person, p.evidence_floor, p.other_floor)
    evidence = floor + (1 - floor) * (1 - np.exp(-weight_bound / p.evidence_scale))
    ceiling = coverage_bound ** p.query_share * evidence
    return np.where(np.logical_and(one_word_rule, words_hit == 1), ceiling * p.one_word, ceiling)
