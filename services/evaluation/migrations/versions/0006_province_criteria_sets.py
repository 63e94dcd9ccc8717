"""criteria_sets keyed by (province, id); candidates keep the unit they registered in

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:30:00

Criteria set ids are each province's own: the same id may now be defined by two
provinces. Existing rows keep their province and id (the key only widens). The unit of
a candidate is new: rows written before it have none until the projection is rebuilt
(``thidua rebuild --service evaluation``), and meanwhile only the province's council,
not a unit's, evaluates them.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _criteria_sets(key: list[str]) -> sa.Table:
    return sa.Table(
        'criteria_sets', sa.MetaData(),
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('id', sa.String(length=100), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.Column('applies_to', sa.Text(), nullable=False),
        sa.Column('criteria', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint(*key, name='criteria_sets_pkey'),
    )


def _rekey_criteria_sets(key: list[str], province_index: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint('criteria_sets_pkey', 'criteria_sets', type_='primary')
        op.create_primary_key('criteria_sets_pkey', 'criteria_sets', key)
        if province_index:
            op.create_index('ix_criteria_sets_province', 'criteria_sets', ['province'], unique=False)
        else:
            op.drop_index('ix_criteria_sets_province', 'criteria_sets')
        return
    # SQLite cannot change a key in place: the rows are copied into the table as declared here
    # (its old indexes go with the old table)
    with op.batch_alter_table('criteria_sets', copy_from=_criteria_sets(key), recreate="always") as batch:
        if province_index:
            batch.create_index('ix_criteria_sets_province', ['province'], unique=False)


def upgrade() -> None:
    _rekey_criteria_sets(['province', 'id'], province_index=False)
    with op.batch_alter_table('candidates', schema=None) as batch:
        batch.add_column(sa.Column('unit_id', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('candidates', schema=None) as batch:
        batch.drop_column('unit_id')
    _rekey_criteria_sets(['id'], province_index=True)
