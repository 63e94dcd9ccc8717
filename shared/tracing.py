"""W3C trace context from an HTTP request, through the outbox and Kafka, into the consumers.

* The web process continues the caller's trace (``traceparent`` header) or starts one, in
  a server span per request (:func:`init_app`).
* Appending an event stores the current ``traceparent`` in its outbox row
  (:func:`current_traceparent`); the relay sends it as the record's ``traceparent`` header.
* The consumer applies each record in a consumer span whose parent is that header
  (:func:`consuming`), so one registration can be followed through all four services.

Spans are made with the OpenTelemetry SDK. They are exported only when
``OTEL_TRACES_EXPORTER=console`` (to stderr); without an exporter they still carry the
trace id into the logs and the Kafka headers. (An OTLP exporter is one more package,
``opentelemetry-exporter-otlp``, and a span processor in :func:`setup`.)
"""
from __future__ import annotations

import contextlib
import os

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared import logs

_propagator = TraceContextTextMapPropagator()
_PROPAGATED = tuple(_propagator.fields)  # the request headers the trace context is read from
# Got once: get_tracer builds a new tracer (and its scope) on every call. Before setup() it is a
# proxy that follows the provider installed later.
_consumer_tracer = trace.get_tracer("thidua.consumer")


def setup(service: str) -> None:
    """Install the SDK's tracer provider once per process (the first service to ask names it)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if os.environ.get("OTEL_TRACES_EXPORTER") == "console":
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)


def current_traceparent() -> str | None:
    if not trace.get_current_span().get_span_context().is_valid:
        return None  # no trace (a worker, a script): what the propagator would find, sooner
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent")


def init_app(app, service: str) -> None:
    from flask import g, request

    setup(service)
    tracer = trace.get_tracer("thidua.web")

    @app.before_request
    def _start_span():
        parent = _propagator.extract({k: v for k in _PROPAGATED if (v := request.headers.get(k)) is not None})
        route = request.url_rule.rule if request.url_rule else request.path
        span = tracer.start_span(f"{request.method} {route}", context=parent, kind=SpanKind.SERVER,
                                 attributes={"thidua.service": service, "http.request.method": request.method,
                                             "http.route": route})
        g._otel = (span, otel_context.attach(trace.set_span_in_context(span, parent)))

    @app.after_request
    def _status(response):
        if "_otel" in g:
            g._otel[0].set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                g._otel[0].set_status(Status(StatusCode.ERROR))
        return response

    @app.teardown_request
    def _end_span(_exc):
        started = g.pop("_otel", None)
        if started is not None:
            span, token = started
            span.end()
            otel_context.detach(token)


@contextlib.contextmanager
def consuming(consumer: str, record, event):
    """Apply one record inside a consumer span continuing the producer's trace, with the
    event's province and correlation id in the log context."""
    header = record.header("traceparent")
    parent = _propagator.extract({"traceparent": header.decode()}) if header else None
    with _consumer_tracer.start_as_current_span(
            f"apply {event.type}", context=parent, kind=SpanKind.CONSUMER,
            attributes={"thidua.consumer": consumer, "messaging.destination.name": record.topic,
                        "messaging.kafka.partition": record.partition, "messaging.kafka.offset": record.offset,
                        "thidua.event.id": event.id}):
        with logs.context(service=consumer, province=event.province, correlation_id=event.correlationid):
            yield
