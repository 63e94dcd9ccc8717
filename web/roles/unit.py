"""The unit head's pages (thủ trưởng đơn vị): the unit and its people, đăng ký thi đua and its
withdrawal, đề nghị khen thưởng with the dossier, and the dossiers returned to be completed.

The unit is the one the signed-in head's token names; the services decide what is within it.
"""
from __future__ import annotations

import json

from flask import Blueprint, request, url_for
from werkzeug.datastructures import MultiDict

from web import pages
from web.roles import common, forms
from web.roles.forms import FormError

blp = Blueprint("unit", __name__, url_prefix="/don-vi")
common.install(blp)
pages.offer(("unit_head",), "Đơn vị và thành viên", "unit.home",
            "Đăng ký đơn vị, thành viên; đăng ký thi đua; đề nghị khen thưởng; bổ sung hồ sơ bị trả lại")
ROLE = "unit_head"


def _unit(unit_id: str | None = None) -> dict:
    return common.read("registration", f"/units/{unit_id or common.me().unit}")


def _units() -> list[dict]:
    """The head's unit and the units directly under it."""
    unit = _unit()
    return [unit] + [_unit(c) for c in unit["children"]]


def _people(units: list[dict]) -> list[dict]:
    """Whom the head may register: each unit as a collective, and each of its members."""
    out = []
    for u in units:
        out.append({"key": f"unit:{u['id']}", "label": f"{u['name']} (tập thể)", "participant": {
            "participant_id": u["id"], "kind": "collective", "name": u["name"], "unit": u["name"], "unit_id": u["id"]}})
        for m in u["members"]:
            out.append({"key": f"person:{u['id']}:{m['person_id']}", "label": f"{m['name']} — {u['name']}",
                        "participant": {"participant_id": m["person_id"], "kind": "individual",
                                        "individual_kind": m["individual_kind"], "name": m["name"],
                                        "unit": u["name"], "unit_id": u["id"],
                                        **{k: m[k] for k in ("position", "gender") if m.get(k)}}})
    return out


def _home_context() -> dict:
    units = _units()
    return {"unit": units[0], "children": units[1:], "campaigns": common.read("registration", "/campaigns")}


@blp.get("/")
@common.signed_in(ROLE)
def home():
    """Đơn vị của tôi: thành viên, đơn vị trực thuộc, các phong trào thi đua."""
    return common.page("unit/home.html", **_home_context())


def _given(*names: str) -> dict:
    return {k: v for k in names if (v := forms.text(request.form, k)) is not None}


@blp.post("/thanh-vien")
@common.signed_in(ROLE)
def add_member():
    """Thêm thành viên (cán bộ, giáo viên, nhân viên, học sinh) vào đơn vị."""
    unit_id = forms.text(request.form, "unit_id") or common.me().unit
    body = _given("person_id", "name", "position", "individual_kind", "gender")
    return common.submit("registration", f"/units/{unit_id}/members", body, template="unit/home.html",
                         done=common.done(f"Đã thêm {body.get('name')} vào đơn vị.", url_for("unit.home")),
                         **_home_context())


@blp.post("/don-vi-truc-thuoc")
@common.signed_in(ROLE)
def add_unit():
    """Đăng ký đơn vị trực thuộc (tổ, bộ phận, trường...) dưới đơn vị của mình."""
    body = {**_given("id", "name", "kind", "address", "phone"), "parent_id": common.me().unit}
    return common.submit("registration", "/units", body, template="unit/home.html",
                         done=common.done(f"Đã đăng ký đơn vị {body.get('name')}.", url_for("unit.home")),
                         **_home_context())


def _campaign_context(campaign_id: str) -> dict:
    units = _units()
    mine = {u["id"] for u in units}
    registrations = [r for r in common.read("registration", f"/campaigns/{campaign_id}/registrations")
                     if r.get("unit_id") in mine]
    nominations = [n for n in common.read("awards", f"/campaigns/{campaign_id}/nominations")
                   if n.get("proposer_unit") == common.me().unit]
    return {"campaign": common.read("registration", f"/campaigns/{campaign_id}"), "people": _people(units),
            "registrations": registrations, "nominations": nominations,
            "results": {p["registration_id"]: p
                        for p in common.read("awards", f"/campaigns/{campaign_id}/participants")},
            "nominated": {n["registration_id"] for n in nominations if n["status"] != "rejected"},
            "pledge_rows": forms.rows(request.form, "pledge", forms.PLEDGE_FIELDS) or [None]}


@blp.get("/phong-trao/<campaign_id>")
@common.signed_in(ROLE)
def campaign(campaign_id):
    """Một phong trào: đăng ký thi đua của đơn vị, kết quả bình xét, đề nghị khen thưởng."""
    return common.page("unit/campaign.html", **_campaign_context(campaign_id))


@blp.get("/phong-trao/<campaign_id>/noi-dung")
@common.signed_in(ROLE)
def pledge_row(campaign_id):
    """One more empty row of emulation content (htmx: the "Thêm nội dung" button)."""
    return common.page("unit/_pledge_row.html", campaign=common.read("registration", f"/campaigns/{campaign_id}"))


@blp.post("/phong-trao/<campaign_id>/dang-ky")
@common.signed_in(ROLE)
def register(campaign_id):
    """Đăng ký thi đua: a collective or a person of the unit, with their emulation content."""
    context = _campaign_context(campaign_id)
    chosen = {p["key"]: p for p in context["people"]}.get(request.form.get("participant", ""))
    if chosen is None:
        return common.refuse_form(FormError("participant", "Hãy chọn tập thể hoặc cá nhân đăng ký thi đua"),
                                  "unit/campaign.html", **context)
    name = chosen["participant"]["name"]
    return common.submit("registration", f"/campaigns/{campaign_id}/registrations",
                         {"participant": chosen["participant"], "pledges": forms.pledges(request.form)},
                         template="unit/campaign.html", **context,
                         done=common.done(f"Đã đăng ký thi đua cho {name}.",
                                          url_for("unit.campaign", campaign_id=campaign_id)))


@blp.post("/phong-trao/<campaign_id>/rut/<registration_id>")
@common.signed_in(ROLE)
def withdraw(campaign_id, registration_id):
    """Rút đăng ký thi đua, with the reason."""
    return common.submit("registration", f"/registrations/{registration_id}/withdrawal",
                         {"reason": forms.text(request.form, "reason") or ""}, template="unit/campaign.html",
                         **_campaign_context(campaign_id),
                         done=common.done(lambda body: f"Đã rút đăng ký thi đua của {body['name']}.",
                                          url_for("unit.campaign", campaign_id=campaign_id)))


def _awards_for(kind: str) -> list[dict]:
    """The titles and forms that apply to this kind of participant, the province's rules first."""
    rules = common.read("awards", "/rules")
    seen, out = set(), []
    for rule in rules["province"]["awards"] + rules["national"]["awards"]:
        if rule["code"] not in seen and rule["applies_to"] in (kind, "both"):
            seen.add(rule["code"])
            out.append(rule)
    return out


@blp.route("/phong-trao/<campaign_id>/de-nghi/<registration_id>", methods=("GET", "POST"))
@common.signed_in(ROLE)
def nominate(campaign_id, registration_id):
    """Đề nghị khen thưởng a registration whose evaluation passed, with its dossier."""
    registration = common.read("registration", f"/registrations/{registration_id}")
    rounds = common.read("evaluation", f"/evaluations/{registration_id}", missing_ok=True) or []
    context = {"registration": registration, "evaluation": rounds[-1] if rounds else None,
               "awards": _awards_for(registration["participant_kind"])}
    if request.method == "GET":
        return common.page("unit/nominate.html", **context)
    try:
        body = {"campaign_id": campaign_id, "registration_id": registration_id,
                "award": forms.text(request.form, "award") or "",
                "kind": forms.text(request.form, "kind") or "periodic",
                "dossier": forms.dossier(request.form)}
    except FormError as exc:
        return common.refuse_form(exc, "unit/nominate.html", **context)
    return common.submit("awards", "/nominations", body, template="unit/nominate.html", **context,
                         done=common.done(lambda n: f"Đã gửi đề nghị khen thưởng «{n['award_name']}» cho {n['name']}.",
                                          url_for("unit.campaign", campaign_id=campaign_id)))


@blp.route("/de-nghi/<nomination_id>/bo-sung", methods=("GET", "POST"))
@common.signed_in(ROLE)
def resubmit(nomination_id):
    """Bổ sung hồ sơ đề nghị đã bị trả lại: the council's reason beside the dossier to complete."""
    nomination = common.read("awards", f"/nominations/{nomination_id}")
    if request.method == "GET":
        return common.page("unit/resubmit.html", nomination=nomination, form=_dossier_form(nomination["dossier"]))
    try:
        body = {"dossier": forms.dossier(request.form)}
    except FormError as exc:
        return common.refuse_form(exc, "unit/resubmit.html", nomination=nomination)
    return common.submit("awards", f"/nominations/{nomination_id}/resubmission", body, template="unit/resubmit.html",
                         nomination=nomination,
                         done=common.done(f"Đã gửi lại hồ sơ đề nghị khen thưởng của {nomination['name']}.",
                                          url_for("unit.campaign", campaign_id=nomination["campaign_id"])))


def _dossier_form(dossier: dict) -> MultiDict:
    """The returned dossier as the form's fields, for the head to complete rather than retype."""
    minutes = dossier.get("council_minutes") or {}
    fields = MultiDict({"submission_letter": dossier.get("submission_letter") or "",
                        "achievement_report": dossier.get("achievement_report") or "",
                        "certifications": "\n".join(dossier.get("certifications") or []),
                        "members_total": minutes.get("members_total", ""), "votes_for": minutes.get("votes_for", ""),
                        "meeting_date": minutes.get("meeting_date") or ""})
    for ref in dossier.get("documents") or []:
        fields.add("document", json.dumps(ref, ensure_ascii=False))
    return fields
