"""Step 5 of the exemplar progression, owned by awards: Khen thưởng, trình cấp trên.

After the council's review (step 4, an event of evaluation that awards consumed),
the head judges the exemplar's influence and spread and either commends it within
the head's own authority (a decision, at once) or nominates it to the higher
authority — a nomination that then goes through appraisal and decision like any
other. Exemplar commendations are thematic: they never count toward merit chains.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import Column, Connection, String, Table, Text, select

from shared import auth, progression
from shared.aggregate import CommandContext, rehydrate, record, record_all
from shared.blueprint import Blueprint
from shared.envelope import Envelope
from shared.errors import Forbidden, RuleViolation
from shared.eventstore import EventStore
from shared.service import execute, runtime, today

from services.awards import domain, handlers
from services.awards.api import deciding_level, issuer_of, proposer_level
from services.awards.projections import OWN_EVENTS as AWARD_EVENTS, metadata, orgchart
from services.awards.schemas import LEVELS, DossierSchema

RECOGNISED = "awards.exemplar.recognised"

reviewed = Table(
    "exemplar_reviews", metadata,
    Column("exemplar_id", String(36), primary_key=True),
    Column("province", String(16), nullable=False),
    Column("summary", Text, nullable=False),
    Column("outcome", String(20), nullable=True),
    Column("nomination_id", String(36), nullable=True),
)


@dataclass(frozen=True)
class RecogniseExemplar:
    exemplar_id: str
    province: str
    influence: str
    spread_units: int
    outcome: str  # "commended" or "nominated"
    award: str
    level: str  # the head's own level (token): conferred at, or proposed from
    issuer: str  # the head (token)
    head_unit: str | None  # a unit head's unit (token): the exemplar must be in its scope
    decision_number: str | None
    dossier: dict[str, Any]
    on: date  # the server's date: of the decision, or of the proposal
    review_event_id: str
    nomination_id: str


@dataclass
class Recognition:
    id: str
    version: int = 0

    def recognise(self, cmd: RecogniseExemplar, summary: dict[str, Any], case: domain.Case) -> dict[str, Any]:
        if self.version:
            raise RuleViolation("Điển hình này đã được xem xét khen thưởng", rule="exemplar.recognise_once")
        if not case.proposer_in_scope:
            raise Forbidden(f"Điển hình {summary['name']} không thuộc đơn vị của thủ trưởng ({cmd.head_unit}) hay "
                            "đơn vị trực thuộc", rule="auth.unit_scope")
        on = cmd.on
        rule = domain._award_rule(case, cmd.award, on)
        domain._check_applies(rule, summary["kind"])
        domain._check_holds(case)
        domain._check_once_per_person(rule, case)
        if cmd.outcome == "commended":
            domain._check_competent(case, cmd.award, cmd.level, on, rule["name"])
            domain._check_quota(case, cmd.award, rule["name"], summary["kind"])
        else:
            domain._check_dossier(cmd.dossier)
        return {**summary, "influence": cmd.influence, "spread_units": cmd.spread_units, "outcome": cmd.outcome,
                "award": cmd.award, "award_name": rule["name"], "rule_source": rule["source"],
                "level": cmd.level, "nomination_id": cmd.nomination_id}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        self.version += 1


def on_reviewed(conn: Connection, event: Envelope) -> None:
    progression.record_step(conn, event)
    summary = {k: event.data[k] for k in ("exemplar_id", "campaign_id", "phase", "kind", "name", "participant_id",
                                          "unit_id")}
    conn.execute(reviewed.insert(), dict(exemplar_id=event.data["exemplar_id"], province=event.province,
                                         summary=json.dumps(summary, ensure_ascii=False)))


def on_recognised(conn: Connection, event: Envelope) -> None:
    progression.record_step(conn, event)
    conn.execute(reviewed.update().where(reviewed.c.exemplar_id == event.data["exemplar_id"])
                 .values(outcome=event.data["outcome"], nomination_id=event.data["nomination_id"]))


FOLLOWED_EVENTS = {"evaluation.exemplar.reviewed": on_reviewed}
OWN_EVENTS = {RECOGNISED: on_recognised}
PROJECT = {**AWARD_EVENTS, **OWN_EVENTS}


def _participant(summary: dict[str, Any]) -> dict[str, Any]:
    return {"participant_id": summary["participant_id"], "participant_kind": summary["kind"],
            "name": summary["name"], "unit": summary.get("unit_id") or summary["name"]}


def recognise(store: EventStore, conn: Connection, cmd: RecogniseExemplar, ctx: CommandContext) -> Envelope:
    handlers.check_documents(conn, cmd.province, cmd.dossier)
    row = conn.execute(select(reviewed).where(reviewed.c.exemplar_id == cmd.exemplar_id,
                                              reviewed.c.province == cmd.province)).mappings().one()
    summary = json.loads(row["summary"])
    case = handlers._case(conn, cmd.province, summary["participant_id"], summary["campaign_id"], None, cmd.award,
                          summary["kind"])
    if cmd.head_unit is not None:  # a unit head commends or proposes only within their unit
        case = replace(case, proposer_in_scope=orgchart.within(conn, cmd.province, summary.get("unit_id"),
                                                               cmd.head_unit))
    stream = f"exemplar-{cmd.exemplar_id}"
    recognition = rehydrate(store, conn, stream, Recognition(cmd.exemplar_id))
    step = record(store, conn, stream, recognition, RECOGNISED, recognition.recognise(cmd, summary, case),
                  ctx.caused_by(cmd.review_event_id), project=PROJECT)
    nomination = domain.Nomination(cmd.nomination_id)
    follow = ctx.caused_by(step.id)
    n_stream, participant = f"nomination-{cmd.nomination_id}", _participant(summary)
    if cmd.outcome == "commended":
        data = domain._decided(cmd.nomination_id, cmd.award, step.data["award_name"], participant,
                               summary["campaign_id"], "thematic", cmd.on.year, cmd.decision_number,
                               cmd.on, cmd.level, cmd.issuer)
        record(store, conn, n_stream, nomination, domain.AWARD_DECIDED, data, follow, project=PROJECT)
        return step
    path = case.rulebook.escalation_path(cmd.level, cmd.award, cmd.on)
    if path is None:
        raise RuleViolation(f"Không có cấp nào có thẩm quyền tặng «{step.data['award_name']}»", rule="authority.chain")
    submitted = {"nomination_id": cmd.nomination_id, "campaign_id": summary["campaign_id"],
                 "campaign_title": None, "registration_id": None, "participant": participant,
                 "award": cmd.award, "award_name": step.data["award_name"], "rule_source": step.data["rule_source"],
                 "kind": "thematic", "year": cmd.on.year, "proposer_unit": cmd.head_unit or cmd.issuer,
                 "submitted_to": cmd.level, "submitted_on": cmd.on.isoformat(), "dossier": cmd.dossier,
                 "evaluation_round": None}
    record_all(store, conn, n_stream, nomination,
               [(domain.NOMINATION_SUBMITTED, submitted),
                *domain.escalations(cmd.nomination_id, cmd.level, path, cmd.award, participant)],
               follow, project=PROJECT)
    return step


COMMAND_HANDLERS = {RecogniseExemplar: recognise}


class RecognitionSchema(Schema):
    influence = fields.String(required=True, validate=validate.Length(min=5, max=10000),
                              metadata={"description": "mức độ ảnh hưởng và tính lan tỏa của điển hình"})
    spread_units = fields.Integer(required=True, validate=validate.Range(min=0))
    outcome = fields.String(required=True, validate=validate.OneOf(("commended", "nominated")))
    award = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{2,100}$"))
    level = fields.String(load_default=None, validate=validate.OneOf(LEVELS),
                          metadata={"description": "may only repeat the head's own level (token)"})
    submitted_to = fields.String(load_default=None, validate=validate.OneOf(LEVELS),
                                 metadata={"description": "may only repeat the head's own level (token)"})
    decision_number = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    dossier = fields.Nested(DossierSchema, load_default=dict)

    @validates_schema
    def _what_each_outcome_needs(self, data, **_):
        needs = ("decision_number",) if data["outcome"] == "commended" else ()
        missing = {f: [f"required when outcome is {data['outcome']}"] for f in needs if not data.get(f)}
        if missing:
            raise ValidationError(missing)


class RecognitionViewSchema(Schema):
    exemplar_id = fields.String()
    outcome = fields.String()
    nomination_id = fields.String()


blp = Blueprint("exemplar-recognition", __name__, description="Khen thưởng điển hình, trình cấp trên (bước 5)")


@blp.route("/exemplars/<exemplar_id>/recognition")
class Recognise(MethodView):
    @blp.arguments(RecognitionSchema)
    @blp.response(201, RecognitionViewSchema)
    def post(self, body, exemplar_id):
        """Bước 5: thủ trưởng xem mức độ ảnh hưởng, lan tỏa; khen thưởng theo thẩm quyền hoặc trình cấp trên."""
        principal = auth.require_role("unit_head", "authority")
        province = auth.province_for(None)
        with runtime().db.read() as conn:
            review = progression.require_step(conn, exemplar_id, province, 4)
        head = principal.has_role("unit_head") and not principal.has_role("authority")
        level = proposer_level(principal) if head else deciding_level(principal, None)
        auth.check_own("level", body.pop("level"), level, "Cấp của thủ trưởng")
        auth.check_own("submitted_to", body.pop("submitted_to"), level, "Cấp trình")
        cmd = RecogniseExemplar(exemplar_id=exemplar_id, province=province, review_event_id=review,
                                nomination_id=str(uuid.uuid4()), on=today(), level=level,
                                issuer=issuer_of(principal, level, province),
                                head_unit=(principal.unit or "") if head else None, **body)
        execute(COMMAND_HANDLERS, cmd, province, progression.correlation(exemplar_id), own_story=True)
        return {"exemplar_id": exemplar_id, "outcome": cmd.outcome, "nomination_id": cmd.nomination_id}
