"""participants.unit_id (a head's scope); award_history.imported and the revocation of an award

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:30:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Existing rows keep working: a participant seen before has no unit id (no head's scope covers it
    # until `thidua rebuild` replays its registration), and the awards recorded before
    # without a nomination are the imported ones.
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.String(length=100), nullable=True))
    with op.batch_alter_table('award_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('revoked_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('revocation_number', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('revocation_reason', sa.Text(), nullable=True))
    # an award with no nomination behind it was entered through POST /history: the import path
    op.execute("UPDATE award_history SET imported = true WHERE id NOT IN (SELECT id FROM nominations)")


def downgrade() -> None:
    with op.batch_alter_table('award_history', schema=None) as batch_op:
        batch_op.drop_column('revocation_reason')
        batch_op.drop_column('revocation_number')
        batch_op.drop_column('revoked_on')
        batch_op.drop_column('imported')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('unit_id')
