"""The topics an installation needs, created and checked.

Per service: ``<prefix>.<service>`` (its events) and ``<prefix>.<service>.dlq`` (what its
consumer could not apply), with ``TOPIC_PARTITIONS`` partitions, the replication factor
``KAFKA_REPLICATION_FACTOR`` and ``retention.ms`` from ``TOPIC_RETENTION_MS`` /
``DLQ_RETENTION_MS``. A topic is never altered by ``create``: changing the partition
count of an existing topic would move keys to other partitions and break the order of
their streams, so ``check`` reports it and the operator decides.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings
from shared.consumer import dlq_topic
from shared.ops.kafka import KafkaOps, TopicState


@dataclass(frozen=True)
class TopicSpec:
    name: str
    service: str
    kind: str  # "events" or "dlq"
    partitions: int
    replication_factor: int
    configs: dict[str, str]


def wanted(settings: Settings) -> list[TopicSpec]:
    s = settings
    return [TopicSpec(s.topic, s.service, "events", s.partitions, s.replication_factor,
                      {"retention.ms": str(s.topic_retention_ms), "cleanup.policy": "delete"}),
            TopicSpec(dlq_topic(s.topic_prefix, s.service), s.service, "dlq", s.partitions,
                      s.replication_factor, {"retention.ms": str(s.dlq_retention_ms), "cleanup.policy": "delete"})]


def create(kafka: KafkaOps, specs: list[TopicSpec]) -> list[dict]:
    return [{"topic": t.name, "service": t.service, "kind": t.kind,
             "created": kafka.create_topic(t.name, t.partitions, t.replication_factor, t.configs)}
            for t in specs]


def problems(spec: TopicSpec, state: TopicState | None) -> list[str]:
    """What differs between the topic wanted and the topic found; a config the broker does not
    report (Tansu reports none) is not counted as a difference."""
    if state is None:
        return [f"{spec.name}: missing (run `thidua topics create`)"]
    found = []
    if state.partitions != spec.partitions:
        found.append(f"{spec.name}: {state.partitions} partitions, {spec.partitions} wanted")
    if state.replication_factor < spec.replication_factor:
        found.append(f"{spec.name}: replication factor {state.replication_factor}, "
                     f"{spec.replication_factor} wanted")
    for key, value in spec.configs.items():
        actual = state.configs.get(key)
        if actual is not None and str(actual) != value:
            found.append(f"{spec.name}: {key}={actual}, {value} wanted")
    return found


def check(kafka: KafkaOps, specs: list[TopicSpec]) -> list[dict]:
    states = kafka.topics([t.name for t in specs])
    report = []
    for spec in specs:
        state = states[spec.name]
        report.append({
            "topic": spec.name, "service": spec.service, "kind": spec.kind, "exists": state is not None,
            "partitions": state.partitions if state else None,
            "replication_factor": state.replication_factor if state else None,
            "retention_ms": state.configs.get("retention.ms") if state else None,
            "problems": problems(spec, state)})
    return report
