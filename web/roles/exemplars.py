"""The five steps of the exemplar progression (5 bước nhân rộng điển hình tiên tiến), one page per
exemplar: what each step recorded, and the form of the next step for the role that takes it —
1 xây dựng (the unit head registers, a head selects), 2 tuyên truyền (the council or the Sở),
3 học tập (a unit head), 4 bình xét (the council), 5 khen thưởng or trình cấp trên (a head or
the authority). Each service checks the order of the steps itself; the page only offers a step
once it can see the one before.
"""
from __future__ import annotations

from flask import Blueprint, request, url_for

from web import pages
from web.roles import common, forms, labels, unit

blp = Blueprint("exemplars", __name__, url_prefix="/dien-hinh")
common.install(blp)
ROLES = ("unit_head", "council", "authority", "department")
pages.offer(ROLES, "Điển hình tiên tiến", "exemplars.home", "Năm bước: xây dựng, tuyên truyền, học tập, bình xét, "
                                                              "khen thưởng điển hình")
STEPS = ("Xây dựng điển hình", "Tuyên truyền, nhân rộng", "Tổ chức học tập", "Bình xét", "Khen thưởng, trình cấp trên")
DOERS = {"chon": ("unit_head", "department"), "tuyen-truyen": ("council", "department"),
         "hoc-tap": ("unit_head", "department"), "binh-xet": ("council",), "khen-thuong": ("unit_head", "authority")}
OUTCOME_FIELDS = ("unit_id", "outcome", "note")


def _publicised() -> list[dict]:
    return common.read("notifications", f"/public/{common.me().provinces[0]}/exemplars")


def _home_context() -> dict:
    me = common.me()
    registering = me.has_role("unit_head")
    return {"exemplars": _publicised(), "campaigns": common.read("registration", "/campaigns"),
            "people": unit._people(unit._units()) if registering else [], "registering": registering}


@blp.get("/")
@common.signed_in(*ROLES)
def home():
    """Điển hình đã được tuyên truyền, và đăng ký điển hình mới (bước 1)."""
    return common.page("exemplars/home.html", **_home_context())


@blp.post("/")
@common.signed_in("unit_head")
def register():
    """Bước 1: đăng ký điển hình theo mẫu (tập thể: trường, địa chỉ, điện thoại; cá nhân: họ tên, chức vụ,
    đơn vị, điện thoại)."""
    context = _home_context()
    chosen = {p["key"]: p["participant"] for p in context["people"]}.get(request.form.get("participant", ""), {})
    kind = chosen.get("kind", "collective")
    form = ({"school": chosen.get("name"), "address": forms.text(request.form, "address")} if kind == "collective" else
            {"name": chosen.get("name"), "position": forms.text(request.form, "position"), "unit": chosen.get("unit")})
    body = {"campaign_id": forms.text(request.form, "campaign_id") or "",
            "phase": forms.text(request.form, "phase") or "",
            "kind": kind, "participant_id": chosen.get("participant_id") or "", "unit_id": chosen.get("unit_id"),
            "achievements": forms.text(request.form, "achievements") or "",
            kind: {**form, "phone": forms.text(request.form, "phone")}}
    return common.submit("registration", "/exemplars", body, template="exemplars/home.html", **context,
                         done=common.done(lambda e: f"Đã đăng ký điển hình {e['name']}.",
                                          lambda e: url_for("exemplars.one", exemplar_id=e["id"])))


def _state(exemplar_id: str) -> dict:
    """What each step recorded, as the services that own them answer."""
    exemplar = common.read("registration", f"/exemplars/{exemplar_id}")
    publicity = next((e for e in _publicised() if e["exemplar_id"] == exemplar_id), None)
    review = common.read("evaluation", f"/exemplars/{exemplar_id}/review", missing_ok=True)
    taken = [exemplar["status"] == "selected", publicity is not None, exemplar["learning_sessions"] > 0,
            review is not None]
    return {"exemplar": exemplar, "publicity": publicity, "review": review, "taken": taken,
            "next": next((i + 1 for i, d in enumerate(taken) if not d), 5), "steps": STEPS, "doers": DOERS,
            "units": common.read("registration", "/units"),
            "awards": common.read("awards", "/rules")["national"]["awards"]}


@blp.get("/<exemplar_id>")
@common.signed_in(*ROLES)
def one(exemplar_id):
    """Một điển hình và năm bước của nó."""
    return common.page("exemplars/one.html", **_state(exemplar_id))


def _step_body(step: str) -> tuple[str, str, dict]:
    """The service, the path and the body of a step's form."""
    f = request.form
    if step == "chon":
        return "registration", "selection", {"commendation": forms.text(f, "commendation") or ""}
    if step == "tuyen-truyen":
        return "notifications", "publicity", {"message": forms.text(f, "message") or "",
                                              "channels": f.getlist("channels") or ["inbox", "public_page"]}
    if step == "hoc-tap":
        return "registration", "learning", {k: v for k, v in {
            "unit_id": forms.text(f, "unit_id"), "held_on": forms.text(f, "held_on"), "form": forms.text(f, "form"),
            "participants": forms.whole(forms.text(f, "participants"), "participants", "Số người tham gia")}.items()
            if v is not None}
    if step == "binh-xet":
        return "evaluation", "review", {
            "assessment": forms.text(f, "assessment") or "",
            "outcomes": [{k: v for k, v in row.items() if v} for row in forms.rows(f, "out", OUTCOME_FIELDS)],
            "council": {"members_total": forms.whole(forms.text(f, "members_total"), "members_total",
                                                     "Tổng số thành viên hội đồng"),
                        "votes_for": forms.whole(forms.text(f, "votes_for"), "votes_for", "Số phiếu tán thành")}}
    body = {k: v for k in ("influence", "outcome", "award", "decision_number") if (v := forms.text(f, k)) is not None}
    body["spread_units"] = forms.whole(forms.text(f, "spread_units"), "spread_units", "Số đơn vị đã nhân rộng")
    return "awards", "recognition", body


@blp.post("/<exemplar_id>/<step>")
@common.signed_in(*ROLES)
def take(exemplar_id, step):
    """One step of the progression, by the role that takes it; its service checks the order."""
    if step not in DOERS:
        return common.page("exemplars/one.html", **_state(exemplar_id)), 404
    context = _state(exemplar_id)
    try:
        service, resource, body = _step_body(step)
    except forms.FormError as exc:
        return common.refuse_form(exc, "exemplars/one.html", **context)
    return common.submit(service, f"/exemplars/{exemplar_id}/{resource}", body, template="exemplars/one.html",
                         **context, done=common.done(f"Đã ghi nhận bước «{labels.EXEMPLAR_STEPS[step]}».",
                                                     url_for("exemplars.one", exemplar_id=exemplar_id)))
