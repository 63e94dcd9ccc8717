"""Export a province's events from every store; import them into an empty installation.

The file is JSON lines, one stored event a line, service by service in store order::

    {"service": "awards", "stream_id": "...", "version": 3, "recorded_at": "...",
     "prev_hash": "...", "hash": "...", "event": {<the CloudEvents envelope>}}

Import appends each line to its service's store as it was — same stream, version, hash
chain — after checking every chain (with the installation's ``CHAIN_KEY``, which must
be the exporting one's), with an outbox row so that the relay publishes it, and applies
the service's own events to its projection in the same transaction, as a command would.
The events other services follow reach them through the topics once the relays run.
Import refuses a store that already holds events of a province in the file, or one of
its streams: it restores into an empty installation (or one without that province), it
does not merge.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import IO

from sqlalchemy import func, insert, select

from shared import envelope as env
from shared.db import Database
from shared.eventschema import upcast
from shared.eventstore import GENESIS, chain_hash, events, outbox, stream_heads


class ImportRefused(RuntimeError):
    pass


def export_lines(service: str, db: Database, province: str, page: int = 1000) -> Iterator[dict]:
    after = 0
    while True:
        with db.read() as conn:
            rows = conn.execute(select(events).where(events.c.province == province, events.c.position > after)
                                .order_by(events.c.position).limit(page)).all()
        if not rows:
            return
        for r in rows:
            recorded = r.recorded_at.isoformat() if isinstance(r.recorded_at, datetime) else str(r.recorded_at)
            yield {"service": service, "stream_id": r.stream_id, "version": r.version, "recorded_at": recorded,
                   "prev_hash": r.prev_hash, "hash": r.hash, "event": json.loads(r.body)}
        after = rows[-1].position


def write(out: IO[str], lines: Iterable[dict]) -> int:
    n = 0
    for line in lines:
        out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        n += 1
    return n


def read(lines: Iterable[str]) -> dict[str, list[dict]]:
    by_service: dict[str, list[dict]] = defaultdict(list)
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            by_service[line["service"]].append(line)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ImportRefused(f"line {number}: not an exported event ({exc})") from exc
    return dict(by_service)


def verify(lines: list[dict], key: bytes = b"") -> list[str]:
    """Problems in the file's chains: every stream must start at version 1 and link up."""
    problems, heads = [], {}
    for line in lines:
        stream = line["stream_id"]
        version, prev = heads.get(stream, (0, GENESIS))
        body = _body(line)
        where = f"{line['service']} stream {stream} version {line['version']}"
        if line["version"] != version + 1:
            problems.append(f"{where}: version {version + 1} was due")
        if line["prev_hash"] != prev:
            problems.append(f"{where}: does not follow the event before it")
        if chain_hash(line["prev_hash"], body, key) != line["hash"]:
            problems.append(f"{where}: content does not match its hash (edited, or another CHAIN_KEY)")
        heads[stream] = (line["version"], line["hash"])
    return problems


def refusal(db: Database, service: str, lines: list[dict]) -> str | None:
    """Why the store cannot take these lines (it holds events of their provinces or streams), or None."""
    with db.read() as conn:
        return refusal_in(conn, service, lines)


def refusal_in(conn, service: str, lines: list[dict]) -> str | None:
    provinces = sorted({line["event"]["province"] for line in lines})
    streams = sorted({line["stream_id"] for line in lines})
    taken = conn.execute(select(func.count()).select_from(events)
                         .where(events.c.province.in_(provinces))).scalar_one()
    for i in range(0, len(streams), 1000):
        taken += conn.execute(select(func.count()).select_from(events)
                              .where(events.c.stream_id.in_(streams[i:i + 1000]))).scalar_one()
    if taken:
        return (f"the {service} store already holds events of province(s) {', '.join(provinces)} "
                "or of the file's streams: import restores into an empty installation")
    return None


def import_lines(db: Database, spec, topic: str, lines: list[dict]) -> int:
    """Append the lines in one transaction (checked again inside it)."""
    with db.write() as conn:
        if reason := refusal_in(conn, spec.name, lines):
            raise ImportRefused(reason)
        for line in lines:
            event = env.from_dict(line["event"])
            position = conn.execute(insert(events).returning(events.c.position).values(
                event_id=event.id, stream_id=line["stream_id"], version=line["version"], type=event.type,
                province=event.province, correlation_id=event.correlationid,
                recorded_at=datetime.fromisoformat(line["recorded_at"]), body=_body(line).decode(),
                prev_hash=line["prev_hash"], hash=line["hash"])).scalar_one()
            conn.execute(insert(outbox).values(position=position, topic=topic))
            updater = spec.own_events.get(event.type)
            if updater is not None:
                updater(conn, upcast(event))
        heads = {line["stream_id"]: line for line in lines}  # the last line of each stream: its head
        if heads:
            conn.execute(insert(stream_heads), [{"stream_id": s, "version": line["version"], "hash": line["hash"]}
                                                for s, line in heads.items()])
    return len(lines)


def _body(line: dict) -> bytes:
    return json.dumps(line["event"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
