"""What the operator commands ask the broker: topics, their configs, group offsets, records by offset.

The services' own clients (:mod:`shared.kafka_bus`) only produce and consume; these are
the administrative reads and writes around them. Every broker failure is raised as
:class:`~shared.bus.BusUnavailable`, which the command line turns into exit code 3.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from shared.bus import BusUnavailable, Record
from shared.kafka_bus import KafkaSettings


@dataclass(frozen=True)
class TopicState:
    name: str
    partitions: int
    replication_factor: int
    configs: dict[str, str] = field(default_factory=dict)


class KafkaOps:
    def __init__(self, settings: KafkaSettings):
        self.settings = settings
        self._admin: KafkaAdminClient | None = None

    # -- clients ------------------------------------------------------------------
    def admin(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = _call(lambda: KafkaAdminClient(
                bootstrap_servers=self.settings.bootstrap_servers, client_id="thidua-operator",
                request_timeout_ms=10_000, bootstrap_timeout_ms=self.settings.bootstrap_timeout_ms))
        return self._admin

    def _reader(self) -> KafkaConsumer:
        return _call(lambda: KafkaConsumer(bootstrap_servers=self.settings.bootstrap_servers,
                                           client_id="thidua-operator", enable_auto_commit=False,
                                           bootstrap_timeout_ms=self.settings.bootstrap_timeout_ms))

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()
            self._admin = None

    # -- topics -------------------------------------------------------------------
    def create_topic(self, name: str, partitions: int, replication_factor: int,
                     configs: dict[str, str]) -> bool:
        """Create one topic; False when it was there already (it is then left as it is)."""
        try:
            _call(lambda: self.admin().create_topics(
                [NewTopic(name, partitions, replication_factor, topic_configs=configs)]))
            return True
        except BusUnavailable as exc:
            if isinstance(exc.__cause__, TopicAlreadyExistsError):
                return False
            raise

    def topics(self, names: list[str]) -> dict[str, TopicState | None]:
        existing = set(_call(lambda: self.admin().list_topics()))
        found = [n for n in names if n in existing]
        described = _call(lambda: self.admin().describe_topics(found)) if found else []
        configs = self._configs(found)
        states: dict[str, TopicState | None] = {n: None for n in names}
        for topic in described:
            parts = topic.get("partitions") or []
            replicas = min((len(p.get("replica_nodes") or []) for p in parts), default=0)
            states[topic["name"]] = TopicState(topic["name"], len(parts), replicas,
                                               configs.get(topic["name"], {}))
        return states

    def _configs(self, names: list[str]) -> dict[str, dict[str, str]]:
        if not names:
            return {}
        answer = _call(lambda: self.admin().describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, n) for n in names], config_filter="all"))
        out: dict[str, dict[str, str]] = {}
        for name, entries in (answer.get("topic") or {}).items():
            out[name] = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in (entries or {}).items()}
        return out

    # -- offsets ------------------------------------------------------------------
    def partitions(self, topic: str) -> list[int]:
        state = self.topics([topic])[topic]
        return list(range(state.partitions)) if state else []

    def offsets(self, topic: str) -> tuple[dict[int, int], dict[int, int]]:
        """(beginning, end) offset of every partition of ``topic``."""
        reader = self._reader()
        try:
            tps = [TopicPartition(topic, p) for p in self.partitions(topic)]
            begin = {tp.partition: o for tp, o in _call(lambda: reader.beginning_offsets(tps)).items()}
            end = {tp.partition: o for tp, o in _call(lambda: reader.end_offsets(tps)).items()}
        finally:
            reader.close()
        return begin, self._true_ends(topic, begin, end)

    def _true_ends(self, topic: str, begin: dict[int, int], end: dict[int, int]) -> dict[int, int]:
        """The offset after each partition's last record, read from the last record itself.

        Apache Kafka answers the high watermark, and this changes nothing. Tansu answers the
        last *batch*'s base offset plus one (3 records produced in one batch at 0..2: "1"),
        which would hide lag; fetching from that offset returns the whole last batch."""
        wanted = {p: e - 1 for p, e in end.items() if e > begin.get(p, 0)}
        if not wanted:
            return dict(end)
        reader = self._reader()
        last: dict[int, int] = {}
        try:
            reader.assign([TopicPartition(topic, p) for p in wanted])
            for p, offset in wanted.items():
                reader.seek(TopicPartition(topic, p), offset)
            deadline = time.monotonic() + 10
            quiet_until = None
            while time.monotonic() < deadline:
                got = _call(lambda: reader.poll(timeout_ms=100))
                for tp, records in got.items():
                    last[tp.partition] = max([last.get(tp.partition, -1)] + [r.offset for r in records])
                if len(last) == len(wanted):
                    quiet_until = quiet_until or time.monotonic() + 0.2
                    if not got and time.monotonic() > quiet_until:
                        break
        finally:
            reader.close()
        return {p: max(e, last.get(p, -1) + 1) for p, e in end.items()}

    def committed(self, group: str) -> dict[tuple[str, int], int]:
        answer = _call(lambda: self.admin().list_group_offsets({group: None})).get(group, {})
        return {(tp.topic, tp.partition): om.offset for tp, om in answer.items() if om.offset >= 0}

    # -- records ------------------------------------------------------------------
    def read_at(self, wanted: dict[tuple[str, int], int], timeout_s: float = 10.0) -> dict[tuple[str, int], Record]:
        """The first record at or after each (topic, partition) offset (fewer if a partition has none)."""
        if not wanted:
            return {}
        reader = self._reader()
        found: dict[tuple[str, int], Record] = {}
        try:
            tps = {key: TopicPartition(*key) for key in wanted}
            reader.assign(list(tps.values()))
            for key, tp in tps.items():
                reader.seek(tp, wanted[key])
            deadline = time.monotonic() + timeout_s
            while len(found) < len(wanted) and time.monotonic() < deadline:
                for tp, records in _call(lambda: reader.poll(timeout_ms=500)).items():
                    key = (tp.topic, tp.partition)
                    if records and key not in found:
                        found[key] = _record(records[0])
                        reader.pause(tp)
        finally:
            reader.close()
        return found

    def read_all(self, topic: str, timeout_s: float = 30.0) -> list[Record]:
        """Every record of ``topic`` up to its end offsets now, in partition and offset order."""
        begin, end = self.offsets(topic)
        todo = {p: (begin[p], end[p]) for p in end if end[p] > begin.get(p, 0)}
        if not todo:
            return []
        reader = self._reader()
        out: list[Record] = []
        try:
            reader.assign([TopicPartition(topic, p) for p in todo])
            for p, (first, _) in todo.items():
                reader.seek(TopicPartition(topic, p), first)
            done: set[int] = set()
            deadline = time.monotonic() + timeout_s
            while len(done) < len(todo):
                if time.monotonic() > deadline:
                    raise BusUnavailable(f"{topic}: could not read up to its end offsets in {timeout_s}s")
                for tp, records in _call(lambda: reader.poll(timeout_ms=500)).items():
                    last = todo[tp.partition][1]
                    out.extend(_record(r) for r in records if r.offset < last)
                    if any(r.offset >= last - 1 for r in records):
                        done.add(tp.partition)
                        reader.pause(tp)
        finally:
            reader.close()
        return sorted(out, key=lambda r: (r.partition, r.offset))

    def publish(self, topic: str, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> None:
        producer = _call(lambda: KafkaProducer(
            bootstrap_servers=self.settings.bootstrap_servers, client_id="thidua-operator", acks="all",
            enable_idempotence=True, max_block_ms=5000, request_timeout_ms=5000,
            delivery_timeout_ms=10_000, bootstrap_timeout_ms=self.settings.bootstrap_timeout_ms))
        try:
            future = producer.send(topic, key=key, value=value, headers=headers)
            _call(lambda: future.get(timeout=15))
        finally:
            producer.close(timeout=2)


def _record(r) -> Record:
    return Record(r.topic, r.partition, r.offset, r.key, r.value, tuple((k, v) for k, v in (r.headers or [])),
                  r.timestamp)


def _call(fn):
    try:
        return fn()
    except BusUnavailable:
        raise
    except (KafkaError, OSError) as exc:
        raise BusUnavailable(f"{type(exc).__name__}: {exc}") from exc
