"""Customers, alerts and the freeze register (issue 6).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("ref", sa.String(128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("schema", sa.String(32), nullable=False),
        sa.Column("birth_date", sa.String(10), nullable=True),
        sa.Column("nationality", sa.String(64), nullable=True),
        sa.Column("country", sa.String(64), nullable=True),
        sa.Column("accounts", sa.Text(), nullable=True),
        sa.Column("name_keys", sa.Text(), nullable=True),
        sa.Column("near_score", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("member_id", "ref", name="uq_customers_member_ref"),
    )
    op.create_table(
        "customer_alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("customer_ref", sa.String(128), nullable=False),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("listed_name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("list_version", sa.String(96), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_customer_alerts_member_customer", "customer_alerts", ["member_id", "customer_ref"])
    op.create_index("ix_customer_alerts_entity", "customer_alerts", ["entity_id"])
    op.create_table(
        "customer_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("list_versions", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("screened", sa.Integer(), nullable=False),
        sa.Column("new_alerts", sa.Integer(), nullable=False),
        sa.Column("withdrawn_alerts", sa.Integer(), nullable=False),
    )
    op.create_table(
        "frozen_assets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("customer_ref", sa.String(128), nullable=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("institution", sa.String(128), nullable=False),
        sa.Column("amount", sa.Numeric(24, 4), nullable=False),
        sa.Column("frozen_amount", sa.Numeric(24, 4), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("frozen_on", sa.Date(), nullable=False),
        sa.Column("list_source", sa.String(64), nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("regime", sa.String(128), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_frozen_assets_member", "frozen_assets", ["member_id"])
    op.create_table(
        "freeze_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("asset_id", sa.Integer(), sa.ForeignKey("frozen_assets.id"), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("amount", sa.Numeric(24, 4), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("licence", sa.String(128), nullable=True),
        sa.Column("by_user", sa.String(128), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_freeze_events_asset", "freeze_events", ["asset_id"])


def downgrade() -> None:
    op.drop_index("ix_freeze_events_asset", table_name="freeze_events")
    op.drop_table("freeze_events")
    op.drop_index("ix_frozen_assets_member", table_name="frozen_assets")
    op.drop_table("frozen_assets")
    op.drop_table("customer_runs")
    op.drop_index("ix_customer_alerts_entity", table_name="customer_alerts")
    op.drop_index("ix_customer_alerts_member_customer", table_name="customer_alerts")
    op.drop_table("customer_alerts")
    op.drop_table("customers")
