"""Dead letters: list them with their reasons, show one, redrive one or all.

A dead letter is the original record (key, value, headers) plus the headers the consumer
added (:meth:`shared.consumer.ConsumerRunner._dead_letter`): ``dlq-reason``,
``dlq-consumer``, ``dlq-source-topic|partition|offset``, ``dlq-time``. It is named
``<partition>:<offset>`` in its DLQ topic, or by its event id.

Its state comes from the consumer's ``processed_events`` row for that event id:
``parked`` (outcome ``dead_lettered``), ``applied``/``ignored`` (a redrive, or a
rebuild, has since applied it) or ``pending`` (no row: redriven, not yet consumed).

Redrive = delete the ``dead_lettered`` row, then publish the original record again to
its source topic. In that order: published first, the consumer could meet the event
before the row is gone and drop it as already processed. If the publish then fails
the letter stays ``pending`` and can be redriven again. Every group following the
source topic receives the record again; the others drop it by event id. It lands after
the later events of its stream (the price of parking it, see :mod:`shared.consumer`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, select

from shared.bus import Record
from shared.db import Database
from shared.eventstore import processed_events
from shared.ops.kafka import KafkaOps

DLQ_HEADERS = ("dlq-reason", "dlq-consumer", "dlq-source-topic", "dlq-source-partition",
               "dlq-source-offset", "dlq-time")


@dataclass(frozen=True)
class DeadLetter:
    record: Record

    def _h(self, name: str) -> str | None:
        value = self.record.header(name)
        return value.decode(errors="replace") if value is not None else None

    @property
    def id(self) -> str:
        return f"{self.record.partition}:{self.record.offset}"

    @property
    def event(self) -> dict | None:
        try:
            body = json.loads(self.record.value)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        return body if isinstance(body, dict) else None

    @property
    def event_id(self) -> str | None:
        return (self.event or {}).get("id")

    @property
    def consumer(self) -> str | None:
        return self._h("dlq-consumer")

    @property
    def source(self) -> tuple[str | None, int | None, int | None]:
        p, o = self._h("dlq-source-partition"), self._h("dlq-source-offset")
        return self._h("dlq-source-topic"), int(p) if p else None, int(o) if o else None

    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.record.headers if k not in DLQ_HEADERS and k != "dlq-redriven-from"]

    def summary(self, state: str | None = None) -> dict:
        event = self.event or {}
        topic, partition, offset = self.source
        return {"id": self.id, "event_id": self.event_id, "type": event.get("type"),
                "province": event.get("province"), "subject": event.get("subject"),
                "reason": self._h("dlq-reason"), "consumer": self.consumer, "source_topic": topic,
                "source_partition": partition, "source_offset": offset, "dead_lettered_at": self._h("dlq-time"),
                "state": state}

    def detail(self, state: str | None = None) -> dict:
        value = self.event
        return {**self.summary(state), "key": self.record.key.decode(errors="replace") if self.record.key else None,
                "headers": {k: v.decode(errors="replace") for k, v in self.record.headers},
                "value": value if value is not None else self.record.value.decode(errors="replace")}


def read(kafka: KafkaOps, topic: str) -> list[DeadLetter]:
    return [DeadLetter(r) for r in kafka.read_all(topic)]


def states(db: Database, letters: list[DeadLetter]) -> dict[str, str]:
    """Each dead letter's state, by its id (``unreadable`` for a record that is not an event)."""
    ids = {dl.event_id for dl in letters if dl.event_id}
    outcomes: dict[tuple[str, str], str] = {}
    if ids:
        with db.read() as conn:
            rows = conn.execute(select(processed_events.c.consumer, processed_events.c.event_id,
                                       processed_events.c.outcome)
                                .where(processed_events.c.event_id.in_(sorted(ids))))
            outcomes = {(r.consumer, r.event_id): r.outcome for r in rows}
    out = {}
    for dl in letters:
        if not dl.event_id:
            out[dl.id] = "unreadable"
            continue
        outcome = outcomes.get((dl.consumer, dl.event_id))
        out[dl.id] = {"dead_lettered": "parked", None: "pending"}.get(outcome, outcome)
    return out


def find(letters: list[DeadLetter], ident: str) -> DeadLetter | None:
    """By ``partition:offset``, or by event id (its latest dead letter)."""
    matches = [dl for dl in letters if ident in (dl.id, dl.event_id)]
    return matches[-1] if matches else None


def redrive(db: Database, kafka: KafkaOps, dlq: str, letter: DeadLetter) -> dict:
    topic, _, _ = letter.source
    result = {"id": letter.id, "event_id": letter.event_id, "to": topic, "redriven": False}
    if not letter.event_id or not topic or not letter.consumer:
        return {**result, "why": "not an event envelope from a consumer: nothing that could apply it"}
    with db.write() as conn:
        outcome = conn.execute(select(processed_events.c.outcome).where(
            processed_events.c.consumer == letter.consumer,
            processed_events.c.event_id == letter.event_id)).scalar_one_or_none()
        if outcome not in (None, "dead_lettered"):
            return {**result, "why": f"already {outcome}"}
        conn.execute(delete(processed_events).where(processed_events.c.consumer == letter.consumer,
                                                    processed_events.c.event_id == letter.event_id,
                                                    processed_events.c.outcome == "dead_lettered"))
    headers = letter.original_headers() + [("dlq-redriven-from", f"{dlq}:{letter.id}".encode())]
    kafka.publish(topic, letter.record.key, letter.record.value, headers)
    return {**result, "redriven": True}


def parked(letters: list[DeadLetter], state_of: dict[str, str]) -> list[DeadLetter]:
    """The latest dead letter of every event still parked (an event may have been parked twice)."""
    latest: dict[str, DeadLetter] = {}
    for dl in letters:
        if dl.event_id and state_of[dl.id] == "parked":
            latest[dl.event_id] = dl
    return list(latest.values())
