"""The consumer runner: applies events to a service's projection exactly once.

For each record polled from the group:

1. the envelope is decoded and validated, and its payload upcast to the current version of
   its schema (shared.eventschema); a record that is not an event is a poison message and
   goes to the dead-letter topic at once;
2. in **one database transaction** the runner checks ``processed_events`` for the
   event id, calls the handler for the event type, and writes the processed row;
   a redelivered event finds its row and changes nothing;
3. only after that transaction commits are the offsets committed to Kafka. A crash
   in between redelivers the record, and step 2 drops it.

A batch is first tried in one transaction (fast path). If anything in it fails the
batch is rolled back and replayed one event at a time, each with up to
``max_attempts`` tries; an event that still fails is published to the dead-letter
topic with the original key, value and headers and the reason, marked
``dead_lettered`` in ``processed_events``, and the runner carries on with the next
record. Later events of the same stream are still applied (a projection must not
stall a whole province for one bad event); ``thidua dlq redrive`` applies the
parked event again once its cause is fixed.

``fanout`` (optional) sees **every** event the runner takes — of any type, applied or
dead-lettered — in the transaction that marks it processed: the place for work that must
follow every event exactly once without being part of the projection (notifications'
webhook deliveries). A rebuild does not call it: it is not the projection's.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.exc import IntegrityError

from shared import envelope as env
from shared import tracing
from shared.eventschema import upcast
from shared.bus import Bus, BusUnavailable, Consumer, Producer, Record, next_offsets
from shared.db import Database, DriverStatement
from shared.eventstore import processed_events

log = logging.getLogger(__name__)

Handler = Callable[[Connection, env.Envelope], None]


# Run for every event, so straight on the driver (shared.db.DriverStatement).
_SEEN = DriverStatement(select(processed_events.c.event_id)
                        .where(processed_events.c.consumer == bindparam("consumer"),
                               processed_events.c.event_id == bindparam("id")))
_MARK = DriverStatement.insert(processed_events, tuple(c.name for c in processed_events.columns))
_LATEST_OF_STORY = DriverStatement(select(processed_events.c.event_id)
                                   .where(processed_events.c.correlation_id == bindparam("correlation"))
                                   .order_by(processed_events.c.occurred_at.desc()).limit(1))


def dlq_topic(prefix: str, service: str) -> str:
    return f"{prefix}.{service}.dlq"


class ConsumerRunner:
    def __init__(self, db: Database, bus: Bus, name: str, group: str, topics: list[str],
                 handlers: dict[str, Handler], dlq: str, max_attempts: int = 3,
                 retry_backoff_s: float = 0.05,
                 after_apply: Callable[[list[Record]], None] | None = None,
                 partitions: int | None = None, fanout: Handler | None = None):
        self.db, self.bus, self.name, self.group = db, bus, name, group
        # When given, the followed topics are created (if missing) before subscribing: a group
        # that joins before its topics exist gets no partitions, and on Tansu 0.6 the quick
        # rejoin that follows may be answered with that stale, empty assignment for good.
        self.partitions = partitions
        self.topics, self.handlers, self.dlq = topics, handlers, dlq
        self.max_attempts, self.retry_backoff_s = max_attempts, retry_backoff_s
        self.after_apply = after_apply  # runs between the projection commit and the offset commit
        self.fanout = fanout
        self._consumer: Consumer | None = None
        self._dlq_producer: Producer | None = None
        self.applied = 0
        self.dead_lettered = 0
        self._cluster: str | None = None
        self._cluster_checked = 0.0

    # -- one step ---------------------------------------------------------------
    def run_once(self, timeout_s: float = 0.2) -> int:
        """Poll once, apply what came, commit offsets; returns how many records were handled."""
        self._watch_cluster()
        consumer = self._consumer_or_new()
        records = consumer.poll(timeout_s)
        if not records:
            return 0
        if not self._apply_batch(records):
            for record in records:
                self._apply_alone(record)
        if self.after_apply is not None:
            self.after_apply(records)
        consumer.commit(next_offsets(records))
        return len(records)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except BusUnavailable as exc:
                log.warning("consumer %s: broker unavailable: %s", self.name, exc)
                self.reset()
                stop.wait(1.0)
            except Exception:
                log.exception("consumer %s failed; reconnecting", self.name)
                self.reset()
                stop.wait(1.0)
        self.reset()

    def reset(self) -> None:
        """Drop the clients: uncommitted records come again to the next consumer."""
        for client in (self._consumer, self._dlq_producer):
            if client is not None:
                try:
                    client.close()
                except Exception:
                    log.debug("closing a client failed", exc_info=True)
        self._consumer = self._dlq_producer = None

    # -- applying ---------------------------------------------------------------
    def _apply_batch(self, records: list[Record]) -> bool:
        try:
            decoded = [upcast(env.decode(r.value)) for r in records]
        except env.EnvelopeError:
            return False
        try:
            with self.db.write() as conn:
                seen = self._seen(conn, [e.id for e in decoded])
                for record, event in zip(records, decoded):
                    if event.id in seen:
                        continue
                    with tracing.consuming(self.name, record, event):
                        self._apply(conn, event)
                    seen.add(event.id)
        except Exception:
            log.info("consumer %s: batch of %d failed, applying one by one", self.name, len(records))
            return False
        return True

    def _apply_alone(self, record: Record) -> None:
        try:
            event = upcast(env.decode(record.value))
        except env.EnvelopeError as exc:
            self._dead_letter(record, None, f"not a valid event envelope: {exc.errors}")
            return
        reason = ""
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self.db.write() as conn, tracing.consuming(self.name, record, event):
                    if not self._seen(conn, [event.id]):
                        self._apply(conn, event)
                return
            except IntegrityError as exc:
                if self._already_processed(event.id):  # another member applied it meanwhile
                    return
                reason = _reason(exc)
            except Exception as exc:
                reason = _reason(exc)
            log.warning("consumer %s: %s %s failed (attempt %d/%d): %s", self.name, event.type,
                        event.id, attempt, self.max_attempts, reason)
            time.sleep(self.retry_backoff_s * attempt)
        self._dead_letter(record, event, reason)

    def _apply(self, conn: Connection, event: env.Envelope) -> None:
        handler = self.handlers.get(event.type)
        outcome = "ignored"
        if handler is not None:
            handler(conn, event)
            outcome = "applied"
            self.applied += 1
        if self.fanout is not None:
            self.fanout(conn, event)
        _mark(conn, self.name, event, outcome)

    def _seen(self, conn: Connection, ids: list[str]) -> set[str]:
        return {i for i in ids if _SEEN.scalars(conn, {"consumer": self.name, "id": i})}

    def _already_processed(self, event_id: str) -> bool:
        with self.db.read() as conn:
            return bool(self._seen(conn, [event_id]))

    def _dead_letter(self, record: Record, event: env.Envelope | None, reason: str) -> None:
        headers = list(record.headers) + [
            ("dlq-reason", reason.encode()[:4000]), ("dlq-consumer", self.name.encode()),
            ("dlq-source-topic", record.topic.encode()),
            ("dlq-source-partition", str(record.partition).encode()),
            ("dlq-source-offset", str(record.offset).encode()),
            ("dlq-time", datetime.now(timezone.utc).isoformat().encode())]
        if self._dlq_producer is None:
            self._dlq_producer = self.bus.producer()
        self._dlq_producer.send(self.dlq, record.key, record.value, headers)
        self._dlq_producer.flush()  # raises BusUnavailable: then the offset is not committed
        if event is not None:
            with self.db.write() as conn:
                if not self._seen(conn, [event.id]):
                    if self.fanout is not None:  # the projection failed, the event still happened
                        self.fanout(conn, event)
                    _mark(conn, self.name, event, "dead_lettered")
        self.dead_lettered += 1
        log.error("consumer %s: record %s/%d@%d dead-lettered to %s: %s", self.name, record.topic,
                  record.partition, record.offset, self.dlq, reason)

    def _watch_cluster(self, every_s: float = 1.0) -> None:
        """A broker that lost its data answers a new cluster id; positions held for the
        old one would skip the republished records, so the consumer starts afresh."""
        now = time.monotonic()
        if now - self._cluster_checked < every_s:
            return
        cluster = self.bus.cluster_id()
        if self._cluster is not None and cluster != self._cluster:
            log.warning("consumer %s: broker changed (%s -> %s), rejoining", self.name,
                        self._cluster, cluster)
            self.reset()
        self._cluster, self._cluster_checked = cluster, now

    def _consumer_or_new(self) -> Consumer:
        if self._consumer is None:
            if self.partitions is not None:
                self.bus.ensure_topics(self.topics, self.partitions)
            self._consumer = self.bus.consumer(self.group, self.topics)
        return self._consumer


def processed_row(consumer: str, event: env.Envelope, outcome: str) -> dict:
    """The row that says ``consumer`` processed ``event``: its id, and what the audit and the
    causes of later commands need of it (the story it belongs to, its type, province and time)."""
    return {"consumer": consumer, "event_id": event.id, "outcome": outcome, "processed_at": datetime.now(timezone.utc),
            "correlation_id": event.correlationid, "event_type": event.type, "province": event.province,
            "occurred_at": event.time}


def _mark(conn: Connection, consumer: str, event: env.Envelope, outcome: str) -> None:
    _MARK.execute(conn, [processed_row(consumer, event, outcome)])


def latest_of_story(conn: Connection, correlation_id: str) -> str | None:
    """The id of the latest event of the story ``correlation_id`` this service consumed (by the
    time it happened), or None: what a command continuing that story acts on."""
    found = _LATEST_OF_STORY.scalars(conn, {"correlation": correlation_id})
    return found[0] if found else None


def _reason(exc: BaseException) -> str:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return last[:2000]
