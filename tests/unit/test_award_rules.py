"""Awards' rules (khen thưởng), at the bus level: what is refused, why (the rule and its
source), and that a refusal stores nothing.

One in-process system serves the whole module (building one costs ~0.2 s); every test makes
its own campaign, participants and ids, and the test that defines a province rule does so in
provinces no other test uses.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.driver import InProcess
from tests.scenarios import (appraise, collective, criteria_set, decide, evaluate, individual, launch, nominate,
                             ok, register, uid)
from tests.unit.conftest import SECRET, module_system

P = "86"  # Vĩnh Long (Bến Tre merged into it on 01/07/2025)


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "award-rules")


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


# -- the world a test needs ----------------------------------------------------------------------
TEACHER_CRITERIA = [
    {"code": "xep_loai", "label": "Xếp loại hoàn thành tốt nhiệm vụ trở lên", "kind": "quantitative",
     "metric": "rating", "comparison": "in", "threshold": ["hoan_thanh_tot", "hoan_thanh_xuat_sac"]},
    {"code": "sang_kien", "label": "Có sáng kiến được công nhận", "kind": "quantitative",
     "metric": "initiatives", "comparison": ">=", "threshold": 1},
    {"code": "pham_vi", "label": "Sáng kiến áp dụng, nhân rộng trong toàn tỉnh", "kind": "quantitative",
     "metric": "initiative_scope_province", "comparison": "==", "threshold": True}]
TEACHER_EVIDENCE = {"xep_loai": "hoan_thanh_xuat_sac", "sang_kien": 2, "pham_vi": True}

# The province's own criteria for collectives ask less than the national TTLĐXS standard
# (any number of CSTĐCS), so the award's standard is what refuses.
COLLECTIVE_CRITERIA = [
    {"code": "xep_loai", "label": "Hoàn thành nhiệm vụ", "kind": "quantitative", "metric": "rating",
     "comparison": "in", "threshold": ["hoan_thanh_tot", "hoan_thanh_xuat_sac"]},
    {"code": "hoan_thanh", "label": "Thành viên hoàn thành nhiệm vụ", "kind": "quantitative",
     "metric": "members_complete_tasks_pct", "comparison": ">=", "threshold": 90},
    {"code": "ldtt", "label": "Thành viên Lao động tiên tiến", "kind": "quantitative", "metric": "ldtt_share_pct",
     "comparison": ">=", "threshold": 70},
    {"code": "cstdcs", "label": "Số Chiến sĩ thi đua cơ sở", "kind": "quantitative", "metric": "cstdcs_count",
     "comparison": ">=", "threshold": 0},
    {"code": "ky_luat", "label": "Không có thành viên bị kỷ luật từ cảnh cáo", "kind": "quantitative",
     "metric": "members_disciplined_warning_or_above", "comparison": "==", "threshold": 0}]
COLLECTIVE_EVIDENCE = {"xep_loai": "hoan_thanh_xuat_sac", "hoan_thanh": {"numerator": 30, "denominator": 30},
                       "ldtt": {"numerator": 25, "denominator": 30}, "cstdcs": 2, "ky_luat": 0}

BALLOT_8 = {"members_total": 10, "votes_for": 8}
BALLOT_9 = {"members_total": 10, "votes_for": 9}
ISSUERS = {"district": "Chủ tịch UBND huyện Bình Đại", "commune": "Chủ tịch UBND xã Bình Đại",
           "department": "Giám đốc Sở GD&ĐT", "province": "Chủ tịch UBND tỉnh", "school": "Hiệu trưởng"}


@dataclass
class Entry:
    """A participant registered to a campaign and evaluated, as awards knows it."""
    province: str
    campaign_id: str
    registration_id: str
    participant: dict  # as awards takes it in POST /history and ad-hoc commendations

    @property
    def pid(self) -> str:
        return self.participant["participant_id"]


def campaign(d, province=P, year=2024, **fields) -> str:
    return launch(d, province, title=f"Phong trào thi đua dạy tốt, học tốt năm {year}", issuer="Sở GD&ĐT",
                  period_start=f"{year}-01-01", period_end=f"{year}-12-31",
                  registration_deadline=f"{year}-04-30", **fields)["id"]


def enter(d, cid: str, province=P, year=2024, who: dict | None = None, evidence: dict | None = None) -> Entry:
    """Register ``who`` (a teacher by default) to the campaign and evaluate it as passing."""
    who = who or individual("teacher", "Trần Thị Mai", unit="Trường THCS Bình Đại")
    is_collective = who["kind"] == "collective"
    set_id = uid("tieu-chi")
    criteria_set(d, province, set_id, "Tiêu chí bình xét", ["collective" if is_collective else "teacher"],
                 COLLECTIVE_CRITERIA if is_collective else TEACHER_CRITERIA, "Kế hoạch thi đua của Sở GD&ĐT")
    pledges = [{"content": "Hoàn thành xuất sắc nhiệm vụ", "start": f"{year}-01-02", "end": f"{year}-12-30"}]
    rid = ok(register(d, province, cid, who, on=f"{year}-03-01", pledges=pledges))["id"]
    d.settle()
    evidence = evidence or (COLLECTIVE_EVIDENCE if is_collective else TEACHER_EVIDENCE)
    assert ok(evaluate(d, province, rid, set_id, evidence, on=f"{year}-11-20"))["passed"]
    d.settle()
    return Entry(province, cid, rid, {"participant_id": who["participant_id"], "participant_kind": who["kind"],
                                      "name": who["name"], "unit": who["unit"]})


def teacher(d, province=P, year=2024, **kw) -> Entry:
    return enter(d, campaign(d, province, year), province, year, **kw)


def school(d, province=P, year=2024, **kw) -> Entry:
    return enter(d, campaign(d, province, year), province, year, who=collective("Trường THCS Bình Đại"), **kw)


def record(d, e: Entry, award: str, year: int, level="district", kind="periodic", on: str | None = None):
    """The import path: the department enters a past decision as it was issued."""
    return ok(d.post("awards", "/history", {
        "participant": e.participant, "award": award, "year": year, "kind": kind,
        "decision_number": f"{year}/QĐ-{uid('so')}", "decision_date": on or f"{year}-12-15",
        "issuer": ISSUERS[level], "issuer_level": level}, role="department", province=e.province))


def cstdcs_years(d, e: Entry, *years, level="district"):
    for y in years:
        record(d, e, "chien_si_thi_dua_co_so", y, level=level)


def nominate_(d, e: Entry, award: str, on: str, submitted_to="department", minutes=None, **dossier):
    return nominate(d, e.province, e.campaign_id, e.registration_id, award, on, submitted_to=submitted_to,
                    minutes=minutes, **dossier)


def history(d, e: Entry) -> list:
    return ok(d.get("awards", f"/history/{e.pid}", province=e.province), 200)


def nominations(d, e: Entry) -> list:
    return ok(d.get("awards", f"/campaigns/{e.campaign_id}/nominations", province=e.province), 200)


def published(d) -> int:
    d.settle()
    return len(d.system.bus.records("thidua.awards"))


class Unchanged:
    """``with Unchanged(d, e):`` — the block's refusals leave awards' history, nominations and
    published events exactly as they were."""

    def __init__(self, d, e: Entry):
        self.d, self.e = d, e

    def state(self):
        return history(self.d, self.e), nominations(self.d, self.e), published(self.d)

    def __enter__(self):
        self.before = self.state()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self.state() == self.before, "a refusal stored something"


def refused(reply, rule: str, *words: str, status: int = 409) -> dict:
    assert reply.status == status, reply
    assert reply.body.get("rule") == rule, reply
    for w in words:
        assert w in reply.body["message"], (w, reply.body["message"])
    return reply.body


def approved_nomination(d, e: Entry, award="chien_si_thi_dua_co_so", on="2024-12-01", submitted_to="department",
                        minutes=BALLOT_8) -> dict:
    n = ok(nominate_(d, e, award, on, submitted_to=submitted_to, minutes=minutes))
    return ok(appraise(d, e.province, n["id"]))


# == merit chains ===============================================================================
def test_cstd_cap_tinh_with_only_two_years_of_cstdcs_is_refused_by_the_chain_rule(d):
    e = teacher(d, year=2025)
    cstdcs_years(d, e, 2024, 2025)
    with Unchanged(d, e):
        body = refused(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2025-12-20", minutes=BALLOT_9),
                       "award.chain", "3 năm liên tục", "2024, 2025")
    assert body["details"]["years"] == [2024, 2025]
    assert "Điều 22" in body["details"]["source"]


def test_cstd_cap_tinh_with_three_consecutive_years_of_cstdcs_is_accepted(d):
    e = teacher(d, year=2024)
    cstdcs_years(d, e, 2022, 2023, 2024)
    n = ok(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2024-12-20", minutes=BALLOT_9))
    assert n["status"] == "submitted" and n["target_level"] == "province"  # department -> province


@pytest.mark.parametrize("years", [(2021, 2022, 2024), (2020, 2021, 2022)], ids=["with-a-gap", "long-ago"])
def test_three_years_with_a_gap_or_that_ended_long_ago_do_not_make_the_chain(d, years):
    e = teacher(d, year=2024)
    cstdcs_years(d, e, *years)
    refused(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2024-12-20", minutes=BALLOT_9), "award.chain")


def test_the_chain_crosses_the_2025_reorganisation_from_district_to_commune_chairs(d):
    e = teacher(d, year=2025)
    record(d, e, "chien_si_thi_dua_co_so", 2023, level="district", on="2023-12-15")
    record(d, e, "chien_si_thi_dua_co_so", 2024, level="district", on="2024-12-15")
    record(d, e, "chien_si_thi_dua_co_so", 2025, level="commune", on="2025-12-10")
    assert [(h["year"], h["level"], h["issuer"]) for h in history(d, e)] == [  # stored as issued
        (2023, "district", ISSUERS["district"]), (2024, "district", ISSUERS["district"]),
        (2025, "commune", ISSUERS["commune"])]
    n = ok(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2025-12-20", minutes=BALLOT_9))
    assert n["award"] == "chien_si_thi_dua_cap_tinh" and n["status"] == "submitted"


@pytest.mark.parametrize("kind", ["ad_hoc", "thematic"])
def test_ad_hoc_and_thematic_awards_do_not_count_toward_a_chain(d, kind):
    e = teacher(d, year=2025)
    record(d, e, "chien_si_thi_dua_co_so", 2023, kind=kind)
    cstdcs_years(d, e, 2024, 2025)
    body = refused(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2025-12-20", minutes=BALLOT_9), "award.chain",
                   "khen đột xuất, chuyên đề không tính")
    assert body["details"]["years"] == [2024, 2025]


def test_an_ad_hoc_commendation_decided_here_does_not_count_toward_a_chain_either(d):
    e = teacher(d, year=2025)
    ok(ad_hoc(d, e.participant, award="chien_si_thi_dua_co_so", on="2024-08-10", level="department"))
    cstdcs_years(d, e, 2023, 2025)
    assert [(h["year"], h["kind"]) for h in history(d, e)] == [(2023, "periodic"), (2024, "ad_hoc"), (2025, "periodic")]
    body = refused(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2025-12-20", minutes=BALLOT_9), "award.chain")
    assert body["details"]["years"] == [2023, 2025]


# == secret ballot ===============================================================================
@pytest.mark.parametrize("votes,passes", [(8, True), (7, False)])
def test_cstdcs_needs_80_percent_of_all_council_members(d, votes, passes):
    e = teacher(d)
    reply = nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes={"members_total": 10,
                                                                               "votes_for": votes})
    if passes:
        assert ok(reply)["status"] == "submitted"
    else:
        body = refused(reply, "award.secret_ballot", "80%", "7/10")
        assert "Điều 30(7)" in body["details"]["source"]
        assert nominations(d, e) == []


@pytest.mark.parametrize("votes,passes", [(9, True), (8, False)])
def test_cstd_cap_tinh_needs_90_percent_of_all_council_members(d, votes, passes):
    e = teacher(d)
    cstdcs_years(d, e, 2022, 2023, 2024)
    reply = nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2024-12-20", minutes={"members_total": 10,
                                                                                 "votes_for": votes})
    if passes:
        assert ok(reply)["status"] == "submitted"
    else:
        refused(reply, "award.secret_ballot", "90%", "8/10")
        assert nominations(d, e) == []


def test_a_title_decided_by_ballot_needs_the_council_minutes(d):
    e = teacher(d)
    with Unchanged(d, e):
        body = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=None),
                       "award.secret_ballot", "biên bản", status=422)
    assert "dossier.council_minutes" in body["errors"]


def test_more_votes_than_council_members_is_refused(d):
    e = teacher(d)
    with Unchanged(d, e):
        r = nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes={"members_total": 9, "votes_for": 10})
    assert r.status == 422 and "dossier.council_minutes.votes_for" in r.body["errors"], r


# == holds ==========================================================================================
def place_hold(d, e: Entry, kind="discipline", on="2024-11-25") -> dict:
    d.at(on)
    return ok(d.post("awards", "/holds", {"participant_id": e.pid, "kind": kind, "reason": "Đang xem xét kỷ luật"},
                     role="council", province=e.province))


def lift_hold(d, e: Entry, hold_id: str, on="2024-12-05"):
    d.at(on)
    return d.post("awards", f"/holds/{hold_id}/lifting", {"reason": "Đã kết luận: không kỷ luật"},
                  role="council", province=e.province)


def test_a_pending_discipline_refuses_a_nomination_until_it_is_lifted(d):
    e = teacher(d)
    hold = place_hold(d, e)
    assert hold["status"] == "active"
    with Unchanged(d, e):
        body = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8), "award.hold",
                       "tạm hoãn", "kỷ luật")
    assert body["details"]["hold_id"] == hold["id"] and "152/2025" in body["details"]["source"]
    assert ok(lift_hold(d, e, hold["id"]))["status"] == "lifted"
    assert ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-06", minutes=BALLOT_8))["status"] == "submitted"


def test_a_complaint_lodged_after_appraisal_refuses_the_decision_until_it_is_lifted(d):
    e = teacher(d)
    n = approved_nomination(d, e)
    hold = place_hold(d, e, kind="complaint", on="2024-12-02")
    with Unchanged(d, e):
        refused(decide(d, P, n["id"], "301/QĐ-SGDĐT", "2024-12-10", level="department",
                       issuer=ISSUERS["department"]), "award.hold", "khiếu nại")
    ok(lift_hold(d, e, hold["id"], on="2024-12-12"))
    decided = ok(decide(d, P, n["id"], "301/QĐ-SGDĐT", "2024-12-15", level="department",
                        issuer=ISSUERS["department"]))
    assert decided["status"] == "decided"
    assert [(h["award"], h["decision_number"]) for h in history(d, e)] == [("chien_si_thi_dua_co_so", "301/QĐ-SGDĐT")]


def test_a_hold_is_lifted_only_once(d):
    e = teacher(d)
    hold = place_hold(d, e)
    ok(lift_hold(d, e, hold["id"]))
    refused(lift_hold(d, e, hold["id"]), "hold.lift_once")


# == one achievement, one award ========================================================================
def test_the_same_achievement_is_not_nominated_twice_for_the_same_award(d):
    e = teacher(d)
    first = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8))
    with Unchanged(d, e):
        body = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-02", minutes=BALLOT_8),
                       "award.one_achievement_one_award", first["id"])
    assert "Điều 5(2)(c)" in body["details"]["source"]
    assert [n["id"] for n in nominations(d, e)] == [first["id"]]


def test_after_a_rejection_the_achievement_may_be_nominated_again(d):
    e = teacher(d)
    first = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8))
    assert ok(appraise(d, P, first["id"], "rejected", "Sáng kiến chưa được công nhận"))["status"] == "rejected"
    again = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-05", minutes=BALLOT_8))
    assert again["id"] != first["id"]
    assert sorted(n["status"] for n in nominations(d, e)) == ["rejected", "submitted"]


# == authority competence by date ==========================================================================
def ad_hoc(d, who: dict, award="giay_khen", on="2025-06-30", level="district", province=P, **body):
    """Khen đột xuất by the holder of the authority ``level``, on ``on``."""
    d.at(on)
    return d.post("awards", "/ad-hoc-commendations", {
        "participant": who, "award": award, "achievement": "Dũng cảm cứu học sinh bị đuối nước",
        "decision_number": uid("QĐ"), **body}, role="authority", province=province, authority=level,
        name=ISSUERS.get(level))


def person() -> dict:
    return {"participant_id": uid("gv"), "participant_kind": "individual", "name": "Võ Văn Tâm",
            "unit": "Trường THCS Bình Đại"}


def test_a_district_chair_confers_giay_khen_until_30_june_2025_but_not_from_1_july(d):
    who = person()
    assert ok(ad_hoc(d, who, on="2025-06-30", level="district"))["status"] == "decided"
    refused(ad_hoc(d, who, on="2025-07-01", level="district"), "authority.competence",
            "Chủ tịch UBND cấp huyện không có thẩm quyền", "01/07/2025", "Chủ tịch UBND cấp xã")
    assert [h["decision_date"] for h in ok(d.get("awards", f"/history/{who['participant_id']}", province=P),
                                          200)] == ["2025-06-30"]


def test_a_commune_chair_confers_giay_khen_from_1_july_2025_but_not_before(d):
    who = person()
    refused(ad_hoc(d, who, on="2025-06-30", level="commune"), "authority.competence",
            "Chủ tịch UBND cấp xã", "30/06/2025", "Chủ tịch UBND cấp huyện")
    decided = ok(ad_hoc(d, who, on="2025-07-01", level="commune"))
    assert decided["status"] == "decided" and decided["target_level"] == "commune"


def test_the_department_cannot_confer_the_provincial_chairs_bang_khen_and_is_told_who_can(d):
    who = person()
    refused(ad_hoc(d, who, award="bang_khen_chu_tich_tinh", on="2025-03-01", level="department"),
            "authority.competence", "Giám đốc Sở GD&ĐT không có thẩm quyền", "thẩm quyền thuộc: Chủ tịch UBND tỉnh")
    assert ok(d.get("awards", f"/history/{who['participant_id']}", province=P), 200) == []


def test_a_nomination_addressed_to_a_district_chair_cannot_be_decided_by_it_after_the_district_level_ended(d):
    e = teacher(d, year=2025)
    n = ok(nominate_(d, e, "giay_khen", "2025-06-20", submitted_to="district"))
    assert n["target_level"] == "district"
    ok(appraise(d, P, n["id"]))
    with Unchanged(d, e):
        refused(decide(d, P, n["id"], "77/QĐ-UBND", "2025-07-01", level="district", issuer=ISSUERS["district"]),
                "authority.competence", "01/07/2025")


# == escalation (trình cấp trên) =============================================================================
@pytest.mark.parametrize("on,level", [("2025-06-30", "district"), ("2025-07-01", "commune")])
def test_a_school_proposal_of_cstdcs_climbs_to_the_level_that_may_confer_it_on_that_date(d, on, level):
    e = teacher(d, year=2025)
    n = ok(nominate_(d, e, "chien_si_thi_dua_co_so", on, submitted_to="school", minutes=BALLOT_8))
    assert n["target_level"] == level


def test_the_decision_must_come_from_the_level_the_nomination_was_escalated_to(d):
    e = teacher(d, year=2025)
    n = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2025-07-10", submitted_to="school", minutes=BALLOT_8))
    ok(appraise(d, P, n["id"]))
    with Unchanged(d, e):  # the department could confer it, but the proposal was not addressed to it
        refused(decide(d, P, n["id"], "12/QĐ-SGDĐT", "2025-07-20", level="department",
                       issuer=ISSUERS["department"]), "decision.addressee", "Chủ tịch UBND cấp xã")
    decided = ok(decide(d, P, n["id"], "12/QĐ-UBND", "2025-07-20", level="commune", issuer=ISSUERS["commune"]))
    assert decided["status"] == "decided"
    assert [h["level"] for h in history(d, e)] == ["commune"]


def test_an_award_no_level_above_the_proposer_may_confer_is_refused(d):
    e = teacher(d)
    with Unchanged(d, e):
        refused(nominate_(d, e, "giay_khen", "2024-12-01", submitted_to="minister"), "authority.chain")


# == appraisal =================================================================================================
def test_a_returned_dossier_is_resubmitted_then_approved_then_decided(d):
    e = teacher(d)
    n = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8))
    returned = ok(appraise(d, P, n["id"], "returned", "Thiếu xác nhận sáng kiến"))
    assert returned["status"] == "returned" and returned["last_reason"] == "Thiếu xác nhận sáng kiến"
    refused(decide(d, P, n["id"], "1/QĐ", "2024-12-10", level="department", issuer=ISSUERS["department"]),
            "decision.requires_appraisal", "returned")
    dossier = {"submission_letter": "Tờ trình số 12/TTr", "achievement_report": "Báo cáo thành tích",
               "council_minutes": BALLOT_8, "certifications": ["Quyết định công nhận sáng kiến số 5/QĐ"]}
    again = ok(d.post("awards", f"/nominations/{n['id']}/resubmission", {"dossier": dossier},
                      role="unit_head", province=P, unit=n["proposer_unit"]))
    assert again["status"] == "resubmitted" and again["dossier"]["certifications"] == dossier["certifications"]
    assert ok(appraise(d, P, n["id"]))["status"] == "approved"
    decided = ok(decide(d, P, n["id"], "2/QĐ-SGDĐT", "2024-12-10", level="department",
                        issuer=ISSUERS["department"]))
    assert decided["status"] == "decided" and decided["decision_number"] == "2/QĐ-SGDĐT"


def test_a_resubmission_is_only_for_a_returned_nomination(d):
    e = teacher(d)
    n = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8))
    r = d.post("awards", f"/nominations/{n['id']}/resubmission", {"dossier": {
        "submission_letter": "x", "achievement_report": "y", "council_minutes": BALLOT_8}}, role="unit_head",
        province=P, unit=n["proposer_unit"])
    refused(r, "nomination.resubmit_state")


def test_a_decided_nomination_cannot_be_appraised_again(d):
    e = teacher(d)
    n = approved_nomination(d, e)
    ok(decide(d, P, n["id"], "3/QĐ-SGDĐT", "2024-12-10", level="department", issuer=ISSUERS["department"]))
    with Unchanged(d, e):
        refused(appraise(d, P, n["id"], "rejected", "Xét lại"), "appraisal.state", "decided")


def test_an_unappraised_nomination_cannot_be_decided(d):
    e = teacher(d)
    n = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8))
    with Unchanged(d, e):
        refused(decide(d, P, n["id"], "4/QĐ-SGDĐT", "2024-12-10", level="department", issuer=ISSUERS["department"]),
                "decision.requires_appraisal", "submitted")
    assert nominations(d, e)[0]["status"] == "submitted"


# == dossier, standards, applies_to ================================================================================
def test_a_dossier_without_a_submission_letter_is_refused_naming_it(d):
    e = teacher(d)
    with Unchanged(d, e):
        body = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8,
                                 submission_letter=None), "dossier.contents", "tờ trình", status=422)
    assert set(body["errors"]) == {"dossier.submission_letter"}


def test_a_collective_without_a_cstdcs_does_not_meet_the_ttldxs_standard_and_the_source_is_cited(d):
    e = school(d, evidence={**COLLECTIVE_EVIDENCE, "cstdcs": 0})
    with Unchanged(d, e):
        body = refused(nominate_(d, e, "tap_the_lao_dong_xuat_sac", "2024-12-01"), "award.standard",
                       "Tập thể lao động xuất sắc", "cstdcs_count >= 1", "hiện có: 0")
    assert body["details"]["source"] == "Luật TĐKT 2022, Điều 27"
    assert [f["metric"] for f in body["details"]["failed"]] == ["cstdcs_count"]


def test_a_collective_with_a_cstdcs_meets_the_ttldxs_standard(d):
    e = school(d)
    n = ok(nominate_(d, e, "tap_the_lao_dong_xuat_sac", "2024-12-01"))
    assert n["target_level"] == "province"


@pytest.mark.parametrize("kind,award,words", [
    ("individual", "tap_the_lao_dong_tien_tien", "chỉ dành cho tập thể"),
    ("collective", "chien_si_thi_dua_co_so", "chỉ dành cho cá nhân")])
def test_an_award_is_given_only_to_the_kind_of_participant_it_applies_to(d, kind, award, words):
    e = teacher(d) if kind == "individual" else school(d)
    with Unchanged(d, e):
        body = refused(nominate_(d, e, award, "2024-12-01", minutes=BALLOT_8), "award.applies_to", words)
    assert body["details"]["source"].startswith("Luật TĐKT 2022")


# == a province's own rule =========================================================================================
PROVINCE_CSTDCS = {"code": "chien_si_thi_dua_co_so", "name": "Chiến sĩ thi đua cơ sở", "category": "title",
                   "applies_to": "individual",
                   "requires": {"all_of": [{"metric": "rating", "comparison": "in",
                                            "threshold": ["hoan_thanh_tot", "hoan_thanh_xuat_sac"]}]},
                   "ballot_pct": 90, "source": "Quyết định 99/2024/QĐ-UBND của tỉnh, Điều 7",
                   "valid_from": "2024-06-01"}


def test_a_province_rule_overrides_the_national_number_from_its_date_in_that_province_only(d):
    here, elsewhere = "01", "79"  # provinces no other test uses: the rule stays with them
    assert d.post("awards", "/rules", {"award": PROVINCE_CSTDCS}, role="unit_head", province=here).status == 403
    defined = ok(d.post("awards", "/rules", {"award": PROVINCE_CSTDCS}, role="council", province=here))
    assert defined["award"]["ballot_pct"] == 90
    book = ok(d.get("awards", "/rules", province=here), 200)
    assert [a["source"] for a in book["province"]["awards"]] == [PROVINCE_CSTDCS["source"]]

    cid = campaign(d, here)
    after, before = enter(d, cid, here), enter(d, cid, here)
    body = refused(nominate_(d, after, "chien_si_thi_dua_co_so", "2024-07-01", minutes=BALLOT_8),
                   "award.secret_ballot", "ít nhất 90", "8/10")
    assert body["details"]["source"] == PROVINCE_CSTDCS["source"]
    assert nominations(d, after) == []
    # before the rule's date the national 80 % still applies in that province
    assert ok(nominate_(d, before, "chien_si_thi_dua_co_so", "2024-05-31", minutes=BALLOT_8))
    # and another province keeps the national rule
    other = teacher(d, elsewhere)
    assert ok(nominate_(d, other, "chien_si_thi_dua_co_so", "2024-07-01", minutes=BALLOT_8))
    assert ok(d.get("awards", "/rules", province=elsewhere), 200)["province"]["awards"] == []


@pytest.mark.parametrize("province,wrong,field_path", [
    ("02", {"requires": {"all_of": [{"metric": "rating", "comparison": "in", "threshold": "hoan_thanh_tot"}]}},
     ("requires", "all_of", "0", "threshold")),
    ("04", {"valid_from": "2024-13-45"}, ("valid_from",)),
], ids=["in-without-a-list", "impossible-date"])
def test_a_malformed_province_rule_is_refused_naming_the_field_and_the_province_keeps_working(
        d, province, wrong, field_path):
    r = d.post("awards", "/rules", {"award": {**PROVINCE_CSTDCS, **wrong}}, role="council", province=province)
    assert r.status == 422, r
    errors = r.body["errors"]["json"]["award"]
    for key in field_path:
        errors = errors[key]
    assert errors
    assert ok(d.get("awards", "/rules", province=province), 200)["province"]["awards"] == []
    e = teacher(d, province)  # the province's nominations still run under the national rule
    assert ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-07-01", minutes=BALLOT_8))["status"] == "submitted"


# == what awards has not heard of yet ===============================================================================
def test_a_nomination_before_awards_has_heard_of_the_registration_or_its_evaluation_is_retryable(d):
    cid = campaign(d)
    set_id = uid("tieu-chi")
    criteria_set(d, P, set_id, "Tiêu chí bình xét", ["teacher"], TEACHER_CRITERIA, "Kế hoạch thi đua")
    who = individual("teacher", "Lê Thị Hoa")
    rid = ok(register(d, P, cid, who, on="2024-03-01"))["id"]
    e = Entry(P, cid, rid, {"participant_id": who["participant_id"]})
    unseen = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8), "nomination.known")
    assert unseen["retryable"] is True
    d.settle()
    unevaluated = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8),
                          "nomination.requires_evaluation", "chưa được bình xét")
    assert unevaluated["retryable"] is True
    ok(evaluate(d, P, rid, set_id, TEACHER_EVIDENCE, on="2024-11-20"))
    d.settle()
    assert ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8))["status"] == "submitted"


def test_a_participant_whose_evaluation_failed_cannot_be_nominated_and_is_told_which_criterion_failed(d):
    e = teacher(d)
    set_id = uid("tieu-chi")
    criteria_set(d, P, set_id, "Tiêu chí bình xét", ["teacher"], TEACHER_CRITERIA, "Kế hoạch thi đua")
    assert not ok(evaluate(d, P, e.registration_id, set_id, {**TEACHER_EVIDENCE, "sang_kien": 0},
                           on="2024-11-25"))["passed"]
    d.settle()
    with Unchanged(d, e):
        refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8),
                "nomination.requires_evaluation", "Có sáng kiến được công nhận")


# == withdrawn registrations, quotas ================================================================================
def test_a_withdrawn_registration_cannot_be_nominated(d):
    e = teacher(d)
    ok(d.post("registration", f"/registrations/{e.registration_id}/withdrawal", {"reason": "Chuyển công tác"},
              role="department", province=P))
    d.settle()
    with Unchanged(d, e):
        refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8), "nomination.withdrawn",
                "rút")


def test_a_quota_for_collectives_counts_only_collectives(d):
    cid = campaign(d, award_plan=[{"award": "giay_khen", "applies_to": "collective", "max": 1}])
    teachers = [enter(d, cid) for _ in range(2)]
    schools = [enter(d, cid, who=collective(f"Trường Tiểu học số {i}")) for i in range(2)]

    approved = {e.pid: approved_nomination(d, e, award="giay_khen", minutes=None)["id"] for e in teachers + schools}

    def give(e: Entry, number: str):
        return decide(d, P, approved[e.pid], number, "2024-12-10", level="department", issuer=ISSUERS["department"])

    assert ok(give(teachers[0], "10/QĐ"))["status"] == "decided"  # an individual: outside the quota
    assert ok(give(schools[0], "11/QĐ"))["status"] == "decided"   # the one collective allowed
    with Unchanged(d, schools[1]):
        body = refused(give(schools[1], "12/QĐ"), "decision.quota", "tối đa 1", "đã quyết định 1")
    assert body["details"] == {"quota": 1, "used": 1, "award": "giay_khen"}
    assert ok(give(teachers[1], "13/QĐ"))["status"] == "decided"  # individuals are still not counted
    quotas = ok(d.get("awards", f"/campaigns/{cid}/quotas", province=P), 200)
    assert [(q["award"], q["applies_to"], q["max"], q["used"]) for q in quotas] == [
        ("giay_khen", "collective", 1, 1)]


def test_a_chain_begun_in_ben_tre_continues_in_vinh_long_after_the_merger(d):
    """Bến Tre (83) became part of Vĩnh Long (86) on 01/07/2025: the person keeps their awards."""
    e = teacher(d, province="86", year=2025, evidence=None)
    ben_tre = Entry("83", e.campaign_id, e.registration_id, e.participant)
    record(d, ben_tre, "chien_si_thi_dua_co_so", 2023, level="district", on="2023-12-15")
    record(d, ben_tre, "chien_si_thi_dua_co_so", 2024, level="district", on="2024-12-15")
    record(d, e, "chien_si_thi_dua_co_so", 2025, level="commune", on="2025-12-10")
    assert [(h["year"], h["level"]) for h in history(d, e)] == [(2023, "district"), (2024, "district"),
                                                                  (2025, "commune")]
    assert [h["year"] for h in history(d, ben_tre)] == [2023, 2024]  # the closed province sees its own only
    n = ok(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2025-12-20", minutes=BALLOT_9))
    assert n["status"] == "submitted"


def test_awards_of_an_unrelated_province_do_not_count(d):
    e = teacher(d, province="33", year=2025)
    elsewhere = Entry("83", e.campaign_id, e.registration_id, e.participant)
    for year in (2023, 2024):
        record(d, elsewhere, "chien_si_thi_dua_co_so", year, level="district", on=f"{year}-12-15")
    record(d, e, "chien_si_thi_dua_co_so", 2025, level="commune", on="2025-12-10")
    refused(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2025-12-20", minutes=BALLOT_9), "award.chain")
