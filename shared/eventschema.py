"""Event payload schemas: one marshmallow schema per event type and version, the upcasters
between versions, and the catalogue of every service's published events.

**Where they live.** Each producing service publishes its events in ``services/<name>/events.py``
(a :class:`Contracts`), which imports nothing but marshmallow and ``shared``: it is the
contract, the schema registry of this installation, not the service's code. The catalogue
loads those modules by name (:data:`CONTRACT_MODULES`), so a consumer upcasts a followed
event, and a service's AsyncAPI document describes what it consumes, without a service
importing another.

**On write** (:func:`check`, called by ``shared.aggregate.record``): the payload must load in
the current schema of its type, with no unknown field; a payload that does not is a
programming error (:class:`PayloadError`), raised before the event reaches the store. The
check runs first as the schema's JSON Schema (:func:`json_schema`, the one the AsyncAPI
document publishes) compiled to Python by fastjsonschema, a tenth of marshmallow's time; only a
payload that fails it goes through marshmallow, which has the last word and words the errors.
For the two to agree, a payload schema uses only what JSON Schema says as strictly: field
types, ``required``, ``allow_none`` and the validators in :data:`PORTABLE_VALIDATORS`, no
schema-level hooks (tests/contract/test_event_schemas.py holds every schema to it).

**On read** (:func:`upcast`, called where events leave a store and where they come off Kafka):
an event of an older ``schemaversion`` is brought to the current one by the upcasters, one
version at a time. An event at its current version, or of a type or version this catalogue
does not know (a newer producer), is handed on as it is, for the price of a dictionary look-up.

Personal fields (names, phones, addresses, gender, dates of birth, e-mail) carry
``metadata={"personal": True}``; :func:`personal_fields` lists them per type.
"""
from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import fastjsonschema
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, OpenAPIConverter
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from shared.envelope import Envelope, EnvelopeError, filled

CONTRACT_MODULES = ("services.registration.events", "services.evaluation.events",
                    "services.awards.events", "services.notifications.events")

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# Validators JSON Schema expresses exactly (apispec converts them: enum, minLength, minimum, pattern...);
# an Email field's is its "email" format, which the compiled check runs through the same validator.
PORTABLE_VALIDATORS = (validate.OneOf, validate.Length, validate.Range, validate.Equal, validate.Regexp,
                       validate.Email)


class PayloadError(TypeError):
    """A payload that is not what its event type's schema says: the code that made it is wrong."""

    def __init__(self, type_: str, version: int | None, errors: dict[str, Any]):
        where = f"{type_} v{version}" if version else type_
        super().__init__(f"payload of {where} does not match its schema: {errors}")
        self.type, self.version, self.errors = type_, version, errors


class EventSchema(Schema):
    """A payload schema: every field named, nothing else accepted (a field added without its
    schema fails on write, not in an integrator's parser)."""

    class Meta:
        unknown = RAISE


class DocumentRefSchema(EventSchema):
    """A file an event names (shared.documents): by the hash of its content, uploaded beforehand."""
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    name = fields.String(required=True)
    media_type = fields.String(required=True)
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))


@dataclass(frozen=True)
class EventContract:
    type: str
    version: int
    schema: Schema
    service: str
    upcast: Upcaster | None  # from version - 1 to this one

    @property
    def name(self) -> str:
        """Its name in the AsyncAPI document's components: ``<type>.v<n>``."""
        return f"{self.type}.v{self.version}"

    @property
    def summary(self) -> str:
        return " ".join((type(self.schema).__doc__ or "").split())


class Contracts:
    """The events one service publishes, declared with :meth:`event` on each payload schema."""

    def __init__(self, service: str):
        self.service = service
        self.events: dict[str, dict[int, EventContract]] = {}

    def event(self, type_: str, version: int = 1, upcast: Upcaster | None = None):
        if not type_.startswith(f"{self.service}."):
            raise ValueError(f"{type_} is not an event of {self.service}")
        if (version > 1) != (upcast is not None):
            raise ValueError(f"{type_} v{version}: every version after the first has an upcaster from the one before")

        def declare(schema_cls: type[Schema]) -> type[Schema]:
            versions = self.events.setdefault(type_, {})
            if version != len(versions) + 1:
                raise ValueError(f"{type_}: versions are declared in order, v{len(versions) + 1} is next")
            versions[version] = EventContract(type_, version, schema_cls(), self.service, upcast)
            return schema_cls
        return declare


class Catalogue:
    """Every published event type, each with all its versions."""

    def __init__(self, contracts: list[Contracts]):
        self.by_service = {c.service: c for c in contracts}
        self.versions: dict[str, dict[int, EventContract]] = {}
        for c in contracts:
            self.versions.update(c.events)
        self.current = {t: vs[max(vs)] for t, vs in self.versions.items()}
        self.current_version = {t: c.version for t, c in self.current.items()}

    def contract(self, type_: str, version: int) -> EventContract:
        return self.versions[type_][version]

    def of_service(self, service: str) -> list[EventContract]:
        """The current contract of each event type ``service`` publishes."""
        return [self.current[t] for t in self.by_service[service].events]


_catalogue: Catalogue | None = None


def catalogue() -> Catalogue:
    """Loaded at first use (the contract modules import this one)."""
    global _catalogue
    if _catalogue is None:
        _catalogue = Catalogue([importlib.import_module(m).contracts for m in CONTRACT_MODULES])
    return _catalogue


def check(type_: str, data: dict[str, Any]) -> int:
    """The current schema version of ``type_``, once ``data`` is known to match it."""
    contract = catalogue().current.get(type_)
    if contract is None:
        raise PayloadError(type_, None, {"type": ["no payload schema declares this event type (services/*/events.py)"]})
    fast = _compiled.get(contract.name) or _compile(contract)
    try:
        fast(data)
        return contract.version
    except fastjsonschema.JsonSchemaValueException:
        pass  # marshmallow decides, and says why
    errors = contract.schema.validate(data)
    if errors:
        raise PayloadError(type_, contract.version, errors)
    return contract.version


def upcast(event: Envelope) -> Envelope:
    """The event at the current version of its type's schema (the same object when it is)."""
    c = _catalogue or catalogue()
    current = c.current_version.get(event.type)
    if current is None or event.schemaversion >= current:
        return event
    versions = c.versions[event.type]
    data = event.data
    try:
        for version in range(event.schemaversion + 1, current + 1):
            data = versions[version].upcast(dict(data))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # not the v1 it says it is: a poison event
        raise EnvelopeError({"data": [f"{event.type} v{event.schemaversion} cannot be upcast to v{current}: "
                                      f"{exc!r}"]}) from exc
    return filled(Envelope, {**event.__dict__, "data": data, "schemaversion": current})


_compiled: dict[str, Callable[[Any], Any]] = {}
_json_schemas: dict[str, dict[str, Any]] = {}


def json_schema(contract: EventContract) -> dict[str, Any]:
    """The payload schema as JSON Schema (nested schemas inline; personal fields ``x-personal``):
    a copy of its own for each caller, since documents are built from it and changed."""
    found = _json_schemas.get(contract.name)
    if found is None:
        found = _json_schemas[contract.name] = _converter().schema2jsonschema(contract.schema)
    return copy.deepcopy(found)


_the_converter: OpenAPIConverter | None = None


def _converter() -> OpenAPIConverter:
    global _the_converter
    if _the_converter is None:
        def inline(_schema):  # no name: apispec writes nested schemas in place rather than as $refs
            return None
        spec = APISpec("events", "1", "3.1.0", plugins=[MarshmallowPlugin(schema_name_resolver=inline)])
        _the_converter = OpenAPIConverter("3.1.0", inline, spec)
        _the_converter.add_attribute_function(_personal_attribute)
    return _the_converter


def _personal_attribute(self, field, **_) -> dict[str, Any]:
    return {"x-personal": True} if field.metadata.get("personal") else {}


def _is_date(value: Any) -> bool:
    try:
        return len(value) == 10 and bool(date.fromisoformat(value))
    except (TypeError, ValueError):
        return False


_email = validate.Email()


def _is_email(value: Any) -> bool:
    try:
        return bool(_email(value))
    except ValidationError:
        return False


def _compile(contract: EventContract) -> Callable[[Any], Any]:
    """The JSON Schema as a Python function; formats checked as marshmallow checks them, or more strictly."""
    compiled = _compiled[contract.name] = fastjsonschema.compile(
        json_schema(contract), formats={"date": _is_date, "email": _is_email}, use_default=False)
    return compiled


def personal_fields(type_: str, version: int | None = None) -> list[str]:
    """Dotted paths of the personal fields of a payload (``participant.name``; a list's items
    are reached through it: ``pledges.content`` if a pledge's content were personal)."""
    c = catalogue()
    contract = c.current[type_] if version is None else c.contract(type_, version)
    return _personal(contract.schema, "")


def _personal(schema: Schema, prefix: str) -> list[str]:
    found = []
    for name, field in schema.fields.items():
        key = f"{prefix}{field.data_key or name}"
        if field.metadata.get("personal"):
            found.append(key)
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            found += _personal(inner.schema, key + ".")
    return found
