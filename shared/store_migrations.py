"""Schema steps of the store tables (events, outbox …) that every service's Alembic history
takes at the same revision: each service's revision file names its place in its own history
and calls the step here. A step, once released, is never changed; a new change is a new step.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_EXEMPLAR = sa.text("correlation_id LIKE 'exemplar-%'")


def events_indexes_upgrade() -> None:
    """Every index of ``events`` is one more B-tree page written per append. The audit looks
    events up by an exemplar's correlation id, so only those are indexed; the province export
    pages through position order with a filter."""
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_province_position')
        batch_op.drop_index('ix_events_correlation')
        batch_op.create_index('ix_events_exemplar_correlation', ['correlation_id'], unique=False,
                              sqlite_where=_EXEMPLAR, postgresql_where=_EXEMPLAR)


def events_indexes_downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_exemplar_correlation')
        batch_op.create_index('ix_events_correlation', ['correlation_id'], unique=False)
        batch_op.create_index('ix_events_province_position', ['province', 'position'], unique=False)


_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
_SENT_MATCHES = "sent = (sent_at IS NOT NULL)"
_EVENT_COLUMNS = ("position, event_id, stream_id, version, type, province, correlation_id, recorded_at, body, "
                  "prev_hash, hash")


def _sqlite_events(name: str, event_id_unique: bool) -> None:
    op.create_table(
        name,
        sa.Column('position', _BIG_ID, autoincrement=True, nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('stream_id', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('type', sa.String(length=200), nullable=False),
        sa.Column('province', sa.String(length=16), nullable=False),
        sa.Column('correlation_id', sa.String(length=64), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('position'),
        *([sa.UniqueConstraint('event_id')] if event_id_unique else []),
        sa.UniqueConstraint('stream_id', 'version', name='uq_events_stream_version'))


def _sqlite_rebuild(event_id_unique: bool, outbox: tuple, outbox_rowid: bool, copy_back: str) -> None:
    """SQLite drops a table constraint only with its table: the events are copied into a new one,
    with the outbox, which refers to them, set aside meanwhile and then made again from
    ``outbox`` (its columns and constraints) and ``copy_back`` (a SELECT of the rows set aside,
    in _outbox_kept). Dropping a table drops its indexes."""
    op.execute("CREATE TABLE _outbox_kept AS SELECT position, topic, sent_at, traceparent FROM outbox")
    op.drop_table('outbox')
    _sqlite_events('_events_new', event_id_unique)
    op.execute(f"INSERT INTO _events_new ({_EVENT_COLUMNS}) SELECT {_EVENT_COLUMNS} FROM events")
    op.drop_table('events')
    op.rename_table('_events_new', 'events')
    op.create_index('ix_events_exemplar_correlation', 'events', ['correlation_id'], unique=False,
                    sqlite_where=_EXEMPLAR)
    table = op.create_table('outbox', *outbox, sqlite_with_rowid=outbox_rowid)
    op.execute(f"INSERT INTO outbox ({', '.join(c.name for c in table.columns)}) {copy_back}")
    op.drop_table('_outbox_kept')


def store_tables_upgrade() -> None:
    """Two B-tree pages fewer per append:

    * events: no unique index on event_id. An event's id is now the name-based UUID of its
      store's topic, stream, version and envelope id (``shared.eventstore.event_id``), unique
      because the (stream, version) key is; the ids stored before are UUIDs of version 4, which
      those never equal.
    * outbox: keyed by (sent, position) instead of a rowid with an index on (sent_at, id); on
      SQLite one B-tree (WITHOUT ROWID). Rows keep their sent_at; ``sent`` is set from it.
    """
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_rebuild(event_id_unique=False, outbox=(
            sa.Column('sent', sa.Boolean(), server_default=sa.false(), nullable=False),
            sa.Column('position', _BIG_ID, autoincrement=False, nullable=False),
            sa.Column('topic', sa.String(length=200), nullable=False),
            sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
            sa.Column('traceparent', sa.String(length=55), nullable=True),
            sa.CheckConstraint(_SENT_MATCHES, name='ck_outbox_sent'),
            sa.ForeignKeyConstraint(['position'], ['events.position']),
            sa.PrimaryKeyConstraint('sent', 'position')), outbox_rowid=False,
            copy_back="SELECT sent_at IS NOT NULL, position, topic, sent_at, traceparent FROM _outbox_kept")
        return
    op.drop_constraint('events_event_id_key', 'events', type_='unique')
    op.add_column('outbox', sa.Column('sent', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.execute("UPDATE outbox SET sent = sent_at IS NOT NULL")
    op.drop_index('ix_outbox_unsent', table_name='outbox')
    op.drop_constraint('outbox_pkey', 'outbox', type_='primary')
    op.drop_column('outbox', 'id')
    op.create_primary_key('outbox_pkey', 'outbox', ['sent', 'position'])
    op.create_check_constraint('ck_outbox_sent', 'outbox', _SENT_MATCHES)


def store_tables_downgrade() -> None:
    """Back to a unique event_id (the ids stay as they are: unique) and a rowid outbox with an
    index on (sent_at, id); ids follow the positions."""
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_rebuild(event_id_unique=True, outbox=(
            sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
            sa.Column('position', _BIG_ID, nullable=False),
            sa.Column('topic', sa.String(length=200), nullable=False),
            sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
            sa.Column('traceparent', sa.String(length=55), nullable=True),
            sa.ForeignKeyConstraint(['position'], ['events.position']),
            sa.PrimaryKeyConstraint('id')), outbox_rowid=True,
            copy_back="SELECT position, position, topic, sent_at, traceparent FROM _outbox_kept")
    else:
        op.create_unique_constraint('events_event_id_key', 'events', ['event_id'])
        op.drop_constraint('ck_outbox_sent', 'outbox', type_='check')
        op.drop_constraint('outbox_pkey', 'outbox', type_='primary')
        op.execute("ALTER TABLE outbox ADD COLUMN id BIGSERIAL")  # as 0001 made it
        op.execute("UPDATE outbox SET id = position")
        op.execute("SELECT setval('outbox_id_seq', (SELECT coalesce(max(id), 0) + 1 FROM outbox), false)")
        op.create_primary_key('outbox_pkey', 'outbox', ['id'])
        op.drop_column('outbox', 'sent')
    op.create_index('ix_outbox_unsent', 'outbox', ['sent_at', 'id'], unique=False)


def org_units_upgrade() -> None:
    """0005: each service's own copy of the organisation chart (shared.orgchart)."""
    op.create_table(
        "org_units",
        sa.Column("province", sa.String(length=16), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("province", "id"),
    )


def org_units_downgrade() -> None:
    op.drop_table("org_units")


def documents_upgrade() -> None:
    """0011: the files uploaded to a service (shared.documents.Uploads), in the services that take them."""
    op.create_table(
        "documents",
        sa.Column("province", sa.String(length=16), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("province", "sha256"),
    )


def documents_downgrade() -> None:
    op.drop_table("documents")


_PROCESSED_COLUMNS = (("correlation_id", sa.String(length=64)), ("event_type", sa.String(length=200)),
                      ("province", sa.String(length=16)), ("occurred_at", sa.DateTime(timezone=True)))


def audit_anchors_upgrade() -> None:
    """0007: what the audit of every case and ``thidua verify`` read.

    * events: the correlation index covers every story, not only exemplars' (a case is any
      registration's);
    * stream_heads: each stream's last version and hash, filled from the events kept;
    * processed_events: the story, type, province and time of each consumed event (NULL in the
      rows kept: what was consumed before is not known by story), indexed by story.
    """
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_exemplar_correlation')
        batch_op.create_index('ix_events_correlation', ['correlation_id'], unique=False)
    op.create_table(
        'stream_heads',
        sa.Column('stream_id', sa.String(length=200), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('stream_id'), sqlite_with_rowid=False)
    op.execute("INSERT INTO stream_heads (stream_id, version, hash) SELECT e.stream_id, e.version, e.hash "
               "FROM events e JOIN (SELECT stream_id, max(version) AS version FROM events GROUP BY stream_id) h "
               "ON e.stream_id = h.stream_id AND e.version = h.version")
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        for name, type_ in _PROCESSED_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
        batch_op.create_index('ix_processed_events_correlation', ['correlation_id'], unique=False)


def audit_anchors_downgrade() -> None:
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.drop_index('ix_processed_events_correlation')
        for name, _ in reversed(_PROCESSED_COLUMNS):
            batch_op.drop_column(name)
    op.drop_table('stream_heads')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_correlation')
        batch_op.create_index('ix_events_exemplar_correlation', ['correlation_id'], unique=False,
                              sqlite_where=_EXEMPLAR, postgresql_where=_EXEMPLAR)
