"""Country names as lists write them → ISO 3166 codes (lower case, FollowTheMoney style).

rigour's full territory lookup is thorough but builds a 29,000-name table on first use
(seconds); list loading needs only the names lists actually use. We key rigour's own
territory names plus the list spellings in ``resources/countries.yml``; a name neither
knows is not a country to us (lists write cities and "undetermined" in country fields).
Fuzzy matching is never used: it maps city names to countries ("Mainz" → us).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import TYPE_CHECKING

from rigour.territories import get_territories

from jointwatch.resources import load_resource

if TYPE_CHECKING:
    from followthemoney import StatementEntity

_PUNCT = re.compile(r"[.()\[\],;:_/ʻ'’-]+")


def _key(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return " ".join(_PUNCT.sub(" ", ascii_name.casefold()).split())


@cache
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for territory in get_territories():
        if not territory.is_ftm:
            continue
        for name in (territory.name, territory.full_name, territory.code):
            if name:
                table.setdefault(_key(name), territory.ftm_country or territory.code)
    for code, names in load_resource("countries").items():
        for name in names:
            table[_key(name)] = code
    return table


@cache
def country_code(name: str) -> str | None:
    """The ISO code for a country name or code as written in a list, or None if unknown."""
    key = _key(name)
    if not key:
        return None
    return _table().get(key)


def add_country(entity: StatementEntity, prop: str, name: str | None) -> None:
    """Add a country by its ISO code, keeping the list's spelling as the original value.

    A name no table knows is kept in ``notes`` rather than dropped.
    """
    if not name:
        return
    code = country_code(name)
    if code is None:
        entity.add("notes", f"{prop}: {name}", quiet=True)
        return
    entity.add(prop, code, original_value=name, quiet=True, cleaned=True)
