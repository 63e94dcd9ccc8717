"""The migrations are the schema: upgrading an empty database to head gives exactly the
tables, columns, types, indexes and constraints the code declares, on SQLite and on
PostgreSQL (Alembic's autogenerate comparison finds nothing to change)."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from shared import migrations
from shared.db import Database
from shared.stack import SERVICES

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def empty_database(request, tmp_path):
    made = []

    def make(backend: str, label: str = "migrations") -> Database:
        url = (f"sqlite:///{tmp_path / f'{label}-{len(made)}.db'}" if backend == "sqlite"
               else request.getfixturevalue("fresh_pg_database")(label))
        made.append(Database(url))
        return made[-1]

    yield make
    for db in made:
        db.dispose()


def differences(db: Database, service: str) -> list:
    with db.read() as conn:
        return migrations.differences(conn, service)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("service", SERVICES)
def test_upgrading_an_empty_database_gives_exactly_the_schema_of_the_code(empty_database, backend, service):
    db = empty_database(backend)
    before = migrations.upgrade(db, service)
    assert before.current is None and migrations.status(db, service).at_head
    assert differences(db, service) == []


@pytest.mark.parametrize("service", SERVICES)
def test_a_new_sqlite_file_gets_the_same_schema_when_a_process_starts(empty_database, service):
    db = empty_database("sqlite")
    migrations.prepare(db, service)
    assert migrations.status(db, service).at_head
    assert differences(db, service) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_revision_downgrades_and_upgrades_again(empty_database, backend):
    db = empty_database(backend)
    migrations.upgrade(db, "awards")
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("awards", conn), "base")
    with db.read() as conn:
        assert inspect(conn).get_table_names() == ["alembic_version"]
    migrations.upgrade(db, "awards")
    assert differences(db, "awards") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_process_refuses_a_database_behind_the_code_until_it_is_migrated(empty_database, backend):
    db = empty_database(backend)
    migrations.upgrade(db, "registration", migrations.INITIAL)
    missing = differences(db, "registration")  # the comparison does see a difference
    # (Alembic does not compare SQLite's unnamed unique constraints: the next test looks for that one)
    assert sorted((d[0], d[-1].name) for d in missing) == sorted([
        ("add_column", "sent"), ("add_column", "traceparent"),
        ("add_table", "org_units"), ("add_table", "criteria_sets"), ("add_column", "unit_id"),
        ("add_column", "imported"), ("add_table", "stream_heads"), ("add_column", "correlation_id"),
        ("add_column", "event_type"), ("add_column", "province"), ("add_column", "occurred_at"),
        ("add_index", "ix_processed_events_correlation"),
        ("remove_column", "id"),
        ("remove_index", "ix_events_province_position"), ("remove_index", "ix_outbox_unsent"),
        *([("remove_constraint", "events_event_id_key")] if backend == "postgres" else [])])
    with pytest.raises(migrations.SchemaNotCurrent, match="thidua migrate --service registration"):
        migrations.prepare(db, "registration")
    assert migrations.upgrade(db, "registration").current == migrations.INITIAL
    migrations.prepare(db, "registration")  # now at head: accepted as is


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_made_before_migrations_is_adopted_and_upgraded(empty_database, backend):
    db = empty_database(backend)
    migrations.upgrade(db, "evaluation", migrations.INITIAL)
    with db.write() as conn:  # what `create_all` left before this history existed
        conn.execute(text("DROP TABLE alembic_version"))
    migrations.upgrade(db, "evaluation")
    assert migrations.status(db, "evaluation").at_head
    assert differences(db, "evaluation") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_store_tables_keep_their_rows_when_they_lose_two_indexes(empty_database, backend):
    db = empty_database(backend)
    migrations.upgrade(db, "awards", "0003")
    with db.write() as conn:
        for position, sent_at in ((1, "2026-12-01 10:00:00"), (2, None)):
            conn.execute(text(
                "INSERT INTO events (position, event_id, stream_id, version, type, province, correlation_id,"
                " recorded_at, body, prev_hash, hash) VALUES (:p, :id, 's', :p, 't', '83', 'c',"
                " '2026-12-01 09:00:00', '{}', 'x', 'y')"), {"p": position, "id": f"e{position}"})
            conn.execute(text("INSERT INTO outbox (position, topic, sent_at, traceparent) VALUES (:p, 'topic', :s, 'tp')"),
                         {"p": position, "s": sent_at})
    migrations.upgrade(db, "awards")
    assert differences(db, "awards") == []
    with db.read() as conn:
        rows = conn.execute(text("SELECT position, sent, sent_at IS NULL, topic, traceparent FROM outbox"
                                 " ORDER BY position")).all()
        assert [(p, bool(s), unsent, t, tp) for p, s, unsent, t, tp in rows] == [
            (1, True, False, "topic", "tp"), (2, False, True, "topic", "tp")]
        assert conn.execute(text("SELECT position, event_id FROM events ORDER BY position")).all() == [
            (1, "e1"), (2, "e2")]
        if backend == "sqlite":  # the point of it: one B-tree, as create_all makes it, and no index on event_id
            ddl = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'outbox'")).scalar_one()
            assert ddl.rstrip().endswith("WITHOUT ROWID")
            unique = [r[1] for r in conn.execute(text("PRAGMA index_list('events')")) if r[2]]
            assert [[c[2] for c in conn.execute(text(f"PRAGMA index_info('{name}')"))] for name in unique] == [
                ["stream_id", "version"]]
    with db.write(sqlalchemy_transaction=True) as conn:  # and back: the rows again, ids in position order
        command.downgrade(migrations.alembic_config("awards", conn), "0003")
    with db.read() as conn:
        assert conn.execute(text("SELECT id, position, sent_at IS NULL FROM outbox ORDER BY id")).all() == [
            (1, 1, False), (2, 2, True)]
    with pytest.raises(Exception, match="(?i)unique|duplicate"), db.write() as conn:  # event_id unique again
        conn.execute(text("UPDATE events SET event_id = 'e1'"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_0007_gives_every_kept_stream_its_head_and_keeps_what_was_consumed(empty_database, backend):
    db = empty_database(backend)
    migrations.upgrade(db, "notifications", "0006")
    with db.write() as conn:
        for position, (stream, version, hash_) in enumerate((("a", 1, "a1"), ("b", 1, "b1"), ("a", 2, "a2")), 1):
            conn.execute(text(
                "INSERT INTO events (position, event_id, stream_id, version, type, province, correlation_id,"
                " recorded_at, body, prev_hash, hash) VALUES (:p, :id, :s, :v, 't', '83', 'c',"
                " '2026-12-01 09:00:00', '{}', 'x', :h)"), {"p": position, "id": f"e{position}", "s": stream,
                                                            "v": version, "h": hash_})
        conn.execute(text("INSERT INTO processed_events (consumer, event_id, outcome, processed_at)"
                          " VALUES ('notifications', 'x1', 'applied', '2026-12-01 09:00:00')"))
    migrations.upgrade(db, "notifications")
    assert differences(db, "notifications") == []
    with db.read() as conn:
        assert conn.execute(text("SELECT stream_id, version, hash FROM stream_heads ORDER BY stream_id")).all() == [
            ("a", 2, "a2"), ("b", 1, "b1")]
        assert conn.execute(text("SELECT event_id, outcome, correlation_id FROM processed_events")).all() == [
            ("x1", "applied", None)]
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("notifications", conn), "0006")
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM events")).scalar_one() == 3
        assert conn.execute(text("SELECT event_id, outcome FROM processed_events")).all() == [("x1", "applied")]
        assert "stream_heads" not in inspect(conn).get_table_names()
