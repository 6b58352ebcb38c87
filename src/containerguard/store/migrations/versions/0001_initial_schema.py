"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28 17:29:34.516164
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('registries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('host', sa.String(length=300), nullable=False),
    sa.Column('insecure', sa.Boolean(), nullable=False),
    sa.Column('username', sa.String(length=300), nullable=False),
    sa.Column('password', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_crawl', sa.DateTime(timezone=True), nullable=True),
    sa.Column('crawl_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    with op.batch_alter_table('registries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registries_host'), ['host'], unique=False)

    op.create_table('server_state',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['registry_id'], ['registries.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_registry_id'), ['registry_id'], unique=False)

    op.create_table('images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registry_id', sa.Integer(), nullable=True),
    sa.Column('registry_host', sa.String(length=300), nullable=False),
    sa.Column('repository', sa.String(length=500), nullable=False),
    sa.Column('digest', sa.String(length=100), nullable=False),
    sa.Column('index_digest', sa.String(length=100), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('platform', sa.String(length=100), nullable=False),
    sa.Column('distro', sa.String(length=200), nullable=False),
    sa.Column('health', sa.String(length=20), nullable=False),
    sa.Column('critical', sa.Integer(), nullable=False),
    sa.Column('high', sa.Integer(), nullable=False),
    sa.Column('medium', sa.Integer(), nullable=False),
    sa.Column('low', sa.Integer(), nullable=False),
    sa.Column('negligible', sa.Integer(), nullable=False),
    sa.Column('unknown', sa.Integer(), nullable=False),
    sa.Column('packages', sa.Integer(), nullable=False),
    sa.Column('sbom', sa.Text(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('last_scan', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_scan_id', sa.String(length=40), nullable=False),
    sa.Column('assessed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['registry_id'], ['registries.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('registry_host', 'repository', 'digest', name='uq_image')
    )
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_images_digest'), ['digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_health'), ['health'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_index_digest'), ['index_digest'], unique=False)
        batch_op.create_index(batch_op.f('ix_images_registry_id'), ['registry_id'], unique=False)

    op.create_table('scans',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('ref', sa.String(length=1000), nullable=False),
    sa.Column('registry_id', sa.Integer(), nullable=True),
    sa.Column('registry_host', sa.String(length=300), nullable=False),
    sa.Column('repository', sa.String(length=500), nullable=False),
    sa.Column('digest', sa.String(length=100), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('images', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['registry_id'], ['registries.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.create_index('ix_scans_status_due', ['status', 'not_before'], unique=False)
        batch_op.create_index('ix_scans_target', ['registry_host', 'repository', 'digest'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_events_image_id'), ['image_id'], unique=False)

    op.create_table('findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('image_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('vuln_id', sa.String(length=200), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('severity_source', sa.String(length=40), nullable=False),
    sa.Column('cvss_score', sa.Float(), nullable=True),
    sa.Column('cvss_vector', sa.String(length=300), nullable=False),
    sa.Column('severities', sa.JSON(), nullable=False),
    sa.Column('package_type', sa.String(length=40), nullable=False),
    sa.Column('package_name', sa.String(length=300), nullable=False),
    sa.Column('package', sa.JSON(), nullable=False),
    sa.Column('installed_version', sa.String(length=200), nullable=False),
    sa.Column('fixed_version', sa.String(length=200), nullable=False),
    sa.Column('fix_state', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('references', sa.JSON(), nullable=False),
    sa.Column('published', sa.String(length=40), nullable=False),
    sa.Column('modified', sa.String(length=40), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_image_state', ['image_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_findings_vuln_id'), ['vuln_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_findings_vuln_id'))
        batch_op.drop_index('ix_findings_image_state')

    op.drop_table('findings')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_image_id'))

    op.drop_table('events')
    with op.batch_alter_table('scans', schema=None) as batch_op:
        batch_op.drop_index('ix_scans_target')
        batch_op.drop_index('ix_scans_status_due')

    op.drop_table('scans')
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_images_registry_id'))
        batch_op.drop_index(batch_op.f('ix_images_index_digest'))
        batch_op.drop_index(batch_op.f('ix_images_health'))
        batch_op.drop_index(batch_op.f('ix_images_digest'))

    op.drop_table('images')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_registry_id'))

    op.drop_table('api_tokens')
    op.drop_table('server_state')
    with op.batch_alter_table('registries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registries_host'))

    op.drop_table('registries')

