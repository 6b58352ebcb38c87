"""runtime alerts

Revision ID: 0003_alerts
Revises: 0001
Create Date: 2026-11-28 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_alerts"
down_revision = "0001"
branch_labels = None
depends_on = None

_INDEXED = ("last_seen", "resource", "rule", "severity", "status", "tactic")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=300), nullable=False),
        sa.Column("priority", sa.String(length=20), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("tactic", sa.String(length=100), nullable=False),
        sa.Column("techniques", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("resource_type", sa.String(length=40), nullable=False),
        sa.Column("resource", sa.String(length=500), nullable=False),
        sa.Column("resource_name", sa.String(length=300), nullable=False),
        sa.Column("image", sa.String(length=500), nullable=False),
        sa.Column("resource_info", sa.JSON(), nullable=False),
        sa.Column("hostname", sa.String(length=300), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("output_fields", sa.JSON(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index("ix_alerts_fingerprint_last", ["fingerprint", "last_seen"], unique=False)
        for column in _INDEXED:
            batch_op.create_index(batch_op.f(f"ix_alerts_{column}"), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        for column in _INDEXED:
            batch_op.drop_index(batch_op.f(f"ix_alerts_{column}"))
        batch_op.drop_index("ix_alerts_fingerprint_last")
    op.drop_table("alerts")
