"""Read a traveller input of any supported format into manifests: PAXLST, PNRGOV, MRZ zones or CSV."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jointwatch.errors import MessageFormatError
from jointwatch.travel.codes import gender_of
from jointwatch.travel.edifact import read_interchanges
from jointwatch.travel.model import Document, Manifest, Problem, Traveller
from jointwatch.travel.mrz import read_mrz_file
from jointwatch.travel.paxlst import parse_paxlst
from jointwatch.travel.pnrgov import parse_pnrgov

FORMATS = ("auto", "paxlst", "pnrgov", "mrz", "csv")
MAX_BYTES = 20_000_000      # a passenger list of a wide-body flight is tens of kilobytes
CSV_COLUMNS = ("surname", "given_names", "birth_date", "gender", "nationality", "document_number",
               "document_type", "issuing_country", "expiry")
_MRZ_LINE = re.compile(r"^[A-Z0-9<]{30}$|^[A-Z0-9<]{36}$|^[A-Z0-9<]{44}$")


def detect_format(text: str) -> str:
    """paxlst, pnrgov, mrz or csv, from the content."""
    head = text.lstrip("\ufeff \t\r\n")[:4000]
    if head.startswith(("UNA", "UNB")):
        for kind in ("PAXLST", "PNRGOV"):
            if kind in head:
                return kind.lower()
        return "paxlst"
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    if lines and all(_MRZ_LINE.match(line) for line in lines[:3]):
        return "mrz"
    return "csv"


def _csv_date(value: str, where: str, problems: list[Problem]) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        problems.append(Problem(where, f"{value!r} is not a date (YYYY-MM-DD)"))
        return None


def read_csv_travellers(text: str, source: str) -> Manifest:
    """A CSV with a header: surname, given_names, birth_date, gender, nationality, document_number,
    document_type, issuing_country, expiry (only surname is required). A bad value is a problem of
    its row; the row is still screened on what could be read."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return _read_csv_rows(reader, source)
    except csv.Error as exc:
        raise MessageFormatError(source, f"line {reader.line_num}", f"CSV: {exc}") from None


def _read_csv_rows(reader: csv.DictReader[str], source: str) -> Manifest:
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "surname" not in header:
        raise MessageFormatError(source, "line 1", f"no 'surname' column; expected columns {', '.join(CSV_COLUMNS)}")
    reader.fieldnames = header
    manifest = Manifest(source=source, format="csv")
    for row in reader:
        line = reader.line_num
        get = {k: (v or "").strip() for k, v in row.items() if k}
        traveller = Traveller(index=len(manifest.travellers) + 1, location=f"line {line}",
                              surname=get.get("surname", ""), given_names=get.get("given_names", ""),
                              nationality=get.get("nationality", "").upper())
        traveller.gender = gender_of(get.get("gender", "")[:1])
        traveller.birth_date = _csv_date(get.get("birth_date", ""), f"line {line}, birth_date", traveller.problems)
        if get.get("document_number"):
            expiry = _csv_date(get.get("expiry", ""), f"line {line}, expiry", traveller.problems)
            traveller.documents.append(Document(number=get["document_number"], type=get.get("document_type", ""),
                                                issuing_country=get.get("issuing_country", "").upper(), expiry=expiry))
        if not traveller.surname:
            traveller.problems.append(Problem(f"line {line}, surname", "empty"))
        manifest.travellers.append(traveller)
    return manifest


def read_travellers(text: str, source: str, fmt: str = "auto") -> list[Manifest]:
    """The manifests an input holds, from every interchange of an EDIFACT text; raises
    MessageFormatError when the input as a whole is unreadable or cannot be read to its end."""
    if fmt not in FORMATS:
        raise MessageFormatError(source, None, f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if len(text) > MAX_BYTES:
        raise MessageFormatError(source, None, f"larger than {MAX_BYTES:,} characters")
    if not text.strip():
        raise MessageFormatError(source, None, "empty input")
    fmt = detect_format(text) if fmt == "auto" else fmt
    if fmt == "paxlst":     # every interchange of the text: each its own lists
        return [m for i in read_interchanges(text, source, ("PAXLST",)) for m in parse_paxlst(i, source)]
    if fmt == "pnrgov":
        return [m for i in read_interchanges(text, source, ("PNRGOV",)) for m in parse_pnrgov(i, source)]
    if fmt == "mrz":
        zones = read_mrz_file(text, source)
        travellers = [z.traveller(i, f"zone {i}") for i, z in enumerate(zones, start=1)]
        return [Manifest(source=source, format="mrz", kind="documents", travellers=travellers)]
    return [read_csv_travellers(text, source)]


def read_travel_file(path: Path, fmt: str = "auto") -> list[Manifest]:
    """The manifests of one file (UTF-8; Latin-1 bytes are read as such rather than refused)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise MessageFormatError(path, None, f"larger than {MAX_BYTES:,} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise MessageFormatError(path, None, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return read_travellers(text, str(path), fmt)


@dataclass(frozen=True)
class RejectedFile:
    """A file of a batch that could not be read to its end: none of its travellers is screened or answered."""

    source: str
    location: str | None
    reason: str
    exit_code: int

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "location": self.location, "reason": self.reason,
                "exit_code": self.exit_code}


def read_travel_files(paths: Iterable[Path], fmt: str = "auto") -> tuple[list[Manifest], list[RejectedFile]]:
    """The manifests of every file that can be read whole, and the files that cannot (with the place
    and the reason): one bad file never keeps the others from being screened."""
    manifests: list[Manifest] = []
    rejected: list[RejectedFile] = []
    for path in paths:
        try:
            manifests.extend(read_travel_file(path, fmt))
        except MessageFormatError as exc:
            rejected.append(RejectedFile(exc.path, exc.location, exc.reason, exc.exit_code))
    return manifests, rejected
