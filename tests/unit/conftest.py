"""The four services in one process on the in-memory bus: fast tests at the bus level."""
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from shared import auth, config
from shared.bus import InMemoryBus
from shared.clock import FixedClock
from shared.stack import SERVICES, service_spec
from shared.service import create_web_app

SECRET = "unit-test-secret-that-is-long-enough-0123"


@dataclass
class System:
    bus: InMemoryBus
    apps: dict
    relays: list = field(default_factory=list)
    consumers: dict = field(default_factory=dict)
    clock: FixedClock = field(default_factory=FixedClock)

    def client(self, service):
        return self.apps[service].test_client()

    def drain(self, rounds: int = 20) -> None:
        """Relay every outbox and let every consumer apply what came, until nothing moves."""
        for _ in range(rounds):
            moved = sum(r.run_once() for r in self.relays)
            moved += sum(c.run_once(timeout_s=0) for c in self.consumers.values())
            if not moved:
                return
        raise AssertionError("the system did not settle")


def build_system(data_dir=None, settings_for=None, clock: FixedClock | None = None) -> System:
    """The four services in this process on an in-memory bus: with their SQLite files in
    ``data_dir``, or with the settings ``settings_for(service)`` gives. They share one clock,
    which the test moves (``system.clock.set("2024-04-20")``)."""
    settings_for = settings_for or (lambda name: config.load(name, {"JWT_SECRET": SECRET,
                                                                    "DATA_DIR": str(data_dir)}))
    bus = InMemoryBus()
    clock = clock or FixedClock()
    apps, relays, consumers = {}, [], {}
    for name in SERVICES:
        app = create_web_app(service_spec(name), settings_for(name), bus, clock)
        apps[name] = app
        rt = app.extensions["runtime"]
        relays.append(rt.relay())
        if rt.spec.follows:
            consumers[name] = rt.consumer()
    return System(bus, apps, relays, consumers, clock)


def close_system(system: System) -> None:
    for app in system.apps.values():
        app.extensions["runtime"].db.dispose()


def module_system(tmp_path_factory, prefix: str):
    """A system for a whole test module (a generator for a module-scoped fixture), its SQLite
    files in memory when the host has /dev/shm: the same code, no disk waits."""
    shm = Path("/dev/shm")
    data_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=shm)) if shm.is_dir() \
        else tmp_path_factory.mktemp(prefix)
    system = build_system(data_dir)
    yield system
    close_system(system)
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def system(tmp_path):
    return build_system(tmp_path)


def token(role="department", provinces=("83",), subject="u-1", **claims):
    """A bearer header; ``claims`` adds name, unit, unit_level, authority, roles, scope."""
    return {"Authorization": "Bearer " + auth.mint(SECRET, subject, role, list(provinces), **claims)}
