"""The event store: an append-only table of events per stream, with an outbox.

* ``events`` holds every event a service decided, keyed by (stream, version): a
  second append of the same version violates the key and fails with
  :class:`ConcurrencyError`, so two writers that read the same state cannot both
  win. ``position`` orders all events of the store for replay.
* An event's id names its place and the envelope it came in: a name-based UUID
  (version 5) of the store's topic, the stream, the version and the random id the
  envelope was made with, given when it is appended (:func:`event_id`). Within a store
  no two events can share it, since no two share a place (the (stream, version) key),
  so the id needs no index of its own and an append writes one B-tree page fewer. A
  place written again after the store lost its latest events (a restore, a failover,
  power lost before the WAL reached the disk) gets a new id, because the envelope is
  new: the consumers that saw the lost event do not mistake the new one for it. A
  consumer's "processed" row relies on both.
* Each event is chained to the one before it in its stream: ``hash`` is the
  SHA-256 of the previous hash and the event's canonical bytes, so an edited,
  removed, reordered or inserted row is detected by :func:`verify_stream`.
* ``outbox`` gets one row per event **in the same transaction**; the relay
  publishes the rows not yet ``sent`` (row state, never "after position N") and
  marks them sent, with the time.
* ``stream_heads`` holds each stream's last version and hash, written with the append:
  the anchor ``thidua verify`` checks the chains against (see :mod:`shared.anchors`).
* ``processed_events`` is where consumers record what they applied (see
  :mod:`shared.consumer`); it lives here because every service has one.
"""
from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, Connection, DateTime, ForeignKey, Index,
                        Integer, MetaData, String, Table, Text, UniqueConstraint, bindparam, false, func, insert,
                        select, update)
from sqlalchemy.exc import IntegrityError

from shared import envelope as env
from shared import metrics, tracing
from shared.eventschema import upcast
from shared.db import DriverStatement
from shared.envelope import Envelope

metadata = MetaData()
GENESIS = "0" * 64
_BigId = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events", metadata,
    Column("position", _BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),  # unique as its place is (see event_id)
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(200), nullable=False),
    Column("province", String(16), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("body", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)
# Every index is one more B-tree page written per append, so the events table has only those
# its readers need: the audit finds a case's or an exemplar's events by correlation id (every
# story, since a case is any registration's: bench/append_cost.py measured what it costs). A
# province's export pages through position order with a filter, like every other replay.
Index("ix_events_correlation", events.c.correlation_id)

# The head of every stream (its version and the hash of its last event), written in the append's
# transaction: what ``thidua verify`` holds each chain to, so a stream cut short or removed is
# named, and what the signed digests published outside the database copy (shared.anchors), so
# that removing a stream with its head row, or emptying the store, is named too.
stream_heads = Table(
    "stream_heads", metadata,
    Column("stream_id", String(200), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    sqlite_with_rowid=False,
)

# One B-tree on SQLite (WITHOUT ROWID, keyed by (sent, position)): an append adds its row to
# the first pages, where the unsent rows are, and the relay reads them from there in position
# order; marking a row sent moves it to the end. (With a rowid and an index on sent_at, as
# before, an append wrote two B-trees.) ``sent`` is ``sent_at IS NOT NULL``, as a key.
outbox = Table(
    "outbox", metadata,
    Column("sent", Boolean, primary_key=True, server_default=false()),
    Column("position", _BigId, ForeignKey("events.position"), primary_key=True, autoincrement=False),
    Column("topic", String(200), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    # W3C trace context of the request that appended the event, sent as the record's header.
    Column("traceparent", String(55), nullable=True),
    CheckConstraint("sent = (sent_at IS NOT NULL)", name="ck_outbox_sent"),
    sqlite_with_rowid=False,
)
UNSENT = outbox.c.sent == false()


processed_events = Table(
    "processed_events", metadata,
    Column("consumer", String(100), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("outcome", String(20), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    # what a consumed event was and which story it belongs to: a case's audit lists what each
    # service consumed of it, and a command continuing the story is caused by the latest of them
    # (shared.aggregate). NULL in rows written before they were kept.
    Column("correlation_id", String(64), nullable=True),
    Column("event_type", String(200), nullable=True),
    Column("province", String(16), nullable=True),
    Column("occurred_at", DateTime(timezone=True), nullable=True),
    Index("ix_processed_events_correlation", "correlation_id"),
)

relay_state = Table(
    "relay_state", metadata,
    Column("name", String(100), primary_key=True),
    Column("cluster_id", String(200), nullable=True),
    Column("holder", String(200), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
)


# Built once: constructing a statement costs more than running it on SQLite.
_HEAD = DriverStatement(select(events.c.version, events.c.hash).where(events.c.stream_id == bindparam("stream"))
                        .order_by(events.c.version.desc()).limit(1))
_LOAD = DriverStatement(select(events.c.body).where(events.c.stream_id == bindparam("stream"))
                        .order_by(events.c.version))
_EVENT_AT = DriverStatement(select(events.c.event_id).where(events.c.stream_id == bindparam("stream"),
                                                          events.c.version == bindparam("version")))
_VERSION = (select(func.coalesce(func.max(events.c.version), 0))
            .where(events.c.stream_id == bindparam("stream")))
_RAW = (select(events.c.position, events.c.stream_id, events.c.version, events.c.type, events.c.body)
        .where(events.c.position > bindparam("after")).order_by(events.c.position).limit(bindparam("limit")))
_INSERT_EVENTS = DriverStatement.insert(events, ("event_id", "stream_id", "version", "type", "province",
                                                "correlation_id", "recorded_at", "body", "prev_hash", "hash"))
_NEW_HEAD = DriverStatement.insert(stream_heads, ("stream_id", "version", "hash"))
_MOVE_HEAD = DriverStatement(update(stream_heads).where(stream_heads.c.stream_id == bindparam("stream"))
                             .values(version=bindparam("head_version"), hash=bindparam("head_hash")))
_INSERT_OUTBOX_ROW = DriverStatement.insert(outbox, ("position", "topic", "traceparent"))
_INSERT_OUTBOX = DriverStatement(insert(outbox).from_select(
    ["position", "topic", "traceparent"],
    select(events.c.position, bindparam("topic", type_=String), bindparam("traceparent", type_=String))
    .where(events.c.stream_id == bindparam("stream"), events.c.version > bindparam("after"))
    .order_by(events.c.position)))


# only what a StoredEvent holds: a DateTime column alone would cost a parse per row
_ALL_QUERY = (select(events.c.position, events.c.body, events.c.prev_hash, events.c.hash)
              .where(events.c.position > bindparam("after")).order_by(events.c.position).limit(bindparam("limit")))
_ALL = DriverStatement(_ALL_QUERY)
_ALL_OF_PROVINCE = DriverStatement(_ALL_QUERY.where(events.c.province == bindparam("province")))


class ConcurrencyError(Exception):
    """The stream moved on since it was read: the caller must reload and decide again."""

    def __init__(self, stream_id: str, expected: int, actual: int | None = None):
        detail = f", it is at {actual}" if actual is not None else ""
        super().__init__(f"stream {stream_id!r} was expected at version {expected}{detail}")
        self.stream_id, self.expected, self.actual = stream_id, expected, actual


@dataclass(frozen=True)
class StoredEvent:
    position: int
    event: Envelope
    prev_hash: str
    hash: str


_EVENT_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:thidua:event").bytes


def event_id(topic: str, stream_id: str, version: int, envelope_id: str) -> str:
    """The id of the event made as ``envelope_id`` and stored at ``version`` of ``stream_id`` in
    the store publishing to ``topic``: ``uuid.uuid5`` of the four, one per line (neither a topic,
    a version nor a UUID has a line break, so the name is the four without ambiguity), computed
    here in a third of the time the uuid module takes."""
    name = f"{topic}\n{stream_id}\n{version}\n{envelope_id}"
    digest = bytearray(hashlib.sha1(_EVENT_ID_NAMESPACE + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def chain_hash(prev_hash: str, body: bytes, key: bytes = b"") -> str:
    """SHA-256 of the previous hash and the event's bytes; keyed (HMAC) when the installation
    has a chain key, so that someone who can write to the database cannot forge a link."""
    if key:
        return hmac.new(key, prev_hash.encode() + body, hashlib.sha256).hexdigest()
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


class EventStore:
    """Append, load and read events of one service's store. Needs a connection in a transaction.

    ``protector`` (:class:`shared.privacy.protector.Protector`), when given, seals the personal
    fields of what is appended — the stored bytes, and so the chain, hold them sealed — and opens
    them in what is read back; ``append`` returns the events as they were given (plaintext)."""

    def __init__(self, topic: str, chain_key: bytes = b"", protector=None):
        self.topic, self.chain_key, self.protector = topic, chain_key, protector
        self._open = protector.open if protector is not None else _as_is

    def append(self, conn: Connection, stream_id: str, expected_version: int,
               new_events: Iterable[Envelope]) -> list[Envelope]:
        # A new stream on SQLite skips the head read: an existing stream fails the (stream, version)
        # key below, and SQLite's transaction stays usable to read the actual version then.
        # (PostgreSQL aborts the transaction on that failure, so there the head is read first.)
        blind = expected_version == 0 and conn.dialect.name == "sqlite"
        if blind:
            prev = GENESIS
        else:
            head = _HEAD.rows(conn, {"stream": stream_id})
            actual, prev = head[0] if head else (0, GENESIS)
            if actual != expected_version:
                raise ConcurrencyError(stream_id, expected_version, actual)
        now = datetime.now(timezone.utc)
        stored, rows = [], []
        for i, event in enumerate(new_events, start=expected_version + 1):
            event = event.with_sequence(i, event_id(self.topic, stream_id, i, event.id))
            body = env.canonical_bytes(self.protector.seal(event) if self.protector else event)
            digest = chain_hash(prev, body, self.chain_key)
            rows.append({"event_id": event.id, "stream_id": stream_id, "version": i,
                         "type": event.type, "province": event.province,
                         "correlation_id": event.correlationid, "recorded_at": now,
                         "body": body.decode(), "prev_hash": prev, "hash": digest})
            stored.append(event)
            prev = digest
        if not rows:
            return []
        try:
            position = _INSERT_EVENTS.execute(conn, rows)
            if expected_version == 0:
                _NEW_HEAD.execute(conn, [{"stream_id": stream_id, "version": rows[-1]["version"], "hash": prev}])
        except IntegrityError as exc:
            raise ConcurrencyError(stream_id, expected_version,
                                   self.version(conn, stream_id) if blind else None) from exc
        if expected_version:
            _MOVE_HEAD.execute(conn, [{"stream": stream_id, "head_version": rows[-1]["version"], "head_hash": prev}])
        traceparent = tracing.current_traceparent()
        if position is not None:  # one event, on SQLite: the driver gave its position
            _INSERT_OUTBOX_ROW.execute(conn, [{"position": position, "topic": self.topic,
                                               "traceparent": traceparent}])
        else:  # one outbox row per new event, in one statement, without reading the positions back
            _INSERT_OUTBOX.execute(conn, [{"topic": self.topic, "traceparent": traceparent,
                                           "stream": stream_id, "after": expected_version}])
        metrics.events_appended(stored)
        return stored

    def event_id_at(self, conn: Connection, stream_id: str, version: int) -> str | None:
        found = _EVENT_AT.scalars(conn, {"stream": stream_id, "version": version})
        return found[0] if found else None

    def version(self, conn: Connection, stream_id: str) -> int:
        return conn.execute(_VERSION, {"stream": stream_id}).scalar_one()

    def load(self, conn: Connection, stream_id: str) -> list[Envelope]:
        """The stream's events, each at the current version of its payload schema (upcast)."""
        return [upcast(self._open(env.from_stored(body))) for body in _LOAD.scalars(conn, {"stream": stream_id})]

    def read_raw(self, conn: Connection, after: int = 0, limit: int = 1000) -> list:
        """Rows in position order as stored (position, stream, version, type, body): for replays that
        pass the bytes on (republish, export, benchmarks) without decoding them."""
        return conn.execute(_RAW, {"after": after, "limit": limit}).all()

    def read_all(self, conn: Connection, after: int = 0, limit: int = 1000,
                 province: str | None = None) -> list[StoredEvent]:
        if province is None:
            rows = _ALL.rows(conn, {"after": after, "limit": limit})
        else:
            rows = _ALL_OF_PROVINCE.rows(conn, {"after": after, "limit": limit, "province": province})
        # filled in directly, as the replays make one per event (see envelope.filled)
        return [env.filled(StoredEvent, {"position": position, "event": upcast(self._open(env.from_stored(body))),
                                         "prev_hash": prev_hash, "hash": hash_})
                for position, body, prev_hash, hash_ in rows]

    def iter_all(self, conn: Connection, batch: int = 1000, province: str | None = None
                 ) -> Iterator[StoredEvent]:
        after = 0
        while chunk := self.read_all(conn, after, batch, province):
            yield from chunk
            after = chunk[-1].position


def _as_is(event: Envelope) -> Envelope:
    return event


def verify_stream(conn: Connection, stream_id: str, key: bytes = b"") -> list[str]:
    """Problems found in one stream's hash chain, each naming the event; empty if intact."""
    rows = conn.execute(select(events).where(events.c.stream_id == stream_id).order_by(events.c.position))
    return verify_rows(stream_id, [r._mapping for r in rows], key)


def verify_rows(stream_id: str, rows: list, key: bytes = b"") -> list[str]:
    """The chain checks on rows of one stream in position order (from the database or an API)."""
    problems, prev, expected_version = [], GENESIS, 1
    for r in (_Row(row) for row in rows):
        where = f"sự kiện {r.event_id} (luồng {stream_id}, phiên bản {r.version}, vị trí {r.position})"
        if r.version != expected_version:
            problems.append(f"{where}: phiên bản {r.version} đứng ở chỗ của phiên bản {expected_version} — "
                            "có sự kiện bị xóa, chèn thêm hoặc đảo thứ tự (removed, inserted or reordered)")
        if r.prev_hash != prev:
            problems.append(f"{where}: không nối tiếp sự kiện đứng trước trong chuỗi băm "
                            "(does not follow the event before it)")
        body = r.body.encode()
        if chain_hash(r.prev_hash, body, key) != r.hash:
            problems.append(f"{where}: nội dung không khớp mã băm — đã bị sửa (edited)")
        try:
            if env.decode(body).id != r.event_id:
                problems.append(f"{where}: mã lưu khác mã của chính sự kiện (stored id differs)")
        except env.EnvelopeError as exc:
            problems.append(f"{where}: không còn là sự kiện hợp lệ (not a valid event): {exc.errors}")
        prev, expected_version = r.hash, r.version + 1
    return problems


class _Row:
    """Attribute access over a mapping (a database row or a JSON object)."""

    def __init__(self, mapping):
        self._m = mapping

    def __getattr__(self, name):
        return self._m[name]
