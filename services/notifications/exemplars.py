"""Step 2 of the exemplar progression, owned by notifications: Tuyên truyền, nhân rộng.

The commended exemplar (step 1, an event of registration that notifications
consumed) is publicised to every unit of its province — each unit's inbox — and on
the public page; the publicity is recorded as an event, caused by the selection.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import Column, Connection, DateTime, String, Table, Text, select

from shared import auth, progression
from shared.aggregate import CommandContext, rehydrate, record
from shared.blueprint import Blueprint
from shared.envelope import Envelope
from shared.errors import NotYetSeen, RuleViolation
from shared.eventstore import EventStore
from shared.service import execute, runtime

from services.notifications.projections import deliver, metadata, orgchart

PUBLICISED = "notifications.exemplar.publicised"

exemplars = Table(
    "exemplars", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("summary", Text, nullable=False),
    Column("message", Text, nullable=True),
    Column("publicised_at", DateTime(timezone=True), nullable=True),
)

@dataclass(frozen=True)
class PublicizeExemplar:
    exemplar_id: str
    province: str
    message: str
    channels: tuple[str, ...]
    selection_event_id: str


@dataclass
class Publicity:
    id: str
    version: int = 0

    def publicise(self, cmd: PublicizeExemplar, summary: dict[str, Any], unit_ids: list[str]) -> dict[str, Any]:
        if self.version:
            raise RuleViolation("Điển hình này đã được tuyên truyền", rule="exemplar.publicise_once")
        return {**summary, "message": cmd.message, "channels": list(cmd.channels), "units_notified": unit_ids}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        self.version += 1


# -- projection ----------------------------------------------------------------------------
def on_exemplar_selected(conn: Connection, event: Envelope) -> None:
    progression.record_step(conn, event)
    summary = {k: event.data[k] for k in ("exemplar_id", "campaign_id", "phase", "kind", "name", "participant_id",
                                          "unit_id")}
    conn.execute(exemplars.insert(), dict(id=event.data["exemplar_id"], province=event.province,
                                          summary=json.dumps(summary, ensure_ascii=False)))


def on_publicised(conn: Connection, event: Envelope) -> None:
    d = event.data
    progression.record_step(conn, event)
    conn.execute(exemplars.update().where(exemplars.c.id == d["exemplar_id"])
                 .values(message=d["message"], publicised_at=event.time))
    kind = "Tập thể" if d["kind"] == "collective" else "Cá nhân"
    for unit_id in d["units_notified"]:
        deliver(conn, event, unit_id, "Tuyên truyền, nhân rộng điển hình tiên tiến",
                f"{kind} điển hình «{d['name']}»: {d['message']}")


FOLLOWED_EVENTS = {"registration.exemplar.selected": on_exemplar_selected}
OWN_EVENTS = {PUBLICISED: on_publicised}


def publicise(store: EventStore, conn: Connection, cmd: PublicizeExemplar, ctx: CommandContext) -> Envelope:
    stream = f"exemplar-{cmd.exemplar_id}"
    publicity = rehydrate(store, conn, stream, Publicity(cmd.exemplar_id))
    summary = json.loads(conn.execute(select(exemplars.c.summary).where(exemplars.c.id == cmd.exemplar_id)).scalar())
    units = orgchart.table  # every unit of the province notifications has seen
    unit_ids = conn.execute(select(units.c.id).where(units.c.province == cmd.province)
                            .order_by(units.c.id)).scalars().all()
    return record(store, conn, stream, publicity, PUBLICISED, publicity.publicise(cmd, summary, list(unit_ids)),
                  ctx.caused_by(cmd.selection_event_id), project=OWN_EVENTS)


COMMAND_HANDLERS = {PublicizeExemplar: publicise}


# -- HTTP ------------------------------------------------------------------------------------
class PublicitySchema(Schema):
    message = fields.String(required=True, validate=validate.Length(min=5, max=5000))
    channels = fields.List(fields.String(validate=validate.OneOf(("inbox", "public_page", "press", "meeting"))),
                           load_default=lambda: ["inbox", "public_page"])


class PublicExemplarSchema(Schema):
    exemplar_id = fields.String()
    name = fields.String()
    kind = fields.String()
    phase = fields.String()
    campaign_id = fields.String()
    message = fields.String()
    publicised_at = fields.DateTime()


blp = Blueprint("exemplar-publicity", __name__, description="Tuyên truyền, nhân rộng điển hình (bước 2)")


@blp.route("/exemplars/<exemplar_id>/publicity")
class Publicise(MethodView):
    @blp.arguments(PublicitySchema)
    @blp.response(201, PublicExemplarSchema)
    def post(self, body, exemplar_id):
        """Bước 2: tuyên truyền điển hình đã được biểu dương tới mọi đơn vị trong tỉnh và trên trang công khai."""
        auth.require_role("department", "council")
        province = auth.province_for(None)
        with runtime().db.read() as conn:
            selection = progression.require_step(conn, exemplar_id, province, 1)
        execute(COMMAND_HANDLERS, PublicizeExemplar(exemplar_id, province, body["message"], tuple(body["channels"]),
                                                    selection),
                province, progression.correlation(exemplar_id), own_story=True)
        return _public(province, exemplar_id)


@blp.route("/public/<province>/exemplars")
class PublicExemplars(MethodView):
    @blp.response(200, PublicExemplarSchema(many=True))
    def get(self, province):
        """Trang công khai: các điển hình tiên tiến đã được tuyên truyền (no token needed)."""
        with runtime().db.read() as conn:
            ids = conn.execute(select(exemplars.c.id).where(exemplars.c.province == province,
                                                            exemplars.c.publicised_at.is_not(None))
                               .order_by(exemplars.c.publicised_at)).scalars().all()
        return [_public(province, i) for i in ids]


def _public(province: str, exemplar_id: str) -> dict:
    with runtime().db.read() as conn:
        row = conn.execute(select(exemplars).where(exemplars.c.id == exemplar_id,
                                                   exemplars.c.province == province)).mappings().first()
    if row is None:
        raise NotYetSeen(f"Chưa thấy điển hình {exemplar_id}", rule="exemplar.known")
    return {**json.loads(row["summary"]), "message": row["message"], "publicised_at": row["publicised_at"]}
