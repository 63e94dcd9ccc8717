"""Fixtures of the operator tests: an installation of four PostgreSQL databases (populated by the
seed scenarios through the services' own APIs), the session's broker, and ``thidua`` run by
click's CliRunner with the environment an operator would give it."""
from __future__ import annotations

import json
import tempfile
import uuid
from dataclasses import dataclass, field

import pytest
from click.testing import CliRunner

from shared import config
from shared.cli import main
from shared.db import Database
from shared.stack import SERVICES
from tests.driver import InProcess
from tests.unit.conftest import System, build_system, system  # noqa: F401  (system: a fixture here too)

SECRET = "ops-test-secret-that-is-long-enough-0123456"


@dataclass
class Installation:
    """Four service databases and the environment ``thidua`` is given for them."""
    urls: dict[str, str]
    prefix: str
    bootstrap: str
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        # DATA_DIR: where the embedded default's key store and its master key go (not ./data)
        self.env = {"JWT_SECRET": SECRET, "DATA_DIR": tempfile.mkdtemp(prefix="ops-data-"), "TOPIC_PREFIX": self.prefix, "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                    "KAFKA_MAX_POLL_INTERVAL_MS": "3000", "DATABASE_URL": None,
                    **{f"DATABASE_URL_{s.upper()}": url for s, url in self.urls.items()}}

    def settings(self, service: str) -> config.Settings:
        env = {k: v for k, v in self.env.items() if v is not None}
        return config.load(service, {**env, "DATABASE_URL": self.urls[service]})

    def thidua(self, *args: str, **env):
        result = CliRunner().invoke(main, list(args), env={**self.env, **env}, catch_exceptions=False)
        return result

    def json(self, *args: str, **env):
        result = self.thidua(*args, "--json", **env)
        return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None

    def system(self) -> System:
        """The four services in process on an in-memory bus, on these databases."""
        return build_system(settings_for=self.settings)


@pytest.fixture
def prefix() -> str:
    return f"ops-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def installation(fresh_pg_database, kafka_bootstrap, prefix) -> Installation:
    """Four empty PostgreSQL databases, not migrated yet."""
    return Installation({s: fresh_pg_database(f"ops_{s[:5]}") for s in SERVICES}, prefix, kafka_bootstrap)


@pytest.fixture(scope="module")
def populated(pg_databases, kafka_bootstrap) -> tuple[Installation, System]:
    """An installation after the seed plans of Hưng Yên (Mỹ Hòa) and Vĩnh Long (ad hoc), and a council's
    ballots in Cà Mau, ran; shared by a module's tests (they leave it as equal as they found it, or
    only add to it)."""
    from tests import councils, scenarios
    installation = Installation({s: pg_databases.create(f"ops_{s[:5]}") for s in SERVICES},
                                f"ops-{uuid.uuid4().hex[:10]}", kafka_bootstrap)
    assert installation.thidua("migrate").exit_code == 0
    system = installation.system()
    driver = InProcess(system, SECRET)
    scenarios.my_hoa(driver)
    scenarios.ad_hoc(driver)
    councils.council_vote(driver)  # councils, recusals and ballots: their projections rebuild too
    driver.settle()
    return installation, system


@pytest.fixture
def database(request, tmp_path):
    """Call it with a backend ("sqlite" or "postgres") for a new, empty database of this test."""
    def make(backend: str) -> Database:
        return Database(f"sqlite:///{tmp_path / f'db-{len(made)}.db'}" if backend == "sqlite"
                        else request.getfixturevalue("fresh_pg_database")(request.module.__name__.rpartition(".")[2]))
    made = []
    yield lambda backend: made.append(make(backend)) or made[-1]
    for db in made:
        db.dispose()
