"""Registration's 0006: units, members and clusters keyed by their province, every row kept."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from shared import migrations
from shared.db import Database

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def database(request, tmp_path):
    def make(backend: str) -> Database:
        url = (f"sqlite:///{tmp_path / 'registration.db'}" if backend == "sqlite"
               else request.getfixturevalue("fresh_pg_database")("registration0006"))
        return Database(url)
    return make


ROWS = {
    "units": "INSERT INTO units (id, province, name, kind, parent_id) VALUES ('so', '83', 'Sở GD&ĐT', 'department', NULL)",
    "members": "INSERT INTO members (unit_id, person_id, province, name, individual_kind)"
               " VALUES ('so', 'gv-1', '83', 'Giáo viên', 'teacher')",
    "clusters": "INSERT INTO clusters (id, province, name, kind, member_unit_ids) VALUES ('khoi', '83', 'Khối', 'block', '[]')",
    "registrations": "INSERT INTO registrations (id, campaign_id, province, participant_id, participant_kind, name, unit,"
                     " late, status, registered_on, pledges) VALUES ('r-1', 'c-1', '83', 'gv-1', 'individual', 'Giáo viên',"
                     " 'Trường', false, 'registered', '2024-04-01', '[]')",
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_keeps_every_row_and_lets_another_province_use_the_same_ids(database, backend):
    db = database(backend)
    migrations.upgrade(db, "registration", "0005")
    with db.write() as conn:
        for sql in ROWS.values():
            conn.execute(text(sql))
    migrations.upgrade(db, "registration")
    with db.read() as conn:
        assert migrations.differences(conn, "registration") == []
        assert conn.execute(text("SELECT id, province, name FROM units")).all() == [("so", "83", "Sở GD&ĐT")]
        assert conn.execute(text("SELECT unit_id, person_id, province FROM members")).all() == [("so", "gv-1", "83")]
        assert conn.execute(text("SELECT id, province FROM clusters")).all() == [("khoi", "83")]
        assert [tuple(r) for r in conn.execute(text("SELECT id, unit_id, imported FROM registrations"))] == [
            ("r-1", None, False)]
    with db.write() as conn:  # the same ids in another province
        for sql in (ROWS["units"], ROWS["members"], ROWS["clusters"]):
            conn.execute(text(sql.replace("'83'", "'64'")))
    with pytest.raises(Exception, match="(?i)unique|duplicate"), db.write() as conn:  # but not twice in one
        conn.execute(text(ROWS["units"]))
    db.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrading_gives_back_the_rows_with_their_old_keys(database, backend):
    db = database(backend)
    migrations.upgrade(db, "registration")
    with db.write() as conn:
        for sql in ROWS.values():
            conn.execute(text(sql))
    with db.write(sqlalchemy_transaction=True) as conn:
        command.downgrade(migrations.alembic_config("registration", conn), "0005")
    with db.read() as conn:
        assert conn.execute(text("SELECT id, province FROM units")).all() == [("so", "83")]
        assert conn.execute(text("SELECT count(*) FROM members")).scalar_one() == 1
    with pytest.raises(Exception, match="(?i)unique|duplicate"), db.write() as conn:  # ids global again
        conn.execute(text(ROWS["units"].replace("'83'", "'64'")))
    db.dispose()
