"""kafka-python's produce -> consume ceiling on a Tansu broker.

The producer is configured like the relay (acks=all, idempotent, linger 2 ms) and
flushes every 500 records like the relay's batches; the consumer, in its own process,
is a consumer-group member like ours (manual offset commit after every poll).
"""
from __future__ import annotations

import multiprocessing
import time
import uuid


def _consume(bootstrap: str, topic: str, group: str, n: int, ready, results) -> None:
    import os

    from kafka import KafkaConsumer

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False, auto_offset_reset="earliest",
                             max_poll_interval_ms=3000, session_timeout_ms=6000,
                             heartbeat_interval_ms=1500, fetch_max_wait_ms=20)
    try:
        deadline = time.monotonic() + 60
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(timeout_ms=100)
        ready.set()
        got, first, last = 0, None, None
        deadline = time.monotonic() + 300
        while got < n and time.monotonic() < deadline:
            batches = consumer.poll(timeout_ms=200, max_records=500)
            count = sum(len(v) for v in batches.values())
            if count:
                now = time.time()
                first = first or now
                got, last = got + count, now
                consumer.commit()
        t = os.times()
        results.put((got, first, last, t.user + t.system))
    finally:
        consumer.close(autocommit=False)


def run(bootstrap: str, n: int, payload_size: int, partitions: int = 3, broker_pid: int | None = None) -> dict:
    import os

    from kafka import KafkaProducer

    from bench import procstat

    from shared.kafka_bus import KafkaBus, KafkaSettings

    topic = f"bench.ceiling.{uuid.uuid4().hex[:8]}"
    bus = KafkaBus(KafkaSettings(bootstrap))
    bus.ensure_topics([topic], partitions)
    bus.close()
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=_consume, args=(bootstrap, topic, f"{topic}.group", n, ready, results),
                       daemon=True)
    proc.start()
    producer = None
    try:
        t_join = time.monotonic()
        if not ready.wait(60):
            raise RuntimeError("the ceiling consumer did not join its group")
        join_s = time.monotonic() - t_join
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                 linger_ms=2, max_block_ms=5000, request_timeout_ms=5000,
                                 delivery_timeout_ms=10_000)
        value = b"x" * payload_size
        keys = [f"registration-{uuid.uuid4()}".encode() for _ in range(1000)]
        before = procstat.snapshot()
        t0 = time.time()
        for i in range(n):
            producer.send(topic, key=keys[i % 1000], value=value)
            if i % 500 == 499:
                producer.flush()
        producer.flush()
        t_produced = time.time()
        got, _first, last, consumer_cpu_s = results.get(timeout=300)
        cpu = procstat.cpu_by_group(before, procstat.snapshot(),
                                    {"tansu-broker": {broker_pid}} if broker_pid else {},
                                    {"producer (bench main)": {os.getpid()}, "consumer": {proc.pid}})
        cpu["groups"].pop("consumer", None)  # counted from its own report: it may have exited
        # (its CPU includes the group join before the timed part: an upper bound)
        procstat.add_exited(cpu, "consumer process", consumer_cpu_s)
        proc.join(10)
        return {"records": n, "consumed": got, "payload_bytes": payload_size, "partitions": partitions,
                "group_join_s": join_s,
                "produce_per_s": n / (t_produced - t0),
                "end_to_end_per_s": got / (last - t0) if last else 0.0, "cpu": cpu}
    finally:
        if producer is not None:
            producer.close(timeout=2)
        if proc.is_alive():
            proc.terminate()
            proc.join(5)
