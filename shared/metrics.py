"""Prometheus metrics of the web processes and the workers.

Web (``GET /metrics`` on every service): requests by route and status, and their latency.
Under gunicorn each worker process counts for itself; with ``PROMETHEUS_MULTIPROC_DIR``
set (an empty folder per service, wiped when gunicorn starts: ``shared/gunicorn_conf.py``
does it) ``/metrics`` adds up every worker's counts — prometheus-client's multiprocess
mode. Without it each scrape sees the one worker that answered.

Worker (its own port, ``WORKER_METRICS_PORT``, served by ``prometheus_client``): events
appended, relay backlog and records published, consumer lag and projection offset per
partition, events applied and dead-lettered, and the store's last position. A sampler
thread reads them every ``WORKER_METRICS_INTERVAL_S`` seconds (5) rather than at scrape
time, so a scrape never waits on a broker that is down. Give the worker no
``PROMETHEUS_MULTIPROC_DIR``: it is one process.
"""
from __future__ import annotations

import logging
import os
import threading
import time

from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest, multiprocess, start_http_server)

log = logging.getLogger(__name__)

HTTP_REQUESTS = Counter("thidua_http_requests_total", "HTTP requests answered",
                        ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("thidua_http_request_duration_seconds", "Time to answer an HTTP request",
                         ["service", "method", "route"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS_APPENDED = Counter("thidua_events_appended_total",
                          "Events appended to the store (counted at append; a transaction rolled back "
                          "afterwards is still counted)", ["service", "type"])
RELAY_PUBLISHED = Counter("thidua_relay_published_total", "Records the relay had acknowledged", ["service"])
RELAY_BACKLOG = Gauge("thidua_relay_backlog", "Outbox rows not sent yet", ["service"])
STORE_POSITION = Gauge("thidua_store_position", "Last position of the event store (own projection is at it)",
                       ["service"])
CONSUMED = Counter("thidua_consumer_events_total", "Events the consumer applied", ["service"])
DEAD_LETTERS = Counter("thidua_dead_letters_total", "Records the consumer sent to its dead-letter topic",
                       ["service"])
CONSUMER_LAG = Gauge("thidua_consumer_lag_messages", "Records of a followed partition not consumed yet",
                     ["service", "topic", "partition"])
PROJECTION_OFFSET = Gauge("thidua_projection_offset",
                          "Committed offset of the consumer in a followed partition (its projection's position)",
                          ["service", "topic", "partition"])


def events_appended(events) -> None:
    if len(events) == 1:
        labelled(EVENTS_APPENDED, events[0].source, events[0].type).inc()
        return
    counts: dict[tuple[str, str], int] = {}
    for e in events:
        counts[(e.source, e.type)] = counts.get((e.source, e.type), 0) + 1
    for key, n in counts.items():  # one increment per label set: inc() costs more than a row
        labelled(EVENTS_APPENDED, *key).inc(n)


_children: dict[tuple, object] = {}


def labelled(metric, *values: str):
    """``metric.labels(*values)``, looked up once per label set: labels() takes a lock and checks
    its values, which on a hot path costs more than the increment."""
    key = (metric, values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return child


# -- web ----------------------------------------------------------------------------
def init_app(app, service: str) -> None:
    from flask import Response, g, request

    @app.before_request
    def _start():
        g._metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("_metrics_started", None)
        if started is not None and request.path != "/metrics":
            route = request.url_rule.rule if request.url_rule else "<unmatched>"
            labelled(HTTP_REQUESTS, service, request.method, route, str(response.status_code)).inc()
            labelled(HTTP_LATENCY, service, request.method, route).observe(time.perf_counter() - started)
        return response

    def metrics():
        return Response(exposition(), mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics)


def exposition() -> bytes:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


# -- worker -----------------------------------------------------------------------------
class WorkerSampler:
    """Reads the worker's state into the gauges and counters, every ``interval_s``."""

    def __init__(self, runtime, relay, consumer, interval_s: float = 5.0):
        from shared.kafka_bus import KafkaBus
        self.rt, self.relay, self.consumer, self.interval_s = runtime, relay, consumer, interval_s
        self._seen = {"published": 0, "applied": 0, "dead_lettered": 0}
        # Kafka clients of its own: the relay's and the consumer's are theirs alone (one thread each)
        self.bus = KafkaBus(runtime.settings.kafka()) if isinstance(runtime.bus, KafkaBus) else runtime.bus

    def sample(self) -> None:
        from sqlalchemy import func, select

        from shared.bus import BusUnavailable
        from shared.eventstore import events
        service = self.rt.spec.name
        self._add(RELAY_PUBLISHED, "published", getattr(self.relay, "published", 0))
        RELAY_BACKLOG.labels(service).set(self.relay.backlog())
        with self.rt.db.read() as conn:
            STORE_POSITION.labels(service).set(conn.execute(select(func.coalesce(func.max(events.c.position), 0)))
                                               .scalar_one())
        if self.consumer is None:
            return
        self._add(CONSUMED, "applied", self.consumer.applied)
        self._add(DEAD_LETTERS, "dead_lettered", self.consumer.dead_lettered)
        try:
            for topic in self.rt.followed_topics:
                committed = self.bus.committed(self.rt.settings.group, topic)
                for partition, end in self.bus.end_offsets(topic).items():
                    position = committed.get(partition, 0)
                    PROJECTION_OFFSET.labels(service, topic, str(partition)).set(position)
                    CONSUMER_LAG.labels(service, topic, str(partition)).set(max(0, end - position))
        except BusUnavailable as exc:
            log.warning("metrics: consumer lag unknown, broker unavailable: %s", exc)

    def _add(self, counter, key: str, total: int) -> None:
        delta, self._seen[key] = total - self._seen[key], total
        if delta > 0:
            counter.labels(self.rt.spec.name).inc(delta)

    def run(self, stop: threading.Event) -> None:
        while True:
            try:
                self.sample()
            except Exception:  # metrics must never stop the worker
                log.exception("metrics: sampling failed")
            if stop.wait(self.interval_s):
                return


def worker_loops(runtime, relay, consumer) -> list:
    """Serve the worker's metrics on ``WORKER_METRICS_PORT`` and return the sampler's loop."""
    port = runtime.settings.worker_metrics_port
    if not port:
        return []
    start_http_server(port)
    log.info("worker metrics on port %d", port)
    sampler = WorkerSampler(runtime, relay, consumer, float(os.environ.get("WORKER_METRICS_INTERVAL_S", "5")))
    return [sampler.run]
