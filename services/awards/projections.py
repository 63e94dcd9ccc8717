"""Awards' read model: what it learned from registration and evaluation, and its own
nominations, award history, holds and province rules."""
import json
from datetime import date, timezone

from sqlalchemy import (Boolean, Column, Connection, Date, Float, Index, Integer, MetaData, String, Table, Text, delete,
                        false, update)

from shared.db import insert_row
from shared.documents import Uploads
from shared.envelope import Envelope
from shared.i18n import search_key
from shared.orgchart import OrgChart

metadata = MetaData()
orgchart = OrgChart(metadata)  # the units this service has seen, for unit heads' scope
uploads = Uploads(metadata)  # the dossier files given to this service (not a projection: rebuild keeps it)

campaigns = Table(
    "campaigns", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("title", String(500), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("issuer", String(300), nullable=False),
    Column("issuer_level", String(20), nullable=False),
    Column("period_end", Date, nullable=False),
    Column("deadlines", Text, nullable=False),
    Column("award_plan", Text, nullable=False),
)

participants = Table(
    "participants", metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("campaign_id", String(36), nullable=False, index=True),
    Column("province", String(16), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False, index=True),
    Column("participant_kind", String(20), nullable=False),
    Column("individual_kind", String(20), nullable=True),
    Column("name", String(300), nullable=False),
    Column("unit", String(300), nullable=False),
    Column("unit_id", String(100), nullable=True),  # the unit in the org chart: a head's scope
    Column("status", String(20), nullable=False),
    Column("evaluation", String(30), nullable=False),
)

evaluations = Table(
    "evaluations", metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("province", String(16), nullable=False),
    Column("round", Integer, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("metrics", Text, nullable=False),
    Column("results", Text, nullable=False),
)

nominations = Table(
    "nominations", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("campaign_id", String(36), nullable=True, index=True),
    Column("registration_id", String(36), nullable=True, index=True),
    Column("participant_id", String(100), nullable=False, index=True),
    Column("participant_kind", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    Column("unit", String(300), nullable=False),
    Column("award", String(100), nullable=False),
    Column("award_name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("target_level", String(30), nullable=False),
    Column("proposer_unit", String(300), nullable=True),
    Column("submitted_on", Date, nullable=True),
    Column("dossier", Text, nullable=False),
    Column("last_reason", Text, nullable=True),
    Column("decision_number", String(100), nullable=True),
    Column("decision_date", Date, nullable=True),
)

history = Table(
    "award_history", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False, index=True),
    Column("participant_kind", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    # the name as it is searched (shared.i18n.search_key): the public look-up (tra cứu) by name
    Column("name_key", String(300), nullable=True),
    Column("award", String(100), nullable=False),
    Column("award_name", String(300), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("campaign_id", String(36), nullable=True, index=True),
    Column("decision_number", String(100), nullable=False),
    Column("decision_date", Date, nullable=False),
    Column("issuer", String(300), nullable=False),
    Column("level", String(30), nullable=False),
    Column("status", String(20), nullable=False),  # valid, revoked
    Column("imported", Boolean, nullable=False, server_default=false()),  # entered by the import path
    Column("revoked_on", Date, nullable=True),
    Column("revocation_number", String(100), nullable=True),
    Column("revocation_reason", Text, nullable=True),
    Index("ix_award_history_province_name_key", "province", "name_key"),
)

holds = Table(
    "holds", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False, index=True),
    Column("kind", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("placed_on", Date, nullable=False),
    Column("lifted_on", Date, nullable=True),
)

province_rules = Table(
    "province_rules", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("section", String(20), nullable=False),
    Column("body", Text, nullable=False),
)


# What awards learned of evaluation's councils: which provinces keep councils as data, each
# ballot's result over the members entitled to vote, and who is recused from which candidate.
councils = Table(
    "councils", metadata,
    Column("province", String(16), primary_key=True),
    Column("id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("unit_id", String(100), nullable=False),
)

ballots = Table(
    "council_ballots", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False),
    Column("council_id", String(100), nullable=False),
    Column("registration_id", String(36), nullable=False, index=True),
    Column("participant_id", String(100), nullable=False),
    Column("award", String(100), nullable=False),
    Column("status", String(20), nullable=False),  # open, closed
    Column("secret", Boolean, nullable=False),
    Column("members_total", Integer, nullable=True),
    Column("recused", Integer, nullable=True),
    Column("entitled", Integer, nullable=True),
    Column("votes_for", Integer, nullable=True),
    Column("share_for_pct", Float, nullable=True),
    Column("closed_at", String(40), nullable=True),  # ISO time: a re-vote's later result wins
)

recusals = Table(
    "council_recusals", metadata,
    Column("ballot_id", String(36), primary_key=True),
    Column("person_id", String(100), primary_key=True),
    Column("province", String(16), nullable=False),
    Column("participant_id", String(100), nullable=False, index=True),
    Column("reason", String(30), nullable=False),
    Column("explanation", Text, nullable=False),
)


def _j(value) -> str:
    return json.dumps(value, ensure_ascii=False)


# -- followed events ------------------------------------------------------------------
def on_campaign_launched(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(campaigns.insert(), dict(
        id=d["campaign_id"], province=event.province, title=d["title"], kind=d["kind"], issuer=d["issuer"],
        issuer_level=d["issuer_level"], period_end=date.fromisoformat(d["period_end"]),
        deadlines=_j(d.get("deadlines") or {}), award_plan=_j(d.get("award_plan") or [])))


def on_participant_registered(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    insert_row(conn, participants, dict(
        registration_id=d["registration_id"], campaign_id=d["campaign_id"], province=event.province,
        participant_id=p["participant_id"], participant_kind=p["kind"],
        individual_kind=p.get("individual_kind"), name=p["name"], unit=p["unit"], unit_id=p.get("unit_id"),
        status="registered", evaluation="not_evaluated"))


def on_participant_withdrawn(conn: Connection, event: Envelope) -> None:
    conn.execute(update(participants).where(participants.c.registration_id == event.data["registration_id"])
                 .values(status="withdrawn"))


def on_registration_evaluated(conn: Connection, event: Envelope) -> None:
    d = event.data
    # Rounds may arrive out of order only across a republish; keep the latest round.
    conn.execute(delete(evaluations).where(evaluations.c.registration_id == d["registration_id"],
                                           evaluations.c.round < d["round"]))
    if conn.execute(evaluations.select().where(evaluations.c.registration_id == d["registration_id"])).first():
        return
    conn.execute(evaluations.insert(), dict(
        registration_id=d["registration_id"], province=event.province, round=d["round"], passed=d["passed"],
        metrics=_j(d.get("metrics") or {}), results=_j(d["results"])))
    conn.execute(update(participants).where(participants.c.registration_id == d["registration_id"])
                 .values(evaluation="passed" if d["passed"] else "failed"))


def on_council_formed(conn: Connection, event: Envelope) -> None:
    d = event.data
    insert_row(conn, councils, dict(province=event.province, id=d["council_id"], name=d["name"],
                                    unit_id=d["unit_id"]))


def on_ballot_opened(conn: Connection, event: Envelope) -> None:
    d = event.data
    insert_row(conn, ballots, dict(id=d["ballot_id"], province=event.province, council_id=d["council_id"],
                                   registration_id=d["registration_id"], participant_id=d["participant_id"],
                                   award=d["award"], status="open", secret=d["secret"]))


def on_member_recused(conn: Connection, event: Envelope) -> None:
    d = event.data
    insert_row(conn, recusals, dict(ballot_id=d["ballot_id"], person_id=d["person_id"], province=event.province,
                                    participant_id=d["participant_id"], reason=d["reason"],
                                    explanation=d["reason_text"]))


def on_ballot_closed(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(update(ballots).where(ballots.c.id == d["ballot_id"]).values(
        status="closed", members_total=d["members_total"], recused=d["recused"], entitled=d["entitled"],
        votes_for=d["votes_for"], share_for_pct=d["share_for_pct"],
        closed_at=event.time.astimezone(timezone.utc).isoformat()))


# -- own events -----------------------------------------------------------------------
def on_nomination_submitted(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    conn.execute(nominations.insert(), dict(
        id=d["nomination_id"], province=event.province, campaign_id=d["campaign_id"],
        registration_id=d["registration_id"], participant_id=p["participant_id"],
        participant_kind=p["participant_kind"], name=p["name"], unit=p["unit"], award=d["award"],
        award_name=d["award_name"], kind=d["kind"], status="submitted", target_level=d["submitted_to"],
        proposer_unit=d["proposer_unit"], submitted_on=date.fromisoformat(d["submitted_on"]),
        dossier=_j(d["dossier"])))


def on_nomination_escalated(conn: Connection, event: Envelope) -> None:
    conn.execute(update(nominations).where(nominations.c.id == event.data["nomination_id"])
                 .values(target_level=event.data["to_level"]))


def on_nomination_appraised(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(update(nominations).where(nominations.c.id == d["nomination_id"])
                 .values(status=d["outcome"], last_reason=d["reason"]))


def on_nomination_resubmitted(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(update(nominations).where(nominations.c.id == d["nomination_id"])
                 .values(status="resubmitted", dossier=_j(d["dossier"])))


def on_award_decided(conn: Connection, event: Envelope) -> None:
    d, p = event.data, event.data["participant"]
    values = dict(decision_number=d["decision_number"], decision_date=date.fromisoformat(d["decision_date"]))
    if d["kind"] == "ad_hoc":
        conn.execute(nominations.insert(), dict(
            id=d["nomination_id"], province=event.province, campaign_id=d.get("campaign_id"), registration_id=None,
            participant_id=p["participant_id"], participant_kind=p["participant_kind"], name=p["name"],
            unit=p["unit"], award=d["award"], award_name=d["award_name"], kind="ad_hoc", status="decided",
            target_level=d["level"], proposer_unit=None, submitted_on=None,
            dossier=_j({"achievement": d.get("achievement")}), **values))
    else:
        conn.execute(update(nominations).where(nominations.c.id == d["nomination_id"])
                     .values(status="decided", **values))
    _add_history(conn, event.province, d["nomination_id"], d, p, d["level"])


def on_award_recorded(conn: Connection, event: Envelope) -> None:
    d = event.data
    # every recorded award came by the import path (POST /history); its v1 events are upcast (events.py)
    _add_history(conn, event.province, d["record_id"], d, d["participant"], d["level"], imported=True)


def _add_history(conn, province, id_, d, p, level, imported=False) -> None:
    conn.execute(history.insert(), dict(
        id=id_, province=province, participant_id=p["participant_id"], participant_kind=p["participant_kind"],
        name=p["name"], name_key=search_key(p["name"]), award=d["award"], award_name=d["award_name"],
        kind=d["kind"], year=d["year"],
        campaign_id=d.get("campaign_id"), decision_number=d["decision_number"],
        decision_date=date.fromisoformat(d["decision_date"]), issuer=d["issuer"], level=level, status="valid",
        imported=imported))


def on_award_revoked(conn: Connection, event: Envelope) -> None:
    """Thu hồi: the award leaves history, chains and the quota it used (all count valid ones only)."""
    d = event.data
    conn.execute(update(history).where(history.c.id == d["award_id"]).values(
        status="revoked", revoked_on=date.fromisoformat(d["revoked_on"]), revocation_number=d["decision_number"],
        revocation_reason=d["reason"]))
    conn.execute(update(nominations).where(nominations.c.id == d["award_id"]).values(status="revoked"))


def on_hold_placed(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(holds.insert(), dict(id=d["hold_id"], province=event.province, participant_id=d["participant_id"],
                                      kind=d["kind"], reason=d["reason"], status="active",
                                      placed_on=date.fromisoformat(d["placed_on"])))


def on_hold_lifted(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(update(holds).where(holds.c.id == d["hold_id"])
                 .values(status="lifted", lifted_on=date.fromisoformat(d["lifted_on"])))


def on_rule_defined(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(province_rules.insert(), dict(id=d["rule_id"], province=event.province, section=d["section"],
                                               body=_j(d["rule"])))


OWN_EVENTS = {
    "awards.nomination.submitted": on_nomination_submitted,
    "awards.nomination.escalated": on_nomination_escalated,
    "awards.nomination.appraised": on_nomination_appraised,
    "awards.nomination.resubmitted": on_nomination_resubmitted,
    "awards.award.decided": on_award_decided,
    "awards.award.recorded": on_award_recorded,
    "awards.award.revoked": on_award_revoked,
    "awards.hold.placed": on_hold_placed,
    "awards.hold.lifted": on_hold_lifted,
    "awards.rule.defined": on_rule_defined,
}

FOLLOWED_EVENTS = {
    **orgchart.handlers,
    "registration.campaign.launched": on_campaign_launched,
    "registration.participant.registered": on_participant_registered,
    "registration.participant.withdrawn": on_participant_withdrawn,
    "evaluation.registration.evaluated": on_registration_evaluated,
    "evaluation.council.formed": on_council_formed,
    "evaluation.ballot.opened": on_ballot_opened,
    "evaluation.ballot.member_recused": on_member_recused,
    "evaluation.ballot.closed": on_ballot_closed,
}
