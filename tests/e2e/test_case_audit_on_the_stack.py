"""The audit of a case on the real stack (Tansu, the four services under gunicorn, their workers):
a teacher from registration to award and notification over HTTP, then `thidua audit <correlation
id>` as an operator runs it, and `thidua verify` against the digests the workers published — until
a stream is deleted with its head row."""
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from shared import auth
from shared.stack import SERVICES, Stack, local_secret
from tests import scenarios
from tests.driver import OverHttp

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack.on_free_ports(tmp_path_factory.mktemp("case-audit"), test_clock=True,
                            extra_env={"ANCHOR_INTERVAL_S": "1"})  # the workers publish their digests each second
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def case(stack):
    return scenarios.case_from_registration_to_notification(
        OverHttp(stack), local_secret(stack.data_dir, "chain_key").encode())


def thidua(stack, *args):
    env = {**os.environ, "JWT_SECRET": stack.secret, "DATA_DIR": str(stack.data_dir), "DATABASE_URL": "",
           "CHAIN_KEY": local_secret(stack.data_dir, "chain_key"), "ANCHOR_KEY": local_secret(stack.data_dir, "anchor_key"),
           **{f"DATABASE_URL_{s.upper()}": f"sqlite:///{stack.data_dir}/{s}.db" for s in SERVICES}}
    return subprocess.run([sys.executable, "-m", "shared.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_the_audit_command_tells_the_whole_case_verified(stack, case):
    urls = [f"--url={sv}={stack.url(sv)}" for sv in SERVICES]
    told = thidua(stack, "audit", case["correlation_id"], "--province", scenarios.HUNG_YEN, *urls)
    assert told.returncode == 0, told.stdout + told.stderr
    assert "dấu vết đầy đủ" in told.stdout and "Quyết định khen thưởng (decided)" in told.stdout
    assert "Thông báo (notified)" in told.stdout
    as_json = json.loads(thidua(stack, "audit", case["correlation_id"], "--province", scenarios.HUNG_YEN,
                                *urls, "--json").stdout)
    assert as_json["verified"] and [e["type"] for e in as_json["events"]] == scenarios.CASE_STORY


def test_the_gateway_tells_the_case_verified_by_the_services_without_holding_the_chain_key(stack, case):
    gateway = Path(f"/proc/{stack.processes['web'].pid}/environ").read_bytes().split(b"\0")
    assert not any(v.startswith((b"CHAIN_KEY=", b"ANCHOR_KEY=")) for v in gateway)
    path = f"{stack.web_url}/cases/{case['correlation_id']}/audit"
    mine = requests.get(path, headers={"Authorization": "Bearer " + auth.mint(
        stack.secret, "kiem-toan", "operator", [scenarios.HUNG_YEN], 300)}, timeout=30)
    assert mine.status_code == 200, mine.text
    assert mine.json()["verified"] and [e["type"] for e in mine.json()["events"]] == scenarios.CASE_STORY
    theirs = requests.get(path, headers={"Authorization": "Bearer " + auth.mint(
        stack.secret, "kiem-toan", "operator", [scenarios.GIA_LAI], 300)}, timeout=30)
    assert theirs.status_code == 404 and "events" not in theirs.json()


def test_verify_holds_the_stores_to_the_digests_the_workers_published_and_names_a_deleted_stream(stack, case):
    registration = next(e["stream"] for e in case["case"].events if e["type"] == "registration.participant.registered")
    digest = stack.data_dir / "anchors" / "registration.anchor.json"
    deadline = time.monotonic() + 30
    while not (digest.exists() and registration in digest.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert registration in digest.read_text()  # a worker anchored the case's registration
    stack.stop()  # no worker publishes again: what is anchored stays as it was
    checked = thidua(stack, "verify", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    with sqlite3.connect(stack.data_dir / "registration.db") as conn:
        conn.execute("DELETE FROM outbox WHERE position IN (SELECT position FROM events WHERE stream_id = ?)",
                     (registration,))
        conn.execute("DELETE FROM events WHERE stream_id = ?", (registration,))
        conn.execute("DELETE FROM stream_heads WHERE stream_id = ?", (registration,))
    checked = thidua(stack, "verify")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "XÓA LUỒNG (stream deleted)" in checked.stdout and registration in checked.stdout
