"""documents: the dossier files uploaded to awards, per province

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-03 07:00:00

The files themselves are in the blob store (DOCUMENTS_URL); this table records which
content each province uploaded, so that a dossier may name only those. A new table:
nothing existing changes, and a downgrade forgets only the record (the files stay).
"""
from typing import Sequence, Union

from shared import store_migrations

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    store_migrations.documents_upgrade()


def downgrade() -> None:
    store_migrations.documents_downgrade()
