"""Each scoring rule on its own, as small tables of cases (no register needed).

The rule functions are called directly: word similarity (compare.token_similarity), the name
score (score.name_score), birth date, country, gender and document rules (qualifiers), and
which entity types a query may match (model.compatible). The numbers are ScoringConfig's
defaults (docs/scoring.md); a config given to a rule moves its result.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from jointwatch.names import analyze_name
from jointwatch.screening import DEFAULT_SCORING, Listed, Query
from jointwatch.screening.compare import NameFeatures, token_similarity
from jointwatch.screening.config import MODEL_FEATURES
from jointwatch.screening.model import compatible
from jointwatch.screening.qualifiers import apply_qualifiers, birth_date_evidence, country_evidence, gender_evidence
from jointwatch.screening.score import name_score


def _word(text: str) -> object:
    return analyze_name(text, "Person").tokens[0]


# (query word, listed word, similarity, rule)
WORDS = [
    ("Harzi", "HARZI", 1.0, "exact"),
    ("Mohamed", "Muhammad", 0.95, "variant"),              # one spelling group (names.yml)
    ("Yusuf", "Yousef", 0.95, "variant"),
    ("Tariq", "Tarak", 0.9033, "skeleton"),                # 0.7 + 0.25 × Jaro-Winkler, at most 0.92
    ("Harzi", "Hrazi", 0.92, "skeleton"),
    ("الحرزي", "Harzi", 0.98, "transliteration"),          # Arabic script against a romanisation of it
    ("عوني", "Ouni", 0.98, "transliteration"),             # French practice: و as ou
    ("الظواهري", "Zawahiri", 0.98, "transliteration"),
    ("أيمن", "Ayman", 0.98, "transliteration"),
    ("الشريعة", "Sara", 0.75, "skeleton"),                 # same consonants, but Sara leaves out the ي
    ("نور الدين", "Noureddine", 0.98, "transliteration"),   # a compound with its inner article
    ("Nasser", "Ansar", 0.72, "near-skeleton"),            # a vowel first on one side only: another name
    ("Smit", "Hamati", 0.0, ""),                           # one consonant apart, another first letter
    ("163", "140", 0.0, ""),                               # numbers are the same or not at all
    ("Johnson", "Jonson", 0.85, "fuzzy"),                  # close spelling, other skeleton: at most 0.85
    ("Alexander", "Aleksandr", 0.7963, "fuzzy"),
    ("T", "Tariq", 0.6, "initial"),
    ("T", "Omar", 0.0, ""),
    ("Muhammad", "Mahmud", 0.0, ""),                       # two different known names, whatever the letters
    ("Harzi", "Smith", 0.0, ""),
]


@pytest.mark.parametrize(("query", "listed", "similarity", "rule"), WORDS)
def test_word_rule(query: str, listed: str, similarity: float, rule: str) -> None:
    found = token_similarity(_word(query), _word(listed))  # type: ignore[arg-type]
    assert (round(found[0], 4), found[1]) == (similarity, rule)


# The scorer's arithmetic, on a config with round weights: score = σ(intercept + Σ w·feature).
ROUND = replace(DEFAULT_SCORING, intercept=-2.0, **{f"w_{name}": 0.0 for name, _ in MODEL_FEATURES})
# (config changes, features, person, name score)
NAMES = [
    ({"w_query_coverage": 2.0}, NameFeatures(1.0, 1.0, 2.0, 2, 2, 2), True, 0.5),        # σ(−2 + 2)
    ({"w_query_coverage": 2.0}, NameFeatures(0.5, 1.0, 2.0, 2, 2, 2), True, 0.2689),     # σ(−1)
    ({"w_evidence": 2.0}, NameFeatures(1.0, 1.0, 2.0, 2, 2, 2), True, 0.3239),           # σ(−2 + 2(1 − e^−1))
    ({"w_one_word": -1.0}, NameFeatures(0.5, 0.5, 0.8, 1, 2, 2), True, 0.0474),          # one word of two: σ(−3)
    ({"w_one_word": -1.0}, NameFeatures(1.0, 1.0, 0.8, 1, 1, 1), True, 0.1192),          # one word each: σ(−2)
    ({"w_organisation": 1.0}, NameFeatures(1.0, 1.0, 2.0, 2, 2, 2), False, 0.2689),      # σ(−1)
    ({"w_order_mismatch": -1.0}, NameFeatures(1.0, 1.0, 2.0, 2, 2, 2, False), False, 0.0474),
    ({"w_order_mismatch": -1.0}, NameFeatures(1.0, 1.0, 2.0, 2, 2, 2, False), True, 0.1192),  # a person's order is free
    ({"w_query_coverage": 2.0}, NameFeatures(0.0, 0.0, 0.0, 0, 2, 2), True, 0.0),        # nothing matched
]


@pytest.mark.parametrize(("changes", "features", "person", "score"), NAMES)
def test_name_score(changes: dict[str, float], features: NameFeatures, person: bool, score: float) -> None:
    assert name_score(features, replace(ROUND, **changes), person) == score


# What the learned model must hold to (its signs are constrained in training and checked by
# ScoringConfig): more of the name matched never scores lower, and each weakness costs.
FULL = NameFeatures(1.0, 1.0, 1.4, 2, 2, 2, rarest=0.8)


@pytest.mark.parametrize(("weaker", "why"), [
    (replace(FULL, query_coverage=0.7), "less of the query matched"),
    (replace(FULL, listed_coverage=0.7), "less of the listed name matched"),
    (replace(FULL, matched_weight=0.7, rarest=0.4), "commoner words matched"),
    (replace(FULL, weak_share=0.6), "the match rests on skeletons of common words"),
    (replace(FULL, matched_words=1, query_coverage=0.6, listed_coverage=0.6, matched_weight=0.8), "one word of two"),
])
def test_the_learned_model_scores_weaker_matches_lower(weaker: NameFeatures, why: str) -> None:
    assert name_score(weaker) < name_score(FULL), why


def test_an_organisation_out_of_order_scores_lower() -> None:
    assert name_score(replace(FULL, in_order=False), person=False) < name_score(FULL, person=False)


def test_a_weight_of_the_wrong_sign_is_refused() -> None:
    # the retrieval bounds take every feature at its best: a wrong sign would skip names that match
    with pytest.raises(ValueError, match="w_query_coverage"):
        replace(DEFAULT_SCORING, w_query_coverage=-1.0)


# (query birth date, listed ones, evidence added, factor, outcome); None: nothing to say
BIRTH_DATES = [
    ("1982-05-03", ("1982-05-03",), 2.0, 1.0, "match"),
    ("1982", ("1982-05-03",), 1.0, 1.0, "partial"),             # agrees as far as both go
    ("1982-05", ("1982",), 1.0, 1.0, "partial"),
    ("1982-03-05", ("1982-05-03",), 1.0, 1.0, "partial"),       # day and month swapped
    ("1982-06-01", ("1982-05-03",), 0.0, 0.9, "partial"),       # same year, other day
    ("1983-05-03", ("1982-05-03", "1960"), 0.0, 0.8, "mismatch"),  # a year off the nearest
    ("1990", ("1982-05-03",), 0.0, 0.6, "mismatch"),
    ("1982", (), None, None, None),
]


@pytest.mark.parametrize(("query", "listed", "evidence", "factor", "outcome"), BIRTH_DATES)
def test_birth_date_rule(query: str, listed: tuple[str, ...], evidence: float | None, factor: float | None,
                         outcome: str | None) -> None:
    found = birth_date_evidence(query, listed, DEFAULT_SCORING)
    if evidence is None:
        assert found is None
    else:
        assert found is not None and (found[0], found[1], found[2].outcome) == (evidence, factor, outcome)


# (query countries, listed countries, evidence added, factor, outcome)
COUNTRIES = [
    (("iq",), frozenset({"iq", "sy"}), 0.2, 1.0, "match"),
    (("de", "iq"), frozenset({"iq"}), 0.2, 1.0, "match"),
    (("de",), frozenset({"iq"}), 0.0, 0.9, "mismatch"),
    ((), frozenset({"iq"}), None, None, None),
    (("de",), frozenset(), None, None, None),
]


@pytest.mark.parametrize(("query", "listed", "evidence", "factor", "outcome"), COUNTRIES)
def test_country_rule(query: tuple[str, ...], listed: frozenset[str], evidence: float | None,
                      factor: float | None, outcome: str | None) -> None:
    found = country_evidence(query, listed, DEFAULT_SCORING)
    if evidence is None:
        assert found is None
    else:
        assert found is not None and (found[0], found[1], found[2].outcome) == (evidence, factor, outcome)


# (query gender, listed gender, factor); None: no effect
GENDERS = [("male", "female", 0.75), ("female", "male", 0.75), ("male", "male", None), (None, "male", None),
           ("male", None, None)]


@pytest.mark.parametrize(("query", "listed", "factor"), GENDERS)
def test_gender_rule(query: str | None, listed: str | None, factor: float | None) -> None:
    found = gender_evidence(query, listed, DEFAULT_SCORING)
    assert (found[1] if found else None) == factor


def _listed(**facts: object) -> Listed:
    return Listed("e", "Person", "un_sc", "QDi.1", "v1", "Tariq Harzi", **facts)  # type: ignore[arg-type]


STRONG = NameFeatures(1.0, 1.0, 2.0, 2, 2, 2, rarest=0.9)
STRONG_SCORE = name_score(STRONG)
WEAK = NameFeatures(0.1, 0.1, 0.1, 1, 3, 3)       # name score 0.0234: the names share almost nothing

# (query documents, listed documents, features, score, a decisive identifier reason)
IDENTIFIERS = [
    (("A 123-4567",), frozenset({"A1234567"}), STRONG, 0.99, True),   # written another way, the same number
    (("A1234567",), frozenset({"A1234567"}), WEAK, 0.95, True),       # decisive, a little less with a weak name
    (("B7654321",), frozenset({"A1234567"}), STRONG, STRONG_SCORE, False),
    ((), frozenset({"A1234567"}), STRONG, STRONG_SCORE, False),
]


@pytest.mark.parametrize(("documents", "listed", "features", "score", "decisive"), IDENTIFIERS)
def test_identifier_rule(documents: tuple[str, ...], listed: frozenset[str], features: NameFeatures, score: float,
                         decisive: bool) -> None:
    found, reasons = apply_qualifiers(Query("Tariq Harzi", id_numbers=documents), _listed(identifiers=listed),
                                      features, DEFAULT_SCORING)
    assert found == score
    assert any(r.kind == "identifier" and r.effect == "decisive" for r in reasons) == decisive


def test_facts_combine_as_evidence_then_factors() -> None:
    query = Query("Tariq Harzi", birth_date="1982-05-03", countries=("de",), gender="female")
    listed = _listed(birth_dates=("1982-05-03",), countries=frozenset({"iq"}), gender="male")
    score, reasons = apply_qualifiers(query, listed, STRONG, DEFAULT_SCORING)
    with_birth = name_score(replace(STRONG, matched_weight=STRONG.matched_weight + 2.0))
    assert score == round(with_birth * 0.9 * 0.75, 4)
    assert [(r.kind, r.outcome) for r in reasons] == [("birth_date", "match"), ("country", "mismatch"),
                                                      ("gender", "mismatch")]


# (query schema, listed schema, may match)
SCHEMATA = [
    ("Person", "Person", True), ("Person", "LegalEntity", True), ("Person", "Organization", False),
    ("Person", "Vessel", False), ("Organization", "Company", True), ("Company", "PublicBody", True),
    ("LegalEntity", "Person", True), ("LegalEntity", "Vessel", False), ("Vessel", "Vessel", True),
    ("Airplane", "Vessel", False), ("Thing", "Vessel", True), ("Thing", "Person", True),
]


@pytest.mark.parametrize(("query", "listed", "allowed"), SCHEMATA)
def test_schema_compatibility(query: str, listed: str, allowed: bool) -> None:
    assert compatible(query, listed) is allowed
