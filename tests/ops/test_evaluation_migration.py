"""Evaluation's revision 0006: criteria sets keyed by (province, id), on SQLite and PostgreSQL,
keeping the rows an installation already has."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from shared import migrations
from shared.db import Database

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SET = ("INSERT INTO criteria_sets (id, province, version, name, applies_to, criteria, source)"
       " VALUES (:id, :province, 1, 'Tiêu chí', '[]', '[]', 'Kế hoạch')")


@pytest.fixture
def database(request, tmp_path):
    def make(backend: str) -> Database:
        return Database(f"sqlite:///{tmp_path / 'evaluation.db'}" if backend == "sqlite"
                        else request.getfixturevalue("fresh_pg_database")("evaluation-0006"))
    made = []
    yield lambda backend: made.append(make(backend)) or made[-1]
    for db in made:
        db.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_keeps_every_criteria_set_and_lets_a_second_province_use_the_same_id(database, backend):
    db = database(backend)
    migrations.upgrade(db, "evaluation", "0005")
    with db.write() as conn:
        conn.execute(text(SET), {"id": "gv-2025", "province": "86"})
        conn.execute(text("INSERT INTO candidates (registration_id, campaign_id, province, participant_id,"
                          " participant_kind, name, unit, status) VALUES ('r1', 'c1', '86', 'gv-001',"
                          " 'individual', 'Trần Thị Bích', 'Trường THPT', 'awaiting_evaluation')"))
    migrations.upgrade(db, "evaluation")
    with db.read() as conn:
        assert migrations.differences(conn, "evaluation") == []
    with db.write() as conn:
        conn.execute(text(SET), {"id": "gv-2025", "province": "52"})  # refused by the old key
    with db.read() as conn:
        assert conn.execute(text("SELECT province, id, version FROM criteria_sets ORDER BY province")).all() == [
            ("52", "gv-2025", 1), ("86", "gv-2025", 1)]
        assert conn.execute(text("SELECT registration_id, unit_id FROM candidates")).all() == [("r1", None)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_0006_downgrades_to_the_old_key_and_upgrades_again(database, backend):
    db = database(backend)
    migrations.upgrade(db, "evaluation")
    with db.write() as conn:
        conn.execute(text(SET), {"id": "gv-2025", "province": "86"})
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("evaluation", conn), "0005")
    with db.read() as conn:
        assert conn.execute(text("SELECT province, id FROM criteria_sets")).all() == [("86", "gv-2025")]
    migrations.upgrade(db, "evaluation")
    with db.read() as conn:
        assert migrations.differences(conn, "evaluation") == []
