"""audit_keys: the secret keys of the keyed audit digest (issue 13).

The audit digest was a plain SHA-256 of the subject, so anyone reading the rows could confirm
a guessed name by hashing it. New rows hold "k<key id>:<HMAC-SHA256 hex>" (64 characters, the
column's width); rows written before keep their plain digest, which ``audit.rows_about``
still recognises.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("audit_keys")
