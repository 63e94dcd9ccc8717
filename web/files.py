"""Attaching files in the pages: the HTML side of the gateway's uploads (:mod:`web.documents`).

A page's file field (``documents/_files.html``) posts one file with htmx to ``POST /tep/<service>``.
Accepted, the answer is the file's line: its name, its size, a remove button and the hidden
``document`` input holding the reference the service answered, which the surrounding form sends
with the dossier (:func:`web.roles.forms.dossier`) or the evaluation. Refused (too big, not a PDF,
JPEG, PNG or DOCX by its content, no file), the answer is the refusal in Vietnamese with its rule,
put out of band in the field's message box with the refusal's own status (the field tells htmx to
swap it all the same), and nothing is added to the list: a file either is in the form, named by a
reference the service gave, or it is not.

The reference goes through the browser and back; that is safe because the services check, when the
dossier or the evaluation is sent, that the province uploaded that content with that type and size.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from flask import make_response, request

from shared.errors import ApiError
from web import ui
from web.client import Reply

ACCEPT = ".pdf,.jpg,.jpeg,.png,.docx,application/pdf,image/jpeg,image/png," \
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def size(n: Any) -> str:
    """A file's size as Vietnamese write it: ``48,2 KB``, ``1,5 MB``."""
    try:
        n = int(n)
    except (TypeError, ValueError):
        return ""
    if n < 1024:
        return f"{n} B"
    value, unit = (n / 1024, "KB") if n < 2**20 else (n / 2**20, "MB")
    return f"{value:.1f}".removesuffix(".0").replace(".", ",") + f" {unit}"


def reference(value: Any) -> dict | None:
    """A ``document`` field's JSON as the reference it holds; None when it holds none."""
    if isinstance(value, dict):
        return value
    try:
        ref = json.loads(value)
    except (TypeError, ValueError):
        return None
    return ref if isinstance(ref, dict) and isinstance(ref.get("sha256"), str) else None


def key_of() -> str:
    """The field the upload came from (its list and message box are named after it)."""
    key = request.args.get("key") or "tep"
    return key if key.replace("-", "").replace("_", "").isalnum() else "tep"


def attach(service: str, forward: Callable[[Any], Reply], limit: int):
    file = next((f for f in request.files.values() if f.filename), None)
    try:
        reply = forward(file)
    except ApiError as exc:
        return refused(ui.Refusal(exc.status, exc.message, rule=exc.rule,
                                  service=(exc.details or {}).get("service")), limit)
    if reply.status not in (200, 201):
        return refused(ui.Refusal.of(service, reply), limit)
    ref = dict(reply.body)
    criterion = request.args.get("criterion")
    if criterion:  # evidence for one criterion of the evaluation (services/evaluation checks the code)
        ref["criterion"] = criterion
    return ui.render("documents/_attached.html", ref=ref, key=key_of(), limit=limit), 201


def refused(refusal: ui.Refusal, limit: int):
    return make_response(ui.render("documents/_refused.html", refusal=refusal, key=key_of(), limit=limit),
                         refusal.status)


def install(state, limit: int) -> None:
    """The filters and names the file templates use, given to the app with the documents blueprint."""
    app = state.app
    app.add_template_filter(size, "file_size")
    app.add_template_filter(reference, "document_ref")
    app.add_template_filter(lambda ref: json.dumps(ref, ensure_ascii=False), "document_json")
    app.context_processor(lambda: {"FILE_ACCEPT": ACCEPT,
                                   "FILE_LIMIT": size(limit)})
