"""Dashboard: one row of posture counts per day (the overview's 30-day trends), and an index for
sorting images by last scan

Revision ID: 0005_dashboard_stats
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_dashboard_stats"
down_revision = "0001"
branch_labels = None
depends_on = None

_COUNTS = ("healthy", "unhealthy", "images_unhealthy", "hosts_unhealthy", "workloads_unhealthy",
           "critical", "high", "medium", "low", "negligible", "unknown", "alerts")


def upgrade() -> None:
    """Create ``daily_stats`` and ``ix_images_last_scan``."""
    op.create_table(
        "daily_stats",
        sa.Column("day", sa.String(length=10), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.create_index("ix_images_last_scan", ["last_scan", "id"], unique=False)


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.drop_index("ix_images_last_scan")
    op.drop_table("daily_stats")
