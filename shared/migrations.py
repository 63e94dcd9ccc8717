"""Schema migrations: one Alembic history per service, the only source of a database's schema.

Each service keeps its history in ``services/<name>/migrations`` (``env.py`` calls
:func:`run_env`; revisions under ``versions/``). Its target metadata is the store's
tables (:data:`shared.eventstore.metadata`) plus the service's projection tables
(``SPEC.metadata``); ``tests/ops/test_migrations.py`` proves that upgrading an empty
database to head gives exactly that schema, on SQLite and on PostgreSQL.

Who runs them:

* ``thidua migrate`` / ``thidua setup`` (the compose job, the Kubernetes Job, ``make run``);
* :func:`prepare`, called by every process's composition root: an **empty** database
  is migrated to head (fresh SQLite files of the embedded default and of the tests);
  a database at head is used as is; anything else stops the process with a message
  to run ``thidua migrate`` — a web or worker process never alters a live schema.

An upgrade runs in one transaction (PostgreSQL's DDL is transactional; SQLite's
``BEGIN IMMEDIATE`` serialises it) and, on PostgreSQL, under an advisory lock, so
two processes migrating at once apply it once. A database made by ``create_all``
before migrations existed (no ``alembic_version`` but an ``events`` table) is
adopted: it is stamped at the initial revision, then upgraded.
"""
from __future__ import annotations

import functools
import importlib
import io
import logging
import shutil
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, inspect, text

from shared.db import Database

log = logging.getLogger(__name__)
INITIAL = "0001"


class SchemaNotCurrent(RuntimeError):
    """The database is neither empty nor at the code's revision: an operator must migrate it."""


@dataclass(frozen=True)
class Status:
    service: str
    current: str | None
    head: str

    @property
    def at_head(self) -> bool:
        return self.current == self.head


def script_location(service: str) -> Path:
    package = importlib.import_module(f"services.{service}")
    return Path(package.__file__).resolve().parent / "migrations"


def target_metadata(service: str) -> list[MetaData]:
    from shared.eventstore import metadata as store_metadata
    spec = importlib.import_module(f"services.{service}.service").SPEC
    return [store_metadata, spec.metadata]


def alembic_config(service: str, connection: Connection | None = None) -> Config:
    """A programmatic Alembic config (no alembic.ini): ``thidua migrate`` and ``thidua revision`` use it."""
    cfg = Config(stdout=io.StringIO())  # the commands report for themselves
    cfg.set_main_option("script_location", str(script_location(service)))
    cfg.set_main_option("revision_environment", "false")
    cfg.attributes["service"] = service
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@functools.cache
def head(service: str) -> str:
    return ScriptDirectory.from_config(alembic_config(service)).get_current_head()


def current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def status(db: Database, service: str) -> Status:
    with db.read() as conn:
        return Status(service, current(conn), head(service))


def upgrade(db: Database, service: str, revision: str = "head") -> Status:
    """Migrate to ``revision`` in one transaction; returns the state before (``current``) and the head."""
    with db.write(sqlalchemy_transaction=True) as conn:  # Alembic must see it is inside one
        _lock(conn, service)
        before = current(conn)
        if before is None and inspect(conn).has_table("events"):
            log.warning("%s: database made before migrations; adopting it at revision %s", service, INITIAL)
            command.stamp(alembic_config(service, conn), INITIAL)
        command.upgrade(alembic_config(service, conn), revision)
    return Status(service, before, head(service))


def prepare(db: Database, service: str) -> None:
    """Called when a process starts: migrate an empty database, accept one at head, refuse the rest."""
    with db.read() as conn:
        revision, tables = current(conn), inspect(conn).get_table_names()
    if revision == head(service):
        return
    if revision is None and not tables:
        if db.is_sqlite:
            _replay_sqlite_schema(db, service)
        else:
            upgrade(db, service)
        return
    raise SchemaNotCurrent(
        f"the {service} database is at revision {revision or 'none'} (tables: {len(tables)}), the code "
        f"expects {head(service)}: run `thidua migrate --service {service}` first")


@functools.cache
def _sqlite_schema(service: str) -> tuple[str, ...]:
    """The DDL that the migrations leave in a new SQLite database (run once per process)."""
    folder = Path(tempfile.mkdtemp(prefix="thidua-schema-"))
    db = Database(f"sqlite:///{folder / 'schema.db'}")
    try:
        upgrade(db, service)
        with db.read() as conn:
            return tuple(conn.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
                "ORDER BY rowid").scalars())
    finally:
        db.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def _replay_sqlite_schema(db: Database, service: str) -> None:
    """A new SQLite file gets the schema the migrations produce, replayed as their DDL: the
    same result as :func:`upgrade` (one source of truth) at a fraction of the cost, which the
    unit tests — four fresh databases per test — would otherwise pay every time."""
    ddl = _sqlite_schema(service)
    with db.write() as conn:
        if current(conn) is not None or inspect(conn).get_table_names():
            return  # another process got there first
        for statement in ddl:
            conn.exec_driver_sql(statement)
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head(service)})


def differences(conn: Connection, service: str) -> list:
    """What autogenerate would change to make the database match the code; empty when they agree."""
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return compare_metadata(context, target_metadata(service))


def run_env(service: str) -> None:
    """The body of every service's ``migrations/env.py``."""
    from alembic import context

    cfg = context.config
    metadata = target_metadata(service)
    connection = cfg.attributes.get("connection")
    if connection is None:
        if context.is_offline_mode():
            context.configure(url=cfg.get_main_option("sqlalchemy.url"), target_metadata=metadata,
                              literal_binds=True)
            with context.begin_transaction():
                context.run_migrations()
            return
        raise RuntimeError("run migrations through `thidua migrate` (it passes the service's connection)")
    # Batch mode on every dialect: the same revision alters a table on SQLite (by copying it)
    # and on PostgreSQL (in place).
    context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _lock(conn: Connection, service: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                     {"key": zlib.crc32(f"thidua-migrate-{service}".encode())})
