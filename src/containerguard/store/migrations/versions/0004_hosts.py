"""Docker hosts: registrations bound to agent tokens, and the snapshot history with its audits

Revision ID: 0004_hosts
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_hosts"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the host tables."""
    op.create_table(
        "hosts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hostname", sa.String(length=300), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("health", sa.String(length=20), nullable=False),
        sa.Column("inventory", sa.JSON(), nullable=False),
        sa.Column("last_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hosts_token_id"), ["token_id"], unique=False)

    op.create_table(
        "host_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("collected_at", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("benchmark", sa.String(length=200), nullable=False),
        sa.Column("health", sa.String(length=20), nullable=False),
        sa.Column("failing", sa.Integer(), nullable=False),
        sa.Column("inventory", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("host_snapshots", schema=None) as batch_op:
        batch_op.create_index("ix_host_snapshots_host_received", ["host_id", "received_at"], unique=False)


def downgrade() -> None:
    """Drop the host tables."""
    op.drop_table("host_snapshots")
    op.drop_table("hosts")
