"""The five-step exemplar progression (5 bước nhân rộng điển hình tiên tiến) as a contract.

Each step is one event type of the service that owns it. Every service records in
its own ``exemplar_steps`` table the steps it has seen (its own and those it
consumed), so it checks a step's precondition against its own projection, never by
calling another service. A step's event is caused by the event of the step before
it: its ``causationid`` is that event's id, which the audit verifies.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from marshmallow import fields, validate
from sqlalchemy import Column, Connection, DateTime, Integer, String, Table, select

from shared.envelope import Envelope
from shared.eventschema import EventSchema
from shared.errors import NotYetSeen
from shared.eventstore import metadata


@dataclass(frozen=True)
class Step:
    number: int
    event_type: str
    service: str
    name: str  # Vietnamese, as the plan names it


STEPS = (
    Step(1, "registration.exemplar.selected", "registration", "Xây dựng điển hình (lựa chọn, biểu dương)"),
    Step(2, "notifications.exemplar.publicised", "notifications", "Tuyên truyền, nhân rộng điển hình"),
    Step(3, "registration.exemplar.learning_organised", "registration", "Tổ chức học tập điển hình"),
    Step(4, "evaluation.exemplar.reviewed", "evaluation", "Bình xét việc học tập, làm theo điển hình"),
    Step(5, "awards.exemplar.recognised", "awards", "Khen thưởng, trình cấp trên khen thưởng"),
)
BY_TYPE = {s.event_type: s for s in STEPS}
REGISTERED = "registration.exemplar.registered"


class ExemplarStepSchema(EventSchema):
    """What every step's event carries of the exemplar (registration's summary of it), so that no
    service has to ask another: the base of each step's payload schema."""
    exemplar_id = fields.String(required=True, validate=validate.Length(min=1))
    campaign_id = fields.String(required=True, validate=validate.Length(min=1))
    phase = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("collective", "individual")))
    name = fields.String(required=True, metadata={"personal": True,
                                                  "description": "the school's, or the person's, name"})
    participant_id = fields.String(required=True)
    unit_id = fields.String(required=True, allow_none=True)

exemplar_steps = Table(
    "exemplar_steps", metadata,
    Column("exemplar_id", String(36), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("step", Integer, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("province", String(16), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)


def correlation(exemplar_id: str) -> str:
    return f"exemplar-{exemplar_id}"


def record_step(conn: Connection, event: Envelope) -> None:
    """Remember that this service has seen a step of an exemplar (own or consumed)."""
    step = BY_TYPE[event.type]
    conn.execute(exemplar_steps.insert(), dict(
        exemplar_id=event.data["exemplar_id"], event_id=event.id, step=step.number, event_type=event.type,
        province=event.province, occurred_at=event.time, recorded_at=datetime.now(timezone.utc)))


def step_recorder(conn: Connection, event: Envelope) -> None:
    """A projection updater for the step events a service follows."""
    record_step(conn, event)


def last_event_of_step(conn: Connection, exemplar_id: str, province: str, step: int) -> str | None:
    return conn.execute(select(exemplar_steps.c.event_id).where(
        exemplar_steps.c.exemplar_id == exemplar_id, exemplar_steps.c.province == province,
        exemplar_steps.c.step == step).order_by(exemplar_steps.c.occurred_at.desc()).limit(1)).scalar()


def require_step(conn: Connection, exemplar_id: str, province: str, step: int) -> str:
    """The id of the latest event of ``step`` (the cause of the next step), or a 409 naming it."""
    event_id = last_event_of_step(conn, exemplar_id, province, step)
    if event_id is None:
        needed = STEPS[step - 1]
        raise NotYetSeen(
            f"Chưa thể thực hiện bước {step + 1}: dịch vụ này chưa thấy bước {step} «{needed.name}» của điển hình "
            f"{exemplar_id}. Nếu bước {step} vừa được thực hiện, sự kiện đang được chuyển tới: hãy thử lại sau "
            "giây lát; nếu chưa, hãy thực hiện bước đó trước.", rule="exemplar.step_order",
            details={"missing_step": step, "missing_step_name": needed.name, "owner": needed.service})
    return event_id
