"""CSV that a spreadsheet opens as data, never as formulas: every CSV jointwatch writes goes
through ``writer`` / ``dict_writer`` here.

OWASP's rule for CSV injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is written with a ``'`` in front, so Excel, LibreOffice and Google Sheets show the
text instead of running it (``=HYPERLINK(…)``, ``@SUM(…)``, DDE payloads). The csv module already
quotes separators and quotes inside cells. Two refinements: only text is changed (numbers,
dates and ``None`` are written as they are), and text that is a plain decimal number such as
``-25.00`` is left alone, because a number is not a formula and amounts must stay readable.
``restore`` undoes the prefix for readers of our own exports (``media import`` of
``jointwatch-csv``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet will read it as data: ``'`` before text that starts a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The text ``safe_cell`` was given (for reading our own exports back)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value[1:]):
        return value[1:]
    return value


class SafeWriter:
    """``csv.writer`` whose cells go through ``safe_cell``."""

    def __init__(self, out: TextIO, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class SafeDictWriter(csv.DictWriter):  # type: ignore[type-arg]
    """``csv.DictWriter`` whose cells go through ``safe_cell`` (the header is ours, not data)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: safe_cell(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)


def writer(out: TextIO, **options: Any) -> SafeWriter:
    """A CSV writer on ``out`` that neutralises formulas (``csv.writer``'s options)."""
    return SafeWriter(out, **options)


def dict_writer(out: TextIO, fieldnames: Sequence[str], **options: Any) -> SafeDictWriter:
    """A CSV dict writer on ``out`` that neutralises formulas (``csv.DictWriter``'s options)."""
    return SafeDictWriter(out, fieldnames, **options)


__all__ = ["FORMULA_STARTS", "dict_writer", "restore", "safe_cell", "writer"]
