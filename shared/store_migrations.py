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
