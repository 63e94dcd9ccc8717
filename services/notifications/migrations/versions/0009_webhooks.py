"""webhooks: integrators' subscriptions and the deliveries owed to them

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03 07:00:00

Two operational tables (state of notifications' own processes, left alone by a rebuild):
``webhook_subscriptions`` (a province's integrator's URL, event types and signing secret)
and ``webhook_deliveries`` (one row per event owed to a subscription, kept in stream order
by ``sequence``; its status, attempts, last answer and next attempt). New tables only: no
existing data moves.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'webhook_subscriptions',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('event_types', sa.Text(), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_webhook_subscriptions_province'), 'webhook_subscriptions', ['province'], unique=False)
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('subscription_id', sa.String(length=36), nullable=False),
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('event_type', sa.String(length=200), nullable=False),
        sa.Column('stream', sa.String(length=300), nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('first_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id', 'subscription_id', name='uq_webhook_deliveries_event_subscription'),
    )
    op.create_index('ix_webhook_deliveries_stream', 'webhook_deliveries', ['subscription_id', 'stream', 'sequence'],
                    unique=False)
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_due', table_name='webhook_deliveries')
    op.drop_index('ix_webhook_deliveries_stream', table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_index(op.f('ix_webhook_subscriptions_province'), table_name='webhook_subscriptions')
    op.drop_table('webhook_subscriptions')
