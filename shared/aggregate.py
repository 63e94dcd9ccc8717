"""Loading aggregates from their streams and recording their new events.

An aggregate is any object with ``version`` and ``apply(type, data, province)``;
the domain stays free of SQLAlchemy, Kafka and Flask.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection

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
    causation_id: str

    @staticmethod
    def new_id() -> str:
        return str(uuid.uuid4())


def rehydrate(store: EventStore, conn: Connection, stream_id: str, aggregate: A) -> A:
    for event in store.load(conn, stream_id):
        aggregate.apply(event.type, event.data, event.province)
    return aggregate


def record(store: EventStore, conn: Connection, stream_id: str, aggregate: Aggregate,
           type_: str, data: dict[str, Any], ctx: CommandContext,
           project: dict[str, Callable[[Connection, Envelope], None]] | None = None) -> Envelope:
    """Append one event at the aggregate's version (optimistic), apply it, and update the
    service's own read model in the same transaction (``project``: type -> updater)."""
    event = Envelope(type=type_, source=ctx.source, subject=stream_id, province=ctx.province,
                     data=data, actor=ctx.actor, correlationid=ctx.correlation_id,
                     causationid=ctx.causation_id)
    [stored] = store.append(conn, stream_id, aggregate.version, [event])
    aggregate.apply(type_, data, ctx.province)
    if project is not None:
        project[type_](conn, stored)
    return stored
