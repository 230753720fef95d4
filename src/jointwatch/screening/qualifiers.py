"""The facts besides the name a screener has: birth date, country, gender, documents.

A matching birth date or country adds evidence to the name's (like one more rare word
matched), so it can lift a common but fully matching name ("Mohammed Ali", born 1993) over
the threshold, but it never makes an alert on its own: the name score's coverage factor
multiplies it. A mismatch scales the score down. An identical identity-document number is
decisive. The weights and factors are ``ScoringConfig``'s (``screening.config``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from jointwatch.errors import QueryError
from jointwatch.screening.compare import NameFeatures
from jointwatch.screening.config import DEFAULT_SCORING, ScoringConfig
from jointwatch.screening.index import normalize_identifier
from jointwatch.screening.model import Listed, Qualifier, Query
from jointwatch.screening.score import name_score

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


def parse_birth_date(value: str) -> str:
    """YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY as an ISO prefix; QueryError when impossible.

    The error says what is wrong, never the value: it becomes the detail of an API problem,
    and a birth date is personal data."""
    text = value.strip()
    if m := _DMY.match(text):
        text = f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    m = _ISO.match(text)
    if not m:
        raise QueryError("birth_date is not YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY")
    year, month, day = m.group(1), m.group(2), m.group(3)
    if not 1850 <= int(year) <= date.today().year:
        raise QueryError(f"birth_date: the year is not between 1850 and {date.today().year}")
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError as error:
        raise QueryError(f"birth_date: {error}") from None
    return text


def birth_date_evidence(query: str, listed: tuple[str, ...],
                        p: ScoringConfig = DEFAULT_SCORING) -> tuple[float, float, Qualifier] | None:
    """(evidence added, factor, reason) for a birth date against the listed ones; None when
    nothing can be said (no listed date, no listed year)."""
    if not listed:
        return None
    if len(query) == 10 and query in listed:
        return p.birth_date_exact, 1.0, Qualifier("birth_date", "match", f"+{p.birth_date_exact} evidence",
                                                  f"{query} is listed")
    hit = next((d for d in listed if d.startswith(query) or query.startswith(d)), None)
    if hit is not None:
        return p.birth_date_partial, 1.0, Qualifier("birth_date", "partial", f"+{p.birth_date_partial} evidence",
                                             f"{query} agrees with listed {hit} as far as both go")
    if len(query) == 10 and any(len(d) == 10 and d[:4] == query[:4] and d[5:7] == query[8:10]
                                and d[8:10] == query[5:7] for d in listed):
        return p.birth_date_partial, 1.0, Qualifier("birth_date", "partial", f"+{p.birth_date_partial} evidence",
                                             f"{query} is a listed date with day and month swapped")
    years = [int(d[:4]) for d in listed if d[:4].isdigit()]
    if not years:
        return None
    gap = min(abs(int(query[:4]) - y) for y in years)
    listed_text = ", ".join(listed[:4])
    if gap == 0:
        return 0.0, p.birth_date_same_year, Qualifier("birth_date", "partial", f"x{p.birth_date_same_year}",
                                               f"{query}: same year, other day than listed {listed_text}")
    if gap == 1:
        return 0.0, p.birth_date_near, Qualifier("birth_date", "mismatch", f"x{p.birth_date_near}",
                                          f"{query} is a year off listed {listed_text}")
    return 0.0, p.birth_date_mismatch, Qualifier("birth_date", "mismatch", f"x{p.birth_date_mismatch}",
                                          f"{query} is {gap} years from listed {listed_text}")


def country_evidence(query: tuple[str, ...], listed: frozenset[str],
                     p: ScoringConfig = DEFAULT_SCORING) -> tuple[float, float, Qualifier] | None:
    """(evidence added, factor, reason) for the query's countries against the listed ones."""
    if not query or not listed:
        return None
    shared = set(query) & listed
    if shared:
        return p.country_match, 1.0, Qualifier("country", "match", f"+{p.country_match} evidence",
                                               f"{', '.join(sorted(shared))} is listed")
    return 0.0, p.country_mismatch, Qualifier("country", "mismatch", f"x{p.country_mismatch}",
                                              f"{', '.join(query)} not among listed {', '.join(sorted(listed))}")


def gender_evidence(query: str | None, listed: str | None,
                    p: ScoringConfig = DEFAULT_SCORING) -> tuple[float, float, Qualifier] | None:
    """(evidence added, factor, reason) for a gender other than the listed one; None otherwise."""
    if not query or not listed or query == listed:
        return None
    return 0.0, p.gender_mismatch, Qualifier("gender", "mismatch", f"x{p.gender_mismatch}",
                                             f"query {query}, listed {listed}")


def evidence_ceiling(query: Query, p: ScoringConfig = DEFAULT_SCORING) -> float:
    """The most evidence the query's facts can add to any listed name: what retrieval's score
    ceilings allow for before a name is skipped unscored."""
    return (p.birth_date_exact if query.birth_date else 0.0) + (p.country_match if query.countries else 0.0)


def facts_ceiling(query: Query, listed: Listed, p: ScoringConfig = DEFAULT_SCORING) -> tuple[float, float]:
    """(the most evidence, the least-shrinking factor) the query's facts can bring against this
    listed entity: ``apply_qualifiers`` never adds more nor scales by less. The countries and
    gender may not be prepared yet (a stored customer's), so their factors are left at 1."""
    evidence, factor = 0.0, 1.0
    if query.birth_date and (found := birth_date_evidence(query.birth_date, listed.birth_dates, p)):
        evidence, factor = found[0], found[1]
    if query.countries and listed.countries:
        evidence += p.country_match
    return evidence, factor


def apply_qualifiers(query: Query, listed: Listed, features: NameFeatures,
                     p: ScoringConfig = DEFAULT_SCORING) -> tuple[float, list[Qualifier]]:
    """The score from the name and the other facts, and the reasons."""
    evidence = 0.0
    factor = 1.0
    reasons: list[Qualifier] = []
    for found in (birth_date_evidence(query.birth_date, listed.birth_dates, p) if query.birth_date else None,
                  country_evidence(query.countries, listed.countries, p),
                  gender_evidence(query.gender, listed.gender, p)):
        if found is not None:
            evidence += found[0]
            factor *= found[1]
            reasons.append(found[2])
    person = query.schema == "Person"
    name_only = name_score(features, p, person=person)
    if evidence:
        score = name_score(replace(features, matched_weight=features.matched_weight + evidence), p, person=person)
    else:
        score = name_only
    score *= factor
    documents = {normalize_identifier(n) for n in query.id_numbers} & listed.identifiers
    if documents:
        floor = p.id_decisive if name_only >= p.id_weak_name else p.id_decisive - 0.04
        score = max(score, floor)
        reasons.append(Qualifier("identifier", "match", "decisive",
                                 f"document {', '.join(sorted(documents))} is on the listed record"))
    return round(min(1.0, score), 4), reasons
