"""Command handlers of awards: gather the case from the projections, let the aggregate decide.

The routing table is at the bottom.
"""
import json

from sqlalchemy import Connection, func, select

from shared.aggregate import CommandContext, Stream, rehydrate, record, record_all
from shared.envelope import Envelope
from shared.errors import NotYetSeen
from shared.eventstore import EventStore

from services.awards import domain
from services.awards.projections import (OWN_EVENTS, campaigns, evaluations, history, holds, nominations,
                                         participants, province_rules)
from services.awards.rules import Rulebook, lineage


def _record(store, conn, stream_id, aggregate, type_, data, ctx) -> Envelope:
    return record(store, conn, stream_id, aggregate, type_, data, ctx, project=OWN_EVENTS)


def rulebook(conn: Connection, province: str) -> Rulebook:
    rows = conn.execute(select(province_rules).where(province_rules.c.province == province)
                        .order_by(province_rules.c.id)).mappings().all()
    book = Rulebook()
    for row in rows:
        target = book.province_awards if row["section"] == "award" else book.province_authorities
        target.append(json.loads(row["body"]))
    return book


def _campaign(conn, campaign_id, province) -> dict | None:
    row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id,
                                               campaigns.c.province == province)).mappings().first()
    if row is None:
        return None
    return {**row, "period_end": row["period_end"].isoformat(), "deadlines": json.loads(row["deadlines"]),
            "award_plan": json.loads(row["award_plan"])}


def _case(conn, province, participant_id, campaign_id=None, registration_id=None, award=None,
          participant_kind=None) -> domain.Case:
    participant = evaluation = None
    if registration_id:
        row = conn.execute(select(participants).where(participants.c.registration_id == registration_id,
                                                      participants.c.province == province)).mappings().first()
        participant = dict(row) if row else None
        participant_id = participant["participant_id"] if participant else participant_id
        participant_kind = participant["participant_kind"] if participant else participant_kind
        ev = conn.execute(select(evaluations).where(evaluations.c.registration_id == registration_id)
                          ).mappings().first()
        if ev:
            evaluation = {**ev, "metrics": json.loads(ev["metrics"]), "results": json.loads(ev["results"])}
    # a person's identity survives the 2025 mergers: awards made under a predecessor province count
    past = conn.execute(select(history).where(history.c.participant_id == participant_id,
                                              history.c.province.in_(lineage(province)))).mappings().all()
    held = conn.execute(select(holds).where(holds.c.participant_id == participant_id,
                                            holds.c.province == province)).mappings().all()
    same = conn.execute(select(nominations).where(nominations.c.registration_id == registration_id,
                                                  nominations.c.award == award)).mappings().all() \
        if registration_id else []
    used = 0
    campaign = _campaign(conn, campaign_id, province) if campaign_id else None
    if campaign and award:
        plan = domain._quota(campaign, award, participant_kind or "both")
        query = select(func.count()).select_from(history).where(
            history.c.campaign_id == campaign_id, history.c.award == award, history.c.status == "valid")
        if plan and plan.get("applies_to", "both") != "both":
            query = query.where(history.c.participant_kind == plan["applies_to"])
        used = conn.execute(query).scalar_one()
    return domain.Case(rulebook=rulebook(conn, province), campaign=campaign, participant=participant,
                       evaluation=evaluation, history=tuple(dict(h) for h in past),
                       holds=tuple(dict(h) for h in held), same_achievement=tuple(dict(n) for n in same),
                       quota_used=used)


def _nomination(store, conn, nomination_id) -> domain.Nomination:
    return rehydrate(store, conn, f"nomination-{nomination_id}", domain.Nomination(nomination_id))


def nominate(store: EventStore, conn: Connection, cmd: domain.Nominate, ctx: CommandContext) -> Envelope:
    case = _case(conn, cmd.province, None, cmd.campaign_id, cmd.registration_id, cmd.award)
    if case.campaign is None or case.participant is None:
        missing = "phong trào" if case.campaign is None else "đăng ký thi đua"
        raise NotYetSeen(f"Khen thưởng chưa nhận được {missing} này: nếu vừa gửi, hãy thử lại sau giây lát",
                         rule="nomination.known")
    nomination = _nomination(store, conn, cmd.nomination_id)
    return record_all(store, conn, f"nomination-{cmd.nomination_id}", nomination, nomination.nominate(cmd, case),
                      ctx, project=OWN_EVENTS)


def appraise(store: EventStore, conn: Connection, cmd: domain.Appraise, ctx: CommandContext) -> Envelope:
    nomination = _nomination(store, conn, cmd.nomination_id)
    return _record(store, conn, f"nomination-{cmd.nomination_id}", nomination, domain.NOMINATION_APPRAISED,
                   nomination.appraise(cmd), ctx)


def resubmit(store: EventStore, conn: Connection, cmd: domain.Resubmit, ctx: CommandContext) -> Envelope:
    nomination = _nomination(store, conn, cmd.nomination_id)
    case = domain.Case(rulebook=rulebook(conn, cmd.province))
    return _record(store, conn, f"nomination-{cmd.nomination_id}", nomination, domain.NOMINATION_RESUBMITTED,
                   nomination.resubmit(cmd, case), ctx)


def decide(store: EventStore, conn: Connection, cmd: domain.Decide, ctx: CommandContext) -> Envelope:
    nomination = _nomination(store, conn, cmd.nomination_id)
    case = _case(conn, cmd.province, nomination.participant.get("participant_id"), nomination.campaign_id,
                 None, nomination.award, nomination.participant.get("participant_kind"))
    return _record(store, conn, f"nomination-{cmd.nomination_id}", nomination, domain.AWARD_DECIDED,
                   nomination.decide(cmd, case), ctx)


def commend_ad_hoc(store: EventStore, conn: Connection, cmd: domain.CommendAdHoc,
                   ctx: CommandContext) -> Envelope:
    nomination = _nomination(store, conn, cmd.nomination_id)
    case = _case(conn, cmd.province, cmd.participant["participant_id"])
    return _record(store, conn, f"nomination-{cmd.nomination_id}", nomination, domain.AWARD_DECIDED,
                   nomination.commend_ad_hoc(cmd, case), ctx)


def record_past_award(store: EventStore, conn: Connection, cmd: domain.RecordPastAward,
                      ctx: CommandContext) -> Envelope:
    rule = rulebook(conn, cmd.province).award(cmd.award, cmd.decision_date)
    data = {"record_id": cmd.record_id, "participant": cmd.participant, "award": cmd.award,
            "award_name": rule["name"] if rule else cmd.award, "year": cmd.year, "kind": cmd.kind,
            "decision_number": cmd.decision_number, "decision_date": cmd.decision_date.isoformat(),
            "issuer": cmd.issuer, "issuer_level": cmd.issuer_level}
    stream = f"record-{cmd.record_id}"
    return _record(store, conn, stream, rehydrate(store, conn, stream, Stream(stream)),
                   domain.AWARD_RECORDED, data, ctx)


def place_hold(store: EventStore, conn: Connection, cmd: domain.PlaceHold, ctx: CommandContext) -> Envelope:
    stream = f"hold-{cmd.hold_id}"
    hold = rehydrate(store, conn, stream, domain.Hold(cmd.hold_id))
    return _record(store, conn, stream, hold, domain.HOLD_PLACED, hold.place(cmd), ctx)


def lift_hold(store: EventStore, conn: Connection, cmd: domain.LiftHold, ctx: CommandContext) -> Envelope:
    stream = f"hold-{cmd.hold_id}"
    hold = rehydrate(store, conn, stream, domain.Hold(cmd.hold_id))
    return _record(store, conn, stream, hold, domain.HOLD_LIFTED, hold.lift(cmd), ctx)


def define_rule(store: EventStore, conn: Connection, cmd: domain.DefineRule, ctx: CommandContext) -> Envelope:
    stream = f"rule-{cmd.rule_id}"
    return _record(store, conn, stream, rehydrate(store, conn, stream, Stream(stream)),
                   domain.RULE_DEFINED, {"rule_id": cmd.rule_id, "section": cmd.section, "rule": cmd.rule}, ctx)


COMMAND_HANDLERS = {
    domain.Nominate: nominate,
    domain.Appraise: appraise,
    domain.Resubmit: resubmit,
    domain.Decide: decide,
    domain.CommendAdHoc: commend_ad_hoc,
    domain.RecordPastAward: record_past_award,
    domain.PlaceHold: place_hold,
    domain.LiftHold: lift_hold,
    domain.DefineRule: define_rule,
}
