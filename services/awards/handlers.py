"""Command handlers of awards: gather the case from the projections, let the aggregate decide.

The routing table is at the bottom.
"""
import json
from datetime import date

from sqlalchemy import Connection, func, select

from shared.aggregate import CommandContext, Stream, rehydrate, record, record_all
from shared.envelope import Envelope
from shared.errors import NotFound, NotYetSeen
from shared.eventstore import EventStore

from services.awards import domain
from services.awards.projections import (OWN_EVENTS, ballots, campaigns, councils, evaluations, history, holds,
                                         nominations, orgchart, participants, province_rules, recusals, uploads)
from services.awards.rules import Rulebook, lineage

SECTIONS = {"award": "province_awards", "authority": "province_authorities", "cap": "province_caps"}


def _record(store, conn, stream_id, aggregate, type_, data, ctx) -> Envelope:
    return record(store, conn, stream_id, aggregate, type_, data, ctx, project=OWN_EVENTS)


def rulebook(conn: Connection, province: str) -> Rulebook:
    rows = conn.execute(select(province_rules).where(province_rules.c.province == province)
                        .order_by(province_rules.c.id)).mappings().all()
    book = Rulebook()
    for row in rows:
        getattr(book, SECTIONS[row["section"]]).append(json.loads(row["body"]))
    return book


def _campaign(conn, campaign_id, province) -> dict | None:
    """The campaign, its row locked until the command's transaction ends: on PostgreSQL two decisions
    of one campaign then count its quota and caps one after the other (SQLite serialises writers)."""
    row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id, campaigns.c.province == province)
                       .with_for_update()).mappings().first()
    if row is None:
        return None
    return {**row, "period_end": row["period_end"].isoformat(), "deadlines": json.loads(row["deadlines"]),
            "award_plan": json.loads(row["award_plan"])}


def _case(conn, province, participant_id, campaign_id=None, registration_id=None, award=None,
          participant_kind=None, on: date | None = None, stage: str = "decision", exclude: str | None = None,
          head_unit: str | None = None) -> domain.Case:
    """What a decision on ``award`` for this participant needs to know. ``on`` picks the caps in
    force; ``stage`` says whether caps count open nominations or decided awards; ``head_unit``, when
    given, is the unit whose head acts (the participant must be in it or under it)."""
    participant = evaluation = None
    if registration_id:
        row = conn.execute(select(participants).where(participants.c.registration_id == registration_id,
                                                      participants.c.province == province)).mappings().first()
        participant = dict(row) if row else None
        participant_id = participant["participant_id"] if participant else participant_id
        participant_kind = participant["participant_kind"] if participant else participant_kind
        evaluation = _evaluation(conn, registration_id)
    # a person's identity survives the 2025 mergers: awards made under a predecessor province count
    past = conn.execute(select(history).where(history.c.participant_id == participant_id,
                                              history.c.province.in_(lineage(province)))).mappings().all()
    held = conn.execute(select(holds).where(holds.c.participant_id == participant_id,
                                            holds.c.province == province)).mappings().all()
    same = conn.execute(select(nominations).where(nominations.c.registration_id == registration_id,
                                                  nominations.c.award == award)).mappings().all() \
        if registration_id else []
    same_award = conn.execute(select(nominations).where(
        nominations.c.participant_id == participant_id, nominations.c.award == award,
        nominations.c.province.in_(lineage(province)))).mappings().all() if award else []
    book = rulebook(conn, province)
    campaign = _campaign(conn, campaign_id, province) if campaign_id else None
    used, caps = 0, ()
    if campaign and award:
        used = quota_used(conn, campaign, award, participant_kind or "both")
        if participant is not None and on is not None:
            caps = _caps(conn, book, on, stage, province, campaign_id, participant, award, exclude)
    in_scope = head_unit is None or (participant is not None and
                                     orgchart.within(conn, province, participant["unit_id"], head_unit))
    return domain.Case(rulebook=book, campaign=campaign, participant=participant,
                       evaluation=evaluation, history=tuple(dict(h) for h in past),
                       holds=tuple(dict(h) for h in held), same_achievement=tuple(dict(n) for n in same),
                       same_award=tuple(dict(n) for n in same_award), quota_used=used, caps=caps,
                       proposer_in_scope=in_scope, **_council_vote(conn, province, registration_id, award))


def _council_vote(conn, province, registration_id, award) -> dict:
    """The council's latest ballot on this candidate and award (a closed one before an open one), and
    whether the province keeps its councils here at all."""
    kept = conn.execute(select(councils.c.id).where(councils.c.province == province).limit(1)).first() is not None
    ballot = None
    if registration_id and award:
        rows = conn.execute(select(ballots).where(ballots.c.province == province,
                                                  ballots.c.registration_id == registration_id,
                                                  ballots.c.award == award)).mappings().all()
        if rows:
            ballot = dict(max(rows, key=lambda b: (b["status"] == "closed", b["closed_at"] or "")))
    return {"ballot": ballot, "councils_kept": kept}


def _recusals(conn, province: str, person_id: str, participant_id: str | None) -> tuple[dict, ...]:
    rows = conn.execute(select(recusals).where(recusals.c.province == province, recusals.c.person_id == person_id,
                                               recusals.c.participant_id == participant_id)).mappings().all()
    return tuple(dict(r) for r in rows)


def _evaluation(conn, registration_id) -> dict | None:
    ev = conn.execute(select(evaluations).where(evaluations.c.registration_id == registration_id)).mappings().first()
    return {**ev, "metrics": json.loads(ev["metrics"]), "results": json.loads(ev["results"])} if ev else None


def quota_used(conn, campaign: dict, award: str, participant_kind: str) -> int:
    """Valid awards of the campaign that count against its plan for ``award`` (a revoked one does not)."""
    plan = domain._quota(campaign, award, participant_kind)
    query = select(func.count()).select_from(history).where(
        history.c.campaign_id == campaign["id"], history.c.award == award, history.c.status == "valid")
    if plan and plan.get("applies_to", "both") != "both":
        query = query.where(history.c.participant_kind == plan["applies_to"])
    return conn.execute(query).scalar_one()


def _unit_key(p) -> str:
    return p["unit_id"] or p["unit"]


def _caps(conn, book: Rulebook, on: date, stage: str, province: str, campaign_id: str, participant: dict,
          award: str, exclude: str | None) -> tuple[dict, ...]:
    """For each cap in force that would count this case: how many of the unit's others it counts in
    this campaign, and its base (RULES.md: a cap is per unit and campaign)."""
    caps = book.caps(on)
    if not caps:
        return ()
    unit = _unit_key(participant)
    people = [dict(p) for p in conn.execute(select(participants).where(
        participants.c.campaign_id == campaign_id, participants.c.province == province,
        participants.c.status != "withdrawn")).mappings() if _unit_key(p) == unit]
    ratings = {p["registration_id"]: ((_evaluation(conn, p["registration_id"]) or {}).get("metrics") or {})
               .get("rating") for p in people}
    counted_status = ("decided",) if stage == "decision" else None
    rows = conn.execute(select(nominations).where(nominations.c.campaign_id == campaign_id,
                                                  nominations.c.registration_id.in_(list(ratings)))).mappings()
    held = [n for n in rows if n["id"] != exclude and (
        n["status"] in counted_status if counted_status else n["status"] not in ("rejected", "revoked"))]

    def matching_nominations(selector) -> list:
        return [n for n in held if (selector.get("award") in (None, n["award"])) and
                (not selector.get("rating") or ratings.get(n["registration_id"]) in selector["rating"])]

    def base(selector) -> int:
        if selector.get("award"):
            return len({n["participant_id"] for n in matching_nominations(selector)})
        return sum(1 for p in people if ratings[p["registration_id"]] in selector.get("rating", ()))

    own_rating = ratings.get(participant["registration_id"])
    found = []
    for cap in caps:
        counts = cap["counts"]
        if counts.get("award") not in (None, award) or (counts.get("rating") and own_rating not in counts["rating"]):
            continue
        found.append({"cap": cap, "counted": len(matching_nominations(counts)), "base": base(cap["of"])})
    return tuple(found)


def _nomination(store, conn, nomination_id) -> domain.Nomination:
    return rehydrate(store, conn, f"nomination-{nomination_id}", domain.Nomination(nomination_id))


def check_documents(conn: Connection, province: str, dossier: dict) -> None:
    """A dossier names only files uploaded to awards in its province (422 naming the field otherwise)."""
    uploads.check(conn, province, dossier.get("documents") or [], "dossier.documents")


def nominate(store: EventStore, conn: Connection, cmd: domain.Nominate, ctx: CommandContext) -> Envelope:
    check_documents(conn, cmd.province, cmd.dossier)
    case = _case(conn, cmd.province, None, cmd.campaign_id, cmd.registration_id, cmd.award,
                 on=cmd.submitted_on, stage="nomination", head_unit=cmd.proposer_unit or "")
    if case.campaign is None or case.participant is None:
        missing = "phong trào" if case.campaign is None else "đăng ký thi đua"
        raise NotYetSeen(f"Khen thưởng chưa nhận được {missing} này: nếu vừa gửi, hãy thử lại sau giây lát",
                         rule="nomination.known")
    nomination = _nomination(store, conn, cmd.nomination_id)
    return record_all(store, conn, f"nomination-{cmd.nomination_id}", nomination, nomination.nominate(cmd, case),
                      ctx, project=OWN_EVENTS)


def appraise(store: EventStore, conn: Connection, cmd: domain.Appraise, ctx: CommandContext) -> Envelope:
    nomination = _nomination(store, conn, cmd.nomination_id)
    case = domain.Case(rulebook=Rulebook(), recusals=_recusals(
        conn, cmd.province, cmd.appraiser, nomination.participant.get("participant_id")) if cmd.appraiser else ())
    return _record(store, conn, f"nomination-{cmd.nomination_id}", nomination, domain.NOMINATION_APPRAISED,
                   nomination.appraise(cmd, case), ctx)


def resubmit(store: EventStore, conn: Connection, cmd: domain.Resubmit, ctx: CommandContext) -> Envelope:
    check_documents(conn, cmd.province, cmd.dossier)
    nomination = _nomination(store, conn, cmd.nomination_id)
    case = domain.Case(rulebook=rulebook(conn, cmd.province), proposer_in_scope=orgchart.within(
        conn, cmd.province, nomination.proposer_unit, cmd.head_unit),
        **_council_vote(conn, cmd.province, nomination.registration_id, nomination.award))
    return _record(store, conn, f"nomination-{cmd.nomination_id}", nomination, domain.NOMINATION_RESUBMITTED,
                   nomination.resubmit(cmd, case), ctx)


def decide(store: EventStore, conn: Connection, cmd: domain.Decide, ctx: CommandContext) -> Envelope:
    nomination = _nomination(store, conn, cmd.nomination_id)
    case = _case(conn, cmd.province, nomination.participant.get("participant_id"), nomination.campaign_id,
                 nomination.registration_id, nomination.award, nomination.participant.get("participant_kind"),
                 on=cmd.decision_date, exclude=cmd.nomination_id)
    return _record(store, conn, f"nomination-{cmd.nomination_id}", nomination, domain.AWARD_DECIDED,
                   nomination.decide(cmd, case), ctx)


def commend_ad_hoc(store: EventStore, conn: Connection, cmd: domain.CommendAdHoc,
                   ctx: CommandContext) -> Envelope:
    nomination = _nomination(store, conn, cmd.nomination_id)
    case = _case(conn, cmd.province, cmd.participant["participant_id"], cmd.campaign_id, None, cmd.award,
                 cmd.participant["participant_kind"])
    if cmd.campaign_id is not None and case.campaign is None:
        raise NotYetSeen(f"Khen thưởng chưa nhận được phong trào {cmd.campaign_id}: nếu vừa phát động, hãy thử "
                         "lại sau giây lát", rule="nomination.known")
    return _record(store, conn, f"nomination-{cmd.nomination_id}", nomination, domain.AWARD_DECIDED,
                   nomination.commend_ad_hoc(cmd, case), ctx)


def record_past_award(store: EventStore, conn: Connection, cmd: domain.RecordPastAward,
                      ctx: CommandContext) -> Envelope:
    rule = rulebook(conn, cmd.province).award(cmd.award, cmd.decision_date)
    data = {"record_id": cmd.record_id, "participant": cmd.participant, "award": cmd.award,
            "award_name": rule["name"] if rule else cmd.award, "year": cmd.year, "kind": cmd.kind,
            "decision_number": cmd.decision_number, "decision_date": cmd.decision_date.isoformat(),
            "issuer": cmd.issuer, "level": cmd.issuer_level,
            "imported": True, "imported_by": cmd.imported_by, "imported_on": cmd.imported_on.isoformat()}
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


def revoke_award(store: EventStore, conn: Connection, cmd: domain.RevokeAward, ctx: CommandContext) -> Envelope:
    award = conn.execute(select(history).where(history.c.id == cmd.award_id,
                                               history.c.province == cmd.province)).mappings().first()
    if award is None:
        raise NotFound(f"Không có khen thưởng {cmd.award_id}")
    # the award lives in the stream that recorded it: a nomination's (decided, ad hoc, step 5) or an import's
    decided = conn.execute(select(nominations.c.id).where(nominations.c.id == cmd.award_id)).first()
    stream = f"nomination-{cmd.award_id}" if decided else f"record-{cmd.award_id}"
    aggregate = _nomination(store, conn, cmd.award_id) if decided else rehydrate(store, conn, stream, Stream(stream))
    # the campaign's row is locked like a decision's: a reopened quota place is counted in order
    if award["campaign_id"]:
        _campaign(conn, award["campaign_id"], cmd.province)
    return _record(store, conn, stream, aggregate, domain.AWARD_REVOKED,
                   domain.revocation(cmd, dict(award), rulebook(conn, cmd.province)), ctx)


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
    domain.RevokeAward: revoke_award,
    domain.DefineRule: define_rule,
}
