"""What every list parser produces: records of FollowTheMoney entities with the source's
own reference, plus the metadata that identifies a version of a list."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from jointwatch.errors import ListFormatError

if TYPE_CHECKING:
    from followthemoney import Dataset, StatementEntity

# Bounds on untrusted input: a single field or file beyond these is rejected, not loaded.
MAX_FIELD_CHARS = 100_000
MAX_FILE_BYTES = 2 * 1024**3

_DATASETS: dict[str, Dataset] = {}


def dataset_for(source: str) -> Dataset:
    """The FollowTheMoney dataset object standing for one source (e.g. ``un_sc``)."""
    # FollowTheMoney is imported where an entity is first made: loading its model (some 70 YAML files) takes about
    # half a second, which every command importing the store paid, though screening from the index never makes one
    from followthemoney import Dataset  # noqa: PLC0415

    if source not in _DATASETS:
        _DATASETS[source] = Dataset.make({"name": source, "title": source})
    return _DATASETS[source]


def make_entity(source: str, schema: str, entity_id: str) -> StatementEntity:
    """A new, empty statement entity of ``schema`` belonging to ``source``."""
    from followthemoney import StatementEntity  # noqa: PLC0415 - see dataset_for

    return StatementEntity(dataset_for(source), {"schema": schema, "id": entity_id})


_ID_UNSAFE = re.compile(r"[^A-Za-z0-9.\-]+")


def make_id(*parts: str) -> str:
    """A readable, stable entity id from its parts (``un-sc``, ``QDi.354`` → ``un-sc-QDi.354``)."""
    joined = "-".join(p.strip() for p in parts if p and p.strip())
    return _ID_UNSAFE.sub("-", joined).strip("-")


def listing_id(source: str, reference: str) -> str:
    """The id of the entity a listing names: the source, then its own reference
    (``us_ofac_sdn``, ``18716`` → ``us-ofac-sdn-18716``).

    Unique per source, so the same reference on two lists (OFAC uid 18716 on the SDN and the
    non-SDN list) or one file loaded as two sources stays two listings: in the screening index,
    in customer alerts, in the whitelist. Entities that hang off a listing (sanction, addresses,
    documents) take this id as their prefix.
    """
    return make_id(source, reference)


def hashed_id(prefix: str, *values: str | None) -> str:
    """A stable id for a dependent entity (passport, address) from its defining values."""
    digest = hashlib.sha1("\x1f".join(v or "" for v in values).encode("utf-8")).hexdigest()
    return make_id(prefix, digest[:16])


def make_sanction(
    source: str,
    main: StatementEntity,
    authority: str,
    authority_id: str,
    *,
    record_id: str | None = None,
    unsc_id: str | None = None,
) -> StatementEntity:
    """The Sanction of one listing of ``main`` by ``authority`` under its reference
    ``authority_id``; the caller adds what its list says of programmes, dates and measures."""
    # derived from the listed entity's id, so that every format of a list (OFAC CSV and XML)
    # and every version of it gives the same listing the same Sanction id
    sanction = make_entity(source, "Sanction", make_id(main.id or authority_id, "sanction"))
    sanction.add("entity", main.id)
    sanction.add("authority", authority)
    sanction.add("authorityId", authority_id)
    sanction.add("recordId", record_id)
    sanction.add("unscId", unsc_id)
    return sanction


@dataclass
class Record:
    """One listing: the listed entity first, then entities that hang off it
    (sanction, passports, addresses), all carrying the source's own reference."""

    reference: str
    entities: list[StatementEntity] = field(default_factory=list)

    @property
    def main(self) -> StatementEntity:
        return self.entities[0]


@dataclass
class ParsedList:
    """A list file being read: metadata known up front, records streamed."""

    source: str
    format: str
    paths: tuple[Path, ...]
    published: date | None
    records: Iterator[Record]
    # a list that can be read in independent parts (a large FtM file) gives them: parts(n)
    # checks the whole file, then returns up to n iterators over consecutive shares of the
    # records, in file order, each for its own process (the store loads them side by side)
    parts: Callable[[int], list[Iterator[Record]]] | None = None


def content_hash(paths: Sequence[Path]) -> str:
    """SHA-256 over the bytes of the files, in order: the identity of a list version."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})(?:-(\d{2}))?(?!\d)")


def date_from_name(path: Path) -> date | None:
    """The publication date written in a file or folder name (``ofac_sdn_2023-03-01.csv``)."""
    for part in (path.name, path.parent.name):
        m = _NAME_DATE.search(part)
        if m:
            year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3) or 1)
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def file_date(path: Path) -> date:
    """The modification date of a file, as a last resort for the publication date."""
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).date()


def check_size(path: Path) -> None:
    """Refuse a file too large to be a sanctions list before reading it."""
    if not path.exists():
        raise ListFormatError(path, None, "file not found")
    size = path.stat().st_size
    if size == 0:
        raise ListFormatError(path, None, "file is empty")
    if size > MAX_FILE_BYTES:
        raise ListFormatError(path, None, f"file is {size} bytes, over the limit of {MAX_FILE_BYTES}")


def clip(path: Path, location: str, value: str | None) -> str | None:
    """The stripped value, or None when empty; an over-long field is an error, not truncated."""
    if value is None:
        return None
    if len(value) > MAX_FIELD_CHARS:
        raise ListFormatError(path, location, f"field of {len(value)} characters exceeds {MAX_FIELD_CHARS}")
    value = value.strip()
    return value or None


def first(values: Iterable[str | None]) -> str | None:
    """The first non-empty value."""
    for value in values:
        if value:
            return value
    return None
