"""Evaluation's read model: the candidates it learned of from registration, its criteria
sets and its evaluations (the latest per registration, and every round in history)."""
import json
from datetime import date

from sqlalchemy import (Boolean, Column, Connection, Date, Float, Integer, MetaData, String, Table, Text,
                        select, update)

from shared.db import insert_row
from shared.documents import Uploads
from shared.envelope import Envelope
from shared.orgchart import OrgChart

metadata = MetaData()
orgchart = OrgChart(metadata)  # the units this service has seen, for unit heads' scope
uploads = Uploads(metadata)  # the evidence files given to this service (not a projection: rebuild keeps it)

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
    Column("unit_id", String(100), nullable=True),  # the unit registered in: a unit's council's scope
    Column("status", String(30), nullable=False),
)

criteria_sets = Table(  # ids are each province's own
    "criteria_sets", metadata,
    Column("province", String(16), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", String(300), nullable=False),
    Column("applies_to", Text, nullable=False),
    Column("criteria", Text, nullable=False),
    Column("source", String(500), nullable=False),
)

evaluations = Table(
    "evaluations", metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("round", Integer, primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("campaign_id", String(36), nullable=False, index=True),
    Column("criteria_set_id", String(100), nullable=False),
    Column("criteria_set_version", Integer, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("evaluated_on", Date, nullable=False),
    Column("results", Text, nullable=False),
    Column("note", Text, nullable=True),
    Column("event_id", String(36), nullable=False),
    Column("documents", Text, nullable=True),  # the evidence files of the round (JSON list of references)
)


councils = Table(  # ids are each province's own
    "councils", metadata,
    Column("province", String(16), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("unit_id", String(100), nullable=False),
    Column("term", String(30), nullable=False),
)

council_members = Table(
    "council_members", metadata,
    Column("province", String(16), primary_key=True),
    Column("council_id", String(100), primary_key=True),
    Column("person_id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("unit_id", String(100), nullable=False),
    Column("position", String(20), nullable=False),
)

ballots = Table(
    "ballots", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("council_id", String(100), nullable=False),
    Column("registration_id", String(36), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False, index=True),
    Column("name", String(300), nullable=False),
    Column("award", String(100), nullable=False),
    Column("status", String(20), nullable=False),  # open, closed
    Column("secret", Boolean, nullable=False),
    Column("members_total", Integer, nullable=False),
    Column("recused", Integer, nullable=False),
    Column("votes_cast", Integer, nullable=False),  # how many voted here, never who voted what
    Column("votes_for", Integer, nullable=True),
    Column("votes_against", Integer, nullable=True),
    Column("share_for_pct", Float, nullable=True),
)

ballot_recusals = Table(
    "ballot_recusals", metadata,
    Column("ballot_id", String(36), primary_key=True),
    Column("person_id", String(100), primary_key=True),
    Column("province", String(16), nullable=False),
    Column("member_name", String(300), nullable=False),
    Column("reason", String(30), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("event_id", String(36), nullable=False),
)


def on_campaign_launched(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(campaigns.insert(), dict(id=d["campaign_id"], province=event.province, title=d["title"],
                                          period_end=date.fromisoformat(d["period_end"])))


def on_participant_registered(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    insert_row(conn, candidates, dict(
        registration_id=d["registration_id"], campaign_id=d["campaign_id"], province=event.province,
        participant_id=p["participant_id"], participant_kind=p["kind"],
        individual_kind=p.get("individual_kind"), name=p["name"], unit=p["unit"], unit_id=p.get("unit_id"),
        status="awaiting_evaluation"))


def on_participant_withdrawn(conn: Connection, event: Envelope) -> None:
    conn.execute(update(candidates).where(candidates.c.registration_id == event.data["registration_id"])
                 .values(status="withdrawn"))


def on_criteria_set_defined(conn: Connection, event: Envelope) -> None:
    d = event.data
    values = dict(version=d["set_version"], name=d["name"], applies_to=json.dumps(d["applies_to"]),
                  criteria=json.dumps(d["criteria"], ensure_ascii=False), source=d["source"])
    if d["set_version"] == 1:
        conn.execute(criteria_sets.insert(), dict(province=event.province, id=d["criteria_set_id"], **values))
    else:
        conn.execute(update(criteria_sets).where(criteria_sets.c.province == event.province,
                                                 criteria_sets.c.id == d["criteria_set_id"]).values(**values))


def on_registration_evaluated(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(evaluations.insert(), dict(
        registration_id=d["registration_id"], round=d["round"], province=event.province,
        campaign_id=d["campaign_id"], criteria_set_id=d["criteria_set_id"],
        criteria_set_version=d["criteria_set_version"], passed=d["passed"],
        evaluated_on=date.fromisoformat(d["evaluated_on"]),
        results=json.dumps(d["results"], ensure_ascii=False), note=d.get("note"), event_id=event.id,
        documents=json.dumps(d.get("documents") or [], ensure_ascii=False)))
    conn.execute(update(candidates).where(candidates.c.registration_id == d["registration_id"])
                 .values(status="passed" if d["passed"] else "failed"))


def on_council_formed(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(councils.insert(), dict(province=event.province, id=d["council_id"], name=d["name"],
                                         unit_id=d["unit_id"], term=d["term"]))


def on_member_added(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(council_members.insert(), dict(province=event.province, council_id=d["council_id"],
                                                person_id=d["person_id"], name=d["name"], unit_id=d["unit_id"],
                                                position=d["position"]))


def on_interest_declared(conn: Connection, event: Envelope) -> None:
    """Nothing to project: the council's own stream keeps who declared what (the ballots it concerns
    record the recusals), and a declaration is nobody's business but the council's."""


def on_ballot_opened(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(ballots.insert(), dict(
        id=d["ballot_id"], province=event.province, council_id=d["council_id"], registration_id=d["registration_id"],
        participant_id=d["participant_id"], name=d["name"], award=d["award"], status="open", secret=d["secret"],
        members_total=len(d["members"]), recused=0, votes_cast=0))


def on_member_recused(conn: Connection, event: Envelope) -> None:
    """The explanation is written here, not carried in the event: names stay in the fields that
    name them (personal data), never in free text."""
    d = event.data
    candidate = conn.execute(select(ballots.c.name).where(ballots.c.id == d["ballot_id"])).scalar()
    conn.execute(ballot_recusals.insert(), dict(
        ballot_id=d["ballot_id"], person_id=d["person_id"], province=event.province, member_name=d["member_name"],
        reason=d["reason"], event_id=event.id,
        explanation=f"{d['member_name']} không tham gia biểu quyết, thẩm định về {candidate}: {d['reason_text']}"))
    struck = 1 if d.get("vote_struck") else 0
    conn.execute(update(ballots).where(ballots.c.id == d["ballot_id"])
                 .values(recused=ballots.c.recused + 1, votes_cast=ballots.c.votes_cast - struck))


def on_vote_cast(conn: Connection, event: Envelope) -> None:
    conn.execute(update(ballots).where(ballots.c.id == event.data["ballot_id"])
                 .values(votes_cast=ballots.c.votes_cast + 1))


def on_ballot_closed(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(update(ballots).where(ballots.c.id == d["ballot_id"]).values(
        status="closed", votes_for=d["votes_for"], votes_against=d["votes_against"],
        share_for_pct=d["share_for_pct"]))


# Events of evaluation's own store -> updater (applied in the deciding transaction).
OWN_EVENTS = {
    "evaluation.criteria_set.defined": on_criteria_set_defined,
    "evaluation.registration.evaluated": on_registration_evaluated,
    "evaluation.council.formed": on_council_formed,
    "evaluation.council.member_added": on_member_added,
    "evaluation.council.interest_declared": on_interest_declared,
    "evaluation.ballot.opened": on_ballot_opened,
    "evaluation.ballot.member_recused": on_member_recused,
    "evaluation.ballot.vote_cast": on_vote_cast,
    "evaluation.ballot.closed": on_ballot_closed,
}

# Followed events (other services') -> updater (applied by the consumer).
FOLLOWED_EVENTS = {
    **orgchart.handlers,
    "registration.campaign.launched": on_campaign_launched,
    "registration.participant.registered": on_participant_registered,
    "registration.participant.withdrawn": on_participant_withdrawn,
}
