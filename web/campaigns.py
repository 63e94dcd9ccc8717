"""The department's pages: launch a campaign, and follow it (registrations, evaluations,
nominations, quota use, exemplar progress per phase) with its charts and its paperwork.

Everything is read from and sent to the services as the signed-in person; the launch form's
fields are named as the service's fields (``deadlines.nominations``, ``award_plan.0.max``),
so a refusal of one field is shown under that field.
"""
from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from web import charts, figures, sources, ui
from web.client import Reply
from web.pages import offer
from web.reports import FORMATS

blp = Blueprint("campaigns", __name__)
FOLLOWERS = ("department", "council", "authority", "ministry", "operator")
LAUNCHERS = ("department", "council", "authority")
PLAN_ROWS, TARGET_ROWS = 4, 3  # empty rows of the form are left out

KINDS = (("yearly", "Thường xuyên theo năm học"), ("peak", "Cao điểm"), ("thematic", "Theo chuyên đề"))
GROUPS = tuple(figures.GROUP.items())
APPLIES_TO = tuple(figures.APPLIES_TO.items())
PARTICIPANT_KINDS = tuple(figures.KIND.items())
REPORT_NAMES = {"proposals": "Danh sách đề nghị khen thưởng", "minutes": "Biên bản họp Hội đồng",
                "draft-decision": "Dự thảo quyết định khen thưởng", "preliminary": "Báo cáo sơ kết",
                "final": "Báo cáo tổng kết"}

offer(("department", "council", "authority"), "Phát động phong trào", "campaigns.launch",
      "Thời hạn, đối tượng, kế hoạch và chỉ tiêu khen thưởng, tiêu chí")
offer(FOLLOWERS, "Theo dõi phong trào", "campaigns.index",
      "Đăng ký, bình xét, đề nghị, chỉ tiêu đã dùng, điển hình tiên tiến, báo cáo")


@blp.get("/phong-trao")
@ui.signed_in(*FOLLOWERS)
def index():
    return ui.render("campaigns/index.html", campaigns=ui.read("registration", "/campaigns"))


@blp.route("/phong-trao/moi", methods=["GET", "POST"])
@ui.signed_in(*LAUNCHERS)
def launch():
    choices = _choices()
    if request.method == "GET":
        return ui.render("campaigns/launch.html", **choices)
    body, invalid, fields = campaign_body(request.form)
    if invalid:
        return ui.render("campaigns/launch.html", refusal=invalid, form=request.form, **choices), invalid.status
    return ui.submit("registration", "POST", "/campaigns", body, fields=fields,
                     done=lambda made: redirect(url_for("campaigns.follow", campaign_id=made["id"])),
                     template="campaigns/launch.html", **choices)


@blp.get("/phong-trao/<campaign_id>")
@ui.signed_in(*FOLLOWERS)
def follow(campaign_id: str):
    try:
        data = sources.gather(ui.client(), campaign_id, ui.bearer())
    except sources.Refused as refused:
        if refused.status == 404 and refused.service != "registration":
            # registration knows the campaign (it answered first) and the others not yet: just launched
            return ui.updating("Phong trào vừa được phát động; các dịch vụ đang cập nhật số liệu")
        raise ui.Refused(ui.Refusal.of(refused.service, Reply(refused.status, refused.body))) from refused
    candidates = data.candidates
    live = [r for r in data.registrations if r["status"] != "withdrawn"]
    counts = (("Đăng ký thi đua", len(live)),
              ("Đã rút đăng ký", len(data.registrations) - len(live)),
              ("Đã bình xét", sum(c["status"] in ("passed", "failed") for c in candidates)),
              ("Đạt tiêu chuẩn", sum(c["status"] == "passed" for c in candidates)),
              ("Được đề nghị khen thưởng", len(data.nominations)),
              ("Được khen thưởng", sum(n["status"] == "decided" for n in data.nominations)))
    pictures = (charts.registrations_over_time(data.registrations),
                charts.quota_use(data.quotas, data.award_name),
                charts.exemplar_progress(data.exemplar_progress))
    reports = [(REPORT_NAMES.get(name, name), [(fmt, url_for("reports.report", campaign_id=campaign_id,
                                                             filename=f"{name}.{fmt}")) for fmt in FORMATS])
               for name in figures.REPORTS]
    return ui.render("campaigns/follow.html", campaign=data.campaign, counts=counts, charts=pictures,
                     reports=reports, nominations=data.nominations, groups=dict(GROUPS),
                     statuses=figures.STATUS, deadlines=_deadlines(data.campaign))


def _deadlines(campaign: dict) -> list[tuple[str, str | None]]:
    dated = {"registration_deadline": campaign.get("registration_deadline"), **(campaign.get("deadlines") or {})}
    return [(label, dated.get(key)) for key, label in figures.DEADLINES]


def _choices() -> dict:
    """What the launch form offers: the awards of the rulebook, the province's criteria sets."""
    rules = ui.read("awards", "/rules")
    seen, awards = set(), []
    for rule in rules["province"]["awards"] + rules["national"]["awards"]:
        if rule["code"] not in seen:
            seen.add(rule["code"])
            awards.append((rule["code"], rule["name"]))
    criteria = [(c["id"], c["name"]) for c in ui.read("evaluation", "/criteria-sets")]
    return {"awards": [("", "— chọn —")] + awards, "criteria_sets": criteria, "kinds": KINDS, "groups": GROUPS,
            "applies_to": APPLIES_TO, "participant_kinds": [("", "— chọn —"), *PARTICIPANT_KINDS],
            "plan_rows": range(PLAN_ROWS), "target_rows": range(TARGET_ROWS)}


def campaign_body(form: MultiDict) -> tuple[dict, ui.Refusal | None, dict[str, str]]:
    """The service's launch command from the form; a number that is not one is refused here,
    by field, since the service would only see it missing. Also the form's name of each row's
    fields as the service numbers them (an empty row of the form is not sent)."""
    errors: dict[str, list[str]] = {}
    fields: dict[str, str] = {}

    def number(name: str) -> int | None:
        raw = form.get(name, "").strip()
        if not raw:
            return None
        try:
            return int(raw)
        except ValueError:
            errors[name] = [f"«{raw}» không phải là số nguyên (not a whole number)"]
            return None

    def text(name: str) -> str | None:
        return form.get(name, "").strip() or None

    body = {"title": text("title"), "kind": text("kind"), "period_start": text("period_start"),
            "period_end": text("period_end"), "registration_deadline": text("registration_deadline"),
            "allow_late_registration": form.get("allow_late_registration") == "on",
            "deadlines": {k: text(f"deadlines.{k}") for k in ("nominations", "preliminary_report", "final_report")},
            "target_groups": form.getlist("target_groups"), "criteria_set_ids": form.getlist("criteria_set_ids"),
            "content_areas": [line.strip() for line in form.get("content_areas", "").splitlines() if line.strip()],
            "award_plan": [], "exemplar_targets": []}
    for i in range(PLAN_ROWS):
        award = text(f"award_plan.{i}.award")
        if award:
            row = {"award": award, "applies_to": text(f"award_plan.{i}.applies_to") or "both"}
            for key in ("max", "min"):
                value = number(f"award_plan.{i}.{key}")
                if value is not None:
                    row[key] = value
            _rows(fields, "award_plan", len(body["award_plan"]), i, ("award", "applies_to", "max", "min"))
            body["award_plan"].append(row)
    for i in range(TARGET_ROWS):
        phase = text(f"exemplar_targets.{i}.phase")
        if phase:
            _rows(fields, "exemplar_targets", len(body["exemplar_targets"]), i, ("phase", "kind", "min"))
            body["exemplar_targets"].append({"phase": phase, "kind": text(f"exemplar_targets.{i}.kind"),
                                             "min": number(f"exemplar_targets.{i}.min")})
    body["deadlines"] = {k: v for k, v in body["deadlines"].items() if v}
    body = {k: v for k, v in body.items() if v is not None}
    if errors:
        return body, ui.Refusal(422, "Dữ liệu nhập chưa đúng: xem từng ô được đánh dấu (check the marked fields)",
                                errors=errors), fields
    return body, None, fields


def _rows(fields: dict[str, str], name: str, sent: int, typed: int, keys: tuple[str, ...]) -> None:
    for key in keys:
        fields[f"{name}.{sent}.{key}"] = f"{name}.{typed}.{key}"
