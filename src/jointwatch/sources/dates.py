"""Date helpers shared by the list parsers: the many ways lists write a birth date."""

from __future__ import annotations

import re
from datetime import date, datetime

# Ranges wider than this are kept as their two ends only; a screener needs the years,
# but a 60-year "range" is an error in the list, not information.
MAX_RANGE_YEARS = 25

_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}

_DMY = re.compile(r"^(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})$")
_MY = re.compile(r"^([A-Za-z]{3,9})\.?\s+(\d{4})$")
_Y = re.compile(r"^(?:circa\s+|c\.\s*|approximately\s+)?(\d{4})$", re.IGNORECASE)
_ISO = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:T.*)?$")
_YEAR_RANGE = re.compile(r"^(\d{4})\s*(?:-|to)\s*(\d{4})$", re.IGNORECASE)
_QUALIFIER = re.compile(r"^(?:circa|approximately|approx\.|about|c\.)\s*", re.IGNORECASE)
_RANGE = re.compile(r"^(.+?)\s+(?:to|-)\s+(.+)$", re.IGNORECASE)
_DMY_NUM = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")


def year_range(start: int, end: int) -> list[str]:
    """Every year from ``start`` to ``end`` (inclusive), or only the ends if implausibly wide."""
    if end < start:
        start, end = end, start
    if end - start > MAX_RANGE_YEARS:
        return [str(start), str(end)]
    return [str(y) for y in range(start, end + 1)]


def _valid(y: int, m: int | None = None, d: int | None = None) -> str | None:
    try:
        date(y, m or 1, d or 1)
    except ValueError:
        return None
    if d is not None and m is not None:
        return f"{y:04d}-{m:02d}-{d:02d}"
    if m is not None:
        return f"{y:04d}-{m:02d}"
    return f"{y:04d}"


def parse_dates(text: str) -> list[str]:
    """ISO date prefixes for a date written as lists write them.

    Understands ``03 May 1982``, ``May 1982``, ``1982``, ``circa 1975``, ``1982-05-03``,
    ``03.05.1982``, year ranges ``1960 to 1962`` and date ranges ``01 Jan 1961 to 31 Dec
    1963`` (every year in the range; a range within one month gives that month). Returns [] when the
    text is none of these.
    """
    value = _QUALIFIER.sub("", text.strip().rstrip(".").strip())
    if m := _RANGE.match(value):
        start, end = parse_dates(m.group(1)), parse_dates(m.group(2))
        if len(start) == 1 and len(end) == 1:
            if start[0][:7] == end[0][:7]:
                return [start[0][:7]]
            return year_range(int(start[0][:4]), int(end[0][:4]))
    if m := _ISO.match(value):
        out = _valid(int(m.group(1)), int(m.group(2)) if m.group(2) else None,
                     int(m.group(3)) if m.group(3) else None)
        return [out] if out else []
    if m := _DMY.match(value):
        month = _MONTHS.get(m.group(2).lower())
        out = _valid(int(m.group(3)), month, int(m.group(1))) if month else None
        return [out] if out else []
    if m := _MY.match(value):
        month = _MONTHS.get(m.group(1).lower())
        out = _valid(int(m.group(2)), month) if month else None
        return [out] if out else []
    if m := _Y.match(value):
        return [m.group(1)]
    if m := _YEAR_RANGE.match(value):
        return year_range(int(m.group(1)), int(m.group(2)))
    if m := _DMY_NUM.match(value):
        out = _valid(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        return [out] if out else []
    return []


def parse_timestamp_date(text: str | None) -> date | None:
    """The date part of an ISO timestamp or date (``2026-02-27T00:00:09.554Z``)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).date()
    except ValueError:
        m = _ISO.match(text.strip())
        if m and m.group(2) and m.group(3):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return None
