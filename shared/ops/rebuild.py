"""Rebuild a service's projection from the stores, in fresh tables, swapped in only when complete.

**Where the events come from.** The service's own events from its own store; the events
it follows from **the followed services' stores** (``DATABASE_URL_<SERVICE>`` of each),
not from the topics. The stores are the truth (DESIGN §3); a topic may have lost its
records (Tansu keeps them in memory), have a finite retention, or hold a dead letter's
event at an offset long committed. Reading the stores needs no broker and gives the
complete history. Sources are merged by event time, each in store order, so every
stream's events are applied in their order.

**How.** The tables are created empty in a shadow — a schema ``thidua_rebuild`` on
PostgreSQL, an attached file ``<db>.rebuild`` on SQLite — and filled by the service's own
updaters (``SPEC.own_events`` and ``SPEC.handlers``) through SQLAlchemy's
``schema_translate_map``, with the consumer's ``processed_events`` rows alongside. The
live tables serve requests meanwhile. The swap is one transaction that holds the writers
off (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: ``LOCK TABLE``), catches up on what
happened during the build — own events past the watermark taken at the start, followed
events the live consumer applied meanwhile (its ``processed_events`` rows not in the
shadow's) — and copies the shadow over the live tables. A failure anywhere leaves the
live tables as they were.

An event that the live consumer had dead-lettered and that fails again stays dead-lettered
(``thidua dlq redrive`` is still the way back); any other event that fails stops the
rebuild with its id and the reason. Tables a service declares in
``SPEC.operational_tables`` (state of its own processes, such as e-mail deliveries) are
not events' projections and are left as they are.
"""
from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, MetaData, delete, event, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from shared import envelope as env
from shared.consumer import processed_row
from shared.db import Database
from shared.eventschema import upcast
from shared.eventstore import events, processed_events

SHADOW = "thidua_rebuild"
BATCH = 500


class RebuildFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Item:
    """One event to apply: from which store, its position there, and the event."""
    source: str
    position: int
    event: env.Envelope

    @property
    def key(self):
        return self.event.time


class Rebuild:
    """``spec``'s updaters are given the events as read: sealed personal fields stay sealed unless
    they open them (``shared.privacy.protector.protected(spec, protector)``, as ``thidua rebuild``)."""

    def __init__(self, db_url: str, spec, followed: dict[str, Database],
                 progress: Callable[[int], None] = lambda n: None):
        self.spec, self.followed, self.progress = spec, followed, progress
        self.db = Database(db_url)
        self.postgres = not self.db.is_sqlite
        keep = set(getattr(spec, "operational_tables", ()))
        self.tables = [t for t in spec.metadata.sorted_tables if t.name not in keep]
        shadow = MetaData()
        self.shadow = {t.name: t.to_metadata(shadow, schema=SHADOW) for t in self.tables}
        self.shadow_processed = processed_events.to_metadata(shadow, schema=SHADOW)
        if not self.postgres:
            self._shadow_file = Path(make_url(db_url).database + ".rebuild")
            for engine in {self.db.writer, self.db.reader}:
                event.listen(engine, "connect", self._attach)
        self.live_outcomes: dict[str, str] = {}
        self.read_up_to: dict[str, int] = {}  # the last position read from each store
        self.counts = {"own": 0, "followed": 0, "dead_lettered": 0, "caught_up": 0}

    # -- the whole run --------------------------------------------------------------
    def total(self) -> int:
        n = _count(self.db)
        return n + sum(_count(db) for db in self.followed.values())

    def run(self) -> dict:
        try:
            self._create_shadow()
            watermark = self._watermark()
            with self.db.read() as conn:
                self.live_outcomes = dict(conn.execute(
                    select(processed_events.c.event_id, processed_events.c.outcome)
                    .where(processed_events.c.consumer == self.spec.name)).all())
            sources = [_read(self.spec.name, self.db, upto=watermark)]
            sources += [_read(name, db) for name, db in self.followed.items()]
            batch: list[Item] = []
            for item in heapq.merge(*sources, key=lambda i: i.key):
                self.read_up_to[item.source] = max(self.read_up_to.get(item.source, 0), item.position)
                batch.append(item)
                if len(batch) >= BATCH:
                    self._apply_batch(batch)
                    batch = []
            self._apply_batch(batch)
            self._swap(watermark)
        finally:
            self._drop_shadow()
            self.db.dispose()
        return {"service": self.spec.name, "tables": [t.name for t in self.tables], **self.counts}

    # -- applying ---------------------------------------------------------------------
    def _apply_batch(self, items: list[Item]) -> None:
        if not items:
            return
        # SQLite: the reader engine's deferred BEGIN locks only the shadow file it writes, not
        # the live database (BEGIN IMMEDIATE would reserve every attached database).
        with (self.db.reader if not self.postgres else self.db.writer).begin() as conn:
            shadow = conn.execution_options(schema_translate_map={None: SHADOW})
            for item in items:
                self._apply(shadow, item)
        self.progress(len(items))

    def _apply(self, shadow: Connection, item: Item) -> None:
        e = item.event
        own = item.source == self.spec.name
        handler = (self.spec.own_events if own else self.spec.handlers).get(e.type)
        outcome = "ignored"
        if handler is not None:
            try:
                with shadow.begin_nested():
                    handler(shadow, e)
                outcome = "applied"
            except Exception as exc:
                if own or self.live_outcomes.get(e.id) != "dead_lettered":
                    raise RebuildFailed(f"{item.source} event {e.id} ({e.type}, position {item.position}) "
                                        f"failed: {type(exc).__name__}: {exc}") from exc
                outcome = "dead_lettered"
                self.counts["dead_lettered"] += 1
        if own:
            self.counts["own"] += 1
            return
        self.counts["followed"] += 1
        shadow.execute(insert(self.shadow_processed).values(processed_row(self.spec.name, e, outcome)))

    # -- the swap -----------------------------------------------------------------------
    def _swap(self, watermark: int) -> None:
        with self.db.write() as conn:
            self._hold_writers_off(conn)
            late = [Item(self.spec.name, p, e) for p, e in _events_after(conn, watermark)]
            live = dict(conn.execute(select(processed_events.c.event_id, processed_events.c.outcome)
                                     .where(processed_events.c.consumer == self.spec.name)).all())
            self.live_outcomes.update(live)
            built = set(conn.execute(select(self.shadow_processed.c.event_id)
                                     .where(self.shadow_processed.c.consumer == self.spec.name)).scalars())
            late += self._followed_by_id(set(live) - built)
            # execution_options changes the connection itself: the shadow while catching up, then live again
            shadow = conn.execution_options(schema_translate_map={None: SHADOW})
            for item in late:
                self._apply(shadow, item)
            conn.execution_options(schema_translate_map={})
            self.counts["caught_up"] = len(late)
            for table in reversed(self.tables):
                conn.execute(delete(table))
            for table in self.tables:
                cols = [c.name for c in table.columns]
                conn.execute(insert(table).from_select(cols, select(*[self.shadow[table.name].c[c] for c in cols])))
            conn.execute(delete(processed_events).where(processed_events.c.consumer == self.spec.name))
            cols = [c.name for c in processed_events.columns]
            conn.execute(insert(processed_events).from_select(cols, select(*[self.shadow_processed.c[c] for c in cols])))

    def _followed_by_id(self, ids: set[str]) -> list[Item]:
        """The followed events with these ids. Event ids have no index (an append would pay for it),
        and this runs with the service's writers held off: each store is searched past the last
        position the rebuild read from it, where the events applied meanwhile are, and only what
        is not found there (PostgreSQL may commit a position late) in the whole store."""
        found: list[Item] = []
        for name, db in self.followed.items():
            for after in (self.read_up_to.get(name, 0), 0):
                if not ids:
                    break
                with db.read() as conn:
                    rows = conn.execute(select(events.c.position, events.c.event_id, events.c.body)
                                        .where(events.c.position > after, events.c.event_id.in_(sorted(ids)))
                                        .order_by(events.c.position)).all()
                for r in rows:
                    found.append(Item(name, r.position, upcast(env.from_dict(json.loads(r.body)))))
                    ids.discard(r.event_id)
                if after == 0:
                    break
        if ids:
            raise RebuildFailed(f"{len(ids)} events the consumer applied are in none of the followed stores "
                                f"({', '.join(self.followed)}), e.g. {sorted(ids)[0]}")
        return found

    def _hold_writers_off(self, conn: Connection) -> None:
        """PostgreSQL: no append, no consumer transaction until the swap commits. (SQLite's
        BEGIN IMMEDIATE already did it.) A lock that cannot be had within the timeout fails
        the rebuild rather than stall the service behind it."""
        if self.postgres:
            names = ", ".join(["events", "processed_events"] + [t.name for t in self.tables])
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            try:
                conn.execute(text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))
            except OperationalError as exc:
                raise RebuildFailed(f"could not hold the writers off to swap: {exc.orig}") from exc

    def _watermark(self) -> int:
        """The last position such that every event at or before it is committed."""
        with self.db.write() as conn:
            if self.postgres:  # waits for appends in flight; later ones get higher positions
                conn.execute(text("LOCK TABLE events IN SHARE MODE"))
            return conn.execute(select(func.coalesce(func.max(events.c.position), 0))).scalar_one()

    # -- the shadow -----------------------------------------------------------------------
    def _attach(self, dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"ATTACH DATABASE ? AS {SHADOW}", (str(self._shadow_file),))
        cur.close()

    def _create_shadow(self) -> None:
        self._drop_shadow()
        with self.db.write() as conn:
            if self.postgres:
                conn.execute(text(f"CREATE SCHEMA {SHADOW}"))
            for table in [*self.shadow.values(), self.shadow_processed]:
                table.create(conn)

    def _drop_shadow(self) -> None:
        if self.postgres:
            with self.db.write() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {SHADOW} CASCADE"))
            return
        self.db.dispose()  # closes the connections that attached the file
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(self._shadow_file) + suffix).unlink(missing_ok=True)


def _count(db: Database) -> int:
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar_one()


def _read(source: str, db: Database, upto: int | None = None, page: int = 1000) -> Iterator[Item]:
    """A store's events in position order, a page per short read (no long-held snapshot)."""
    after = 0
    while True:
        query = select(events.c.position, events.c.body).where(events.c.position > after)
        if upto is not None:
            query = query.where(events.c.position <= upto)
        with db.read() as conn:
            rows = conn.execute(query.order_by(events.c.position).limit(page)).all()
        if not rows:
            return
        for r in rows:
            yield Item(source, r.position, upcast(env.from_dict(json.loads(r.body))))
        after = rows[-1].position


def _events_after(conn: Connection, position: int) -> list[tuple[int, env.Envelope]]:
    rows = conn.execute(select(events.c.position, events.c.body).where(events.c.position > position)
                        .order_by(events.c.position)).all()
    return [(r.position, upcast(env.from_dict(json.loads(r.body)))) for r in rows]
