"""The event store's contract, held on SQLite and on PostgreSQL alike.

Every test gets an empty store: a SQLite file of its own, or a fresh PostgreSQL
database. Tampering tests change rows with plain SQL, as someone with database
access would, and expect :func:`verify_stream` to name the event concerned.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from shared import envelope as env
from shared.db import Database
from shared.envelope import Actor, Envelope
from shared.eventstore import (GENESIS, ConcurrencyError, EventStore, chain_hash, event_id, events,
                               metadata, outbox, stream_heads, verify_stream)

TOPIC = "thidua.contract"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'events.db'}"
    else:
        url = request.getfixturevalue("fresh_pg_database")()
    database = Database(url)
    database.create_all(metadata)
    yield database
    database.dispose()


@pytest.fixture
def store() -> EventStore:
    return EventStore(TOPIC)


def an_event(stream: str = "campaign-1", province: str = "BT", **data) -> Envelope:
    return Envelope(type="contract.thing.happened", source="contract-tests", subject=stream,
                    province=province, data=data or {"points": 1}, actor=Actor("u-1", "teacher"),
                    correlationid=f"corr-{stream}", causationid="cmd-1")


def append(db: Database, store: EventStore, stream: str, expected: int, *new: Envelope):
    with db.write() as conn:
        return store.append(conn, stream, expected, new)


def stream_rows(db: Database, stream: str):
    with db.read() as conn:
        return conn.execute(select(events).where(events.c.stream_id == stream)
                            .order_by(events.c.position)).all()


def count(db: Database, table) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def verify(db: Database, stream: str) -> list[str]:
    with db.read() as conn:
        return verify_stream(conn, stream)


# -- appending and loading ------------------------------------------------------------

def test_a_new_stream_takes_events_at_expected_version_0_numbered_from_1(db, store):
    sent = [an_event(points=n) for n in (1, 2, 3)]

    stored = append(db, store, "campaign-1", 0, *sent)

    assert [e.sequence for e in stored] == [1, 2, 3]
    with db.read() as conn:
        assert store.version(conn, "campaign-1") == 3
        loaded = store.load(conn, "campaign-1")
    assert loaded == stored
    assert [(e.id, e.sequence, e.data) for e in loaded] == [(event_id(TOPIC, "campaign-1", n, e.id), n, e.data)
                                                             for n, e in enumerate(sent, 1)]


def test_an_event_id_is_the_name_based_uuid_of_its_place_and_its_envelope():
    """Unique because the place is (no other event of any store has it), and new when a place is
    written again with another envelope."""
    import uuid
    made = "0f8c2f3e-8d7c-4a7e-9a55-4b7d3a1c2b9e"
    for topic, stream, version in ((TOPIC, "campaign-1", 1), (TOPIC, "campaign-1", 2), ("other", "campaign-1", 1),
                                   (TOPIC, "lượt-đăng-ký-1", 7), (TOPIC, "a\nb", 1)):
        assert event_id(topic, stream, version, made) == str(uuid.uuid5(
            uuid.uuid5(uuid.NAMESPACE_URL, "urn:thidua:event"), f"{topic}\n{stream}\n{version}\n{made}"))
    ids = {event_id(t, s, v, made) for t in (TOPIC, "other") for s in ("campaign-1", "campaign-2")
           for v in range(1, 50)}
    assert len(ids) == 2 * 2 * 49
    assert event_id(TOPIC, "campaign-1", 1, made) != event_id(TOPIC, "campaign-1", 1, str(uuid.uuid4()))


def test_a_place_written_again_after_the_store_lost_its_event_gets_another_id(db, store):
    """A restore from an older backup, a failover or a power cut can take the newest events back
    after the relay sent them; the consumers that applied one must not take its successor at
    the same place for it."""
    [lost] = append(db, store, "hold-1", 0, an_event(outcome="released"))
    with db.write() as conn:  # the store loses it (its outbox row first: it refers to it), and its head
        conn.execute(delete(outbox))  # row, written in the same transaction
        conn.execute(delete(events))
        conn.execute(delete(stream_heads))
    [again] = append(db, store, "hold-1", 0, an_event(outcome="extended"))
    assert (again.sequence, lost.sequence) == (1, 1) and again.id != lost.id


def test_the_stored_event_keeps_everything_but_its_place_and_id(db, store):
    sent = an_event(points=5)
    [stored] = append(db, store, "campaign-1", 0, sent)
    assert stored.id != sent.id and stored.sequence == 1
    assert {**vars(stored), "id": None, "sequence": None} == {**vars(sent), "id": None, "sequence": None}


def test_load_returns_a_stream_in_order_across_appends_and_ignores_other_streams(db, store):
    first, second, third = an_event(step=1), an_event(step=2), an_event(step=3)
    append(db, store, "campaign-1", 0, first)
    append(db, store, "campaign-2", 0, an_event("campaign-2"))
    append(db, store, "campaign-1", 1, second, third)

    with db.read() as conn:
        loaded = store.load(conn, "campaign-1")
        assert store.load(conn, "no-such-stream") == []
        assert store.version(conn, "no-such-stream") == 0

    assert [e.id for e in loaded] == [event_id(TOPIC, "campaign-1", n, e.id) for n, e in
                                      enumerate((first, second, third), 1)]
    assert [e.data for e in loaded] == [first.data, second.data, third.data]
    assert [e.sequence for e in loaded] == [1, 2, 3]


@pytest.mark.parametrize("expected", [0, 1, 3])
def test_appending_at_a_wrong_expected_version_raises_concurrency_error_naming_the_stream(
        db, store, expected):
    append(db, store, "campaign-7", 0, an_event("campaign-7"), an_event("campaign-7"))

    with pytest.raises(ConcurrencyError) as raised:
        append(db, store, "campaign-7", expected, an_event("campaign-7"))

    assert raised.value.stream_id == "campaign-7"
    assert "campaign-7" in str(raised.value)
    assert (raised.value.expected, raised.value.actual) == (expected, 2)
    assert len(stream_rows(db, "campaign-7")) == 2
    assert count(db, outbox) == 2


def test_of_two_concurrent_writers_that_read_the_same_version_exactly_one_wins(db, store):
    stream = "exemplar-42"
    append(db, store, stream, 0, an_event(stream))
    for round_ in range(5):
        barrier = threading.Barrier(2, timeout=10)
        outcomes: list[object] = []

        def write(writer: int) -> None:
            with db.read() as conn:  # each writer reads the state it decides on
                seen = store.version(conn, stream)
            barrier.wait()
            try:
                append(db, store, stream, seen, an_event(stream, writer=writer))
                outcomes.append("won")
            except ConcurrencyError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=write, args=(w,)) for w in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)

        losers = [o for o in outcomes if isinstance(o, ConcurrencyError)]
        assert outcomes.count("won") == 1 and len(losers) == 1, outcomes
        assert losers[0].stream_id == stream
        with db.read() as conn:
            assert store.version(conn, stream) == round_ + 2
    assert verify(db, stream) == []


@pytest.mark.postgres
def test_a_writer_that_loses_the_insert_race_gets_concurrency_error(fresh_pg_database, store):
    """Both transactions pass the version check; the (stream, version) key stops the second."""
    db = Database(fresh_pg_database())
    db.create_all(metadata)
    try:
        stream = "exemplar-race"
        first_appended, outcome = threading.Event(), []

        def second_writer() -> None:
            first_appended.wait(10)
            try:  # does not see the first writer's uncommitted row: blocks on the key
                append(db, store, stream, 0, an_event(stream, writer=2))
                outcome.append("won")
            except ConcurrencyError as exc:
                outcome.append(exc)

        loser = threading.Thread(target=second_writer)
        loser.start()
        with db.write() as conn:
            store.append(conn, stream, 0, [an_event(stream, writer=1)])
            first_appended.set()
            _wait_for_a_lock_wait(db)
        loser.join(30)

        assert len(outcome) == 1 and isinstance(outcome[0], ConcurrencyError), outcome
        assert outcome[0].stream_id == stream
        with db.read() as conn:
            assert [e.data["writer"] for e in store.load(conn, stream)] == [1]
    finally:
        db.dispose()


def _wait_for_a_lock_wait(db: Database, timeout_s: float = 10.0) -> None:
    query = text("SELECT count(*) FROM pg_stat_activity "
                 "WHERE datname = current_database() AND wait_event_type = 'Lock'")
    deadline = time.monotonic() + timeout_s
    with db.reader.connect() as conn:
        while conn.execute(query).scalar_one() == 0:
            assert time.monotonic() < deadline, "the second writer never waited on the key"
            conn.rollback()
            time.sleep(0.02)


# -- reading everything -------------------------------------------------------------------

def test_read_all_returns_every_event_in_position_order_and_filters_by_province(db, store):
    written = []
    for n, (stream, province) in enumerate([("a", "BT"), ("b", "GL"), ("a", "BT"),
                                            ("c", "GL"), ("b", "GL"), ("d", "HY")]):
        with db.read() as conn:
            version = store.version(conn, stream)
        written += append(db, store, stream, version, an_event(stream, province, n=n))

    with db.read() as conn:
        everything = store.read_all(conn)
        gia_lai = store.read_all(conn, province="GL")
        after_second = store.read_all(conn, after=everything[1].position)
        first_two = store.read_all(conn, limit=2)
        iterated = list(store.iter_all(conn, batch=2))
        iterated_gl = list(store.iter_all(conn, batch=1, province="GL"))

    positions = [s.position for s in everything]
    assert positions == sorted(positions) and len(set(positions)) == 6
    assert [s.event.id for s in everything] == [e.id for e in written]
    assert [s.event.id for s in gia_lai] == [e.id for e in written if e.province == "GL"]
    assert [s.event.id for s in after_second] == [e.id for e in written[2:]]
    assert first_two == everything[:2]
    assert iterated == everything
    assert iterated_gl == gia_lai


# -- the outbox -----------------------------------------------------------------------------

def test_each_appended_event_gets_an_unsent_outbox_row_for_the_store_topic(db, store):
    append(db, store, "campaign-1", 0, an_event(), an_event())
    append(db, store, "campaign-2", 0, an_event("campaign-2"))

    with db.read() as conn:
        rows = conn.execute(select(outbox.c.position, outbox.c.topic, outbox.c.sent, outbox.c.sent_at)
                            .order_by(outbox.c.position)).all()
        positions = conn.execute(select(events.c.position).order_by(events.c.position)).scalars()
        assert [r.position for r in rows] == list(positions)
    assert {(r.topic, r.sent, r.sent_at) for r in rows} == {(TOPIC, False, None)}


def test_an_outbox_row_cannot_say_sent_without_a_time_nor_the_reverse(db, store):
    append(db, store, "campaign-1", 0, an_event())
    for values in ({"sent": True}, {"sent_at": datetime.now(timezone.utc)}):
        with pytest.raises(IntegrityError, match="ck_outbox_sent|CHECK"):
            with db.write() as conn:
                conn.execute(update(outbox).values(**values))
    with db.read() as conn:
        assert conn.execute(select(outbox.c.sent, outbox.c.sent_at)).all() == [(False, None)]


def test_an_appended_row_reads_back_through_sqlalchemy_as_it_was_written(db, store):
    """Appends go to the driver directly; the row must be the one SQLAlchemy itself would write."""
    from datetime import datetime, timedelta, timezone
    before = datetime.now(timezone.utc)
    [stored] = append(db, store, "campaign-1", 0, an_event(points=7))

    [row] = stream_rows(db, "campaign-1")
    recorded = row.recorded_at if row.recorded_at.tzinfo else row.recorded_at.replace(tzinfo=timezone.utc)
    assert before - timedelta(seconds=1) <= recorded <= datetime.now(timezone.utc) + timedelta(seconds=1)
    assert (row.event_id, row.stream_id, row.version, row.type, row.province, row.correlation_id) == (
        stored.id, "campaign-1", 1, "contract.thing.happened", "BT", "corr-campaign-1")
    assert row.body == env.canonical_bytes(stored).decode() and row.prev_hash == GENESIS
    assert row.hash == chain_hash(GENESIS, row.body.encode())


def test_a_transaction_that_fails_after_append_leaves_neither_events_nor_outbox_rows(db, store):
    append(db, store, "campaign-1", 0, an_event())

    with pytest.raises(RuntimeError, match="decision failed"):
        with db.write() as conn:
            store.append(conn, "campaign-1", 1, [an_event(), an_event()])
            store.append(conn, "campaign-9", 0, [an_event("campaign-9")])
            raise RuntimeError("decision failed after the events were appended")

    assert count(db, events) == 1
    assert count(db, outbox) == 1
    with db.read() as conn:
        assert store.version(conn, "campaign-1") == 1
        assert store.version(conn, "campaign-9") == 0


# -- the hash chain ------------------------------------------------------------------------

@pytest.fixture
def chained(db, store):
    """A three-event stream between other streams' events: its ids, in order."""
    append(db, store, "other", 0, an_event("other"))
    ids = [append(db, store, "exemplar-1", 0, an_event("exemplar-1", step=1))[0].id]
    append(db, store, "other", 1, an_event("other"))
    ids += [e.id for e in append(db, store, "exemplar-1", 1, an_event("exemplar-1", step=2),
                                 an_event("exemplar-1", step=3))]
    return ids


def test_an_intact_stream_verifies_clean(db, chained):
    assert verify(db, "exemplar-1") == []
    assert verify(db, "other") == []
    assert verify(db, "no-such-stream") == []
    rows = stream_rows(db, "exemplar-1")
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]


def test_an_edited_body_is_reported_naming_the_event(db, chained):
    row = stream_rows(db, "exemplar-1")[1]
    body = json.loads(row.body)
    body["data"]["step"] = 99
    edited = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    with db.write() as conn:
        conn.execute(update(events).where(events.c.position == row.position).values(body=edited))

    problems = verify(db, "exemplar-1")

    assert problems and all(chained[1] in p for p in problems), problems
    assert any("edited" in p for p in problems)
    assert verify(db, "other") == []


def test_a_deleted_event_is_reported_naming_the_event_after_the_gap(db, chained):
    with db.write() as conn:
        conn.execute(delete(outbox).where(outbox.c.position.in_(
            select(events.c.position).where(events.c.event_id == chained[1]))))
        conn.execute(delete(events).where(events.c.event_id == chained[1]))

    problems = verify(db, "exemplar-1")

    assert problems and all(chained[2] in p for p in problems), problems
    assert any("phiên bản 3 đứng ở chỗ của phiên bản 2" in p for p in problems)


def test_two_swapped_events_are_reported_naming_both(db, chained):
    first, second = stream_rows(db, "exemplar-1")[:2]
    moved = [c for c in events.c if c.name != "position"]
    with db.write() as conn:  # each row takes the other's place in the stream
        conn.execute(update(events).where(events.c.position == first.position)
                     .values(event_id="swapping", version=-1))
        conn.execute(update(events).where(events.c.position == second.position)
                     .values({c.name: getattr(first, c.name) for c in moved}))
        conn.execute(update(events).where(events.c.position == first.position)
                     .values({c.name: getattr(second, c.name) for c in moved}))

    problems = verify(db, "exemplar-1")

    assert any(chained[1] in p for p in problems), problems
    assert any(chained[0] in p for p in problems), problems


def test_a_row_inserted_with_sql_is_reported_naming_it(db, chained):
    head = stream_rows(db, "exemplar-1")[-1]
    forged = an_event("exemplar-1", step=4).with_sequence(4)
    body = env.canonical_bytes(forged).decode()
    with db.write() as conn:
        conn.execute(insert(events).values(
            event_id=forged.id, stream_id="exemplar-1", version=4, type=forged.type,
            province=forged.province, correlation_id=forged.correlationid,
            recorded_at=forged.time, body=body, prev_hash=head.hash,
            hash=chain_hash(GENESIS, body.encode())))  # not chained to the event before it

    problems = verify(db, "exemplar-1")

    assert problems and all(forged.id in p for p in problems), problems
    assert not any(i in p for i in chained for p in problems)


def test_each_stream_head_is_its_last_version_and_hash_after_every_append(db, store):
    append(db, store, "campaign-1", 0, an_event(step=1))
    append(db, store, "campaign-2", 0, an_event("campaign-2"))
    *_, last = append(db, store, "campaign-1", 1, an_event(step=2), an_event(step=3))
    with pytest.raises(ConcurrencyError), db.write() as conn:  # a refused append moves no head
        store.append(conn, "campaign-1", 1, [an_event(step=9)])
    with db.read() as conn:
        heads = dict((s, (v, h)) for s, v, h in conn.execute(select(stream_heads)).all())
        chains = {s: conn.execute(select(events.c.version, events.c.hash).where(events.c.stream_id == s)
                                  .order_by(events.c.version.desc()).limit(1)).one() for s in heads}
    assert heads == {s: tuple(c) for s, c in chains.items()} and heads["campaign-1"][0] == last.sequence == 3
