"""What checking payloads against their schemas costs on the write path.

``python -m bench.schemas`` records registrations through ``shared.aggregate.record`` (the one
emit path: check, append, outbox row) into a fresh SQLite store, one per transaction as the API
does, with the schema check and with it replaced by a constant, and prints both rates and the
check's own time per event. The rounds alternate so that neither side gets the warmer machine.
"""
from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import timeit
import uuid
from pathlib import Path

from shared import eventschema
from shared.aggregate import CommandContext, Stream, record
from shared.db import Database
from shared.envelope import Actor
from shared.eventstore import EventStore, metadata

from bench.stores import PLEDGES

TYPE = "registration.participant.registered"


def payload(i: int) -> dict:
    return {"registration_id": str(uuid.uuid4()), "campaign_id": "c0ffee00-0000-4000-8000-000000000000",
            "campaign_title": "Phong trào thi đua «Dạy tốt, học tốt» năm học 2025-2026", "campaign_kind": "yearly",
            "participant": {"participant_id": f"bench-{i}", "kind": "individual", "individual_kind": "teacher",
                            "name": f"Nguyễn Thị Giáo Viên {i}", "unit": "Trường THPT Nguyễn Đình Chiểu, Bến Tre",
                            "unit_id": "thpt-ndc", "position": None, "gender": "female", "address": None,
                            "phone": None},
            "late": False, "imported": False, "registered_on": "2025-10-01", "pledges": PLEDGES}


def appends_per_s(folder: Path, n: int) -> tuple[float, float]:
    """Records per wall second and per CPU second of this process (the steadier figure on a
    shared machine)."""
    db = Database(f"sqlite:///{folder}/{uuid.uuid4()}.db")
    db.create_all(metadata)
    store = EventStore("bench.registration")
    ctx = CommandContext("registration", "83", Actor("bench", "department"), "bench", "command:bench")
    items = [payload(i) for i in range(n + 50)]
    for data in items[:50]:  # warm the connection and the statement caches
        with db.write() as conn:
            record(store, conn, f"registration-{data['registration_id']}", Stream("w"), TYPE, data, ctx)
    start, cpu = time.perf_counter(), time.process_time()
    for data in items[50:]:
        with db.write() as conn:
            record(store, conn, f"registration-{data['registration_id']}", Stream("r"), TYPE, data, ctx)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.dispose()
    return n / elapsed, n / cpu


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    check = eventschema.check
    data = payload(0)
    per_check = timeit.timeit(lambda: check(TYPE, data), number=5000) / 5000
    rates = {"checked": [], "unchecked": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            for side in (("checked", "unchecked") if i % 2 == 0 else ("unchecked", "checked")):
                eventschema.check = check if side == "checked" else (lambda type_, data: 1)
                try:
                    rates[side].append(appends_per_s(Path(tmp), args.events))
                finally:
                    eventschema.check = check
    print(f"schema check of one {TYPE}: {per_check * 1e6:.1f} us")
    for i, clock in enumerate(("wall", "CPU")):
        checked, unchecked = (statistics.median(r[i] for r in rates[s]) for s in ("checked", "unchecked"))
        print(f"recorded per {clock} s, one per transaction (median of {args.rounds}): unchecked "
              f"{unchecked:,.0f}, checked {checked:,.0f} ({100 * (checked / unchecked - 1):+.1f} %)")


if __name__ == "__main__":
    main()
