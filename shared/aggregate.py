"""Loading aggregates from their streams and recording their new events.

An aggregate is any object with ``version`` and ``apply(type, data, province)``;
the domain stays free of SQLAlchemy, Kafka and Flask.

Every event says what caused it (``causationid``), decided here for every command of
every service, HTTP or background, so that no handler has to: the event named by the
context (:meth:`CommandContext.caused_by`: an exemplar's previous step, the event before
it in the same decision); else the event the command acts on, which is the last event of
the stream it appends to, or, for a new stream, the latest event of its story (correlation
id) the service consumed (an evaluation acts on the registration, a nomination on the
evaluation, a deadline reminder on the campaign); else, for a command that begins a story,
the command itself (``X-Request-ID`` or a fresh ``command:<uuid>``).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

from shared import eventschema
from shared.consumer import latest_of_story
from shared.envelope import Actor, Envelope
from shared.eventstore import EventStore


class Aggregate(Protocol):
    version: int

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None: ...


A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class CommandContext:
    """Who asks, in which province, and what this command belongs to and comes from."""
    source: str
    province: str
    actor: Actor
    correlation_id: str
    causation_id: str  # the command's id
    # when the command was received, by the server's clock: the time of every event it records
    time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    cause: str = ""  # the event that caused the events to record, when the caller knows it

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())

    def caused_by(self, event_id: str) -> "CommandContext":
        """The same command, for an event caused by this earlier event."""
        return replace(self, cause=event_id)


@dataclass
class Stream:
    """An aggregate that needs no state to decide: only its version (each command stands alone)."""
    id: str
    version: int = 0

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        self.version += 1


def rehydrate(store: EventStore, conn: Connection, stream_id: str, aggregate: A) -> A:
    for event in store.load(conn, stream_id):
        aggregate.apply(event.type, event.data, event.province)
    return aggregate


def record(store: EventStore, conn: Connection, stream_id: str, aggregate: Aggregate,
           type_: str, data: dict[str, Any], ctx: CommandContext,
           project: dict[str, Callable[[Connection, Envelope], None]] | None = None) -> Envelope:
    """Append one event at the aggregate's version (optimistic), apply it, and update the
    service's own read model in the same transaction (``project``: type -> updater). The payload
    is checked against its type's current schema first (a mismatch raises PayloadError)."""
    cause = ctx.cause or acted_on(store, conn, stream_id, aggregate.version, ctx.correlation_id) or ctx.causation_id
    event = Envelope(type=type_, source=ctx.source, subject=stream_id, province=ctx.province,
                     data=data, actor=ctx.actor, correlationid=ctx.correlation_id,
                     causationid=cause, time=ctx.time, schemaversion=eventschema.check(type_, data))
    [stored] = store.append(conn, stream_id, aggregate.version, [event])
    aggregate.apply(type_, data, ctx.province)
    if project is not None:
        project[type_](conn, stored)
    return stored


def acted_on(store: EventStore, conn: Connection, stream_id: str, version: int, correlation_id: str) -> str | None:
    """The event a command appending at ``version`` of ``stream_id`` acts on (see the module's docstring)."""
    if version:
        return store.event_id_at(conn, stream_id, version)
    return latest_of_story(conn, correlation_id)


def record_all(store: EventStore, conn: Connection, stream_id: str, aggregate: Aggregate,
               decided: list[tuple[str, dict[str, Any]]], ctx: CommandContext,
               project: dict[str, Callable[[Connection, Envelope], None]] | None = None) -> Envelope:
    """Record several events a decision made, each caused by the one before it; returns the last."""
    last = None
    for type_, data in decided:
        last = record(store, conn, stream_id, aggregate, type_, data, ctx, project)
        ctx = ctx.caused_by(last.id)
    return last
