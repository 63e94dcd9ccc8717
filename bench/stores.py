"""Store-level rates on fresh SQLite files: our EventStore, bare SQLAlchemy, ``eventsourcing``.

All of them write the same payload: a registration event as the registration service
stores it (``registration.participant.registered``, two pledges). ``eventsourcing`` is
measured at two levels:

* store level (:func:`theirs_store`): domain event objects in, through the library's
  ``EventStore.put`` (its ``Mapper`` and ``JSONTranscoder``, then the recorder, one
  transaction per put), and domain event objects out (notification log + mapper), like
  our ``EventStore.append`` from envelopes and ``iter_all`` back to envelopes;
* recorder level (:func:`theirs`): the recorder fed ready-made bytes (``StoredEvent``),
  stored rows out.
"""
from __future__ import annotations

import contextlib
import itertools
import shutil
import statistics
import time
import uuid
from pathlib import Path

from shared import envelope as env
from shared.envelope import Actor, Envelope

from bench.client import PLEDGES

EVENT_TYPE = "registration.participant.registered"


def registration_event(i: int, campaign_id: str = "c0ffee00-0000-4000-8000-000000000000") -> Envelope:
    rid = str(uuid.uuid4())
    return Envelope(
        type=EVENT_TYPE, source="registration", subject=f"registration-{rid}", province="83",
        actor=Actor("bench-department", "department"), correlationid=f"registration-{rid}",
        causationid=f"command:{uuid.uuid4()}",
        data={"registration_id": rid, "campaign_id": campaign_id,
              "campaign_title": "Phong trào thi đua «Dạy tốt, học tốt» năm học 2025-2026",
              "participant": {"participant_id": f"bench-{i}", "kind": "individual",
                              "individual_kind": "teacher", "name": f"Nguyễn Thị Giáo Viên {i}",
                              "unit": "Trường THPT Nguyễn Đình Chiểu, Bến Tre"},
              "late": False, "registered_on": "2025-10-01", "pledges": PLEDGES})


def payload_size() -> int:
    return len(env.canonical_bytes(registration_event(0).with_sequence(1)))


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


class _Rates:
    """Rates of timed phases, per wall second and per CPU second of this process:
    ``with rates.phase("append_1_per_s") as p: ...; p.count = n``."""

    class _Phase:
        count = 0

    def __init__(self):
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    @contextlib.contextmanager
    def phase(self, key: str, count: int = 0):
        p = self._Phase()
        p.count = count
        t, c = time.perf_counter(), time.process_time()
        yield p
        self.wall[key] = _rate(p.count, time.perf_counter() - t)
        self.cpu[key] = _rate(p.count, time.process_time() - c)

    def figures(self) -> dict:
        return {**self.wall, "cpu": dict(self.cpu)}


def _warm_events(n: int) -> list[Envelope]:
    """Events appended one per transaction before anything is timed, so that the figures are
    those of a store in service rather than of a new file: SQLite's WAL grows until its first
    checkpoint has copied all of it, and growing a file costs the file system far more than
    writing over it (ours grows to 10,000 pages before that, theirs to 1,000)."""
    return [registration_event(-2 - i) for i in range(n)]


def _time_appends(rates: _Rates, put, singles: list, batches: list[list]) -> None:
    """One ``put`` per single event, then one per batch."""
    with rates.phase("append_1_per_s", len(singles)):
        for e in singles:
            put([e])
    with rates.phase("append_100_per_s", sum(len(b) for b in batches)):
        for events in batches:
            put(events)


def in_rounds(folder: Path, rounds: int, runs: dict) -> dict[str, dict]:
    """Each of ``runs`` (name -> run(folder) -> figures) once a round, the order turned by one
    every round and each on fresh files, so that none always runs first or last (after another's
    writes, while the kernel writes them back). Every figure is the median over the rounds; the
    figures of each round are kept under "rounds"."""
    names, results = list(runs), {name: [] for name in runs}
    for i in range(rounds):
        for name in names[i % len(names):] + names[:i % len(names)]:
            where = folder / f"round-{i}-{name}"
            where.mkdir(parents=True)
            results[name].append(runs[name](where))
            shutil.rmtree(where, ignore_errors=True)
    return {name: {**_medians(found), "rounds": found} for name, found in results.items()}


def _medians(found: list[dict]) -> dict:
    merged = {}
    for key, value in found[0].items():
        if isinstance(value, dict):
            merged[key] = _medians([f[key] for f in found])
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = statistics.median(f[key] for f in found)
        else:
            merged[key] = value
    return merged


# -- ours ---------------------------------------------------------------------------
def ours(folder: Path, n_single: int, n_batches: int, batch: int = 100, warmup: int = 0) -> dict:
    from shared.db import Database
    from shared.eventstore import EventStore, metadata

    db = Database(f"sqlite:///{folder}/ours.db")
    db.create_all(metadata)
    store = EventStore("bench.registration")
    singles = [registration_event(i) for i in range(n_single)]
    batches = [[registration_event(i) for i in range(batch)] for _ in range(n_batches)]
    numbers = itertools.count()

    def put(events):
        stream = events[0].subject if len(events) == 1 else f"batch-{next(numbers)}"
        with db.write() as conn:
            store.append(conn, stream, 0, events)

    put([registration_event(-1)])  # warm the connection and the statement caches
    for e in _warm_events(warmup):
        put([e])
    rates = _Rates()
    _time_appends(rates, put, singles, batches)
    total = 1 + warmup + n_single + n_batches * batch
    # replay at the recorder's level, as eventsourcing's select_notifications: stored rows, pages of 1000
    with rates.phase("replay_per_s") as replay, db.read() as conn:
        after = 0
        while page := store.read_raw(conn, after, 1000):
            replay.count += len(page)
            after = page[-1].position
    assert replay.count == total, (replay.count, total)

    # replay at the store's level: every event decoded back into an Envelope, pages of 1000
    with rates.phase("replay_decoded_per_s") as decoded, db.read() as conn:
        decoded.count = sum(1 for _ in store.iter_all(conn, batch=1000))
    assert decoded.count == total, (decoded.count, total)
    db.dispose()
    return {**rates.figures(), "events": total}


# -- bare SQLAlchemy ------------------------------------------------------------------
def bare_sqlalchemy(folder: Path, n: int) -> dict:
    from sqlalchemy import insert

    from bench.bare_app import items, metadata
    from shared.db import Database

    db = Database(f"sqlite:///{folder}/bare.db")
    db.create_all(metadata)
    body = env.canonical_bytes(registration_event(0).with_sequence(1)).decode()
    ids = [str(uuid.uuid4()) for _ in range(n)]
    with db.write() as conn:
        conn.execute(insert(items).values(id="warmup", body=body))
    t, c = time.perf_counter(), time.process_time()
    for item_id in ids:
        with db.write() as conn:
            conn.execute(insert(items).values(id=item_id, body=body))
    s, s_cpu = time.perf_counter() - t, time.process_time() - c
    db.dispose()
    return {"insert_1_per_s": _rate(n, s), "cpu": {"insert_1_per_s": _rate(n, s_cpu)}, "rows": n}


# -- eventsourcing ----------------------------------------------------------------------
try:
    from eventsourcing.domain import DomainEvent
except ImportError:  # a test extra (pyproject.toml); only part "es" of the benchmark needs it
    DomainEvent = None

if DomainEvent is not None:
    class Registered(DomainEvent):
        """Our registration event as a domain event of the library (a frozen dataclass): the
        envelope's fields, with its stream as ``originator_id`` (a UUID: the library's type),
        its ``sequence`` as ``originator_version`` and its ``time`` as ``timestamp``. The actor
        is a plain dict, which the library's JSONTranscoder takes as is (our Envelope has an
        Actor object)."""
        type: str
        source: str
        subject: str
        province: str
        data: dict
        actor: dict
        correlationid: str
        causationid: str
        schemaversion: int
        id: str
        specversion: str
        datacontenttype: str


def their_event(e: Envelope, originator_id: uuid.UUID, version: int) -> Registered:
    return Registered(originator_id=originator_id, originator_version=version, timestamp=e.time,
                      type=e.type, source=e.source, subject=e.subject, province=e.province, data=e.data,
                      actor={"id": e.actor.id, "role": e.actor.role}, correlationid=e.correlationid,
                      causationid=e.causationid, schemaversion=e.schemaversion, id=e.id,
                      specversion=e.specversion, datacontenttype=e.datacontenttype)


def _their_recorder(path: Path, synchronous: str | None):
    """A fresh SQLite file with the library's datastore and application recorder.

    ``synchronous=None`` keeps the library's own setting (it only switches to WAL, so
    SQLite's default synchronous=FULL stays); "NORMAL" sets what our Database sets.
    Returns (datastore, recorder, the synchronous level the connection reports).
    """
    from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteConnectionPool, SQLiteDatastore

    datastore = SQLiteDatastore(str(path))
    if synchronous:
        class Pool(SQLiteConnectionPool):
            def _create_connection(self):
                conn = super()._create_connection()
                conn._sqlite_conn.execute(f"PRAGMA synchronous={synchronous}")
                return conn
        datastore.pool.close()
        datastore.pool = Pool(db_name=str(path))
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    with datastore.transaction(commit=False) as c:
        c.execute("PRAGMA synchronous")
        sync_level = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(c.fetchone()[0], "?")
    return datastore, recorder, sync_level


def theirs(folder: Path, n_single: int, n_batches: int, batch: int = 100,
           synchronous: str | None = None, warmup: int = 0) -> dict:
    """Recorder level: ``SQLiteApplicationRecorder.insert_events`` fed ready-made bytes (our
    canonical JSON as ``StoredEvent.state``); replay = ``select_notifications``, stored rows."""
    from eventsourcing.persistence import StoredEvent

    name = f"theirs-{(synchronous or 'default').lower()}.db"
    datastore, recorder, sync_level = _their_recorder(folder / name, synchronous)

    def stored(e: Envelope, version: int, originator: uuid.UUID) -> StoredEvent:
        return StoredEvent(originator_id=originator, originator_version=version, topic=e.type,
                           state=env.canonical_bytes(e.with_sequence(version)))

    singles = [stored(registration_event(i), 1, uuid.uuid4()) for i in range(n_single)]
    batches = []
    for _ in range(n_batches):
        originator = uuid.uuid4()
        batches.append([stored(registration_event(i), i + 1, originator) for i in range(batch)])
    recorder.insert_events([stored(registration_event(-1), 1, uuid.uuid4())])  # warm-up
    for e in _warm_events(warmup):
        recorder.insert_events([stored(e, 1, uuid.uuid4())])

    rates = _Rates()
    _time_appends(rates, recorder.insert_events, singles, batches)
    total = 1 + warmup + n_single + n_batches * batch
    with rates.phase("replay_per_s") as replay:
        start = 1
        while page := recorder.select_notifications(start, 1000):
            replay.count += len(page)
            start = page[-1].id + 1
    assert replay.count == total, (replay.count, total)
    datastore.close()
    return {**rates.figures(), "events": total, "synchronous": sync_level}


def theirs_store(folder: Path, n_single: int, n_batches: int, batch: int = 100,
                 synchronous: str | None = None, warmup: int = 0) -> dict:
    """Store level: domain event objects in through the library's ``EventStore.put`` (its
    ``Mapper`` with the ``JSONTranscoder`` an ``Application`` builds, then the recorder: one
    transaction per put), and back out as domain event objects the way its process
    applications and projections read an application: ``select_notifications`` in pages of
    1000, each notification through ``Mapper.to_domain_event``."""
    from eventsourcing.persistence import (DatetimeAsISO, DecimalAsStr, EventStore, JSONTranscoder,
                                           Mapper, UUIDAsHex)

    name = f"theirs-store-{(synchronous or 'default').lower()}.db"
    datastore, recorder, sync_level = _their_recorder(folder / name, synchronous)
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):  # as Application.register_transcodings
        transcoder.register(transcoding)
    mapper = Mapper(transcoder)  # no compressor, no cipher: the library's default
    store = EventStore(mapper, recorder)

    singles = [their_event(registration_event(i), uuid.uuid4(), 1) for i in range(n_single)]
    batches = []
    for _ in range(n_batches):
        originator = uuid.uuid4()
        batches.append([their_event(registration_event(i), originator, i + 1) for i in range(batch)])
    store.put([their_event(registration_event(-1), uuid.uuid4(), 1)])  # warm-up
    for e in _warm_events(warmup):
        store.put([their_event(e, uuid.uuid4(), 1)])

    rates = _Rates()
    _time_appends(rates, store.put, singles, batches)
    total = 1 + warmup + n_single + n_batches * batch
    last = None
    with rates.phase("replay_decoded_per_s") as replay:
        start = 1
        while page := recorder.select_notifications(start, 1000):
            decoded = [mapper.to_domain_event(n) for n in page]
            replay.count += len(decoded)
            last = decoded[-1]
            start = page[-1].id + 1
    assert replay.count == total, (replay.count, total)
    assert last == (batches[-1] if batches else singles)[-1], "the event read back differs from the one put"
    state_bytes = len(mapper.to_stored_event(last).state)
    datastore.close()
    return {**rates.figures(), "events": total, "state_bytes": state_bytes, "synchronous": sync_level}
