"""The Bến Tre progression on the real stack: the demo's five steps over HTTP, then
`thidua audit` as an operator runs it — verified, and failing once the store is tampered with."""
import json
import os
import sqlite3
import subprocess
import sys

import pytest

from shared.stack import SERVICES, Stack, local_secret
from tools import demo

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack.on_free_ports(tmp_path_factory.mktemp("exemplar"))
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def story(stack):
    client = demo.Client({sv: stack.url(sv) for sv in SERVICES}, stack.secret)
    return demo.run(client, say=lambda _: None, key=local_secret(stack.data_dir, "chain_key").encode())


def audit_cli(stack, exemplar_id, *extra):
    env = {**os.environ, "JWT_SECRET": stack.secret, "CHAIN_KEY": local_secret(stack.data_dir, "chain_key")}
    urls = [f"--url={sv}={stack.url(sv)}" for sv in SERVICES]
    return subprocess.run([sys.executable, "-m", "shared.cli", "audit", exemplar_id, "--province", demo.PROVINCE,
                           *urls, *extra], env=env, capture_output=True, text=True, timeout=60)


def test_the_demo_takes_an_exemplar_through_all_five_steps_each_caused_by_the_one_before(story):
    assert story.verified, story.problems
    assert story.as_json()["steps_done"] == [1, 2, 3, 4, 5]
    assert "awards.award.decided" in [e["type"] for e in story.events]


def test_the_audit_command_tells_the_verified_story_in_vietnamese_and_as_json(stack, story):
    told = audit_cli(stack, story.exemplar_id)
    assert told.returncode == 0, told.stdout + told.stderr
    assert "dấu vết đầy đủ" in told.stdout and "Bước 5 – Khen thưởng" in told.stdout
    as_json = json.loads(audit_cli(stack, story.exemplar_id, "--json").stdout)
    assert as_json["verified"] is True and as_json["steps_done"] == [1, 2, 3, 4, 5]


def test_the_audit_command_fails_and_names_an_event_edited_in_the_database(stack, story):
    publicity = next(e for e in story.events if e["type"] == "notifications.exemplar.publicised")
    with sqlite3.connect(stack.data_dir / "notifications.db") as conn:
        conn.execute("UPDATE events SET body = replace(body, 'chuyển đổi số', 'chuyen doi so') WHERE event_id = ?",
                     (publicity["id"],))
    told = audit_cli(stack, story.exemplar_id)
    assert told.returncode == 1
    assert publicity["id"] in told.stdout and "edited" in told.stdout
