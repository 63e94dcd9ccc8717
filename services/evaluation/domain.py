"""Criteria sets and evaluations (bình xét): plain Python, no framework.

A criterion is data: a metric, a comparison and a threshold (quantitative), or a
council's judgement with its vote (qualitative). Evidence is given per criterion;
the result says, for each criterion, whether it passed and why.

Evidence values:

* a number, a string or a boolean, compared as is;
* ``{"numerator": n, "denominator": d}`` for a share, compared in per cent;
* a list of years, for criteria that count years inside a ``window``
  (e.g. years of *Tập thể lao động xuất sắc* within 2021–2025);
* for a qualitative criterion ``{"judgement": "pass"|"fail", "votes_for": v,
  "members_total": m, "note": "..."}``.

Missing evidence fails its criterion with a reason; evidence of the wrong shape (a share
without numbers, a list that is not years, more votes than members...) is refused, naming
``evidence.<code>``.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.errors import Forbidden, Invalid, RuleViolation

CRITERIA_SET_DEFINED = "evaluation.criteria_set.defined"
REGISTRATION_EVALUATED = "evaluation.registration.evaluated"

COMPARISONS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt,
               "==": operator.eq, "!=": operator.ne}
COMPARISON_WORDS = {">=": "ít nhất", ">": "trên", "<=": "không quá", "<": "dưới", "==": "bằng",
                    "!=": "khác", "in": "thuộc"}


@dataclass(frozen=True)
class DefineCriteriaSet:
    criteria_set_id: str
    province: str
    name: str
    applies_to: tuple[str, ...]
    criteria: tuple[dict[str, Any], ...]
    source: str


@dataclass(frozen=True)
class EvaluateRegistration:
    registration_id: str
    province: str
    criteria_set_id: str
    evidence: dict[str, Any]
    evaluated_on: date  # the server's date, never the caller's
    council_unit: str | None = None  # a unit's council (the token's unit claim); None: the province's
    note: str | None = None
    documents: tuple[dict[str, Any], ...] = ()  # evidence files: references to uploads (shared.documents)


@dataclass
class CriteriaSet:
    id: str
    version: int = 0
    province: str = ""
    name: str = ""
    applies_to: tuple[str, ...] = ()
    criteria: list[dict[str, Any]] = field(default_factory=list)

    def define(self, cmd: DefineCriteriaSet) -> dict[str, Any]:
        codes = [c["code"] for c in cmd.criteria]
        if len(set(codes)) != len(codes):
            raise Invalid("Mã tiêu chí bị trùng", errors={"criteria": ["codes must be unique"]})
        return {"criteria_set_id": cmd.criteria_set_id, "set_version": self.version + 1, "name": cmd.name,
                "applies_to": list(cmd.applies_to), "criteria": [dict(c) for c in cmd.criteria],
                "source": cmd.source}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == CRITERIA_SET_DEFINED:
            self.province, self.name = province, data["name"]
            self.applies_to, self.criteria = tuple(data["applies_to"]), data["criteria"]
        self.version += 1


@dataclass
class Evaluation:
    registration_id: str
    version: int = 0
    rounds: int = 0

    def evaluate(self, cmd: EvaluateRegistration, candidate: dict[str, Any], criteria_set: CriteriaSet,
                 candidate_units: list[str]) -> dict[str, Any]:
        """``candidate_units``: the unit the participant registered in and every unit above it."""
        if cmd.council_unit is not None and cmd.council_unit not in candidate_units:
            raise Forbidden(f"Đăng ký {self.registration_id} không thuộc đơn vị {cmd.council_unit} hay đơn vị "
                            "trực thuộc: hội đồng thi đua của một đơn vị chỉ bình xét trong đơn vị mình",
                            rule="evaluation.council_scope")
        if not criteria_set.version or criteria_set.province != cmd.province:
            raise RuleViolation(f"Không có bộ tiêu chí {cmd.criteria_set_id} trong tỉnh này",
                                rule="evaluation.criteria_set_exists")
        group = candidate["participant_kind"] if candidate["participant_kind"] == "collective" \
            else candidate["individual_kind"]
        if criteria_set.applies_to and group not in criteria_set.applies_to:
            raise RuleViolation(f"Bộ tiêu chí «{criteria_set.name}» không áp dụng cho đối tượng «{group}»",
                                rule="evaluation.criteria_set_applies")
        if candidate["status"] == "withdrawn":
            raise RuleViolation("Đăng ký thi đua đã được rút: không bình xét", rule="evaluation.withdrawn")
        unknown = sorted(set(cmd.evidence) - {c["code"] for c in criteria_set.criteria})
        if unknown:
            raise Invalid("Minh chứng cho tiêu chí không có trong bộ tiêu chí",
                          errors={f"evidence.{code}": ["không có tiêu chí này"] for code in unknown})
        malformed = {f"evidence.{c['code']}": errors for c in criteria_set.criteria
                     if (errors := evidence_errors(c, cmd.evidence.get(c["code"])))}
        if malformed:
            raise Invalid("Minh chứng không đúng dạng của tiêu chí", errors=malformed)
        codes = {c["code"] for c in criteria_set.criteria}
        stray = {f"documents.{i}.criterion": ["không có tiêu chí này"] for i, doc in enumerate(cmd.documents)
                 if doc.get("criterion") is not None and doc["criterion"] not in codes}
        if stray:
            raise Invalid("Tệp minh chứng nêu tiêu chí không có trong bộ tiêu chí", errors=stray)
        results = [judge(c, cmd.evidence.get(c["code"])) for c in criteria_set.criteria]
        return {"registration_id": self.registration_id, "campaign_id": candidate["campaign_id"],
                "participant_id": candidate["participant_id"], "participant_kind": candidate["participant_kind"],
                "individual_kind": candidate["individual_kind"], "name": candidate["name"],
                "unit": candidate["unit"], "criteria_set_id": criteria_set.id,
                "criteria_set_version": criteria_set.version, "round": self.rounds + 1,
                "evaluated_on": cmd.evaluated_on.isoformat(), "note": cmd.note,
                **({"documents": [dict(doc) for doc in cmd.documents]} if cmd.documents else {}),
                "passed": all(r["passed"] for r in results), "results": results,
                "metrics": {c["metric"]: _plain(cmd.evidence.get(c["code"]))
                            for c in criteria_set.criteria if c.get("metric")}}

    def apply(self, type_: str, data: dict[str, Any], province: str) -> None:
        if type_ == REGISTRATION_EVALUATED:
            self.rounds = data["round"]
        self.version += 1


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and "numerator" in value:
        return _share(value)
    return value


def _share(value: dict[str, Any]) -> float:
    return 100.0 * value["numerator"] / value["denominator"] if value["denominator"] else 0.0


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _year(value: Any) -> bool:
    return _whole(value) or (isinstance(value, str) and value.isdigit())


def evidence_errors(criterion: dict[str, Any], evidence: Any) -> list[str]:
    """What is malformed in one criterion's evidence (missing evidence is judged, not refused)."""
    if evidence is None:
        return []
    if criterion["kind"] == "qualitative":
        if not isinstance(evidence, dict):
            return ["expected {judgement, votes_for, members_total, note}"]
        votes, members = evidence.get("votes_for"), evidence.get("members_total")
        if any(v is not None and not _whole(v) for v in (votes, members)):
            return ["votes_for and members_total must be whole numbers, 0 or more"]
        if votes is not None and members is not None and votes > members:
            return ["votes_for is more than members_total"]
        return []
    if isinstance(evidence, dict) and ("numerator" in evidence or "denominator" in evidence):
        if not (_number(evidence.get("numerator")) and _number(evidence.get("denominator"))):
            return ["a share needs a numerator and a denominator, numbers 0 or more"]
        return []
    if isinstance(evidence, list) and not all(_year(y) for y in evidence):
        return ["a list must hold years"]
    return []


def judge(criterion: dict[str, Any], evidence: Any) -> dict[str, Any]:
    """One criterion against its evidence: passed or not, and the reason in Vietnamese."""
    base = {"code": criterion["code"], "label": criterion["label"], "kind": criterion["kind"]}
    if evidence is None:
        return {**base, "passed": False, "value": None, "reason": "Thiếu minh chứng cho tiêu chí này"}
    if criterion["kind"] == "qualitative":
        return {**base, **_judge_qualitative(criterion, evidence)}
    value = _measure(criterion, evidence)
    op, threshold = criterion["comparison"], criterion["threshold"]
    try:
        passed = value in threshold if op == "in" else COMPARISONS[op](value, threshold)
    except TypeError:
        return {**base, "passed": False, "value": value,
                "reason": f"Minh chứng {value!r} không so sánh được với ngưỡng {threshold!r}"}
    unit = criterion.get("unit") or ""
    shown = f"{value:g}{unit}" if isinstance(value, (int, float)) and not isinstance(value, bool) else repr(value)
    need = f"{COMPARISON_WORDS[op]} {threshold}{unit}"
    reason = f"Đạt: {shown} ({need})" if passed else f"Không đạt: {shown}, yêu cầu {need}"
    return {**base, "passed": bool(passed), "value": value, "comparison": op, "threshold": threshold,
            "reason": reason}


def _measure(criterion: dict[str, Any], evidence: Any) -> Any:
    if isinstance(evidence, dict) and "numerator" in evidence:
        return round(_share(evidence), 2)
    if isinstance(evidence, list):
        window = criterion.get("window") or {}
        lo, hi = window.get("from", -10**6), window.get("to", 10**6)
        return len({int(y) for y in evidence if lo <= int(y) <= hi})
    return evidence


def _judge_qualitative(criterion: dict[str, Any], evidence: dict[str, Any]) -> dict[str, Any]:
    if evidence.get("judgement") not in ("pass", "fail"):
        return {"passed": False, "value": None, "reason": "Thiếu nhận xét của hội đồng (judgement)"}
    votes, members = evidence.get("votes_for"), evidence.get("members_total")
    need = criterion.get("vote_threshold_pct")
    note = f" — {evidence['note']}" if evidence.get("note") else ""
    if evidence["judgement"] == "fail":
        return {"passed": False, "value": "fail", "reason": f"Hội đồng đánh giá không đạt{note}"}
    if need is not None:
        if not members or votes is None:
            return {"passed": False, "value": "pass",
                    "reason": "Thiếu kết quả biểu quyết (votes_for, members_total)"}
        pct = 100.0 * votes / members
        if pct < need:
            return {"passed": False, "value": "pass", "votes": {"for": votes, "members": members},
                    "reason": f"Chỉ {votes}/{members} thành viên ({pct:.0f}%) tán thành, cần ít nhất {need}%"}
    return {"passed": True, "value": "pass", "votes": {"for": votes, "members": members},
            "reason": f"Hội đồng đánh giá đạt{note}"}
