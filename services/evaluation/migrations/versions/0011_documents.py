"""documents: the evidence files uploaded to evaluation, per province; each round's files

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-03 07:00:00

The files themselves are in the blob store (DOCUMENTS_URL); ``documents`` records which
content each province uploaded, so that an evaluation may name only those.
``evaluations.documents`` (the round's references, JSON) is new and nullable: rounds
evaluated before it had no files, and read as none.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from shared import store_migrations

# revision identifiers, used by Alembic.
revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    store_migrations.documents_upgrade()
    with op.batch_alter_table('evaluations', schema=None) as batch:
        batch.add_column(sa.Column('documents', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch:
        batch.drop_column('documents')
    store_migrations.documents_downgrade()
