"""Decisions are one concept (issue 14): every suppressed pair is a member's decision.

The CLI's old ``whitelist add`` filed suppressions with no decision row; 0013 gave them to the
member ``local``. Each such row now gets the false-positive decision it stands for (the
``decided_by`` text, or "cli", as the user), so ``decisions list`` shows it and ``decisions
withdraw`` can end it; and every suppression belongs to a member from now on.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_suppressions = sa.table(
    "whitelist", sa.column("id", sa.Integer), sa.column("query_key", sa.String),
    sa.column("query_name", sa.Text), sa.column("query_birth_date", sa.String), sa.column("entity_id", sa.String),
    sa.column("source", sa.String), sa.column("reference", sa.String), sa.column("reason", sa.Text),
    sa.column("decided_by", sa.String), sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("member_id", sa.Integer))
_decisions = sa.table(
    "decisions", sa.column("member_id", sa.Integer), sa.column("user", sa.String), sa.column("verdict", sa.String),
    sa.column("reason", sa.Text), sa.column("query_key", sa.String), sa.column("query_name", sa.Text),
    sa.column("query_birth_date", sa.String), sa.column("entity_id", sa.String), sa.column("source", sa.String),
    sa.column("reference", sa.String), sa.column("whitelist_id", sa.Integer),
    sa.column("created_at", sa.DateTime(timezone=True)))


def upgrade() -> None:
    connection = op.get_bind()
    decided = sa.select(_decisions.c.whitelist_id).where(_decisions.c.whitelist_id.is_not(None))
    orphans = connection.execute(sa.select(_suppressions).where(
        _suppressions.c.id.not_in(decided), _suppressions.c.member_id.is_not(None))).all()
    for row in orphans:
        connection.execute(sa.insert(_decisions).values(
            member_id=row.member_id, user=(row.decided_by or "cli")[:128], verdict="false_positive",
            reason=row.reason, query_key=row.query_key, query_name=row.query_name,
            query_birth_date=row.query_birth_date, entity_id=row.entity_id, source=row.source,
            reference=row.reference, whitelist_id=row.id, created_at=row.created_at))
    with op.batch_alter_table("whitelist") as batch:
        batch.alter_column("member_id", existing_type=sa.Integer(), nullable=False)


def downgrade() -> None:
    # the decisions made here stay: they are what the earlier code reads for member ``local``
    with op.batch_alter_table("whitelist") as batch:
        batch.alter_column("member_id", existing_type=sa.Integer(), nullable=True)
