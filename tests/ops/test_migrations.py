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
    with db.write() as conn:
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
    assert sorted((d[0], d[-1].name) for d in missing) == [
        ("add_column", "traceparent"), ("add_index", "ix_events_exemplar_correlation"),
        ("remove_index", "ix_events_correlation"), ("remove_index", "ix_events_province_position")]
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
