"""The pages anyone may open without signing in: the public list (công khai) of a province's
proposals under appraisal and awards decided, and the look-up (tra cứu) of awards by name.

Both read the services' public endpoints with no token, even for someone signed in, so a
page shows exactly what the public sees.
"""
from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Blueprint, current_app, redirect, request, url_for

from web import figures, ui
from web.pages import offer

blp = Blueprint("public", __name__)
offer(None, "Tra cứu khen thưởng", "public.lookup", "Danh hiệu, hình thức khen thưởng của một người, một tập thể")
offer(None, "Công khai", "public.home", "Đề nghị đang thẩm định và khen thưởng đã quyết định của tỉnh")
KINDS = (("", "Cá nhân và tập thể"), ("individual", "Cá nhân"), ("collective", "Tập thể"))


def _province() -> str:
    return request.args.get("province") or current_app.extensions["web"].province


@blp.get("/cong-khai")
def home():
    return redirect(url_for("public.commendations", province=_province()))


@blp.get("/cong-khai/<province>")
def commendations(province: str):
    campaign = request.args.get("campaign_id")
    path = f"/public/{quote(province, safe='')}/commendations" + (f"?{urlencode({'campaign_id': campaign})}"
                                                                  if campaign else "")
    listed = ui.read_public("notifications", path)
    return ui.render("public/commendations.html", province=province, listed=listed, kinds=figures.KIND,
                     levels=figures.LEVEL)


@blp.get("/tra-cuu")
def lookup():
    """The search form and, once a name is typed, what it finds; an htmx search swaps only the results."""
    province, name, kind = _province(), request.args.get("name", "").strip(), request.args.get("kind", "")
    found, refusal = None, None
    if "name" in request.args:
        query = urlencode({k: v for k, v in (("name", name), ("kind", kind)) if v})
        try:
            found = _by_participant(ui.read_public("awards", f"/public/{quote(province, safe='')}/awards?{query}"))
        except ui.Refused as refused:
            refusal = refused.refusal
    partial = request.headers.get("HX-Request") == "true"
    response = ui.render("public/_results.html" if partial else "public/lookup.html", province=province,
                         found=found, refusal=refusal, kinds=KINDS, form=request.args, levels=figures.LEVEL)
    # htmx swaps only a 2xx answer: the refused search is the results' content, said in it
    return response, (refusal.status if refusal and not partial else 200)


@blp.get("/tra-cuu/<province>/<participant_id>")
def participant(province: str, participant_id: str):
    awards = ui.read_public("awards", f"/public/{quote(province, safe='')}/awards?"
                                      f"{urlencode({'participant_id': participant_id})}")
    if not awards:
        raise ui.Refused(ui.Refusal(404, "Không có khen thưởng công khai nào của người, tập thể này "
                                         "(no public award)", service="awards"))
    return ui.render("public/participant.html", province=province, who=awards[0], awards=awards,
                     kinds=figures.KIND, levels=figures.LEVEL)


def _by_participant(awards: list[dict]) -> list[tuple[dict, list[dict]]]:
    """The awards found, one entry per person or unit (newest decision first, as the service gave)."""
    order: dict[str, tuple[dict, list[dict]]] = {}
    for a in awards:
        order.setdefault(a["participant_id"], (a, []))[1].append(a)
    return list(order.values())
