"""Registration's own read model, updated in the same transaction as each decision."""
import json

from sqlalchemy import Boolean, Column, Connection, Date, Integer, MetaData, String, Table, Text, update
from datetime import date

from shared.envelope import Envelope

metadata = MetaData()

campaigns = Table(
    "campaigns", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("title", String(500), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("issuer", String(300), nullable=False),
    Column("issuer_level", String(20), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("registration_deadline", Date, nullable=False),
    Column("allow_late_registration", Boolean, nullable=False),
    Column("registrations", Integer, nullable=False, default=0),
)

registrations = Table(
    "registrations", metadata,
    Column("id", String(36), primary_key=True),
    Column("campaign_id", String(36), nullable=False, index=True),
    Column("province", String(16), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False),
    Column("participant_kind", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    Column("unit", String(300), nullable=False),
    Column("late", Boolean, nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("pledges", Text, nullable=False),
)


def on_campaign_launched(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(campaigns.insert().values(
        id=d["campaign_id"], province=event.province, title=d["title"], kind=d["kind"],
        issuer=d["issuer"], issuer_level=d["issuer_level"],
        period_start=date.fromisoformat(d["period_start"]), period_end=date.fromisoformat(d["period_end"]),
        registration_deadline=date.fromisoformat(d["registration_deadline"]),
        allow_late_registration=d["allow_late_registration"], registrations=0))


def on_participant_registered(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    conn.execute(registrations.insert().values(
        id=d["registration_id"], campaign_id=d["campaign_id"], province=event.province,
        participant_id=p["participant_id"], participant_kind=p["kind"], name=p["name"], unit=p["unit"],
        late=d["late"], registered_on=date.fromisoformat(d["registered_on"]),
        pledges=json.dumps(d["pledges"], ensure_ascii=False)))
    conn.execute(update(campaigns).where(campaigns.c.id == d["campaign_id"])
                 .values(registrations=campaigns.c.registrations + 1))


# The events of this service's own store, and the updater that follows each.
OWN_EVENTS = {
    "registration.campaign.launched": on_campaign_launched,
    "registration.participant.registered": on_participant_registered,
}
