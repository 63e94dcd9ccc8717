"""``GET /reports/campaigns/<campaign_id>/<report>.<fmt>``: a campaign's paperwork, as a file.

The figures are read from the services as the caller (their token, forwarded) and computed
once (:mod:`web.figures`); the file is one rendering of them. A service's refusal is the
answer: 401, 403 or 404 with its message, in Vietnamese, and which service refused.
"""
from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request

from shared import clock as clocks
from shared.errors import ApiError, Forbidden, NotFound, Unauthorized
from web import figures, render_csv, render_pdf, render_xlsx, sources, ui
from web.client import ServiceUnavailable

blp = Blueprint("reports", __name__)

FORMATS = {
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", render_xlsx.render),
    "pdf": ("application/pdf", render_pdf.render),
    "csv": ("text/csv; charset=utf-8", render_csv.render),
}
SERVICE_NAMES = {"registration": "đăng ký thi đua", "evaluation": "bình xét", "awards": "khen thưởng",
                 "notifications": "thông báo"}


class BadGateway(ApiError):
    status, title = 502, "Bad Gateway"


class Unavailable(ApiError):
    status, title = 503, "Service Unavailable"


@blp.get("/reports/campaigns/<campaign_id>/<filename>")
def report(campaign_id: str, filename: str):
    name, _, fmt = filename.rpartition(".")
    if name not in figures.REPORTS or fmt not in FORMATS:
        raise NotFound(f"Không có báo cáo «{filename}»: chọn báo cáo một trong {', '.join(figures.REPORTS)} "
                       f"và định dạng một trong {', '.join(FORMATS)} (ví dụ proposals.xlsx)",
                       details={"reports": list(figures.REPORTS), "formats": list(FORMATS)})
    ext = current_app.extensions["web"]
    try:
        data = sources.gather(ext.client, campaign_id, _authorization(),
                              with_evaluations=name in figures.NEEDS_EVALUATIONS)
    except sources.Refused as refused:
        raise passed_through(refused) from refused
    except ServiceUnavailable as exc:
        raise Unavailable(f"Dịch vụ {SERVICE_NAMES.get(exc.service, exc.service)} không trả lời; hãy thử lại sau",
                          details={"service": exc.service, "retryable": True}) from exc
    doc = figures.REPORTS[name](data, clocks.today(ext.clock))
    mimetype, render = FORMATS[fmt]
    return Response(render(doc), content_type=mimetype,
                    headers={"Content-Disposition": content_disposition(f"{doc.file_title}.{fmt}")})


def _authorization() -> str | None:
    """The caller's own header (a program), else the token of the person signed in to the pages
    (a link on the campaign's page): a download is always made as its caller."""
    return request.headers.get("Authorization") or ui.bearer()


def passed_through(refused: sources.Refused, what: str = "báo cáo") -> ApiError:
    """The service's own answer, said by the gateway: same status, its message and rule; ``what``
    names what the caller asked for (a report, a case's audit)."""
    said = refused.message or "không có lời giải thích"
    service = SERVICE_NAMES.get(refused.service, refused.service)
    rule = refused.body.get("rule") if isinstance(refused.body, dict) else None
    details = {"service": refused.service, "status": refused.status}
    if refused.status == 401:
        return Unauthorized(f"Cần đăng nhập để xem {what} (dịch vụ {service}: {said})", rule=rule, details=details)
    if refused.status == 403:
        return Forbidden(f"Không có quyền xem {what} này (dịch vụ {service}: {said})", rule=rule, details=details)
    if refused.status == 404:
        return NotFound(f"Không tìm thấy dữ liệu của {what} (dịch vụ {service}: {said})", rule=rule,
                        details=details)
    return BadGateway(f"Dịch vụ {service} trả lời lỗi {refused.status}: {said}", rule=rule, details=details)


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII name for old clients and the exact UTF-8 name (RFC 5987, RFC 6266)."""
    return f'attachment; filename="{ascii_name(file_name)}"; filename*=UTF-8\'\'{quote(file_name, safe="")}'


def ascii_name(file_name: str) -> str:
    """``Báo cáo sơ kết - Dạy tốt.pdf`` -> ``Bao-cao-so-ket-Day-tot.pdf``: Vietnamese without its marks
    (đ is a letter of its own, not a d with a mark, so it is mapped by hand)."""
    stem, dot, ext = file_name.rpartition(".")
    plain = unicodedata.normalize("NFKD", stem.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    words = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in plain).split()
    return "-".join(words)[:150].strip("-") + dot + ext
