"""Lost, stolen and revoked travel documents: loaded per source, looked up by number."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, delete, func, insert, select

from jointwatch.identifiers import normalize_identifier
from jointwatch.store.schema import travel_documents

STATUSES = ("lost", "stolen", "revoked", "invalidated", "blank-stolen")
_CHUNK = 500


@dataclass(frozen=True)
class ReportedDocument:
    """A document some source reported as no longer valid."""

    number: str
    issuing_country: str            # ISO 3166-1 alpha-3 / ICAO code as in an MRZ, '' when unknown
    document_type: str = "P"
    status: str = "stolen"
    reported: date | None = None
    source: str = ""


def load_documents(engine: Engine, source: str, documents: Iterable[ReportedDocument]) -> int:
    """Replace ``source``'s documents with these, in one transaction; returns how many are held."""
    now = datetime.now(UTC)
    rows = {}
    for d in documents:
        key = normalize_identifier(d.number)
        rows[(key, d.issuing_country)] = {
            "source": source, "number_key": key, "number": d.number, "issuing_country": d.issuing_country,
            "document_type": d.document_type, "status": d.status, "reported": d.reported, "loaded_at": now}
    with engine.begin() as connection:
        connection.execute(delete(travel_documents).where(travel_documents.c.source == source))
        values = list(rows.values())
        for start in range(0, len(values), _CHUNK):
            connection.execute(insert(travel_documents), values[start:start + _CHUNK])
    return len(rows)


def find_documents(engine: Engine, numbers: Iterable[str]) -> list[ReportedDocument]:
    """Reported documents whose number is one of ``numbers`` (compared without spaces, dashes or case)."""
    keys = sorted({k for k in (normalize_identifier(n) for n in numbers) if k})
    found: list[ReportedDocument] = []
    with engine.connect() as connection:
        for start in range(0, len(keys), _CHUNK):
            result = connection.execute(select(travel_documents).where(
                travel_documents.c.number_key.in_(keys[start:start + _CHUNK])))
            found.extend(ReportedDocument(number=r.number, issuing_country=r.issuing_country,
                                          document_type=r.document_type, status=r.status,
                                          reported=r.reported, source=r.source) for r in result)
    return found


def document_sources(engine: Engine) -> dict[str, int]:
    """How many documents each source holds."""
    with engine.connect() as connection:
        rows = connection.execute(select(travel_documents.c.source, func.count())
                                  .group_by(travel_documents.c.source).order_by(travel_documents.c.source))
        return {r[0]: int(r[1]) for r in rows}
