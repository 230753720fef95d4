"""When a list version was last confirmed current (fail closed on stale lists, issue 13).

A list's age is the time since jointwatch last confirmed it current: its load, or a later
`lists update` / `lists load` that found the publisher's file unchanged.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("list_versions") as batch:
        batch.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("list_versions") as batch:
        batch.drop_column("checked_at")
