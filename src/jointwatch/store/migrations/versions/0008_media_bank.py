"""The media hash bank (issue 8): banked items with their hashes and labels, and their history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("dedupe_key", sa.String(80), nullable=False),
        sa.Column("md5", sa.String(32), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("pdq", sa.String(64), nullable=True),
        sa.Column("pdq_quality", sa.Integer(), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.Column("group_name", sa.String(128), nullable=True),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("tlp", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("member_id", "dedupe_key", name="uq_media_items_member_key"),
    )
    op.create_index("ix_media_items_md5", "media_items", ["md5"])
    op.create_index("ix_media_items_sha256", "media_items", ["sha256"])
    op.create_index("ix_media_items_status", "media_items", ["status"])
    op.create_table(
        "media_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("media_items.id"), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("members.id"), nullable=False),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_media_events_item", "media_events", ["item_id"])


def downgrade() -> None:
    op.drop_index("ix_media_events_item", table_name="media_events")
    op.drop_table("media_events")
    op.drop_index("ix_media_items_status", table_name="media_items")
    op.drop_index("ix_media_items_sha256", table_name="media_items")
    op.drop_index("ix_media_items_md5", table_name="media_items")
    op.drop_table("media_items")
