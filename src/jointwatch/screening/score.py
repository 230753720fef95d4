"""One score in 0..1 for how well a query name fits a listed name: a learned probability.

The alignment of two names (``screening.compare``) gives a handful of features: how much of
each name matched (weighted by rarity, with the words names gain and lose costing little),
how much the matched words prove together and the rarest of them alone, whether one word
carries the match, how much of it rests on skeletons and fuzzy spellings, whether a rare
listed word was left out, an organisation's word order. A logistic model turns them into a
probability. Its coefficients are ``ScoringConfig`` fields, learned on pairs built from the
lists themselves (``python benchmarks/train_scoring.py``), with the signs held so that more
matching never lowers the score; that also lets retrieval bound a name's score before
aligning it (``score_ceilings``). docs/screening.md says what a threshold means in measured
alert rates, and the training script prints the reliability table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from jointwatch.names import Token
from jointwatch.screening.compare import NameFeatures
from jointwatch.screening.config import DEFAULT_SCORING, MODEL_FEATURES, ScoringConfig
from jointwatch.screening.index import BOUND_SLACK

# Default alert threshold (docs/screening.md gives the alert rates measured at it).
DEFAULT_THRESHOLD = DEFAULT_SCORING.threshold
# The log features' floors: a coverage of nothing is not minus infinity, and some evidence
# is there when any word matched (the product of coverage and evidence is a log-linear term).
MIN_COVERAGE = 0.01
EVIDENCE_FLOOR = 0.25


def feature_vector(f: NameFeatures, p: ScoringConfig = DEFAULT_SCORING, person: bool = True) -> list[float]:
    """The model's inputs for one comparison, in ``MODEL_FEATURES`` order."""
    one_word = f.matched_words == 1 and (f.query_words > 1 or f.listed_words > 1)
    evidence = 1 - math.exp(-f.matched_weight / p.evidence_scale)
    return [
        f.query_coverage,
        f.listed_coverage,
        math.log(max(f.query_coverage, MIN_COVERAGE)),
        math.log(max(f.listed_coverage, MIN_COVERAGE)),
        evidence,
        math.log(EVIDENCE_FLOOR + (1 - EVIDENCE_FLOOR) * evidence),
        f.rarest,
        f.query_coverage * f.listed_coverage * evidence,
        f.query_coverage * f.rarest,
        float(f.complete),
        float(f.complete and not person),
        float(one_word),
        f.weak_share,
        float(not person and not f.in_order),
        f.unmatched_listed,
        float(not person),
    ]


def model_weights(p: ScoringConfig = DEFAULT_SCORING) -> list[float]:
    """The coefficients of ``MODEL_FEATURES``, in their order."""
    return [getattr(p, f"w_{name}") for name, _sign in MODEL_FEATURES]


def _sigmoid(logit: float) -> float:
    return 1 / (1 + math.exp(-logit)) if logit > -700 else 0.0


def name_score(f: NameFeatures, p: ScoringConfig = DEFAULT_SCORING, person: bool = True) -> float:
    """The name score in 0..1: the model's probability that the two names are one name."""
    if f.matched_words == 0:
        return 0.0
    logit = p.intercept + sum(w * x for w, x in zip(model_weights(p), feature_vector(f, p, person), strict=True))
    return round(min(1.0, _sigmoid(logit)), 4)


def one_word_rule_applies(words: Sequence[Token]) -> bool:
    """Whether a name hit through one of these query words alone surely counts as a one-word
    match (more than one word and no initial, which may yet align without a key)."""
    return len(words) > 1 and not any(len(t.text) == 1 for t in words)


def score_ceilings(coverage_bound: np.ndarray, weight_bound: np.ndarray, words_hit: np.ndarray,
                   one_word_rule: bool | np.ndarray, person: bool | np.ndarray,
                   p: ScoringConfig = DEFAULT_SCORING, listed_bound: float | np.ndarray = 1.0) -> np.ndarray:
    """The highest name score each retrieved name could reach, from what retrieval knows of
    it (``ScreeningIndex.retrieve_arrays``); names whose ceiling is under the threshold are
    not scored at all. ``one_word_rule`` and ``person`` may be one value or one per name;
    ``listed_bound`` the most of each listed name that can be covered (``ScreeningIndex.
    listed_cover_bound``; 1.0 when not known).

    Each feature takes its most favourable value the bounds allow: the coverage bounds, the
    evidence and the rarest word of the weight bound, nothing weak, nothing left out, in
    order; the one-word feature only where it surely applies."""
    organisation = np.logical_not(person).astype(np.float64)
    evidence = 1 - np.exp(-weight_bound / p.evidence_scale)
    one_word = np.logical_and(one_word_rule, words_hit == 1).astype(np.float64)
    coverage = np.maximum(coverage_bound, MIN_COVERAGE)
    listed = np.maximum(listed_bound, MIN_COVERAGE)
    # a complete match needs both names wholly covered (the bounds carry a little slack)
    complete = np.logical_and(coverage >= 1.0 - BOUND_SLACK, listed >= 1.0 - BOUND_SLACK).astype(np.float64)
    logit = (p.intercept + p.w_query_coverage * coverage + p.w_listed_coverage * listed
             + p.w_log_query_coverage * np.log(coverage) + p.w_log_listed_coverage * np.log(listed)
             + p.w_evidence * evidence + p.w_log_evidence * np.log(EVIDENCE_FLOOR + (1 - EVIDENCE_FLOOR) * evidence)
             + (p.w_rarest + p.w_covered_rarest * coverage) * np.minimum(weight_bound, 1.0)
             + p.w_covered_evidence * coverage * listed * evidence + p.w_one_word * one_word
             + (p.w_complete + p.w_complete_organisation * organisation) * complete
             + p.w_organisation * organisation)
    return 1 / (1 + np.exp(-logit))
