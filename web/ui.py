"""What every page of the web application does the same way: who is signed in, calling a
service with their token, a refusal shown in the page, a retryable answer retried.

A page reads with :func:`read` (a refusal becomes :class:`Refused`, shown by the app's error
page) and sends a command with :func:`submit`, which answers the whole response: the page
``done`` makes of the service's answer, or the form again with the refusal and what was
typed, or "đang xử lý" polled with htmx while the service still waits for an event.
"""
from __future__ import annotations

import functools
import time
from datetime import date
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from flask import (Response, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)
from werkzeug.datastructures import MultiDict

from shared import auth, rule_catalogue
from web.client import Reply, ServiceUnavailable
from web.signin import who

SERVICE_NAMES = {"registration": "đăng ký thi đua", "evaluation": "bình xét", "awards": "khen thưởng",
                 "notifications": "thông báo"}
STASH = "web.refused"  # the session key of a refusal carried across an htmx redirect


# -- who is signed in ---------------------------------------------------------------------------
class SignInNeeded(Exception):
    """No one is signed in, or their token expired or was refused: back to the sign-in page."""

    def __init__(self, message: str = "Vui lòng đăng nhập để tiếp tục (please sign in)"):
        super().__init__(message)
        self.message = message


def token() -> str | None:
    """The signed-in person's access token, None when there is none or it has expired."""
    held = session.get("token")
    if not held:
        return None
    if time.time() >= session.get("expires_at", 0):
        session.clear()
        raise SignInNeeded("Phiên đăng nhập đã hết hạn; vui lòng đăng nhập lại (your session expired)")
    return held


def caller() -> auth.Principal | None:
    held = token()
    return who(held) if held else None


def signed_in(*roles: str):
    """The page needs someone signed in, holding one of ``roles`` when any are named."""
    def wrap(view):
        @functools.wraps(view)
        def inner(*args, **kwargs):
            person = caller()
            if person is None:
                raise SignInNeeded()
            if roles and not person.has_role(*roles):
                raise Refused(Refusal(403, "Trang này dành cho vai trò khác (this page is for another role): "
                                      + ", ".join(ROLE_NAMES.get(r, r) for r in roles), rule="web.role"))
            return view(*args, **kwargs)
        return inner
    return wrap


ROLE_NAMES = {"department": "Sở/Phòng GD&ĐT", "unit_head": "thủ trưởng đơn vị", "council": "Hội đồng TĐKT",
              "authority": "người có thẩm quyền", "participant": "cá nhân tham gia", "operator": "quản trị hệ thống",
              "ministry": "Bộ GD&ĐT"}


# -- a service's refusal ------------------------------------------------------------------------
@dataclass
class Refusal:
    """A service's "no", as the page shows it: its message, the rule and its source, field by field."""
    status: int
    message: str
    rule: str | None = None
    source: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    service: str | None = None
    rule_name: str | None = None

    def __post_init__(self):
        # the web's own refusals (web.role, web.csrf...) and an older service's body without a
        # citation are cited from the same catalogue the services use
        cited = rule_catalogue.cite(self.rule)
        self.rule_name = self.rule_name or cited.get("rule_name")
        self.source = self.source or cited.get("source")

    @classmethod
    def of(cls, service: str, reply: Reply) -> "Refusal":
        body = reply.body if isinstance(reply.body, dict) else {}
        details = body.get("details") if isinstance(body.get("details"), dict) else {}
        return cls(reply.status, body.get("message") or f"Dịch vụ trả lời lỗi {reply.status}",
                   rule=body.get("rule"), source=body.get("source") or details.get("source"),
                   errors=_flat(_unlocated(body.get("errors") or {})), service=service,
                   rule_name=body.get("rule_name"))

    @property
    def service_name(self) -> str | None:
        return SERVICE_NAMES.get(self.service, self.service) if self.service else None

    def field_errors(self, name: str) -> list[str]:
        return self.errors.get(name, [])


LOCATIONS = ("json", "query", "form", "files", "headers", "path")


def _unlocated(errors: Any) -> Any:
    """flask-smorest puts each field under where it was read (``{"json": {"title": [...]}}``):
    the page's fields are the fields themselves."""
    if isinstance(errors, dict) and errors and all(k in LOCATIONS and isinstance(v, dict) for k, v in errors.items()):
        return {field: reasons for inner in errors.values() for field, reasons in inner.items()}
    return errors


def _flat(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested errors as ``{"deadlines.nominations": [...], "award_plan.0.max": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            out.update(_flat(value, f"{prefix}{key}."))
    elif isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        out[prefix.rstrip(".")] = list(errors)
    elif isinstance(errors, list):
        for i, value in enumerate(errors):
            out.update(_flat(value, f"{prefix}{i}."))
    else:
        out[prefix.rstrip(".")] = [str(errors)]
    return out


class Refused(Exception):
    """A read the service refused: the app shows it on its error page with the same status."""

    def __init__(self, refusal: Refusal):
        super().__init__(refusal.message)
        self.refusal = refusal


class InFlight(Exception):
    """Still "retryable" after every retry: the event the service waits for has not come yet."""


def retryable(reply: Reply) -> bool:
    """How the services mark an answer that will change by itself once an event arrives:
    ``"retryable": true`` on the body (shared.errors.NotYetSeen, a concurrent write), or a
    503 whose details say so."""
    body = reply.body if isinstance(reply.body, dict) else {}
    details = body.get("details") if isinstance(body.get("details"), dict) else {}
    return bool(body.get("retryable") or (reply.status == 503 and details.get("retryable")))


# -- calling a service as the signed-in person --------------------------------------------------
def _call(service: str, method: str, path: str, json: Any = None, public: bool = False) -> Reply:
    """One answer, retried with back-off while it is retryable; 401 signs the person out.
    ``public``: sent with no token at all, whoever is signed in."""
    web = current_app.extensions["web"]
    held = None if public else token()
    authorization = f"Bearer {held}" if held else None
    for delay in (*web.retry_delays_s, None):
        reply = web.client.get(service, path, authorization) if method == "GET" else \
            web.client.send(method, service, path, authorization, json)
        if not retryable(reply):
            break
        if delay is None:
            raise InFlight(Refusal.of(service, reply).message)
        time.sleep(delay)
    if reply.status == 401 and held:
        session.clear()
        raise SignInNeeded("Phiên đăng nhập đã hết hạn hoặc đã bị thu hồi; vui lòng đăng nhập lại "
                           "(your session expired)")
    return reply


def client():
    """The port to the services (for code that reads many things at once, e.g. web.sources)."""
    return current_app.extensions["web"].client


def bearer() -> str | None:
    """The ``Authorization`` header of the signed-in person, None when no one is."""
    held = token()
    return f"Bearer {held}" if held else None


def read(service: str, path: str, public: bool = False) -> Any:
    """The body of a ``GET``; a refusal raises :class:`Refused` (an error page), 401 the sign-in page,
    an answer still retryable after the retries :class:`InFlight` (the "đang cập nhật" page)."""
    try:
        reply = _call(service, "GET", path, public=public)
    except ServiceUnavailable as exc:
        raise Refused(unavailable(exc)) from exc
    if reply.status >= 400:
        raise Refused(Refusal.of(service, reply))
    return reply.body


def read_public(service: str, path: str) -> Any:
    """A public read (công khai): sent without anyone's token, even when someone is signed in."""
    return read(service, path, public=True)


def unavailable(exc: ServiceUnavailable) -> Refusal:
    return Refusal(503, f"Dịch vụ {SERVICE_NAMES.get(exc.service, exc.service)} không trả lời; hãy thử lại sau "
                        f"(the service did not answer)", service=exc.service)


def submit(service: str, method: str, path: str, json: Any, *, done: Callable[[Any], Response],
           template: str, fields: dict[str, str] | None = None, **context) -> Response:
    """Send a command as the signed-in person and answer the page:

    * accepted: ``done(body)`` (usually a redirect to what was made);
    * refused: ``template`` again with ``refusal`` and ``form`` (what was typed), the service's status;
      the service changed nothing (a command is one event or none), so nothing is half-done;
    * still retryable after the retries: "đang xử lý", which posts the same form again every few
      seconds (htmx) until the answer is final — safe, since a retryable answer accepted nothing.

    An htmx re-post that ends gets ``HX-Redirect``: to ``done``'s page, or back to this form,
    the refusal kept in the session for one showing (:func:`render`). ``fields`` names the form's
    input of a service's field where they differ (``{"award_plan.0.max": "award_plan.2.max"}``)."""
    poll = request.headers.get("HX-Request") == "true"
    try:
        reply = _call(service, method, path, json)
    except InFlight:
        # a re-post by htmx swaps only the form: it gets the fragment, a browser's post the page
        page = "_pending.html" if poll else "pending.html"
        return make_response(render_template(page, action=request.path, form=request.form), 202)
    except ServiceUnavailable as exc:
        reply_refusal = unavailable(exc)
    else:
        if reply.status < 400:
            answer = done(reply.body)
            if poll:
                return _hx_redirect(answer.headers.get("Location") or request.path)
            return answer
        reply_refusal = Refusal.of(service, reply)
    if fields:
        reply_refusal.errors = {fields.get(k, k): v for k, v in reply_refusal.errors.items()}
    if poll:
        session[STASH] = {"refusal": asdict(reply_refusal), "form": list(request.form.items(multi=True))}
        return _hx_redirect(request.path)
    return make_response(render(template, refusal=reply_refusal, form=request.form, **context),
                         reply_refusal.status)


def updating(message: str) -> Response:
    """A page whose data is still on its way between services: said so, and fetched again with
    htmx every few seconds (the whole ``<main>``), until the services agree."""
    return make_response(render_template("updating.html", message=message, target=request.full_path.rstrip("?")), 202)


def render(template: str, **context) -> str:
    """A page; a form page shows the refusal an htmx poll left in the session, with what was typed."""
    stashed = session.pop(STASH, None)
    if stashed and "refusal" not in context:
        context["refusal"] = Refusal(**stashed["refusal"])
        context["form"] = MultiDict(stashed["form"])
    context.setdefault("form", MultiDict())
    return render_template(template, **context)


def vn_date(value: Any) -> str:
    """``2024-04-30`` -> ``30/04/2024``, the way Vietnamese papers write a date; anything else as it is."""
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y") if value else ""
    except ValueError:
        return str(value)


def _hx_redirect(location: str) -> Response:
    response = make_response("", 200)
    response.headers["HX-Redirect"] = location
    return response


def sign_in_page(message: str) -> Response:
    flash(message, "warning")
    return redirect(url_for("pages.sign_in", next=request.full_path if request.method == "GET" else None))
