"""webhooks: a rotated-out secret kept for its grace period; secrets sealed at rest

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-03 07:45:00

Two nullable columns on ``webhook_subscriptions``: ``previous_secret`` (the secret a
rotation replaced, still signing beside the new one) and ``previous_secret_until`` (when
it stops). And the migration path of the secrets already stored in plain text: when
``WEBHOOK_SECRETS_KEY`` is set while this runs they are sealed now (the worker seals any
left at its next start anyway); going down opens them again with that key, since the code
before this revision reads plain text — refused, naming the setting, when a sealed secret
cannot be opened, rather than leaving rows no one can read.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from services.notifications.webhook_secrets import SecretBox, is_sealed

# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_subs = sa.table('webhook_subscriptions', sa.column('id', sa.String), sa.column('secret', sa.String))


def _rewrite(change) -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(_subs.c.id, _subs.c.secret)).all():
        new = change(row.secret)
        if new is not None and new != row.secret:
            conn.execute(_subs.update().where(_subs.c.id == row.id).values(secret=new))


def upgrade() -> None:
    with op.batch_alter_table('webhook_subscriptions') as batch:
        batch.add_column(sa.Column('previous_secret', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('previous_secret_until', sa.DateTime(timezone=True), nullable=True))
    box = SecretBox.from_env()
    if box.keyed:
        _rewrite(box.reseal)


def downgrade() -> None:
    box = SecretBox.from_env()
    _rewrite(lambda stored: box.open(stored) if is_sealed(stored) else None)
    with op.batch_alter_table('webhook_subscriptions') as batch:
        batch.drop_column('previous_secret_until')
        batch.drop_column('previous_secret')
