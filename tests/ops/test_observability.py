"""Metrics, structured logs and trace context, on the four services in process (in-memory bus)."""
from __future__ import annotations

import io
import json
import logging
import threading
import time
import urllib.request

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared import config, logs, tracing
from shared.broker import free_port
from shared.bus import InMemoryBus
from shared.metrics import WorkerSampler, exposition
from shared.service import build_runtime, run_worker
from shared.stack import service_spec
from tests.unit.conftest import SECRET, token

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
CAMPAIGN = {"title": "Thi đua dạy tốt", "kind": "yearly",
            "period_start": "2024-01-01", "period_end": "2024-12-31", "registration_deadline": "2099-04-30"}
LAUNCHER = {"name": "Sở GD&ĐT", "unit_level": "department"}  # who launches: the token says


@pytest.fixture
def spans():
    tracing.setup("tests")
    exporter = InMemorySpanExporter()
    trace.get_tracer_provider().add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


def samples(text: str, name: str, **labels) -> float:
    """The sum of a metric's samples whose labels include ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        head, value = line.rsplit(" ", 1)
        if all(f'{k}="{v}"' in head for k, v in labels.items()):
            total += float(value)
    return total


def test_metrics_count_requests_by_route_and_status_with_their_latency(system):
    client = system.client("registration")
    before = client.get("/metrics").get_data(as_text=True)
    assert client.post("/campaigns", json=CAMPAIGN, headers=token(**LAUNCHER)).status_code == 201
    assert client.post("/campaigns", json={}, headers=token()).status_code == 422
    assert client.get("/campaigns", headers={}).status_code == 401
    text = client.get("/metrics").get_data(as_text=True)
    route = dict(service="registration", method="POST", route="/campaigns")
    for status, n in (("201", 1), ("422", 1)):
        assert samples(text, "thidua_http_requests_total", status=status, **route) - \
               samples(before, "thidua_http_requests_total", status=status, **route) == n
    assert samples(text, "thidua_http_requests_total", route="/campaigns", status="401", method="GET") >= 1
    assert samples(text, "thidua_http_request_duration_seconds_count", **route) >= 2
    assert 'le="0.5"' in text
    assert samples(text, "thidua_events_appended_total", service="registration",
                   type="registration.campaign.launched") >= 1


def test_every_log_line_of_a_request_names_the_service_the_province_the_correlation_and_the_trace(system):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter("registration"))
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        r = system.client("registration").post("/campaigns", json=CAMPAIGN, headers={
            **token(**LAUNCHER), "X-Correlation-ID": "story-42", "traceparent": TRACEPARENT})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert r.status_code == 201
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    done = [line for line in lines if line["logger"] == "thidua.http"]
    assert done and done[-1]["status"] == 201
    assert {(line["service"], line["province"], line["correlation_id"], line["trace_id"]) for line in done} == {
        ("registration", "83", "story-42", TRACE_ID)}
    assert "province" not in logs.current()  # nothing leaks into the next request on this thread


def test_the_trace_of_a_request_continues_in_the_record_and_in_the_consumer_that_applies_it(system, spans):
    seen = {}
    runner = system.consumers["evaluation"]
    original = runner.handlers["registration.campaign.launched"]

    def recording(conn, event):
        seen[event.type] = trace.get_current_span().get_span_context().trace_id
        original(conn, event)
    runner.handlers = {**runner.handlers, "registration.campaign.launched": recording}

    r = system.client("registration").post("/campaigns", json=CAMPAIGN,
                                           headers={**token(**LAUNCHER), "traceparent": TRACEPARENT})
    assert r.status_code == 201
    system.drain()
    [record] = [rec for rec in system.bus.records("thidua.registration")
                if json.loads(rec.value)["type"] == "registration.campaign.launched"]
    assert record.header("traceparent").decode().split("-")[1] == TRACE_ID
    assert format(seen["registration.campaign.launched"], "032x") == TRACE_ID
    consumed = [s for s in spans.get_finished_spans() if s.name == "apply registration.campaign.launched"
                and s.attributes.get("thidua.consumer") == "evaluation"]
    assert consumed and format(consumed[0].context.trace_id, "032x") == TRACE_ID
    assert consumed[0].kind == trace.SpanKind.CONSUMER


def test_a_request_without_trace_context_starts_a_trace_of_its_own(system):
    client = system.client("registration")
    assert client.post("/campaigns", json=CAMPAIGN, headers=token(**LAUNCHER)).status_code == 201
    system.drain()
    headers = [rec.header("traceparent") for rec in system.bus.records("thidua.registration")]
    assert headers and all(h is not None and h.decode().split("-")[1] != "0" * 32 for h in headers)


def test_the_worker_samples_backlog_store_position_lag_and_dead_letters(tmp_path):
    bus = InMemoryBus()
    settings = {s: config.load(s, {"JWT_SECRET": SECRET, "DATA_DIR": str(tmp_path)})
                for s in ("registration", "evaluation")}
    from shared.service import create_web_app
    app = create_web_app(service_spec("registration"), settings["registration"], bus)
    assert app.test_client().post("/campaigns", json=CAMPAIGN, headers=token(**LAUNCHER)).status_code == 201
    registration = app.extensions["runtime"]
    relay = registration.relay()
    WorkerSampler(registration, relay, None).sample()
    assert samples(exposition().decode(), "thidua_relay_backlog", service="registration") == 1
    assert samples(exposition().decode(), "thidua_store_position", service="registration") == 1
    relay.run_once()
    WorkerSampler(registration, relay, None).sample()
    assert samples(exposition().decode(), "thidua_relay_backlog", service="registration") == 0

    evaluation = build_runtime(service_spec("evaluation"), settings["evaluation"], bus)
    consumer = evaluation.consumer()
    sampler = WorkerSampler(evaluation, evaluation.relay(), consumer)
    sampler.sample()
    lag = dict(service="evaluation", topic="thidua.registration")
    assert samples(exposition().decode(), "thidua_consumer_lag_messages", **lag) == 1
    while consumer.run_once(timeout_s=0):
        pass
    sampler.sample()
    text = exposition().decode()
    assert samples(text, "thidua_consumer_lag_messages", **lag) == 0
    assert samples(text, "thidua_projection_offset", **lag) == 1
    assert samples(text, "thidua_consumer_events_total", service="evaluation") >= 1


def test_a_worker_serves_its_metrics_on_its_own_port(tmp_path):
    port = free_port()
    settings = config.load("registration", {"JWT_SECRET": SECRET, "DATA_DIR": str(tmp_path),
                                            "WORKER_METRICS_PORT": str(port)})
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(service_spec("registration"), settings, InMemoryBus(), stop),
                              daemon=True)
    worker.start()
    try:
        deadline, text = time.monotonic() + 10, ""
        while "thidua_relay_backlog{" not in text and time.monotonic() < deadline:
            try:
                text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
            except OSError:
                time.sleep(0.1)
        assert 'thidua_relay_backlog{service="registration"}' in text
    finally:
        stop.set()
        worker.join(10)


def test_a_service_process_logs_one_json_object_a_line_with_its_service():
    import subprocess
    import sys
    code = ("import logging; from shared import logs; logs.configure('awards'); "
            "logs.push(province='86', correlation_id='c-1'); logging.getLogger('x').info('xin chào')")
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stderr
    [line] = [json.loads(text) for text in err.splitlines()]
    assert (line["service"], line["province"], line["correlation_id"], line["message"], line["level"]) == (
        "awards", "86", "c-1", "xin chào", "INFO")
