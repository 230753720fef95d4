"""Travel dates: two-digit years and the century rules that decide them.

A birth date is never in the future, so a two-digit birth year takes the latest century that keeps it
in the past (ICAO Doc 9303 leaves the century to the reader). An expiry date is at most a few decades
ahead, so its year is read in 2000–2099 unless that would put it more than 50 years ahead. Flight dates
are in this century.
"""

from __future__ import annotations

from datetime import date, datetime

MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}


def birth_year(yy: int, today: date | None = None) -> int:
    """A two-digit birth year in the latest century that keeps it in the past."""
    today = today or date.today()
    year = 2000 + yy
    return year if year <= today.year else year - 100


def expiry_year(yy: int, today: date | None = None) -> int:
    """A two-digit expiry year: 20yy, unless that is more than 50 years ahead."""
    today = today or date.today()
    year = 2000 + yy
    return year if year <= today.year + 50 else year - 100


def century(yy: int, kind: str, today: date | None = None) -> int:
    """A two-digit year of a date of ``kind`` (birth, expiry, travel) with its century."""
    if kind == "birth":
        return birth_year(yy, today)
    if kind == "expiry":
        return expiry_year(yy, today)
    return 2000 + yy


def _day(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{text!r} is not a date") from None


def yymmdd(text: str, kind: str, today: date | None = None) -> date:
    """A YYMMDD date (MRZ, PAXLST DTM 101) of ``kind`` birth, expiry or travel."""
    text = text.strip()
    if len(text) != 6 or not text.isdigit():
        raise ValueError(f"{text!r} is not YYMMDD")
    yy, month, day = int(text[:2]), int(text[2:4]), int(text[4:])
    return _day(century(yy, kind, today), month, day, text)


def ddmmmyy(text: str, kind: str, today: date | None = None) -> date:
    """A DDMMMYY date as in SSR DOCS (``12JUL64``)."""
    text = text.strip().upper()
    if len(text) != 7 or not (text[:2].isdigit() and text[5:].isdigit()) or text[2:5] not in MONTHS:
        raise ValueError(f"{text!r} is not DDMMMYY")
    return _day(century(int(text[5:]), kind, today), MONTHS[text[2:5]], int(text[:2]), text)


def ddmmyy(text: str) -> date:
    """A DDMMYY flight date as in PNRGOV TVL (``280513``)."""
    text = text.strip()
    if len(text) != 6 or not text.isdigit():
        raise ValueError(f"{text!r} is not DDMMYY")
    return _day(2000 + int(text[4:]), int(text[2:4]), int(text[:2]), text)


def with_time(day: date, hhmm: str) -> datetime:
    """A date at HHMM (an empty or malformed time: midnight is not assumed, the time is dropped)."""
    hhmm = hhmm.strip()
    if len(hhmm) == 4 and hhmm.isdigit() and int(hhmm[:2]) < 24 and int(hhmm[2:]) < 60:
        return datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[2:]))
    return datetime(day.year, day.month, day.day)


def edifact_datetime(value: str, fmt: str) -> datetime:
    """A DTM value in format 201 (YYMMDDHHMM), 203 (CCYYMMDDHHMM), 102 (CCYYMMDD) or 101 (YYMMDD)."""
    value = value.strip()
    if fmt in ("201", "") and len(value) == 10 and value.isdigit():
        return with_time(yymmdd(value[:6], "travel"), value[6:])
    if fmt == "203" and len(value) == 12 and value.isdigit():
        return with_time(_day(int(value[:4]), int(value[4:6]), int(value[6:8]), value), value[8:])
    if fmt == "102" and len(value) == 8 and value.isdigit():
        return with_time(_day(int(value[:4]), int(value[4:6]), int(value[6:8]), value), "")
    if len(value) == 6 and value.isdigit():
        return with_time(yymmdd(value, "travel"), "")
    raise ValueError(f"{value!r} is not a date-time in format {fmt or '201'}")
