"""Whitelist of decided false positives (subject identity + listed entity).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "whitelist",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("query_key", sa.String(64), nullable=False),
        sa.Column("query_name", sa.Text(), nullable=False),
        sa.Column("query_birth_date", sa.String(10), nullable=True),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("query_key", "entity_id", name="uq_whitelist_query_entity"),
    )


def downgrade() -> None:
    op.drop_table("whitelist")
