"""Official list formats and partner formats, each read by one module into FollowTheMoney
entities. ``FORMATS`` names them for the CLI and API (``--format un``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import ParsedList, Record


@dataclass(frozen=True)
class ListFormat:
    """A list format: its parser and the source its files belong to by default."""

    name: str
    title: str
    default_source: str | None  # None: the user names the source (partner lists)
    parse: Callable[[Path, str], ParsedList]


def _un(path: Path, source: str) -> ParsedList:
    from jointwatch.sources.un import parse_un_list

    return parse_un_list(path, source)


def _ofac_sdn(path: Path, source: str) -> ParsedList:
    from jointwatch.sources.ofac_csv import parse_ofac_sdn

    return parse_ofac_sdn(path, source)


def _ofac_cons(path: Path, source: str) -> ParsedList:
    from jointwatch.sources.ofac_csv import parse_ofac_cons

    return parse_ofac_cons(path, source)


def _ofac_xml(path: Path, source: str) -> ParsedList:
    from jointwatch.sources.ofac_xml import parse_ofac_xml

    return parse_ofac_xml(path, source)


def _eu(path: Path, source: str) -> ParsedList:
    from jointwatch.sources.eu import parse_eu_list

    return parse_eu_list(path, source)


def _uk(path: Path, source: str) -> ParsedList:
    from jointwatch.sources.uk import parse_uk_list

    return parse_uk_list(path, source)


def _csv(path: Path, source: str) -> ParsedList:
    from jointwatch.sources.partner_csv import parse_partner_csv

    return parse_partner_csv(path, source)


def _ftm(path: Path, source: str) -> ParsedList:
    from jointwatch.sources.ftm_json import parse_ftm_json

    return parse_ftm_json(path, source)


FORMATS: dict[str, ListFormat] = {
    f.name: f
    for f in (
        ListFormat("un", "UN Security Council Consolidated List (XML)", "un_sc", _un),
        ListFormat("ofac-sdn", "OFAC SDN, legacy CSV (folder with sdn/alt/add, or sdn.csv)",
                   "us_ofac_sdn", _ofac_sdn),
        ListFormat("ofac-cons", "OFAC consolidated non-SDN, legacy CSV", "us_ofac_cons", _ofac_cons),
        ListFormat("ofac-xml", "OFAC SDN, XML (sdn.xml)", "us_ofac_sdn", _ofac_xml),
        ListFormat("eu", "EU Financial Sanctions Files (XML)", "eu_fsf", _eu),
        ListFormat("uk", "UK Sanctions List (FCDO, XML)", "uk_sanctions", _uk),
        ListFormat("csv", "Partner list, CSV with the documented header", None, _csv),
        ListFormat("ftm", "Partner list, FollowTheMoney JSON lines", None, _ftm),
    )
}


def open_list(path: Path, format: str, source: str | None = None) -> ParsedList:
    """Open a list file in ``format`` for loading, as ``source`` (or the format's default)."""
    if format not in FORMATS:
        raise ListFormatError(path, None, f"unknown format {format!r}; known: {', '.join(FORMATS)}")
    spec = FORMATS[format]
    chosen = source or spec.default_source
    if chosen is None:
        raise ListFormatError(path, None, f"format {format!r} needs --source NAME (the partner's source name)")
    return spec.parse(path, chosen)


__all__ = ["FORMATS", "ListFormat", "ParsedList", "Record", "open_list"]
