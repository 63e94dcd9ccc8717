"""Revision 0011 (documents), on SQLite and PostgreSQL, keeping the rows an installation already has:
evaluation's rounds get a ``documents`` column (none for the old rounds), awards and evaluation a
``documents`` table of what was uploaded; a downgrade drops only those."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from shared import migrations
from shared.db import Database

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ROUND = ("INSERT INTO evaluations (registration_id, round, province, campaign_id, criteria_set_id,"
         " criteria_set_version, passed, evaluated_on, results, note, event_id) VALUES ('r1', 1, '86', 'c1',"
         " 'gv-2025', 1, true, '2024-11-20', '[]', 'Đạt', 'e1')")
UPLOAD = ("INSERT INTO documents (province, sha256, media_type, size, uploaded_by, uploaded_at) VALUES"
          " ('86', :h, 'application/pdf', 120, 'mai.tt', '2024-11-20 08:00:00+00:00')")


@pytest.fixture
def database(request, tmp_path):
    made = []

    def make(backend: str) -> Database:
        db = Database(f"sqlite:///{tmp_path / f'db-{len(made)}.db'}" if backend == "sqlite"
                      else request.getfixturevalue("fresh_pg_database")("migrations-0011"))
        made.append(db)
        return db
    yield make
    for db in made:
        db.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_evaluation_keeps_its_rounds_through_0011_up_and_down(database, backend):
    db = database(backend)
    migrations.upgrade(db, "evaluation", "0006")
    with db.write() as conn:
        conn.execute(text(ROUND))
    migrations.upgrade(db, "evaluation")
    with db.read() as conn:
        assert migrations.differences(conn, "evaluation") == []
        assert conn.execute(text("SELECT registration_id, note, documents FROM evaluations")).all() == [
            ("r1", "Đạt", None)]
    with db.write() as conn:
        conn.execute(text(UPLOAD), {"h": "a" * 64})
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("evaluation", conn), "0006")
    with db.read() as conn:
        assert "documents" not in inspect(conn).get_table_names()
        assert conn.execute(text("SELECT registration_id, note FROM evaluations")).all() == [("r1", "Đạt")]
    migrations.upgrade(db, "evaluation")
    with db.read() as conn:
        assert migrations.differences(conn, "evaluation") == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_awards_gets_its_documents_table_and_gives_it_back(database, backend):
    db = database(backend)
    migrations.upgrade(db, "awards")
    with db.write() as conn:
        conn.execute(text(UPLOAD), {"h": "b" * 64})
        assert conn.execute(text("SELECT size FROM documents")).scalar_one() == 120
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("awards", conn), "0006")
    with db.read() as conn:
        assert "documents" not in inspect(conn).get_table_names()
    migrations.upgrade(db, "awards")
    with db.read() as conn:
        assert migrations.differences(conn, "awards") == []
