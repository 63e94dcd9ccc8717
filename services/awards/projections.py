"""Awards' projection of registration's events: who takes part in which campaign."""
from sqlalchemy import Column, Connection, MetaData, String, Table

from shared.envelope import Envelope

metadata = MetaData()

campaigns = Table(
    "campaigns", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("title", String(500), nullable=False),
    Column("issuer", String(300), nullable=False),
    Column("issuer_level", String(20), nullable=False),
)

participants = Table(
    "participants", metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("campaign_id", String(36), nullable=False, index=True),
    Column("province", String(16), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False, index=True),
    Column("participant_kind", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    Column("unit", String(300), nullable=False),
    Column("evaluation", String(30), nullable=False),
)


def on_campaign_launched(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(campaigns.insert().values(id=d["campaign_id"], province=event.province, title=d["title"],
                                           issuer=d["issuer"], issuer_level=d["issuer_level"]))


def on_participant_registered(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    conn.execute(participants.insert().values(
        registration_id=d["registration_id"], campaign_id=d["campaign_id"], province=event.province,
        participant_id=p["participant_id"], participant_kind=p["kind"], name=p["name"], unit=p["unit"],
        evaluation="not_evaluated"))


FOLLOWED_EVENTS = {
    "registration.campaign.launched": on_campaign_launched,
    "registration.participant.registered": on_participant_registered,
}
