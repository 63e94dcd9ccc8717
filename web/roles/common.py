"""What the role pages (unit head, council, authority) share, said over the gateway's foundation
(:mod:`web.ui`: sign-in, the signed-in person's calls, refusals shown in the page, retries).

A read a page cannot do without stops the page with the service's refusal (``ui.read``); a read
of something that may not exist yet (an evaluation not done, a review not held) is ``None``.
A command goes through ``ui.submit``: accepted, the person is told what was done and sent on;
refused, the same page again with the rule and what was typed; in flight, retried.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable

from flask import Blueprint, Response, current_app, flash, make_response, redirect, request
from werkzeug.datastructures import MultiDict

from shared import clock as clocks
from web import ui
from web.roles import labels
from web.roles.forms import FormError

signed_in = ui.signed_in


def me():
    return ui.caller()


def read(service: str, path: str, missing_ok: bool = False) -> Any:
    try:
        return ui.read(service, path)
    except ui.Refused as exc:
        if missing_ok and exc.refusal.status == 404:
            return None
        raise


def done(message: str | Callable[[Any], str], to: str | Callable[[Any], str]) -> Callable[[Any], Response]:
    """What an accepted command answers: a note of what was done, then the page ``to``."""
    def answer(body: Any) -> Response:
        flash(message(body) if callable(message) else message, "success")
        return redirect(to(body) if callable(to) else to)
    return answer


def submit(service: str, path: str, body: Any, *, done: Callable[[Any], Response], template: str,
           **context) -> Response:
    return ui.submit(service, "POST", path, body, done=done, template=template, **context)


def refuse_form(exc: FormError, template: str, **context) -> Response:
    """A form the page itself could not turn into a request: shown like a service's 422."""
    refusal = ui.Refusal(422, "Dữ liệu nhập chưa hợp lệ (the form is not valid)", errors={exc.field: [exc.reason]})
    return make_response(ui.render(template, refusal=refusal, form=request.form, **context), 422)


def page(template: str, form: MultiDict | None = None, **context) -> str:
    return ui.render(template, **({"form": form} if form is not None else {}), **context)


def today() -> date:
    return clocks.today(current_app.extensions["web"].clock)


def label(table: str, code: str | None) -> str:
    return labels.name(labels.FILTERS[table], code)


def install(blp: Blueprint) -> None:
    """The names every role template uses: ``{{ code | vi('status') }}``, ``labels`` (``vn_date`` is the
    app's) — given to the app once, whichever of the role blueprints is registered first."""
    def once(state) -> None:
        if state.app.extensions.setdefault("web.roles", False):
            return
        state.app.extensions["web.roles"] = True
        state.app.add_template_filter(lambda code, table: label(table, code), "vi")
        state.app.context_processor(lambda: {"labels": labels})
    blp.record_once(once)
