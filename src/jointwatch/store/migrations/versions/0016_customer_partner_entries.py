"""Customer bases react to partner entries (issue 16): a customer run records the sharing
sequence number its screener's partner entries reached and the member's groups then, so the
next delta run screens the customers that entries shared, edited or released since can reach;
a customer alert on a partner entry carries its originator, TLP and handling codes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a run before this one recorded no partner sequence: the next delta treats every releasable
    # entry as new to it, exactly as it treats a list it never screened against
    with op.batch_alter_table("customer_runs") as batch:
        batch.add_column(sa.Column("partner_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("partner_recipient", sa.Text(), nullable=True))
    with op.batch_alter_table("customer_alerts") as batch:
        batch.add_column(sa.Column("originator", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("tlp", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("handling", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_alerts") as batch:
        batch.drop_column("handling")
        batch.drop_column("tlp")
        batch.drop_column("originator")
    with op.batch_alter_table("customer_runs") as batch:
        batch.drop_column("partner_recipient")
        batch.drop_column("partner_seq")
