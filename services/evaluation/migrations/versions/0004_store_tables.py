"""events: ids by their place, no event_id index; outbox: one B-tree keyed by (sent, position)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 13:00:00

"""
from typing import Sequence, Union

from shared import store_migrations

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    store_migrations.store_tables_upgrade()


def downgrade() -> None:
    store_migrations.store_tables_downgrade()
