"""The facts besides the name a screener has: birth date, country, gender, documents.

A matching birth date or country adds evidence to the name's (like one more rare word
matched), so it can lift a common but fully matching name ("Mohammed Ali", born 1993) over
the threshold, but it never makes an alert on its own: the name score's coverage factor
multiplies it. A mismatch scales the score down. An identical identity-document number is
decisive.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from jointwatch.errors import QueryError
from jointwatch.screening.compare import NameFeatures
from jointwatch.screening.index import normalize_identifier
from jointwatch.screening.model import Listed, Qualifier, Query
from jointwatch.screening.score import name_score

# Evidence added (in matched-word weight units: a rare word is about 0.8)
DOB_EXACT = 1.2          # the full date is listed
DOB_PARTIAL = 0.5        # agrees as far as both go (year, or year and month), or day/month swapped
COUNTRY_MATCH = 0.2
# Factors for facts that disagree
DOB_SAME_YEAR = 0.9      # same year, another day
DOB_NEAR = 0.8           # a year off
DOB_MISMATCH = 0.6       # two or more years off
COUNTRY_MISMATCH = 0.9
GENDER_MISMATCH = 0.75
ID_DECISIVE = 0.99
ID_WEAK_NAME = 0.3
MAX_EVIDENCE = DOB_EXACT + COUNTRY_MATCH

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


def _birth_date(query: str, listed: tuple[str, ...]) -> tuple[float, float, Qualifier] | None:
    """(evidence added, factor, reason) for a birth date against the listed ones."""
    if not listed:
        return None
    if len(query) == 10 and query in listed:
        return DOB_EXACT, 1.0, Qualifier("birth_date", "match", f"+{DOB_EXACT} evidence", f"{query} is listed")
    hit = next((d for d in listed if d.startswith(query) or query.startswith(d)), None)
    if hit is not None:
        return DOB_PARTIAL, 1.0, Qualifier("birth_date", "partial", f"+{DOB_PARTIAL} evidence",
                                           f"{query} agrees with listed {hit} as far as both go")
    if len(query) == 10 and any(len(d) == 10 and d[:4] == query[:4] and d[5:7] == query[8:10]
                                and d[8:10] == query[5:7] for d in listed):
        return DOB_PARTIAL, 1.0, Qualifier("birth_date", "partial", f"+{DOB_PARTIAL} evidence",
                                           f"{query} is a listed date with day and month swapped")
    years = [int(d[:4]) for d in listed if d[:4].isdigit()]
    if not years:
        return None
    gap = min(abs(int(query[:4]) - y) for y in years)
    listed_text = ", ".join(listed[:4])
    if gap == 0:
        return 0.0, DOB_SAME_YEAR, Qualifier("birth_date", "partial", f"x{DOB_SAME_YEAR}",
                                             f"{query}: same year, other day than listed {listed_text}")
    if gap == 1:
        return 0.0, DOB_NEAR, Qualifier("birth_date", "mismatch", f"x{DOB_NEAR}",
                                        f"{query} is a year off listed {listed_text}")
    return 0.0, DOB_MISMATCH, Qualifier("birth_date", "mismatch", f"x{DOB_MISMATCH}",
                                        f"{query} is {gap} years from listed {listed_text}")


def apply_qualifiers(query: Query, listed: Listed, features: NameFeatures) -> tuple[float, list[Qualifier]]:
    """The score from the name and the other facts, and the reasons."""
    evidence = 0.0
    factor = 1.0
    reasons: list[Qualifier] = []
    if query.birth_date and (found := _birth_date(query.birth_date, listed.birth_dates)):
        evidence += found[0]
        factor *= found[1]
        reasons.append(found[2])
    if query.countries and listed.countries:
        shared = set(query.countries) & listed.countries
        if shared:
            evidence += COUNTRY_MATCH
            reasons.append(Qualifier("country", "match", f"+{COUNTRY_MATCH} evidence",
                                     f"{', '.join(sorted(shared))} is listed"))
        else:
            factor *= COUNTRY_MISMATCH
            reasons.append(Qualifier("country", "mismatch", f"x{COUNTRY_MISMATCH}",
                                     f"{', '.join(query.countries)} not among listed "
                                     f"{', '.join(sorted(listed.countries))}"))
    if query.gender and listed.gender and query.gender != listed.gender:
        factor *= GENDER_MISMATCH
        reasons.append(Qualifier("gender", "mismatch", f"x{GENDER_MISMATCH}",
                                 f"query {query.gender}, listed {listed.gender}"))
    person = query.schema == "Person"
    name_only = name_score(features, person=person)
    if evidence:
        score = name_score(replace(features, matched_weight=features.matched_weight + evidence), person=person)
    else:
        score = name_only
    score *= factor
    documents = {normalize_identifier(n) for n in query.id_numbers} & listed.identifiers
    if documents:
        floor = ID_DECISIVE if name_only >= ID_WEAK_NAME else ID_DECISIVE - 0.04
        score = max(score, floor)
        reasons.append(Qualifier("identifier", "match", "decisive",
                                 f"document {', '.join(sorted(documents))} is on the listed record"))
    return round(min(1.0, score), 4), reasons
