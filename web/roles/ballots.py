"""The council's own pages (Hội đồng Thi đua – Khen thưởng as data in evaluation): forming a council
and its members, declarations of interest, and the ballot on each candidate — who is entitled to
vote, who is recused and why, the secret ballot's counts or the open vote member by member, and
the share over the entitled against the rule's.

Who may do what is the service's to say (README, Councils and conflicts of interest): a council is formed and staffed by the
council's secretary, the unit head or the department of its unit or above; ballots are opened and
counted by the secretary; a member declares an interest and votes as themself. The pages offer each
form to those roles and show the service's refusal, with its rule, when it says no.
"""
from __future__ import annotations

from flask import Blueprint, request, url_for

from web import pages
from web.roles import common, forms, labels
from web.roles.forms import FormError

blp = Blueprint("ballots", __name__, url_prefix="/hoi-dong")
common.install(blp)
FORMERS = ("council", "unit_head", "department")
SECRETARY = "council"  # opens and counts ballots
MEMBER = "council"  # a member declares and votes as themself (the token's subject)
READERS = (*FORMERS, "authority")
pages.offer(FORMERS, "Hội đồng và bỏ phiếu", "ballots.councils",
            "Thành lập hội đồng, thành viên; khai báo xung đột lợi ích; bỏ phiếu về từng người được xét")


def _list_context() -> dict:
    return {"councils": common.read("evaluation", "/councils"), "unit_id": common.me().unit or ""}


@blp.get("/danh-sach")
@common.signed_in(*FORMERS)
def councils():
    """Các hội đồng của tỉnh, and the form that forms one."""
    return common.page("ballots/councils.html", **_list_context())


@blp.post("/danh-sach")
@common.signed_in(*FORMERS)
def form_council():
    """Thành lập hội đồng of a unit for a term."""
    body = {k: forms.text(request.form, k) or "" for k in ("id", "name", "unit_id", "term")}
    return common.submit("evaluation", "/councils", body, template="ballots/councils.html", **_list_context(),
                         done=common.done(lambda c: f"Đã thành lập {c['name']}.",
                                          lambda c: url_for("ballots.council", council_id=c["id"])))


def _council_context(council_id: str) -> dict:
    council = common.read("evaluation", f"/councils/{council_id}")
    me = common.me()
    return {"council": council, "ballots": common.read("evaluation", f"/ballots?council_id={council_id}"),
            "campaigns": common.read("registration", "/campaigns"), "rules": common.award_rules(),
            "is_member": any(m["person_id"] == me.subject for m in council["members"]),
            "may_staff": me.has_role(*FORMERS), "is_secretary": me.has_role(SECRETARY)}


@blp.get("/hd/<council_id>")
@common.signed_in(*READERS)
def council(council_id):
    """Một hội đồng: thành viên, các cuộc bỏ phiếu, phong trào có người cần đưa ra hội đồng."""
    return common.page("ballots/council.html", **_council_context(council_id))


@blp.post("/hd/<council_id>/thanh-vien")
@common.signed_in(*FORMERS)
def add_member(council_id):
    """Thêm thành viên: the person's id (their sign-in name), name, unit and position in the council."""
    body = {k: forms.text(request.form, k) or "" for k in ("person_id", "name", "unit_id")}
    body["position"] = forms.text(request.form, "position") or "member"
    return common.submit("evaluation", f"/councils/{council_id}/members", body, template="ballots/council.html",
                         **_council_context(council_id),
                         done=common.done(f"Đã thêm {body['name']} vào hội đồng.",
                                          url_for("ballots.council", council_id=council_id)))


def _candidates_context(council_id: str, campaign_id: str) -> dict:
    context = _council_context(council_id)
    by_registration: dict[str, list] = {}
    for b in context["ballots"]:
        by_registration.setdefault(b["registration_id"], []).append(b)
    kinds = {kind: [r for r in context["rules"].values() if r["applies_to"] in (kind, "both")]
             for kind in ("individual", "collective")}
    return {**context, "campaign": common.read("registration", f"/campaigns/{campaign_id}"),
            "candidates": common.read("evaluation", f"/campaigns/{campaign_id}/candidates"),
            "by_registration": by_registration, "award_options": kinds}


@blp.get("/hd/<council_id>/phong-trao/<campaign_id>")
@common.signed_in(*READERS)
def candidates(council_id, campaign_id):
    """Người được xét của một phong trào trước hội đồng: đưa ra bỏ phiếu, khai báo xung đột lợi ích."""
    return common.page("ballots/candidates.html", **_candidates_context(council_id, campaign_id))


@blp.post("/hd/<council_id>/phong-trao/<campaign_id>/bo-phieu")
@common.signed_in(SECRETARY)
def open_ballot(council_id, campaign_id):
    """Mở bỏ phiếu on a candidate and an award: the members with a conflict of interest are recused."""
    body = {"council_id": council_id, "registration_id": forms.text(request.form, "registration_id") or "",
            "award": forms.text(request.form, "award") or "", "secret": request.form.get("open_vote") != "1"}
    return common.submit("evaluation", "/ballots", body, template="ballots/candidates.html",
                         **_candidates_context(council_id, campaign_id),
                         done=common.done(lambda b: f"Đã mở bỏ phiếu về {b['name']}.",
                                          lambda b: url_for("ballots.ballot", ballot_id=b["id"])))


@blp.post("/hd/<council_id>/phong-trao/<campaign_id>/xung-dot")
@common.signed_in(MEMBER)
def declare_interest(council_id, campaign_id):
    """Khai báo xung đột lợi ích (a member, as themself) before the candidate's ballot opens."""
    body = {"participant_id": forms.text(request.form, "participant_id") or "",
            "reason": forms.text(request.form, "reason") or ""}
    return common.submit("evaluation", f"/councils/{council_id}/interests", body,
                         template="ballots/candidates.html", **_candidates_context(council_id, campaign_id),
                         done=common.done(_declared, url_for("ballots.candidates", council_id=council_id,
                                                             campaign_id=campaign_id)))


def _declared(answer: dict) -> str:
    left = len(answer.get("recused_from") or [])
    return "Đã khai báo xung đột lợi ích" + (f"; đã rút khỏi {left} cuộc bỏ phiếu đang mở." if left else ".")


def _ballot_context(ballot_id: str) -> dict:
    ballot = common.read("evaluation", f"/ballots/{ballot_id}")
    council = common.read("evaluation", f"/councils/{ballot['council_id']}")
    rule = common.award_rules().get(ballot["award"]) or {"code": ballot["award"], "name": ballot["award"]}
    me = common.me()
    mine = next((m for m in ballot["members"] if m["person_id"] == me.subject), None)
    return {"ballot": ballot, "council": council, "rule": rule, "verdict": verdict(ballot, rule), "mine": mine,
            "is_secretary": me.has_role(SECRETARY)}


def verdict(ballot: dict, rule: dict) -> dict | None:
    """Whether the result meets the share the rule asks of a ballot (``ballot_pct``), over the entitled;
    None while the ballot is open. A title with no ballot share has none to meet."""
    if ballot["status"] != "closed":
        return None
    need = rule.get("ballot_pct")
    entitled = ballot["entitled"]
    meets = need is None or bool(entitled and 100 * ballot["votes_for"] >= need * entitled)
    secret_needed = need is not None and not ballot["secret"]
    return {"need": need, "meets": meets and not secret_needed, "secret_needed": secret_needed,
            "source": rule.get("source")}


@blp.get("/bo-phieu/<ballot_id>")
@common.signed_in(*READERS)
def ballot(ballot_id):
    """Một cuộc bỏ phiếu: ai có quyền biểu quyết, ai phải rút lui và vì sao; kết quả và tỉ lệ."""
    return common.page("ballots/ballot.html", **_ballot_context(ballot_id))


@blp.get("/bo-phieu/<ballot_id>/thanh-vien")
@common.signed_in(*READERS)
def ballot_members(ballot_id):
    """The members' table alone (htmx: an open vote's page redraws it while members vote)."""
    return common.page("ballots/_ballot_members.html", ballot=common.read("evaluation", f"/ballots/{ballot_id}"))


@blp.post("/bo-phieu/<ballot_id>/ket-qua")
@common.signed_in(SECRETARY)
def record_result(ballot_id):
    """Ghi kết quả kiểm phiếu (secret ballot: the counts and who handed in a ballot), or close an open vote
    with the tally of the members' votes."""
    context = _ballot_context(ballot_id)
    body: dict = {}
    if context["ballot"]["secret"]:
        try:
            body = {"votes_for": forms.whole(forms.text(request.form, "votes_for"), "votes_for", "Số phiếu tán thành"),
                    "votes_against": forms.whole(forms.text(request.form, "votes_against"), "votes_against",
                                                 "Số phiếu không tán thành")}
        except FormError as exc:
            return common.refuse_form(exc, "ballots/ballot.html", **context)
        body = {k: v for k, v in body.items() if v is not None}
        if request.form.getlist("voters"):
            body["voters"] = request.form.getlist("voters")
    return common.submit("evaluation", f"/ballots/{ballot_id}/result", body, template="ballots/ballot.html",
                         **context, done=common.done(lambda b: f"Đã ghi kết quả bỏ phiếu về {b['name']}: "
                                                               f"{b['share_for_pct']:g}% tán thành.",
                                                     url_for("ballots.ballot", ballot_id=ballot_id)))


@blp.post("/bo-phieu/<ballot_id>/phieu")
@common.signed_in(MEMBER)
def vote(ballot_id):
    """Biểu quyết công khai: a member votes, as themself; a recused member is refused with the rule."""
    return common.submit("evaluation", f"/ballots/{ballot_id}/votes", {"choice": request.form.get("choice", "")},
                         template="ballots/ballot.html", **_ballot_context(ballot_id),
                         done=common.done("Đã ghi phiếu biểu quyết của bạn.",
                                          url_for("ballots.ballot", ballot_id=ballot_id)))


@blp.post("/bo-phieu/<ballot_id>/xung-dot")
@common.signed_in(MEMBER)
def declare_on_ballot(ballot_id):
    """Khai báo xung đột lợi ích while the ballot is open: the member leaves it at once."""
    context = _ballot_context(ballot_id)
    body = {"participant_id": context["ballot"]["participant_id"], "reason": forms.text(request.form, "reason") or ""}
    return common.submit("evaluation", f"/councils/{context['ballot']['council_id']}/interests", body,
                         template="ballots/ballot.html", **context,
                         done=common.done(_declared, url_for("ballots.ballot", ballot_id=ballot_id)))

