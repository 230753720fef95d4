"""Initial store: list versions, statements, version membership.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "list_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("version", sa.String(96), nullable=False, unique=True),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("published", sa.Date(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entity_count", sa.Integer(), nullable=False),
        sa.Column("statement_count", sa.Integer(), nullable=False),
        sa.Column("schema_counts", sa.Text(), nullable=False),
        sa.UniqueConstraint("source", "content_hash", name="uq_list_versions_source_hash"),
    )
    op.create_table(
        "statements",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("schema", sa.String(64), nullable=False),
        sa.Column("prop", sa.String(64), nullable=False),
        sa.Column("prop_type", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(16), nullable=True),
        sa.Column("original_value", sa.Text(), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_statements_entity_id", "statements", ["entity_id"])
    op.create_index("ix_statements_reference", "statements", ["reference"])
    op.create_table(
        "version_statements",
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey("list_versions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("statement_id", sa.String(40), sa.ForeignKey("statements.id"), primary_key=True),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("version_statements")
    op.drop_table("statements")
    op.drop_table("list_versions")
