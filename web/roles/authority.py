"""The pages of the body with authority (cấp có thẩm quyền): quyết định khen thưởng with its number
(the date is the server's: the day it is recorded), and step 5 of the exemplar progression.
"""
from __future__ import annotations

from flask import Blueprint, request, url_for

from web import pages
from web.roles import common, forms, labels

blp = Blueprint("authority", __name__, url_prefix="/tham-quyen")
common.install(blp)
pages.offer(("authority",), "Quyết định khen thưởng", "authority.home", "Ký quyết định khen thưởng (số, ngày) cho các đề nghị đã thẩm định đạt")
pages.offer(("authority",), "Khen thưởng điển hình tiên tiến", "authority.exemplars", "Bước 5: khen thưởng theo thẩm quyền hoặc trình cấp trên")
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
                                                    f"số {n['decision_number']} ngày {common.vn_date(n['decision_date'])}.",
                                          url_for("authority.home")))


def _exemplar_context() -> dict:
    """The province's publicised exemplars (step 2 done), each with the council's review (step 4) if held."""
    province = common.me().provinces[0]
    exemplars = [{**e, "review": common.read("evaluation", f"/exemplars/{e['exemplar_id']}/review", missing_ok=True)}
                 for e in common.read("notifications", f"/public/{province}/exemplars")]
    return {"exemplars": exemplars, "awards": common.read("awards", "/rules")["national"]["awards"]}


@blp.get("/dien-hinh")
@common.signed_in(ROLE)
def exemplars():
    """Bước 5: điển hình đã được hội đồng bình xét, chờ khen thưởng hoặc trình cấp trên."""
    return common.page("authority/exemplars.html", **_exemplar_context())


@blp.post("/dien-hinh/<exemplar_id>")
@common.signed_in(ROLE)
def recognise(exemplar_id):
    """Khen thưởng điển hình theo thẩm quyền (with the decision's number) or trình cấp trên."""
    body = {k: v for k in ("influence", "outcome", "award", "decision_number")
            if (v := forms.text(request.form, k)) is not None}
    spread = forms.text(request.form, "spread_units")
    body["spread_units"] = int(spread) if spread and spread.isdigit() else spread
    return common.submit("awards", f"/exemplars/{exemplar_id}/recognition", body,
                         template="authority/exemplars.html", failed=exemplar_id, **_exemplar_context(),
                         done=common.done(lambda r: f"Đã ghi nhận bước 5: {labels.name(labels.RECOGNITION, r['outcome'])}.",
                                          url_for("authority.exemplars")))
