"""What makes a service, and the composition roots of its two kinds of process.

Each service module declares one :class:`ServiceSpec` (its name, projection tables,
the topics it follows, its event handlers and its HTTP blueprints). The web
process is built by :func:`create_web_app`, the worker by :func:`run_worker`;
both build their engines and Kafka clients here, after gunicorn has forked.
"""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app, jsonify, request
from flask_smorest import Api
from sqlalchemy import MetaData

from werkzeug.exceptions import BadRequest, UnprocessableEntity

from shared import (anchors, asyncapi, audit, auth, blobs as blob_stores, clock as clocks, config, i18n, logs,
                    metrics, migrations, tracing)
from shared.bus import Bus, BusUnavailable
from shared.consumer import ConsumerRunner, Handler, dlq_topic
from shared.db import Database
from shared.errors import ApiError, Invalid, NotYetSeen
from shared.rule_catalogue import RefusalSchema
from shared.aggregate import CommandContext
from shared.envelope import Actor
from shared.eventstore import ConcurrencyError, EventStore
from shared.jsonprovider import OrjsonProvider
from shared.privacy import protector as privacy
from shared.privacy.protector import Protector
from shared.kafka_bus import KafkaBus
from shared.relay import OutboxRelay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    metadata: MetaData
    follows: tuple[str, ...]  # services whose topics this one consumes
    handlers: dict[str, Handler]  # followed events (of other services) -> projection updater
    blueprints: Callable[[], list] = field(default=lambda: [])
    own_events: dict[str, Handler] = field(default_factory=dict)  # this store's events -> updater
    # Extra loops of the worker process (e.g. e-mail, reminders): runtime -> [loop(stop)].
    background: Callable[["Runtime"], list[Callable[[threading.Event], None]]] = field(default=lambda rt: [])
    # Projection tables that hold state of the service's own processes rather than what events
    # say (e.g. e-mail deliveries): `thidua rebuild` leaves them as they are.
    operational_tables: tuple[str, ...] = ()
    # Whom this service told of events (conn, event ids, provinces -> items): a case's audit shows it.
    notified: Callable | None = None
    # Called for every followed event the live consumer takes (any type, applied or dead-lettered),
    # in its transaction; never by a rebuild (e.g. webhook deliveries: outbound, once per event).
    fanout: Handler | None = None


@dataclass
class Runtime:
    spec: ServiceSpec
    settings: config.Settings
    db: Database
    store: EventStore
    bus: Bus
    clock: clocks.Clock = field(default_factory=clocks.SystemClock)
    protector: Protector | None = None  # seals and opens personal fields (shared.privacy)
    blobs: blob_stores.BlobStore | None = None  # uploaded files (shared.documents), outside the store

    def today(self):
        """Today in Vietnam by the server's clock: the date every decision is made on."""
        return clocks.today(self.clock)

    @property
    def followed_topics(self) -> list[str]:
        return [config.topic_of(self.settings.topic_prefix, s) for s in self.spec.follows]

    def relay(self) -> OutboxRelay:
        return OutboxRelay(self.db, self.bus, name=self.spec.name,
                           topics=[self.settings.topic, self.dlq], partitions=self.settings.partitions)

    @property
    def dlq(self) -> str:
        return dlq_topic(self.settings.topic_prefix, self.spec.name)

    def consumer(self) -> ConsumerRunner:
        return ConsumerRunner(self.db, self.bus, name=self.spec.name, group=self.settings.group,
                              topics=self.followed_topics, dlq=self.dlq,
                              handlers=self.protector.opening(self.spec.handlers) if self.protector
                              else self.spec.handlers,
                              partitions=self.settings.partitions, fanout=self.spec.fanout)


def build_runtime(spec: ServiceSpec, settings: config.Settings | None = None,
                  bus: Bus | None = None, clock: clocks.Clock | None = None) -> Runtime:
    settings = settings or config.load(spec.name)
    db = Database(settings.database_url)
    migrations.prepare(db, spec.name)  # migrates an empty database; never alters a live one
    protector = privacy.from_settings(settings)
    return Runtime(spec, settings, db, EventStore(settings.topic, settings.chain_key, protector),
                   bus if bus is not None else KafkaBus(settings.kafka()), clock or clocks.from_env(),
                   protector=protector,
                   blobs=blob_stores.from_url(settings.documents_url, spec.name, settings.documents_s3_endpoint_url))


class _Api(Api):
    """flask-smorest's Api, its OpenAPI error schema the refusal body of shared/errors.py."""
    ERROR_SCHEMA = RefusalSchema


def create_web_app(spec: ServiceSpec, settings: config.Settings | None = None,
                   bus: Bus | None = None, clock: clocks.Clock | None = None) -> Flask:
    runtime = build_runtime(spec, settings, bus, clock)
    app = Flask(spec.name)
    app.json = OrjsonProvider(app)
    app.config.update(
        API_TITLE=spec.title, API_VERSION="1", OPENAPI_VERSION="3.1.0", OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}]})
    app.extensions["runtime"] = runtime
    # Before auth, so that refused requests are traced, logged and counted too.
    logs.configure(spec.name)
    tracing.init_app(app, spec.name)
    logs.init_app(app, spec.name)
    metrics.init_app(app, spec.name)
    api = _Api(app)
    verifier = auth.Verifier.from_settings(runtime.settings)
    if verifier.revoked is not None:
        verifier.revoked.warm()  # a failure is only logged: the list is fetched again at the first request
    auth.init_app(app, verifier)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return jsonify(exc.body()), exc.status

    @app.errorhandler(UnprocessableEntity)
    def _invalid(exc: UnprocessableEntity):
        errors = (getattr(exc, "data", None) or {}).get("messages", {})
        return _api_error(Invalid("Dữ liệu gửi lên không hợp lệ: xem từng trường trong errors",
                                  rule="request.fields", errors=i18n.translate(errors)))

    @app.errorhandler(BadRequest)
    def _bad_request(exc: BadRequest):
        return _api_error(ApiError(f"Yêu cầu không đọc được (JSON hỏng?): {exc.description}", rule="request.json"))

    @app.errorhandler(ConcurrencyError)
    def _concurrent(exc: ConcurrencyError):
        return _api_error(NotYetSeen("Hồ sơ vừa được người khác thay đổi; hãy tải lại và thử lại",
                                     rule="store.expected_version", details={"stream": exc.stream_id}))

    @app.get("/health")
    def health():
        return {"status": "ok", "service": spec.name, "clock": runtime.clock.name}

    @app.get("/ready")
    def ready():
        checks = {}
        try:
            runtime.db.ping()
            checks["database"] = "ok"
        except Exception as exc:  # readiness reports, it does not crash
            checks["database"] = f"error: {exc.__class__.__name__}"
        try:
            runtime.bus.cluster_id()
            checks["broker"] = "ok"
        except BusUnavailable as exc:
            checks["broker"] = f"error: {exc}"
        ok = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ok else "not ready", "checks": checks}, 200 if ok else 503

    for blueprint in spec.blueprints():
        api.register_blueprint(blueprint)
    api.register_blueprint(audit.blueprint(spec.name, spec.notified))
    app.register_blueprint(asyncapi.blueprint(spec))
    return app


def runtime() -> Runtime:
    return current_app.extensions["runtime"]


def today():
    """Today in Vietnam by the server's clock (never a date from the request)."""
    return runtime().today()


def execute(handlers: dict, command, province: str, correlation_id: str, own_story: bool = False):
    """Run one command in one transaction: its events, outbox rows and read model commit together.

    ``handlers`` is the service's routing table: command type -> handler(store, conn, cmd, ctx).
    ``own_story``: ``correlation_id`` is the id of the story the command belongs to (a case,
    ``registration-<id>``, in every service; an exemplar), which no request header changes.
    """
    rt = runtime()
    with rt.db.write() as conn:
        return handlers[type(command)](rt.store, conn, command, command_context(province, correlation_id, own_story))


def command_context(province: str, correlation_id: str, own_story: bool = False) -> CommandContext:
    """The context of a command received over HTTP: the caller, and the ids that tie it up.

    ``X-Correlation-ID`` lets a client continue a story it started elsewhere, except a case's or
    an exemplar's (``own_story``): one case is one correlation id in all four services, and a
    client cannot put events into another's story. ``X-Request-ID`` (or a fresh id) is the
    command, the cause of the events it records when they act on no earlier event
    (shared.aggregate).
    """
    principal = auth.current()
    if not own_story:
        correlation_id = request.headers.get("X-Correlation-ID") or correlation_id
    logs.bind(province=province, correlation_id=correlation_id)
    return CommandContext(
        source=runtime().spec.name, province=province, time=runtime().clock.now(),
        actor=Actor(principal.subject, principal.role),
        correlation_id=correlation_id,
        causation_id=request.headers.get("X-Request-ID") or f"command:{CommandContext.new_id()}")


def shorten_gil_switch() -> None:
    """A thread that holds a service's write lock gives up the GIL at every SQLite call and must
    win it back from threads busy with other requests, each of which may keep it for the whole
    switch interval (5 ms by default): the lock is then held for many times the work done under
    it. ``PY_SWITCH_INTERVAL_MS`` (default 1) bounds that wait."""
    sys.setswitchinterval(float(os.environ.get("PY_SWITCH_INTERVAL_MS", "1")) / 1000.0)


def run_worker(spec: ServiceSpec, settings: config.Settings | None = None,
               bus: Bus | None = None, stop: threading.Event | None = None,
               clock: clocks.Clock | None = None) -> None:
    """The worker process: one thread relays the outbox, one consumes the followed topics."""
    logs.configure(spec.name)
    tracing.setup(spec.name)
    shorten_gil_switch()
    rt = build_runtime(spec, settings, bus, clock)
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    # Daemon threads: a client stuck on a dead broker must not keep the process alive
    # past its grace period; what they had not committed is redelivered anyway.
    relay, consumer = rt.relay(), rt.consumer() if spec.follows else None
    threads = [threading.Thread(target=relay.run, args=(stop,), name=f"{spec.name}-relay", daemon=True)]
    if consumer is not None:
        threads.append(threading.Thread(target=consumer.run, args=(stop,),
                                        name=f"{spec.name}-consumer", daemon=True))
    threads += [threading.Thread(target=loop, args=(stop,), name=f"{spec.name}-metrics", daemon=True)
                for loop in metrics.worker_loops(rt, relay, consumer)]
    loops = spec.background(rt)
    if rt.settings.anchor_key:  # the chain heads' signed digest, outside the database (shared.anchors)
        s = rt.settings
        loops.append(anchors.loop(rt.db, spec.name, s.anchor_key, s.anchor_dir, s.anchor_interval_s))
    threads += [threading.Thread(target=loop, args=(stop,), name=f"{spec.name}-{loop.__name__}", daemon=True)
                for loop in loops]
    for t in threads:
        t.start()
    log.info("worker %s started: relaying to %s, following %s", spec.name, rt.settings.topic,
             rt.followed_topics)
    while not stop.wait(0.5):
        if not all(t.is_alive() for t in threads):
            log.error("worker %s: a thread ended unexpectedly; exiting", spec.name)
            stop.set()
    for t in threads:
        t.join(timeout=5)
