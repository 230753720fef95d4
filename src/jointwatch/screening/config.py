"""Every weight, penalty and threshold of the screening score, declared once and documented.

The name score (``screening.score``), the facts besides the name (``screening.qualifiers``)
and the bound that decides which listed names are not worth scoring (``screening.reach``)
all read their numbers from one ``ScoringConfig``. A caller may pass another one per call
(``Screener.screen(query, config=...)``), to tune or to test; the default is the one the
published thresholds were measured with (docs/screening.md). Each field carries a one-line
description, and ``ScoringConfig.docs()`` prints them as the table in docs/scoring.md (a test
keeps that page current).

The name score is a small logistic model over the alignment features of two names; its
coefficients are fields here too (group "model"), learned from the lists by
``python benchmarks/train_scoring.py``, which writes resources/name_model.yml.

What is not here: the word weights (rarity on the lists) and the index's own constants
(``screening.index``), which are baked into the cached index and cannot change per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from jointwatch.resources import load_resource


def _var(default: float, group: str, doc: str) -> Any:
    return field(default=default, metadata={"group": group, "doc": doc})


# The name model's coefficients, learned by benchmarks/train_scoring.py.
_MODEL: dict[str, Any] = load_resource("name_model")


def _learned(feature: str, doc: str) -> Any:
    return _var(float(_MODEL["weights"].get(feature, 0.0)), "model", doc)


# The features of the name model, in the order of their weights (``ScoringConfig.w_<feature>``),
# and the sign each weight is held to: the score never falls when a name matches more.
MODEL_FEATURES: tuple[tuple[str, int], ...] = (
    ("query_coverage", 1), ("listed_coverage", 1), ("log_query_coverage", 1), ("log_listed_coverage", 1),
    ("evidence", 1), ("log_evidence", 1), ("rarest", 1), ("covered_evidence", 1), ("covered_rarest", 1),
    ("complete", 1), ("complete_organisation", 1), ("one_word", -1),
    ("weak_share", -1), ("order_mismatch", -1), ("unmatched_listed", -1), ("organisation", 0))


@dataclass(frozen=True)
class ScoringConfig:
    """The numbers the score is computed with (learned on the dev half: benchmarks/train_scoring.py)."""

    threshold: float = _var(float(_MODEL["threshold"]), "threshold",
                            "Default alert threshold: at most 0.1% of the dev queries of each negative set reach it.")
    # -- the name score (score.name_score): a logistic model, learned (resources/name_model.yml)
    evidence_scale: float = _var(2.0, "name", "Matched weight at which the evidence feature is ~63% of the way to 1.")
    intercept: float = _var(_MODEL["intercept"], "model", "The intercept (log-odds of a match with every feature 0).")
    w_query_coverage: float = _learned("query_coverage", "Share of the query's weight matched (≥ 0).")
    w_listed_coverage: float = _learned("listed_coverage", "Share of the listed name's weight matched (≥ 0).")
    w_log_query_coverage: float = _learned("log_query_coverage", "ln of the query's coverage (at least 0.01; ≥ 0).")
    w_log_listed_coverage: float = _learned("log_listed_coverage",
                                            "ln of the listed name's coverage (at least 0.01; ≥ 0).")
    w_evidence: float = _learned("evidence", "1 − exp(−matched weight / evidence_scale): what the words prove (≥ 0).")
    w_log_evidence: float = _learned("log_evidence", "ln(0.25 + 0.75 × evidence) (≥ 0).")
    w_rarest: float = _learned("rarest", "The most one matched word proved (similarity × weight; ≥ 0).")
    w_covered_evidence: float = _learned("covered_evidence", "query coverage × listed coverage × evidence (≥ 0).")
    w_covered_rarest: float = _learned("covered_rarest", "query coverage × rarest (≥ 0).")
    w_complete: float = _learned("complete", "1 when every word of both names matched as written, as a variant "
                                 "or a romanisation (≥ 0).")
    w_complete_organisation: float = _learned("complete_organisation", "complete, for an organisation's name (≥ 0).")
    w_one_word: float = _learned("one_word", "1 when one word matched and either name has more (≤ 0).")
    w_weak_share: float = _learned("weak_share",
                                   "Share of the matched weight resting on skeletons, fuzzy spellings, initials of "
                                   "common words (≤ 0).")
    w_order_mismatch: float = _learned("order_mismatch",
                                       "1 for an organisation whose matched words come in another order (≤ 0).")
    w_unmatched_listed: float = _learned("unmatched_listed",
                                         "Weight of the heaviest listed word left unmatched at full cost (≤ 0).")
    w_organisation: float = _learned("organisation", "1 when the query is not a person's name.")
    # -- facts besides the name (qualifiers.apply_qualifiers), in matched-word weight units:
    #    a rare word is about 0.8
    birth_date_exact: float = _var(2.0, "evidence", "Evidence added by a full birth date that is listed.")
    birth_date_partial: float = _var(1.0, "evidence",
                              "Evidence added by a birth date agreeing as far as both go, or with day/month swapped.")
    country_match: float = _var(0.2, "evidence", "Evidence added by a country that is listed.")
    birth_date_same_year: float = _var(0.9, "penalty", "Factor of a birth date in the listed year, on another day.")
    birth_date_near: float = _var(0.8, "penalty", "Factor of a birth date a year off every listed one.")
    birth_date_mismatch: float = _var(0.6, "penalty", "Factor of a birth date two or more years off every listed one.")
    country_mismatch: float = _var(0.9, "penalty", "Factor of countries none of which is listed.")
    gender_mismatch: float = _var(0.75, "penalty", "Factor of a gender other than the listed one.")
    id_decisive: float = _var(0.99, "identifier", "Score floor of a match sharing an identity-document number.")
    id_weak_name: float = _var(0.3, "identifier",
                               "Name score under which a shared document floors the score 0.04 lower.")

    def __post_init__(self) -> None:
        # retrieval's score ceilings take each feature at its most favourable value: a weight
        # of the wrong sign would make them too low, and names that match would go unscored
        for name, sign in MODEL_FEATURES:
            if getattr(self, f"w_{name}") * sign < 0:
                raise ValueError(f"w_{name} must be {'≥' if sign > 0 else '≤'} 0")

    @classmethod
    def rows(cls) -> list[tuple[str, str, float, str]]:
        """(group, name, default, description) of every setting, in declaration order."""
        return [(f.metadata["group"], f.name, f.default, f.metadata["doc"]) for f in fields(cls)]  # type: ignore[misc]

    @classmethod
    def docs(cls) -> str:
        """The settings as a Markdown table (docs/scoring.md is generated from it)."""
        lines = ["| setting | group | default | what it does |", "|---|---|---|---|"]
        lines += [f"| `{name}` | {group} | {default:g} | {doc} |" for group, name, default, doc in cls.rows()]
        return "\n".join(lines) + "\n"


DEFAULT_SCORING = ScoringConfig()

# The generated part of docs/scoring.md lies between these two lines.
DOCS_BEGIN = "<!-- scoring-config: generated from ScoringConfig.docs(); python -m jointwatch.screening.config -->"
DOCS_END = "<!-- /scoring-config -->"


def with_docs(page: str) -> str:
    """The page with its generated section replaced by the current ``ScoringConfig.docs()``."""
    head, rest = page.split(DOCS_BEGIN, 1)
    _, tail = rest.split(DOCS_END, 1)
    return f"{head}{DOCS_BEGIN}\n{ScoringConfig.docs()}{DOCS_END}{tail}"


if __name__ == "__main__":  # rewrites docs/scoring.md's table from the config (run from the checkout)
    from pathlib import Path

    page = Path("docs/scoring.md")
    page.write_text(with_docs(page.read_text(encoding="utf-8")), encoding="utf-8")
