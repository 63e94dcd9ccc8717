"""Fault injection on the real broker (Tansu, or the Kafka the environment names).

Each test breaks one thing the design promises to survive (DESIGN §3, §5) and checks
the promise by counting: concurrent writers, a duplicated record, a worker killed
between its projection commit and its offset commit, a consumer dropped in the
middle of a group join, the broker stopped under load, poison messages, and one
stream's order. Every wait has a deadline.

The consumer killed by SIGKILL runs ``counting.py`` in a subprocess; its counting
projection (one more per application) is what proves nothing was applied twice.
"""
from __future__ import annotations

import importlib.util
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, func, select

from shared import auth
from shared import envelope as env
from shared.broker import port_open
from shared.consumer import ConsumerRunner, dlq_topic
from shared.db import Database
from shared.eventstore import ConcurrencyError, EventStore, events, outbox, processed_events, verify_stream
from shared.kafka_bus import KafkaBus
from shared.relay import OutboxRelay
from shared.stack import Stack

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _load_counting():
    spec = importlib.util.spec_from_file_location("failure_counting", HERE / "counting.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


counting = _load_counting()
pytestmark = pytest.mark.kafka
PARTITIONS = 3


# -- helpers ------------------------------------------------------------------------

def wait_until(predicate: Callable[[], object], timeout_s: float, what: str, every_s: float = 0.2,
               show: Callable[[], object] | None = None):
    """The predicate's first truthy answer, or a failure naming what never happened
    (and what ``show()`` says then)."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(every_s)
    state = show() if show is not None else last
    pytest.fail(f"after {timeout_s:.0f}s still waiting for {what} (state: {state!r})")


def drain(runner: ConsumerRunner, done: Callable[[int], bool], timeout_s: float, what: str) -> int:
    """Run the consumer until ``done(records handled so far)``; returns that number."""
    handled = 0
    deadline = time.monotonic() + timeout_s
    while not done(handled):
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout_s:.0f}s the consumer handled {handled} records; "
                        f"still waiting for {what}")
        handled += runner.run_once(timeout_s=0.3)
    return handled


def relay_all(relay: OutboxRelay, timeout_s: float = 30.0) -> int:
    sent = 0
    deadline = time.monotonic() + timeout_s
    while relay.backlog():
        if time.monotonic() > deadline:
            pytest.fail(f"the relay left {relay.backlog()} events unsent after {timeout_s:.0f}s")
        n = relay.run_once()
        sent += n
        if not n:
            time.sleep(max(relay.backoff_s, 0.05))
    return sent


def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 20.0,
               settle_s: float = 1.5) -> list:
    """Every record on the topic, without joining a group: polls until ``expected`` came, then
    ``settle_s`` longer so that a record too many shows. (Not up to ``end_offsets``: Tansu
    0.6 answers a partition's latest offset as its last batch's base offset + 1.)"""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                             auto_offset_reset="earliest")
    try:
        deadline = time.monotonic() + timeout_s
        parts = consumer.partitions_for_topic(topic)
        while not parts:
            if time.monotonic() > deadline:
                pytest.fail(f"topic {topic} has no partitions")
            time.sleep(0.2)
            parts = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        out: list = []
        settled_at = None
        while settled_at is None or time.monotonic() < settled_at:
            if time.monotonic() > deadline:
                pytest.fail(f"read {len(out)} records of {topic}, expected {expected}")
            for recs in consumer.poll(timeout_ms=200).values():
                out.extend(recs)
            if settled_at is None and len(out) >= expected:
                settled_at = time.monotonic() + settle_s
        return sorted(out, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


def send(bus: KafkaBus, topic: str, key: bytes, *values: bytes, headers=None) -> None:
    producer = bus.producer()
    try:
        for value in values:
            producer.send(topic, key, value, headers or [("content-type", env.CONTENT_TYPE.encode())])
        producer.flush()
    finally:
        producer.close()


def rows(db: Database, query) -> list:
    with db.read() as conn:
        return conn.execute(query).all()


def processed(db: Database, consumer: str) -> dict[str, str]:
    return dict(rows(db, select(processed_events.c.event_id, processed_events.c.outcome)
                     .where(processed_events.c.consumer == consumer)))


def times_applied(db: Database) -> dict[str, int]:
    return dict(rows(db, select(counting.counts.c.event_id, counting.counts.c.times)))


def runner_for(db, bus, prefix, topic, handlers, **kw) -> ConsumerRunner:
    return ConsumerRunner(db, bus, name="failuresvc", group=f"{prefix}.failuresvc", topics=[topic],
                          handlers=handlers, dlq=dlq_topic(prefix, "failuresvc"), **kw)


# -- 1. two writers, one stream ------------------------------------------------------

@pytest.mark.parametrize("backend,mode", [
    ("sqlite", "read-then-write"),
    pytest.param("postgres", "read-then-write", marks=pytest.mark.postgres),
    pytest.param("postgres", "one-transaction", marks=pytest.mark.postgres),
])
def test_two_concurrent_writers_to_one_stream_exactly_one_wins(backend, mode, make_db, kbus, prefix,
                                                                kafka_bootstrap):
    """Both load the stream at version 3 and append version 4 at the same moment."""
    db = make_db(backend)
    topic = f"{prefix}.registration"
    store, stream, n = EventStore(topic), "registration-race", 3
    with db.write() as conn:
        store.append(conn, stream, 0, [counting.an_event(stream, i) for i in range(1, n + 1)])

    barrier = threading.Barrier(2, timeout=15)
    candidates = [counting.an_event(stream, n + 1, writer=w) for w in (0, 1)]
    results: list[object] = [None, None]

    def writer(w: int) -> None:
        try:
            if mode == "one-transaction":  # load and append in one open transaction each
                with db.write() as conn:
                    version = len(store.load(conn, stream))
                    barrier.wait()
                    store.append(conn, stream, version, [candidates[w]])
            else:  # load, decide, then append at the version loaded
                with db.read() as conn:
                    version = len(store.load(conn, stream))
                barrier.wait()
                with db.write() as conn:
                    store.append(conn, stream, version, [candidates[w]])
            results[w] = "appended"
        except ConcurrencyError as exc:
            results[w] = exc
        except Exception as exc:  # anything else is a failure, reported below
            results[w] = repr(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a writer is stuck"

    assert results.count("appended") == 1, results
    winner = results.index("appended")
    assert isinstance(results[1 - winner], ConcurrencyError), results
    loser_error = results[1 - winner]
    assert loser_error.stream_id == stream and loser_error.expected == n

    with db.read() as conn:
        stored = store.load(conn, stream)
        assert verify_stream(conn, stream) == []
        assert conn.execute(select(func.count()).select_from(outbox)).scalar_one() == n + 1
    assert [e.sequence for e in stored] == list(range(1, n + 2))
    assert stored[-1].data == candidates[winner].data  # (both were given the id of version n + 1)
    assert candidates[1 - winner].data not in [e.data for e in stored]

    relay = OutboxRelay(db, kbus, name=f"{prefix}-relay", topics=[topic], partitions=PARTITIONS)
    assert relay_all(relay) == n + 1
    published = [env.decode(r.value) for r in read_topic(kafka_bootstrap, topic, n + 1)
                 if r.key == stream.encode()]
    assert [e.sequence for e in published] == list(range(1, n + 2))
    assert [e.data for e in published if e.sequence == n + 1] == [candidates[winner].data]


# -- 2. one event delivered twice ----------------------------------------------------

@pytest.mark.postgres
def test_the_same_event_delivered_twice_is_applied_once(make_db, kbus, prefix):
    db = make_db("postgres", counting.metadata)
    topic = f"{prefix}.registration"
    kbus.ensure_topics([topic, dlq_topic(prefix, "failuresvc")], PARTITIONS)
    event = counting.an_event("registration-dup")
    value = env.encode(event)

    send(kbus, topic, b"registration-dup", value, value)  # the same bytes, twice
    runner = runner_for(db, kbus, prefix, topic, counting.HANDLERS)
    try:
        drain(runner, lambda h: h >= 2, 40, "both copies")
        assert times_applied(db) == {event.id: 1}
        assert processed(db, "failuresvc") == {event.id: "applied"}

        send(kbus, topic, b"registration-dup", value)  # and once more, in a later poll
        drain(runner, lambda h: h >= 1, 20, "the third copy")
    finally:
        runner.reset()
    assert times_applied(db) == {event.id: 1}
    assert processed(db, "failuresvc") == {event.id: "applied"}
    assert runner.applied == 1
    assert sum(kbus.committed(f"{prefix}.failuresvc", topic).values()) == 3


# -- 3. SIGKILL between the projection commit and the offset commit ------------------

@pytest.mark.postgres
def test_a_worker_killed_before_its_offset_commit_applies_nothing_twice(make_db, kbus, prefix,
                                                                         kafka_bootstrap):
    db = make_db("postgres", counting.metadata)
    topic, group = f"{prefix}.registration", f"{prefix}.failuresvc"
    kbus.ensure_topics([topic, dlq_topic(prefix, "failuresvc")], PARTITIONS)
    sent = [counting.an_event(f"registration-{i}") for i in range(30)]
    producer = kbus.producer()
    for e in sent:
        producer.send(topic, e.subject.encode(), env.encode(e), env.kafka_headers(e))
    producer.flush()
    producer.close()

    proc = subprocess.run(
        [sys.executable, str(HERE / "counting.py"), kafka_bootstrap, db.url, topic, group, "failuresvc"],
        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stdout, proc.stderr[-3000:])
    assert "SIGKILL before committing offsets" in proc.stdout

    before = times_applied(db)
    assert before, "the killed worker committed no projection change"
    assert set(before.values()) == {1}
    assert set(processed(db, "failuresvc")) == set(before)
    assert sum(kbus.committed(group, topic).values()) == 0, "offsets were committed before the kill"

    runner = runner_for(db, kbus, prefix, topic, counting.HANDLERS)
    try:  # the same group and database: everything uncommitted comes again
        handled = drain(runner, lambda h: h >= len(sent), 60, f"all {len(sent)} records redelivered")
    finally:
        runner.reset()

    after = times_applied(db)
    assert after == {e.id: 1 for e in sent}, "an event was applied twice or not at all"
    assert processed(db, "failuresvc") == {e.id: "applied" for e in sent}
    assert handled == len(sent)  # the ones the killed worker applied came again...
    assert runner.applied == len(sent) - len(before)  # ...and were not applied again
    assert sum(kbus.committed(group, topic).values()) == len(sent)


# -- 4. the broker stopped while requests keep arriving -------------------------------

CONSUMERS = ("evaluation", "awards", "notifications")


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Stack:
    stack = Stack.on_free_ports(tmp_path_factory.mktemp("stack"))
    try:
        stack.start(timeout_s=90)
        yield stack
    finally:
        stack.stop()


def _sqlite_rows(path: Path, sql: str, *args) -> list:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _dead_processes(stack: Stack) -> list[str]:
    return [n for n, p in stack.processes.items() if p.poll() is not None]


def _count_in(path: Path, sql: str, values) -> int:
    values = list(values)
    return _sqlite_rows(path, sql % ",".join("?" * len(values)), *values)[0][0]


@pytest.mark.e2e
def test_requests_while_the_broker_is_down_all_arrive_once_after_it_returns(stack):
    """5 registrations before the broker stops, 20 while it is down. Tansu comes back empty
    (a new cluster id): the relays republish all 26 events and the 20 new ones, and each
    consumer applies every event exactly once."""
    data = stack.data_dir
    headers = {"Authorization": "Bearer " + auth.mint(stack.secret, "so-gddt-83", "department", ["83"],
                                                      name="Sở GD&ĐT", unit_level="department")}
    reg = stack.url("registration")
    r = requests.post(f"{reg}/campaigns", headers=headers, timeout=10, json={
        "title": "Phong trào thi đua Dạy tốt - Học tốt", "kind": "yearly",
        "period_start": "2024-01-01", "period_end": "2025-10-31",
        "registration_deadline": "2099-05-01"})
    assert r.status_code == 201, r.text
    campaign_id = r.json()["id"]
    sent: dict[str, str] = {}  # registration id -> participant id

    def register(i: int) -> None:
        participant = f"gv-{uuid.uuid4().hex[:8]}"
        r = requests.post(f"{reg}/campaigns/{campaign_id}/registrations", headers=headers, timeout=15, json={
            "participant": {"participant_id": participant, "kind": "individual",
                            "individual_kind": "teacher", "name": f"Giáo viên số {i}",
                            "unit": "Trường THPT Chuyên Bến Tre"},
            "pledges": [{"content": "Hoàn thành xuất sắc nhiệm vụ năm học",
                         "start": "2024-09-01", "end": "2025-05-31"}]})
        assert r.status_code == 201, (i, r.status_code, r.text)
        sent[r.json()["id"]] = participant

    def projected() -> tuple[int, int, int]:
        return (_count_in(data / "evaluation.db",
                          "SELECT count(*) FROM candidates WHERE registration_id IN (%s)", sent),
                _count_in(data / "awards.db",
                          "SELECT count(*) FROM participants WHERE registration_id IN (%s)", sent),
                _count_in(data / "notifications.db",
                          "SELECT count(*) FROM inbox WHERE recipient IN (%s)", sent.values()))

    before = 5
    for i in range(before):
        register(i)
    wait_until(lambda: projected() == (before,) * 3, 60,
               f"the first {before} registrations in every projection before the broker stops",
               show=projected)

    stack.broker.stop()
    assert not port_open("127.0.0.1", stack.broker.port)
    during = 20
    for i in range(before, before + during):
        register(i)
    n = before + during
    assert len(sent) == n
    unsent = _sqlite_rows(data / "registration.db", "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    assert unsent[0][0] == during  # held in the store while the broker is away

    stack.broker.start()
    wait_until(lambda: projected() == (n,) * 3, 60,
               f"all {n} registrations in evaluation, awards and notifications", show=projected)

    # Over HTTP, as the users see them: each registration exactly once in each service.
    evaluation = requests.get(f"{stack.url('evaluation')}/campaigns/{campaign_id}/candidates",
                              headers=headers, timeout=10)
    awards = requests.get(f"{stack.url('awards')}/campaigns/{campaign_id}/participants",
                          headers=headers, timeout=10)
    assert evaluation.status_code == awards.status_code == 200
    assert sorted(c["registration_id"] for c in evaluation.json()) == sorted(sent)
    assert sorted(p["registration_id"] for p in awards.json()) == sorted(sent)
    for participant in sent.values():
        own = {"Authorization": "Bearer " + auth.mint(stack.secret, participant, "participant", ["83"])}
        inbox = requests.get(f"{stack.url('notifications')}/inbox/{participant}", headers=own, timeout=10)
        assert inbox.status_code == 200
        assert len(inbox.json()) == 1, (participant, inbox.json())

    # Every event of the registration store was recorded once by each consumer, and applied.
    stored = {row[0] for row in _sqlite_rows(data / "registration.db", "SELECT event_id FROM events")}
    assert len(stored) == n + 1
    wait_until(lambda: _sqlite_rows(data / "registration.db",
                                    "SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0] == 0,
               30, "the registration relay to mark everything sent")
    relay_saw = _sqlite_rows(data / "registration.db",
                             "SELECT cluster_id FROM relay_state WHERE name = 'registration'")
    assert relay_saw == [(stack.broker.cluster_id,)], "the relay did not notice the new broker"
    for service in CONSUMERS:
        seen = _sqlite_rows(data / f"{service}.db", "SELECT event_id, outcome FROM processed_events "
                            "WHERE consumer = ?", service)
        assert len(seen) == n + 1, (service, len(seen))
        assert {e for e, _ in seen} == stored, service
        assert {o for _, o in seen} == {"applied"}, (service, seen)
    assert _dead_processes(stack) == []


@pytest.mark.postgres
def test_a_consumer_closed_while_joining_does_not_stall_its_group(make_db, kbus, prefix):
    """What a worker does when the broker changes under it: it drops its consumer, maybe in
    the middle of a group join. The next member of the group must still get the partitions
    (Tansu 0.6 stalled the group for good when the dropped member sent LeaveGroup)."""
    db = make_db("postgres", counting.metadata)
    topic, group = f"{prefix}.registration", f"{prefix}.failuresvc"
    kbus.ensure_topics([topic, dlq_topic(prefix, "failuresvc")], PARTITIONS)
    event = counting.an_event("registration-join")
    send(kbus, topic, b"registration-join", env.encode(event))

    joining = kbus.consumer(group, [topic])
    started = time.monotonic()
    while time.monotonic() - started < 0.5:  # a join on Tansu takes ~max_poll_interval_ms
        assert joining.poll(0.1) == []
    joining.close()

    runner = runner_for(db, kbus, prefix, topic, counting.HANDLERS)
    try:
        drain(runner, lambda h: h >= 1, 40, "the group's next member to get the record")
    finally:
        runner.reset()
    assert times_applied(db) == {event.id: 1}


# -- 5. poison messages --------------------------------------------------------------

POISON_TYPE = "failure.handler.refused"


def refuse(conn: Connection, event: env.Envelope) -> None:
    raise ValueError(f"projection refuses event {event.id}: boom-42")


@pytest.mark.postgres
def test_poison_messages_go_to_the_dead_letter_topic_and_the_consumer_carries_on(
        make_db, kbus, prefix, kafka_bootstrap):
    db = make_db("postgres", counting.metadata)
    topic, dlq = f"{prefix}.registration", dlq_topic(prefix, "failuresvc")
    kbus.ensure_topics([topic, dlq], PARTITIONS)
    refused = counting.an_event("registration-poison", 1, type_=POISON_TYPE)
    valid = counting.an_event("registration-poison", 2)
    not_json = b"\xff\xfe this is not JSON {"
    send(kbus, topic, b"registration-poison", not_json, env.encode(refused), env.encode(valid))

    runner = runner_for(db, kbus, prefix, topic, {**counting.HANDLERS, POISON_TYPE: refuse},
                        retry_backoff_s=0.01)
    try:
        drain(runner, lambda h: h >= 3, 40, "the two poison records and the valid event")
    finally:
        runner.reset()

    assert times_applied(db) == {valid.id: 1}, "the event after the poison was not applied"
    assert processed(db, "failuresvc") == {refused.id: "dead_lettered", valid.id: "applied"}
    assert runner.dead_lettered == 2
    assert sum(kbus.committed(f"{prefix}.failuresvc", topic).values()) == 3

    parked = read_topic(kafka_bootstrap, dlq, 2)
    assert len(parked) == 2, parked
    by_value = {r.value: dict(r.headers) for r in parked}
    assert set(by_value) == {not_json, env.encode(refused)}
    assert all(r.key == b"registration-poison" for r in parked)
    for h in by_value.values():
        assert h["dlq-source-topic"] == topic.encode()
        assert h["dlq-consumer"] == b"failuresvc"
        assert h["content-type"] == env.CONTENT_TYPE.encode()  # the original headers are kept
    reason_not_json = by_value[not_json]["dlq-reason"].decode()
    assert "not a valid event envelope" in reason_not_json and "not JSON" in reason_not_json
    reason_refused = by_value[env.encode(refused)]["dlq-reason"].decode()
    assert "ValueError" in reason_refused and "boom-42" in reason_refused


# -- 6. one stream's order -----------------------------------------------------------

arrivals_md = MetaData()
arrivals = Table(
    "failure_arrivals", arrivals_md,
    Column("arrival", Integer, primary_key=True, autoincrement=True),
    Column("stream_id", String(200), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("event_id", String(36), nullable=False),
)


def record_arrival(conn: Connection, event: env.Envelope) -> None:
    conn.execute(arrivals.insert().values(stream_id=event.subject, sequence=event.sequence,
                                          event_id=event.id))


@pytest.mark.postgres
def test_one_streams_events_are_applied_in_stream_order(make_db, kbus, prefix):
    db = make_db("postgres", arrivals_md)
    topic = f"{prefix}.registration"
    store = EventStore(topic)
    kbus.ensure_topics([topic, dlq_topic(prefix, "failuresvc")], PARTITIONS)
    # 50 events of one stream in appends of 1 to 4, interleaved with another stream's 20.
    main, other, versions = "campaign-order", "campaign-other", {"campaign-order": 0, "campaign-other": 0}
    chunk = 0
    while versions[main] < 50:
        size = min(1 + chunk % 4, 50 - versions[main])
        with db.write() as conn:
            store.append(conn, main, versions[main],
                         [counting.an_event(main) for _ in range(size)])
            versions[main] += size
            if versions[other] < 20:
                store.append(conn, other, versions[other], [counting.an_event(other)])
                versions[other] += 1
        chunk += 1
    total = versions[main] + versions[other]
    assert total == 70

    relay = OutboxRelay(db, kbus, name=f"{prefix}-relay", topics=[topic], partitions=PARTITIONS,
                        batch_size=7)
    assert relay_all(relay) == total

    runner = runner_for(db, kbus, prefix, topic, {counting.EVENT_TYPE: record_arrival})
    try:
        drain(runner, lambda h: h >= total, 40, f"all {total} events")
    finally:
        runner.reset()

    seen = rows(db, select(arrivals.c.stream_id, arrivals.c.sequence).order_by(arrivals.c.arrival))
    assert [s for stream, s in seen if stream == main] == list(range(1, 51))
    assert [s for stream, s in seen if stream == other] == list(range(1, 21))
    with db.read() as conn:
        ids = conn.execute(select(events.c.event_id)).scalars().all()
    assert processed(db, "failuresvc") == {i: "applied" for i in ids}
