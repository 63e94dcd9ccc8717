"""What an append and a consumer's mark cost, on a fresh SQLite file (or a PostgreSQL URL):
``python -m bench.append_cost [--url URL] [--n 3000] [--rounds 3]``.

Written to measure the audit's additions to the hot path (the stream-heads row an append
writes, the full correlation index, the correlation a consumer records with each event it
applies): run it on the code before and after a change and compare the medians.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text

from bench.stores import registration_event
from shared import consumer
from shared.db import Database
from shared.eventstore import EventStore, metadata


def _fresh(url: str | None, folder: Path) -> Database:
    if url is None:
        db = Database(f"sqlite:///{folder}/{uuid.uuid4().hex}.db")
    else:
        db = Database(url)
        with db.write() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(text(f"DROP TABLE IF EXISTS {table.name} CASCADE"))
    db.create_all(metadata)
    return db


def one_round(url: str | None, folder: Path, n: int) -> dict[str, float]:
    db = _fresh(url, folder)
    store = EventStore("bench.registration")
    events = [registration_event(i) for i in range(n)]
    for e in events[:200]:  # warm the file and the statement caches
        with db.write() as conn:
            store.append(conn, "warm-" + e.subject, 0, [e])
    figures, stored = {}, []

    def timed(name, each):
        wall, cpu = time.perf_counter(), time.process_time()
        for e in events:
            with db.write() as conn:
                each(conn, e)
        figures[f"{name}_us"] = (time.perf_counter() - wall) / n * 1e6
        figures[f"{name}_cpu_us"] = (time.process_time() - cpu) / n * 1e6

    timed("append_new_stream", lambda conn, e: stored.extend(store.append(conn, e.subject, 0, [e])))
    timed("append_existing_stream", lambda conn, e: store.append(conn, e.subject, 1, [e]))
    marks_events = _marks_events()
    by_subject = {e.subject: e for e in stored}
    timed("consumer_mark", lambda conn, e: consumer._mark(conn, "bench", by_subject[e.subject], "applied")
          if marks_events else consumer._mark(conn, "bench", by_subject[e.subject].id, "applied"))
    db.dispose()
    return figures


def _marks_events() -> bool:
    """Whether the consumer's mark takes the event (with the audit) or only its id (before it)."""
    import inspect
    return "event" in inspect.signature(consumer._mark).parameters


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default=None, help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rounds = [one_round(args.url, Path(tmp), args.n) for _ in range(args.rounds)]
    print(json.dumps({k: round(statistics.median(r[k] for r in rounds), 1) for k in rounds[0]}))


if __name__ == "__main__":
    main()
