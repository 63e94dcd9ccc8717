"""Steps 1 and 3 of the exemplar progression, owned by registration.

Step 1 (Xây dựng điển hình): a candidate exemplar is registered with the fields of
the Gia Lai form (collective: school, address, phone; individual: name, position,
unit, phone), then selected and commended by a head within that head's scope.
Step 3 (Tổ chức học tập): units organise learning from it — only after registration
has seen step 2 (its publicity, an event of notifications).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import Column, Connection, Integer, String, Table, Text, func, select, update

from shared import auth, progression
from shared.aggregate import CommandContext, rehydrate, record
from shared.blueprint import Blueprint
from shared.envelope import Envelope
from shared.errors import Invalid, NotFound, RuleViolation
from shared.eventstore import EventStore
from shared.service import runtime, today

from services.registration import scope
from services.registration.projections import campaigns, metadata, orgchart

EXEMPLAR_REGISTERED = progression.REGISTERED
EXEMPLAR_SELECTED = "registration.exemplar.selected"
LEARNING_ORGANISED = "registration.exemplar.learning_organised"

exemplars = Table(
    "exemplars", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("campaign_id", String(36), nullable=False, index=True),
    Column("phase", String(50), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("name", String(300), nullable=False),
    Column("unit_id", String(100), nullable=True),
    Column("details", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("learning_sessions", Integer, nullable=False),
)


# -- the domain ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RegisterExemplar:
    exemplar_id: str
    province: str
    campaign_id: str
    phase: str
    kind: str
    participant_id: str
    unit_id: str | None
    details: dict[str, Any]
    achievements: str


@dataclass(frozen=True)
class SelectExemplar:
    exemplar_id: str
    province: str
    head: str
    scope_unit_id: str | None  # the head's unit, from the token; None: the whole province (department)
    commendation: str
    commended_on: date  # the server's date


@dataclass(frozen=True)
class OrganiseLearning:
    exemplar_id: str
    province: str
    learning_id: str
    unit_id: str
    held_on: date
    participants: int
    form: str
    publicity_event_id: str


def summary(data: dict[str, Any]) -> dict[str, Any]:
    """What every later step carries of the exemplar, so no service has to ask another."""
    return {k: data[k] for k in ("exemplar_id", "campaign_id", "phase", "kind", "name", "participant_id",
                                 "unit_id")}


@dataclass
class Exemplar:
    id: str
    version: int = 0
    province: str = ""
    status: str = ""
    unit_id: str | None = None
    registered_event: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    def register(self, cmd: RegisterExemplar, campaign_known: bool) -> dict[str, Any]:
        if self.version:
            raise RuleViolation(f"Điển hình {self.id} đã được đăng ký", rule="exemplar.once")
        if not campaign_known:
            raise RuleViolation(f"Không có phong trào thi đua {cmd.campaign_id} trong tỉnh này",
                                rule="exemplar.campaign_exists")
        name = cmd.details["school"] if cmd.kind == "collective" else cmd.details["name"]
        return {"exemplar_id": self.id, "campaign_id": cmd.campaign_id, "phase": cmd.phase, "kind": cmd.kind,
                "name": name, "participant_id": cmd.participant_id, "unit_id": cmd.unit_id,
                "details": cmd.details, "achievements": cmd.achievements}

    def select(self, cmd: SelectExemplar, head_scope: set[str] | None) -> dict[str, Any]:
        """``head_scope``: the units of the head's unit and under it (None: the whole province)."""
        self._exists(cmd.province)
        if self.status != "registered":
            raise RuleViolation("Điển hình này đã được lựa chọn, biểu dương", rule="exemplar.select_once")
        if head_scope is not None and self.unit_id and self.unit_id not in head_scope:
            raise RuleViolation(f"Đơn vị {self.unit_id} của điển hình không thuộc phạm vi quản lý của "
                                f"{cmd.scope_unit_id}: thủ trưởng chỉ lựa chọn, biểu dương trong phạm vi của mình",
                                rule="exemplar.head_scope")
        return {**summary(self.facts), "head": cmd.head, "scope_unit_id": cmd.scope_unit_id,
                "commendation": cmd.commendation, "commended_on": cmd.commended_on.isoformat()}

    def organise_learning(self, cmd: OrganiseLearning) -> dict[str, Any]:
        self._exists(cmd.province)
        return {**summary(self.facts), "learning_id": cmd.learning_id, "learning_unit_id": cmd.unit_id,
                "held_on": cmd.held_on.isoformat(), "participants": cmd.participants, "form": cmd.form}

    def _exists(self, province: str) -> None:
        if not self.version or self.province != province:
            raise NotFound(f"Không có điển hình {self.id}")

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == EXEMPLAR_REGISTERED:
            self.province, self.status, self.unit_id, self.facts = province, "registered", data["unit_id"], data
        elif type_ == EXEMPLAR_SELECTED:
            self.status = "selected"
        self.version += 1


# -- projection ----------------------------------------------------------------------------
def on_exemplar_registered(conn: Connection, event: Envelope) -> None:
    d = event.data
    conn.execute(exemplars.insert(), dict(
        id=d["exemplar_id"], province=event.province, campaign_id=d["campaign_id"], phase=d["phase"],
        kind=d["kind"], name=d["name"], unit_id=d["unit_id"],
        details=json.dumps({"details": d["details"], "achievements": d["achievements"],
                            "participant_id": d["participant_id"]}, ensure_ascii=False),
        status="registered", learning_sessions=0))


def on_exemplar_selected(conn: Connection, event: Envelope) -> None:
    progression.record_step(conn, event)
    conn.execute(update(exemplars).where(exemplars.c.id == event.data["exemplar_id"]).values(status="selected"))


def on_learning_organised(conn: Connection, event: Envelope) -> None:
    progression.record_step(conn, event)
    conn.execute(update(exemplars).where(exemplars.c.id == event.data["exemplar_id"])
                 .values(learning_sessions=exemplars.c.learning_sessions + 1))


OWN_EVENTS = {EXEMPLAR_REGISTERED: on_exemplar_registered, EXEMPLAR_SELECTED: on_exemplar_selected,
              LEARNING_ORGANISED: on_learning_organised}
FOLLOWED_EVENTS = {"notifications.exemplar.publicised": progression.step_recorder}


# -- handlers -------------------------------------------------------------------------------
def _load(store, conn, exemplar_id) -> Exemplar:
    return rehydrate(store, conn, f"exemplar-{exemplar_id}", Exemplar(exemplar_id))


def register_exemplar(store: EventStore, conn: Connection, cmd: RegisterExemplar, ctx: CommandContext) -> Envelope:
    exemplar = _load(store, conn, cmd.exemplar_id)
    known = conn.execute(select(campaigns.c.id).where(campaigns.c.id == cmd.campaign_id,
                                                      campaigns.c.province == cmd.province)).first() is not None
    return record(store, conn, f"exemplar-{cmd.exemplar_id}", exemplar, EXEMPLAR_REGISTERED,
                  exemplar.register(cmd, known), ctx, project=OWN_EVENTS)


def select_exemplar(store: EventStore, conn: Connection, cmd: SelectExemplar, ctx: CommandContext) -> Envelope:
    exemplar = _load(store, conn, cmd.exemplar_id)
    registered = store.load(conn, f"exemplar-{cmd.exemplar_id}")
    head_scope = orgchart.subtree(conn, cmd.province, cmd.scope_unit_id) if cmd.scope_unit_id else None
    data = exemplar.select(cmd, head_scope)
    return record(store, conn, f"exemplar-{cmd.exemplar_id}", exemplar, EXEMPLAR_SELECTED, data,
                  ctx.caused_by(registered[0].id), project=OWN_EVENTS)


def organise_learning(store: EventStore, conn: Connection, cmd: OrganiseLearning, ctx: CommandContext) -> Envelope:
    exemplar = _load(store, conn, cmd.exemplar_id)
    data = exemplar.organise_learning(cmd)
    return record(store, conn, f"exemplar-{cmd.exemplar_id}", exemplar, LEARNING_ORGANISED, data,
                  ctx.caused_by(cmd.publicity_event_id), project=OWN_EVENTS)


COMMAND_HANDLERS = {RegisterExemplar: register_exemplar, SelectExemplar: select_exemplar,
                    OrganiseLearning: organise_learning}


# -- HTTP ------------------------------------------------------------------------------------
class CollectiveFormSchema(Schema):
    school = fields.String(required=True, validate=validate.Length(min=2, max=300))
    address = fields.String(required=True, validate=validate.Length(min=2, max=500))
    phone = fields.String(required=True, validate=validate.Regexp(r"^[0-9 +().-]{6,20}$"))


class IndividualFormSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=300))
    position = fields.String(required=True, validate=validate.Length(min=2, max=200))
    unit = fields.String(required=True, validate=validate.Length(min=2, max=300))
    phone = fields.String(required=True, validate=validate.Regexp(r"^[0-9 +().-]{6,20}$"))


class RegisterExemplarSchema(Schema):
    campaign_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    phase = fields.String(required=True, validate=validate.Length(min=1, max=50),
                          metadata={"description": "e.g. giai đoạn 2021–2023"})
    kind = fields.String(required=True, validate=validate.OneOf(("collective", "individual")))
    participant_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    unit_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    collective = fields.Nested(CollectiveFormSchema, load_default=None)
    individual = fields.Nested(IndividualFormSchema, load_default=None)
    achievements = fields.String(required=True, validate=validate.Length(min=5, max=10000))

    @validates_schema
    def _form_of_its_kind(self, data, **_):
        if not data.get(data["kind"]):
            raise ValidationError(f"required when kind is {data['kind']} (the Gia Lai registration form)",
                                  data["kind"])


class SelectExemplarSchema(Schema):
    """Commended by the caller, within the caller's unit, on the server's date."""
    scope_unit_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                                  metadata={"description": "the unit the head leads: the token's; if sent, must be it"})
    commendation = fields.String(required=True, validate=validate.Length(min=3, max=2000))


class LearningSchema(Schema):
    unit_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100),
                            metadata={"description": "the unit that organised it; a unit head's own by default"})
    held_on = fields.Date(required=True)
    participants = fields.Integer(required=True, validate=validate.Range(min=1))
    form = fields.String(required=True, validate=validate.Length(min=3, max=500),
                         metadata={"description": "hình thức học tập: hội thảo, chuyên đề, tham quan..."})


class ExemplarViewSchema(Schema):
    id = fields.String()
    province = fields.String()
    campaign_id = fields.String()
    phase = fields.String()
    kind = fields.String()
    name = fields.String()
    unit_id = fields.String(allow_none=True)
    status = fields.String()
    learning_sessions = fields.Integer()


class ProgressTargetSchema(Schema):
    phase = fields.String()
    kind = fields.String()
    target = fields.Integer()
    selected = fields.Integer()
    remaining = fields.Integer()


blp = Blueprint("exemplars", __name__, description="Xây dựng và học tập điển hình tiên tiến (bước 1 và 3)")


def _execute(cmd, province: str, exemplar_id: str):
    from shared.service import execute
    return execute(COMMAND_HANDLERS, cmd, province, progression.correlation(exemplar_id), own_story=True)


@blp.route("/exemplars")
class Exemplars(MethodView):
    @blp.arguments(RegisterExemplarSchema)
    @blp.response(201, ExemplarViewSchema)
    def post(self, body):
        """Bước 1: đăng ký điển hình (theo mẫu: tập thể — trường, địa chỉ, điện thoại; cá nhân — họ tên,
        chức vụ, đơn vị, điện thoại)."""
        principal = auth.require_role("unit_head", "department")
        province = auth.province_for(None)
        unit_id = _unit_in_scope(principal, province, body["unit_id"])
        cmd = RegisterExemplar(exemplar_id=str(uuid.uuid4()), province=province, campaign_id=body["campaign_id"],
                               phase=body["phase"], kind=body["kind"], participant_id=body["participant_id"],
                               unit_id=unit_id, details=body[body["kind"]], achievements=body["achievements"])
        _execute(cmd, province, cmd.exemplar_id)
        return _exemplar(cmd.exemplar_id)


@blp.route("/exemplars/<exemplar_id>/selection")
class Selection(MethodView):
    @blp.arguments(SelectExemplarSchema)
    @blp.response(201, ExemplarViewSchema)
    def post(self, body, exemplar_id):
        """Bước 1: thủ trưởng lựa chọn, biểu dương điển hình trong phạm vi quản lý của mình."""
        principal = auth.require_role("unit_head", "department")
        province = auth.province_for(_exemplar(exemplar_id)["province"])
        head = scope.head_unit(principal) or principal.unit  # a department's unit, if its token names one
        auth.check_own("scope_unit_id", body["scope_unit_id"], head, "Đơn vị quản lý")
        cmd = SelectExemplar(exemplar_id, province, principal.subject, head, body["commendation"], today())
        _execute(cmd, province, exemplar_id)
        return _exemplar(exemplar_id)


@blp.route("/exemplars/<exemplar_id>/learning")
class Learning(MethodView):
    @blp.arguments(LearningSchema)
    @blp.response(201, ExemplarViewSchema)
    def post(self, body, exemplar_id):
        """Bước 3: đơn vị tổ chức học tập điển hình (ngày, đơn vị, số người, hình thức)."""
        principal = auth.require_role("unit_head", "department")
        province = auth.province_for(_exemplar(exemplar_id)["province"])
        unit_id = _unit_in_scope(principal, province, body["unit_id"])
        if unit_id is None:
            raise Invalid("Hãy nêu đơn vị tổ chức học tập (unit_id)",
                          errors={"unit_id": ["required: the unit that organised the learning"]})
        rt = runtime()
        with rt.db.read() as conn:
            publicity = progression.require_step(conn, exemplar_id, province, 2)
        cmd = OrganiseLearning(exemplar_id, province, str(uuid.uuid4()), unit_id, body["held_on"],
                               body["participants"], body["form"], publicity)
        _execute(cmd, province, exemplar_id)
        return _exemplar(exemplar_id)


@blp.route("/exemplars/<exemplar_id>")
class ExemplarOne(MethodView):
    @blp.response(200, ExemplarViewSchema)
    def get(self, exemplar_id):
        return _exemplar(exemplar_id)


@blp.route("/campaigns/<campaign_id>/exemplar-progress")
class Progress(MethodView):
    @blp.response(200, ProgressTargetSchema(many=True))
    def get(self, campaign_id):
        """Tiến độ chỉ tiêu điển hình theo giai đoạn (e.g. ít nhất 10 tập thể và 10 cá nhân mỗi giai đoạn)."""
        with runtime().db.read() as conn:
            row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id, campaigns.c.province.in_(
                auth.provinces_visible()))).mappings().first()
            if row is None:
                raise NotFound(f"Không tìm thấy phong trào thi đua {campaign_id}")
            out = []
            for target in json.loads(row["details"]).get("exemplar_targets") or []:
                selected = conn.execute(select(func.count()).select_from(exemplars).where(
                    exemplars.c.campaign_id == campaign_id, exemplars.c.phase == target["phase"],
                    exemplars.c.kind == target["kind"], exemplars.c.status == "selected")).scalar_one()
                out.append({**target, "target": target["min"], "selected": selected,
                            "remaining": max(0, target["min"] - selected)})
        return out


def _unit_in_scope(principal: auth.Principal, province: str, unit_id: str | None) -> str | None:
    """The unit a request is about: a unit head's own by default, and never outside it."""
    head = scope.head_unit(principal)
    if head is None:
        return unit_id
    with runtime().db.read() as conn:
        scope.require_within(conn, province, unit_id or head, head, "unit_id")
    return unit_id or head


def _exemplar(exemplar_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(exemplars).where(exemplars.c.id == exemplar_id, exemplars.c.province.in_(
            auth.provinces_visible()))).mappings().first()
    if row is None:
        raise NotFound(f"Không có điển hình {exemplar_id}")
    return dict(row)
