"""events: index only exemplar correlation ids; no province index

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00

"""
from typing import Sequence, Union

from shared import store_migrations

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    store_migrations.events_indexes_upgrade()


def downgrade() -> None:
    store_migrations.events_indexes_downgrade()
