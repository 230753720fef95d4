"""The facts besides the name a screener has: birth date, country, gender, documents.

Each one can only scale the name score (so a matching birth date alone never raises an
alert) except an identical identity-document number, which is decisive.
"""

from __future__ import annotations

import re
from datetime import date

from jointwatch.errors import QueryError
from jointwatch.screening.index import normalize_identifier
from jointwatch.screening.model import Listed, Qualifier, Query

DOB_MATCH = 1.12
DOB_PARTIAL = 1.05
DOB_SAME_YEAR = 0.95
DOB_NEAR = 0.85
DOB_MISMATCH = 0.7
COUNTRY_MATCH = 1.03
COUNTRY_MISMATCH = 0.92
GENDER_MISMATCH = 0.8
ID_DECISIVE = 0.99
ID_WEAK_NAME = 0.3

_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


def parse_birth_date(value: str) -> str:
    """YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY as an ISO prefix; QueryError when impossible."""
    text = value.strip()
    if m := _DMY.match(text):
        text = f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    m = _ISO.match(text)
    if not m:
        raise QueryError(f"birth_date {value!r} is not YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY")
    year, month, day = m.group(1), m.group(2), m.group(3)
    if not 1850 <= int(year) <= date.today().year:
        raise QueryError(f"birth_date {value!r}: year out of range")
    try:
        date(int(year), int(month or 1), int(day or 1))
    except ValueError as error:
        raise QueryError(f"birth_date {value!r}: {error}") from None
    return text


def _birth_date(query: str, listed: tuple[str, ...]) -> tuple[float, Qualifier] | None:
    if not listed:
        return None
    years = [int(d[:4]) for d in listed if d[:4].isdigit()]
    if any(d == query for d in listed) and len(query) == 10:
        return DOB_MATCH, Qualifier("birth_date", "match", f"x{DOB_MATCH}", f"{query} is listed")
    if any(d.startswith(query) or query.startswith(d) for d in listed):
        hit = next(d for d in listed if d.startswith(query) or query.startswith(d))
        return DOB_PARTIAL, Qualifier("birth_date", "partial", f"x{DOB_PARTIAL}",
                                      f"{query} agrees with listed {hit} as far as both go")
    if len(query) == 10 and any(len(d) == 10 and d[:4] == query[:4] and d[5:7] == query[8:10]
                                and d[8:10] == query[5:7] for d in listed):
        return DOB_PARTIAL, Qualifier("birth_date", "partial", f"x{DOB_PARTIAL}",
                                      f"{query} is a listed date with day and month swapped")
    if not years:
        return None
    gap = min(abs(int(query[:4]) - y) for y in years)
    listed_text = ", ".join(listed[:4])
    if gap == 0:
        return DOB_SAME_YEAR, Qualifier("birth_date", "partial", f"x{DOB_SAME_YEAR}",
                                        f"{query}: same year, other day than listed {listed_text}")
    if gap == 1:
        return DOB_NEAR, Qualifier("birth_date", "mismatch", f"x{DOB_NEAR}",
                                   f"{query} is a year off listed {listed_text}")
    return DOB_MISMATCH, Qualifier("birth_date", "mismatch", f"x{DOB_MISMATCH}",
                                   f"{query} is {gap} years from listed {listed_text}")


def apply_qualifiers(query: Query, listed: Listed, name_score: float) -> tuple[float, list[Qualifier]]:
    """The score after the non-name facts, and the reasons."""
    score = name_score
    reasons: list[Qualifier] = []
    if query.birth_date and (found := _birth_date(query.birth_date, listed.birth_dates)):
        score *= found[0]
        reasons.append(found[1])
    if query.countries and listed.countries:
        shared = set(query.countries) & listed.countries
        if shared:
            score *= COUNTRY_MATCH
            reasons.append(Qualifier("country", "match", f"x{COUNTRY_MATCH}",
                                     f"{', '.join(sorted(shared))} is listed"))
        else:
            score *= COUNTRY_MISMATCH
            reasons.append(Qualifier("country", "mismatch", f"x{COUNTRY_MISMATCH}",
                                     f"{', '.join(query.countries)} not among listed "
                                     f"{', '.join(sorted(listed.countries))}"))
    if query.gender and listed.gender and query.gender != listed.gender:
        score *= GENDER_MISMATCH
        reasons.append(Qualifier("gender", "mismatch", f"x{GENDER_MISMATCH}",
                                 f"query {query.gender}, listed {listed.gender}"))
    documents = {normalize_identifier(n) for n in query.id_numbers} & listed.identifiers
    if documents:
        floor = ID_DECISIVE if name_score >= ID_WEAK_NAME else ID_DECISIVE - 0.04
        score = max(score, floor)
        reasons.append(Qualifier("identifier", "match", "decisive",
                                 f"document {', '.join(sorted(documents))} is on the listed record"))
    return min(1.0, score), reasons
