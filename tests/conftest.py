"""Session fixtures: a real PostgreSQL and a real Kafka-protocol broker (DESIGN §5).

Where a Docker engine answers, testcontainers provides both. Otherwise:

* PostgreSQL is the server named by ``TEST_DATABASE_URL`` or the local one
  (``postgres@127.0.0.1:5432``, trust auth); every database the tests use is
  created fresh on it and dropped when the session ends. The role needs
  ``CREATEDB``.
* Kafka is ``KAFKA_BOOTSTRAP_SERVERS`` when set, else a Tansu broker started for
  the session. Tests that stop a broker on purpose start their own with
  ``tansu_broker``.

Consumers get ``max_poll_interval_ms=3000``: kafka-python waits that long for a
group join on Tansu.
"""
from __future__ import annotations

import functools
import os
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from shared.broker import TansuBroker
from shared.kafka_bus import KafkaSettings

LOCAL_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MAX_POLL_INTERVAL_MS = 3000
SESSION_TIMEOUT_MS = 6000  # Apache Kafka refuses less (group.min.session.timeout.ms)

MARKERS = {
    "kafka": "needs a real Kafka-protocol broker (started by the fixtures when none is given)",
    "postgres": "needs a real PostgreSQL (the local server, or testcontainers when Docker runs)",
    "e2e": "starts the whole stack under gunicorn",
}


def pytest_configure(config: pytest.Config) -> None:
    # Declared in pyproject.toml too; repeated so --strict-markers holds under another ini.
    for name, meaning in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {meaning}")


@functools.cache
def docker_available() -> bool:
    """True when a Docker engine answers a ping within two seconds."""
    try:
        import docker

        client = docker.from_env(timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # no SDK, no socket, no answer: all mean "no Docker here"
        return False


def _psycopg(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# -- PostgreSQL -------------------------------------------------------------------

class PostgresDatabases:
    """Creates empty databases on one server and drops them all at the end."""

    def __init__(self, server_url: str):
        self.server = make_url(server_url)
        self._admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._created: list[str] = []

    def create(self, label: str = "test") -> str:
        name = f"thidua_{label}_{uuid.uuid4().hex[:12]}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        # Every DROP DATABASE waits for a checkpoint; dropped together they share one.
        if self._created:
            with ThreadPoolExecutor(min(16, len(self._created))) as pool:
                list(pool.map(self._drop, self._created))
        self._created.clear()
        self._admin.dispose()

    def _drop(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A PostgreSQL server whose role may create databases."""
    if docker_available():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:15-alpine", driver="psycopg") as container:
            yield _psycopg(container.get_connection_url())
        return
    yield _psycopg(os.environ.get("TEST_DATABASE_URL") or LOCAL_POSTGRES)


@pytest.fixture(scope="session")
def pg_databases(pg_server_url: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(pg_server_url)
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(scope="session")
def pg_url(pg_databases: PostgresDatabases) -> str:
    """One fresh database for the whole session."""
    return pg_databases.create("session")


@pytest.fixture
def fresh_pg_database(pg_databases: PostgresDatabases) -> Callable[..., str]:
    """Call it for the URL of a new, empty database (one per service or test)."""
    return pg_databases.create


# -- Kafka ------------------------------------------------------------------------

class QuickTansuBroker(TansuBroker):
    """Tansu that stops at once: it exits on SIGINT, but lingers 5 s after SIGTERM."""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                pass  # TansuBroker.stop terminates, then kills
        super().stop()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a Kafka-protocol broker that lives for the session."""
    if given := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield given
        return
    if docker_available():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer() as container:
            yield container.get_bootstrap_server()
        return
    broker = QuickTansuBroker().start()
    try:
        yield broker.bootstrap
    finally:
        broker.stop()


def kafka_settings_for(bootstrap: str, **overrides) -> KafkaSettings:
    values = dict(bootstrap_servers=bootstrap, client_id="thidua-test",
                  max_poll_interval_ms=MAX_POLL_INTERVAL_MS, session_timeout_ms=SESSION_TIMEOUT_MS)
    return KafkaSettings(**(values | overrides))


@pytest.fixture(scope="session")
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    return kafka_settings_for(kafka_bootstrap)


@pytest.fixture
def make_kafka_settings() -> Callable[..., KafkaSettings]:
    """``make_kafka_settings(bootstrap, **overrides)``: test settings for any broker."""
    return kafka_settings_for


@pytest.fixture
def tansu_broker() -> Iterator[TansuBroker]:
    """A broker of the test's own, free to be stopped and restarted (on the same port)."""
    broker = QuickTansuBroker().start()
    try:
        yield broker
    finally:
        broker.stop()
