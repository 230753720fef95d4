"""Partner sharing (issue 16): partner entries and their versions, sharing groups, evidence,
the sharing trail, and federation links with their signing keys and accepted bundles.

``sharing_state`` holds one row, the sharing generation, bumped with every change so that
screeners in every process see a withdrawal at their next request.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("evidence_blobs",
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint("sha256")
    )
    op.create_table("sharing_events",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("entry_id", sa.Integer(), nullable=True),
    sa.Column("member_id", sa.Integer(), nullable=True),
    sa.Column("user", sa.String(length=128), nullable=False),
    sa.Column("action", sa.String(length=32), nullable=False),
    sa.Column("counterpart", sa.String(length=255), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    with op.batch_alter_table("sharing_events", schema=None) as batch_op:
        batch_op.create_index("ix_sharing_events_entry", ["entry_id"], unique=False)

    state = op.create_table("sharing_state",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("generation", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("id")
    )
    op.bulk_insert(state, [{"id": 1, "generation": 0}])
    op.create_table("signing_keys",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("key_id", sa.String(length=64), nullable=False),
    sa.Column("private_key", sa.Text(), nullable=False),
    sa.Column("public_key", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("key_id")
    )
    op.create_table("federation_links",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("name", sa.String(length=128), nullable=False),
    sa.Column("url", sa.String(length=512), nullable=True),
    sa.Column("peer_keys", sa.Text(), nullable=False),
    sa.Column("api_key", sa.Text(), nullable=True),
    sa.Column("member_id", sa.Integer(), nullable=False),
    sa.Column("allow", sa.String(length=16), nullable=False),
    sa.Column("pushed_seq", sa.Integer(), nullable=False),
    sa.Column("pulled_seq", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["member_id"], ["members.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("name")
    )
    op.create_table("shared_entries",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("ref", sa.String(length=64), nullable=False),
    sa.Column("member_id", sa.Integer(), nullable=True),
    sa.Column("originator", sa.String(length=255), nullable=False),
    sa.Column("link_id", sa.Integer(), nullable=True),
    sa.Column("schema", sa.String(length=32), nullable=False),
    sa.Column("caption", sa.Text(), nullable=False),
    sa.Column("distribution", sa.String(length=16), nullable=False),
    sa.Column("audience", sa.Text(), nullable=False),
    sa.Column("tlp", sa.String(length=16), nullable=False),
    sa.Column("handling", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("expires_on", sa.Date(), nullable=True),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["member_id"], ["members.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("ref")
    )
    with op.batch_alter_table("shared_entries", schema=None) as batch_op:
        batch_op.create_index("ix_shared_entries_member", ["member_id"], unique=False)
        batch_op.create_index("ix_shared_entries_seq", ["seq"], unique=False)

    op.create_table("sharing_groups",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("name", sa.String(length=128), nullable=False),
    sa.Column("owner_member_id", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["owner_member_id"], ["members.id"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("name")
    )
    op.create_table("federation_bundles",
    sa.Column("link_id", sa.Integer(), nullable=False),
    sa.Column("bundle_id", sa.String(length=64), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["link_id"], ["federation_links.id"], ),
    sa.PrimaryKeyConstraint("link_id", "bundle_id")
    )
    op.create_table("shared_entry_versions",
    sa.Column("entry_id", sa.Integer(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("entity", sa.Text(), nullable=False),
    sa.Column("labels", sa.Text(), nullable=False),
    sa.Column("change", sa.String(length=16), nullable=False),
    sa.Column("member_id", sa.Integer(), nullable=True),
    sa.Column("user", sa.String(length=128), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["entry_id"], ["shared_entries.id"], ),
    sa.PrimaryKeyConstraint("entry_id", "version")
    )
    op.create_table("shared_evidence",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("ref", sa.String(length=32), nullable=False),
    sa.Column("entry_id", sa.Integer(), nullable=False),
    sa.Column("sha256", sa.String(length=64), nullable=False),
    sa.Column("filename", sa.String(length=255), nullable=False),
    sa.Column("media_type", sa.String(length=64), nullable=False),
    sa.Column("size", sa.Integer(), nullable=False),
    sa.Column("tlp", sa.String(length=16), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("member_id", sa.Integer(), nullable=True),
    sa.Column("user", sa.String(length=128), nullable=False),
    sa.Column("origin", sa.String(length=255), nullable=False),
    sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("latitude", sa.Float(), nullable=True),
    sa.Column("longitude", sa.Float(), nullable=True),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["entry_id"], ["shared_entries.id"], ),
    sa.ForeignKeyConstraint(["sha256"], ["evidence_blobs.sha256"], ),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("ref")
    )
    with op.batch_alter_table("shared_evidence", schema=None) as batch_op:
        batch_op.create_index("ix_shared_evidence_entry", ["entry_id"], unique=False)

    op.create_table("sharing_group_members",
    sa.Column("group_id", sa.Integer(), nullable=False),
    sa.Column("member_id", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["group_id"], ["sharing_groups.id"], ),
    sa.ForeignKeyConstraint(["member_id"], ["members.id"], ),
    sa.PrimaryKeyConstraint("group_id", "member_id")
    )


def downgrade() -> None:
    op.drop_table("sharing_group_members")
    with op.batch_alter_table("shared_evidence", schema=None) as batch_op:
        batch_op.drop_index("ix_shared_evidence_entry")

    op.drop_table("shared_evidence")
    op.drop_table("shared_entry_versions")
    op.drop_table("federation_bundles")
    op.drop_table("sharing_groups")
    with op.batch_alter_table("shared_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_shared_entries_seq")
        batch_op.drop_index("ix_shared_entries_member")

    op.drop_table("shared_entries")
    op.drop_table("federation_links")
    op.drop_table("signing_keys")
    op.drop_table("sharing_state")
    with op.batch_alter_table("sharing_events", schema=None) as batch_op:
        batch_op.drop_index("ix_sharing_events_entry")

    op.drop_table("sharing_events")
    op.drop_table("evidence_blobs")
