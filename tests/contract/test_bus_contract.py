"""The bus contract (``shared.bus``), held by the in-memory bus and by Kafka alike,
and the outbox relay and the consumer runner working on either.

Kafka tests use the session broker (``kafka_bootstrap``) with topic and group names
of their own. Tests that take the broker down start a Tansu broker of their own:
Tansu keeps topics in memory, so its restart is also the "broker lost its data" case.
"""
from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Column, Integer, MetaData, String, Table, select, update

from shared import envelope as env
from shared.broker import TansuBroker, free_port
from shared.bus import Bus, BusUnavailable, InMemoryBus, Record, next_offsets
from shared.consumer import ConsumerRunner
from shared.db import Database
from shared.envelope import Actor, Envelope
from shared.eventstore import EventStore, metadata, outbox, processed_events, relay_state
from shared.kafka_bus import KafkaBus, KafkaSettings
from shared.relay import OutboxRelay

DEADLINE_S = 30.0
EVENT_TYPE = "contract.thing.happened"


# -- the buses under test -------------------------------------------------------------------

def _no_outage() -> None:
    raise RuntimeError("this rig's broker is shared: use outage_rig to stop it")


@dataclass
class Rig:
    """A bus, how to read a topic back, and how to hurt its broker."""

    bus: Bus
    read: Callable[[str], list[Record]]
    unreachable: Callable[[], Bus]
    go_down: Callable[[], None] = _no_outage
    come_back: Callable[[], None] = _no_outage
    lose_everything: Callable[[], None] = _no_outage


def memory_rig() -> Rig:
    bus = InMemoryBus()

    def unreachable() -> Bus:
        down = InMemoryBus()
        down.available = False
        return down

    return Rig(bus=bus, read=bus.records, unreachable=unreachable,
               go_down=lambda: setattr(bus, "available", False),
               come_back=lambda: setattr(bus, "available", True),
               lose_everything=bus.lose_everything)


def kafka_rig(settings: KafkaSettings, make_settings) -> Rig:
    def unreachable() -> Bus:  # nothing listens on a port just freed
        return KafkaBus(make_settings(f"127.0.0.1:{free_port()}", bootstrap_timeout_ms=1000))

    return Rig(bus=KafkaBus(settings), read=lambda topic: read_kafka_topic(settings, topic),
               unreachable=unreachable)


def tansu_rig(broker: TansuBroker, make_settings) -> Rig:
    """Tansu keeps topics in memory: it comes back on the same port empty, with a new
    cluster id, so coming back after an outage is also losing everything."""
    def restart() -> None:
        broker.stop()
        broker.start()

    rig = kafka_rig(make_settings(broker.bootstrap, bootstrap_timeout_ms=1000), make_settings)
    rig.go_down, rig.come_back, rig.lose_everything = broker.stop, broker.start, restart
    return rig


def read_kafka_topic(settings: KafkaSettings, topic: str) -> list[Record]:
    """Every record on the topic now, without joining a group, by partition and offset."""
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False,
                             fetch_max_wait_ms=20, bootstrap_timeout_ms=5000)
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        out: list[Record] = []
        deadline = time.monotonic() + DEADLINE_S
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            for recs in consumer.poll(timeout_ms=200).values():
                out += [Record(r.topic, r.partition, r.offset, r.key, r.value,
                               tuple(r.headers or ()), r.timestamp) for r in recs]
        return sorted(out, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def rig(request, make_kafka_settings):
    if request.param == "memory":
        yield memory_rig()
        return
    kafka = kafka_rig(request.getfixturevalue("kafka_settings"), make_kafka_settings)
    yield kafka
    kafka.bus.close()


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.kafka)])
def outage_rig(request, make_kafka_settings):
    """Like ``rig``, on a broker the test may stop, restart or wipe."""
    if request.param == "memory":
        yield memory_rig()
        return
    tansu = tansu_rig(request.getfixturevalue("tansu_broker"), make_kafka_settings)
    yield tansu
    tansu.bus.close()


@pytest.fixture
def names():
    """Topic and group names no other test uses."""
    tag = uuid.uuid4().hex[:10]
    return lambda kind: f"contract-{kind}-{tag}"


def send_all(bus: Bus, topic: str, records: list[tuple[bytes | None, bytes]], headers=None) -> None:
    producer = bus.producer()
    try:
        for key, value in records:
            producer.send(topic, key, value, headers)
        producer.flush()
    finally:
        producer.close()


def poll_until(consumer, count: int) -> list[Record]:
    got: list[Record] = []
    deadline = time.monotonic() + DEADLINE_S
    while len(got) < count:
        assert time.monotonic() < deadline, f"only {len(got)} of {count} records arrived"
        got += consumer.poll(0.2)
    return got


def by_key(records: list[Record]) -> dict[bytes | None, list[bytes]]:
    out: dict[bytes | None, list[bytes]] = defaultdict(list)
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        out[r.key].append(r.value)
    return dict(out)


# -- the bus contract -------------------------------------------------------------------------

def test_records_with_the_same_key_arrive_in_one_partition_in_the_order_sent(rig, names):
    topic = names("order")
    rig.bus.ensure_topics([topic], 3)
    sent = [(f"k{i % 4}".encode(), f"k{i % 4}:{i}".encode()) for i in range(40)]
    send_all(rig.bus, topic, sent)

    consumer = rig.bus.consumer(names("group"), [topic])
    try:
        got = poll_until(consumer, len(sent))
    finally:
        consumer.close()

    expected: dict[bytes, list[bytes]] = defaultdict(list)
    for key, value in sent:
        expected[key].append(value)
    assert by_key(got) == expected
    for key in expected:
        assert len({r.partition for r in got if r.key == key}) == 1
    assert rig.read(topic) == sorted(got, key=lambda r: (r.partition, r.offset))


def test_a_new_consumer_of_the_group_resumes_after_the_committed_offsets(rig, names):
    topic, group = names("resume"), names("group")
    rig.bus.ensure_topics([topic], 3)
    send_all(rig.bus, topic, [(f"k{i % 3}".encode(), f"first-{i}".encode()) for i in range(12)])

    first = rig.bus.consumer(group, [topic])
    try:
        got = poll_until(first, 12)
        partitions = defaultdict(list)
        for r in got:
            partitions[r.partition].append(r)
        handled = [r for recs in partitions.values() for r in recs[:len(recs) // 2]]
        first.commit(next_offsets(handled))
    finally:
        first.close()
    send_all(rig.bus, topic, [(f"k{i % 3}".encode(), f"later-{i}".encode()) for i in range(3)])

    second = rig.bus.consumer(group, [topic])
    try:
        resumed = poll_until(second, 12 - len(handled) + 3)
    finally:
        second.close()

    unhandled = [r.value for r in got if r not in handled]
    assert sorted(r.value for r in resumed) == sorted(unhandled + [f"later-{i}".encode() for i in range(3)])
    committed = {p: o for p, o in rig.bus.committed(group, topic).items() if o}
    assert committed == {p: o for (_, p), o in next_offsets(handled).items()}


def test_records_a_consumer_closed_without_committing_go_to_the_next_consumer(rig, names):
    topic, group = names("uncommitted"), names("group")
    rig.bus.ensure_topics([topic], 3)
    send_all(rig.bus, topic, [(f"k{i}".encode(), f"v{i}".encode()) for i in range(6)])

    first = rig.bus.consumer(group, [topic])
    try:
        seen_first = poll_until(first, 6)
    finally:
        first.close()
    second = rig.bus.consumer(group, [topic])
    try:
        seen_again = poll_until(second, 6)
    finally:
        second.close()

    def ids(records):
        return sorted((r.partition, r.offset, r.value) for r in records)
    assert ids(seen_again) == ids(seen_first)
    assert not any(rig.bus.committed(group, topic).values())


def test_cluster_id_is_a_non_empty_string_that_stays_while_the_broker_runs(rig):
    cluster = rig.bus.cluster_id()
    assert isinstance(cluster, str) and cluster
    assert rig.bus.cluster_id() == cluster


def test_ensure_topics_is_idempotent(rig, names):
    old, new = names("existing"), names("new")
    rig.bus.ensure_topics([old], 2)
    rig.bus.ensure_topics([old], 2)
    rig.bus.ensure_topics([old, new], 2)
    rig.bus.ensure_topics([old], 5)  # an existing topic keeps its partitions

    assert eventually(lambda: rig.bus.end_offsets(old)) == {0: 0, 1: 0}
    assert eventually(lambda: rig.bus.end_offsets(new)) == {0: 0, 1: 0}
    send_all(rig.bus, old, [(b"k", b"v")])
    assert sum(rig.bus.end_offsets(old).values()) == 1


def eventually(read: Callable[[], dict], timeout_s: float = 10.0) -> dict:
    """What ``read`` answers once it answers something (a new topic's metadata may lag)."""
    deadline = time.monotonic() + timeout_s
    while not (answer := read()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


def test_a_producer_on_an_unreachable_broker_raises_bus_unavailable(rig, names):
    down = rig.unreachable()
    with pytest.raises(BusUnavailable):
        producer = down.producer()  # Kafka fails here already: it cannot bootstrap
        producer.send(names("nowhere"), b"k", b"v")
        producer.flush(timeout_s=2)
    with pytest.raises(BusUnavailable):
        down.cluster_id()


# -- a service's database, events and projection ------------------------------------------------

projection = MetaData()
tallies = Table(
    "contract_tallies", projection,
    Column("stream_id", String(200), primary_key=True),
    Column("applied", Integer, nullable=False),
    Column("sequences", String(500), nullable=False),
)


def count_thing(conn, event: Envelope) -> None:
    """Follows contract.thing.happened; fails for events that say so."""
    if event.data.get("explode"):
        raise ValueError(f"the projection cannot take {event.id}")
    row = conn.execute(select(tallies).where(tallies.c.stream_id == event.subject)).first()
    if row is None:
        conn.execute(tallies.insert().values(stream_id=event.subject, applied=1,
                                             sequences=str(event.sequence)))
    else:
        conn.execute(update(tallies).where(tallies.c.stream_id == event.subject).values(
            applied=row.applied + 1, sequences=f"{row.sequences},{event.sequence}"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.db'}"
    else:
        url = request.getfixturevalue("fresh_pg_database")()
    database = Database(url)
    database.create_all(metadata, projection)
    yield database
    database.dispose()


def on_each_bus_and_database(bus_fixture: str):
    """The in-memory bus on SQLite and PostgreSQL, Kafka on SQLite. What the relay and
    the runner do depends on the bus or on the database, never on the pair, so Kafka on
    PostgreSQL would add slow group joins and no coverage."""
    return pytest.mark.parametrize((bus_fixture, "db"), [
        ("memory", "sqlite"),
        pytest.param("memory", "postgres", marks=pytest.mark.postgres),
        pytest.param("kafka", "sqlite", marks=pytest.mark.kafka),
    ], indirect=True)


def an_event(stream: str, sequence: int, **data) -> Envelope:
    return Envelope(type=EVENT_TYPE, source="contract-tests", subject=stream, province="GL",
                    data=data or {"n": sequence}, actor=Actor("u-1", "teacher"),
                    correlationid=f"corr-{stream}", causationid="cmd-1", sequence=sequence)


def store_events(db: Database, topic: str, streams: dict[str, int]) -> list[Envelope]:
    """Appends ``streams[name]`` more events to each stream; returns them in store order."""
    store, stored = EventStore(topic), []
    for stream, how_many in streams.items():
        with db.write() as conn:
            version = store.version(conn, stream)
            stored += store.append(conn, stream, version,
                                   [an_event(stream, 0) for _ in range(how_many)])
    return stored


def unsent(db: Database) -> int:
    with db.read() as conn:
        return len(conn.execute(select(outbox.c.position).where(outbox.c.sent_at.is_(None))).all())


# -- the outbox relay ---------------------------------------------------------------------

def new_relay(db: Database, bus: Bus, topic: str) -> OutboxRelay:
    return OutboxRelay(db, bus, "contract-relay", [topic], partitions=3, batch_size=7,
                       cluster_check_s=0)


def relay_until_sent(relay: OutboxRelay) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while relay.backlog():
        assert time.monotonic() < deadline, f"{relay.backlog()} outbox rows never went out"
        if not relay.run_once():
            time.sleep(0.05)


def assert_on_topic_once_in_order(records: list[Record], stored: list[Envelope]) -> None:
    expected: dict[bytes, list[str]] = defaultdict(list)
    for event in stored:
        expected[event.subject.encode()].append(event.id)
    assert {key: [env.decode(v).id for v in values] for key, values in by_key(records).items()} \
        == expected


@on_each_bus_and_database("rig")
def test_the_relay_publishes_every_unsent_row_in_order_and_marks_it_sent(rig, db, names):
    topic = names("relay")
    stored = store_events(db, topic, {"exemplar-1": 9, "exemplar-2": 4, "exemplar-3": 1})
    relay = new_relay(db, rig.bus, topic)
    try:
        relay_until_sent(relay)
        assert relay.run_once() == 0
    finally:
        relay._drop_producer()

    records = rig.read(topic)
    assert_on_topic_once_in_order(records, stored)
    assert {r.header("content-type") for r in records} == {env.CONTENT_TYPE.encode()}
    assert {r.header("ce_province") for r in records} == {b"GL"}
    with db.read() as conn:
        assert None not in conn.execute(select(outbox.c.sent_at)).scalars().all()


@on_each_bus_and_database("outage_rig")
def test_the_relay_keeps_rows_unsent_while_the_broker_is_down_and_sends_them_after(
        outage_rig, db, names):
    topic = names("outage")
    before = store_events(db, topic, {"exemplar-1": 3, "exemplar-2": 2})
    relay = new_relay(db, outage_rig.bus, topic)
    try:
        relay_until_sent(relay)
        outage_rig.go_down()
        during = store_events(db, topic, {"exemplar-1": 2, "exemplar-3": 2})
        assert [relay.run_once() for _ in range(2)] == [0, 0]
        assert unsent(db) == len(during)

        outage_rig.come_back()
        relay_until_sent(relay)
    finally:
        relay._drop_producer()

    assert_on_topic_once_in_order(outage_rig.read(topic), before + during)


@on_each_bus_and_database("outage_rig")
def test_the_relay_republishes_everything_when_the_broker_lost_its_data(outage_rig, db, names):
    topic = names("lost")
    before = store_events(db, topic, {"exemplar-1": 4, "exemplar-2": 3})
    relay = new_relay(db, outage_rig.bus, topic)
    try:
        relay_until_sent(relay)
        lost_cluster = outage_rig.bus.cluster_id()
        outage_rig.lose_everything()
        after = store_events(db, topic, {"exemplar-1": 2})
        relay_until_sent(relay)
    finally:
        relay._drop_producer()

    assert_on_topic_once_in_order(outage_rig.read(topic), before + after)
    with db.read() as conn:
        remembered = conn.execute(select(relay_state.c.cluster_id)).scalar_one()
    assert remembered == outage_rig.bus.cluster_id() != lost_cluster


# -- the consumer runner --------------------------------------------------------------------

@pytest.fixture
def runner_for(rig, db, names):
    runners: list[ConsumerRunner] = []

    def make(topic: str) -> ConsumerRunner:
        rig.bus.ensure_topics([topic, f"{topic}.dlq"], 3)
        runner = ConsumerRunner(db, rig.bus, "contract-projection", names("group"), [topic],
                                {EVENT_TYPE: count_thing}, dlq=f"{topic}.dlq", max_attempts=2,
                                retry_backoff_s=0.01)
        runners.append(runner)
        return runner

    yield make
    for runner in runners:
        runner.reset()


def run_until_handled(runner: ConsumerRunner, count: int) -> None:
    handled, deadline = 0, time.monotonic() + DEADLINE_S
    while handled < count:
        assert time.monotonic() < deadline, f"only {handled} of {count} records handled"
        handled += runner.run_once(0.2)
    assert handled == count


def publish(bus: Bus, topic: str, *events: Envelope) -> None:
    producer = bus.producer()
    try:
        for event in events:
            producer.send(topic, event.subject.encode(), env.encode(event), env.kafka_headers(event))
        producer.flush()
    finally:
        producer.close()


def outcomes(db: Database) -> dict[str, str]:
    with db.read() as conn:
        rows = conn.execute(select(processed_events.c.event_id, processed_events.c.outcome))
        return {r.event_id: r.outcome for r in rows}


def tally(db: Database, stream: str):
    with db.read() as conn:
        return conn.execute(select(tallies.c.applied, tallies.c.sequences)
                            .where(tallies.c.stream_id == stream)).one_or_none()


@on_each_bus_and_database("rig")
def test_the_runner_applies_an_event_once_when_its_record_comes_again(rig, db, runner_for, names):
    topic = names("dedupe")
    runner = runner_for(topic)
    event = an_event("exemplar-1", 1)

    publish(rig.bus, topic, event, event)  # two copies in one batch
    run_until_handled(runner, 2)
    publish(rig.bus, topic, event)  # and one more in a later batch
    run_until_handled(runner, 1)

    assert tuple(tally(db, "exemplar-1")) == (1, "1")
    assert outcomes(db) == {event.id: "applied"}
    assert runner.applied == 1
    assert sum(rig.bus.committed(runner.group, topic).values()) == 3
    assert rig.read(f"{topic}.dlq") == []


@on_each_bus_and_database("rig")
def test_an_event_the_handler_keeps_failing_goes_to_the_dlq_and_later_events_apply(
        rig, db, runner_for, names):
    topic = names("failing")
    runner = runner_for(topic)
    good, bad, later = (an_event("exemplar-1", 1), an_event("exemplar-1", 2, explode=True),
                        an_event("exemplar-1", 3))

    publish(rig.bus, topic, good, bad, later)
    run_until_handled(runner, 3)

    assert tuple(tally(db, "exemplar-1")) == (2, "1,3")
    assert outcomes(db) == {good.id: "applied", bad.id: "dead_lettered", later.id: "applied"}
    [parked] = rig.read(f"{topic}.dlq")
    assert (parked.key, parked.value) == (b"exemplar-1", env.encode(bad))
    assert f"the projection cannot take {bad.id}" in parked.header("dlq-reason").decode()
    assert parked.header("dlq-source-topic") == topic.encode()
    assert parked.header("content-type") == env.CONTENT_TYPE.encode()
    assert sum(rig.bus.committed(runner.group, topic).values()) == 3


@on_each_bus_and_database("rig")
def test_a_record_that_is_not_json_goes_to_the_dlq_and_later_records_apply(
        rig, db, runner_for, names):
    topic = names("poison")
    runner = runner_for(topic)
    later = an_event("exemplar-1", 1)

    send_all(rig.bus, topic, [(b"exemplar-1", b"\xff{ not json")])
    publish(rig.bus, topic, later)
    run_until_handled(runner, 2)

    assert tuple(tally(db, "exemplar-1")) == (1, "1")
    assert outcomes(db) == {later.id: "applied"}
    [parked] = rig.read(f"{topic}.dlq")
    assert (parked.key, parked.value) == (b"exemplar-1", b"\xff{ not json")
    assert b"not a valid event envelope" in parked.header("dlq-reason")
    assert sum(rig.bus.committed(runner.group, topic).values()) == 2
