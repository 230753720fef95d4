"""Media bank visibility and disputes (issue 13): an opaque reference per item, and disputes per member.

``media_items.ref`` is a random reference (no sequence in it) that a member may quote about
an item it matched but may not see; existing items get one each. ``media_disputes`` holds one
member's dispute of another member's item: it stops the item matching for that member only.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media_items") as batch:
        batch.add_column(sa.Column("ref", sa.String(32), nullable=True))
    items = sa.table("media_items", sa.column("id", sa.Integer()), sa.column("ref", sa.String(32)))
    connection = op.get_bind()
    for (item_id,) in connection.execute(sa.select(items.c.id)).all():
        connection.execute(items.update().where(items.c.id == item_id).values(ref=secrets.token_hex(16)))
    with op.batch_alter_table("media_items") as batch:
        batch.alter_column("ref", existing_type=sa.String(32), nullable=False)
        batch.create_unique_constraint("uq_media_items_ref", ["ref"])
    op.create_table(
        "media_disputes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("media_items.id"), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("item_id", "member_id", name="uq_media_disputes_item_member"),
    )
    op.create_index("ix_media_disputes_member_at", "media_disputes", ["member_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_media_disputes_member_at", table_name="media_disputes")
    op.drop_table("media_disputes")
    with op.batch_alter_table("media_items") as batch:
        batch.drop_constraint("uq_media_items_ref", type_="unique")
        batch.drop_column("ref")
