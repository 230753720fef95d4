"""Official list formats and partner formats, each read by one module into FollowTheMoney
entities. ``FORMATS`` names them for the CLI and API (``--format un``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jointwatch.errors import ListFormatError
from jointwatch.sources.base import ParsedList, Record, content_hash, dataset_for, date_from_name, file_date
from jointwatch.sources.countries import country_code
from jointwatch.sources.fetch import default_cache_dir, fetch_source, local_source, official_sources
from jointwatch.sources.xmlsafe import children, iter_elements, local, text, texts


@dataclass(frozen=True)
class ListFormat:
    """A list format: the function that reads it and the source its files belong to by default."""

    name: str
    title: str
    default_source: str | None  # None: the user names the source (partner lists)
    module: str  # the module of jointwatch.sources that reads the format
    function: str  # its parse function, taking (path, source)

    def parse(self, path: Path, source: str) -> ParsedList:
        """Read ``path`` as ``source`` with this format's parser."""
        # imported on first use: listing the formats (CLI help) or reading one format must not
        # pay for importing every parser and what it pulls in (lxml, CSV and remark tables)
        module = importlib.import_module(f"{__name__}.{self.module}")
        parse: Callable[[Path, str], ParsedList] = getattr(module, self.function)
        return parse(path, source)


FORMATS: dict[str, ListFormat] = {
    f.name: f
    for f in (
        ListFormat("un", "UN Security Council Consolidated List (XML)", "un_sc",
                   "un", "parse_un_list"),
        ListFormat("ofac-sdn", "OFAC SDN, legacy CSV (folder with sdn/alt/add, or sdn.csv)",
                   "us_ofac_sdn", "ofac_csv", "parse_ofac_sdn"),
        ListFormat("ofac-cons", "OFAC consolidated non-SDN, legacy CSV", "us_ofac_cons",
                   "ofac_csv", "parse_ofac_cons"),
        ListFormat("ofac-xml", "OFAC SDN, XML (sdn.xml)", "us_ofac_sdn",
                   "ofac_xml", "parse_ofac_xml"),
        ListFormat("eu", "EU Financial Sanctions Files (XML)", "eu_fsf", "eu", "parse_eu_list"),
        ListFormat("uk", "UK Sanctions List (FCDO, XML)", "uk_sanctions", "uk", "parse_uk_list"),
        ListFormat("csv", "Partner list, CSV with the documented header", None,
                   "partner_csv", "parse_partner_csv"),
        ListFormat("ftm", "Partner list, FollowTheMoney JSON lines", None,
                   "ftm_json", "parse_ftm_json"),
    )
}


def open_list(path: Path, format: str, source: str | None = None) -> ParsedList:
    """Open a list file in ``format`` for loading, as ``source`` (or the format's default)."""
    if format not in FORMATS:
        raise ListFormatError(path, None, f"unknown format {format!r}; known: {', '.join(FORMATS)}")
    spec = FORMATS[format]
    chosen = source or spec.default_source
    if chosen is None:
        raise ListFormatError(
            path, None, f"format {format!r} needs --source NAME (the partner's source name)"
        )
    return spec.parse(path, chosen)


__all__ = [
    "FORMATS",
    "ListFormat",
    "ParsedList",
    "Record",
    "children",
    "content_hash",
    "country_code",
    "dataset_for",
    "date_from_name",
    "default_cache_dir",
    "fetch_source",
    "file_date",
    "iter_elements",
    "local",
    "local_source",
    "official_sources",
    "open_list",
    "text",
    "texts",
]
