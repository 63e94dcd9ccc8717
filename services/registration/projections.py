"""Registration's own read model, updated in the same transaction as each decision, and what it
keeps of evaluation's criteria sets (followed events).

Ids a user chooses (units, clusters) are a province's own: their tables are keyed by
(province, id), and every lookup names both."""
import json
from datetime import date

from sqlalchemy import (Boolean, Column, Connection, Date, Integer, MetaData, String, Table, Text,
                        UniqueConstraint, bindparam, false, select, update)

from shared.db import DriverStatement, insert_row
from shared.envelope import Envelope
from shared.orgchart import OrgChart

metadata = MetaData()
orgchart = OrgChart(metadata)  # the unit tree, for unit heads' scope

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
    Column("parent_campaign_id", String(36), nullable=True, index=True),
    Column("details", Text, nullable=False),  # deadlines, target groups, areas, criteria, award plan
    Column("registrations", Integer, nullable=False, default=0),
)

registrations = Table(
    "registrations", metadata,
    Column("id", String(36), primary_key=True),
    Column("campaign_id", String(36), nullable=False, index=True),
    Column("province", String(16), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False, index=True),
    Column("participant_kind", String(20), nullable=False),
    Column("individual_kind", String(20), nullable=True),
    Column("name", String(300), nullable=False),
    Column("unit", String(300), nullable=False),
    Column("late", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("registered_on", Date, nullable=False),
    Column("pledges", Text, nullable=False),
    Column("unit_id", String(100), nullable=True),  # the participant's unit, in the province
    Column("imported", Boolean, nullable=False, server_default=false()),
)

units = Table(
    "units", metadata,
    Column("id", String(100), primary_key=True),
    Column("province", String(16), primary_key=True, index=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("parent_id", String(100), nullable=True, index=True),
    Column("address", String(500), nullable=True),
    Column("phone", String(40), nullable=True),
)

members = Table(
    "members", metadata,
    Column("unit_id", String(100), primary_key=True),
    Column("person_id", String(100), primary_key=True),
    Column("province", String(16), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("position", String(200), nullable=True),
    Column("individual_kind", String(20), nullable=False),
    Column("gender", String(10), nullable=True),
)

clusters = Table(
    "clusters", metadata,
    Column("id", String(100), primary_key=True),
    Column("province", String(16), primary_key=True, index=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("member_unit_ids", Text, nullable=False),
)

covenants = Table(
    "covenants", metadata,
    Column("id", String(36), primary_key=True),
    Column("cluster_id", String(100), nullable=False, index=True),
    Column("campaign_id", String(36), nullable=False),
    Column("province", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("signed_by", Text, nullable=False),
    Column("signed_on", Date, nullable=False),
    UniqueConstraint("cluster_id", "campaign_id", name="uq_covenant_cluster_campaign"),
)

# The criteria sets evaluation has defined, as far as registration has seen (a campaign names only
# existing ones).
criteria_sets = Table(
    "criteria_sets", metadata,
    Column("province", String(16), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
)

CAMPAIGN_DETAILS = ("deadlines", "target_groups", "content_areas", "criteria_set_ids", "award_plan",
                    "exemplar_targets")


def on_campaign_launched(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(campaigns.insert(), dict(
        id=d["campaign_id"], province=event.province, title=d["title"], kind=d["kind"],
        issuer=d["issuer"], issuer_level=d["issuer_level"],
        period_start=date.fromisoformat(d["period_start"]), period_end=date.fromisoformat(d["period_end"]),
        registration_deadline=date.fromisoformat(d["registration_deadline"]),
        allow_late_registration=d["allow_late_registration"],
        parent_campaign_id=d.get("parent_campaign_id"),
        details=json.dumps({k: d.get(k) for k in CAMPAIGN_DETAILS}, ensure_ascii=False), registrations=0))


def registration_row(event: Envelope) -> dict:
    """The read-model row a registration event makes (the API answers the POST with it too)."""
    d, p = event.data, event.data["participant"]
    return dict(id=d["registration_id"], campaign_id=d["campaign_id"], province=event.province,
                participant_id=p["participant_id"], participant_kind=p["kind"],
                individual_kind=p.get("individual_kind"), name=p["name"], unit=p["unit"],
                late=d["late"], status="registered", registered_on=date.fromisoformat(d["registered_on"]),
                pledges=json.dumps(d["pledges"], ensure_ascii=False), unit_id=p.get("unit_id"),
                imported=d.get("imported", False))


_COUNT_REGISTRATION = DriverStatement(update(campaigns).where(campaigns.c.id == bindparam("campaign"))
                                      .values(registrations=campaigns.c.registrations + bindparam("delta")))


def on_participant_registered(conn: Connection, event: Envelope) -> None:
    insert_row(conn, registrations, registration_row(event))
    _COUNT_REGISTRATION.execute(conn, [{"campaign": event.data["campaign_id"], "delta": 1}])


def on_participant_withdrawn(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(update(registrations).where(registrations.c.id == d["registration_id"])
                 .values(status="withdrawn"))
    _COUNT_REGISTRATION.execute(conn, [{"campaign": d["campaign_id"], "delta": -1}])


def on_unit_registered(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(units.insert(), dict(id=d["unit_id"], province=event.province, name=d["name"],
                                      kind=d["kind"], parent_id=d.get("parent_id"),
                                      address=d.get("address"), phone=d.get("phone")))
    orgchart.on_unit_registered(conn, event)


def on_member_added(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(members.insert(), dict(unit_id=d["unit_id"], person_id=d["person_id"],
                                        province=event.province, name=d["name"],
                                        position=d.get("position"), individual_kind=d["individual_kind"],
                                        gender=d.get("gender")))


def on_cluster_formed(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(clusters.insert(), dict(id=d["cluster_id"], province=event.province, name=d["name"],
                                         kind=d["kind"], member_unit_ids=json.dumps(d["member_unit_ids"])))


def on_covenant_signed(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(covenants.insert(), dict(
        id=d["covenant_id"], cluster_id=d["cluster_id"], campaign_id=d["campaign_id"],
        province=event.province, content=d["content"], signed_by=json.dumps(d["signed_by"]),
        signed_on=date.fromisoformat(d["signed_on"])))


def on_criteria_set_defined(conn: Connection, event: Envelope) -> None:
    """Evaluation's set, first defined or revised (a new version keeps its id)."""
    d = event.data
    key = (criteria_sets.c.province == event.province) & (criteria_sets.c.id == d["criteria_set_id"])
    if conn.execute(select(criteria_sets.c.id).where(key)).first() is None:
        conn.execute(criteria_sets.insert(), dict(province=event.province, id=d["criteria_set_id"], name=d["name"]))
    else:
        conn.execute(update(criteria_sets).where(key).values(name=d["name"]))


def known_criteria_sets(conn: Connection, province: str, ids) -> set[str]:
    return set(conn.execute(select(criteria_sets.c.id).where(criteria_sets.c.province == province,
                                                             criteria_sets.c.id.in_(list(ids)))).scalars())


# Followed events (other services') -> updater (applied by the consumer).
FOLLOWED_EVENTS = {"evaluation.criteria_set.defined": on_criteria_set_defined}

# The events of this service's own store, and the updater that follows each.
OWN_EVENTS = {
    "registration.campaign.launched": on_campaign_launched,
    "registration.participant.registered": on_participant_registered,
    "registration.participant.withdrawn": on_participant_withdrawn,
    "registration.unit.registered": on_unit_registered,
    "registration.unit.member_added": on_member_added,
    "registration.cluster.formed": on_cluster_formed,
    "registration.covenant.signed": on_covenant_signed,
}
