"""One service's database: the same code on SQLite (default) and PostgreSQL.

SQLite is shared by several processes (gunicorn workers, the worker that relays
and consumes), so write transactions start with ``BEGIN IMMEDIATE``: a deferred
transaction that later upgrades to a write lock can deadlock with another writer
and fail at once, whatever the busy timeout. Reads use a second engine whose
transactions stay deferred so that they never queue behind writers (WAL mode).

SQLite itself lets a blocked writer poll: its busy handler sleeps 1, 2, 5, 10 … 100 ms
between tries, so under contention a write waits far longer than the lock is held.
Writers of one database file therefore queue on a lock of their own first — a
``threading.Lock`` inside the process and ``flock`` on ``<database>.writelock``
across processes — which wakes the next writer the moment the last one commits.
SQLite's locking stays underneath, so a process that does not take the lock (the
``sqlite3`` shell, an operator's script) is still safe, only slower to get in.

Two more things keep a write transaction short on SQLite:

* Checkpoints run beside the writers, not inside a commit. By default the commit that
  takes the WAL past 1000 pages copies it back into the database and waits for two
  ``fsync`` calls, holding up every writer queued behind it. Here each process that
  writes has one checkpointing thread (:class:`_Checkpointer`) that runs a PASSIVE
  checkpoint of the files it wrote a moment after they were written; SQLite lets that
  run while the next transactions commit. ``wal_autocheckpoint`` stays on, at a higher
  mark, as a backstop should that thread ever fall behind.
* Each thread keeps its writer connection from one transaction to the next: checking a
  connection out of the pool and back costs SQLAlchemy more than a one-event append
  costs SQLite.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, MetaData, Table, bindparam, create_engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# The commit that takes the WAL past this many pages checkpoints it itself: a backstop only,
# since each writing process checkpoints in a thread of its own (see _Checkpointer).
WAL_BACKSTOP_PAGES = 8000
CHECKPOINT_DELAY_S = 0.25
CHECKPOINT_EVERY = 200


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    # A read leaves its (deferred) transaction open; the pool's rollback on return ends it.
    # A writer's connection stays with its thread (Database.write), so the writer engine keeps no
    # pool: one connection per writing thread, closed with it. It is only used in ``begin()``
    # blocks, which end every transaction themselves, so nothing is rolled back when it closes.
    pooling = ({"poolclass": NullPool, "pool_reset_on_return": None} if immediate
               else {"pool_reset_on_return": "rollback"})
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **pooling)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin hook decide
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
        cur.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # straight to the driver: exec_driver_sql would cost more than the statement itself
        conn.connection.dbapi_connection.execute(begin)

    return engine


class DriverStatement:
    """A Core statement compiled once per dialect and run on the DBAPI cursor itself.

    For the statements that run for every event (the store's appends, a consumer's
    processed-event rows, the projections of a registration): SQLAlchemy's execution path
    costs several times what the database takes to run them. The SQL and the parameters
    still come from SQLAlchemy: the statement compiled for the connection's dialect (its
    paramstyle), each column's bind processor (e.g. how SQLite stores a DateTime), so a row
    is stored exactly as ``conn.execute`` would store it, in the connection's transaction.
    """

    def __init__(self, statement, types: dict):
        self.statement, self.types = statement, types
        self._compiled: dict[str, tuple] = {}

    def _for(self, dialect) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            order = compiled.positiontup  # None where the driver takes named parameters
            processors = {name: p for name, t in self.types.items()
                          if (p := t.dialect_impl(dialect).bind_processor(dialect)) is not None}
            found = self._compiled[dialect.name] = (compiled.string, order, processors)
        return found

    @staticmethod
    def _renamed(conn: Connection) -> bool:
        """A connection that renames schemas (``thidua rebuild`` writes a shadow schema through
        ``schema_translate_map``) takes the ordinary path, which applies the renaming."""
        return bool(conn.get_execution_options().get("schema_translate_map"))

    @classmethod
    def insert(cls, table: Table, columns: tuple[str, ...]) -> "DriverStatement":
        """INSERT of these columns; the others get their server default or NULL, so a column
        with a Python-side default must be among them."""
        missing = [c.name for c in table.columns if c.default is not None and c.name not in columns]
        if missing:
            raise ValueError(f"{table.name}: Python-side defaults of {missing} would be skipped")
        return cls(insert(table).values({c: bindparam(c) for c in columns}), {c: table.c[c].type for c in columns})

    def scalars(self, conn: Connection, params: dict) -> list:
        """The first column of every row (values as the driver returns them: no result processors)."""
        if self._renamed(conn):
            return list(conn.execute(self.statement, params).scalars())
        with self._cursor(conn, [params]) as cursor:
            return [row[0] for row in cursor.fetchall()]

    def execute(self, conn: Connection, rows: list[dict]) -> None:
        if self._renamed(conn):
            conn.execute(self.statement, rows)
            return
        with self._cursor(conn, rows):
            pass  # run; nothing to read

    @contextlib.contextmanager
    def _cursor(self, conn: Connection, rows: list[dict]):
        """A driver cursor that has run the statement with ``rows`` (one or many)."""
        sql, order, processors = self._for(conn.dialect)
        if processors:
            rows = _converted(rows, processors)
        params = [tuple(r[k] for k in order) for r in rows] if order is not None else rows
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            try:
                if len(params) == 1:
                    cursor.execute(sql, params[0])
                else:
                    cursor.executemany(sql, params)
            except conn.dialect.dbapi.IntegrityError as exc:
                raise IntegrityError(sql, None, exc) from exc
            yield cursor
        finally:
            cursor.close()


def _converted(rows: list[dict], processors: dict) -> list[dict]:
    """The rows with each processed column converted, each distinct value once (the events of
    one append share their recorded_at)."""
    memo: dict = {}

    def convert(name, processor, value):
        if (name, value) not in memo:
            memo[(name, value)] = processor(value)
        return memo[(name, value)]

    return [{**r, **{k: convert(k, p, r[k]) for k, p in processors.items()}} for r in rows]


_INSERTS: dict[tuple, DriverStatement] = {}


def insert_row(conn: Connection, table: Table, row: dict) -> None:
    """``conn.execute(table.insert(), row)`` through :class:`DriverStatement`: the same row,
    for a fraction of the cost. For the inserts that run for every event."""
    key = (table, tuple(row))
    if key not in _INSERTS:
        _INSERTS[key] = DriverStatement.insert(table, key[1])
    _INSERTS[key].execute(conn, [row])


class _WriterLock:
    """One writer at a time on one SQLite file: threads of this process, then processes."""

    def __init__(self, path: str | None):
        self._threads = threading.RLock()  # re-entrant: a nested write must fail in SQLite, not hang here
        self._depth = 0
        self._path = f"{path}.writelock" if path else None
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
            self._fd, self._pid = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._threads:
            fd = self._file() if self._depth == 0 else None
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)


class _Checkpointer:
    """The thread of this process that checkpoints the SQLite files it wrote.

    ``written(db)`` after each commit. The thread wakes at the first, lets commits gather
    for CHECKPOINT_DELAY_S or until CHECKPOINT_EVERY of them, whichever comes first, then
    runs ``PRAGMA wal_checkpoint(PASSIVE)`` on each file written since: it copies what no
    reader still needs into the database and never waits for a lock (a busy file is simply
    taken again next time). Idle, the thread sleeps until the next write.
    """

    def __init__(self):
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a child starts its own thread

    def _reset(self) -> None:
        self._guard = threading.Lock()
        self._written: weakref.WeakSet = weakref.WeakSet()
        self._commits = 0
        self._wake, self._full = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def written(self, db: "Database") -> None:
        self._commits += 1  # approximate under threads, which is all it needs to be
        if self._commits == CHECKPOINT_EVERY:
            self._full.set()
        if db in self._written:
            return  # already due
        with self._guard:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread.start()
            self._written.add(db)
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._full.wait(CHECKPOINT_DELAY_S)
            with self._guard:
                self._wake.clear()
                self._full.clear()
                self._commits = 0
                due, self._written = list(self._written), weakref.WeakSet()
            for db in due:
                db.checkpoint()


_checkpointer = _Checkpointer()


class _HeldConnection:
    """A thread's writer connection. Closed at dispose, or by SQLAlchemy's own clean-up when
    the thread (or the Database) is gone."""

    def __init__(self, conn: Connection):
        self.conn, self.pid = conn, os.getpid()
        self.options = conn.get_execution_options()

    def usable(self) -> bool:
        # not one inherited from the parent of a fork, not closed, and not left renamed by a
        # caller's execution_options (which change the connection itself)
        return (self.pid == os.getpid() and not self.conn.closed and not self.conn.invalidated
                and self.conn.get_execution_options() is self.options)

    def close(self) -> None:
        if self.pid == os.getpid():
            with contextlib.suppress(Exception):
                self.conn.close()


class Database:
    """Engines for one service's database, created by the composition root."""

    def __init__(self, url: str):
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.writer = _sqlite_engine(url, immediate=True)
            self.reader = _sqlite_engine(url, immediate=False)
            on_disk = parsed.database and parsed.database != ":memory:"
            self._path = str(Path(parsed.database).resolve()) if on_disk else None
            self._lock = _WriterLock(self._path)
            self._held = threading.local()
            self._all_held: weakref.WeakSet = weakref.WeakSet()
            self._checkpoint_guard = threading.Lock()
            self._checkpoint_conn: sqlite3.Connection | None = None
            self._disposed = False
        else:
            if parsed.drivername == "postgresql":
                url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
            self.writer = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
            self.reader = self.writer
            self._lock = None

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: commits when the block ends, rolls back on any error."""
        if self._lock is None:
            with self.writer.begin() as conn:
                yield conn
            return
        with self._lock.held():
            conn = self._thread_writer()
            with conn.begin():
                yield conn
        if self._path is not None:
            _checkpointer.written(self)

    def _thread_writer(self) -> Connection:
        held = getattr(self._held, "connection", None)
        if held is None or not held.usable():
            if held is not None:
                held.close()
            held = self._held.connection = _HeldConnection(self.writer.connect())
            self._all_held.add(held)
        return held.conn

    def checkpoint(self) -> None:
        """Copy the WAL back into the database file as far as readers allow (PASSIVE: never
        waits). Called by this process's checkpointing thread; harmless at any time."""
        with self._checkpoint_guard:
            if self._disposed or self._path is None:
                return
            try:
                if self._checkpoint_conn is None:
                    self._checkpoint_conn = sqlite3.connect(self._path, isolation_level=None,
                                                            check_same_thread=False)
                self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:  # the next write schedules another; the backstop remains
                log.warning("checkpoint of %s failed: %s", self._path, exc)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.reader.connect() as conn:
            yield conn

    def create_all(self, *metadatas: MetaData) -> None:
        for md in metadatas:
            md.create_all(self.writer)

    def ping(self) -> None:
        with self.reader.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        if self.is_sqlite:
            with self._checkpoint_guard:
                self._disposed = True
                if self._checkpoint_conn is not None:
                    self._checkpoint_conn.close()
                    self._checkpoint_conn = None
            for held in list(self._all_held):
                held.close()
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
