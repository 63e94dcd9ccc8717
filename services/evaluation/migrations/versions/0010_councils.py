"""councils, their members, ballots and recusals (conflict of interest as data)

Revision ID: 0010
Revises: 0011
Create Date: 2026-12-03 07:00:00

New tables only: nothing existing changes, so the upgrade keeps every row and the
downgrade drops only what it added.
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
        sa.Column('term', sa.String(length=30), nullable=False),
        sa.PrimaryKeyConstraint('province', 'id'),
    )
    op.create_table(
        'council_members',
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('council_id', sa.String(length=100), nullable=False),
        sa.Column('person_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('unit_id', sa.String(length=100), nullable=False),
        sa.Column('position', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('province', 'council_id', 'person_id'),
    )
    op.create_table(
        'ballots',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('council_id', sa.String(length=100), nullable=False),
        sa.Column('registration_id', sa.String(length=36), nullable=False),
        sa.Column('participant_id', sa.String(length=100), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('award', sa.String(length=100), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('secret', sa.Boolean(), nullable=False),
        sa.Column('members_total', sa.Integer(), nullable=False),
        sa.Column('recused', sa.Integer(), nullable=False),
        sa.Column('votes_cast', sa.Integer(), nullable=False),
        sa.Column('votes_for', sa.Integer(), nullable=True),
        sa.Column('votes_against', sa.Integer(), nullable=True),
        sa.Column('share_for_pct', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_province'), ['province'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballots_registration_id'), ['registration_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ballots_participant_id'), ['participant_id'], unique=False)
    op.create_table(
        'ballot_recusals',
        sa.Column('ballot_id', sa.String(length=36), nullable=False),
        sa.Column('person_id', sa.String(length=100), nullable=False),
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('member_name', sa.String(length=300), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.Column('explanation', sa.Text(), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint('ballot_id', 'person_id'),
    )


def downgrade() -> None:
    op.drop_table('ballot_recusals')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballots_participant_id'))
        batch_op.drop_index(batch_op.f('ix_ballots_registration_id'))
        batch_op.drop_index(batch_op.f('ix_ballots_province'))
    op.drop_table('ballots')
    op.drop_table('council_members')
    op.drop_table('councils')
