"""what awards learns of evaluation's councils: councils, ballot results, recusals

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-03 07:00:00

New tables only, filled by following evaluation's council and ballot events (a rebuild
or a replay of the evaluation topic fills them for ballots held before the upgrade).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'councils',
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('unit_id', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('province', 'id'),
    )
    op.create_table(
        'council_ballots',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('council_id', sa.String(length=100), nullable=False),
        sa.Column('registration_id', sa.String(length=36), nullable=False),
        sa.Column('participant_id', sa.String(length=100), nullable=False),
        sa.Column('award', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('secret', sa.Boolean(), nullable=False),
        sa.Column('members_total', sa.Integer(), nullable=True),
        sa.Column('recused', sa.Integer(), nullable=True),
        sa.Column('entitled', sa.Integer(), nullable=True),
        sa.Column('votes_for', sa.Integer(), nullable=True),
        sa.Column('share_for_pct', sa.Float(), nullable=True),
        sa.Column('closed_at', sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('council_ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_ballots_registration_id'), ['registration_id'], unique=False)
    op.create_table(
        'council_recusals',
        sa.Column('ballot_id', sa.String(length=36), nullable=False),
        sa.Column('person_id', sa.String(length=100), nullable=False),
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('participant_id', sa.String(length=100), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.Column('explanation', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('ballot_id', 'person_id'),
    )
    with op.batch_alter_table('council_recusals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_recusals_participant_id'), ['participant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('council_recusals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_council_recusals_participant_id'))
    op.drop_table('council_recusals')
    with op.batch_alter_table('council_ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_council_ballots_registration_id'))
    op.drop_table('council_ballots')
    op.drop_table('councils')
