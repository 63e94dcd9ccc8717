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
  ``fsync`` calls, holding up every writer queued behind it. Here one process per file
  checkpoints it, in a thread of its own (:class:`_FileCheckpoint`), with PASSIVE
  checkpoints that SQLite runs while the next transactions commit, as often as the write
  rate needs. ``wal_autocheckpoint`` stays on, at a higher mark, as a backstop should
  that thread ever fall behind.
* Each thread keeps its writer connection from one transaction to the next: checking a
  connection out of the pool and back costs SQLAlchemy more than a one-event append
  costs SQLite. For the same reason the transaction is begun and committed on the
  driver; SQLAlchemy joins it only when the block executes through SQLAlchemy.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
import urllib.parse
import weakref
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Connection, Engine, MetaData, Table, bindparam, create_engine, event, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidRequestError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# The commit that takes the WAL past this many pages checkpoints it itself: a backstop only,
# since one process per file checkpoints it in a thread of its own (see _FileCheckpoint).
WAL_BACKSTOP_PAGES = 10000
_WRITING = "thidua.writing"  # in a writer connection's info while a Database.write block runs
CHECKPOINT_FRAMES = 2000  # pages a checkpoint should copy; the interval between them follows
CHECKPOINT_MIN_S, CHECKPOINT_MAX_S = 0.02, 1.0


def _sqlite_engine(url: str, immediate: bool, on_disk: bool = True) -> Engine:
    # A read leaves its (deferred) transaction open; the pool's rollback on return ends it.
    # A writer's connection stays with its thread (Database.write), so the writer engine keeps no
    # pool: one connection per writing thread, closed with it. Database.write ends every
    # transaction itself, so nothing is rolled back when it closes.
    # (In memory every connection would be a database of its own: there the pool stays.)
    pooling = ({"poolclass": NullPool, "pool_reset_on_return": None} if immediate and on_disk
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

    def _inside_write(conn):
        # A block of Database.write that ended the transaction itself would run the rest of its
        # statements each in a transaction of its own (the driver is in autocommit mode).
        if conn.info.get(_WRITING):
            raise InvalidRequestError("a block of Database.write() must not commit or roll back: its "
                                      "transaction ends with the block")

    if immediate:
        event.listen(engine, "commit", _inside_write)
        event.listen(engine, "rollback", _inside_write)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # straight to the driver: exec_driver_sql would cost more than the statement itself.
        # A writer's transaction is begun by Database.write on the driver; SQLAlchemy begins its
        # own inside it when the block executes through it, and that one must not begin again.
        dbapi_conn = conn.connection.dbapi_connection
        if not dbapi_conn.in_transaction:
            dbapi_conn.execute(begin)

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

    def __init__(self, statement, types: dict | None = None):
        """``types``: the SQLAlchemy type of each parameter whose value needs converting for the
        driver (a DateTime on SQLite); parameters of plain strings and numbers need none."""
        self.statement, self.types = statement, types or {}
        self._compiled: dict[str, tuple] = {}

    def _for(self, dialect) -> tuple:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            order = compiled.positiontup  # None where the driver takes named parameters
            processors = {name: p for name, t in self.types.items()
                          if (p := t.dialect_impl(dialect).bind_processor(dialect)) is not None}
            # parameters the statement fixes itself (SQLite's LIMIT comes with OFFSET 0)
            fixed = {k: v for k, v in compiled.params.items() if v is not None}
            found = self._compiled[dialect.name] = (compiled.string, order, processors, fixed)
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
        cursor = self._run(conn, [params])
        try:
            return [row[0] for row in cursor.fetchall()]
        finally:
            cursor.close()

    def rows(self, conn: Connection, params: dict) -> list[tuple]:
        """Every row as the driver returns it (a tuple; values without result processors)."""
        if self._renamed(conn):
            return [tuple(r) for r in conn.execute(self.statement, params)]
        cursor = self._run(conn, [params])
        try:
            return cursor.fetchall()
        finally:
            cursor.close()

    def execute(self, conn: Connection, rows: list[dict]) -> int | None:
        """Run the statement for each row; returns the rowid of the row inserted when there was
        one row and the driver tells it (SQLite), else None."""
        one_on_sqlite = len(rows) == 1 and conn.dialect.name == "sqlite"
        if self._renamed(conn):
            result = conn.execute(self.statement, rows)
            return result.lastrowid if one_on_sqlite else None
        cursor = self._run(conn, rows)
        try:
            return cursor.lastrowid if one_on_sqlite else None
        finally:
            cursor.close()

    def _run(self, conn: Connection, rows: list[dict]):
        """A driver cursor that has run the statement with ``rows`` (one or many); the caller closes it."""
        sql, order, processors, fixed = self._for(conn.dialect)
        if fixed:
            rows = [{**fixed, **r} for r in rows]
        one = len(rows) == 1 and order is not None
        if processors and not one:
            rows = _converted(rows, processors)
        driver = conn.connection.dbapi_connection
        try:
            if one:  # the common case, without copying the row
                row = rows[0]
                return driver.execute(sql, tuple([processors[k](row[k]) if k in processors else row[k]
                                                  for k in order] if processors else map(row.__getitem__, order)))
            if len(rows) == 1:
                return driver.execute(sql, rows[0])
            cursor = driver.cursor()
            try:
                cursor.executemany(sql, [tuple(map(r.__getitem__, order)) for r in rows]
                                   if order is not None else rows)
            except BaseException:
                cursor.close()
                raise
            return cursor
        except conn.dialect.dbapi.IntegrityError as exc:
            raise IntegrityError(sql, None, exc) from exc


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

    _all: weakref.WeakSet = weakref.WeakSet()

    def __init__(self, path: str | None):
        self._threads = threading.RLock()  # re-entrant: a nested write must fail in SQLite, not hang here
        self._depth = 0
        self._path = f"{path}.writelock" if path else None
        self._fd: int | None = None
        _WriterLock._all.add(self)

    @classmethod
    def after_fork(cls) -> None:
        """A forked child starts with every lock free: a thread of the parent may have held one,
        and that thread is not in the child to release it. It opens a lock file of its own: the
        one inherited shares the parent's ``flock``."""
        for lock in list(cls._all):
            if lock._fd is not None:
                os.close(lock._fd)
            lock._threads, lock._depth, lock._fd = threading.RLock(), 0, None

    def _file(self) -> int | None:
        if self._path is not None and self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    # Taken and given back by Database.write (acquire, then release in a finally): a context
    # manager would cost more than the two system calls.
    def acquire(self) -> None:
        self._threads.acquire()
        try:
            if self._depth == 0 and self._file() is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


class _FileCheckpoint:
    """Checkpointing one SQLite file: which process does it, and how often.

    One process per file checkpoints it: the first that writes and gets ``flock`` on
    ``<database>.checkpoint`` (released when it exits, and taken by the next that writes).
    It runs ``PRAGMA wal_checkpoint(PASSIVE)``, which copies into the database what no
    reader still needs and never waits for a lock, every ``interval`` seconds; the interval
    follows the write rate, so that a checkpoint copies about CHECKPOINT_FRAMES pages: a few
    large checkpoints under load (each costs two ``fsync``), one a second when idle.
    """

    def __init__(self, path: str):
        self.path = path
        self.fd: int | None = None
        self.conn: sqlite3.Connection | None = None
        self.interval = CHECKPOINT_MIN_S
        self.due = 0.0
        self.last_frames = 0
        self.next_try = 0.0  # when a process that is not the checkpointer may try to become it
        self.guard = threading.Lock()

    def elect(self) -> bool:
        fd = os.open(f"{self.path}.checkpoint", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self.fd, self.due = fd, time.monotonic() + CHECKPOINT_MIN_S
        return True

    def run(self) -> None:
        with self.guard:
            if self.fd is None:
                return
            try:
                if self.conn is None:
                    self.conn = sqlite3.connect(f"file:{urllib.parse.quote(self.path)}?mode=rw", uri=True,
                                                isolation_level=None, check_same_thread=False)
                _busy, frames, _copied = self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:  # tried again next time; the backstop remains
                log.warning("checkpoint of %s failed: %s", self.path, exc)
                frames = self.last_frames
            new = frames - self.last_frames if frames >= self.last_frames else frames  # the WAL restarted
            self.last_frames = frames
            factor = min(2.0, max(0.1, CHECKPOINT_FRAMES / max(new, 1)))
            self.interval = min(CHECKPOINT_MAX_S, max(CHECKPOINT_MIN_S, self.interval * factor))
            self.due = time.monotonic() + self.interval

    def release(self, inherited: bool = False) -> None:
        """Give the file up (at dispose; in a forked child, the parent's lock is not the child's)."""
        with self.guard:
            if inherited:
                _INHERITED.append(self.conn)
            elif self.conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self.conn.close()
            self.conn = None
            if self.fd is not None:
                os.close(self.fd)
            self.fd = None


class _Checkpointer:
    """This process's checkpointing thread, for the files it checkpoints (see _FileCheckpoint).
    Started by the first write; ``written(db)`` is all a writer does."""

    def __init__(self):
        self._files: dict[str, tuple[weakref.ref, _FileCheckpoint]] = {}
        self._forking: list[_FileCheckpoint] = []
        self._reset()
        # No fork while the thread is inside SQLite: a child that inherits one of SQLite's
        # mutexes held by a thread it does not have would wait for it for ever.
        os.register_at_fork(before=self._before_fork, after_in_parent=self._after_fork_in_parent,
                            after_in_child=self._after_fork)

    def _reset(self) -> None:
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def _before_fork(self) -> None:
        self._forking = [file for _ref, file in list(self._files.values())]
        for file in self._forking:
            file.guard.acquire()

    def _after_fork_in_parent(self) -> None:
        for file in self._forking:
            file.guard.release()
        self._forking = []

    def _after_fork(self) -> None:
        for _ref, file in self._files.values():
            file.guard = threading.Lock()  # held for the fork, by a thread the child is not
            file.release(inherited=True)
        self._files, self._forking = {}, []
        self._reset()

    def written(self, db: "Database") -> None:
        file = db._checkpoint
        if file.fd is not None:
            return  # this process checkpoints it already
        now = time.monotonic()
        if now < file.next_try:
            return
        file.next_try = now + 1.0
        if not file.elect():
            return  # another process checkpoints it
        with self._guard:
            self._files[file.path] = (weakref.ref(db), file)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread.start()
        self._wake.set()

    def forget(self, file: _FileCheckpoint) -> None:
        with self._guard:
            if self._files.get(file.path, (None, None))[1] is file:
                del self._files[file.path]

    def _run(self) -> None:
        while True:
            with self._guard:
                files = list(self._files.values())
            if not files:
                self._wake.wait()
                self._wake.clear()
                continue
            now = time.monotonic()
            for ref, file in files:
                if ref() is None:  # the Database is gone without dispose
                    self.forget(file)
                    file.release()
                elif file.due <= now:
                    file.run()
            soonest = min((f.due for _r, f in files if f.fd is not None), default=now + CHECKPOINT_MAX_S)
            self._wake.wait(max(0.0, soonest - time.monotonic()))
            self._wake.clear()


_checkpointer = _Checkpointer()


# SQLite connections a forked child inherited from its parent. Kept referenced and never
# closed: closing one in the child (or letting the garbage collector do it) would act on the
# parent's files and locks.
_INHERITED: list = []

# Which process this is, as far as connections go: counted up in every forked child (cheaper to
# compare than os.getpid(), a system call, once per write).
_generation = [0]


class _HeldConnection:
    """A thread's writer connection. Closed at dispose, or by SQLAlchemy's own clean-up when
    the thread (or the Database) is gone; in a forked child, kept and left alone."""

    def __init__(self, conn: Connection):
        self.conn, self.generation = conn, _generation[0]
        self.driver = conn.connection.dbapi_connection
        self.info = conn.info  # the connection's own: _WRITING is set there inside Database.write
        self.options = conn.get_execution_options()

    def usable(self) -> bool:
        # not one inherited from the parent of a fork, not closed, and not left renamed by a
        # caller's execution_options (which change the connection itself)
        return (self.generation == _generation[0] and not self.conn.closed and not self.conn.invalidated
                and self.conn.get_execution_options() is self.options)

    def close(self) -> None:
        if self.generation != _generation[0]:
            _INHERITED.append(self)
            return
        with contextlib.suppress(Exception):
            self.conn.close()


def _after_fork_in_child() -> None:
    _generation[0] += 1
    _WriterLock.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _commit(conn: Connection, driver) -> None:
    """Commit a writer's transaction: through SQLAlchemy when it began one (it commits the
    driver's too), else on the driver."""
    if conn.get_transaction() is not None:
        conn.commit()
        return
    try:
        driver.commit()
    except conn.dialect.dbapi.Error as exc:  # as SQLAlchemy would raise it
        raise DBAPIError.instance("COMMIT", None, exc, conn.dialect.dbapi.Error) from exc


def _rollback(conn: Connection, driver) -> None:
    """Roll a writer's transaction back: SQLAlchemy's, if it began one (even one that a failed
    statement or commit left inactive), and the driver's in any case."""
    try:
        if conn.get_transaction() is not None:
            conn.rollback()
    finally:
        if driver.in_transaction:
            driver.rollback()


class Database:
    """Engines for one service's database, created by the composition root."""

    def __init__(self, url: str):
        self.url = url
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            on_disk = bool(parsed.database) and parsed.database != ":memory:"
            if on_disk:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.writer = _sqlite_engine(url, immediate=True, on_disk=on_disk)
            self.reader = _sqlite_engine(url, immediate=False)
            self._path = str(Path(parsed.database).resolve()) if on_disk else None
            self._lock = _WriterLock(self._path)
            self._held = threading.local()
            self._all_held: weakref.WeakSet = weakref.WeakSet()
            self._checkpoint = _FileCheckpoint(self._path) if self._path else None
        else:
            if parsed.drivername == "postgresql":
                url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
            self.writer = create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)
            self.reader = self.writer
            self._lock = None

    @contextlib.contextmanager
    def write(self, sqlalchemy_transaction: bool = False) -> Iterator[Connection]:
        """One transaction: commits when the block ends, rolls back on any error. The block must
        not commit or roll back itself (on SQLite that raises InvalidRequestError).

        ``sqlalchemy_transaction``: SQLAlchemy's Connection shows the transaction from the start
        (``in_transaction()``, ``get_transaction()``), for a block that asks it, such as
        Alembic's. Otherwise, on SQLite, it shows one only once the block executes through it:
        beginning it costs more than a one-event append's own Python."""
        if self._lock is None:
            with self.writer.begin() as conn:
                yield conn
            return
        self._lock.acquire()
        try:
            held = self._thread_writer()
            info = held.info
            if info.get(_WRITING):  # a nested write in this thread fails at once instead of waiting for itself
                raise InvalidRequestError("a write transaction is already open in this thread")
            conn, driver = held.conn, held.driver
            # The transaction is begun and ended on the driver: SQLAlchemy's own begin and commit
            # cost more than a one-event append. A block that executes through SQLAlchemy makes it
            # begin a transaction of its own inside this one, which is then ended through it.
            driver.execute("BEGIN IMMEDIATE")
            try:
                if sqlalchemy_transaction:
                    conn.begin()
                info[_WRITING] = True
                yield conn
            except BaseException:
                info[_WRITING] = False
                try:
                    _rollback(conn, driver)
                except Exception:  # the block's own error is the one to raise; the connection goes
                    log.warning("rolling back a write failed; its connection is dropped", exc_info=True)
                    self._drop_thread_writer()
                raise
            info[_WRITING] = False
            try:
                _commit(conn, driver)
            except BaseException:
                # Whatever state the failed COMMIT left (SQLite may have rolled back itself, or not;
                # SQLAlchemy keeps an inactive transaction), this connection is not used again.
                with contextlib.suppress(Exception):
                    _rollback(conn, driver)
                self._drop_thread_writer()
                raise
        finally:
            self._lock.release()
        if self._checkpoint is not None:
            try:
                _checkpointer.written(self)
            except Exception:  # the write is committed; the backstop checkpoints it anyway
                log.warning("could not schedule checkpoints of %s", self._path, exc_info=True)

    def _thread_writer(self) -> _HeldConnection:
        held = getattr(self._held, "connection", None)
        if held is None or not held.usable():
            self._drop_thread_writer()
            held = self._held.connection = _HeldConnection(self.writer.connect())
            self._all_held.add(held)
        return held

    def _drop_thread_writer(self) -> None:
        """Close this thread's writer connection; its next write opens another."""
        held = getattr(self._held, "connection", None)
        if held is not None:
            held.close()
        self._held.connection = None

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
            if self._checkpoint is not None:
                _checkpointer.forget(self._checkpoint)
                self._checkpoint.release()
                self._checkpoint.next_try = 0.0  # a write after dispose may take the file again
            for held in list(self._all_held):
                held.close()
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
