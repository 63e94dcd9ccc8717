"""Revision 0012 of awards, on SQLite and PostgreSQL: the awards already in history get their
search key, so the public look-up finds them; down and up again keeps every row."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from shared import migrations
from tests.ops.test_migrations_0006 import BACKENDS

AWARD = ("INSERT INTO award_history (id, province, participant_id, participant_kind, name, award, award_name,"
         " kind, year, decision_number, decision_date, issuer, level, status, imported) VALUES (:id, '86', :pid,"
         " 'individual', :name, 'bang_khen_chu_tich_tinh', 'Bằng khen', 'periodic', 2024, '100/QĐ-UBND',"
         " '2024-06-01', 'Chủ tịch UBND tỉnh', 'province', 'valid', false)")


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_gives_every_award_already_there_its_search_key_and_down_keeps_the_rows(database, backend):
    db = database(backend)
    migrations.upgrade(db, "awards", "0006")
    with db.write() as conn:
        conn.execute(text(AWARD), {"id": "a1", "pid": "gv-1", "name": "Trần Thị Bích"})
        conn.execute(text(AWARD), {"id": "a2", "pid": "gv-2", "name": "Đặng  Quốc Bảo"})
    migrations.upgrade(db, "awards")
    with db.read() as conn:
        assert migrations.differences(conn, "awards") == []
        assert conn.execute(text("SELECT id, name_key FROM award_history ORDER BY id")).all() == [
            ("a1", "tran thi bich"), ("a2", "dang quoc bao")]
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("awards", conn), "0006")
    with db.read() as conn:
        assert conn.execute(text("SELECT id, name FROM award_history ORDER BY id")).all() == [
            ("a1", "Trần Thị Bích"), ("a2", "Đặng  Quốc Bảo")]
    migrations.upgrade(db, "awards")
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM award_history WHERE name_key IS NOT NULL")).scalar() == 2
