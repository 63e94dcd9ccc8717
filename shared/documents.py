"""Dossier and evidence files: uploaded once, kept in the service's blob store, named by events.

An upload (``POST /documents``, multipart, field ``file``) is checked — its size against
``DOCUMENTS_MAX_BYTES``, its type by its **content** (the ``filetype`` library reads the
first bytes; the file's name and the browser's Content-Type are not believed) — stored in
the blob store (:mod:`shared.blobs`) under its SHA-256, recorded in the service's
``documents`` table for its province, and answered with its *reference*::

    {"sha256": "…64 hex…", "name": "To-trinh.pdf", "media_type": "application/pdf", "size": 48213}

Events carry only such references (a nomination's ``dossier.documents``, an evaluation's
``documents``); :meth:`Uploads.check` refuses (422, naming the field) a reference to a file
never uploaded in that province, or one whose type or size differs from what was uploaded.

The ``documents`` table is the service's own record of what it has been given, not a
projection of events: ``thidua rebuild`` leaves it (``operational_tables``). The blob is
written (and synced) before its row, so a row never names a file that is not there; a file
whose row failed is only an unnamed blob, and uploading it again finishes the job.
"""
from __future__ import annotations

import io
import logging

import filetype
from flask import Response, request, send_file
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import RequestEntityTooLarge

from shared import auth, blobs
from shared.blueprint import Blueprint
from shared.errors import ApiError, Invalid, NotFound
from shared.db import insert_row

log = logging.getLogger(__name__)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The kinds of file a dossier or evidence may be, by the type their content shows.
ACCEPTED = {"application/pdf": "PDF", "image/jpeg": "ảnh JPEG", "image/png": "ảnh PNG", DOCX: "Word (DOCX)"}
FORM_OVERHEAD = 64 * 1024  # the multipart framing around the file, beyond the file's own limit


class TooLarge(ApiError):
    status, title = 413, "Payload Too Large"


class UnsupportedType(ApiError):
    status, title = 415, "Unsupported Media Type"


class StoreDown(ApiError):
    """The document store did not answer: nothing was kept; the page tries again."""
    status, title = 503, "Service Unavailable"

    def body(self):
        return {**super().body(), "retryable": True}


def store_down(exc: blobs.StoreUnavailable) -> StoreDown:
    log.warning("document store unavailable: %s", exc)
    return StoreDown("Kho tài liệu tạm thời không trả lời (document store unavailable); hãy thử lại sau giây lát",
                     rule="documents.store")


class DocumentRefSchema(Schema):
    """A file of a dossier or of evidence, as an event names it: by the hash of its content."""
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"),
                           metadata={"description": "SHA-256 of the content, hex: the answer of POST /documents"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=255),
                         metadata={"description": "the file's name as shown in the dossier"})
    media_type = fields.String(required=True, validate=validate.OneOf(tuple(ACCEPTED)))
    size = fields.Integer(required=True, validate=validate.Range(min=1))


class UploadSchema(Schema):
    file = Upload(required=True, metadata={"description": "PDF, JPEG, PNG or DOCX"})


class Uploads:
    """One service's ``documents`` table (in its projection metadata, so migrations make it)."""

    def __init__(self, metadata: MetaData):
        self.table = Table(
            "documents", metadata,
            Column("province", String(16), primary_key=True),
            Column("sha256", String(64), primary_key=True),
            Column("media_type", String(100), nullable=False),
            Column("size", Integer, nullable=False),
            Column("uploaded_by", String(200), nullable=False),
            Column("uploaded_at", DateTime(timezone=True), nullable=False),
        )

    def record(self, conn: Connection, province: str, ref: dict, by: str, at) -> None:
        """The first upload of a content in a province is the one kept; the same content again is that one."""
        if self.find(conn, province, ref["sha256"]) is None:
            insert_row(conn, self.table, dict(province=province, sha256=ref["sha256"], media_type=ref["media_type"],
                                              size=ref["size"], uploaded_by=by, uploaded_at=at))

    def find(self, conn: Connection, province: str, sha256: str) -> dict | None:
        row = conn.execute(select(self.table).where(self.table.c.province == province,
                                                    self.table.c.sha256 == sha256)).mappings().first()
        return dict(row) if row else None

    def check(self, conn: Connection, province: str, refs: list[dict], field: str) -> None:
        """Refuse (422) references to files never uploaded in this province, or that say another type or size."""
        errors: dict[str, list[str]] = {}
        for i, ref in enumerate(refs):
            row = self.find(conn, province, ref["sha256"])
            if row is None:
                errors[f"{field}.{i}.sha256"] = ["tệp chưa được tải lên (never uploaded): hãy gửi tệp qua "
                                                 "POST /documents trước"]
                continue
            for key in ("media_type", "size"):
                if ref[key] != row[key]:
                    errors[f"{field}.{i}.{key}"] = [f"khác với tệp đã tải lên ({row[key]!r})"]
        if errors:
            raise Invalid("Hồ sơ nêu tài liệu chưa được tải lên hoặc không khớp với tệp đã tải lên "
                          "(a document never uploaded, or not as uploaded)",
                          rule="documents.uploaded", errors=errors)


def inspect(upload, max_bytes: int) -> tuple[bytes, dict]:
    """The content of an uploaded file and its reference, if it is small enough and of an accepted
    kind by what its bytes are; else a 413 or 415 naming the field ``file``."""
    content = upload.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise too_large(max_bytes)
    if not content:
        raise Invalid("Tệp tải lên rỗng (empty file)", rule="documents.type", errors={"file": ["tệp rỗng (empty file)"]})
    kind = filetype.guess(content)
    if kind is None or kind.mime not in ACCEPTED:
        seen = f"nội dung là {kind.mime}" if kind else "không nhận ra loại nội dung"
        raise UnsupportedType(
            f"Loại tệp không được chấp nhận (file type not accepted) — {seen}: chỉ nhận "
            f"{', '.join(ACCEPTED.values())}; loại tệp được xét theo nội dung, không theo tên tệp", rule="documents.type",
            errors={"file": [f"{seen} (accepted: {', '.join(ACCEPTED)})"]},
            details={"accepted": list(ACCEPTED)})
    return content, {"sha256": blobs.digest(content), "name": display_name(upload.filename, kind.extension),
                     "media_type": kind.mime, "size": len(content)}


def too_large(max_bytes: int) -> TooLarge:
    shown = f"{max_bytes / 2**20:.3g} MB" if max_bytes >= 2**20 else f"{max_bytes / 1024:.0f} KB"
    return TooLarge(f"Tệp quá lớn (file too large): tối đa {shown} một tệp", rule="documents.size",
                    errors={"file": [f"larger than {max_bytes} bytes"]}, details={"max_bytes": max_bytes})


def display_name(given: str | None, extension: str) -> str:
    """The name a person gave the file, without any folder or control character; a name if none."""
    name = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:255]
    return name or f"tai-lieu.{extension}"


def references(data: dict) -> list[dict]:
    """The documents an event's payload names: its ``documents`` and its dossier's."""
    found = list(data.get("documents") or [])
    dossier = data.get("dossier")
    if isinstance(dossier, dict):
        found += dossier.get("documents") or []
    return found


def referenced_by(events, sha256: str) -> dict:
    """The reference to ``sha256`` in any of a stream's events (a replaced dossier's files stay
    readable: the history keeps them), or 404."""
    for event in reversed(events):
        for ref in references(event.data):
            if ref.get("sha256") == sha256:
                return ref
    raise NotFound(f"Hồ sơ này không có tài liệu {sha256} (not a file of this dossier)", rule="documents.referenced")


def send(store: blobs.BlobStore, ref: dict) -> Response:
    """The file, as an attachment under its name (never shown inline: nothing uploaded runs in a page)."""
    try:
        content = store.get(ref["sha256"])
    except blobs.BlobMissing as exc:
        raise NotFound(f"Tệp {ref['name']} không còn trong kho tài liệu (file missing from the store)", rule="documents.stored") from exc
    except blobs.StoreUnavailable as exc:
        raise store_down(exc) from exc
    reply = send_file(io.BytesIO(content), mimetype=ref["media_type"], as_attachment=True,
                      download_name=ref["name"], max_age=0)
    reply.headers["X-Content-Type-Options"] = "nosniff"
    reply.headers["Cache-Control"] = "private, no-store"
    return reply


def serve(stream_id: str, sha256: str, *, readers: tuple[str, ...], orgchart, province: str,
          unit: str | None, refusal: ApiError) -> Response:
    """A file named by an event of ``stream_id``, to a caller in one of ``readers`` or to a unit head of
    ``unit`` or a unit above it (the service's org chart says which); anyone else gets ``refusal``."""
    from shared.service import runtime
    rt, principal = runtime(), auth.current()
    with rt.db.read() as conn:
        if not (principal.has_role(*readers) or (principal.has_role("unit_head")
                                                 and orgchart.within(conn, province, unit, principal.unit))):
            raise refusal
        events = rt.store.load(conn, stream_id)
    return send(rt.blobs, referenced_by(events, sha256))


def blueprint(service: str, uploaders: tuple[str, ...], uploads: Uploads) -> Blueprint:
    """``POST /documents`` of one service: who may upload, into which table."""
    from shared.service import runtime

    blp = Blueprint(f"{service}-documents", __name__, description="Tài liệu hồ sơ, minh chứng (PDF, ảnh, DOCX)")

    @blp.before_request
    def _before_the_form_is_read():
        # who may upload, and how much, is settled before a file fills memory or disk
        if request.method == "POST":
            auth.require_role(*uploaders)
        request.max_content_length = runtime().settings.documents_max_bytes + FORM_OVERHEAD

    @blp.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        exc = too_large(runtime().settings.documents_max_bytes)
        return exc.body(), exc.status

    @blp.route("/documents")
    class Documents(MethodView):
        @blp.arguments(UploadSchema, location="files")
        @blp.response(201, DocumentRefSchema)
        def post(self, files):
            """Tải lên một tài liệu (PDF, JPEG, PNG, DOCX): trả về tham chiếu để nêu trong hồ sơ hoặc minh chứng."""
            principal = auth.current()  # of a role that uploads (checked before the form was read)
            province = auth.province_for(request.args.get("province"))
            rt = runtime()
            content, ref = inspect(files["file"], rt.settings.documents_max_bytes)
            try:
                rt.blobs.put(content)
            except blobs.StoreUnavailable as exc:
                raise store_down(exc) from exc  # before its row: nothing names a file that is not there
            try:
                with rt.db.write() as conn:
                    uploads.record(conn, province, ref, principal.subject, rt.clock.now())
            except IntegrityError:
                pass  # the same content, uploaded at the same moment by someone else: their row is the one
            return ref

    return blp
