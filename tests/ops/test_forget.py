"""``thidua forget`` on an installation of PostgreSQL databases whose key store is PostgreSQL too
(``KEYSTORE_URL``): the erasure reaches every read path, ``thidua rebuild`` keeps it, every
chain verifies (and ``thidua verify`` finds nothing), and a second ``forget`` is refused."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from shared.db import Database
from shared.eventstore import events, verify_stream
from shared.privacy.crypto import MasterKey
from shared.stack import SERVICES
from tests.driver import InProcess
from tests.erasure_story import after_erasure, before_erasure, read_paths
from tests.ops.conftest import SECRET

pytestmark = pytest.mark.postgres


@pytest.fixture
def erasable(installation, fresh_pg_database):
    installation.env.update(KEYSTORE_URL=fresh_pg_database("keystore"), KEYSTORE_MASTER_KEY=MasterKey.generate_text())
    assert installation.thidua("migrate").exit_code == 0
    system = installation.system()
    driver = InProcess(system, SECRET)
    return installation, system, driver, before_erasure(driver, "86")


def test_forget_erases_the_person_everywhere_and_a_rebuild_keeps_it(erasable):
    installation, system, driver, story = erasable
    code, report = installation.json("forget", story.lan.id, "--province", "86", "--reference", "Đơn số 3/2024")
    assert code == 0 and report["key_destroyed"] is True and report["person_id"] == story.lan.id
    after_erasure(driver, story)  # the registration relay publishes the erasure, every consumer applies it
    for service in ("registration", "evaluation", "awards", "notifications"):
        result = installation.thidua("rebuild", "--service", service)
        assert result.exit_code == 0, result.output
    seen = read_paths(driver, story)
    assert story.lan.name not in seen and story.lan.phone not in seen and story.binh.name in seen
    for service in SERVICES:
        db = Database(installation.urls[service])
        with db.read() as conn:
            streams = conn.execute(select(events.c.stream_id).distinct()).scalars().all()
            assert [p for s in streams for p in verify_stream(conn, s, b"")] == []
        db.dispose()
    code, verified = installation.json("verify")  # the store-wide check: chains, heads
    assert code == 0 and verified["verified"] is True, verified
    again = installation.thidua("forget", story.lan.id, "--province", "86", "--reference", "Đơn số 3/2024")
    assert again.exit_code == 1 and "đã được xóa" in again.output
