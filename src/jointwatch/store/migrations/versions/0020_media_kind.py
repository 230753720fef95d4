"""Media bank items know their kind (issue 21): ``image``, ``video``, ``audio`` (told from the file's
bytes when it was hashed) or ``other`` (exact hashes of a file that is none of them, or bare exact
hashes). Existing items with a PDQ hash are images; the rest are ``other``.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media_items") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="other"))
    op.execute("UPDATE media_items SET kind = 'image' WHERE pdq IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("media_items") as batch:
        batch.drop_column("kind")
