"""units, members, clusters keyed by their province; registrations say their unit and whether
imported; the criteria sets registration has seen of evaluation

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:30:00

Ids a user chooses are a province's own: the same unit or cluster id may exist in two
provinces, so the key of each table that holds them takes the province (every row kept: the
province was always there, and ids were unique across provinces until now). A registration
made before keeps a NULL unit and is not imported.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_KEYS = {"units": (["id"], ["id", "province"]), "clusters": (["id"], ["id", "province"]),
         "members": (["unit_id", "person_id"], ["unit_id", "person_id", "province"])}


def _columns(name: str) -> list:
    """The columns and indexes of each table as 0001 made them."""
    if name == "units":
        return [sa.Column("id", sa.String(100), nullable=False),
                sa.Column("province", sa.String(16), nullable=False),
                sa.Column("name", sa.String(300), nullable=False),
                sa.Column("kind", sa.String(30), nullable=False),
                sa.Column("parent_id", sa.String(100), nullable=True),
                sa.Column("address", sa.String(500), nullable=True),
                sa.Column("phone", sa.String(40), nullable=True),
                sa.Index("ix_units_parent_id", "parent_id"), sa.Index("ix_units_province", "province")]
    if name == "clusters":
        return [sa.Column("id", sa.String(100), nullable=False),
                sa.Column("province", sa.String(16), nullable=False),
                sa.Column("name", sa.String(300), nullable=False),
                sa.Column("kind", sa.String(20), nullable=False),
                sa.Column("member_unit_ids", sa.Text(), nullable=False),
                sa.Index("ix_clusters_province", "province")]
    return [sa.Column("unit_id", sa.String(100), nullable=False),
            sa.Column("person_id", sa.String(100), nullable=False),
            sa.Column("province", sa.String(16), nullable=False),
            sa.Column("name", sa.String(300), nullable=False),
            sa.Column("position", sa.String(200), nullable=True),
            sa.Column("individual_kind", sa.String(20), nullable=False),
            sa.Column("gender", sa.String(10), nullable=True)]


def _rekey(table: str, key: list[str]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite changes a primary key only by making the table again: batch mode copies the rows
        # into the table made from the definition given.
        with op.batch_alter_table(table, recreate="always", copy_from=sa.Table(table, sa.MetaData(), *_columns(table), sa.PrimaryKeyConstraint(*key))):
            pass
    else:
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, key)


def upgrade() -> None:
    for table, (_, new) in _KEYS.items():
        _rekey(table, new)
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("imported", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "criteria_sets",
        sa.Column("province", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("province", "id"),
    )


def downgrade() -> None:
    """Back to ids unique across provinces: fails (and changes nothing) if two provinces now share one."""
    op.drop_table("criteria_sets")
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_column("imported")
        batch_op.drop_column("unit_id")
    for table, (old, _) in _KEYS.items():
        _rekey(table, old)
