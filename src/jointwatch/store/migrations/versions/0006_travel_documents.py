"""Lost and stolen travel documents (issue 5).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "travel_documents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("number_key", sa.String(64), nullable=False),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("issuing_country", sa.String(3), nullable=False),
        sa.Column("document_type", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reported", sa.Date(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "number_key", "issuing_country", name="uq_travel_documents_source_number"),
    )
    op.create_index("ix_travel_documents_number_key", "travel_documents", ["number_key"])


def downgrade() -> None:
    op.drop_index("ix_travel_documents_number_key", table_name="travel_documents")
    op.drop_table("travel_documents")
