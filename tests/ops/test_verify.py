"""``thidua verify`` on four PostgreSQL stores after a whole case ran through the services: silent
on untouched stores, and naming each kind of tampering (an edited row, a deleted row, a stream cut
short, a deleted stream with its head row, a truncated store, a forged digest) with exit code 1."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, select, update

from shared.db import Database
from shared.eventstore import events, outbox, stream_heads
from shared.stack import SERVICES
from tests import scenarios
from tests.driver import InProcess
from tests.ops.conftest import SECRET, Installation

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def anchored(fresh_pg_database, tmp_path):
    """Four migrated stores after a case from registration to notification, with their digests
    published; yields the installation and what the case recorded."""
    installation = Installation({s: fresh_pg_database(f"verify_{s[:5]}") for s in SERVICES}, "verify",
                                "127.0.0.1:1")  # no broker: the in-process system runs on its own bus
    installation.env.update({"ANCHOR_KEY": "anchor-key-kept-outside-the-store", "ANCHOR_DIR": str(tmp_path / "a"),
                             "CHAIN_KEY": "chain-key-of-the-verify-tests"})
    assert installation.thidua("migrate").exit_code == 0
    system = installation.system()
    try:
        case = scenarios.case_from_registration_to_notification(InProcess(system, SECRET),
                                                                installation.env["CHAIN_KEY"].encode())
    finally:
        for app in system.apps.values():
            app.extensions["runtime"].db.dispose()
    assert installation.thidua("anchor").exit_code == 0
    databases = {s: Database(url) for s, url in installation.urls.items()}
    yield installation, case, databases
    for db in databases.values():
        db.dispose()


def findings(installation) -> tuple[int, list[dict], str]:
    code, report = installation.json("verify")
    text = installation.thidua("verify").stdout
    return code, [f for s in report["services"] for f in s["findings"]], text


def _remove(conn, where) -> None:
    """Events and the outbox rows that refer to them, as someone with the database's password would."""
    conn.execute(delete(outbox).where(outbox.c.position.in_(select(events.c.position).where(where))))
    conn.execute(delete(events).where(where))


def _stream_of(case, type_: str) -> str:
    return next(e["stream"] for e in case["case"].events if e["type"] == type_)


def test_untouched_stores_verify_every_chain_against_their_heads_and_digests(anchored):
    installation, _, _ = anchored
    code, report = installation.json("verify")
    assert code == 0, report
    assert report["verified"] and all(s["anchored"] == s["heads"] == s["streams"] for s in report["services"])
    assert all(s["streams"] > 0 for s in report["services"] if s["service"] != "notifications"), report
    assert installation.thidua("verify").stdout.count(": OK") == 4


def test_an_edited_row_is_named_edited(anchored):
    installation, case, dbs = anchored
    decided = next(e for e in case["case"].events if e["type"] == "awards.award.decided")
    with dbs["awards"].write() as conn:
        body = conn.execute(select(events.c.body).where(events.c.event_id == decided["id"])).scalar_one()
        conn.execute(update(events).where(events.c.event_id == decided["id"])
                     .values(body=body.replace("2024/QĐ-UBND", "2099/QĐ-UBND")))
    code, found, text = findings(installation)
    assert code == 1 and {f["kind"] for f in found} == {"edited"}
    assert found[0]["service"] == "awards" and decided["id"] in found[0]["message"]
    assert "SỬA NỘI DUNG (edited)" in text


def test_a_deleted_row_is_named_and_the_last_row_deleted_is_a_stream_cut_short(anchored):
    installation, case, dbs = anchored
    nomination = _stream_of(case, "awards.nomination.submitted")
    with dbs["awards"].write() as conn:
        _remove(conn, (events.c.stream_id == nomination) & (events.c.version == 2))
    code, found, text = findings(installation)
    assert code == 1 and {f["kind"] for f in found} == {"row_removed"}, found
    assert "(row removed, inserted or reordered)" in text
    with dbs["awards"].write() as conn:
        last = select(events.c.version).where(events.c.stream_id == nomination).order_by(events.c.version.desc())
        _remove(conn, (events.c.stream_id == nomination) & (events.c.version == last.limit(1).scalar_subquery()))
    code, found, text = findings(installation)
    assert code == 1 and "cut_short" in {f["kind"] for f in found}, found
    assert "CẮT CỤT LUỒNG (stream cut short)" in text


def test_a_deleted_stream_with_its_head_row_is_named_by_the_digest(anchored):
    installation, case, dbs = anchored
    registration = _stream_of(case, "registration.participant.registered")
    with dbs["registration"].write() as conn:
        _remove(conn, events.c.stream_id == registration)
        conn.execute(delete(stream_heads).where(stream_heads.c.stream_id == registration))
    code, found, text = findings(installation)
    assert code == 1 and [(f["service"], f["kind"]) for f in found] == [("registration", "stream_deleted")], found
    assert registration in found[0]["message"] and "XÓA LUỒNG (stream deleted)" in text


def test_a_truncated_store_is_named_truncated_with_or_without_its_heads(anchored):
    installation, _, dbs = anchored
    with dbs["evaluation"].write() as conn:
        conn.execute(delete(outbox))
        conn.execute(delete(events))
    code, found, _ = findings(installation)
    assert code == 1 and [(f["service"], f["kind"]) for f in found] == [("evaluation", "store_truncated")], found
    with dbs["evaluation"].write() as conn:
        conn.execute(delete(stream_heads))
    code, found, text = findings(installation)
    assert code == 1 and [(f["service"], f["kind"]) for f in found] == [("evaluation", "store_truncated")], found
    assert "XÓA SẠCH KHO (store truncated)" in text


def test_a_digest_edited_to_hide_a_deletion_is_refused_and_one_deleted_is_missed(anchored):
    installation, case, dbs = anchored
    folder = installation.env["ANCHOR_DIR"]
    path = f"{folder}/registration.anchor.json"
    digest = json.loads(open(path).read())
    registration = _stream_of(case, "registration.participant.registered")
    digest["heads"] = [h for h in digest["heads"] if h[0] != registration]
    open(path, "w").write(json.dumps(digest))
    code, found, _ = findings(installation)
    assert code == 1 and [f["kind"] for f in found] == ["digest_invalid"], found
    import os
    os.remove(path)
    code, found, _ = findings(installation)
    assert code == 1 and [f["kind"] for f in found] == ["digest_missing"], found
