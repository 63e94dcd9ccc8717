"""The web gateway's composition root: ``create_app(settings)``; nothing is built at import time.

The pages (Jinja2 templates in Vietnamese, htmx served from web/static/vendor) and the report
downloads are blueprints of this one Flask app; it talks to the services over their public
HTTP APIs only (:class:`web.client.ServiceClient`) and signs people in at the issuer
(:class:`web.signin.Issuer`). A new page is a blueprint registered in :data:`BLUEPRINTS`.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from flask import Flask, jsonify, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect

from shared import clock as clocks
from shared.errors import ApiError
from web import documents, ui
from web.client import HttpServiceClient, ServiceClient
from web.settings import WebSettings, load
from web.signin import HttpIssuer, Issuer

# module:attribute of every blueprint, in the order they are registered
BLUEPRINTS = (
    "web.reports:blp",
    "web.pages:blp",
    "web.campaigns:blp",
    "web.inbox:blp",
    "web.public:blp",
    "web.roles.unit:blp",
    "web.roles.council:blp",
    "web.roles.authority:blp",
    "web.roles.exemplars:blp",
    "web.roles.ballots:blp",
    "web.audit:blp",
)


@dataclass(frozen=True)
class Web:
    """What a request of the gateway uses: the port to the services, the issuer, the server's clock."""
    client: ServiceClient
    clock: clocks.Clock
    issuer: Issuer
    retry_delays_s: tuple[float, ...] = (0.2, 0.5, 1.0)
    province: str = "86"  # the province of the public pages when none is named


def create_app(settings: WebSettings, client: ServiceClient | None = None,
               clock: clocks.Clock | None = None, issuer: Issuer | None = None) -> Flask:
    """The gateway over the services at ``settings.service_urls``; tests pass their own ``client``
    (the in-process system), ``clock`` and ``issuer``."""
    app = Flask(__name__)
    app.json.ensure_ascii = False
    app.config.update(SECRET_KEY=settings.session_secret, SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.secure_cookie,
                      SESSION_COOKIE_NAME="thidua_session", WTF_CSRF_TIME_LIMIT=None,
                      WTF_CSRF_CHECK_DEFAULT=False)
    app.extensions["web"] = Web(client or HttpServiceClient(settings), clock or clocks.from_env(),
                                issuer or HttpIssuer(settings), settings.retry_delays_s, settings.province)
    csrf = CSRFProtect(app)

    @app.before_request
    def _csrf_check():
        # A form sent by a browser holding the session (or signing in) must carry the form's token. A
        # call that brings its own bearer token and no signed-in session (a script uploading a file)
        # has no cookie to ride on: nothing to forge, so no token is asked of it.
        if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return
        if request.headers.get("Authorization") and not session.get("token"):
            return
        csrf.protect()
    for ref in BLUEPRINTS:
        module, _, name = ref.partition(":")
        app.register_blueprint(getattr(importlib.import_module(module), name))
    app.register_blueprint(documents.blueprint(settings))
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(ui.Refused, _refused)
    app.register_error_handler(ui.SignInNeeded, lambda exc: ui.sign_in_page(exc.message))
    app.register_error_handler(ui.InFlight, lambda exc: ui.updating(str(exc)))
    app.register_error_handler(CSRFError, _csrf)
    app.add_url_rule("/health", "health", lambda: {"status": "ok"})
    app.add_url_rule("/ready", "ready", lambda: {"status": "ok"})
    app.context_processor(lambda: {"me": _me(), "ROLE_NAMES": ui.ROLE_NAMES})
    app.add_template_filter(ui.vn_date, "vn_date")
    return app


def serve() -> Flask:
    """The gateway as its settings in the environment say: ``gunicorn 'web.app:serve()'``."""
    return create_app(load())


def _me():
    try:
        return ui.caller()
    except ui.SignInNeeded:
        return None


def _api_error(exc: ApiError):
    """A program (its own ``Authorization``) gets the JSON body; a person following a link in a
    page gets the page, with the same refusal in it."""
    if request.headers.get("Authorization") or not request.accept_mimetypes.accept_html:
        return jsonify(exc.body()), exc.status
    return ui.render("error.html", refusal=ui.Refusal(exc.status, exc.message, rule=exc.rule,
                                                      source=(exc.details or {}).get("source"),
                                                      service=(exc.details or {}).get("service"))), exc.status


def _refused(exc: ui.Refused):
    return ui.render("error.html", refusal=exc.refusal), exc.refusal.status


def _csrf(exc: CSRFError):
    refusal = ui.Refusal(400, "Biểu mẫu đã quá hạn hoặc không đến từ trang này; hãy tải lại trang và gửi lại "
                              f"(the form's CSRF token is missing or wrong: {exc.description})", rule="web.csrf")
    if request.path.startswith("/reports/"):
        return jsonify({"code": 400, "message": refusal.message}), 400
    return ui.render("error.html", refusal=refusal), 400
