"""The web gateway's composition root: ``create_app(settings)``; nothing is built at import time."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, jsonify

from shared import clock as clocks
from shared.errors import ApiError
from web import documents, reports
from web.client import HttpServiceClient, ServiceClient
from web.settings import WebSettings, load


@dataclass(frozen=True)
class Web:
    """What a request of the gateway uses: the port to the services and the server's clock."""
    client: ServiceClient
    clock: clocks.Clock


def create_app(settings: WebSettings, client: ServiceClient | None = None,
               clock: clocks.Clock | None = None) -> Flask:
    """The gateway over the services at ``settings.service_urls``; tests pass their own ``client``
    (the in-process system) and ``clock``."""
    app = Flask(__name__)
    app.json.ensure_ascii = False
    app.extensions["web"] = Web(client or HttpServiceClient(settings), clock or clocks.from_env())
    app.register_blueprint(reports.blp)
    app.register_blueprint(documents.blueprint(settings))
    app.register_error_handler(ApiError, _api_error)
    app.add_url_rule("/health", "health", lambda: {"status": "ok"})
    return app


def serve() -> Flask:
    """The gateway as its settings in the environment say: ``gunicorn 'web.app:serve()'``."""
    return create_app(load())


def _api_error(exc: ApiError):
    return jsonify(exc.body()), exc.status
