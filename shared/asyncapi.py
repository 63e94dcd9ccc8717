"""A service's AsyncAPI 3.0 document, generated from the event catalogue (shared.eventschema).

* **Channels** are the Kafka topics: the service's own (``<prefix>.<service>``), which it
  **sends**, and each followed service's, which it **receives** (only the event types it
  handles are listed there: that is what it depends on).
* **Messages** are event types. The record value is the whole CloudEvent in structured mode
  (shared.envelope), so a message's payload is the envelope, its ``type``, ``schemaversion``
  and ``dataschema`` fixed, and its ``data`` the payload schema of the current version
  (``#/components/schemas/<type>.v<n>``; older versions stay listed, since stored events
  still name them). The record headers (``content-type``, ``ce_type``, ``ce_province``,
  ``traceparent``) are the message headers; the Kafka key is the subject (the stream id).
* Kafka bindings: the topic and its partitions, the consumer group, the key.
* The **dead-letter topic** of the service's consumer (``<prefix>.<service>.dlq``,
  shared.consumer): the channel ``dlq`` with the one message ``DeadLetter`` — the original
  record (key, value and headers unchanged) plus the ``dlq-*`` headers that say why and
  where from; sent by the consumer (the operators' ``thidua dlq``, shared.ops.dlq, reads it
  without a consumer group, so no service receives it).
"""
from __future__ import annotations

from typing import Any

import orjson
import yaml
from flask import Blueprint, Response, jsonify

from shared import eventschema
from shared.consumer import dlq_topic
from shared.envelope import CONTENT_TYPE, SPEC_VERSION, schema_url
from shared.errors import NotFound

ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"

_text = {"type": "string", "minLength": 1}
ENVELOPE = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes and this platform's extensions (DESIGN §4)",
    "required": ["specversion", "id", "type", "source", "subject", "time", "province", "sequence",
                 "correlationid", "causationid", "actor", "schemaversion", "data"],
    "properties": {
        "specversion": {"type": "string", "const": SPEC_VERSION},
        "id": {"type": "string", "format": "uuid", "description": "unique event id: the deduplication key"},
        "type": {**_text, "description": "dotted past-tense name: <service>.<aggregate>.<what happened>"},
        "source": {**_text, "description": "the producing service"},
        "subject": {**_text, "description": "the aggregate stream id; also the Kafka record key"},
        "time": {"type": "string", "format": "date-time", "description": "when it happened, UTC"},
        "datacontenttype": {"type": "string", "const": "application/json"},
        "dataschema": {"type": "string", "format": "uri",
                       "description": "the payload's JSON Schema, served at /schemas/<type>/v<n>"},
        "province": {"type": "string", "minLength": 1, "maxLength": 16, "description": "the tenant"},
        "sequence": {"type": "integer", "minimum": 1, "description": "the stream version this event made"},
        "correlationid": {**_text, "description": "ties one case's or one exemplar's whole story together"},
        "causationid": {**_text, "description": "the event or command that caused this one"},
        "actor": {"type": "object", "required": ["id", "role"], "additionalProperties": False,
                  "properties": {"id": _text, "role": _text}},
        "schemaversion": {"type": "integer", "minimum": 1, "description": "the payload schema's version"},
        "data": {"type": "object"},
    },
    "additionalProperties": False,
}
HEADERS = {
    "type": "object",
    "description": "Kafka record headers: the value is the whole event, these repeat what routing needs",
    "properties": {
        "content-type": {"type": "string", "const": CONTENT_TYPE},
        "ce_type": {"type": "string", "description": "the event type"},
        "ce_province": {"type": "string", "description": "the tenant"},
        "traceparent": {"type": "string", "description": "W3C trace context of the request, when traced"},
    },
    "required": ["content-type", "ce_type", "ce_province"],
}
KEY = {"type": "string", "description": "the event's subject (the aggregate stream id): one stream, one "
                                        "partition, in order"}
DLQ_HEADERS = {
    "type": "object",
    "description": "the original record's headers, unchanged (content-type, ce_type, ce_province, traceparent "
                   "when it had them), and those the consumer added when it parked the record",
    "properties": {
        **HEADERS["properties"],
        "dlq-reason": {"type": "string", "maxLength": 4000,
                       "description": "why: the handler's error after its last attempt, or 'not a valid event "
                                      "envelope: …' for a record that was not an event"},
        "dlq-consumer": {"type": "string", "description": "the consumer that parked it (the service's name)"},
        "dlq-source-topic": {"type": "string", "description": "the topic the record was read from"},
        "dlq-source-partition": {"type": "string", "pattern": "^[0-9]+$", "description": "its partition there"},
        "dlq-source-offset": {"type": "string", "pattern": "^[0-9]+$", "description": "its offset there"},
        "dlq-time": {"type": "string", "format": "date-time", "description": "when it was parked, UTC"},
    },
    "required": ["dlq-reason", "dlq-consumer", "dlq-source-topic", "dlq-source-partition", "dlq-source-offset",
                 "dlq-time"],
}
DEAD_LETTER = {
    "name": "DeadLetter", "title": "A dead letter (bản ghi lỗi)",
    "summary": "a record of a followed topic that the consumer could not apply, parked with its reason",
    "description": "The original record, byte for byte: its key (the event's subject, when it had one), its "
                   "value and headers, plus the dlq-* headers. Its state (parked, pending after a redrive, "
                   "applied) is in the consumer's processed_events, not on the topic; `thidua dlq list|show|"
                   "redrive <service>` reads it and publishes the value again to dlq-source-topic.",
    "contentType": CONTENT_TYPE, "headers": DLQ_HEADERS,
    "payload": {"anyOf": [{"$ref": "#/components/schemas/CloudEvent"},
                          {"description": "a value that was not a valid CloudEvent, kept as it came (then "
                                          "dlq-reason starts with 'not a valid event envelope')"}]},
    "bindings": {"kafka": {"key": {"type": "string", "description": "the original record's key, if any"},
                           "bindingVersion": KAFKA_BINDING}},
}


def document(spec, topic_prefix: str, group: str, bootstrap: str, partitions: int) -> dict[str, Any]:
    """The AsyncAPI document of the service ``spec`` (a shared.service.ServiceSpec)."""
    catalogue = eventschema.catalogue()
    own = catalogue.of_service(spec.name)
    consumed = {s: [c for c in catalogue.of_service(s) if c.type in spec.handlers] for s in spec.follows}
    contracts = own + [c for cs in consumed.values() for c in cs]
    doc: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": f"{spec.title}: sự kiện (events)", "version": "1",
                 "description": f"What {spec.name} publishes on its Kafka topic and what it consumes from "
                                "the topics of the services it follows. Every event is a CloudEvent in "
                                "structured mode; payload schemas are versioned (schemaversion) and "
                                "older versions are upcast by consumers."},
        "defaultContentType": CONTENT_TYPE,
        "servers": {"kafka": {"host": bootstrap.split(",")[0], "protocol": "kafka",
                              "description": "the installation's Kafka (KAFKA_BOOTSTRAP_SERVERS)"}},
        "channels": {},
        "operations": {},
        "components": {"messages": {**{c.type: _message(c) for c in contracts}, "DeadLetter": DEAD_LETTER},
                       "schemas": {"CloudEvent": ENVELOPE, **_payload_schemas(catalogue, contracts)}},
    }
    _channel(doc, spec.name, f"{topic_prefix}.{spec.name}", own, partitions)
    doc["operations"][f"send.{spec.name}"] = _operation("send", spec.name, own, f"{spec.name} publishes its events")
    for service, types in consumed.items():
        if not types:
            continue
        _channel(doc, service, f"{topic_prefix}.{service}", types, partitions)
        doc["operations"][f"receive.{service}"] = {
            **_operation("receive", service, types, f"{spec.name} consumes these events of {service}"),
            "bindings": {"kafka": {"groupId": {"type": "string", "enum": [group]}, "bindingVersion": KAFKA_BINDING}}}
    _dead_letters(doc, spec.name, dlq_topic(topic_prefix, spec.name), partitions)
    return doc


def _dead_letters(doc: dict, service: str, topic: str, partitions: int) -> None:
    doc["channels"]["dlq"] = {
        "address": topic, "title": f"{service}'s dead letters",
        "description": f"What {service}'s consumer could not apply after its attempts, or could not read as an "
                       "event: parked here so that the rest of its stream goes on, until an operator redrives it "
                       f"(`thidua dlq list|show|redrive {service}` reads the topic without a consumer group and "
                       "publishes the value again to its dlq-source-topic).",
        "messages": {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}},
        "bindings": {"kafka": {"topic": topic, "partitions": partitions, "bindingVersion": KAFKA_BINDING}}}
    one = [{"$ref": "#/channels/dlq/messages/DeadLetter"}]
    doc["operations"]["send.dlq"] = {"action": "send", "channel": {"$ref": "#/channels/dlq"}, "messages": one,
                                     "summary": f"{service}'s consumer parks a record it could not apply"}


def _channel(doc: dict, name: str, topic: str, contracts: list, partitions: int) -> None:
    doc["channels"][name] = {
        "address": topic, "title": f"{name}'s topic",
        "messages": {c.type: {"$ref": f"#/components/messages/{c.type}"} for c in contracts},
        "bindings": {"kafka": {"topic": topic, "partitions": partitions, "bindingVersion": KAFKA_BINDING}}}


def _operation(action: str, channel: str, contracts: list, summary: str) -> dict[str, Any]:
    return {"action": action, "channel": {"$ref": f"#/channels/{channel}"}, "summary": summary,
            "messages": [{"$ref": f"#/channels/{channel}/messages/{c.type}"} for c in contracts]}


def _message(contract) -> dict[str, Any]:
    return {
        "name": contract.type, "title": contract.type, "summary": contract.summary,
        "contentType": CONTENT_TYPE, "headers": HEADERS,
        "payload": {"allOf": [{"$ref": "#/components/schemas/CloudEvent"}, {"properties": {
            "type": {"const": contract.type}, "source": {"const": contract.service},
            "schemaversion": {"const": contract.version},
            "dataschema": {"const": schema_url(contract.type, contract.version)},
            "data": {"$ref": f"#/components/schemas/{contract.name}"}}}]},
        "correlationId": {"description": "the case's or exemplar's story", "location": "$message.payload#/correlationid"},
        "bindings": {"kafka": {"key": KEY, "bindingVersion": KAFKA_BINDING}},
    }


def _payload_schemas(catalogue, contracts: list) -> dict[str, Any]:
    """Every version of each listed type's payload: the current one and the older ones still stored."""
    return {v.name: {**eventschema.json_schema(v), "title": v.name, "description": v.summary}
            for c in contracts for v in catalogue.versions[c.type].values()}


def payload_json_schema(type_: str, version: int) -> dict[str, Any] | None:
    """One payload version as a standalone JSON Schema document (what ``dataschema`` names)."""
    catalogue = eventschema.catalogue()
    contract = catalogue.versions.get(type_, {}).get(version)
    if contract is None:
        return None
    return {"$schema": "http://json-schema.org/draft-07/schema#", "$id": schema_url(type_, version),
            "title": contract.name, "description": contract.summary, **eventschema.json_schema(contract)}


def blueprint(spec) -> Blueprint:
    """``GET /asyncapi.json`` and ``/asyncapi.yaml`` (this service's document, made once per process
    from its settings) and ``GET /schemas/<type>/v<n>`` (any published payload version)."""
    blp = Blueprint(f"{spec.name}-asyncapi", __name__)
    made: dict[str, Any] = {}

    def the_document() -> dict[str, Any]:
        if "doc" not in made:
            from shared.service import runtime
            s = runtime().settings
            made["doc"] = document(spec, s.topic_prefix, s.group, s.kafka_bootstrap, s.partitions)
        return made["doc"]

    @blp.get("/asyncapi.json")
    def asyncapi_json():
        return jsonify(the_document())

    @blp.get("/asyncapi.yaml")
    def asyncapi_yaml():
        if "yaml" not in made:
            made["yaml"] = yaml.safe_dump(the_document(), allow_unicode=True, sort_keys=False)
        return Response(made["yaml"], mimetype="application/yaml")

    @blp.get("/schemas/<type_>/v<int:version>")
    def payload_schema(type_: str, version: int):
        found = payload_json_schema(type_, version)
        if found is None:
            raise NotFound(f"Không có lược đồ dữ liệu {type_} phiên bản {version} (no such payload schema)")
        return Response(orjson.dumps(found), mimetype="application/schema+json")

    return blp
