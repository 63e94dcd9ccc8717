"""Notifications' projection: an inbox entry for every event that concerns someone."""
import uuid

from sqlalchemy import Column, Connection, DateTime, MetaData, String, Table, Text, UniqueConstraint, select

from shared.envelope import Envelope

metadata = MetaData()

campaigns = Table(
    "campaigns", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False),
    Column("title", String(500), nullable=False),
)

inbox = Table(
    "inbox", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("recipient", String(120), nullable=False, index=True),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("title", String(500), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("recipient", "event_id", name="uq_inbox_recipient_event"),
)


def province_recipient(province: str) -> str:
    return f"province:{province}"


def _deliver(conn: Connection, event: Envelope, recipient: str, title: str, body: str) -> None:
    conn.execute(inbox.insert().values(id=str(uuid.uuid4()), province=event.province, recipient=recipient,
                                       event_id=event.id, event_type=event.type, title=title, body=body,
                                       created_at=event.time))


def on_campaign_launched(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(campaigns.insert().values(id=d["campaign_id"], province=event.province, title=d["title"]))
    _deliver(conn, event, province_recipient(event.province), "Phát động phong trào thi đua",
             f"{d['issuer']} phát động phong trào «{d['title']}»; hạn đăng ký thi đua "
             f"{_vn_date(d['registration_deadline'])}.")


def on_participant_registered(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    # The event carries the campaign's title: events of two streams may arrive in either order.
    title = d.get("campaign_title") or conn.execute(
        select(campaigns.c.title).where(campaigns.c.id == d["campaign_id"])).scalar()
    late = " (đăng ký muộn)" if d["late"] else ""
    _deliver(conn, event, p["participant_id"], "Đăng ký thi đua đã được ghi nhận",
             f"Đăng ký thi đua của {p['name']} ({p['unit']}) cho phong trào «{title or d['campaign_id']}» "
             f"đã được ghi nhận{late}, gồm {len(d['pledges'])} nội dung thi đua.")


def _vn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"


FOLLOWED_EVENTS = {
    "registration.campaign.launched": on_campaign_launched,
    "registration.participant.registered": on_participant_registered,
}
