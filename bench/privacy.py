"""What sealing personal fields costs the hot path: appends per second of a registration with a
person's name, gender, phone and address, and reads per second of those events, with sealing off,
with a new person (a new key made in the key store) for every event, and with the person's key
already cached. One thread, SQLite files in a temporary folder (``/dev/shm`` where there is one).

    python -m bench.privacy [--events 3000]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from shared.db import Database
from shared.envelope import Actor, Envelope
from shared.eventstore import EventStore, metadata
from shared.privacy.crypto import MasterKey
from shared.privacy.keystore import CachedKeys, SqlKeyStore
from shared.privacy.protector import Protector


def registered(i: int, person: str) -> Envelope:
    return Envelope(type="registration.participant.registered", source="registration", subject=f"registration-{i}",
                    province="86", actor=Actor("mai.tt", "unit_head"), correlationid=f"registration-{i}",
                    causationid="command:x",
                    data={"registration_id": f"r-{i}", "campaign_id": "c-1", "campaign_title": "Dạy tốt, học tốt",
                          "campaign_kind": "yearly", "late": False, "imported": False, "registered_on": "2024-03-01",
                          "participant": {"participant_id": person, "kind": "individual", "individual_kind": "teacher",
                                          "name": "Huỳnh Thị Lan", "unit": "Trường THPT Lưu Văn Liệt",
                                          "unit_id": "thpt-lvl", "gender": "female", "phone": "0909 111 222",
                                          "address": "12 Lê Lợi, Vĩnh Long", "position": None},
                          "pledges": [{"content": "Có sáng kiến được công nhận", "area": None,
                                       "start": "2024-01-02", "end": "2024-12-30"}]})


def run(label: str, folder: Path, n: int, protector: Protector | None, person_of) -> dict:
    db = Database(f"sqlite:///{folder / label}.db")
    db.create_all(metadata)
    store = EventStore("thidua.registration", b"chain-key", protector)
    started = time.perf_counter()
    for i in range(n):
        with db.write() as conn:
            store.append(conn, f"registration-{i}", 0, [registered(i, person_of(i))])
    appended = time.perf_counter() - started
    started = time.perf_counter()
    with db.read() as conn:
        read = sum(1 for _ in store.iter_all(conn))
    reading = time.perf_counter() - started
    db.dispose()
    return {"run": label, "appends_per_s": round(n / appended), "reads_per_s": round(read / reading)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    n = parser.parse_args().events
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="bench-privacy-", dir=shm if shm.is_dir() else None))
    try:
        keys = SqlKeyStore(f"sqlite:///{folder}/keystore.db", MasterKey(b"m" * 32))
        protector = Protector(CachedKeys(keys, ttl_s=5.0))
        results = [run("plain", folder, n, None, lambda i: f"p-{i}"),
                   run("sealed-new-person-each", folder, n, protector, lambda i: f"new-{i}"),
                   run("sealed-cached-person", folder, n, protector, lambda i: f"same-{i % 50}")]
        keys.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    for r in results:
        print(f"{r['run']:>24}: {r['appends_per_s']:>6} appends/s, {r['reads_per_s']:>6} reads/s")


if __name__ == "__main__":
    main()
