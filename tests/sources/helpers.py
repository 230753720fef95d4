"""Helpers the parser tests share: picking entities out of a record, writing a list file."""

from __future__ import annotations

from pathlib import Path

from followthemoney import StatementEntity

from jointwatch.sources.base import Record


def by_schema(record: Record, schema: str) -> list[StatementEntity]:
    """The entities of a record with the given schema, in the record's order."""
    return [e for e in record.entities if e.schema.name == schema]


def write_file(tmp_path: Path, name: str, content: str) -> Path:
    """A list file with the given content in the test's temporary folder."""
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path
