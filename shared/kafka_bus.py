"""The bus port on Apache Kafka (or any Kafka-protocol broker) with kafka-python.

Clients are created lazily by the process that uses them, never at import time and
never before gunicorn forks.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.coordinator.base import MemberState
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from shared.bus import BusUnavailable, Record


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: str
    client_id: str = "thidua"
    # Group joins wait up to the rebalance timeout, which kafka-python takes from
    # max_poll_interval_ms: keep it small on Tansu (a few seconds).
    max_poll_interval_ms: int = 10_000
    session_timeout_ms: int = 10_000
    # How long the broker may hold a fetch that has nothing to return. Each empty fetch costs
    # Tansu and the client CPU (idle stack: 41 % of a core at 20 ms, 18 % at 100 ms), but Tansu
    # 0.6 does not answer a held fetch the moment a record arrives, so a long wait is latency
    # (p99 at 100 registrations/s: 42 ms at 20 ms, 77 ms at 100 ms, 157 ms at 250 ms).
    # fetch_min_bytes above 1 would batch more, but Tansu spins while it waits for the bytes.
    fetch_min_bytes: int = 1
    fetch_max_wait_ms: int = 100
    replication_factor: int = 1
    # How long creating a client waits for the first broker; kafka-python's own default
    # (30 s) would stall a relay or an operator command that long on every retry.
    bootstrap_timeout_ms: int = 5000


class KafkaBus:
    def __init__(self, settings: KafkaSettings):
        self.settings = settings
        self._admin: KafkaAdminClient | None = None
        self._lock = threading.Lock()

    def _admin_client(self) -> KafkaAdminClient:
        with self._lock:
            if self._admin is None:
                try:
                    self._admin = KafkaAdminClient(bootstrap_servers=self.settings.bootstrap_servers,
                                                   client_id=f"{self.settings.client_id}-admin",
                                                   request_timeout_ms=5000,
                                                   bootstrap_timeout_ms=self.settings.bootstrap_timeout_ms)
                except KafkaError as exc:
                    raise BusUnavailable(f"broker {self.settings.bootstrap_servers}: {exc}") from exc
            return self._admin

    def _reset_admin(self) -> None:
        with self._lock:
            if self._admin is not None:
                self._admin.close()
            self._admin = None

    def _admin_call(self, fn):
        try:
            return fn(self._admin_client())
        except BusUnavailable:
            raise
        except (KafkaError, OSError) as exc:
            self._reset_admin()
            raise BusUnavailable(str(exc)) from exc

    def producer(self) -> "KafkaBusProducer":
        return KafkaBusProducer(self.settings)

    def consumer(self, group: str, topics: list[str]) -> "KafkaBusConsumer":
        return KafkaBusConsumer(self.settings, group, topics)

    def ensure_topics(self, topics: list[str], partitions: int) -> None:
        def create(admin: KafkaAdminClient):
            existing = set(admin.list_topics())
            missing = [NewTopic(t, partitions, self.settings.replication_factor)
                       for t in topics if t not in existing]
            if missing:
                try:
                    admin.create_topics(missing)
                except TopicAlreadyExistsError:
                    pass
        self._admin_call(create)

    def cluster_id(self) -> str:
        return self._admin_call(lambda a: a.describe_cluster()["cluster_id"])

    def committed(self, group: str, topic: str) -> dict[int, int]:
        # kafka-python 3 answers {group: {TopicPartition: OffsetAndMetadata}}; -1 means none.
        offsets = self._admin_call(lambda a: a.list_group_offsets({group: None})).get(group, {})
        return {tp.partition: om.offset for tp, om in offsets.items()
                if tp.topic == topic and om.offset >= 0}

    def end_offsets(self, topic: str) -> dict[int, int]:
        try:
            consumer = KafkaConsumer(bootstrap_servers=self.settings.bootstrap_servers,
                                     bootstrap_timeout_ms=self.settings.bootstrap_timeout_ms)
        except KafkaError as exc:
            raise BusUnavailable(str(exc)) from exc
        try:
            parts = consumer.partitions_for_topic(topic) or set()
            ends = consumer.end_offsets([TopicPartition(topic, p) for p in parts])
            return {tp.partition: off for tp, off in ends.items()}
        except KafkaError as exc:
            raise BusUnavailable(str(exc)) from exc
        finally:
            consumer.close()

    def close(self) -> None:
        self._reset_admin()


class KafkaBusProducer:
    """acks=all and idempotent: a record acknowledged is on every in-sync replica, once."""

    def __init__(self, settings: KafkaSettings):
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=settings.bootstrap_servers, client_id=f"{settings.client_id}-relay",
                acks="all", enable_idempotence=True, linger_ms=2, max_block_ms=5000,
                request_timeout_ms=5000, delivery_timeout_ms=10_000, retry_backoff_ms=100,
                bootstrap_timeout_ms=settings.bootstrap_timeout_ms)
        except KafkaError as exc:
            raise BusUnavailable(str(exc)) from exc
        self._futures = []

    def send(self, topic, key, value, headers=None):
        try:
            self._futures.append(self._producer.send(topic, key=key, value=value, headers=headers or []))
        except KafkaError as exc:
            raise BusUnavailable(str(exc)) from exc

    def flush(self, timeout_s: float = 10.0) -> None:
        futures, self._futures = self._futures, []
        try:
            self._producer.flush(timeout=timeout_s)
        except KafkaError as exc:
            raise BusUnavailable(f"not acknowledged: {exc}") from exc
        failed = [f.exception for f in futures if not f.succeeded()]
        if failed:
            raise BusUnavailable(f"{len(failed)} records not acknowledged: {failed[0]}")

    def close(self) -> None:
        self._producer.close(timeout=1)


class KafkaBusConsumer:
    """A member of a consumer group; offsets are committed by hand, never automatically."""

    def __init__(self, settings: KafkaSettings, group: str, topics: list[str]):
        try:
            self._consumer = KafkaConsumer(
                *topics, bootstrap_servers=settings.bootstrap_servers, group_id=group,
                client_id=f"{settings.client_id}-{group}", enable_auto_commit=False,
                auto_offset_reset="earliest", max_poll_interval_ms=settings.max_poll_interval_ms,
                session_timeout_ms=settings.session_timeout_ms,
                heartbeat_interval_ms=max(300, settings.session_timeout_ms // 4),
                fetch_min_bytes=settings.fetch_min_bytes, fetch_max_wait_ms=settings.fetch_max_wait_ms,
                request_timeout_ms=30_000,
                bootstrap_timeout_ms=settings.bootstrap_timeout_ms)
        except KafkaError as exc:
            raise BusUnavailable(str(exc)) from exc

    def poll(self, timeout_s: float = 0.5, max_records: int = 500) -> list[Record]:
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        out = [Record(r.topic, r.partition, r.offset, r.key, r.value,
                      tuple((k, v) for k, v in (r.headers or [])), r.timestamp)
               for recs in batches.values() for r in recs]
        out.sort(key=lambda r: (r.topic, r.partition, r.offset))
        return out

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        try:
            self._consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1)
                                   for (t, p), o in offsets.items()})
        except KafkaError as exc:
            raise BusUnavailable(f"offsets not committed: {exc}") from exc

    def close(self) -> None:
        # Tansu 0.6 never forgets a member that sends LeaveGroup while its JoinGroup is still
        # pending: the group's next members wait for that member forever and get no partitions
        # (a consumer reset on a broker change can hit this). A member caught mid-join therefore
        # closes without leaving and expires by session timeout, as a killed process would.
        coordinator = getattr(self._consumer, "_coordinator", None)
        if getattr(coordinator, "state", None) is MemberState.REBALANCING:
            coordinator.reset_generation()
        self._consumer.close(autocommit=False)
