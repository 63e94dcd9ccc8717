"""Nominations, appraisal, decisions, holds and ad-hoc commendation: plain Python.

The handler gathers what a decision needs from awards' own projections into a
:class:`Case`; the aggregate checks the rules of the rulebook against it and
returns its events. Every refusal names its rule and cites its source.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.errors import Forbidden, Invalid, NotYetSeen, RuleViolation

from services.awards.rules import Rulebook, chain_excluded_kinds, source_of

NOMINATION_SUBMITTED = "awards.nomination.submitted"
NOMINATION_ESCALATED = "awards.nomination.escalated"
NOMINATION_APPRAISED = "awards.nomination.appraised"
NOMINATION_RESUBMITTED = "awards.nomination.resubmitted"
AWARD_DECIDED = "awards.award.decided"
AWARD_RECORDED = "awards.award.recorded"
AWARD_REVOKED = "awards.award.revoked"
HOLD_PLACED = "awards.hold.placed"
HOLD_LIFTED = "awards.hold.lifted"
RULE_DEFINED = "awards.rule.defined"

LEVEL_NAMES = {"prime_minister": "Thủ tướng Chính phủ", "minister": "Bộ trưởng",
               "province": "Chủ tịch UBND tỉnh", "department": "Giám đốc Sở GD&ĐT",
               "district": "Chủ tịch UBND cấp huyện", "commune": "Chủ tịch UBND cấp xã",
               "school": "Hiệu trưởng"}
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


def vn(d: date) -> str:
    return d.strftime("%d/%m/%Y")


# -- commands -------------------------------------------------------------------
# Who proposes, decides, imports or places a hold, at which level and on which date, comes from
# the caller's token and the server's clock (the API fills them in), never from a request body.
@dataclass(frozen=True)
class Nominate:
    nomination_id: str
    province: str
    campaign_id: str
    registration_id: str
    award: str
    kind: str
    proposer_unit: str | None  # the head's unit (token)
    proposer_level: str  # the head's own authority level (token): where the proposal starts
    submitted_on: date  # server's date: it also picks the rules in force
    dossier: dict[str, Any]


@dataclass(frozen=True)
class Appraise:
    nomination_id: str
    province: str
    outcome: str
    reason: str
    appraised_on: date
    appraiser: str | None = None  # the token's subject: a recused council member may not appraise


@dataclass(frozen=True)
class Resubmit:
    nomination_id: str
    province: str
    dossier: dict[str, Any]
    head_unit: str | None  # the caller's unit (token): the proposer's unit or one above it


@dataclass(frozen=True)
class Decide:
    nomination_id: str
    province: str
    decision_number: str
    decision_date: date
    level: str
    issuer: str


@dataclass(frozen=True)
class CommendAdHoc:
    nomination_id: str
    province: str
    participant: dict[str, Any]
    award: str
    achievement: str
    decision_number: str
    decision_date: date
    level: str
    issuer: str
    campaign_id: str | None = None  # counted against that campaign's quota; without one, against none


@dataclass(frozen=True)
class RecordPastAward:
    """The import path: a decision made before (or outside) the platform, stored as issued."""
    record_id: str
    province: str
    participant: dict[str, Any]
    award: str
    year: int
    kind: str
    decision_number: str
    decision_date: date
    issuer: str
    issuer_level: str
    imported_by: str
    imported_on: date


@dataclass(frozen=True)
class PlaceHold:
    hold_id: str
    province: str
    participant_id: str
    kind: str
    reason: str
    placed_on: date
    placed_by: str


@dataclass(frozen=True)
class LiftHold:
    hold_id: str
    province: str
    reason: str
    lifted_on: date


@dataclass(frozen=True)
class DefineRule:
    rule_id: str
    province: str
    section: str  # "award", "authority" or "cap"
    rule: dict[str, Any]


@dataclass(frozen=True)
class RevokeAward:
    award_id: str
    province: str
    reason: str
    decision_number: str
    revoked_on: date
    level: str
    issuer: str


# -- what a decision needs to know, gathered by the handler ---------------------------
@dataclass(frozen=True)
class Case:
    rulebook: Rulebook
    campaign: dict[str, Any] | None = None
    participant: dict[str, Any] | None = None
    evaluation: dict[str, Any] | None = None
    history: tuple[dict[str, Any], ...] = ()
    holds: tuple[dict[str, Any], ...] = ()
    same_achievement: tuple[dict[str, Any], ...] = ()
    same_award: tuple[dict[str, Any], ...] = ()  # the person's open nominations for the same award
    quota_used: int = 0
    caps: tuple[dict[str, Any], ...] = ()  # {"cap", "counted", "base"} of each cap that counts this case
    proposer_in_scope: bool = True  # the participant's unit is the head's unit or under it
    ballot: dict[str, Any] | None = None  # the council's latest ballot on this candidate and award
    councils_kept: bool = False  # the province keeps its councils here (typed minutes no longer count)
    recusals: tuple[dict[str, Any], ...] = ()  # the appraiser's recusals from this candidate


# -- checks shared by the paths ------------------------------------------------------------
def _award_rule(case: Case, code: str, on: date) -> dict[str, Any]:
    rule = case.rulebook.award(code, on)
    if rule is None:
        raise RuleViolation(f"Không có danh hiệu, hình thức khen thưởng «{code}» còn hiệu lực ngày {vn(on)}",
                            rule="award.exists")
    return rule


def _check_applies(rule: dict[str, Any], participant_kind: str) -> None:
    if rule["applies_to"] != "both" and rule["applies_to"] != participant_kind:
        who = "tập thể" if rule["applies_to"] == "collective" else "cá nhân"
        raise RuleViolation(f"«{rule['name']}» chỉ dành cho {who}", rule="award.applies_to",
                            details={"source": rule["source"]})


def _check_holds(case: Case) -> None:
    active = [h for h in case.holds if h["status"] == "active"]
    if active:
        h = active[0]
        raise RuleViolation(
            f"Đang tạm hoãn xét khen thưởng ({h['kind']}: {h['reason']}): không đề nghị, không quyết định "
            "khen thưởng khi đang xem xét kỷ luật, điều tra, thanh tra hoặc khiếu nại",
            rule="award.hold", details={"source": source_of("holds"), "hold_id": h["id"]})


def _check_competent(case: Case, code: str, level: str, on: date, name: str) -> None:
    if not case.rulebook.confers(level, code, on):
        able = ", ".join(LEVEL_NAMES.get(x, x) for x in case.rulebook.competent(code, on)) or "không có"
        authority = case.rulebook.authority(level, on)
        raise RuleViolation(
            f"{LEVEL_NAMES.get(level, level)} không có thẩm quyền tặng «{name}» vào ngày {vn(on)}; "
            f"thẩm quyền thuộc: {able}", rule="authority.competence",
            details={"source": authority["source"] if authority else "rulebook: authorities"})


def _check_requirements(rule: dict[str, Any], metrics: dict[str, Any]) -> None:
    requires = rule.get("requires") or {}
    failed = [r for r in requires.get("all_of", []) if not _meets(r, metrics)]
    any_of = requires.get("any_of", [])
    if any_of and not any(_meets(r, metrics) for r in any_of):
        failed.append({"metric": " hoặc ".join(r["metric"] for r in any_of), "comparison": "any_of",
                       "threshold": [r["threshold"] for r in any_of]})
    if failed:
        described = "; ".join(f"{f['metric']} {f['comparison']} {f['threshold']} (hiện có: "
                              f"{metrics.get(f['metric'], 'chưa có minh chứng')})" for f in failed)
        raise RuleViolation(f"Chưa đạt tiêu chuẩn «{rule['name']}»: {described}",
                            rule="award.standard", details={"source": rule["source"], "failed": failed})


def _meets(requirement: dict[str, Any], metrics: dict[str, Any]) -> bool:
    value = metrics.get(requirement["metric"])
    if value is None:
        return False
    if requirement["comparison"] == "in":
        return value in requirement["threshold"]
    try:
        return OPS[requirement["comparison"]](value, requirement["threshold"])
    except TypeError:
        return False


def _check_chain(rule: dict[str, Any], case: Case, year: int) -> None:
    chain = rule.get("chain")
    if not chain:
        return
    codes = set(chain.get("award_any") or [chain["award"]])
    excluded = chain_excluded_kinds()
    years = {h["year"] for h in case.history if h["award"] in codes
             and h["kind"] not in excluded and h["status"] == "valid"}
    need = chain["consecutive_years"]
    if not any(all(y - i in years for i in range(need)) for y in (year, year - 1)):
        names = " / ".join(sorted(codes))
        raise RuleViolation(
            f"«{rule['name']}» cần {need} năm liên tục đạt {names} (khen đột xuất, chuyên đề không tính); "
            f"các năm đã có: {', '.join(map(str, sorted(years))) or 'không có'}",
            rule="award.chain", details={"source": rule["source"], "years": sorted(years)})


def _check_ballot(rule: dict[str, Any], dossier: dict[str, Any], case: Case) -> dict[str, Any] | None:
    """Bỏ phiếu kín: the council's ballot on this candidate and award, its share over the members
    entitled to vote (the recused are not counted). Minutes typed into the dossier count only in a
    province that keeps no council here yet (the older path); returns the ballot that counted."""
    need = rule.get("ballot_pct")
    if need is None:
        return None
    ballot = case.ballot
    if ballot is not None:
        _check_share(rule, need, ballot)
        return {k: ballot[k] for k in ("id", "council_id", "members_total", "recused", "entitled", "votes_for",
                                       "share_for_pct")}
    if case.councils_kept:
        raise RuleViolation(
            f"«{rule['name']}» cần kết quả bỏ phiếu kín của hội đồng thi đua – khen thưởng về người được đề nghị; "
            "tỉnh đã quản lý hội đồng trên hệ thống nên không nhận biên bản nhập tay",
            rule="award.secret_ballot",
            errors={"dossier.council_minutes": ["cần kết quả bỏ phiếu của hội đồng (a council ballot is required)"]},
            details={"source": rule["source"]})
    minutes = dossier.get("council_minutes") or {}
    members, votes = minutes.get("members_total"), minutes.get("votes_for")
    if not members or votes is None:
        raise Invalid(f"«{rule['name']}» cần biên bản họp hội đồng với kết quả bỏ phiếu kín",
                      errors={"dossier.council_minutes": ["members_total and votes_for are required"]},
                      rule="award.secret_ballot")
    if votes > members:
        raise Invalid("Số phiếu tán thành lớn hơn số thành viên hội đồng",
                      errors={"dossier.council_minutes.votes_for": ["more than members_total"]})
    if 100 * votes < need * members:
        raise RuleViolation(
            f"«{rule['name']}» cần ít nhất {need}% tổng số thành viên hội đồng tán thành (bỏ phiếu kín); "
            f"đạt {votes}/{members} ({100 * votes / members:.1f}%)",
            rule="award.secret_ballot", details={"source": rule["source"]})
    return None


def _check_share(rule: dict[str, Any], need: float, ballot: dict[str, Any]) -> None:
    if ballot["status"] != "closed":
        raise RuleViolation(f"Cuộc bỏ phiếu của hội đồng về «{rule['name']}» chưa kết thúc",
                            rule="award.secret_ballot", details={"ballot_id": ballot["id"]})
    if not ballot["secret"]:
        raise RuleViolation(f"«{rule['name']}» cần bỏ phiếu kín; hội đồng đã biểu quyết công khai",
                            rule="award.secret_ballot", details={"source": rule["source"], "ballot_id": ballot["id"]})
    entitled, votes = ballot["entitled"], ballot["votes_for"]
    if not entitled:
        raise RuleViolation("Không còn thành viên hội đồng nào có quyền biểu quyết về người này (tất cả phải rút lui)",
                            rule="award.secret_ballot", details={"ballot_id": ballot["id"]})
    if 100 * votes < need * entitled:
        raise RuleViolation(
            f"«{rule['name']}» cần ít nhất {need:g}% số thành viên hội đồng có quyền biểu quyết tán thành "
            f"(bỏ phiếu kín); đạt {votes}/{entitled} ({100 * votes / entitled:.1f}%), "
            f"không tính {ballot['recused']} thành viên phải rút lui",
            rule="award.secret_ballot", details={"source": rule["source"], "ballot_id": ballot["id"],
                                                 "entitled": entitled, "votes_for": votes,
                                                 "recused": ballot["recused"]})


def _check_not_recused(case: Case, appraiser: str | None, participant: dict[str, Any]) -> None:
    """A council member recused from the candidate (an event of the council's ballot) neither votes on
    nor appraises them; nobody appraises their own nomination."""
    if appraiser and appraiser == participant.get("participant_id"):
        raise Forbidden("Người thẩm định là người được đề nghị: phải rút khỏi việc thẩm định",
                        rule="appraisal.recused", details={"reason": "is_candidate"})
    if case.recusals:
        r = case.recusals[0]
        raise Forbidden(f"Người thẩm định đã rút khỏi việc xét {participant.get('name')} ({r['explanation']}): "
                        "không thẩm định người này",
                        rule="appraisal.recused", details={"reason": r["reason"], "ballot_id": r["ballot_id"]})


def _check_once_per_person(rule: dict[str, Any], case: Case) -> None:
    """A form given once in a lifetime (Kỷ niệm chương): neither a second award nor a second open proposal."""
    if not rule.get("once_per_person"):
        return
    given = [h for h in case.history if h["award"] == rule["code"] and h["status"] == "valid"]
    open_ = [n for n in case.same_award if n["status"] not in ("rejected", "revoked", "decided")]
    if given or open_:
        what = (f"đã được tặng theo Quyết định số {given[0]['decision_number']}" if given
                else f"đang được đề nghị (đề nghị {open_[0]['id']})")
        raise RuleViolation(f"«{rule['name']}» chỉ tặng một lần cho mỗi người: người này {what}",
                            rule="award.once_per_person", details={"source": rule["source"]})


def _check_quota(case: Case, award: str, award_name: str, participant_kind: str) -> None:
    """The campaign's award plan (chỉ tiêu): every path that confers an award counts against it."""
    plan = _quota(case.campaign, award, participant_kind)
    if plan is not None and plan.get("max") is not None and case.quota_used >= plan["max"]:
        raise RuleViolation(
            f"Vượt chỉ tiêu: «{award_name}» của phong trào «{case.campaign['title']}» tối đa "
            f"{plan['max']}, đã quyết định {case.quota_used}", rule="decision.quota",
            details={"quota": plan["max"], "used": case.quota_used, "award": award})


def _check_caps(case: Case) -> None:
    """Legal percentage caps per unit and campaign: this case would be one more of those counted."""
    for c in case.caps:
        cap, counted, base = c["cap"], c["counted"] + 1, c["base"]
        if 100 * counted > cap["max_pct"] * base:
            allowed = int(cap["max_pct"] * base // 100)
            raise RuleViolation(
                f"Vượt tỷ lệ tối đa: {cap['name']} ({cap['max_pct']:g}% của {base} = {allowed}); "
                f"với trường hợp này là {counted}", rule="award.cap",
                details={"source": cap["source"], "cap": cap["code"], "max_pct": cap["max_pct"], "base": base,
                         "counted": counted, "allowed": allowed})


def _check_dossier(dossier: dict[str, Any]) -> None:
    missing = [f for f in ("submission_letter", "achievement_report") if not dossier.get(f)]
    if missing:
        raise Invalid("Hồ sơ đề nghị khen thưởng chưa đủ: cần tờ trình và báo cáo thành tích",
                      errors={f"dossier.{f}": ["bắt buộc"] for f in missing}, rule="dossier.contents")


# -- aggregates ---------------------------------------------------------------------
@dataclass
class Nomination:
    id: str
    version: int = 0
    province: str = ""
    status: str = ""
    award: str = ""
    award_name: str = ""
    target_level: str = ""
    campaign_id: str = ""
    registration_id: str | None = None
    participant: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    year: int = 0
    submitted_on: date | None = None
    proposer_unit: str | None = None
    dossier: dict[str, Any] = field(default_factory=dict)

    def nominate(self, cmd: Nominate, case: Case) -> list[tuple[str, dict[str, Any]]]:
        if self.version:
            raise RuleViolation(f"Đề nghị {self.id} đã tồn tại", rule="nomination.once")
        campaign, participant = case.campaign, case.participant
        if campaign is None:
            raise RuleViolation(f"Khen thưởng chưa nhận được phong trào {cmd.campaign_id}",
                                rule="nomination.campaign_known")
        if participant is None or participant["campaign_id"] != cmd.campaign_id:
            raise RuleViolation(f"Đăng ký {cmd.registration_id} không thuộc phong trào này (hoặc chưa được "
                                "chuyển tới khen thưởng)", rule="nomination.registration_known")
        if not case.proposer_in_scope:
            raise Forbidden(f"{participant['name']} không thuộc đơn vị của người đề nghị ({cmd.proposer_unit}) "
                            "hay đơn vị trực thuộc: thủ trưởng chỉ đề nghị trong phạm vi đơn vị mình",
                            rule="auth.unit_scope")
        if participant["status"] == "withdrawn":
            raise RuleViolation("Đăng ký thi đua đã được rút", rule="nomination.withdrawn")
        deadline = campaign["deadlines"].get("nominations")
        if deadline and cmd.submitted_on > date.fromisoformat(deadline):
            raise RuleViolation(
                f"Đã quá hạn đề nghị khen thưởng ({vn(date.fromisoformat(deadline))}) của phong trào "
                f"«{campaign['title']}»", rule="nomination.deadline", details={"deadline": deadline})
        rule = _award_rule(case, cmd.award, cmd.submitted_on)
        _check_applies(rule, participant["participant_kind"])
        _check_dossier(cmd.dossier)
        _check_holds(case)
        _check_once_per_person(rule, case)
        evaluation = case.evaluation
        if evaluation is None:
            # the evaluation may still be in flight: retryable, the way every such answer says it
            raise NotYetSeen(f"{participant['name']} chưa được bình xét: chỉ đề nghị khen thưởng những người, "
                             "tập thể có kết quả bình xét đạt", rule="nomination.requires_evaluation")
        if not evaluation["passed"]:
            failed = [r["label"] for r in evaluation["results"] if not r["passed"]]
            raise RuleViolation(f"Kết quả bình xét của {participant['name']} không đạt: {'; '.join(failed)}",
                                rule="nomination.requires_evaluation")
        _check_requirements(rule, evaluation["metrics"])
        year = date.fromisoformat(campaign["period_end"]).year
        _check_chain(rule, case, year)
        ballot = _check_ballot(rule, cmd.dossier, case)
        same = [n for n in case.same_achievement if n["status"] not in ("rejected",)]
        if same:
            raise RuleViolation(f"Thành tích này đã được đề nghị «{rule['name']}» (đề nghị {same[0]['id']}): "
                                "mỗi thành tích chỉ được khen một lần",
                                rule="award.one_achievement_one_award",
                                details={"source": source_of("one_achievement_one_award")})
        _check_caps(case)
        start = cmd.proposer_level
        path = case.rulebook.escalation_path(start, cmd.award, cmd.submitted_on)
        if path is None:
            raise RuleViolation(f"Không có cấp nào từ {LEVEL_NAMES.get(start, start)} trở "
                                f"lên có thẩm quyền tặng «{rule['name']}»", rule="authority.chain")
        submitted = {"nomination_id": self.id, "campaign_id": cmd.campaign_id,
                     "campaign_title": campaign["title"], "registration_id": cmd.registration_id,
                     "participant": {k: participant[k] for k in ("participant_id", "participant_kind", "name",
                                                                 "unit")},
                     "award": cmd.award, "award_name": rule["name"], "rule_source": rule["source"],
                     "kind": cmd.kind, "year": year, "proposer_unit": cmd.proposer_unit,
                     "submitted_to": start, "submitted_on": cmd.submitted_on.isoformat(),
                     "dossier": cmd.dossier, "evaluation_round": evaluation["round"]}
        if ballot is not None:
            submitted["ballot"] = ballot
        return [(NOMINATION_SUBMITTED, submitted),
                *escalations(self.id, start, path, cmd.award, submitted["participant"])]

    def appraise(self, cmd: Appraise, case: Case) -> dict[str, Any]:
        self._exists(cmd.province)
        _check_not_recused(case, cmd.appraiser, self.participant)
        if self.status not in ("submitted", "resubmitted"):
            raise RuleViolation(f"Đề nghị đang ở trạng thái «{self.status}»: chỉ thẩm định đề nghị chờ thẩm định",
                                rule="appraisal.state")
        return {"nomination_id": self.id, "outcome": cmd.outcome, "reason": cmd.reason,
                "appraised_on": cmd.appraised_on.isoformat(), "award": self.award, "award_name": self.award_name,
                "campaign_id": self.campaign_id, "participant": self.participant}

    def resubmit(self, cmd: Resubmit, case: Case) -> dict[str, Any]:
        self._exists(cmd.province)
        if not case.proposer_in_scope:
            raise Forbidden(f"Đề nghị {self.id} do đơn vị {self.proposer_unit} lập: chỉ thủ trưởng đơn vị đó "
                            "hoặc đơn vị cấp trên bổ sung hồ sơ", rule="auth.unit_scope")
        if self.status != "returned":
            raise RuleViolation("Chỉ bổ sung hồ sơ khi đề nghị đã được trả lại để hoàn thiện",
                                rule="nomination.resubmit_state")
        _check_dossier(cmd.dossier)
        _check_ballot(_award_rule(case, self.award, self.submitted_on), cmd.dossier, case)
        return {"nomination_id": self.id, "dossier": cmd.dossier, "participant": self.participant,
                "award": self.award}

    def decide(self, cmd: Decide, case: Case) -> dict[str, Any]:
        self._exists(cmd.province)
        if self.status != "approved":
            raise RuleViolation(f"Đề nghị đang ở trạng thái «{self.status}»: chỉ quyết định khen thưởng "
                                "đề nghị đã được thẩm định đạt", rule="decision.requires_appraisal")
        if cmd.level != self.target_level:
            raise RuleViolation(
                f"Đề nghị này được trình {LEVEL_NAMES.get(self.target_level, self.target_level)}, không phải "
                f"{LEVEL_NAMES.get(cmd.level, cmd.level)}", rule="decision.addressee")
        _check_competent(case, self.award, cmd.level, cmd.decision_date, self.award_name)
        _check_holds(case)
        _check_once_per_person(_award_rule(case, self.award, self.submitted_on), case)
        _check_quota(case, self.award, self.award_name, self.participant["participant_kind"])
        _check_caps(case)
        return _decided(self.id, self.award, self.award_name, self.participant, self.campaign_id, self.kind,
                        self.year, cmd.decision_number, cmd.decision_date, cmd.level, cmd.issuer)

    def commend_ad_hoc(self, cmd: CommendAdHoc, case: Case) -> dict[str, Any]:
        if self.version:
            raise RuleViolation(f"Khen thưởng {self.id} đã tồn tại", rule="nomination.once")
        rule = _award_rule(case, cmd.award, cmd.decision_date)
        _check_applies(rule, cmd.participant["participant_kind"])
        _check_competent(case, cmd.award, cmd.level, cmd.decision_date, rule["name"])
        _check_holds(case)
        _check_once_per_person(rule, case)
        if cmd.campaign_id is not None:
            _check_quota(case, cmd.award, rule["name"], cmd.participant["participant_kind"])
        data = _decided(self.id, cmd.award, rule["name"], cmd.participant, cmd.campaign_id, "ad_hoc",
                        cmd.decision_date.year, cmd.decision_number, cmd.decision_date, cmd.level, cmd.issuer)
        return {**data, "achievement": cmd.achievement}

    def _exists(self, province: str) -> None:
        if not self.version or self.province != province:
            raise RuleViolation(f"Không có đề nghị khen thưởng {self.id}", rule="nomination.exists")

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == NOMINATION_SUBMITTED:
            self.province, self.status = province, "submitted"
            self.award, self.award_name = data["award"], data["award_name"]
            self.target_level, self.campaign_id = data["submitted_to"], data["campaign_id"]
            self.registration_id, self.participant = data["registration_id"], data["participant"]
            self.kind, self.year = data["kind"], data["year"]
            self.submitted_on, self.dossier = date.fromisoformat(data["submitted_on"]), data["dossier"]
            self.proposer_unit = data.get("proposer_unit")
        elif type_ == NOMINATION_ESCALATED:
            self.target_level = data["to_level"]
        elif type_ == NOMINATION_APPRAISED:
            self.status = data["outcome"]
        elif type_ == NOMINATION_RESUBMITTED:
            self.status, self.dossier = "resubmitted", data["dossier"]
        elif type_ == AWARD_DECIDED:
            self.province, self.status = province, "decided"
        elif type_ == AWARD_REVOKED:
            self.status = "revoked"
        self.version += 1


def _quota(campaign: dict[str, Any] | None, award: str, participant_kind: str) -> dict[str, Any] | None:
    if campaign is None:
        return None
    for plan in campaign.get("award_plan") or []:
        if plan["award"] == award and plan.get("applies_to", "both") in ("both", participant_kind):
            return plan
    return None


def _decided(nomination_id, award, award_name, participant, campaign_id, kind, year, number, on, level,
             issuer) -> dict[str, Any]:
    return {"nomination_id": nomination_id, "award": award, "award_name": award_name,
            "participant": participant, "campaign_id": campaign_id, "kind": kind, "year": year,
            "decision_number": number, "decision_date": on.isoformat(), "level": level, "issuer": issuer}


def revocation(cmd: RevokeAward, award: dict[str, Any], rulebook: Rulebook) -> dict[str, Any]:
    """Thu hồi: by the level that decided the award or one above it on the chain (as it was when the
    award was decided, or is now), with a reason and a decision of its own."""
    if award["status"] != "valid":
        raise RuleViolation(f"Khen thưởng {award['id']} đã bị thu hồi", rule="revocation.once")
    decided_on = award["decision_date"]
    may = {award["level"], *rulebook.levels_above(award["level"], decided_on),
           *rulebook.levels_above(award["level"], cmd.revoked_on)}
    if cmd.level not in may:
        raise Forbidden(
            f"{LEVEL_NAMES.get(cmd.level, cmd.level)} không thu hồi được khen thưởng do "
            f"{LEVEL_NAMES.get(award['level'], award['level'])} quyết định: chỉ cấp đã quyết định hoặc cấp trên",
            rule="revocation.authority", details={"source": source_of("revocation")})
    return {"award_id": award["id"], "award": award["award"], "award_name": award["award_name"],
            "participant": {"participant_id": award["participant_id"], "participant_kind": award["participant_kind"],
                            "name": award["name"]},
            "campaign_id": award["campaign_id"], "revoked_decision_number": award["decision_number"],
            "decision_number": cmd.decision_number, "reason": cmd.reason, "revoked_on": cmd.revoked_on.isoformat(),
            "level": cmd.level, "issuer": cmd.issuer}


@dataclass
class Hold:
    id: str
    version: int = 0
    province: str = ""
    lifted: bool = False

    def place(self, cmd: PlaceHold) -> dict[str, Any]:
        if self.version:
            raise RuleViolation(f"Tạm hoãn {self.id} đã tồn tại", rule="hold.once")
        return {"hold_id": self.id, "participant_id": cmd.participant_id, "kind": cmd.kind,
                "reason": cmd.reason, "placed_on": cmd.placed_on.isoformat(), "placed_by": cmd.placed_by}

    def lift(self, cmd: LiftHold) -> dict[str, Any]:
        if not self.version or self.province != cmd.province:
            raise RuleViolation(f"Không có tạm hoãn {self.id}", rule="hold.exists")
        if self.lifted:
            raise RuleViolation("Tạm hoãn này đã được gỡ", rule="hold.lift_once")
        return {"hold_id": self.id, "reason": cmd.reason, "lifted_on": cmd.lifted_on.isoformat()}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == HOLD_PLACED:
            self.province = province
        elif type_ == HOLD_LIFTED:
            self.lifted = True
        self.version += 1


def escalations(nomination_id: str, level: str, path: list[str], award: str,
                participant: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Trình cấp trên: one event per level a proposal climbs from ``level`` along ``path``."""
    events = []
    for higher in path:
        events.append((NOMINATION_ESCALATED, {"nomination_id": nomination_id, "from_level": level,
                                              "to_level": higher, "award": award, "participant": participant}))
        level = higher
    return events
