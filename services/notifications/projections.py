"""Notifications' read model: inboxes, the public list (công khai), e-mail deliveries.

Every followed event that concerns someone becomes one inbox item per recipient
(unique per recipient and event, so a redelivery adds nothing); a recipient with an
e-mail address in the directory also gets a delivery row, sent by the mailer.
"""
import json
import uuid
from datetime import date, datetime, timezone

from sqlalchemy import (Column, Connection, Date, DateTime, Integer, MetaData, String, Table, Text,
                        UniqueConstraint, bindparam, select, update)

from shared.db import DriverStatement, insert_row
from shared.envelope import Envelope
from shared.orgchart import OrgChart

metadata = MetaData()
orgchart = OrgChart(metadata)  # the units this service has seen, for unit heads' scope

campaigns = Table(
    "campaigns", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("title", String(500), nullable=False),
    Column("deadlines", Text, nullable=False),
)

inbox = Table(
    "inbox", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("recipient", String(120), nullable=False, index=True),
    Column("event_id", String(36), nullable=False, index=True),  # whom a case's event notified (its audit)
    Column("event_type", String(200), nullable=False),
    Column("title", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("recipient", "event_id", name="uq_inbox_recipient_event"),
)

recipients = Table(
    "recipients", metadata,
    Column("id", String(120), primary_key=True),
    Column("province", String(16), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("email", String(300), nullable=True),
)

nominations = Table(  # what notifications needs to address the later steps of a nomination
    "nominations", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False),
    Column("proposer", String(120), nullable=False),
    Column("participant_id", String(100), nullable=False),
    Column("award_name", String(300), nullable=False),
    Column("name", String(300), nullable=False),
)

publications = Table(
    "publications", metadata,
    Column("nomination_id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("campaign_id", String(36), nullable=True, index=True),
    Column("campaign_title", String(500), nullable=True),
    Column("name", String(300), nullable=False),
    Column("unit", String(300), nullable=False),
    Column("participant_kind", String(20), nullable=False),
    Column("award_name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("decision_number", String(100), nullable=True),
    Column("decision_date", Date, nullable=True),
    Column("issuer", String(300), nullable=True),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("recipient", String(120), nullable=False),
    Column("email", String(300), nullable=False),
    Column("subject", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(20), nullable=False, index=True),  # pending, sent, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
)

reminders = Table(
    "reminders", metadata,
    Column("key", String(200), primary_key=True),  # campaign:deadline:days
    Column("province", String(16), nullable=False),
    Column("sent_on", Date, nullable=False),
)

people = Table(  # the units a person belongs to, for the unit heads who read their inbox
    "people", metadata,
    Column("province", String(16), primary_key=True),
    Column("person_id", String(120), primary_key=True),
    Column("unit_id", String(100), primary_key=True),
)

reminder_settings = Table(
    "reminder_settings", metadata,
    Column("province", String(16), primary_key=True),
    Column("days_before", String(100), nullable=False),
)

LEVELS = {"prime_minister": "Thủ tướng Chính phủ", "minister": "Bộ trưởng", "province": "Chủ tịch UBND tỉnh",
          "department": "Giám đốc Sở GD&ĐT", "district": "Chủ tịch UBND cấp huyện",
          "commune": "Chủ tịch UBND cấp xã", "school": "Hiệu trưởng"}


def province_recipient(province: str) -> str:
    return f"province:{province}"


def council_recipient(province: str) -> str:
    return f"council:{province}"


def authority_recipient(province: str, level: str) -> str:
    return f"authority:{level}:{province}"


def vn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


_EMAIL_OF = DriverStatement(select(recipients.c.email).where(recipients.c.id == bindparam("id"),
                                                             recipients.c.province == bindparam("province")))


def deliver(conn: Connection, event: Envelope, recipient: str, title: str, body: str) -> None:
    """One inbox item, and an e-mail if the recipient has an address."""
    # the id follows from the event and the recipient, so a rebuilt inbox is the same inbox
    item_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"thidua:inbox:{event.id}:{recipient}"))
    insert_row(conn, inbox, dict(id=item_id, province=event.province, recipient=recipient, event_id=event.id,
                                 event_type=event.type, title=title, body=body, created_at=event.time))
    email = next(iter(_EMAIL_OF.scalars(conn, {"id": recipient, "province": event.province})), None)
    if email:
        conn.execute(deliveries.insert(), dict(
            id=str(uuid.uuid4()), province=event.province, recipient=recipient, email=email, subject=title,
            body=body, status="pending", attempts=0, next_attempt_at=datetime.now(timezone.utc)))


def notified(conn: Connection, event_ids: list[str], provinces: list[str]) -> list[dict]:
    """The inbox items told of these events, in the provinces visible: a case's audit shows them."""
    rows = conn.execute(select(inbox).where(inbox.c.event_id.in_(event_ids), inbox.c.province.in_(provinces))
                        .order_by(inbox.c.created_at)).mappings()
    return [{"event_id": r["event_id"], "recipient": r["recipient"], "title": r["title"],
             "at": r["created_at"].isoformat()} for r in rows]


# -- registration -----------------------------------------------------------------------------
def on_campaign_launched(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(campaigns.insert(), dict(id=d["campaign_id"], province=event.province, title=d["title"],
                                          deadlines=json.dumps(d.get("deadlines") or
                                                                {"registration": d["registration_deadline"]})))
    deliver(conn, event, province_recipient(event.province), "Phát động phong trào thi đua",
            f"{d['issuer']} phát động phong trào «{d['title']}»; hạn đăng ký thi đua "
            f"{vn_date(d['registration_deadline'])}.")


def _belongs(conn: Connection, province: str, person_id: str, unit_id: str | None) -> None:
    """The person is of that unit (registered in it, or added as a member): once, however often said.
    (Two consumers saying it at once: the second one's insert fails, and its retry finds the row.)"""
    row = dict(province=province, person_id=person_id, unit_id=unit_id)
    if unit_id and not conn.execute(select(people.c.unit_id).where(
            *(people.c[k] == v for k, v in row.items()))).first():
        conn.execute(people.insert(), row)


def on_participant_registered(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    _belongs(conn, event.province, p["participant_id"], p.get("unit_id"))
    # The event carries the campaign's title: events of two streams may arrive in either order.
    title = d.get("campaign_title") or d["campaign_id"]
    late = " (đăng ký muộn)" if d["late"] else ""
    deliver(conn, event, p["participant_id"], "Đăng ký thi đua đã được ghi nhận",
            f"Đăng ký thi đua của {p['name']} ({p['unit']}) cho phong trào «{title}» đã được ghi nhận{late}, "
            f"gồm {len(d['pledges'])} nội dung thi đua.")


def on_participant_withdrawn(conn: Connection, event: Envelope) -> None:
    d = event.data
    deliver(conn, event, d["participant_id"], "Đã rút đăng ký thi đua", f"Đăng ký thi đua đã được rút: {d['reason']}")


def on_member_added(conn: Connection, event: Envelope) -> None:
    _belongs(conn, event.province, event.data["person_id"], event.data["unit_id"])


def on_covenant_signed(conn: Connection, event: Envelope) -> None:
    d = event.data
    for unit in d["signed_by"]:
        deliver(conn, event, unit, "Giao ước thi đua đã được ký kết",
                f"Cụm, khối «{d['cluster_name']}» đã ký giao ước thi đua ngày {vn_date(d['signed_on'])}: "
                f"{d['content']}")


# -- evaluation ---------------------------------------------------------------------------
def on_registration_evaluated(conn: Connection, event: Envelope) -> None:
    d = event.data
    if d["passed"]:
        body = f"Kết quả bình xét (vòng {d['round']}) của {d['name']}: ĐẠT tất cả {len(d['results'])} tiêu chí."
    else:
        failed = "; ".join(f"{r['label']}: {r['reason']}" for r in d["results"] if not r["passed"])
        body = f"Kết quả bình xét (vòng {d['round']}) của {d['name']}: CHƯA ĐẠT — {failed}."
    deliver(conn, event, d["participant_id"], "Kết quả bình xét thi đua", body)


# -- awards ---------------------------------------------------------------------------------
def on_nomination_submitted(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    conn.execute(nominations.insert(), dict(id=d["nomination_id"], province=event.province,
                                            proposer=event.actor.id, participant_id=p["participant_id"],
                                            award_name=d["award_name"], name=p["name"]))
    conn.execute(publications.insert(), dict(
        nomination_id=d["nomination_id"], province=event.province, campaign_id=d["campaign_id"],
        campaign_title=d.get("campaign_title"), name=p["name"], unit=p["unit"],
        participant_kind=p["participant_kind"], award_name=d["award_name"], kind=d["kind"],
        status="under_appraisal"))
    deliver(conn, event, p["participant_id"], "Đã được đề nghị khen thưởng",
            f"{p['name']} đã được đề nghị «{d['award_name']}»; hồ sơ đang chờ thẩm định.")
    deliver(conn, event, council_recipient(event.province), "Hồ sơ đề nghị khen thưởng chờ thẩm định",
            f"Đề nghị «{d['award_name']}» cho {p['name']} ({p['unit']}) từ {d['proposer_unit']}.")


def on_nomination_escalated(conn: Connection, event: Envelope) -> None:
    d = event.data
    deliver(conn, event, authority_recipient(event.province, d["to_level"]), "Hồ sơ trình cấp trên",
            f"Đề nghị khen thưởng cho {d['participant']['name']} được trình {LEVELS.get(d['to_level'], d['to_level'])}.")


def on_nomination_appraised(conn: Connection, event: Envelope) -> None:
    d = event.data
    n = conn.execute(select(nominations).where(nominations.c.id == d["nomination_id"])).mappings().first()
    who = d["participant"]["name"]
    text = {"approved": ("Hồ sơ đề nghị khen thưởng đã được thẩm định đạt", "đã được thẩm định đạt"),
            "returned": ("Hồ sơ đề nghị khen thưởng được trả lại để hoàn thiện", "được trả lại để hoàn thiện"),
            "rejected": ("Hồ sơ đề nghị khen thưởng không được chấp thuận", "không được chấp thuận")}
    title, verb = text[d["outcome"]]
    body = f"Đề nghị «{d['award_name']}» cho {who} {verb}. Lý do: {d['reason']}"
    if n is not None:
        deliver(conn, event, n["proposer"], title, body)
    deliver(conn, event, d["participant"]["participant_id"], title, body)
    if d["outcome"] == "rejected":
        conn.execute(update(publications).where(publications.c.nomination_id == d["nomination_id"])
                     .values(status="rejected"))


def on_award_decided(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    values = dict(status="decided", decision_number=d["decision_number"],
                  decision_date=date.fromisoformat(d["decision_date"]), issuer=d["issuer"])
    if conn.execute(select(publications.c.nomination_id)
                    .where(publications.c.nomination_id == d["nomination_id"])).first():
        conn.execute(update(publications).where(publications.c.nomination_id == d["nomination_id"]).values(**values))
    else:
        conn.execute(publications.insert(), dict(
            nomination_id=d["nomination_id"], province=event.province, campaign_id=d.get("campaign_id"),
            campaign_title=None, name=p["name"], unit=p["unit"], participant_kind=p["participant_kind"],
            award_name=d["award_name"], kind=d["kind"], **values))
    deliver(conn, event, p["participant_id"], "Quyết định khen thưởng",
            f"{p['name']} được tặng «{d['award_name']}» theo Quyết định số {d['decision_number']} ngày "
            f"{vn_date(d['decision_date'])} của {d['issuer']}.")


def on_award_revoked(conn: Connection, event: Envelope) -> None:
    """Thu hồi: the award leaves the public list (neither decided nor under appraisal), and its holder is told."""
    d, p = event.data, event.data["participant"]
    conn.execute(update(publications).where(publications.c.nomination_id == d["award_id"]).values(status="revoked"))
    deliver(conn, event, p["participant_id"], "Thu hồi khen thưởng",
            f"«{d['award_name']}» của {p['name']} (Quyết định số {d['revoked_decision_number']}) bị thu hồi theo "
            f"Quyết định số {d['decision_number']} ngày {vn_date(d['revoked_on'])} của {d['issuer']}. "
            f"Lý do: {d['reason']}")


# -- own events ----------------------------------------------------------------------------
def on_recipient_registered(conn: Connection, event: Envelope) -> None:
    d = event.data
    exists = conn.execute(select(recipients.c.id).where(recipients.c.id == d["recipient_id"],
                                                        recipients.c.province == event.province)).first()
    values = dict(name=d["name"], email=d.get("email"))
    if exists:
        conn.execute(update(recipients).where(recipients.c.id == d["recipient_id"],
                                              recipients.c.province == event.province).values(**values))
    else:
        conn.execute(recipients.insert(), dict(id=d["recipient_id"], province=event.province, **values))


def on_deadline_reminded(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(reminders.insert(), dict(key=d["key"], province=event.province,
                                          sent_on=date.fromisoformat(d["sent_on"])))
    deliver(conn, event, province_recipient(event.province), "Sắp đến hạn",
            f"Còn {d['days_before']} ngày đến {d['deadline_name']} ({vn_date(d['deadline'])}) của phong trào "
            f"«{d['campaign_title']}».")


def on_reminder_settings_defined(conn: Connection, event: Envelope) -> None:
    days = ",".join(str(x) for x in event.data["days_before"])
    if conn.execute(select(reminder_settings).where(reminder_settings.c.province == event.province)).first():
        conn.execute(update(reminder_settings).where(reminder_settings.c.province == event.province)
                     .values(days_before=days))
    else:
        conn.execute(reminder_settings.insert(), dict(province=event.province, days_before=days))


OWN_EVENTS = {
    "notifications.recipient.registered": on_recipient_registered,
    "notifications.deadline.reminded": on_deadline_reminded,
    "notifications.reminder_settings.defined": on_reminder_settings_defined,
}

FOLLOWED_EVENTS = {
    **orgchart.handlers,
    "registration.campaign.launched": on_campaign_launched,
    "registration.participant.registered": on_participant_registered,
    "registration.participant.withdrawn": on_participant_withdrawn,
    "registration.unit.member_added": on_member_added,
    "registration.covenant.signed": on_covenant_signed,
    "evaluation.registration.evaluated": on_registration_evaluated,
    "awards.nomination.submitted": on_nomination_submitted,
    "awards.nomination.escalated": on_nomination_escalated,
    "awards.nomination.appraised": on_nomination_appraised,
    "awards.award.decided": on_award_decided,
    "awards.award.revoked": on_award_revoked,
}
