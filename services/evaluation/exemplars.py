"""Step 4 of the exemplar progression, owned by evaluation: Bình xét việc học tập điển hình.

The council reviews how the units that organised learning (step 3, events of
registration that evaluation consumed) learned and followed, caught up with and
surpassed the exemplar, with its assessment and its vote.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import Column, Connection, Date, Integer, String, Table, Text, select

from shared import auth, progression
from shared.aggregate import CommandContext, rehydrate, record
from shared.blueprint import Blueprint
from shared.envelope import Envelope
from shared.errors import Forbidden, NotFound, RuleViolation
from shared.eventstore import EventStore
from shared.service import execute, runtime, today

from services.evaluation.projections import metadata, orgchart

REVIEWED = "evaluation.exemplar.reviewed"
OUTCOMES = {"learned": "học tập", "followed": "làm theo", "caught_up": "bắt kịp", "surpassed": "vượt qua"}

learning = Table(
    "exemplar_learning", metadata,
    Column("learning_id", String(36), primary_key=True),
    Column("exemplar_id", String(36), nullable=False, index=True),
    Column("province", String(16), nullable=False),
    Column("unit_id", String(100), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("participants", Integer, nullable=False),
    Column("form", String(500), nullable=False),
    Column("summary", Text, nullable=False),
)

reviews = Table(
    "exemplar_reviews", metadata,
    Column("exemplar_id", String(36), primary_key=True),
    Column("province", String(16), nullable=False),
    Column("assessment", Text, nullable=False),
    Column("outcomes", Text, nullable=False),
    Column("reviewed_on", Date, nullable=False),
)


@dataclass(frozen=True)
class ReviewExemplar:
    exemplar_id: str
    province: str
    assessment: str
    outcomes: tuple[dict[str, Any], ...]
    council: dict[str, Any]
    reviewed_on: date  # the server's date
    learning_event_id: str
    council_unit: str | None = None  # a unit's council (the token's unit claim); None: the province's


@dataclass
class Review:
    id: str
    version: int = 0

    def review(self, cmd: ReviewExemplar, summary: dict[str, Any], learned_units: set[str],
               chains: dict[str, list[str]]) -> dict[str, Any]:
        """``chains``: each reviewed unit, with every unit above it."""
        if self.version:
            raise RuleViolation("Điển hình này đã được bình xét", rule="exemplar.review_once")
        outside = sorted(u for u, chain in chains.items() if cmd.council_unit not in chain) \
            if cmd.council_unit is not None else []
        if outside:
            raise Forbidden(f"Các đơn vị {', '.join(outside)} không thuộc đơn vị {cmd.council_unit}: hội đồng thi đua "
                            "của một đơn vị chỉ bình xét trong đơn vị mình", rule="exemplar.review_scope")
        strangers = sorted({o["unit_id"] for o in cmd.outcomes} - learned_units)
        if strangers:
            raise RuleViolation(f"Các đơn vị chưa tổ chức học tập điển hình này: {', '.join(strangers)}",
                                rule="exemplar.review_units_learned")
        if cmd.council["votes_for"] > cmd.council["members_total"]:
            raise RuleViolation("Số phiếu tán thành lớn hơn số thành viên hội đồng", rule="exemplar.council_vote")
        return {**summary, "assessment": cmd.assessment, "outcomes": list(cmd.outcomes), "council": cmd.council,
                "reviewed_on": cmd.reviewed_on.isoformat()}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        self.version += 1


def on_learning_organised(conn: Connection, event: Envelope) -> None:
    d = event.data
    progression.record_step(conn, event)
    summary = {k: d[k] for k in ("exemplar_id", "campaign_id", "phase", "kind", "name", "participant_id", "unit_id")}
    conn.execute(learning.insert(), dict(
        learning_id=d["learning_id"], exemplar_id=d["exemplar_id"], province=event.province,
        unit_id=d["learning_unit_id"], held_on=date.fromisoformat(d["held_on"]), participants=d["participants"],
        form=d["form"], summary=json.dumps(summary, ensure_ascii=False)))


def on_reviewed(conn: Connection, event: Envelope) -> None:
    d = event.data
    progression.record_step(conn, event)
    conn.execute(reviews.insert(), dict(exemplar_id=d["exemplar_id"], province=event.province,
                                        assessment=d["assessment"], outcomes=json.dumps(d["outcomes"]),
                                        reviewed_on=date.fromisoformat(d["reviewed_on"])))


FOLLOWED_EVENTS = {"registration.exemplar.learning_organised": on_learning_organised}
OWN_EVENTS = {REVIEWED: on_reviewed}


def review_exemplar(store: EventStore, conn: Connection, cmd: ReviewExemplar, ctx: CommandContext) -> Envelope:
    stream = f"exemplar-{cmd.exemplar_id}"
    review = rehydrate(store, conn, stream, Review(cmd.exemplar_id))
    rows = conn.execute(select(learning).where(learning.c.exemplar_id == cmd.exemplar_id,
                                               learning.c.province == cmd.province)).mappings().all()
    summary = json.loads(rows[0]["summary"])
    chains = {o["unit_id"]: orgchart.ancestors(conn, cmd.province, o["unit_id"]) for o in cmd.outcomes}
    return record(store, conn, stream, review,
                  REVIEWED, review.review(cmd, summary, {r["unit_id"] for r in rows}, chains),
                  ctx.caused_by(cmd.learning_event_id), project=OWN_EVENTS)


COMMAND_HANDLERS = {ReviewExemplar: review_exemplar}


class OutcomeSchema(Schema):
    unit_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    outcome = fields.String(required=True, validate=validate.OneOf(tuple(OUTCOMES)))
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class CouncilVoteSchema(Schema):
    members_total = fields.Integer(required=True, validate=validate.Range(min=1))
    votes_for = fields.Integer(required=True, validate=validate.Range(min=0))


class ReviewSchema(Schema):
    assessment = fields.String(required=True, validate=validate.Length(min=5, max=10000))
    outcomes = fields.List(fields.Nested(OutcomeSchema), required=True, validate=validate.Length(min=1))
    council = fields.Nested(CouncilVoteSchema, required=True)


class ReviewViewSchema(Schema):
    exemplar_id = fields.String()
    assessment = fields.String()
    outcomes = fields.List(fields.Dict())
    reviewed_on = fields.Date()


blp = Blueprint("exemplar-review", __name__, description="Bình xét việc học tập điển hình (bước 4)")


@blp.route("/exemplars/<exemplar_id>/review")
class ReviewResource(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(201, ReviewViewSchema)
    def post(self, body, exemplar_id):
        """Bước 4: hội đồng bình xét việc học và làm theo, bắt kịp, vượt qua điển hình."""
        council = auth.require_role("council")
        province = auth.province_for(None)
        with runtime().db.read() as conn:
            last_learning = progression.require_step(conn, exemplar_id, province, 3)
        cmd = ReviewExemplar(exemplar_id, province, body["assessment"], tuple(body["outcomes"]), body["council"],
                             today(), last_learning, council.unit)
        execute(COMMAND_HANDLERS, cmd, province, progression.correlation(exemplar_id), own_story=True)
        return _review(exemplar_id)

    @blp.response(200, ReviewViewSchema)
    def get(self, exemplar_id):
        return _review(exemplar_id)


def _review(exemplar_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(reviews).where(reviews.c.exemplar_id == exemplar_id, reviews.c.province.in_(
            auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Điển hình {exemplar_id} chưa được bình xét")
    return {**row, "outcomes": json.loads(row["outcomes"])}
