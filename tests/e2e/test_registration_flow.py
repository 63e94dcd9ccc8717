"""End to end: a registration made over HTTP reaches the three other services' projections.

The real stack: Tansu, the four services under gunicorn, their worker processes.
"""
import time

import pytest
import requests

from shared import auth
from shared.stack import Stack
from tests.driver import OverHttp

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack.on_free_ports(tmp_path_factory.mktemp("stack"))
    s.start()
    yield s
    s.stop()


def _headers(stack, province="83", role="department", subject="e2e-user"):
    """The department of Bến Tre: its token names who launches and registers."""
    return {"Authorization": "Bearer " + auth.mint(stack.secret, subject, role, [province],
                                                   name="Sở GD&ĐT Bến Tre", unit_level="department")}


def _until(fetch, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = fetch()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def test_a_registration_reaches_evaluation_awards_and_notifications(stack):
    h = _headers(stack)
    campaign = requests.post(stack.url("registration") + "/campaigns", headers=h, json={
        "title": "Phong trào thi đua «Dạy tốt, học tốt» năm học 2024–2025", "kind": "yearly",
        "period_start": "2024-01-01",
        "period_end": "2025-10-31", "registration_deadline": "2099-05-01"})
    assert campaign.status_code == 201, campaign.text
    cid = campaign.json()["id"]
    reg = requests.post(f"{stack.url('registration')}/campaigns/{cid}/registrations", headers=h, json={
        "participant": {"participant_id": "gv-001", "kind": "individual", "individual_kind": "teacher",
                        "name": "Trần Thị Bích", "unit": "Trường THPT Chuyên Bến Tre"},
        "pledges": [{"content": "Đạt danh hiệu Chiến sĩ thi đua cơ sở", "start": "2024-09-01",
                     "end": "2025-05-31"}]})
    assert reg.status_code == 201, reg.text
    rid = reg.json()["id"]

    candidate = _until(lambda: (r := requests.get(f"{stack.url('evaluation')}/candidates/{rid}", headers=h))
                       .status_code == 200 and r.json())
    assert candidate["name"] == "Trần Thị Bích" and candidate["status"] == "awaiting_evaluation"

    participants = _until(lambda: requests.get(
        f"{stack.url('awards')}/campaigns/{cid}/participants", headers=h).json())
    assert [p["registration_id"] for p in participants] == [rid]

    teacher = _headers(stack, role="participant", subject="gv-001")  # an inbox is its recipient's
    inbox = _until(lambda: [m for m in requests.get(f"{stack.url('notifications')}/inbox",
                                                    headers=teacher).json()
                            if m["event_type"] == "registration.participant.registered"])
    assert len(inbox) == 1 and "Dạy tốt, học tốt" in inbox[0]["body"]
    for other in (_headers(stack, role="participant", subject="gv-002"), h):  # another teacher, the department
        refused = requests.get(f"{stack.url('notifications')}/inbox/gv-001", headers=other)
        assert refused.status_code == 403 and refused.json()["rule"] == "notifications.inbox_reader", refused.text


def test_another_province_sees_none_of_it(stack):
    h83, h52 = _headers(stack, "83"), _headers(stack, "52")
    cid = requests.post(stack.url("registration") + "/campaigns", headers=h83, json={
        "title": "Thi đua riêng của Bến Tre", "kind": "thematic",
        "period_start": "2024-01-01", "period_end": "2024-12-31",
        "registration_deadline": "2099-01-01"}).json()["id"]
    assert requests.get(f"{stack.url('registration')}/campaigns/{cid}", headers=h52).status_code == 404
    refused = requests.post(f"{stack.url('registration')}/campaigns/{cid}/registrations", headers=h52, json={
        "participant": {"participant_id": "x", "kind": "collective", "name": "Trường X", "unit": "Trường X"},
        "pledges": [{"content": "Tập thể lao động xuất sắc", "start": "2024-01-01", "end": "2024-12-31"}]})
    assert refused.status_code == 404


def test_every_service_is_healthy_ready_and_documented(stack):
    for service in ("registration", "evaluation", "awards", "notifications"):
        assert requests.get(stack.url(service) + "/health").json()["status"] == "ok"
        assert requests.get(stack.url(service) + "/ready").json()["checks"] == {
            "database": "ok", "broker": "ok"}
        spec = requests.get(stack.url(service) + "/openapi.json").json()
        assert spec["openapi"].startswith("3.") and spec["paths"]


def test_stopping_and_starting_again_loses_nothing_and_applies_nothing_twice(stack):
    h = _headers(stack)
    cid = requests.post(stack.url("registration") + "/campaigns", headers=h, json={
        "title": "Thi đua trước khi khởi động lại", "kind": "yearly",
        "period_start": "2024-01-01", "period_end": "2025-10-31",
        "registration_deadline": "2099-05-01"}).json()["id"]
    before = requests.post(f"{stack.url('registration')}/campaigns/{cid}/registrations", headers=h, json={
        "participant": {"participant_id": "gv-restart", "kind": "individual", "individual_kind": "teacher",
                        "name": "Lê Thị Thu", "unit": "Trường THCS Ba Tri"},
        "pledges": [{"content": "Lao động tiên tiến", "start": "2024-09-01", "end": "2025-05-31"}]}).json()["id"]
    assert _until(lambda: requests.get(f"{stack.url('evaluation')}/candidates/{before}", headers=h).status_code == 200)
    stack.stop()
    stack.start()  # same data folder, a new in-memory broker: the relays republish, consumers skip duplicates
    after = requests.post(f"{stack.url('registration')}/campaigns/{cid}/registrations", headers=h, json={
        "participant": {"participant_id": "gv-restart-2", "kind": "individual", "individual_kind": "teacher",
                        "name": "Lê Văn Nam", "unit": "Trường THCS Ba Tri"},
        "pledges": [{"content": "Lao động tiên tiến", "start": "2024-09-01", "end": "2025-05-31"}]}).json()["id"]
    assert _until(lambda: requests.get(f"{stack.url('evaluation')}/candidates/{after}", headers=h).status_code == 200)
    OverHttp(stack).settle()  # everything republished has been consumed again
    candidates = requests.get(f"{stack.url('evaluation')}/campaigns/{cid}/candidates", headers=h).json()
    assert sorted(c["registration_id"] for c in candidates) == sorted([before, after])
    inbox = requests.get(f"{stack.url('notifications')}/inbox/gv-restart",
                         headers=_headers(stack, role="participant", subject="gv-restart")).json()
    assert len(inbox) == 1  # the republished registration did not notify twice


def test_every_service_under_gunicorn_serves_an_asyncapi_document_the_parser_takes(stack, tmp_path):
    from tests.contract.test_asyncapi import parse
    files = []
    for service in ("registration", "evaluation", "awards", "notifications"):
        r = requests.get(stack.url(service) + "/asyncapi.json", timeout=10)  # no token: it is documentation
        assert r.status_code == 200, r.text
        assert r.json()["operations"][f"send.{service}"]["action"] == "send"
        files.append(tmp_path / f"{service}.json")
        files[-1].write_bytes(r.content)
    status, diagnostics = parse(*files)
    assert status == 0 and not [d for d in diagnostics if d["severity"] in (0, 1)], diagnostics
