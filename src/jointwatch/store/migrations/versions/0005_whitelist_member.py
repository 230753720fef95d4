"""Whitelist entries belong to a member (NULL: the store's own, for everyone).

A member's false-positive decision must not change what another member's screening
returns, nor reveal that the decision was taken.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("whitelist") as batch:
        batch.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_whitelist_query_entity", type_="unique")
        batch.create_unique_constraint("uq_whitelist_query_entity_member", ["query_key", "entity_id", "member_id"])


def downgrade() -> None:
    with op.batch_alter_table("whitelist") as batch:
        batch.drop_constraint("uq_whitelist_query_entity_member", type_="unique")
        batch.create_unique_constraint("uq_whitelist_query_entity", ["query_key", "entity_id"])
        batch.drop_column("member_id")
