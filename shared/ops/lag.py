"""How far behind each consumer group is, per partition, in messages and in seconds.

Messages: the partition's end offset minus the group's committed offset (or minus the
beginning offset when the group never committed). Seconds: the age of the oldest record
not yet consumed — the timestamp of the record at the committed offset — so a group that
is 10 000 messages behind but started on them a second ago shows 1 s, and one that is 3
messages behind a stuck handler shows how long it has been stuck.
"""
from __future__ import annotations

import time

from shared.ops.kafka import KafkaOps


def group_lag(kafka: KafkaOps, group: str, topics: list[str], now_ms: int | None = None) -> list[dict]:
    committed = kafka.committed(group)
    rows, oldest = [], {}
    for topic in topics:
        begin, end = kafka.offsets(topic)
        for partition in sorted(end):
            position = committed.get((topic, partition))
            start = position if position is not None else begin.get(partition, 0)
            lag = max(0, end[partition] - start)
            rows.append({"group": group, "topic": topic, "partition": partition, "committed": position,
                         "end": end[partition], "lag": lag, "seconds": 0.0})
            if lag:
                oldest[(topic, partition)] = start
    records = kafka.read_at(oldest)
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    for row in rows:
        if row["lag"]:
            record = records.get((row["topic"], row["partition"]))
            row["seconds"] = round(max(0, now_ms - record.timestamp_ms) / 1000, 3) if record else None
    return rows
