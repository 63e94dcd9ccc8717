"""shared.db.Database on SQLite: a thread's writer connection, checkpoints beside the writers."""
from __future__ import annotations

import multiprocessing
import os
import threading
import time

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.exc import InvalidRequestError

from shared.db import WAL_BACKSTOP_PAGES, Database, DriverStatement

metadata = MetaData()
items = Table("items", metadata, Column("id", Integer, primary_key=True), Column("body", String, nullable=False))


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/items.db")
    database.create_all(metadata)
    yield database
    database.dispose()


def _driver_connection(db: Database):
    with db.write() as conn:
        return conn.connection.dbapi_connection


def _count(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(items)).scalar_one()


def test_a_thread_keeps_its_writer_connection_and_another_thread_has_its_own(db):
    first, second = _driver_connection(db), _driver_connection(db)
    assert first is second
    other = []
    thread = threading.Thread(target=lambda: other.append(_driver_connection(db)))
    thread.start()
    thread.join()
    assert other[0] is not first


def test_a_failed_transaction_leaves_nothing_and_the_connection_writes_again(db):
    with pytest.raises(RuntimeError), db.write() as conn:
        conn.execute(insert(items).values(id=1, body="lost"))
        raise RuntimeError("the decision failed")
    with db.write() as conn:
        conn.execute(insert(items).values(id=2, body="kept"))
    with db.read() as conn:
        assert conn.execute(select(items.c.body)).scalars().all() == ["kept"]


_INSERT = DriverStatement.insert(items, ("id", "body"))


@pytest.mark.parametrize("through", ["driver", "sqlalchemy", "both", "savepoint"])
def test_a_write_commits_or_rolls_back_whichever_way_its_block_executes(db, through):
    """Database.write begins the transaction on the driver; a block that executes through
    SQLAlchemy makes it begin one of its own inside. Either way the block is one transaction."""
    def block(conn, first_id):
        if through in ("driver", "both"):
            _INSERT.execute(conn, [{"id": first_id, "body": "driver"}])
        if through in ("sqlalchemy", "both"):
            conn.execute(insert(items).values(id=first_id + 1, body="sqlalchemy"))
        if through == "savepoint":
            with conn.begin_nested():
                conn.execute(insert(items).values(id=first_id, body="kept"))
            with pytest.raises(RuntimeError), conn.begin_nested():
                conn.execute(insert(items).values(id=first_id + 1, body="undone"))
                raise RuntimeError("this part failed")

    with pytest.raises(RuntimeError, match="the decision"), db.write() as conn:
        block(conn, 1)
        raise RuntimeError("the decision failed")
    assert _count(db) == 0
    with db.write() as conn:
        block(conn, 10)
        assert conn.connection.dbapi_connection.in_transaction
    with db.read() as conn:
        bodies = conn.execute(select(items.c.body).order_by(items.c.id)).scalars().all()
    assert bodies == {"driver": ["driver"], "sqlalchemy": ["sqlalchemy"], "both": ["driver", "sqlalchemy"],
                      "savepoint": ["kept"]}[through]
    assert not _driver_connection(db).in_transaction  # nothing left open for the next write


@pytest.mark.parametrize("ends", ["commit", "rollback", "begin"])
def test_a_block_that_ends_the_transaction_itself_fails_and_leaves_nothing(db, ends):
    """Otherwise the rest of the block would run outside any transaction (the driver commits
    each statement on its own then), and the write would no longer be one."""
    with pytest.raises(InvalidRequestError, match="must not commit or roll back"), db.write() as conn:
        _INSERT.execute(conn, [{"id": 1, "body": "first"}])
        if ends == "begin":
            with conn.begin():
                conn.execute(insert(items).values(id=2, body="second"))
        else:
            conn.execute(insert(items).values(id=2, body="second"))
            getattr(conn, ends)()
        _INSERT.execute(conn, [{"id": 3, "body": "third"}])
    assert _count(db) == 0
    with db.write() as conn:  # and the thread writes again
        conn.execute(insert(items).values(id=4, body="later"))
    assert _count(db) == 1


def test_a_write_can_show_sqlalchemy_its_transaction_from_the_start(db):
    with db.write() as conn:
        assert not conn.in_transaction()  # until the block executes through SQLAlchemy
        _INSERT.execute(conn, [{"id": 1, "body": "driver"}])
        assert not conn.in_transaction()
    with pytest.raises(RuntimeError), db.write(sqlalchemy_transaction=True) as conn:
        assert conn.in_transaction() and conn.get_transaction() is not None
        _INSERT.execute(conn, [{"id": 2, "body": "undone"}])
        raise RuntimeError("the decision failed")
    with db.write(sqlalchemy_transaction=True) as conn:
        _INSERT.execute(conn, [{"id": 3, "body": "kept"}])
    with db.read() as conn:
        assert conn.execute(select(items.c.id).order_by(items.c.id)).scalars().all() == [1, 3]


_FAILED_COMMIT = """
import os, resource, signal, sys
from sqlalchemy import text
from shared.db import Database
db = Database(f"sqlite:///{sys.argv[1]}/x.db")
with db.write() as conn:
    conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)"))
with db.write() as conn:
    conn.execute(text("INSERT INTO t (body) VALUES ('small')"))
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing us
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (max(os.path.getsize(sys.argv[1] + "/x.db-wal"),
                                               os.path.getsize(sys.argv[1] + "/x.db")), hard))
try:
    with db.write() as conn:  # the WAL cannot grow: SQLite fails the COMMIT and rolls back itself
        conn.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": b"x" * 200_000})
    print("committed")
except Exception as exc:
    print("failed", type(exc).__name__)
finally:
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
for _ in range(3):
    with db.write() as conn:
        conn.execute(text("INSERT INTO t (body) VALUES ('after')"))
with db.read() as conn:
    print("rows", conn.execute(text("SELECT count(*) FROM t")).scalar_one())
"""


def test_a_commit_that_sqlite_fails_leaves_the_thread_able_to_write_again(tmp_path):
    """A full disk at COMMIT: SQLite rolls the transaction back itself, SQLAlchemy keeps its own
    as inactive; the connection is dropped, and the next writes of the thread succeed."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", _FAILED_COMMIT, str(tmp_path)], capture_output=True, text=True,
                          timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["failed", "OperationalError", "rows", "4"]


def test_a_nested_write_in_one_thread_fails_at_once_instead_of_waiting_for_itself(db):
    started = time.monotonic()
    with db.write(), pytest.raises(InvalidRequestError):
        with db.write():
            pass
    assert time.monotonic() - started < 5  # SQLite's own busy timeout is 30 s


def test_execution_options_left_on_a_writer_connection_do_not_reach_the_next_transaction(db):
    with db.write() as conn:
        conn.execution_options(schema_translate_map={None: "shadow"})  # changes the connection itself
    with db.write() as conn:
        assert not conn.get_execution_options().get("schema_translate_map")
        conn.execute(insert(items).values(id=1, body="in the main schema"))
    assert _count(db) == 1


def test_writes_are_checkpointed_into_the_database_file_well_before_the_backstop(db, tmp_path):
    path = tmp_path / "items.db"
    before = path.stat().st_size
    for i in range(60):  # a few hundred WAL pages at most, far below the backstop
        with db.write() as conn:
            conn.execute(insert(items).values(id=i, body="x" * 3000))
    assert 60 * 2 < WAL_BACKSTOP_PAGES
    deadline = time.monotonic() + 5
    while path.stat().st_size <= before + 60 * 3000 and time.monotonic() < deadline:
        time.sleep(0.05)  # nothing in this process checkpoints but the checkpointing thread
    assert path.stat().st_size > before + 60 * 3000, "the rows are still only in the WAL"


def _write_in_child(db: Database, row_id: int) -> None:
    with db.write() as conn:
        conn.execute(insert(items).values(id=row_id, body="child"))
    os._exit(0)


def test_a_forked_child_writes_on_a_connection_of_its_own(db):
    with db.write() as conn:  # the parent holds a connection before the fork
        conn.execute(insert(items).values(id=1, body="parent"))
    child = multiprocessing.get_context("fork").Process(target=_write_in_child, args=(db, 2))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    with db.write() as conn:  # and the parent's connection is still good
        conn.execute(insert(items).values(id=3, body="parent again"))
    assert _count(db) == 3


def test_after_dispose_a_write_opens_a_new_connection(db):
    first = _driver_connection(db)
    db.dispose()
    assert _driver_connection(db) is not first
    assert _count(db) == 0


def test_one_database_handle_per_file_checkpoints_it_and_another_takes_over_when_it_is_gone(db, tmp_path):
    other = Database(f"sqlite:///{tmp_path}/items.db")
    try:
        for i, handle in enumerate((db, other)):
            with handle.write() as conn:
                conn.execute(insert(items).values(id=i, body="x"))
        elected = [h for h in (db, other) if h._checkpoint.fd is not None]
        assert elected == [db]  # flock: one holder per file, even within one process
        db.dispose()
        time.sleep(1.1)  # a handle that is not the checkpointer tries again at most once a second
        with other.write() as conn:
            conn.execute(insert(items).values(id=5, body="x"))
        assert other._checkpoint.fd is not None
    finally:
        other.dispose()



def test_a_commit_sqlite_refuses_leaves_the_thread_a_connection_that_writes_again(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/deferred.db")
    try:
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            conn.exec_driver_sql("CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                                 "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
        with pytest.raises(Exception, match="FOREIGN KEY"), db.write() as conn:
            conn.exec_driver_sql("INSERT INTO child VALUES (1, 99)")  # refused only at COMMIT
        with db.write() as conn:  # neither stuck in that transaction nor holding the write lock
            conn.exec_driver_sql("INSERT INTO parent VALUES (1)")
        with db.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM parent").scalar_one() == 1
            assert conn.exec_driver_sql("SELECT count(*) FROM child").scalar_one() == 0
    finally:
        db.dispose()


def test_an_in_memory_database_keeps_what_its_writer_wrote():
    db = Database("sqlite://")
    try:
        with db.write() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER)")
        with db.write() as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 1
    finally:
        db.dispose()
