"""Every weight, penalty and threshold of the screening score, declared once and documented.

The name score (``screening.score``), the facts besides the name (``screening.qualifiers``)
and the bound that decides which listed names are not worth scoring (``screening.reach``)
all read their numbers from one ``ScoringConfig``. A caller may pass another one per call
(``Screener.screen(query, config=...)``), to tune or to test; the default is the one the
published thresholds were measured with (docs/screening.md). Each field carries a one-line
description, and ``ScoringConfig.docs()`` prints them as the table in docs/scoring.md (a test
keeps that page current).

What is not here: the word weights (rarity on the lists) and the index's own constants
(``screening.index``), which are baked into the cached index and cannot change per call.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any


def _var(default: float, group: str, doc: str) -> Any:
    return field(default=default, metadata={"group": group, "doc": doc})


@dataclass(frozen=True)
class ScoringConfig:
    """The numbers the score is computed with (tuned on the dev half: benchmarks/tune_scoring.py)."""

    threshold: float = _var(0.58, "threshold",
                            "Default alert threshold: fewer than 0.1% of innocent dev-half names reach it.")
    # -- the name score (score.name_score)
    query_share: float = _var(0.9, "name", "Exponent of the query's coverage; the listed name's gets the rest.")
    evidence_scale: float = _var(2.0, "name", "Matched weight at which the evidence factor is ~63% of the way to 1.")
    evidence_floor: float = _var(0.3, "name", "Evidence factor of a person's match whose words prove nothing.")
    other_floor: float = _var(0.6, "name", "Evidence floor of organisations, vessels and aircraft (named uniquely).")
    one_word: float = _var(0.7, "name", "Factor of a match resting on one word when either name has more.")
    order_mismatch: float = _var(0.8, "name",
                                 "Factor of an organisation's match whose words come in another order.")
    # -- facts besides the name (qualifiers.apply_qualifiers), in matched-word weight units:
    #    a rare word is about 0.8
    birth_date_exact: float = _var(1.2, "evidence", "Evidence added by a full birth date that is listed.")
    birth_date_partial: float = _var(0.5, "evidence",
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
