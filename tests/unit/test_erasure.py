"""``forget`` followed by every read path, on the bus: the projections, the public page, the
award history, the inboxes and e-mails, the campaign report; every chain still verifies, the
events are all still there, and a rebuild keeps the person erased."""
import pytest
from sqlalchemy import func, select

from shared.eventstore import events, verify_stream
from shared.ops.rebuild import Rebuild
from shared.privacy import protector as privacy
from shared.privacy.keystore import person_keys
from shared.privacy.personal import ERASED
from shared.stack import SERVICES
from tests.driver import InProcess
from tests.erasure_story import after_erasure, before_erasure, erase, read_paths
from tests.unit.conftest import SECRET, module_system, token
from tests.web.inprocess import InProcessServiceClient
from tests.web.conftest import xlsx_tables
from web.app import create_app
from web.settings import load

PROVINCE = "86"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "erasure")


@pytest.fixture(scope="module")
def story(system):
    d = InProcess(system, SECRET)
    s = before_erasure(d, PROVINCE)
    return d, s, _counts(system)


def _rt(system, service):
    return system.apps[service].extensions["runtime"]


def _counts(system) -> dict[str, int]:
    counts = {}
    for service in SERVICES:
        with _rt(system, service).db.read() as conn:
            counts[service] = conn.execute(select(func.count()).select_from(events)).scalar_one()
    return counts


def _bodies(system) -> str:
    out = []
    for service in SERVICES:
        with _rt(system, service).db.read() as conn:
            out += conn.execute(select(events.c.body)).scalars().all()
    return "\n".join(out)


def _all_chains_verify(system) -> None:
    for service in SERVICES:
        rt = _rt(system, service)
        with rt.db.read() as conn:
            streams = conn.execute(select(events.c.stream_id).distinct()).scalars().all()
            problems = [p for s in streams for p in verify_stream(conn, s, rt.settings.chain_key)]
        assert streams and problems == [], (service, problems)


def test_the_stores_hold_the_personal_fields_sealed_from_the_first_write(story, system):
    _, s, _ = story
    stored = _bodies(system)
    for secret in (*s.lan.secrets, *s.binh.secrets[:2]):
        assert secret not in stored
    assert "sealed:v1:" in stored


def test_the_erasure_is_refused_to_other_roles_and_for_unknown_people(story):
    d, s, _ = story
    refused = d.post("registration", f"/people/{s.lan.id}/erasure", {"request_reference": "Đơn 1"},
                     role="unit_head", province=PROVINCE)
    assert refused.status == 403
    unknown = d.post("registration", "/people/khong-co-ai/erasure", {"request_reference": "Đơn 1"},
                     province=PROVINCE)
    assert unknown.status == 404 and "khong-co-ai" in unknown.body["message"]
    bad = d.post("registration", f"/people/{s.lan.id}/erasure", {}, province=PROVINCE)
    assert bad.status == 422 and "request_reference" in str(bad.body)
    assert d.get("registration", f"/people/{s.lan.id}/erasure", province=PROVINCE).status == 404


@pytest.fixture(scope="module")
def erased(story, system):
    d, s, counts = story
    reply = erase(d, s)
    assert reply["key_destroyed"] is True and reply["person_id"] == s.lan.id
    return d, s, counts, reply


def test_after_forget_every_read_path_shows_the_person_erased(erased):
    d, s, _, _ = erased
    after_erasure(d, s)
    assert d.get("registration", f"/people/{s.lan.id}/erasure", province=PROVINCE).body["erased_on"]
    again = d.post("registration", f"/people/{s.lan.id}/erasure", {"request_reference": "Đơn số 12/2024"},
                   province=PROVINCE)
    assert again.status == 409 and again.body["rule"] == "person.erase_once"


@pytest.mark.parametrize("report", ["proposals.csv", "proposals.xlsx"])
def test_the_campaign_reports_show_the_person_erased(erased, system, report):
    _, s, _, _ = erased
    web = create_app(load({}), client=InProcessServiceClient(system), clock=system.clock).test_client()
    r = web.get(f"/reports/campaigns/{s.campaign_id}/{report}", headers=token(provinces=(PROVINCE,)))
    assert r.status_code == 200, r.data[:300]
    text = r.data.decode("utf-8-sig") if report.endswith(".csv") else str(xlsx_tables(r.data))
    assert s.lan.name not in text and ERASED in text and s.binh.name in text


def test_every_chain_still_verifies_and_every_event_is_still_there(erased, system):
    _, _, counts, _ = erased
    _all_chains_verify(system)
    after = _counts(system)
    assert after["registration"] == counts["registration"] + 1  # the erasure event, no other change
    assert {k: v for k, v in after.items() if k != "registration"} == \
        {k: v for k, v in counts.items() if k != "registration"}


def test_the_erasure_event_carries_no_personal_data(erased, system):
    _, s, _, reply = erased
    with _rt(system, "registration").db.read() as conn:
        body = conn.execute(select(events.c.body).where(events.c.type == "registration.person.erased")).scalar_one()
    assert s.lan.id in body and "Đơn số 12/2024" in body
    assert not any(secret in body for secret in s.lan.secrets)


def test_the_stored_bytes_of_the_person_are_no_longer_readable_anywhere(erased, system):
    _, s, _, _ = erased
    for service in SERVICES:
        rt = _rt(system, service)
        with rt.db.read() as conn:
            opened = [e.event.data for e in rt.store.read_all(conn, limit=100000)]
        assert s.lan.name not in str(opened) and s.lan.phone not in str(opened)


def test_a_rebuild_of_every_service_keeps_the_person_erased(erased, system):
    d, s, _, _ = erased
    for service in SERVICES:
        rt = _rt(system, service)
        followed = {f: _rt(system, f).db for f in rt.spec.follows}
        spec = privacy.protected(rt.spec, rt.protector)
        Rebuild(rt.settings.database_url, spec, followed).run()
    seen = read_paths(d, s)
    assert not any(secret in seen for secret in s.lan.secrets[:2]) and s.binh.name in seen
    _all_chains_verify(system)


def test_a_repeated_erasure_destroys_a_key_brought_back_by_a_restored_key_store(erased, system):
    d, s, _, _ = erased
    keys = _rt(system, "registration").protector.keys
    with keys.store.db.write() as conn:  # as if the key store came back from a backup older than the erasure
        conn.execute(person_keys.update().where(person_keys.c.person_id == s.lan.id)
                     .values(wrapped=keys.store.master.wrap(PROVINCE, s.lan.id, b"k" * 32), erased_at=None))
    assert keys.state(PROVINCE, s.lan.id) == "active"
    again = d.post("registration", f"/people/{s.lan.id}/erasure", {"request_reference": "Đơn số 12/2024"},
                   province=PROVINCE)
    assert again.status == 409 and keys.state(PROVINCE, s.lan.id) == "erased"
