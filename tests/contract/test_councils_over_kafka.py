"""Recusals and a ballot's share cross services over a real Kafka-protocol broker: evaluation
records them, its relay publishes them, awards' consumer takes them into its own projection, and
awards then judges a nomination and an appraisal by them (the four services in process, each
with its own Kafka clients, SQLite files and topics of this test's own prefix)."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import column, func, select, table

from services.awards.projections import recusals
from shared import config
from shared.clock import FixedClock
from shared.service import create_web_app
from shared.stack import SERVICES, service_spec
from tests.driver import InProcess
from tests.unit.conftest import SECRET, System, close_system
from tests.councils import close, declare, member, nominate_cstdcs, open_ballot, reasons, world

pytestmark = pytest.mark.kafka
P = "86"


class OverKafka(InProcess):
    """In-process services whose events travel through the broker, relayed and consumed by threads as
    a worker process runs them: ``settle`` waits until every outbox is sent and every consumer has
    applied every event of the services it follows."""

    def settle(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            time.sleep(0.05)
            behind = self.behind()
            if not any(behind.values()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the system did not settle over Kafka: behind {behind}")

    def behind(self) -> dict[str, int]:
        counts = {name: self._count(name, "events") for name in SERVICES}
        unsent = sum(self._count(name, "outbox", unsent=True) for name in SERVICES)
        behind = {name: sum(counts[f] for f in service_spec(name).follows) - self._count(name, "processed_events")
                  for name in SERVICES if service_spec(name).follows}
        return {**behind, "unsent": unsent}

    def _count(self, service: str, name: str, unsent: bool = False) -> int:
        query = select(func.count()).select_from(table(name, column("sent_at")))
        if unsent:
            query = query.where(column("sent_at").is_(None))
        with self.system.apps[service].extensions["runtime"].db.read() as conn:
            return conn.execute(query).scalar_one()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def system(request, tmp_path, kafka_bootstrap):
    """Evaluation and awards on SQLite files, or each on a fresh PostgreSQL database."""
    prefix = f"councils-{uuid.uuid4().hex[:8]}"
    clock = FixedClock()
    apps, relays, consumers = {}, [], {}
    for name in SERVICES:
        env = {"JWT_SECRET": SECRET, "DATA_DIR": str(tmp_path), "TOPIC_PREFIX": prefix,
               "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "KAFKA_MAX_POLL_INTERVAL_MS": "3000"}
        if request.param == "postgres" and name in ("evaluation", "awards"):
            env["DATABASE_URL"] = request.getfixturevalue("fresh_pg_database")(f"councils_{name}")
        settings = config.load(name, env)
        apps[name] = create_web_app(service_spec(name), settings, None, clock)
        rt = apps[name].extensions["runtime"]
        relays.append(rt.relay())
        if rt.spec.follows:
            consumers[name] = rt.consumer()
    assert apps["awards"].extensions["runtime"].db.is_sqlite is (request.param == "sqlite")
    system = System(None, apps, relays, consumers, clock)
    stop = threading.Event()
    workers = [threading.Thread(target=w.run, args=(stop,), daemon=True) for w in (*relays, *consumers.values())]
    for worker in workers:
        worker.start()
    yield system
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
    for app in apps.values():
        app.extensions["runtime"].bus.close()
    close_system(system)


def test_recusals_and_the_entitled_share_reach_awards_through_the_broker(system):
    d = OverKafka(system, SECRET)
    w = world(d, P)
    declare(d, w, w.declarer)
    ballot = open_ballot(d, w)
    assert set(reasons(ballot).values()) == {"is_candidate", "candidate_unit", "declared_interest"}
    closed = close(d, w, ballot, 6, 1, voters=w.others)
    assert closed.status == 201 and closed.body["share_for_pct"] == 85.71, closed
    n = nominate_cstdcs(d, w)  # settles first: the ballot's result crossed the broker
    assert n.status == 201, n
    awards = system.apps["awards"].extensions["runtime"]
    with awards.db.read() as conn:
        seen = dict(conn.execute(select(recusals.c.person_id, recusals.c.reason)
                                 .where(recusals.c.ballot_id == ballot["id"])).all())
    assert seen == reasons(ballot)
    r = d.post("awards", f"/nominations/{n.body['id']}/appraisal", {"outcome": "approved", "reason": "Đủ tiêu chuẩn"},
               **member(P, w.declarer))
    assert r.status == 403 and r.body["rule"] == "appraisal.recused" and \
        r.body["details"]["reason"] == "declared_interest", r
