"""Webhooks on the bus, delivered over real HTTP to a receiver that checks every signature with
the ``standardwebhooks`` library: signed CloudEvents, retries through an outage, order per
stream, a final failure and its redrive, provinces kept apart, nothing lost by a restart."""
import json
import time
from ipaddress import ip_network
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared import config
from tests import scenarios as s
from tests.driver import InProcess
from tests.unit.conftest import SECRET, build_system, close_system
from tests.webhook_receiver import receiver

from services.notifications import webhooks
from services.notifications.webhook_net import NetworkPolicy
from services.notifications.webhook_sender import SenderSettings, WebhookSender
from services.notifications.webhooks import deliveries

P, OTHER = "83", "86"
# The receiver listens on 127.0.0.1, which webhooks may not reach unless the operator opens it.
LOOPBACK = NetworkPolicy(allowed=(ip_network("127.0.0.0/8"),))
INTEGRATOR = dict(role="service", subject="qlns-83", scope="webhooks")
FAST = SenderSettings(network=LOOPBACK, backoff_s=0.01, backoff_cap_s=0.05, max_attempts=50)


@pytest.fixture(autouse=True)
def loopback_opened(monkeypatch):
    """The operator's setting that lets subscriptions name the loopback receiver."""
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


@pytest.fixture
def db(system):
    return system.apps["notifications"].extensions["runtime"].db


def subscribe(d, url, types=("registration.*",), province=P, **body):
    return d.post("notifications", "/webhooks", {"url": url, "event_types": list(types), **body},
                  province=province, **INTEGRATOR)


def a_campaign_with_two_teachers(d, province=P):
    """Three streams: the campaign (1 event), registration A (registered, withdrawn), B (registered)."""
    campaign = s.launch(d, province, title="Dạy tốt, học tốt")
    a = s.ok(s.register(d, province, campaign["id"], s.individual("teacher", "Nguyễn Thị An"), on="2024-04-01"))
    b = s.ok(s.register(d, province, campaign["id"], s.individual("teacher", "Trần Văn Bình"), on="2024-04-02"))
    s.ok(d.post("registration", f"/registrations/{a['id']}/withdrawal", {"reason": "Chuyển công tác"},
                province=province))
    d.settle()
    return campaign, a, b


def rows(db, **where):
    with db.read() as conn:
        q = select(deliveries).order_by(deliveries.c.created_at)
        for k, v in where.items():
            q = q.where(deliveries.c[k] == v)
        return [dict(r) for r in conn.execute(q).mappings()]


def subject_of(db, event_type):
    return rows(db, event_type=event_type)[0]["stream"].split("/", 1)[1]


def deliver_until(sender, done, timeout_s=10.0):
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the deliveries did not arrive in time"
        sender.send_due()
        time.sleep(0.02)


def in_order_per_stream(events):
    streams = {}
    for e in events:
        streams.setdefault(e["subject"], []).append(e["sequence"])
    return all(seqs == sorted(seqs) and len(set(seqs)) == len(seqs) for seqs in streams.values())


# == subscribing ===================================================================================
def test_a_subscription_shows_its_generated_secret_once_and_receives_signed_cloudevents(d, db):
    with receiver("whsec_placeholder") as r:
        made = s.ok(subscribe(d, r.url))
        secret = made["signing_secret"]
        assert secret.startswith("whsec_") and webhooks.secret_problem(secret) is None
        r.secret = secret
        shown = s.ok(d.get("notifications", f"/webhooks/{made['id']}", province=P, **INTEGRATOR), 200)
        assert "signing_secret" not in shown and "secret" not in shown
        assert shown["province"] == P and shown["event_types"] == ["registration.*"]
        a_campaign_with_two_teachers(d)
        sender = WebhookSender(db, FAST)
        deliver_until(sender, lambda: len(r.events) == 4)
    assert r.rejected == []
    assert {e["type"] for e in r.events} == {"registration.campaign.launched", "registration.participant.registered",
                                             "registration.participant.withdrawn"}
    first, headers = r.events[0], r.headers[0]
    assert headers["content-type"].startswith("application/cloudevents+json")
    assert headers["webhook-id"] == first["id"]
    assert headers["webhook-signature"].startswith("v1,")
    assert first["specversion"] == "1.0" and first["province"] == P and "data" in first
    assert [x["status"] for x in rows(db)] == ["delivered"] * 4


def test_a_receiver_with_another_secret_refuses_every_delivery(d, db):
    with receiver(webhooks.new_secret()) as r:
        made = s.ok(subscribe(d, r.url, types=("registration.campaign.launched",)))
        s.launch(d, P, title="Thi đua")
        d.settle()
        WebhookSender(db, FAST).send_due()
    assert r.events == [] and r.rejected == ["No matching signature found"]
    (row,) = rows(db)
    assert row["status"] == "pending" and row["attempts"] == 1 and row["last_status_code"] == 401
    # and the same body verifies with the subscription's own secret
    when = datetime.now(timezone.utc)
    signature = Webhook(made["signing_secret"]).sign(row["event_id"], when, row["body"])
    headers = {"webhook-id": row["event_id"], "webhook-timestamp": str(int(when.timestamp())),
               "webhook-signature": signature}
    assert Webhook(made["signing_secret"]).verify(row["body"], headers)["id"] == row["event_id"]
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.new_secret()).verify(row["body"], headers)


@pytest.mark.parametrize("body, field, says", [
    ({"url": "ftp://he-thong.vinhlong.gov.vn/hook"}, "url", "http(s)"),
    ({"url": "http://he-thong.vinhlong.gov.vn/hook"}, "url", "https"),
    ({"url": "https://user:pw@he-thong.vinhlong.gov.vn/hook"}, "url", "mật khẩu"),
    ({"event_types": ["payroll.salary.paid"]}, "event_types", "không thuộc dịch vụ"),
    ({"event_types": ["awards"]}, "event_types", "dịch_vụ.đối_tượng.sự_việc"),
    ({"event_types": []}, "event_types", "Độ dài"),
    ({"secret": "not-a-secret"}, "secret", "whsec_"),
    ({"secret": "whsec_c2hvcnQ="}, "secret", "24 đến 64 byte"),
    ({"colour": "red"}, "colour", "không được hỗ trợ"),
])
def test_a_bad_subscription_is_refused_naming_the_field_in_vietnamese(d, db, body, field, says):
    full = {"url": "https://he-thong.vinhlong.gov.vn/hook", "event_types": ["awards.*"], **body}
    r = d.post("notifications", "/webhooks", full, province=P, **INTEGRATOR)
    assert r.status == 422, r
    assert says in str(r.body["errors"]["json"][field]), r.body
    with db.read() as conn:
        assert conn.execute(select(webhooks.subscriptions)).first() is None


def test_http_to_another_machine_is_allowed_only_when_configured(monkeypatch):
    assert webhooks.url_problem("http://10.0.0.5/hook", allow_http=False)
    assert webhooks.url_problem("http://127.0.0.1:9/hook", allow_http=False) is None
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "1")
    assert webhooks.url_problem("http://10.0.0.5/hook", allow_http=webhooks.allow_http()) is None


def test_only_an_integrator_with_the_webhooks_scope_subscribes(d):
    body = {"url": "https://he-thong.vinhlong.gov.vn/hook", "event_types": ["awards.*"]}
    r = d.post("notifications", "/webhooks", body, province=P, role="service", subject="qlns-83",
               scope="registration:read")
    assert r.status == 403 and r.body["rule"] == "webhooks.scope"
    assert d.post("notifications", "/webhooks", body, province=P, role="department").status == 403
    several = d.post("notifications", "/webhooks", body, province=(P, OTHER), **INTEGRATOR)
    assert several.status == 403 and "nhiều tỉnh" in several.body["message"]


# == outages, order, failure, redrive ==============================================================
def test_an_outage_is_retried_and_every_stream_arrives_in_order(d, db):
    with receiver("") as r:
        r.secret = s.ok(subscribe(d, r.url))["signing_secret"]
        r.go_down()
        a_campaign_with_two_teachers(d)
        sender = WebhookSender(db, FAST)
        sender.send_due()  # connection refused
        assert {x["status"] for x in rows(db)} == {"pending"}
        assert "ConnectionError" in rows(db, attempts=1)[0]["last_error"]
        r.come_back()
        r.failing = True  # up, but answering 500
        time.sleep(0.06)
        sender.send_due()
        assert 500 in {x["last_status_code"] for x in rows(db)}
        r.failing = False
        deliver_until(sender, lambda: len(r.events) == 4)
    assert in_order_per_stream(r.events), r.dump()
    assert r.rejected == []


def with_a_failing_stream(d, db, r):
    """Subscribed, three streams made, and registration A's events answered 500: (subscription, A)."""
    made = s.ok(subscribe(d, r.url))
    r.secret = made["signing_secret"]
    a_campaign_with_two_teachers(d)
    a = subject_of(db, "registration.participant.withdrawn")
    r.failing_subjects = {a}
    return made, a


def test_a_failing_event_holds_back_only_the_later_events_of_its_own_stream(d, db):
    with receiver("") as r:
        _, a = with_a_failing_stream(d, db, r)
        sender = WebhookSender(db, FAST)
        deliver_until(sender, lambda: len(r.events) == 2)  # the campaign and B
        for _ in range(3):
            sender.send_due()
            time.sleep(0.06)
        registered_a, withdrawn_a = rows(db, stream=f"registration/{a}")
        assert registered_a["attempts"] >= 2 and registered_a["last_status_code"] == 500
        assert withdrawn_a["attempts"] == 0 and withdrawn_a["status"] == "pending"  # never tried out of order
        r.failing_subjects = set()
        deliver_until(sender, lambda: len(r.events) == 4)
    assert r.of_stream(a) == [1, 2]


def test_a_delivery_that_keeps_failing_ends_failed_holds_its_stream_and_is_redriven(d, db):
    with receiver("") as r:
        made, a = with_a_failing_stream(d, db, r)
        sender = WebhookSender(db, SenderSettings(network=LOOPBACK, backoff_s=0.01, backoff_cap_s=0.02, max_attempts=3))
        deliver_until(sender, lambda: rows(db, status="failed"))
        for _ in range(3):
            sender.send_due()
            time.sleep(0.03)
        path = f"/webhooks/{made['id']}/deliveries"
        seen = s.ok(d.get("notifications", path, province=P, **INTEGRATOR), 200)
        (failed,) = [x for x in seen if x["status"] == "failed"]
        assert failed["attempts"] == 3 and failed["last_status_code"] == 500 and failed["next_attempt_at"] is None
        held = [x for x in seen if x["stream"] == f"registration/{a}" and x["sequence"] == 2]
        assert held[0]["status"] == "pending" and held[0]["attempts"] == 0
        assert s.ok(d.get("notifications", f"{path}?status=failed", province=P, **INTEGRATOR), 200) == [failed]
        delivered = next(x for x in seen if x["status"] == "delivered")
        again = d.post("notifications", f"{path}/{delivered['id']}/redrive", {}, province=P, **INTEGRATOR)
        assert again.status == 409 and again.body["rule"] == "webhooks.redrive_failed_only"
        r.failing_subjects = set()
        redriven = s.ok(d.post("notifications", f"{path}/{failed['id']}/redrive", {}, province=P, **INTEGRATOR), 200)
        assert redriven["status"] == "pending" and redriven["attempts"] == 0
        deliver_until(sender, lambda: len(r.events) == 4)
    assert r.of_stream(a) == [1, 2]


def test_redrive_all_sends_every_failed_delivery_again(d, db):
    with receiver("") as r:
        made = s.ok(subscribe(d, r.url))
        r.secret = made["signing_secret"]
        r.failing = True
        a_campaign_with_two_teachers(d)
        sender = WebhookSender(db, SenderSettings(network=LOOPBACK, backoff_s=0.01, backoff_cap_s=0.01, max_attempts=1))
        deliver_until(sender, lambda: len(rows(db, status="failed")) == 3)  # the three heads
        r.failing = False
        answer = s.ok(d.post("notifications", f"/webhooks/{made['id']}/redrive", {}, province=P, **INTEGRATOR), 200)
        assert answer == {"redriven": 3}
        deliver_until(sender, lambda: len(r.events) == 4)
    assert in_order_per_stream(r.events)


# == provinces, deletion, restarts ================================================================
def test_another_provinces_events_are_never_owed_nor_sent(d, db):
    with receiver("") as r:
        made = s.ok(subscribe(d, r.url))
        r.secret = made["signing_secret"]
        a_campaign_with_two_teachers(d, province=OTHER)
        s.launch(d, P, title="Thi đua của tỉnh 83")
        d.settle()
        deliver_until(WebhookSender(db, FAST), lambda: len(r.events) == 1)
    assert [e["province"] for e in r.events] == [P]
    assert {x["province"] for x in rows(db)} == {P}
    # an integrator of the other province does not see it, nor one of the same province under another name
    assert d.get("notifications", f"/webhooks/{made['id']}", province=OTHER, **INTEGRATOR).status == 404
    other_client = {**INTEGRATOR, "subject": "vnedu-83"}
    assert d.get("notifications", f"/webhooks/{made['id']}", province=P, **other_client).status == 404
    assert s.ok(d.get("notifications", "/webhooks", province=P, **other_client), 200) == []


def test_an_unsubscribed_webhook_is_owed_nothing_more(d, db, system):
    with receiver("") as r:
        made = s.ok(subscribe(d, r.url))
        r.go_down()
        s.launch(d, P, title="Thi đua")
        d.settle()
        gone = system.client("notifications").delete(f"/webhooks/{made['id']}", headers=d.token(province=P, **INTEGRATOR))
        assert gone.status_code == 204
        s.launch(d, P, title="Thi đua nữa")
        d.settle()
    assert [x["status"] for x in rows(db)] == ["cancelled"]
    assert d.get("notifications", f"/webhooks/{made['id']}", province=P, **INTEGRATOR).status == 404


def test_a_restarted_sender_loses_nothing_and_resends_what_a_dead_one_had_claimed(d, db):
    with receiver("") as r:
        r.secret = s.ok(subscribe(d, r.url))["signing_secret"]
        a_campaign_with_two_teachers(d)
        dead = WebhookSender(db, FAST)
        now = datetime.now(timezone.utc)
        claimed = webhooks_due(db, now)
        assert all(dead._claim(x, now) for x in claimed)  # then the process dies mid-send
        restarted = WebhookSender(db, FAST)
        assert restarted.send_due(now) == 0  # the claims are still leased
        later = now + FAST.lease + timedelta(seconds=1)
        deadline = time.monotonic() + 10
        while len(r.events) < 4 and time.monotonic() < deadline:
            restarted.send_due(later)
            later += timedelta(seconds=1)
    assert len(r.events) == 4 and in_order_per_stream(r.events)
    assert len({e["id"] for e in r.events}) == 4


def webhooks_due(db, now):
    with db.read() as conn:
        return webhooks.due(conn, now)


def test_a_redelivered_event_is_owed_once(d, db, system):
    s.ok(subscribe(d, "https://he-thong.vinhlong.gov.vn/hook"))
    s.launch(d, P, title="Thi đua")
    d.settle()
    (row,) = rows(db)
    event = webhooks_event(row)
    with db.write() as conn:
        webhooks.fan_out(conn, event)
    assert len(rows(db)) == 1


def webhooks_event(row):
    from shared import envelope
    return envelope.decode(row["body"].encode())


def test_the_openapi_document_describes_the_webhook_routes(system):
    doc = system.client("notifications").get("/openapi.json").get_json()
    assert {"/webhooks", "/webhooks/{webhook_id}", "/webhooks/{webhook_id}/deliveries",
            "/webhooks/{webhook_id}/deliveries/{delivery_id}/redrive", "/webhooks/{webhook_id}/redrive"} <= set(doc["paths"])
    assert "signing_secret" in doc["components"]["schemas"]["NewWebhook"]["properties"]
    assert "secret" not in doc["components"]["schemas"]["WebhookDelivery"]["properties"]


def test_the_receiver_example_of_the_integrators_guide_checks_signatures(monkeypatch):
    """The guide's Flask receiver, run as written, against what the sender signs."""
    from pathlib import Path

    from services.notifications.webhook_sender import signed_headers
    guide = (Path(__file__).parents[2] / "README.md").read_text().split("\n## Integrators\n", 1)[1]
    example = guide.split("### Checking the signature", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    secret = webhooks.new_secret()
    monkeypatch.setenv("THIDUA_WEBHOOK_SECRET", secret)
    namespace = {"__name__": "receiver_example"}
    exec(compile(example, "README.md", "exec"), namespace)
    client = namespace["app"].test_client()
    body = '{"data":{},"id":"e-1","province":"86","sequence":1,"subject":"s","type":"awards.award.decided"}'
    now = datetime.now(timezone.utc)
    assert client.post("/thidua/events", data=body, headers=signed_headers(secret, "e-1", body, now)).status_code == 204
    assert namespace["seen"] == {"e-1"}
    forged = signed_headers(webhooks.new_secret(), "e-1", body, now)
    assert client.post("/thidua/events", data=body, headers=forged).status_code == 401
    altered = body.replace('"86"', '"83"')
    assert client.post("/thidua/events", data=altered, headers=signed_headers(secret, "e-1", body, now)).status_code == 401
    stale = signed_headers(secret, "e-1", body, now - timedelta(minutes=10))
    assert client.post("/thidua/events", data=body, headers=stale).status_code == 401


def test_an_event_notifications_cannot_project_is_still_owed_to_the_webhooks(d, db, system):
    """A projection that fails sends its event to the dead letters; the integrators still get it."""
    s.ok(subscribe(d, "https://he-thong.vinhlong.gov.vn/hook", types=("registration.campaign.launched",)))
    consumer = system.consumers["notifications"]

    def broken(conn, event):
        raise RuntimeError("the inbox is broken")
    consumer.handlers = {**consumer.handlers, "registration.campaign.launched": broken}
    consumer.retry_backoff_s = 0
    s.launch(d, P, title="Thi đua")
    d.settle()
    assert consumer.dead_lettered == 1
    (row,) = rows(db)
    assert row["event_type"] == "registration.campaign.launched" and row["status"] == "pending"


@pytest.mark.postgres
def test_on_postgresql_a_failed_head_holds_its_stream_until_redriven(tmp_path, fresh_pg_database):
    """The same order and redrive with notifications' database on PostgreSQL (its own timestamps,
    its own planner for the held-back query, the subscriptions read once per transaction)."""
    pg = fresh_pg_database("webhooks")

    def settings_for(name):
        env = {"JWT_SECRET": SECRET, "DATA_DIR": str(tmp_path)}
        return config.load(name, {**env, "DATABASE_URL": pg} if name == "notifications" else env)
    system = build_system(settings_for=settings_for)
    try:
        d, db = InProcess(system, SECRET), system.apps["notifications"].extensions["runtime"].db
        s.launch(d, P, title="Trước khi đăng ký webhook")  # read the province's subscriptions: none yet
        d.settle()
        with receiver("") as r:
            made, a = with_a_failing_stream(d, db, r)
            assert len(rows(db)) == 4  # what came after the subscription, all of it
            sender = WebhookSender(db, SenderSettings(network=LOOPBACK, backoff_s=0.01, backoff_cap_s=0.02, max_attempts=2))
            deliver_until(sender, lambda: len(r.events) == 2 and rows(db, status="failed"))
            assert [x["attempts"] for x in rows(db, stream=f"registration/{a}")] == [2, 0]
            r.failing_subjects = set()
            failed = rows(db, status="failed")[0]
            s.ok(d.post("notifications", f"/webhooks/{made['id']}/deliveries/{failed['id']}/redrive", {},
                        province=P, **INTEGRATOR), 200)
            deliver_until(sender, lambda: len(r.events) == 4)
        assert r.of_stream(a) == [1, 2] and r.rejected == []
    finally:
        close_system(system)


def test_the_deliveries_are_listed_newest_first_and_limited(d, db):
    made = s.ok(subscribe(d, "https://he-thong.vinhlong.gov.vn/hook"))
    a_campaign_with_two_teachers(d)
    path = f"/webhooks/{made['id']}/deliveries"
    newest = s.ok(d.get("notifications", f"{path}?limit=1", province=P, **INTEGRATOR), 200)
    assert [x["id"] for x in newest] == [rows(db)[-1]["id"]]  # the last one owed
    assert len(s.ok(d.get("notifications", path, province=P, **INTEGRATOR), 200)) == 4
    too_many = d.get("notifications", f"{path}?limit=5000", province=P, **INTEGRATOR)
    assert too_many.status == 422 and "limit" in too_many.body["errors"]["query"]


# == personal data ===================================================================================
def test_names_are_sent_as_the_apis_show_them_and_erased_when_the_person_was_erased_meanwhile(d, db, system):
    """The store and the topic hold a person's name sealed; the province's integrator gets it
    opened, as the services' own APIs show it, and, for a delivery that waited while the person
    was erased, the erased marker: never the ciphertext, never the name after the erasure."""
    from shared.privacy.personal import ERASED
    protector = system.apps["notifications"].extensions["runtime"].protector
    assert protector is not None, "the unit systems seal personal fields, as production does"
    with receiver(webhooks.new_secret()) as r:
        made = s.ok(subscribe(d, r.url, types=("registration.participant.registered",)))
        r.secret = made["signing_secret"]
        campaign = s.launch(d, P, title="Dạy tốt, học tốt")
        an = s.ok(s.register(d, P, campaign["id"], s.individual("teacher", "Nguyễn Thị An"), on="2024-04-01"))
        d.settle()
        (owed,) = rows(db)
        assert "Nguyễn Thị An" not in owed["body"] and "sealed:v1:" in owed["body"]  # owed as stored
        sender = WebhookSender(db, FAST, protector)
        deliver_until(sender, lambda: len(r.events) == 1)
        binh = s.individual("teacher", "Trần Văn Bình")
        s.ok(s.register(d, P, campaign["id"], binh, on="2024-04-02"))
        d.settle()
        s.ok(d.post("registration", f"/people/{binh['participant_id']}/erasure",
                    {"request_reference": "Đơn số 3/2024"}, province=P))
        d.settle()
        deliver_until(sender, lambda: len(r.events) == 2)
    assert r.rejected == []
    first, second = (json.dumps(e, ensure_ascii=False) for e in r.events)
    assert "Nguyễn Thị An" in first and an["id"] in first
    assert ERASED in second and binh["participant_id"] in second
    assert "Trần Văn Bình" not in second and "sealed:v1:" not in first + second
