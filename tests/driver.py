"""One way to drive the system from tests, in process (bus level) or over HTTP (real stack).

Scenarios written against :class:`Driver` run unchanged on the in-memory bus with
Flask test clients and on the real stack (gunicorn, workers, broker).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from shared import auth
from shared.stack import SERVICES, service_spec


@dataclass
class Reply:
    status: int
    body: Any

    def __repr__(self) -> str:
        return f"Reply({self.status}, {self.body!r})"


class Driver:
    """``claims`` of a call (subject, unit, unit_level, authority, name...) go into its token:
    the caller is who the token says, never what the body says."""
    secret: str

    def token(self, role: str, province: str | tuple[str, ...], subject: str = "tester",
              **claims) -> dict[str, str]:
        provinces = [province] if isinstance(province, str) else list(province)
        return {"Authorization": "Bearer " + auth.mint(self.secret, subject, role, provinces, **claims)}

    def post(self, service: str, path: str, body: dict, role: str = "department", province="83",
             **claims) -> Reply:
        return self.call("POST", service, path, body, role, province, claims)

    def get(self, service: str, path: str, role: str = "department", province="83", **claims) -> Reply:
        return self.call("GET", service, path, None, role, province, claims)

    def call(self, method, service, path, body, role, province, claims) -> Reply:
        raise NotImplementedError

    def at(self, when: str) -> None:
        """Move the server's clock (every service's) to ``when``: an ISO date or date-time."""
        raise NotImplementedError

    def settle(self) -> None:
        """Return once every accepted event has reached every projection that follows it."""
        raise NotImplementedError


class InProcess(Driver):
    def __init__(self, system, secret: str):
        self.system, self.secret = system, secret

    def call(self, method, service, path, body, role, province, claims) -> Reply:
        client = self.system.client(service)
        r = client.open(path, method=method, json=body, headers=self.token(role, province, **claims))
        return Reply(r.status_code, r.get_json(silent=True))

    def at(self, when: str) -> None:
        self.system.clock.set(when)

    def settle(self) -> None:
        self.system.drain()


def _follows() -> dict[str, tuple[str, ...]]:
    return {s: service_spec(s).follows for s in SERVICES if service_spec(s).follows}


class OverHttp(Driver):
    def __init__(self, stack, timeout_s: float = 60.0):
        self.stack, self.secret, self.timeout_s = stack, stack.secret, timeout_s
        self.session = requests.Session()
        self._engines: dict = {}

    def call(self, method, service, path, body, role, province, claims) -> Reply:
        r = self.session.request(method, self.stack.url(service) + path, json=body,
                                 headers=self.token(role, province, **claims), timeout=30)
        try:
            return Reply(r.status_code, r.json())
        except ValueError:
            return Reply(r.status_code, r.text)

    def at(self, when: str) -> None:
        self.stack.set_clock(when)

    def _count(self, service: str, sql: str) -> int:
        """A count in the service's own database, SQLite or PostgreSQL, whichever the stack gave it."""
        if service not in self._engines:
            self._engines[service] = create_engine(self.stack.env(service)["DATABASE_URL"], poolclass=NullPool)
        with self._engines[service].connect() as conn:
            return conn.execute(text(sql)).scalar_one()

    def settle(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            published = {s: self._count(s, "SELECT count(*) FROM events") for s in SERVICES}
            unsent = sum(self._count(s, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") for s in published)
            behind = {s: sum(published[f] for f in follows) - self._count(s, "SELECT count(*) FROM processed_events")
                      for s, follows in _follows().items()}
            if not unsent and not any(behind.values()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the system did not settle: unsent {unsent}, behind {behind}")
            time.sleep(0.05)
