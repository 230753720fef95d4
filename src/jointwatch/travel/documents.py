"""Reading a file of lost, stolen or revoked travel documents (CSV with a header).

Columns: ``number`` and ``issuing_country`` (ISO 3166-1 alpha-3 or ICAO code, as in an MRZ) are
required; ``type`` (default P), ``status`` (lost, stolen, revoked, invalidated, blank-stolen; default
stolen) and ``reported`` (YYYY-MM-DD) are optional. One bad row rejects the file, naming the line:
a register of documents is loaded whole or not at all.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from jointwatch.errors import MessageFormatError
from jointwatch.store import STATUSES, ReportedDocument

MAX_ROWS = 50_000_000


def read_document_file(path: Path) -> list[ReportedDocument]:
    """Every document of the file; MessageFormatError names the line of the first bad row."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise MessageFormatError(path, None, f"cannot read: {exc.strerror or exc}") from None
    documents: list[ReportedDocument] = []
    with handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = {"number", "issuing_country"} - set(header)
        if missing:
            raise MessageFormatError(path, "line 1", f"missing column(s) {', '.join(sorted(missing))}")
        reader.fieldnames = header
        try:
            for row in reader:
                documents.append(_document(row, path, reader.line_num))
                if len(documents) > MAX_ROWS:
                    raise MessageFormatError(path, f"line {reader.line_num}", f"more than {MAX_ROWS:,} rows")
        except csv.Error as exc:
            raise MessageFormatError(path, f"line {reader.line_num}", f"CSV: {exc}") from None
        except UnicodeDecodeError:
            raise MessageFormatError(path, f"after line {reader.line_num}", "not UTF-8") from None
    return documents


def _document(row: dict[str, str | None], path: Path, line: int) -> ReportedDocument:
    get = {k: (v or "").strip() for k, v in row.items() if k}
    number, country = get.get("number", ""), get.get("issuing_country", "").upper()
    if not number or len(number) > 64 or not any(c.isalnum() for c in number):
        raise MessageFormatError(path, f"line {line}, number", f"{number[:70]!r} is not a document number")
    if not (1 <= len(country) <= 3 and country.isalpha()):
        raise MessageFormatError(path, f"line {line}, issuing_country", f"{country[:20]!r} is not a country code")
    status = (get.get("status") or "stolen").lower()
    if status not in STATUSES:
        raise MessageFormatError(path, f"line {line}, status", f"{status[:20]!r}; one of {', '.join(STATUSES)}")
    reported = None
    if get.get("reported"):
        try:
            reported = date.fromisoformat(get["reported"])
        except ValueError:
            raise MessageFormatError(path, f"line {line}, reported", f"{get['reported'][:20]!r} is not YYYY-MM-DD") \
                from None
    return ReportedDocument(number=number, issuing_country=country, document_type=(get.get("type") or "P")[:8].upper(),
                            status=status, reported=reported)
