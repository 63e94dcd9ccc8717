"""The pages of the body with authority (cấp có thẩm quyền): quyết định khen thưởng with its number
(the date is the server's: the day it is recorded). Step 5 of the exemplar progression is on the
exemplar's own page (:mod:`web.roles.exemplars`).
"""
from __future__ import annotations

from flask import Blueprint, request, url_for

from web import pages, ui
from web.roles import common, forms

blp = Blueprint("authority", __name__, url_prefix="/tham-quyen")
common.install(blp)
pages.offer(("authority",), "Quyết định khen thưởng", "authority.home",
            "Ký quyết định khen thưởng (số, ngày) cho các đề nghị đã thẩm định đạt")
ROLE = "authority"


def _home_context() -> dict:
    """Every nomination of the province's campaigns the council approved, awaiting a decision:
    those addressed to the signed-in person's level first."""
    approved = []
    for c in common.read("registration", "/campaigns"):
        approved += [{**n, "campaign_title": c["title"]}
                     for n in common.read("awards", f"/campaigns/{c['id']}/nominations") if n["status"] == "approved"]
    mine = common.me().authority
    return {"mine": [n for n in approved if n["target_level"] == mine],
            "others": [n for n in approved if n["target_level"] != mine], "today": common.today()}


@blp.get("/")
@common.signed_in(ROLE)
def home():
    """Quyết định khen thưởng: các đề nghị đã thẩm định đạt."""
    return common.page("authority/home.html", **_home_context())


@blp.post("/quyet-dinh/<nomination_id>")
@common.signed_in(ROLE)
def decide(nomination_id):
    """Quyết định khen thưởng: số quyết định do người quyết định nhập; ngày là ngày hệ thống ghi nhận."""
    return common.submit("awards", f"/nominations/{nomination_id}/decision",
                         {"decision_number": forms.text(request.form, "decision_number") or ""},
                         template="authority/home.html", failed=nomination_id, **_home_context(),
                         done=common.done(lambda n: f"Đã quyết định khen thưởng «{n['award_name']}» cho {n['name']}, "
                                                    f"số {n['decision_number']} ngày {ui.vn_date(n['decision_date'])}.",
                                          url_for("authority.home")))

