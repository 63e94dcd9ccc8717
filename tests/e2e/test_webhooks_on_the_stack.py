"""End to end: the demo province's integrator subscribes with its client-credentials token; the
events go through Tansu to the notifications worker and out over HTTP to a receiver that checks
their signatures. The receiver is down while they happen and the worker is killed meanwhile:
once both are back, every event arrives, in order per stream, and another province's never.

The real stack: Tansu, the issuer and the four services under gunicorn, their workers.
"""
import time

import pytest
import requests

from identity import demo
from shared import auth
from shared.stack import Stack
from tests.webhook_receiver import receiver

from services.notifications import webhooks

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack.on_free_ports(tmp_path_factory.mktemp("stack"),
                            extra_env={"WEBHOOK_BACKOFF_S": "0.2", "WEBHOOK_BACKOFF_CAP_S": "1",
                                       "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"})
    s.start()
    s.seed_demo()
    yield s
    s.stop()


def integrator_token(stack, scope="webhooks"):
    client = demo.CLIENTS[0]
    answer = requests.post(f"{stack.identity_url}/oauth/token", data={"grant_type": "client_credentials",
                                                                      "scope": scope},
                           auth=(client.client_id, client.secret), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def person_token(stack, username):
    answer = requests.post(f"{stack.identity_url}/oauth/token", timeout=10, data={
        "grant_type": "password", "client_id": demo.SIGN_IN_CLIENT, "username": username,
        "password": f"{username}-86"})
    return answer.json()["access_token"]


def call(stack, method, service, path, token, body=None):
    r = requests.request(method, stack.url(service) + path, json=body, timeout=15,
                         headers={"Authorization": f"Bearer {token}"})
    assert r.status_code in (200, 201, 204), (path, r.status_code, r.text)
    return r.json() if r.content else None


CAMPAIGN = {"title": "Dạy tốt, học tốt năm học 2026–2027", "kind": "yearly", "period_start": "2026-09-01",
            "period_end": "2027-05-31", "registration_deadline": "2027-01-31"}


def wait_for(what, done, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_events_reach_the_integrator_signed_in_order_through_an_outage_and_a_worker_kill(stack):
    token = integrator_token(stack)
    secret = webhooks.new_secret()
    with receiver(secret) as r:
        made = call(stack, "POST", "notifications", "/webhooks", token,
                    {"url": r.url, "event_types": ["registration.*"], "secret": secret})
        assert made["signing_secret"] == secret and made["province"] == demo.PROVINCE
        r.go_down()
        cid = call(stack, "POST", "registration", "/campaigns", person_token(stack, "hung.nv"), CAMPAIGN)["id"]
        rid = call(stack, "POST", "registration", f"/campaigns/{cid}/registrations", person_token(stack, "mai.tt"), {
            "participant": {"participant_id": "lan.ht", "kind": "individual", "individual_kind": "teacher",
                            "name": "Huỳnh Thị Lan", "unit": "Trường THPT Lưu Văn Liệt"},
            "pledges": [{"content": "Có sáng kiến được công nhận", "start": "2026-09-05", "end": "2027-05-31"}]})["id"]
        call(stack, "POST", "registration", f"/registrations/{rid}/withdrawal", person_token(stack, "hung.nv"),
             {"reason": "Chuyển công tác"})
        other = auth.mint(stack.secret, "so-83", "department", ["83"], name="Sở GD&ĐT", unit_level="department")
        call(stack, "POST", "registration", "/campaigns", other, CAMPAIGN)

        def seen():
            return call(stack, "GET", "notifications", f"/webhooks/{made['id']}/deliveries", token)

        # the campaign's and the registration's first event tried and refused; the withdrawal held back
        wait_for("two refused deliveries", lambda: len(seen()) == 3 and
                 sum(d["attempts"] >= 1 for d in seen()) == 2)
        refused = seen()
        held = next(d for d in refused if d["event_type"] == "registration.participant.withdrawn")
        assert held["attempts"] == 0
        assert any("ConnectionError" in (d["last_error"] or "") for d in refused)
        assert {d["status"] for d in refused} <= {"pending", "sending"}

        stack.kill("notifications-worker")  # SIGKILL: whatever it held in memory is gone
        r.come_back()
        stack.start_worker("notifications")
        wait_for("every event at the receiver", lambda: len(r.events) == 3)
        time.sleep(1.0)  # nothing more comes: not the other province's campaign, not a repeat
        shown = seen()

    assert r.rejected == []
    assert len(r.events) == 3 and {e["province"] for e in r.events} == {demo.PROVINCE}
    registration = [e for e in r.events if e["type"].startswith("registration.participant.")]
    assert [e["type"] for e in registration] == ["registration.participant.registered",
                                                 "registration.participant.withdrawn"]  # in their order
    assert [e["sequence"] for e in registration] == [1, 2]
    assert {d["status"] for d in shown} == {"delivered"} and all(d["last_status_code"] == 204 for d in shown)
