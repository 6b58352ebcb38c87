"""Kubernetes clusters: registrations, workloads, check results and posture events

Revision ID: 0002_clusters
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_clusters"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the cluster tables."""
    op.create_table(
        "clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("server", sa.String(length=500), nullable=False),
        sa.Column("kubeconfig", sa.Text(), nullable=False),
        sa.Column("context", sa.String(length=200), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("ca_cert", sa.Text(), nullable=False),
        sa.Column("interval", sa.Float(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("health", sa.String(length=20), nullable=False),
        sa.Column("last_assessed", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    with op.batch_alter_table("clusters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clusters_due_at"), ["due_at"], unique=False)

    op.create_table(
        "cluster_workloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("namespace", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("uid", sa.String(length=100), nullable=False),
        sa.Column("health", sa.String(length=20), nullable=False),
        sa.Column("containers", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cluster_id", "kind", "namespace", "name", name="uq_cluster_workload"),
    )
    with op.batch_alter_table("cluster_workloads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_workloads_cluster_id"), ["cluster_id"], unique=False)

    op.create_table(
        "cluster_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("check_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=False),
        sa.Column("standards", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("resource", sa.String(length=800), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("namespace", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cluster_id", "key", name="uq_cluster_result"),
    )
    with op.batch_alter_table("cluster_results", schema=None) as batch_op:
        batch_op.create_index("ix_cluster_results_cluster_status", ["cluster_id", "status"], unique=False)

    op.create_table(
        "cluster_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["cluster_id"], ["clusters.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("cluster_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cluster_events_cluster_id"), ["cluster_id"], unique=False)


def downgrade() -> None:
    """Drop the cluster tables."""
    op.drop_table("cluster_events")
    op.drop_table("cluster_results")
    op.drop_table("cluster_workloads")
    op.drop_table("clusters")
