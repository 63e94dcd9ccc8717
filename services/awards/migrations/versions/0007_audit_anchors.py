"""the audit of every case and the anchored chain heads: a full correlation index on events,
stream_heads, and the story of each consumed event in processed_events

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:00:00

"""
from typing import Sequence, Union

from shared import store_migrations

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    store_migrations.audit_anchors_upgrade()


def downgrade() -> None:
    store_migrations.audit_anchors_downgrade()
