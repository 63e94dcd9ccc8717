"""Fixtures of the fault-injection tests: a topic prefix of their own, a Kafka bus on the
session's broker, and fresh databases (SQLite files or PostgreSQL databases)."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from shared.db import Database
from shared.eventstore import metadata as store_metadata
from shared.kafka_bus import KafkaBus, KafkaSettings

MAX_POLL_INTERVAL_MS = 3000
SESSION_TIMEOUT_MS = 6000


@pytest.fixture
def prefix() -> str:
    """A topic prefix no other test uses: each test gets its own topics on the shared broker."""
    return f"failure-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def failure_kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    return KafkaSettings(kafka_bootstrap, client_id="thidua-failure",
                         max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
                         session_timeout_ms=SESSION_TIMEOUT_MS)


@pytest.fixture
def kbus(failure_kafka_settings: KafkaSettings) -> Iterator[KafkaBus]:
    bus = KafkaBus(failure_kafka_settings)
    yield bus
    bus.close()


@pytest.fixture
def make_db(request, tmp_path) -> Iterator[Callable[..., Database]]:
    """``make_db("sqlite" | "postgres", *metadatas)``: an empty store with those tables too."""
    made: list[Database] = []

    def make(backend: str, *metadatas) -> Database:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / f'store-{len(made)}.db'}"
        else:
            url = request.getfixturevalue("fresh_pg_database")("failure")
        db = Database(url)
        db.create_all(store_metadata, *metadatas)
        made.append(db)
        return db

    yield make
    for db in made:
        db.dispose()
