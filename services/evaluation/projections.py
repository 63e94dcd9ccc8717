"""Evaluation's projection of what registration decided: the candidates awaiting review."""
from datetime import date

from sqlalchemy import Column, Connection, Date, MetaData, String, Table, update

from shared.envelope import Envelope

metadata = MetaData()

campaigns = Table(
    "campaigns", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("title", String(500), nullable=False),
    Column("period_end", Date, nullable=False),
)

candidates = Table(
    "candidates", metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("campaign_id", String(36), nullable=False, index=True),
    Column("province", String(16), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False),
    Column("participant_kind", String(20), nullable=False),
    Column("individual_kind", String(20), nullable=True),
    Column("name", String(300), nullable=False),
    Column("unit", String(300), nullable=False),
    Column("status", String(30), nullable=False),
)


def on_campaign_launched(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(campaigns.insert().values(id=d["campaign_id"], province=event.province, title=d["title"],
                                           period_end=date.fromisoformat(d["period_end"])))


def on_participant_registered(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    conn.execute(candidates.insert().values(
        registration_id=d["registration_id"], campaign_id=d["campaign_id"], province=event.province,
        participant_id=p["participant_id"], participant_kind=p["kind"],
        individual_kind=p.get("individual_kind"), name=p["name"], unit=p["unit"],
        status="awaiting_evaluation"))


# Followed events -> the updater that follows each.
FOLLOWED_EVENTS = {
    "registration.campaign.launched": on_campaign_launched,
    "registration.participant.registered": on_participant_registered,
}
