"""award_history.name_key: the name as the public look-up (tra cứu) searches it, unmarked and lower case

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03 06:55:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from shared.i18n import search_key

# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

history = sa.table('award_history', sa.column('id', sa.String), sa.column('name', sa.String),
                   sa.column('name_key', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('award_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=300), nullable=True))
        batch_op.create_index('ix_award_history_province_name_key', ['province', 'name_key'], unique=False)
    # the awards already in history get their key here (the fold is Python's, not the database's)
    conn = op.get_bind()
    rows = conn.execute(sa.select(history.c.id, history.c.name)).all()
    for id_, name in rows:
        conn.execute(history.update().where(history.c.id == id_).values(name_key=search_key(name)))


def downgrade() -> None:
    with op.batch_alter_table('award_history', schema=None) as batch_op:
        batch_op.drop_index('ix_award_history_province_name_key')
        batch_op.drop_column('name_key')
