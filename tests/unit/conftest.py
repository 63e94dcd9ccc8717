"""The four services in one process on the in-memory bus: fast tests at the bus level."""
from dataclasses import dataclass, field

import pytest

from shared import auth, config
from shared.bus import InMemoryBus
from shared.stack import SERVICES, service_spec
from shared.service import create_web_app

SECRET = "unit-test-secret-that-is-long-enough-0123"


@dataclass
class System:
    bus: InMemoryBus
    apps: dict
    relays: list = field(default_factory=list)
    consumers: dict = field(default_factory=dict)

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


@pytest.fixture
def system(tmp_path):
    bus = InMemoryBus()
    apps, relays, consumers = {}, [], {}
    for name in SERVICES:
        settings = config.load(name, {"JWT_SECRET": SECRET, "DATA_DIR": str(tmp_path)})
        app = create_web_app(service_spec(name), settings, bus)
        apps[name] = app
        rt = app.extensions["runtime"]
        relays.append(rt.relay())
        if rt.spec.follows:
            consumers[name] = rt.consumer()
    return System(bus, apps, relays, consumers)


def token(role="department", provinces=("83",), subject="u-1"):
    return {"Authorization": "Bearer " + auth.mint(SECRET, subject, role, list(provinces))}
