"""The bus port, and an in-memory bus held to the same contract as Kafka.

The contract (``tests/contract/test_bus_contract.py`` runs it on both):

* ``Producer.send`` queues a record; ``Producer.flush`` returns only when every
  queued record is acknowledged, and raises :class:`BusUnavailable` otherwise.
* Records with the same key go to the same partition, in the order sent.
* A consumer in a group reads from its group's committed offsets (or from the
  beginning when there are none) and moves on only when it commits by hand; a
  consumer that closes without committing leaves the records to the next one.
* ``cluster_id`` identifies the broker's data: a broker that lost its topics (an
  in-memory broker restarted, a cluster rebuilt) answers a different id.
"""
from __future__ import annotations

import threading
import time
import uuid
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol


class BusUnavailable(Exception):
    """The broker did not acknowledge in time; nothing may be assumed sent."""


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int = 0

    def header(self, name: str) -> bytes | None:
        return next((v for k, v in self.headers if k == name), None)


class Producer(Protocol):
    def send(self, topic: str, key: bytes | None, value: bytes,
             headers: list[tuple[str, bytes]] | None = None) -> None: ...

    def flush(self, timeout_s: float = 10.0) -> None: ...

    def close(self) -> None: ...


class Consumer(Protocol):
    def poll(self, timeout_s: float = 0.5, max_records: int = 500) -> list[Record]: ...

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """Commit, per (topic, partition), the offset of the *next* record to read."""

    def close(self) -> None: ...


class Bus(Protocol):
    def producer(self) -> Producer: ...

    def consumer(self, group: str, topics: list[str]) -> Consumer: ...

    def ensure_topics(self, topics: list[str], partitions: int) -> None: ...

    def cluster_id(self) -> str: ...

    def committed(self, group: str, topic: str) -> dict[int, int]: ...

    def end_offsets(self, topic: str) -> dict[int, int]: ...


def next_offsets(records: list[Record]) -> dict[tuple[str, int], int]:
    """The offsets to commit after handling ``records``: one past the last of each partition."""
    offsets: dict[tuple[str, int], int] = {}
    for r in records:
        offsets[(r.topic, r.partition)] = max(offsets.get((r.topic, r.partition), 0), r.offset + 1)
    return offsets


@dataclass
class _Topic:
    partitions: list[list[Record]]


@dataclass
class InMemoryBus:
    """A broker in one process, for fast unit tests. Thread-safe; one consumer per group."""

    default_partitions: int = 3
    _topics: dict[str, _Topic] = field(default_factory=dict)
    _committed: dict[tuple[str, str, int], int] = field(default_factory=dict)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _cluster: str = field(default_factory=lambda: str(uuid.uuid4()))
    available: bool = True

    def producer(self) -> "_MemoryProducer":
        return _MemoryProducer(self)

    def consumer(self, group: str, topics: list[str]) -> "_MemoryConsumer":
        return _MemoryConsumer(self, group, list(topics))

    def ensure_topics(self, topics: list[str], partitions: int | None = None) -> None:
        with self._lock:
            for name in topics:
                self._topic(name, partitions)

    def cluster_id(self) -> str:
        if not self.available:
            raise BusUnavailable("the in-memory broker is down")
        return self._cluster

    def committed(self, group: str, topic: str) -> dict[int, int]:
        with self._lock:
            t = self._topic(topic)
            return {p: self._committed.get((group, topic, p), 0) for p in range(len(t.partitions))}

    def end_offsets(self, topic: str) -> dict[int, int]:
        with self._lock:
            return {p: len(part) for p, part in enumerate(self._topic(topic).partitions)}

    def records(self, topic: str) -> list[Record]:
        with self._lock:
            return [r for part in self._topic(topic).partitions for r in part]

    def lose_everything(self) -> None:
        """What an in-memory broker's restart does: topics, offsets and identity are gone."""
        with self._lock:
            self._topics.clear()
            self._committed.clear()
            self._cluster = str(uuid.uuid4())

    def _topic(self, name: str, partitions: int | None = None) -> _Topic:
        if name not in self._topics:
            self._topics[name] = _Topic([[] for _ in range(partitions or self.default_partitions)])
        return self._topics[name]

    def _append(self, topic: str, key: bytes | None, value: bytes, headers) -> None:
        t = self._topic(topic)
        p = (zlib.crc32(key) if key is not None else len(value)) % len(t.partitions)
        part = t.partitions[p]
        part.append(Record(topic, p, len(part), key, value, tuple(headers or ()), int(time.time() * 1000)))


class _MemoryProducer:
    def __init__(self, bus: InMemoryBus):
        self._bus, self._queue = bus, []

    def send(self, topic, key, value, headers=None):
        self._queue.append((topic, key, value, headers))

    def flush(self, timeout_s: float = 10.0):
        if not self._bus.available:
            self._queue.clear()
            raise BusUnavailable("the in-memory broker is down")
        with self._bus._lock:
            for item in self._queue:
                self._bus._append(*item)
            self._queue.clear()
            self._bus._lock.notify_all()

    def close(self):
        self._queue.clear()


class _MemoryConsumer:
    def __init__(self, bus: InMemoryBus, group: str, topics: list[str]):
        self._bus, self._group, self._topics = bus, group, topics
        self._positions: dict[tuple[str, int], int] = defaultdict(int)
        with bus._lock:
            for t in topics:
                for p in range(len(bus._topic(t).partitions)):
                    self._positions[(t, p)] = bus._committed.get((group, t, p), 0)

    def poll(self, timeout_s: float = 0.5, max_records: int = 500) -> list[Record]:
        deadline = time.monotonic() + timeout_s
        with self._bus._lock:
            while True:
                out = self._take(max_records)
                remaining = deadline - time.monotonic()
                if out or remaining <= 0:
                    return out
                self._bus._lock.wait(remaining)

    def _take(self, max_records: int) -> list[Record]:
        if not self._bus.available:
            return []
        out: list[Record] = []
        for t in self._topics:
            for p, part in enumerate(self._bus._topic(t).partitions):
                pos = self._positions[(t, p)]
                if pos > len(part):  # the broker lost its data: start again from the beginning
                    pos = self._bus._committed.get((self._group, t, p), 0)
                chunk = part[pos:pos + max_records - len(out)]
                out.extend(chunk)
                self._positions[(t, p)] = pos + len(chunk)
        return out

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        if not self._bus.available:
            raise BusUnavailable("the in-memory broker is down")
        with self._bus._lock:
            for (t, p), off in offsets.items():
                self._bus._committed[(self._group, t, p)] = off

    def close(self) -> None:
        self._positions.clear()
