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
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, MetaData, Table, bindparam, create_engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    # The writer's connections are only used in ``engine.begin()`` blocks, which end every
    # transaction themselves, so the pool need not roll back again when one is returned. A read
    # leaves its (deferred) transaction open, and that rollback is what ends it.
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                           pool_reset_on_return=None if immediate else "rollback")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin hook decide
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
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
            self._lock = _WriterLock(str(Path(parsed.database).resolve()) if on_disk else None)
        else:
            if parsed.drivername == "postgresql":
                url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
            self.writer = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
            self.reader = self.writer
            self._lock = None

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: commits when the block ends, rolls back on any error."""
        with self._lock.held() if self._lock else contextlib.nullcontext(), self.writer.begin() as conn:
            yield conn

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
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
