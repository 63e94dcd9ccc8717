"""A person's erasure on the real stack — four services under gunicorn, their workers, Tansu — the
key store the embedded default's SQLite file that every process opens: the personal fields travel
sealed through the real broker, the department's erasure reaches every read path of every service,
and every chain of every store still verifies."""
import sqlite3

import pytest

from shared.eventstore import verify_rows
from shared.kafka_bus import KafkaSettings
from shared.ops.kafka import KafkaOps
from shared.stack import SERVICES, Stack, local_secret
from tests.driver import OverHttp
from tests.erasure_story import after_erasure, before_erasure, erase

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    st = Stack.on_free_ports(tmp_path_factory.mktemp("erasure"), test_clock=True)
    st.start()
    yield st
    st.stop()


def _topic_values(stack) -> str:
    ops = KafkaOps(KafkaSettings(bootstrap_servers=stack.broker.bootstrap))
    return "\n".join(r.value.decode() for s in SERVICES for r in ops.read_all(f"thidua.{s}"))


def test_the_department_erases_a_person_on_the_stack_and_every_chain_still_verifies(stack):
    d = OverHttp(stack)
    story = before_erasure(d, "86")
    published = _topic_values(stack)
    assert "sealed:v1:" in published
    assert story.lan.name not in published and story.lan.phone not in published  # sealed on the wire too

    reply = erase(d, story)
    assert reply["key_destroyed"] is True
    after_erasure(d, story)  # within the key cache's 5 s of every process, and through their consumers

    key = local_secret(stack.data_dir, "chain_key").encode()
    for service in SERVICES:
        with sqlite3.connect(stack.data_dir / f"{service}.db") as conn:
            conn.row_factory = sqlite3.Row
            rows = conn.execute("SELECT * FROM events ORDER BY position").fetchall()
        streams = {}
        for row in rows:
            streams.setdefault(row["stream_id"], []).append(dict(row))
        assert streams and [p for s, r in streams.items() for p in verify_rows(s, r, key)] == [], service
    erased = [r for r in _topic_values(stack).splitlines() if "registration.person.erased" in r]
    assert len(erased) == 1 and story.lan.id in erased[0] and story.lan.name not in erased[0]
