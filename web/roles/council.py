"""The council's pages (Hội đồng Thi đua – Khen thưởng): bộ tiêu chí, bình xét each candidate with
its evidence and the council's vote, and thẩm định of the nominations.
"""
from __future__ import annotations

from flask import Blueprint, request, url_for

from web import pages
from web.roles import common, forms, labels
from web.roles.forms import FormError

blp = Blueprint("council", __name__, url_prefix="/hoi-dong")
common.install(blp)
pages.offer(("council",), "Bình xét và thẩm định", "council.home",
            "Bộ tiêu chí; bình xét từng đăng ký với minh chứng và biểu quyết; thẩm định hồ sơ đề nghị")
ROLE = "council"
AWAITING_APPRAISAL = ("submitted", "resubmitted")


@blp.get("/")
@common.signed_in(ROLE)
def home():
    """Bộ tiêu chí của tỉnh và các phong trào cần bình xét, thẩm định."""
    return common.page("council/home.html", criteria_sets=common.read("evaluation", "/criteria-sets"),
                       campaigns=common.read("registration", "/campaigns"))


@blp.route("/bo-tieu-chi", methods=("GET", "POST"))
@common.signed_in(ROLE)
def define():
    """Định nghĩa bộ tiêu chí (lưu lại một bộ đã có là một phiên bản mới)."""
    context = {"rows": forms.rows(request.form, "crit", forms.CRITERION_FIELDS) or [{}]}
    if request.method == "GET":
        existing = request.args.get("id")
        if existing:  # "Sửa": the set as it is, to save as its next version
            kept = common.read("evaluation", f"/criteria-sets/{existing}")
            return common.page("council/define.html", form=forms.criteria_set_form(kept),
                               rows=[forms.criterion_row(c) for c in kept["criteria"]])
        return common.page("council/define.html", **context)
    try:
        body = {"id": forms.text(request.form, "id") or "", "name": forms.text(request.form, "name") or "",
                "source": forms.text(request.form, "source") or "",
                "applies_to": request.form.getlist("applies_to"), "criteria": forms.criteria(request.form)}
    except FormError as exc:
        return common.refuse_form(exc, "council/define.html", **context)
    return common.submit("evaluation", "/criteria-sets", body, template="council/define.html", **context,
                         done=common.done(lambda s: f"Đã lưu bộ tiêu chí «{s['name']}» (phiên bản {s['version']}).",
                                          url_for("council.home")))


@blp.get("/bo-tieu-chi/dong")
@common.signed_in(ROLE)
def criterion_row():
    """One more empty criterion row (htmx: the "Thêm tiêu chí" button)."""
    return common.page("council/_criterion_row.html", row={})


@blp.get("/phong-trao/<campaign_id>")
@common.signed_in(ROLE)
def campaign(campaign_id):
    """Danh sách bình xét và hồ sơ đề nghị chờ thẩm định của một phong trào."""
    nominations = common.read("awards", f"/campaigns/{campaign_id}/nominations")
    return common.page("council/campaign.html", campaign=common.read("registration", f"/campaigns/{campaign_id}"),
                       candidates=common.read("evaluation", f"/campaigns/{campaign_id}/candidates"),
                       awaiting=[n for n in nominations if n["status"] in AWAITING_APPRAISAL],
                       others=[n for n in nominations if n["status"] not in AWAITING_APPRAISAL])


def _suitable(sets: list[dict], registration: dict, named: list[str]) -> list[dict]:
    """The sets the campaign names first, then those for this candidate's group (a set naming no
    group fits everyone), then the rest."""
    group = registration.get("individual_kind") or registration["participant_kind"]
    return sorted(sets, key=lambda s: (s["id"] not in named, bool(s["applies_to"]) and group not in s["applies_to"]))


def _criteria_set(criteria_set_id: str | None) -> dict | None:
    return common.read("evaluation", f"/criteria-sets/{criteria_set_id}") if criteria_set_id else None


@blp.route("/binh-xet/<registration_id>", methods=("GET", "POST"))
@common.signed_in(ROLE)
def evaluate(registration_id):
    """Bình xét một đăng ký: minh chứng cho từng tiêu chí, nhận xét và biểu quyết của hội đồng."""
    registration = common.read("registration", f"/registrations/{registration_id}")
    named = common.read("registration", f"/campaigns/{registration['campaign_id']}")["criteria_set_ids"]
    sets = _suitable(common.read("evaluation", "/criteria-sets"), registration, named)
    chosen = _criteria_set(request.values.get("criteria_set_id") or (sets[0]["id"] if sets else None))
    context = {"registration": registration, "sets": sets, "chosen": chosen,
               "rounds": common.read("evaluation", f"/evaluations/{registration_id}", missing_ok=True) or []}
    if request.method == "GET":
        return common.page("council/evaluate.html", **context)
    try:
        body = {"registration_id": registration_id, "criteria_set_id": chosen["id"] if chosen else "",
                "evidence": forms.evidence(chosen["criteria"] if chosen else [], request.form),
                "note": forms.text(request.form, "note")}
    except FormError as exc:
        return common.refuse_form(exc, "council/evaluate.html", **context)
    return common.submit("evaluation", "/evaluations", body, template="council/evaluate.html", **context,
                         done=common.done(lambda e: f"Đã bình xét {registration['name']}: "
                                                    f"{'đạt' if e['passed'] else 'không đạt'} (vòng {e['round']}).",
                                          url_for("council.evaluate", registration_id=registration_id)))


@blp.get("/binh-xet/<registration_id>/minh-chung")
@common.signed_in(ROLE)
def evidence_fields(registration_id):
    """The evidence fields of the chosen criteria set (htmx: choosing another set redraws them)."""
    return common.page("council/_evidence.html", chosen=_criteria_set(request.args.get("criteria_set_id")))


@blp.route("/tham-dinh/<nomination_id>", methods=("GET", "POST"))
@common.signed_in(ROLE)
def appraise(nomination_id):
    """Thẩm định hồ sơ đề nghị: đạt, trả lại để hoàn thiện, hoặc không đạt — có lý do."""
    nomination = common.read("awards", f"/nominations/{nomination_id}")
    rounds = (common.read("evaluation", f"/evaluations/{nomination['registration_id']}", missing_ok=True) or []
              if nomination.get("registration_id") else [])
    context = {"nomination": nomination, "rounds": rounds[-1:]}
    if request.method == "GET":
        return common.page("council/appraise.html", **context)
    body = {"outcome": forms.text(request.form, "outcome") or "", "reason": forms.text(request.form, "reason") or ""}
    return common.submit("awards", f"/nominations/{nomination_id}/appraisal", body, template="council/appraise.html",
                         **context, done=common.done(
                             lambda n: f"Đã thẩm định hồ sơ của {n['name']}: "
                                       f"{labels.name(labels.STATUS, n['status'])}.",
                             url_for("council.campaign", campaign_id=nomination.get("campaign_id") or "")))
