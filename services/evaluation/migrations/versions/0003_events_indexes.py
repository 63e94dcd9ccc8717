"""events: index only exemplar correlation ids; no province index

Every index of ``events`` is one more B-tree page written per append. The audit
looks events up by an exemplar's correlation id, so only those are indexed; the
province export pages through position order with a filter.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

EXEMPLAR = sa.text("correlation_id LIKE 'exemplar-%'")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_province_position')
        batch_op.drop_index('ix_events_correlation')
        batch_op.create_index('ix_events_exemplar_correlation', ['correlation_id'], unique=False,
                              sqlite_where=EXEMPLAR, postgresql_where=EXEMPLAR)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_exemplar_correlation')
        batch_op.create_index('ix_events_correlation', ['correlation_id'], unique=False)
        batch_op.create_index('ix_events_province_position', ['province', 'position'], unique=False)
