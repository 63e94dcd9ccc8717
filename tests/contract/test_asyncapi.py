"""Each service's AsyncAPI document, parsed by the AsyncAPI project's own parser (the npm
@asyncapi/parser, installed by .ci/run with npm ci under tools/asyncapi), and served."""
import json
import subprocess
from pathlib import Path

import orjson
import pytest
import yaml

from shared import asyncapi, eventschema
from shared.stack import SERVICES, service_spec

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "tools" / "asyncapi" / "check.js"


def parse(*files: Path) -> tuple[int, list[dict]]:
    """Exit status and diagnostics of the parser on ``files``."""
    if not (CHECKER.parent / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail("@asyncapi/parser is not installed: run `npm ci` in tools/asyncapi (.ci/run does)")
    done = subprocess.run(["node", str(CHECKER), *map(str, files)], capture_output=True, text=True, timeout=120)
    assert not done.stderr.strip() or done.returncode != 0, done.stderr
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def doc(service: str) -> dict:
    return asyncapi.document(service_spec(service), "thidua", f"thidua.{service}", "kafka:9092,kafka-2:9092", 3)


def test_every_services_document_parses_without_errors_or_warnings(tmp_path):
    files = []
    for service in SERVICES:
        files.append(tmp_path / f"{service}.json")
        files[-1].write_bytes(orjson.dumps(doc(service)))
    status, diagnostics = parse(*files)
    serious = [d for d in diagnostics if d["severity"] in (0, 1)]  # errors, warnings
    assert status == 0 and not serious, serious


def test_the_parser_names_what_is_wrong_in_a_broken_document(tmp_path):
    broken = doc("awards")
    broken["operations"]["send.awards"]["messages"].append({"$ref": "#/channels/awards/messages/awards.nothing"})
    broken["components"]["schemas"]["awards.hold.placed.v1"]["properties"]["reason"]["type"] = "text"
    (tmp_path / "broken.json").write_bytes(orjson.dumps(broken))
    status, diagnostics = parse(tmp_path / "broken.json")
    errors = [d for d in diagnostics if d["severity"] == 0]
    assert status == 1
    assert any(d["code"] == "invalid-ref" and "awards.nothing" in d["message"] for d in errors), errors
    assert any("awards.hold.placed.v1" in d["path"] for d in errors), errors


def test_a_service_sends_its_own_events_and_receives_those_it_handles():
    for service in SERVICES:
        spec, d = service_spec(service), doc(service)
        own = {c.type for c in eventschema.catalogue().of_service(service)}
        send = d["operations"][f"send.{service}"]
        assert send["action"] == "send" and d["channels"][service]["address"] == f"thidua.{service}"
        assert {m["$ref"].rsplit("/", 1)[1] for m in send["messages"]} == own
        received = {op["channel"]["$ref"].rsplit("/", 1)[1]: {m["$ref"].rsplit("/", 1)[1] for m in op["messages"]}
                    for name, op in d["operations"].items() if op["action"] == "receive"}
        handled = {t for t in spec.handlers}
        assert set().union(*received.values()) == handled, service
        for followed, types in received.items():
            assert all(t.startswith(f"{followed}.") for t in types)
            assert d["operations"][f"receive.{followed}"]["bindings"]["kafka"]["groupId"]["enum"] == [
                f"thidua.{service}"]


def test_a_message_is_the_cloudevent_with_its_payload_schema_headers_and_key():
    d = doc("registration")
    message = d["components"]["messages"]["registration.participant.registered"]
    assert message["contentType"] == "application/cloudevents+json"
    assert message["bindings"]["kafka"]["key"]["type"] == "string"
    assert set(message["headers"]["required"]) == {"content-type", "ce_type", "ce_province"}
    envelope, fixed = message["payload"]["allOf"]
    assert envelope == {"$ref": "#/components/schemas/CloudEvent"}
    assert fixed["properties"]["type"] == {"const": "registration.participant.registered"}
    data = d["components"]["schemas"]["registration.participant.registered.v1"]
    assert fixed["properties"]["data"] == {"$ref": "#/components/schemas/registration.participant.registered.v1"}
    assert data["properties"]["participant"]["properties"]["name"]["x-personal"] is True
    assert data["additionalProperties"] is False
    assert "registration_id" in data["required"]
    # the older versions a store still holds stay described: awards' v1 record and its v2
    schemas = doc("awards")["components"]["schemas"]
    assert "issuer_level" in schemas["awards.award.recorded.v1"]["properties"]
    assert "level" in schemas["awards.award.recorded.v2"]["properties"]


# -- served --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def system(tmp_path_factory):
    from tests.unit.conftest import module_system
    yield from module_system(tmp_path_factory, "asyncapi")


def test_each_service_serves_its_document_as_json_and_yaml_without_a_token(system):
    for service in SERVICES:
        client = system.client(service)
        as_json = client.get("/asyncapi.json")
        assert as_json.status_code == 200, as_json.get_data(as_text=True)
        s = system.apps[service].extensions["runtime"].settings
        assert as_json.get_json() == json.loads(orjson.dumps(asyncapi.document(
            service_spec(service), s.topic_prefix, s.group, s.kafka_bootstrap, s.partitions)))
        as_yaml = client.get("/asyncapi.yaml")
        assert as_yaml.status_code == 200 and as_yaml.mimetype == "application/yaml"
        assert yaml.safe_load(as_yaml.get_data(as_text=True)) == as_json.get_json()


def test_an_events_dataschema_is_served_by_every_service(system):
    from shared.envelope import SCHEMA_BASE_URL
    url = eventschema.catalogue().current["awards.award.recorded"]
    path = f"/schemas/{url.type}/v{url.version}"
    for service in SERVICES:
        r = system.client(service).get(path)
        assert r.status_code == 200 and r.mimetype == "application/schema+json"
        body = r.get_json()
        assert body["$id"] == f"{SCHEMA_BASE_URL}{path}" and "level" in body["required"]
    old = system.client("registration").get("/schemas/awards.award.recorded/v1").get_json()
    assert "issuer_level" in old["properties"]
    missing = system.client("awards").get("/schemas/awards.award.recorded/v3")
    assert missing.status_code == 404 and "phiên bản 3" in missing.get_json()["message"]


def test_each_services_dead_letter_topic_is_a_channel_with_what_a_dead_letter_carries():
    from shared.consumer import dlq_topic
    from shared.ops.dlq import DLQ_HEADERS
    for service in SERVICES:
        d = doc(service)
        channel = d["channels"]["dlq"]
        assert channel["address"] == dlq_topic("thidua", service) == f"thidua.{service}.dlq"
        assert channel["messages"] == {"DeadLetter": {"$ref": "#/components/messages/DeadLetter"}}
        assert d["operations"]["send.dlq"]["action"] == "send"
        message = d["components"]["messages"]["DeadLetter"]
        headers = message["headers"]
        assert set(headers["required"]) == set(DLQ_HEADERS)  # what shared.consumer adds, shared.ops.dlq reads
        assert {"content-type", "ce_type", "ce_province", "traceparent"} <= set(headers["properties"])
        assert {"$ref": "#/components/schemas/CloudEvent"} in message["payload"]["anyOf"]


def test_the_dead_letter_headers_described_are_those_the_consumer_writes(tmp_path):
    """A record that is not an event, parked by a real consumer (on the in-memory bus): its headers
    are the ones the document requires, and none the document does not name."""
    from shared.consumer import dlq_topic
    from tests.unit.conftest import build_system, close_system
    system = build_system(tmp_path)
    try:
        runtime = system.apps["evaluation"].extensions["runtime"]
        bus = system.bus
        producer = bus.producer()
        producer.send(f"{runtime.settings.topic_prefix}.registration", b"k", b"not an event",
                      [("content-type", b"application/cloudevents+json")])
        producer.flush()
        system.drain()
    finally:
        close_system(system)
    letters = [r for r in bus.records(dlq_topic(runtime.settings.topic_prefix, "evaluation")) if r.value == b"not an event"]
    assert letters, "the record was not dead-lettered"
    described = doc("evaluation")["components"]["messages"]["DeadLetter"]["headers"]
    names = {k for k, _ in letters[-1].headers}
    assert set(described["required"]) <= names <= set(described["properties"])
