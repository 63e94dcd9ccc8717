"""org_units: the service's own copy of the organisation chart

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:00:00

"""
from typing import Sequence, Union

from shared import store_migrations

# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    store_migrations.org_units_upgrade()


def downgrade() -> None:
    store_migrations.org_units_downgrade()
