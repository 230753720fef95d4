"""The store's tables: list versions, statements with provenance, and which statements
each version holds. Alembic migrations in ``migrations/`` create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

list_versions = Table(
    "list_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("version", String(96), nullable=False, unique=True),
    Column("format", String(32), nullable=False),
    Column("published", Date, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("files", Text, nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
    Column("entity_count", Integer, nullable=False),
    Column("statement_count", Integer, nullable=False),
    Column("schema_counts", Text, nullable=False),
    UniqueConstraint("source", "content_hash", name="uq_list_versions_source_hash"),
)

statements = Table(
    "statements",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("entity_id", String(255), nullable=False),
    Column("schema", String(64), nullable=False),
    Column("prop", String(64), nullable=False),
    Column("prop_type", String(32), nullable=False),
    Column("value", Text, nullable=False),
    Column("lang", String(16), nullable=True),
    Column("original_value", Text, nullable=True),
    Column("source", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
    Index("ix_statements_entity_id", "entity_id"),
    Index("ix_statements_reference", "reference"),
    sqlite_with_rowid=False,
)

version_statements = Table(
    "version_statements",
    metadata,
    Column("version_id", Integer, ForeignKey("list_versions.id", ondelete="CASCADE"), primary_key=True),
    Column("statement_id", String(40), ForeignKey("statements.id"), primary_key=True),
    sqlite_with_rowid=False,
)

# Decided false positives: this subject (query identity digest) is not this listed entity.
# Screening suppresses the pair from then on; rows are added and withdrawn, never edited.
whitelist = Table(
    "whitelist",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("query_key", String(64), nullable=False),
    Column("query_name", Text, nullable=False),
    Column("query_birth_date", String(10), nullable=True),
    Column("entity_id", String(255), nullable=False),
    Column("source", String(64), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_by", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("query_key", "entity_id", name="uq_whitelist_query_entity"),
)
