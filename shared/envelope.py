"""The event envelope (DESIGN §4) and its mapping onto Kafka records.

Every event travels as a CloudEvents 1.0 event with the extension attributes
``province``, ``sequence``, ``correlationid``, ``causationid``, ``actor`` and
``schemaversion``.

Kafka binding: **structured content mode**. The record value is the whole event
as JSON (``application/cloudevents+json``), the record key is the ``subject``
(the aggregate stream id, so one aggregate's events stay in one partition and in
order), and the ``content-type`` header says so. Structured mode was chosen
because the value alone is the complete event: a dead-letter record, a backup
file and a republished record carry everything, and integrators' CloudEvents SDKs
read it as is. W3C trace context, when present, travels in ``traceparent``.
"""
from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import orjson
from marshmallow import Schema, ValidationError, fields, validate

CONTENT_TYPE = "application/cloudevents+json"
_CONTENT_TYPE = CONTENT_TYPE.encode()
SPEC_VERSION = "1.0"
# Where the installation serves its event payload schemas: every service answers
# GET /schemas/<type>/v<n> for every published type (shared.eventschema's catalogue), so one
# public address of any of them will do. The default is registration's on the embedded stack.
SCHEMA_BASE_URL = os.environ.get("EVENT_SCHEMA_BASE_URL", "http://localhost:8001").rstrip("/")


class EnvelopeError(ValueError):
    """A record that is not a valid event envelope; ``errors`` names the fields."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__(f"invalid event envelope: {errors}")
        self.errors = errors


@dataclass(frozen=True)
class Actor:
    id: str
    role: str


@dataclass(frozen=True)
class Envelope:
    type: str
    source: str
    subject: str
    province: str
    data: dict[str, Any]
    actor: Actor
    sequence: int = 0
    correlationid: str = ""
    causationid: str = ""
    schemaversion: int = 1
    # random until it is stored; the store then names its place with it (shared.eventstore.event_id)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    specversion: str = SPEC_VERSION
    datacontenttype: str = "application/json"

    @property
    def dataschema(self) -> str:
        """The JSON Schema of this payload's version, as served (see SCHEMA_BASE_URL)."""
        return schema_url(self.type, self.schemaversion)

    def with_sequence(self, sequence: int, id: str | None = None) -> "Envelope":
        """A copy at this place in its stream (and with this id, when given: the store's)."""
        # a shallow copy: dataclasses.replace re-runs __init__ and costs 5x more
        values = {**self.__dict__, "sequence": sequence}
        if id is not None:
            values["id"] = id
        return filled(Envelope, values)


def schema_url(type_: str, version: int) -> str:
    return f"{SCHEMA_BASE_URL}/schemas/{type_}/v{version}"


def filled(cls: type, values: dict[str, Any]):
    """An instance of the frozen dataclass ``cls`` holding ``values``, one for each of its fields,
    without running its __init__, which sets every field through object.__setattr__ and costs more
    than the rest of what the store does with an event it reads or writes. Nothing is checked or
    defaulted: for values that are already known to be right."""
    obj = object.__new__(cls)
    obj.__dict__.update(values)
    return obj


class ActorSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(min=1))
    role = fields.String(required=True, validate=validate.Length(min=1))


class EnvelopeSchema(Schema):
    specversion = fields.String(required=True, validate=validate.Equal(SPEC_VERSION))
    id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.Regexp(r"^[a-z_]+(\.[a-z_]+)+$"))
    source = fields.String(required=True, validate=validate.Length(min=1))
    subject = fields.String(required=True, validate=validate.Length(min=1))
    time = fields.AwareDateTime(required=True, default_timezone=timezone.utc)
    datacontenttype = fields.String(load_default="application/json")
    dataschema = fields.String(load_default=None)
    province = fields.String(required=True, validate=validate.Length(min=1, max=16))
    sequence = fields.Integer(required=True, validate=validate.Range(min=1))
    correlationid = fields.String(required=True, validate=validate.Length(min=1))
    causationid = fields.String(required=True, validate=validate.Length(min=1))
    actor = fields.Nested(ActorSchema, required=True)
    schemaversion = fields.Integer(load_default=1, validate=validate.Range(min=1))
    data = fields.Dict(required=True)


_schema = EnvelopeSchema()


def to_dict(event: Envelope) -> dict[str, Any]:
    # By hand rather than dataclasses.asdict, which deep-copies the payload (a third of append time).
    return {"type": event.type, "source": event.source, "subject": event.subject, "province": event.province,
            "data": event.data, "actor": {"id": event.actor.id, "role": event.actor.role},
            "sequence": event.sequence, "correlationid": event.correlationid, "causationid": event.causationid,
            "schemaversion": event.schemaversion, "id": event.id,
            "time": event.time.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
            "specversion": event.specversion, "datacontenttype": event.datacontenttype,
            "dataschema": event.dataschema}


def from_stored(body: str) -> Envelope:
    """An event read back from the service's own store: validated when it was written and
    protected by the hash chain since, so it is rebuilt without validating it again
    (``verify_stream`` and the audit still validate every row they check)."""
    d = orjson.loads(body)
    return _from_body(d, datetime.fromisoformat(d["time"].replace("Z", "+00:00")))


def _from_body(body: dict[str, Any], time_: datetime) -> Envelope:
    """The envelope of a body known to be valid (stored by this platform, or checked rule by rule)."""
    actor = body["actor"]
    return filled(Envelope, {
        "type": body["type"], "source": body["source"], "subject": body["subject"], "province": body["province"],
        "data": body["data"], "actor": filled(Actor, {"id": actor["id"], "role": actor["role"]}),
        "sequence": body["sequence"], "correlationid": body["correlationid"], "causationid": body["causationid"],
        "schemaversion": body.get("schemaversion", 1), "id": body["id"], "time": time_,
        "specversion": body["specversion"], "datacontenttype": body.get("datacontenttype", "application/json")})


_FIELDS = frozenset(_schema.fields)
_TYPE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
_UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")


def _text(value, max_length: int | None = None) -> bool:
    return type(value) is str and value != "" and (max_length is None or len(value) <= max_length)


def _plainly_valid(body: dict[str, Any]) -> Envelope | None:
    """The envelope of an event in the form this platform writes it, checked rule by rule as
    EnvelopeSchema checks it, without marshmallow's machinery (a third of what a consumer
    spends per event). Anything else, valid or not (a UUID spelt otherwise, a time with an
    offset, a sequence sent as "3"), gets None and goes through the schema, which also words
    every error. tests/unit/test_envelope.py holds the two to the same answers."""
    if not body.keys() <= _FIELDS:
        return None
    try:
        actor, event_id, time_ = body["actor"], body["id"], body["time"]
        sequence, version = body["sequence"], body.get("schemaversion", 1)
        if not (body["specversion"] == SPEC_VERSION and type(body["data"]) is dict
                and _text(body["type"]) and _TYPE.match(body["type"])
                and _text(body["source"]) and _text(body["subject"]) and _text(body["province"], 16)
                and _text(body["correlationid"]) and _text(body["causationid"])
                and type(sequence) is int and sequence >= 1 and type(version) is int and version >= 1
                and type(actor) is dict and actor.keys() == {"id", "role"}
                and _text(actor["id"]) and _text(actor["role"])
                and type(time_) is str and _UTC_TIME.match(time_)
                and type(body.get("datacontenttype", "")) is str
                and type(body.get("dataschema", "")) is str
                and type(event_id) is str and len(event_id) == 36 and str(uuid.UUID(event_id)) == event_id):
            return None
        moment = datetime.fromisoformat(time_[:-1] + "+00:00")
    except (KeyError, ValueError, TypeError):
        return None
    return _from_body(body, moment)


def from_dict(body: dict[str, Any]) -> Envelope:
    return _plainly_valid(body) or validated(body)


def validated(body: dict[str, Any]) -> Envelope:
    """The envelope through EnvelopeSchema: every rule, every error named."""
    try:
        loaded = _schema.load(body)
    except ValidationError as exc:
        raise EnvelopeError(exc.normalized_messages()) from exc
    loaded.pop("dataschema", None)
    loaded["id"] = str(loaded["id"])
    loaded["actor"] = Actor(**loaded["actor"])
    return Envelope(**loaded)


def canonical_bytes(event: Envelope) -> bytes:
    """The event as canonical JSON: sorted keys, no spaces, UTF-8 (orjson: the same bytes as
    ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)``, six times faster).
    The store hashes exactly these bytes and keeps them as they are."""
    return orjson.dumps(to_dict(event), option=orjson.OPT_SORT_KEYS)


def encode(event: Envelope) -> bytes:
    return canonical_bytes(event)


def decode(value: bytes) -> Envelope:
    try:
        body = orjson.loads(value)
    except orjson.JSONDecodeError as exc:  # bad UTF-8 too
        raise EnvelopeError({"_value": [f"not JSON: {exc}"]}) from exc
    if not isinstance(body, dict):
        raise EnvelopeError({"_value": ["not a JSON object"]})
    return from_dict(body)


def kafka_headers(event: Envelope, traceparent: str | None = None) -> list[tuple[str, bytes]]:
    return record_headers(event.type, event.province, traceparent)


def record_headers(type_: str, province: str, traceparent: str | None = None) -> list[tuple[str, bytes]]:
    """The record's headers from the event's type and province (the relay has them as columns)."""
    headers = [("content-type", _CONTENT_TYPE), ("ce_type", type_.encode()), ("ce_province", province.encode())]
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    return headers
