"""Recognising official list files by their content (``lists update --from DIR``).

Agencies move lists across an air gap under whatever names their transfer gives them
(``un_consolidated_2026-02-27.xml``, ``ofac_sdn_2021-07/``), so a folder is searched for
each source's files by what they hold, not by the official file names alone: an XML file
by its root element, an OFAC legacy CSV by its row shape, and the OFAC SDN and non-SDN
lists apart by the programmes their rows carry. Where several files hold the same source,
the newest publication date (from the name, else the file date) wins.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from jointwatch.resources import load_resource
from jointwatch.sources.base import date_from_name, file_date
from jointwatch.sources.xmlsafe import read_prolog

_SNIFF_BYTES = 65536
_ROOTS = {"CONSOLIDATED_LIST": "un", "export": "eu", "Designations": "uk", "sdnList": "ofac-xml"}
_OFAC_ROW = re.compile(r'^\d+,"')
_PRIMARIES = ("sdn.csv", "cons_prim.csv")


@dataclass(frozen=True)
class Recognised:
    """A list file (or OFAC triplet folder) and the format its content shows."""

    path: Path
    format: str
    published: date


@cache
def _non_sdn_programs() -> frozenset[str]:
    return frozenset(load_resource("official_lists")["ofac_non_sdn_programs"])


def _ofac_kind(head: bytes) -> str | None:
    """"ofac-sdn" or "ofac-cons" for an OFAC legacy primary CSV, else None."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = [line for line in text.splitlines()[:-1] if line.strip()]  # the last may be cut
    if not lines or not all(_OFAC_ROW.match(line) for line in lines[:5]):
        return None
    rows = [row for row in csv.reader(lines) if len(row) == 12]
    if not rows:
        return None
    non_sdn = sum(any(p.strip() in _non_sdn_programs() for p in row[3].strip("[] ").split("] [")) for row in rows)
    return "ofac-cons" if non_sdn * 2 > len(rows) else "ofac-sdn"


def recognise(path: Path) -> str | None:
    """The list format a file (or OFAC triplet folder) holds, judged by content; None if not a list."""
    if path.is_dir():
        primary = next((path / name for name in _PRIMARIES if (path / name).is_file()), None)
        return recognise(primary) if primary is not None else None
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return None
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        prolog = read_prolog(path)
        # a DOCTYPE: not recognised here; `lists load` refuses such a file with a clear error
        return None if prolog.doctype_line is not None else _ROOTS.get(prolog.root or "")
    return _ofac_kind(head)


def recognise_folder(folder: Path) -> list[Recognised]:
    """Every list in ``folder`` and its sub-folders (one level), newest publication first."""
    found: list[Recognised] = []
    top = sorted(folder.iterdir())
    candidates = top + [p for d in top if d.is_dir() for p in sorted(d.iterdir())]
    for path in candidates:
        in_triplet = path.parent != folder and any((path.parent / name).is_file() for name in _PRIMARIES)
        if path.name.startswith(".") or in_triplet:
            continue  # the files of a triplet folder are read as the folder
        fmt = recognise(path)
        if fmt is not None:
            published = date_from_name(path) or file_date(path if path.is_file() else next(path.iterdir()))
            found.append(Recognised(path, fmt, published))
    return sorted(found, key=lambda r: r.published, reverse=True)
