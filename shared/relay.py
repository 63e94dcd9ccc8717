"""The outbox relay: publishes stored events to Kafka and marks them sent.

* It picks rows by state (``sent`` false) in position order, never "after the last
  position": on PostgreSQL a later position can commit before an earlier one.
* A row is marked sent only after the broker acknowledged it (acks=all). A crash in
  between sends it again; consumers drop the duplicate by event id.
* While the broker is down nothing is marked and writes go on being accepted; the
  relay retries with back-off.
* One relay per service publishes at a time (a lease row), so one stream's events
  leave in the order they were stored.
* The relay remembers the broker's cluster id. A broker answering another id has
  lost what it had (Tansu keeps topics in memory; a rebuilt cluster): every row is
  marked unsent again and republished in order, before anything new.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import namedtuple
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, select, update

from shared import envelope as env
from shared.bus import Bus, BusUnavailable
from shared.db import Database, DriverStatement
from shared.eventstore import UNSENT, events, outbox, relay_state

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=10)

_UNSENT = DriverStatement(
    select(outbox.c.position, outbox.c.topic, outbox.c.traceparent, events.c.stream_id, events.c.type,
           events.c.province, events.c.body)
    .join(events, events.c.position == outbox.c.position)
    .where(UNSENT).order_by(outbox.c.position).limit(bindparam("limit")))
_Unsent = namedtuple("_Unsent", "position topic traceparent stream_id type province body")
_MARK_SENT = (update(outbox).where(UNSENT, outbox.c.position.in_(bindparam("positions", expanding=True)))
              .values(sent=True, sent_at=bindparam("sent_at")))
_MARK_UNSENT = dict(sent=False, sent_at=None)


class OutboxRelay:
    def __init__(self, db: Database, bus: Bus, name: str, topics: list[str], partitions: int,
                 batch_size: int = 500, cluster_check_s: float = 1.0):
        self.db, self.bus, self.name = db, bus, name
        self.topics, self.partitions = topics, partitions
        self.batch_size, self.cluster_check_s = batch_size, cluster_check_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._producer = None
        self._lease_until = datetime.min.replace(tzinfo=timezone.utc)
        self._cluster_checked = 0.0
        self.backoff_s = 0.0
        self.published = 0  # records acknowledged (read by the worker's metrics)

    # -- one step -------------------------------------------------------------
    def run_once(self) -> int:
        """Publish one batch; returns how many were acknowledged (0 when idle or standing by)."""
        if not self._hold_lease():
            return 0
        try:
            self._check_cluster()
            batch = self._unsent()
            if not batch:
                return 0
            producer = self._producer_or_new()
            for row in batch:  # the stored bytes as they are: validated when they were appended
                producer.send(row.topic, row.stream_id.encode(), row.body.encode(),
                              env.record_headers(row.type, row.province, row.traceparent))
            producer.flush()
        except BusUnavailable as exc:
            self._drop_producer()
            self.backoff_s = min(max(self.backoff_s * 2, 0.2), 5.0)
            log.warning("relay %s: broker unavailable, will retry in %.1fs: %s",
                        self.name, self.backoff_s, exc)
            return 0
        self.backoff_s = 0.0
        self.published += len(batch)
        with self.db.write() as conn:
            conn.execute(_MARK_SENT, {"positions": [r.position for r in batch],
                                     "sent_at": datetime.now(timezone.utc)})
        return len(batch)

    def run(self, stop: threading.Event, idle_s: float = 0.01, idle_max_s: float = 0.05,
            linger_s: float = 0.005) -> None:
        """Relay until stopped. When idle the pause grows from ``idle_s`` to ``idle_max_s``, so an
        idle service does not query its outbox a hundred times a second; any work resets it.
        After a batch that was not full the relay lingers ``linger_s``, so that under load one
        round trip to the broker and one outbox update carry many events, not one or two."""
        pause = idle_s
        while not stop.is_set():
            try:
                sent = self.run_once()
            except Exception:  # a database hiccup must not kill the relay
                log.exception("relay %s failed; retrying", self.name)
                sent, self.backoff_s = 0, 1.0
            if sent:
                pause = idle_s
                if sent < self.batch_size and linger_s:
                    stop.wait(linger_s)
            else:
                stop.wait(self.backoff_s or pause)
                pause = min(pause * 1.5, idle_max_s)
        self._drop_producer()

    def backlog(self) -> int:
        from sqlalchemy import func
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(outbox).where(UNSENT)).scalar_one()

    # -- parts ------------------------------------------------------------------
    def _unsent(self):
        with self.db.read() as conn:
            return [_Unsent._make(r) for r in _UNSENT.rows(conn, {"limit": self.batch_size})]

    def _producer_or_new(self):
        if self._producer is None:
            self._producer = self.bus.producer()
        return self._producer

    def _drop_producer(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close()
            except Exception:  # closing a broken client may fail too; it is gone either way
                log.debug("closing producer failed", exc_info=True)
        self._producer = None
        self._cluster_checked = 0.0

    def _check_cluster(self) -> None:
        now = time.monotonic()
        if now - self._cluster_checked < self.cluster_check_s:
            return
        cluster = self.bus.cluster_id()
        with self.db.write() as conn:
            known = conn.execute(select(relay_state.c.cluster_id)
                                 .where(relay_state.c.name == self.name)).scalar_one_or_none()
            if known != cluster:
                self._drop_producer()  # its idempotent producer id belongs to the old broker
                reset = conn.execute(update(outbox).where(outbox.c.sent).values(_MARK_UNSENT)).rowcount
                conn.execute(update(relay_state).where(relay_state.c.name == self.name)
                             .values(cluster_id=cluster))
                if known is not None:
                    log.warning("relay %s: broker %s is not %s; republishing %d events",
                                self.name, cluster, known, reset)
        self.bus.ensure_topics(self.topics, self.partitions)
        self._cluster_checked = now

    def _hold_lease(self) -> bool:
        now = datetime.now(timezone.utc)
        if self._lease_until - now > LEASE / 2:
            return True
        with self.db.write() as conn:
            row = conn.execute(select(relay_state).where(relay_state.c.name == self.name)).first()
            if row is None:
                conn.execute(relay_state.insert(), dict(name=self.name, holder=self.holder,
                                                        lease_until=now + LEASE))
            elif row.holder == self.holder or _aware(row.lease_until) < now:
                conn.execute(update(relay_state).where(relay_state.c.name == self.name)
                             .values(holder=self.holder, lease_until=now + LEASE))
            else:
                return False
        self._lease_until = now + LEASE
        return True


def _aware(value: datetime | None) -> datetime:
    if value is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def mark_unsent(db: Database, from_position: int = 0) -> int:
    """Republish: every event from ``from_position`` on goes out again (operators, tests)."""
    with db.write() as conn:
        return conn.execute(update(outbox).where(outbox.c.sent, outbox.c.position >= from_position)
                            .values(_MARK_UNSENT)).rowcount
