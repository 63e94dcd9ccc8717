"""Schema steps of the store tables (events, outbox …) that every service's Alembic history
takes at the same revision: each service's revision file names its place in its own history
and calls the step here. A step, once released, is never changed; a new change is a new step.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_EXEMPLAR = sa.text("correlation_id LIKE 'exemplar-%'")


def events_indexes_upgrade() -> None:
    """Every index of ``events`` is one more B-tree page written per append. The audit looks
    events up by an exemplar's correlation id, so only those are indexed; the province export
    pages through position order with a filter."""
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_province_position')
        batch_op.drop_index('ix_events_correlation')
        batch_op.create_index('ix_events_exemplar_correlation', ['correlation_id'], unique=False,
                              sqlite_where=_EXEMPLAR, postgresql_where=_EXEMPLAR)


def events_indexes_downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_exemplar_correlation')
        batch_op.create_index('ix_events_correlation', ['correlation_id'], unique=False)
        batch_op.create_index('ix_events_province_position', ['province', 'position'], unique=False)


_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_SENT_MATCHES = "sent = (sent_at IS NOT NULL)"


def outbox_one_btree_upgrade() -> None:
    """The outbox keyed by (sent, position) instead of a rowid with an index on (sent_at, id):
    on SQLite one B-tree (WITHOUT ROWID), so that an append writes one page of it, not two.
    Rows keep their sent_at; ``sent`` is set from it."""
    if op.get_bind().dialect.name == 'sqlite':
        op.create_table(
            'outbox_new',
            sa.Column('sent', sa.Boolean(), server_default=sa.false(), nullable=False),
            sa.Column('position', _BIG_ID, autoincrement=False, nullable=False),
            sa.Column('topic', sa.String(length=200), nullable=False),
            sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
            sa.Column('traceparent', sa.String(length=55), nullable=True),
            sa.CheckConstraint(_SENT_MATCHES, name='ck_outbox_sent'),
            sa.ForeignKeyConstraint(['position'], ['events.position']),
            sa.PrimaryKeyConstraint('sent', 'position'),
            sqlite_with_rowid=False)
        op.execute("INSERT INTO outbox_new (sent, position, topic, sent_at, traceparent) "
                   "SELECT sent_at IS NOT NULL, position, topic, sent_at, traceparent FROM outbox")
        op.drop_index('ix_outbox_unsent', table_name='outbox')
        op.drop_table('outbox')
        op.rename_table('outbox_new', 'outbox')
        return
    op.add_column('outbox', sa.Column('sent', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE outbox SET sent = sent_at IS NOT NULL")
    op.drop_index('ix_outbox_unsent', table_name='outbox')
    op.drop_constraint('outbox_pkey', 'outbox', type_='primary')
    op.drop_column('outbox', 'id')
    op.create_primary_key('outbox_pkey', 'outbox', ['sent', 'position'])
    op.create_check_constraint('ck_outbox_sent', 'outbox', _SENT_MATCHES)


def outbox_one_btree_downgrade() -> None:
    """Back to a rowid outbox with an index on (sent_at, id); ids follow the positions."""
    if op.get_bind().dialect.name == 'sqlite':
        op.create_table(
            'outbox_old',
            sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
            sa.Column('position', _BIG_ID, nullable=False),
            sa.Column('topic', sa.String(length=200), nullable=False),
            sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
            sa.Column('traceparent', sa.String(length=55), nullable=True),
            sa.ForeignKeyConstraint(['position'], ['events.position']),
            sa.PrimaryKeyConstraint('id'))
        op.execute("INSERT INTO outbox_old (id, position, topic, sent_at, traceparent) "
                   "SELECT position, position, topic, sent_at, traceparent FROM outbox")
        op.drop_table('outbox')
        op.rename_table('outbox_old', 'outbox')
    else:
        op.drop_constraint('ck_outbox_sent', 'outbox', type_='check')
        op.drop_constraint('outbox_pkey', 'outbox', type_='primary')
        op.execute("ALTER TABLE outbox ADD COLUMN id BIGSERIAL")  # as 0001 made it
        op.execute("UPDATE outbox SET id = position")
        op.execute("SELECT setval('outbox_id_seq', (SELECT coalesce(max(id), 0) + 1 FROM outbox), false)")
        op.create_primary_key('outbox_pkey', 'outbox', ['id'])
        op.drop_column('outbox', 'sent')
    op.create_index('ix_outbox_unsent', 'outbox', ['sent_at', 'id'], unique=False)
