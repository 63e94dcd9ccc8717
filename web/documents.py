"""The gateway's dossier files: a signed-in page uploads a file and downloads one, through the services.

``POST /documents/<service>`` (multipart, field ``file``; ``service`` is ``awards`` for a
nomination's dossier, ``evaluation`` for a council's evidence) forwards the file to that service's
``POST /documents`` and answers its reference — the page then names it in the dossier or the
evaluation it sends. ``GET /nominations/<id>/documents/<sha256>`` and ``GET /evaluations/<registration
id>/documents/<sha256>`` hand back the file the service sends. Every call carries the caller's token,
so the services alone decide who may upload or see what; their refusals are passed on as they said
them. The gateway refuses a file over its own limit before sending anything on.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from shared.documents import FORM_OVERHEAD, too_large
from shared.errors import Invalid, NotFound
from web import ui
from web.client import ServiceUnavailable
from web.reports import SERVICE_NAMES, Unavailable
from web.settings import WebSettings

# The services that take files, and what they are there.
TAKES_FILES = {"awards": "hồ sơ đề nghị khen thưởng", "evaluation": "minh chứng bình xét"}


def caller_authorization() -> str | None:
    """The caller's bearer token: the signed-in person's (web.ui.token) or the request's own header."""
    token = ui.token()
    return f"Bearer {token}" if token else request.headers.get("Authorization")


def blueprint(settings: WebSettings) -> Blueprint:
    blp = Blueprint("documents", __name__)
    limit = settings.upload_max_bytes

    @blp.before_request
    def _limit():
        request.max_content_length = limit + FORM_OVERHEAD  # refused while read, not after it filled memory

    @blp.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        exc = too_large(limit)
        return jsonify(exc.body()), exc.status

    @blp.post("/documents/<service>")
    def upload(service: str):
        if service not in TAKES_FILES:
            raise NotFound(f"Không tải tệp lên dịch vụ «{service}» (takes no files): chọn một trong {', '.join(TAKES_FILES)}",
                           details={"services": list(TAKES_FILES)})
        file = request.files.get("file")
        if file is None:
            raise Invalid("Chưa chọn tệp để tải lên (no file)", rule="documents.file", errors={"file": ["Thiếu trường bắt buộc."]})
        content = file.read(limit + 1)
        if len(content) > limit:
            raise too_large(limit)
        province = request.args.get("province")
        path = "/documents" + (f"?province={quote(province, safe='')}" if province else "")
        reply = _call(service, lambda client: client.upload(
            service, path, caller_authorization(), file.filename or "tai-lieu", content,
            file.mimetype or "application/octet-stream"))
        return jsonify(reply.body), reply.status

    @blp.get("/nominations/<nomination_id>/documents/<sha256>")
    def nomination_document(nomination_id: str, sha256: str):
        return _download("awards", f"/nominations/{quote(nomination_id, safe='')}/documents/{quote(sha256, safe='')}")

    @blp.get("/evaluations/<registration_id>/documents/<sha256>")
    def evaluation_document(registration_id: str, sha256: str):
        return _download("evaluation",
                         f"/evaluations/{quote(registration_id, safe='')}/documents/{quote(sha256, safe='')}")

    return blp


def _download(service: str, path: str) -> Response:
    got = _call(service, lambda client: client.download(service, path, caller_authorization()))
    if got.status != 200:
        return jsonify(got.body), got.status
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"}
    if got.disposition:
        headers["Content-Disposition"] = got.disposition
    return Response(got.content, content_type=got.media_type or "application/octet-stream", headers=headers)


def _call(service: str, call):
    try:
        return call(current_app.extensions["web"].client)
    except ServiceUnavailable as exc:
        raise Unavailable(f"Dịch vụ {SERVICE_NAMES.get(service, service)} không trả lời; hãy thử lại sau",
                          details={"service": service, "retryable": True}) from exc
