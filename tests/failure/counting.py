"""What the fault-injection tests share with the consumer they run in a subprocess.

A projection that *counts*: every application of an event adds one to that event's
counter, so an event applied twice shows ``times == 2`` (nothing in the table
would stop it). Run as a script, it is a consumer that kills itself with SIGKILL
right after its first projection commit and before its offset commit::

    python tests/failure/counting.py BOOTSTRAP DATABASE_URL TOPIC GROUP NAME
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, select, update

if __name__ == "__main__":  # run as a script: make ``shared`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from shared.envelope import Actor, Envelope  # noqa: E402

EVENT_TYPE = "failure.counter.bumped"
MAX_POLL_INTERVAL_MS = 3000
SESSION_TIMEOUT_MS = 6000

metadata = MetaData()
counts = Table(
    "failure_counts", metadata,
    Column("event_id", String(36), primary_key=True),
    Column("times", Integer, nullable=False),
)


def bump(conn: Connection, event: Envelope) -> None:
    """Adds one to the event's counter: applying an event twice leaves ``times == 2``."""
    times = conn.execute(select(counts.c.times).where(counts.c.event_id == event.id)).scalar()
    if times is None:
        conn.execute(counts.insert().values(event_id=event.id, times=1))
    else:
        conn.execute(update(counts).where(counts.c.event_id == event.id).values(times=times + 1))


HANDLERS = {EVENT_TYPE: bump}


def an_event(stream: str, sequence: int = 1, type_: str = EVENT_TYPE, **data) -> Envelope:
    return Envelope(type=type_, source="failure-tests", subject=stream, province="83",
                    data=data or {"n": sequence}, actor=Actor("tester", "service"),
                    sequence=sequence, correlationid=f"corr-{stream}", causationid="cmd-failure")


def main(bootstrap: str, database_url: str, topic: str, group: str, name: str) -> None:
    from shared.consumer import ConsumerRunner
    from shared.db import Database
    from shared.eventstore import metadata as store_metadata
    from shared.kafka_bus import KafkaBus, KafkaSettings

    db = Database(database_url)
    db.create_all(store_metadata, metadata)
    bus = KafkaBus(KafkaSettings(bootstrap, client_id="thidua-killed",
                                 max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
                                 session_timeout_ms=SESSION_TIMEOUT_MS))

    def die(records):  # after the projection commit, before the offset commit
        print(f"applied {len(records)} records; SIGKILL before committing offsets", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    runner = ConsumerRunner(db, bus, name=name, group=group, topics=[topic], handlers=HANDLERS,
                            dlq=f"{topic}.dlq", after_apply=die)
    while True:  # the parent bounds this process's life with its own timeout
        runner.run_once(timeout_s=0.5)


if __name__ == "__main__":
    main(*sys.argv[1:6])
