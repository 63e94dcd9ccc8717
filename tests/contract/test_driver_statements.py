"""Statements run on the driver (shared.db.DriverStatement) store exactly what SQLAlchemy would.

Each row is written twice, once through ``insert_row`` and once through ``conn.execute``,
and the two are compared as the database holds them (read back as text by plain SQL) and
as SQLAlchemy reads them, on SQLite and on PostgreSQL.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from sqlalchemy import (Boolean, Column, Date, DateTime, Integer, MetaData, String, Table, Text, bindparam,
                        select, text, update)
from sqlalchemy.exc import IntegrityError

from shared.db import Database, DriverStatement, insert_row

metadata = MetaData()
things = Table(
    "driver_things", metadata,
    Column("id", String(20), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("flag", Boolean, nullable=False),
    Column("day", Date, nullable=True),
    Column("at", DateTime(timezone=True), nullable=True),
    Column("note", Text, nullable=True),
)
with_default = Table("driver_defaults", metadata, Column("id", String(20), primary_key=True),
                     Column("n", Integer, nullable=False, default=0))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    url = (f"sqlite:///{tmp_path / 'driver.db'}" if request.param == "sqlite"
           else request.getfixturevalue("fresh_pg_database")())
    database = Database(url)
    database.create_all(metadata)
    yield database
    database.dispose()


ROW = {"count": 3, "flag": True, "day": date(2025, 9, 5),
       "at": datetime(2025, 10, 1, 7, 30, 15, 123456, tzinfo=timezone.utc), "note": "Nguyễn Thị «Giáo viên»"}


def as_stored(db: Database, id_: str) -> tuple:
    with db.read() as conn:
        return tuple(conn.execute(text("SELECT CAST(count AS TEXT), CAST(flag AS TEXT), CAST(day AS TEXT), "
                                       "CAST(at AS TEXT), note FROM driver_things WHERE id = :id"),
                                  {"id": id_}).one())


def as_read(db: Database, id_: str) -> tuple:
    with db.read() as conn:
        return tuple(conn.execute(select(things).where(things.c.id == id_)).one())[1:]


@pytest.mark.parametrize("row", [ROW, {**ROW, "flag": False, "day": None, "at": None, "note": None}])
def test_a_row_inserted_on_the_driver_is_stored_as_sqlalchemy_stores_it(db, row):
    with db.write() as conn:
        insert_row(conn, things, {"id": "driver", **row})
        conn.execute(things.insert(), {"id": "sqlalchemy", **row})

    assert as_stored(db, "driver") == as_stored(db, "sqlalchemy")
    assert as_read(db, "driver") == as_read(db, "sqlalchemy")


def test_a_duplicate_key_raises_sqlalchemys_integrity_error_and_the_transaction_keeps_nothing(db):
    with pytest.raises(IntegrityError):
        with db.write() as conn:
            insert_row(conn, things, {"id": "twice", **ROW})
            insert_row(conn, things, {"id": "twice", **ROW})
    with db.read() as conn:
        assert conn.execute(select(things.c.id)).all() == []


def test_scalars_answers_the_first_column_of_the_rows_found(db):
    find = DriverStatement(select(things.c.id).where(things.c.count == bindparam("count"))
                           .order_by(things.c.id))
    with db.write() as conn:
        for id_, count in (("a", 3), ("b", 4), ("c", 3)):
            insert_row(conn, things, {"id": id_, **ROW, "count": count})
    with db.read() as conn:
        assert find.scalars(conn, {"count": 3}) == ["a", "c"]
        assert find.scalars(conn, {"count": 5}) == []


def test_rows_answers_what_sqlalchemy_answers_with_a_limit_the_statement_carries(db):
    page = (select(things.c.id, things.c.count, things.c.note).where(things.c.count >= bindparam("least"))
            .order_by(things.c.id).limit(bindparam("limit")))
    with db.write() as conn:
        for id_, count in (("a", 3), ("b", 4), ("c", 5), ("d", 6)):
            insert_row(conn, things, {"id": id_, **ROW, "count": count})
    with db.read() as conn:
        for params in ({"least": 4, "limit": 2}, {"least": 0, "limit": 10}, {"least": 9, "limit": 5}):
            assert DriverStatement(page).rows(conn, params) == [tuple(r) for r in conn.execute(page, params)]
        assert DriverStatement(page).rows(conn, {"least": 4, "limit": 2}) == [
            ("b", 4, ROW["note"]), ("c", 5, ROW["note"])]


def test_a_table_whose_python_default_would_be_skipped_is_refused():
    with pytest.raises(ValueError, match="n"):
        DriverStatement.insert(with_default, ("id",))


def test_an_update_with_parameters_in_any_order_changes_the_rows_it_names(db):
    add = DriverStatement(update(things).where(things.c.id == bindparam("which"))
                          .values(count=things.c.count + bindparam("delta")))
    with db.write() as conn:
        insert_row(conn, things, {"id": "a", **ROW})
        insert_row(conn, things, {"id": "b", **ROW})
        add.execute(conn, [{"which": "a", "delta": 2}])
        add.execute(conn, [{"delta": -1, "which": "b"}, {"delta": 5, "which": "b"}])
    with db.read() as conn:
        assert dict(conn.execute(select(things.c.id, things.c.count)).all()) == {"a": 5, "b": 7}
