"""people: the units a person belongs to (inbox access); units folded into org_units

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:30:00

An inbox is read by its recipient and the recipient's unit head: ``people`` says which
units a person is of (from registrations and unit members). Notifications kept a second,
flat list of units (``units``) for the publicity of exemplars; it followed the same event as
``org_units`` and, being listed after it, was the only one fed. Its rows move into
``org_units`` (without their place in the chart, which they never had here: ``thidua rebuild
--service notifications`` gives them their parents and kinds) and it is dropped.
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
    op.create_table(
        'people',
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('person_id', sa.String(length=120), nullable=False),
        sa.Column('unit_id', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('province', 'person_id', 'unit_id'),
    )
    op.execute("INSERT INTO org_units (province, id, parent_id, name, kind, level)"
               " SELECT u.province, u.id, NULL, u.name, 'other', 'school' FROM units u WHERE NOT EXISTS"
               " (SELECT 1 FROM org_units o WHERE o.province = u.province AND o.id = u.id)")
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_province'))
    op.drop_table('units')


def downgrade() -> None:
    op.create_table(
        'units',
        sa.Column('id', sa.String(length=100), nullable=False),
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_province'), ['province'], unique=False)
    # the old table's ids were global: one row per id
    op.execute("INSERT INTO units (id, province, name) SELECT id, min(province), min(name) FROM org_units"
               " GROUP BY id")
    op.drop_table('people')
