"""The alerts queue (issue 18): customer alerts become the one table of alerts, with their
origin (customer, payment, traveller, job), the subject as screened, who has it and what was
decided; ``alert_events`` keeps its history. Existing rows are customer alerts, their subject
the customer's name (the customer reference when the customer has left the base).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_customer_alerts_entity", table_name="customer_alerts")
    op.drop_index("ix_customer_alerts_member_customer", table_name="customer_alerts")
    op.rename_table("customer_alerts", "alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("customer_ref", existing_type=sa.String(128), nullable=True)
        batch.alter_column("run_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("origin", sa.String(16), nullable=True))
        batch.add_column(sa.Column("subject", sa.Text(), nullable=True))
        batch.add_column(sa.Column("subject_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("subject_birth_date", sa.String(10), nullable=True))
        batch.add_column(sa.Column("origin_ref", sa.String(255), nullable=True))
        batch.add_column(sa.Column("assignee", sa.String(128), nullable=True))
        batch.add_column(sa.Column("decision", sa.String(16), nullable=True))
        batch.add_column(sa.Column("decided_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("decision_id", sa.Integer(), nullable=True))
    op.execute("UPDATE alerts SET origin = 'customer', origin_ref = customer_ref, subject = COALESCE("
               "(SELECT c.name FROM customers c WHERE c.member_id = alerts.member_id AND c.ref = alerts.customer_ref),"
               " customer_ref)")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("origin", existing_type=sa.String(16), nullable=False)
        batch.alter_column("subject", existing_type=sa.Text(), nullable=False)
        batch.alter_column("origin_ref", existing_type=sa.String(255), nullable=False)
    op.create_index("ix_alerts_member_customer", "alerts", ["member_id", "customer_ref"])
    op.create_index("ix_alerts_entity", "alerts", ["entity_id"])
    op.create_index("ix_alerts_member_id", "alerts", ["member_id", "id"])
    op.create_index("ix_alerts_member_state", "alerts", ["member_id", "decision", "status", "assignee"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(128), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_alert_events_alert", "alert_events", ["alert_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_alert", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_alerts_member_state", table_name="alerts")
    op.drop_index("ix_alerts_member_id", table_name="alerts")
    op.drop_index("ix_alerts_entity", table_name="alerts")
    op.drop_index("ix_alerts_member_customer", table_name="alerts")
    op.execute("DELETE FROM alerts WHERE origin <> 'customer'")
    with op.batch_alter_table("alerts") as batch:
        for column in ("decision_id", "decision_reason", "decided_at", "decided_by", "decision", "assignee",
                       "origin_ref", "subject_birth_date", "subject_key", "subject", "origin"):
            batch.drop_column(column)
        batch.alter_column("run_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("customer_ref", existing_type=sa.String(128), nullable=False)
    op.rename_table("alerts", "customer_alerts")
    op.create_index("ix_customer_alerts_member_customer", "customer_alerts", ["member_id", "customer_ref"])
    op.create_index("ix_customer_alerts_entity", "customer_alerts", ["entity_id"])
