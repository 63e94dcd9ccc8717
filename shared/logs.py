"""Structured logs: one JSON object a line, with the service, the province, the correlation id
and the trace on every line where they are known.

The fields come from a context variable that the web process sets per request
(:func:`init_app`, and :func:`bind` once the command's province is known) and the
consumer sets per event (:func:`shared.tracing.consuming`); ``trace_id``/``span_id`` come
from the current OpenTelemetry span. A small stdlib :class:`logging.Formatter` does it,
rather than python-json-logger: the whole format is the dict built below, and one
dependency fewer is one thing fewer to pin and audit. ``LOG_FORMAT=text`` prints the same
fields as plain text for a person at a terminal; ``LOG_LEVEL`` sets the level (INFO).
"""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from contextvars import ContextVar, Token
from datetime import datetime, timezone

import orjson

_fields: ContextVar[dict] = ContextVar("thidua_log_fields", default={})
CONTEXT_KEYS = ("service", "province", "correlation_id")


def push(**fields) -> Token:
    """Add fields for what runs next in this context; give the token to :func:`pop` when done."""
    return _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v}})


def pop(token: Token) -> None:
    _fields.reset(token)


def bind(**fields) -> None:
    """Add fields until the enclosing :func:`push` is popped (e.g. the province, once known)."""
    _fields.set({**_fields.get(), **{k: v for k, v in fields.items() if v}})


@contextlib.contextmanager
def context(**fields):
    token = push(**fields)
    try:
        yield
    finally:
        pop(token)


def current() -> dict:
    return dict(_fields.get())


def _trace_ids() -> dict:
    from opentelemetry import trace
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return {}
    return {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str | None = None, **kw):
        super().__init__()
        self.service = service or os.environ.get("THIDUA_SERVICE")

    def fields(self, record: logging.LogRecord) -> dict:
        out = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        if self.service:
            out["service"] = self.service
        out.update(_fields.get())
        out.update(_trace_ids())
        out.update(getattr(record, "fields", None) or {})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return out

    def format(self, record: logging.LogRecord) -> str:
        return orjson.dumps(self.fields(record), default=str).decode()  # UTF-8, as ensure_ascii=False


class TextFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        f = self.fields(record)
        head = f"{f.pop('time')} {f.pop('level')} {f.pop('logger')}: {f.pop('message')}"
        exc = f.pop("exception", None)
        tail = " ".join(f"{k}={v}" for k, v in f.items())
        return f"{head}  [{tail}]" + (f"\n{exc}" if exc else "")


_HANDLER_MARK = "_thidua_handler"


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record comes (a test runner swaps it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure(service: str) -> None:
    """Send every log record of this process to stderr, formatted; idempotent. A process whose
    logging someone else set up already (a test runner, an application embedding a service)
    is left as it is."""
    root = logging.getLogger()
    if any(not getattr(h, _HANDLER_MARK, False) for h in root.handlers):
        return
    for handler in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(handler)
    handler = _Stderr()
    setattr(handler, _HANDLER_MARK, True)
    kind = TextFormatter if os.environ.get("LOG_FORMAT", "json") == "text" else JsonFormatter
    handler.setFormatter(kind(service))
    root.addHandler(handler)
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())


def init_app(app, service: str) -> None:
    """Per request: the service and the correlation id in the log context, and one line when done."""
    from flask import g, request

    access = logging.getLogger("thidua.http")

    @app.before_request
    def _bind():
        g._log_token = push(service=service, correlation_id=request.headers.get("X-Correlation-ID"))
        g._log_started = time.perf_counter()

    @app.after_request
    def _log(response):
        started = g.get("_log_started")
        if started is not None and request.path not in ("/health", "/metrics"):
            access.info("%s %s %s", request.method, request.path, response.status_code, extra={"fields": {
                "method": request.method, "path": request.path, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2)}})
        return response

    @app.teardown_request
    def _unbind(_exc):
        token = g.pop("_log_token", None)
        if token is not None:
            pop(token)
