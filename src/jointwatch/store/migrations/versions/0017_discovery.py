"""Blind discovery and requests for information (issue 17): holders' offers (their secret
seed, budgets and scope), what each asker spent per day, the holder's log of blind
evaluations, and requests for information with their history.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("discovery_offers",
    sa.Column("holder_id", sa.Integer(), nullable=False),
    sa.Column("seed", sa.String(length=64), nullable=False),
    sa.Column("daily_keys", sa.Integer(), nullable=False),
    sa.Column("per_minute", sa.Integer(), nullable=False),
    sa.Column("scope", sa.String(length=16), nullable=False),
    sa.Column("tlp_max", sa.String(length=16), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["holder_id"], ["members.id"]),
    sa.PrimaryKeyConstraint("holder_id")
    )
    op.create_table("discovery_spend",
    sa.Column("holder_id", sa.Integer(), nullable=False),
    sa.Column("asker", sa.String(length=255), nullable=False),
    sa.Column("day", sa.String(length=10), nullable=False),
    sa.Column("keys", sa.Integer(), nullable=False),
    sa.Column("queries", sa.Integer(), nullable=False),
    sa.Column("refused", sa.Integer(), nullable=False),
    sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
    sa.Column("window_calls", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["holder_id"], ["members.id"]),
    sa.PrimaryKeyConstraint("holder_id", "asker", "day")
    )
    op.create_table("discovery_queries",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("holder_id", sa.Integer(), nullable=False),
    sa.Column("asker", sa.String(length=255), nullable=False),
    sa.Column("keys", sa.Integer(), nullable=False),
    sa.Column("outcome", sa.String(length=16), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(["holder_id"], ["members.id"]),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_discovery_queries_holder", "discovery_queries", ["holder_id", "at"], unique=False)
    op.create_table("info_requests",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("ref", sa.String(length=32), nullable=False),
    sa.Column("side", sa.String(length=8), nullable=False),
    sa.Column("asker_id", sa.Integer(), nullable=True),
    sa.Column("asker", sa.String(length=255), nullable=False),
    sa.Column("holder_id", sa.Integer(), nullable=True),
    sa.Column("holder", sa.String(length=255), nullable=False),
    sa.Column("link_id", sa.Integer(), nullable=True),
    sa.Column("remote_ref", sa.String(length=32), nullable=True),
    sa.Column("entry_token", sa.String(length=64), nullable=False),
    sa.Column("epoch", sa.String(length=10), nullable=False),
    sa.Column("entry_id", sa.Integer(), nullable=True),
    sa.Column("subject", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("legal_basis", sa.Text(), nullable=False),
    sa.Column("urgency", sa.String(length=16), nullable=False),
    sa.Column("deadline", sa.Date(), nullable=False),
    sa.Column("state", sa.String(length=24), nullable=False),
    sa.Column("answer", sa.Text(), nullable=False),
    sa.Column("released_ref", sa.String(length=64), nullable=True),
    sa.Column("release", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(["asker_id"], ["members.id"]),
    sa.ForeignKeyConstraint(["entry_id"], ["shared_entries.id"]),
    sa.ForeignKeyConstraint(["holder_id"], ["members.id"]),
    sa.ForeignKeyConstraint(["link_id"], ["federation_links.id"]),
    sa.PrimaryKeyConstraint("id"),
    sa.UniqueConstraint("ref")
    )
    op.create_index("ix_info_requests_asker", "info_requests", ["asker_id"], unique=False)
    op.create_index("ix_info_requests_holder", "info_requests", ["holder_id"], unique=False)
    op.create_table("info_request_events",
    sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
    sa.Column("request_id", sa.Integer(), nullable=False),
    sa.Column("member_id", sa.Integer(), nullable=True),
    sa.Column("actor", sa.String(length=255), nullable=False),
    sa.Column("user", sa.String(length=128), nullable=False),
    sa.Column("action", sa.String(length=32), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("state", sa.String(length=24), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("remote_event", sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(["request_id"], ["info_requests.id"]),
    sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_info_request_events_request", "info_request_events", ["request_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_info_request_events_request", table_name="info_request_events")
    op.drop_table("info_request_events")
    op.drop_index("ix_info_requests_holder", table_name="info_requests")
    op.drop_index("ix_info_requests_asker", table_name="info_requests")
    op.drop_table("info_requests")
    op.drop_index("ix_discovery_queries_holder", table_name="discovery_queries")
    op.drop_table("discovery_queries")
    op.drop_table("discovery_spend")
    op.drop_table("discovery_offers")
