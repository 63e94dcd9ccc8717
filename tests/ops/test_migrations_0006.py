"""Revisions 0006, on SQLite and PostgreSQL, keeping the rows an installation already has:
evaluation's criteria sets keyed by (province, id); notifications' people, and its flat list of
units folded into its organisation chart."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from shared import migrations

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SET = ("INSERT INTO criteria_sets (id, province, version, name, applies_to, criteria, source)"
       " VALUES (:id, :province, 1, 'Tiêu chí', '[]', '[]', 'Kế hoạch')")


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


@pytest.mark.parametrize("backend", BACKENDS)
def test_notifications_units_move_into_its_org_chart_and_come_back_on_downgrade(database, backend):
    db = database(backend)
    migrations.upgrade(db, "notifications", "0005")
    with db.write() as conn:
        conn.execute(text("INSERT INTO units (id, province, name) VALUES ('thcs-ba-tri', '86', 'Trường THCS Ba Tri')"))
        conn.execute(text("INSERT INTO org_units (province, id, parent_id, name, kind, level) VALUES"
                          " ('86', 'so', NULL, 'Sở GD&ĐT', 'department', 'department')"))
        conn.execute(text("INSERT INTO units (id, province, name) VALUES ('so', '86', 'Sở GD&ĐT')"))
    migrations.upgrade(db, "notifications")
    with db.read() as conn:
        assert migrations.differences(conn, "notifications") == []
        assert conn.execute(text("SELECT province, id, kind FROM org_units ORDER BY id")).all() == [
            ("86", "so", "department"), ("86", "thcs-ba-tri", "other")]  # a unit already in the chart stays as is
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("notifications", conn), "0005")
    with db.read() as conn:
        assert conn.execute(text("SELECT id, province FROM units ORDER BY id")).all() == [
            ("so", "86"), ("thcs-ba-tri", "86")]
    migrations.upgrade(db, "notifications")
    with db.read() as conn:
        assert migrations.differences(conn, "notifications") == []
