"""Notifications: inboxes filled from every event that concerns someone, reminders,
e-mail over a real SMTP server (aiosmtpd), and the public list."""
from datetime import date, datetime, timedelta, timezone

import email
import email.policy

import pytest
from sqlalchemy import select

from shared.broker import free_port
from shared.eventstore import processed_events
from tests import scenarios as s
from tests.driver import InProcess
from tests.smtp import smtp_server
from tests.unit.conftest import SECRET

from services.notifications.background import MailSettings, Mailer, Reminders
from services.notifications.projections import deliveries


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


@pytest.fixture
def notifications_rt(system):
    return system.apps["notifications"].extensions["runtime"]


@pytest.fixture(name="smtp_server")
def a_real_smtp_server():
    with smtp_server() as served:
        yield served


def read_inbox(d, recipient, province="83"):
    """The inbox as its recipient reads it (a role's mailbox: as that role of the province)."""
    role, _, rest = recipient.partition(":")
    as_reader = {"council": dict(role="council"), "province": dict(role="department"),
                 "authority": dict(role="authority", authority=rest.partition(":")[0])}.get(
        role, dict(role="participant", subject=recipient))
    return s.ok(d.get("notifications", f"/inbox/{recipient}", province=province, **as_reader), 200)


def titles(d, recipient, province="83"):
    return [m["title"] for m in read_inbox(d, recipient, province)]


def a_nominated_teacher(d, province="83"):
    campaign = s.launch(d, province, title="Thi đua dạy tốt", issuer="Sở GD&ĐT",
                        deadlines={"nominations": "2024-06-30"})
    teacher = s.individual("teacher", "Nguyễn Thị Lan")
    rid = s.ok(s.register(d, province, campaign["id"], teacher, on="2024-04-01"))["id"]
    s.criteria_set(d, province, "cs-gv", "Giáo viên", ["teacher"], [
        {"code": "sang_kien", "label": "Có sáng kiến", "kind": "quantitative", "metric": "initiatives",
         "comparison": ">=", "threshold": 1}], "Kế hoạch")
    d.settle()
    s.ok(s.evaluate(d, province, rid, "cs-gv", {"sang_kien": 2}))
    d.settle()
    nomination = s.ok(s.nominate(d, province, campaign["id"], rid, "giay_khen", on="2024-06-01",
                                 submitted_to="department"))
    d.settle()
    return campaign, teacher, nomination


def test_a_participant_is_told_of_every_step_that_concerns_them(d):
    campaign, teacher, nomination = a_nominated_teacher(d)
    s.ok(s.appraise(d, "83", nomination["id"], "returned", "Thiếu báo cáo thành tích có xác nhận"))
    d.settle()
    assert "Hồ sơ đề nghị khen thưởng được trả lại để hoàn thiện" in titles(d, teacher["participant_id"])
    assert "Hồ sơ đề nghị khen thưởng được trả lại để hoàn thiện" in titles(d, "tester")  # the proposer
    s.ok(d.post("awards", f"/nominations/{nomination['id']}/resubmission",
                {"dossier": {"submission_letter": "TTr 2", "achievement_report": "Báo cáo có xác nhận"}},
                role="unit_head", unit=teacher["unit_id"]))
    s.ok(s.appraise(d, "83", nomination["id"]))
    s.ok(s.decide(d, "83", nomination["id"], "77/QĐ-SGDĐT", "2024-07-01", level="department",
                  issuer="Giám đốc Sở GD&ĐT"))
    d.settle()
    got = titles(d, teacher["participant_id"])
    for expected in ("Đăng ký thi đua đã được ghi nhận", "Kết quả bình xét thi đua", "Đã được đề nghị khen thưởng",
                     "Hồ sơ đề nghị khen thưởng đã được thẩm định đạt", "Quyết định khen thưởng"):
        assert expected in got
    [decision] = [m for m in read_inbox(d, teacher["participant_id"]) if m["title"] == "Quyết định khen thưởng"]
    assert "77/QĐ-SGDĐT" in decision["body"] and "01/07/2024" in decision["body"]
    assert "Hồ sơ đề nghị khen thưởng chờ thẩm định" in titles(d, "council:83")


def test_the_public_list_shows_nominations_under_appraisal_then_decided_awards(d, system):
    campaign, teacher, nomination = a_nominated_teacher(d)
    public = system.client("notifications").get(f"/public/83/commendations?campaign_id={campaign['id']}").get_json()
    assert [p["name"] for p in public["under_appraisal"]] == ["Nguyễn Thị Lan"] and public["decided"] == []
    s.ok(s.appraise(d, "83", nomination["id"]))
    s.ok(s.decide(d, "83", nomination["id"], "78/QĐ-SGDĐT", "2024-07-01", level="department", issuer="Giám đốc Sở"))
    d.settle()
    public = system.client("notifications").get("/public/83/commendations").get_json()
    assert public["under_appraisal"] == []
    assert [(p["name"], p["decision_number"]) for p in public["decided"]] == [("Nguyễn Thị Lan", "78/QĐ-SGDĐT")]
    assert system.client("notifications").get("/public/52/commendations").get_json()["decided"] == []


def test_a_deadline_reminder_is_sent_once_per_bucket(d, notifications_rt):
    s.launch(d, "83", title="Phong trào có hạn", issuer="Sở GD&ĐT", registration_deadline="2024-04-30",
             deadlines={"nominations": "2024-05-18"})
    s.ok(d.post("notifications", "/reminder-settings", {"days_before": [5, 2]}))
    d.settle()
    reminders = Reminders(notifications_rt.db, notifications_rt.store, [7, 3, 1])
    assert reminders.send_due(date(2024, 4, 20)) == 0  # ten days before: nothing yet
    assert reminders.send_due(date(2024, 4, 26)) == 1  # four days before registration closes
    assert reminders.send_due(date(2024, 4, 27)) == 0  # same bucket: already told
    assert reminders.send_due(date(2024, 4, 29)) == 1  # one day before: the 2-day bucket
    assert reminders.send_due(date(2024, 5, 16)) == 1  # two days before nominations close
    items = read_inbox(d, "province:83")
    bodies = [m["body"] for m in items if m["title"] == "Sắp đến hạn"]
    assert len(bodies) == 3 and any("hạn đề nghị khen thưởng (18/05/2024)" in b for b in bodies)


def test_emails_are_sent_over_smtp_to_recipients_with_an_address(d, notifications_rt, smtp_server):
    controller, received = smtp_server
    teacher = s.individual("teacher", "Trần Văn Hải")
    s.ok(d.post("notifications", "/recipients", {"id": teacher["participant_id"], "name": teacher["name"],
                                                 "email": "hai@truong.edu.vn"},
                role="participant", subject=teacher["participant_id"]))  # their own address
    campaign = s.launch(d, "83", title="Thi đua", issuer="Sở GD&ĐT")
    s.ok(s.register(d, "83", campaign["id"], teacher, on="2024-04-01"))
    d.settle()
    mailer = Mailer(notifications_rt.db, MailSettings(host="127.0.0.1", port=controller.port))
    assert mailer.send_due() == 1
    assert [m.rcpt_tos for m in received.messages] == [["hai@truong.edu.vn"]]
    message = email.message_from_bytes(received.messages[0].content, policy=email.policy.default)
    assert message["Subject"] == "Đăng ký thi đua đã được ghi nhận"
    assert "Trần Văn Hải" in message.get_content()
    assert mailer.send_due() == 0  # sent once


def test_failed_emails_are_retried_with_back_off_then_shown_as_failed(d, notifications_rt, smtp_server, system):
    controller, received = smtp_server
    s.ok(d.post("notifications", "/recipients", {"id": "province:83", "name": "Các đơn vị", "email": "so@gd.vn"}))
    s.launch(d, "83", title="Thi đua", issuer="Sở GD&ĐT")
    d.settle()
    down = Mailer(notifications_rt.db, MailSettings(host="127.0.0.1", port=free_port(), max_attempts=3,
                                                    backoff_s=10))
    now = datetime.now(timezone.utc)
    assert down.send_due(now) == 0
    assert down.send_due(now + timedelta(seconds=5)) == 0  # backing off: not tried again yet
    with notifications_rt.db.read() as conn:
        row = conn.execute(select(deliveries)).mappings().one()
    assert row["status"] == "pending" and row["attempts"] == 1 and "ConnectionRefused" in row["last_error"]
    down.send_due(now + timedelta(seconds=11))
    down.send_due(now + timedelta(seconds=40))
    failed = s.ok(d.get("notifications", "/deliveries?status=failed"), 200)
    assert len(failed) == 1 and failed[0]["attempts"] == 3
    s.ok(d.post("notifications", f"/deliveries/{failed[0]['id']}/retry", {}, role="operator"), 200)
    up = Mailer(notifications_rt.db, MailSettings(host="127.0.0.1", port=controller.port))
    assert up.send_due() == 1 and len(received.messages) == 1
    assert s.ok(d.get("notifications", "/deliveries?status=sent"), 200)[0]["attempts"] == 1


def test_reminders_go_by_the_servers_date_in_vietnam(d, notifications_rt):
    s.launch(d, "83", title="Phong trào nhắc theo giờ máy chủ", issuer="Sở GD&ĐT", registration_deadline="2024-04-30")
    d.settle()
    reminders = Reminders(notifications_rt.db, notifications_rt.store, [3], notifications_rt.clock)
    d.at("2024-04-26T17:30:00Z")  # 26/04 in UTC, already 27/04 in Hà Nội: three days before the deadline
    assert reminders.send_due() == 1
    [reminder] = [m for m in read_inbox(d, "province:83") if m["title"] == "Sắp đến hạn"]
    assert "Còn 3 ngày" in reminder["body"] and reminder["created_at"].startswith("2024-04-26T17:30")


def test_a_deadline_reminder_is_caused_by_the_campaign_event_it_reminds_of(d, notifications_rt):
    campaign = s.launch(d, "83", title="Phong trào có hạn", issuer="Sở GD&ĐT", registration_deadline="2024-04-30")
    d.settle()
    assert Reminders(notifications_rt.db, notifications_rt.store, [7, 3, 1]).send_due(date(2024, 4, 28)) == 1
    with notifications_rt.db.read() as conn:
        [reminded] = [e for e in notifications_rt.store.read_all(conn) if e.event.type == "notifications.deadline.reminded"
                      and e.event.data["campaign_id"] == campaign["id"]]
        [launched] = conn.execute(select(processed_events.c.event_id).where(
            processed_events.c.event_type == "registration.campaign.launched",
            processed_events.c.correlation_id == f"campaign-{campaign['id']}")).scalars().all()
    assert reminded.event.causationid == launched
    assert reminded.event.correlationid == f"campaign-{campaign['id']}"
