"""A person's erasure (quyền xóa dữ liệu cá nhân), decided by registration for the whole platform.

The department (or an operator) of a province asks for it — ``POST /people/<id>/erasure`` or
``thidua forget`` — with the reference of the person's request. Registration destroys the
person's key in the key store first (so the data is unreadable everywhere from that moment,
whatever happens next), then records ``registration.person.erased`` in the stream
``person-<province>:<id>``: the id, the reference and the date, no personal data. Every service
follows it and erases the copies in its projection (:mod:`shared.privacy.erasure`). A request
repeated after a failure between the two finds the key destroyed and records the event; one
repeated after the event is refused (409), but destroys the key again first, should the key
store have been restored from a backup older than the erasure.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import Connection, select

from shared import auth
from shared.aggregate import CommandContext, record
from shared.blueprint import Blueprint
from shared.envelope import Envelope
from shared.errors import NotFound, RuleViolation
from shared.eventstore import EventStore
from shared.privacy import erasure
from shared.privacy.erasure import PERSON_ERASED, Erasable, by, mentioning
from shared.service import execute, runtime, today

from services.registration.exemplars import exemplars
from services.registration.projections import members, registrations

ERASERS = ("department", "operator")
assert PERSON_ERASED == "registration.person.erased"  # this service's event; its followers name it from shared

ERASABLE = [
    Erasable(registrations, by("participant_id"), names=("name",)),
    Erasable(members, by("person_id"), names=("name",), cleared=("gender",)),
    Erasable(exemplars, mentioning("details"), json=("details",)),
    Erasable(exemplars, lambda t, person: t.c.id.in_(
        select(exemplars.c.id).where(exemplars.c.details.contains(f'"participant_id": "{person}"'),
                                     exemplars.c.kind != "collective")), names=("name",)),
]


@dataclass(frozen=True)
class ErasePerson:
    person_id: str
    province: str
    request_reference: str  # the person's request (its number), never their data
    erased_on: date


@dataclass
class Person:
    """A person's stream: only their erasure is recorded there."""
    id: str
    version: int = 0
    erased_on: str | None = None

    def erase(self, cmd: ErasePerson, known: bool, key_destroyed: bool) -> dict[str, Any]:
        if self.erased_on:
            raise RuleViolation(f"Dữ liệu cá nhân của {cmd.person_id} đã được xóa ngày {self.erased_on}",
                                rule="person.erase_once", details={"erased_on": self.erased_on})
        if not known:
            raise NotFound(f"Không có dữ liệu cá nhân của {cmd.person_id} trong tỉnh này")
        return {"person_id": cmd.person_id, "request_reference": cmd.request_reference,
                "erased_on": cmd.erased_on.isoformat(), "key_destroyed": key_destroyed}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == PERSON_ERASED:
            self.erased_on = data["erased_on"]
        self.version += 1


def stream_of(province: str, person_id: str) -> str:
    return f"person-{province}:{person_id}"


def erase_person(store: EventStore, conn: Connection, cmd: ErasePerson, ctx: CommandContext) -> Envelope:
    if store.protector is None:
        raise RuleViolation("Kho khóa (KEYSTORE_URL) đang tắt: không xóa được dữ liệu cá nhân (the key store "
                            "is off)", rule="person.keystore")
    stream = stream_of(cmd.province, cmd.person_id)
    person = Person(cmd.person_id)
    for event in store.load(conn, stream):
        person.apply(event.type, event.data, event.province)
    if person.erased_on:  # recorded already: make sure of the key (a key store restored from before it)
        store.protector.forget(cmd.province, cmd.person_id)
    state = store.protector.keys.state(cmd.province, cmd.person_id)
    known = state != "absent" or _in_projection(conn, cmd.province, cmd.person_id)
    data = person.erase(cmd, known, key_destroyed=False)  # refuses before anything is destroyed
    data["key_destroyed"] = store.protector.forget(cmd.province, cmd.person_id)
    return record(store, conn, stream, person, PERSON_ERASED, data, ctx, project=OWN_EVENTS)


def _in_projection(conn: Connection, province: str, person_id: str) -> bool:
    """A person registered before sealing began (plaintext events only) has no key, but copies."""
    return any(conn.execute(select(t.c.province).where(t.c.province == province, t.c[c] == person_id)
                            .limit(1)).first() for t, c in ((registrations, "participant_id"),
                                                            (members, "person_id")))


COMMAND_HANDLERS = {ErasePerson: erase_person}
OWN_EVENTS = {PERSON_ERASED: erasure.handler(ERASABLE)}


# -- HTTP ------------------------------------------------------------------------------------
class ErasureRequestSchema(Schema):
    request_reference = fields.String(required=True, validate=validate.Length(min=2, max=200), metadata={
        "description": "số, ký hiệu của đơn yêu cầu xóa (the request's reference): no personal data"})


class ErasureSchema(Schema):
    person_id = fields.String()
    province = fields.String()
    erased_on = fields.String(metadata={"format": "date"})
    event_id = fields.String()
    key_destroyed = fields.Boolean(metadata={"description": "false when the key had been destroyed already "
                                                            "or the person's data was only ever in clear"})


blp = Blueprint("people", __name__, description="Dữ liệu cá nhân: xóa theo yêu cầu (erasure)")


@blp.route("/people/<person_id>/erasure")
class Erasure(MethodView):
    @blp.arguments(ErasureRequestSchema)
    @blp.response(201, ErasureSchema)
    def post(self, body, person_id):
        """Xóa dữ liệu cá nhân của một người trong tỉnh: hủy khóa của người đó; mọi dịch vụ hiển thị
        «(đã xóa theo yêu cầu)» thay cho dữ liệu, chuỗi băm và nhật ký vẫn nguyên vẹn."""
        auth.require_role(*ERASERS)
        province = auth.province_for(request_province())
        cmd = ErasePerson(person_id, province, body["request_reference"], today())
        event = execute(COMMAND_HANDLERS, cmd, province, stream_of(province, person_id))
        return {**event.data, "province": province, "event_id": event.id}

    @blp.response(200, ErasureSchema)
    def get(self, person_id):
        """Đã xóa chưa: the erasure of a person, if recorded."""
        auth.require_role(*ERASERS)
        province = auth.province_for(request_province())
        rt = runtime()
        with rt.db.read() as conn:
            found = rt.store.load(conn, stream_of(province, person_id))
        if not found:
            raise NotFound(f"Chưa có yêu cầu xóa dữ liệu của {person_id} trong tỉnh này")
        return {**found[-1].data, "province": province, "event_id": found[-1].id}


def request_province() -> str | None:
    from flask import request
    return request.args.get("province")
