"""The travel code lists (resources/travel.yml), loaded once, and the lookups built on them."""

from __future__ import annotations

from functools import cache
from typing import Any

from jointwatch.resources import load_resource


@cache
def travel_codes() -> dict[str, Any]:
    """resources/travel.yml: PAXLST codes, genders, ICAO country codes, titles, carrier directives."""
    return load_resource("travel")  # type: ignore[no-any-return]


def gender_of(code: str) -> str | None:
    """male / female / unknown for a gender code of ATT, SSR DOCS or an MRZ; None when empty."""
    code = code.strip().upper()
    return travel_codes()["genders"].get(code, "unknown") if code else None
