"""Awards trusts the token and the server's clock, and keeps every rule on every path (issue 11):
who proposes and decides at which level, the dates, the import path, quotas on decisions, step 5
and ad-hoc awards, once per person, percentage caps, revocation, and the ministry's roll-up.

One in-process system serves the module; every test makes its own campaign, people and ids, and a
test that defines a province rule does so in a province no other test uses.
"""
from __future__ import annotations

import json
from datetime import date

import pytest

from services.awards.rules import RULEBOOK, Rulebook
from tests import scenarios as s
from tests.driver import InProcess
from tests.scenarios import appraise, decide, individual, launch, ok, uid
from tests.unit.conftest import SECRET, module_system
from tests.unit.test_award_rules import (BALLOT_8, ISSUERS, TEACHER_EVIDENCE, Entry, Unchanged, ad_hoc,
                                         approved_nomination, campaign, cstdcs_years, enter, history, nominate_,
                                         nominations, person, record, refused, teacher)
from tools import demo

P = "86"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "award-trust")


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


def head_of(e: Entry, d, level="department", **claims) -> dict:
    """The claims of the head of the participant's unit, whose authority is ``level``."""
    return {"role": "unit_head", "province": e.province, "authority": level,
            "unit": s.participant_unit(d, e.province, e.campaign_id, e.registration_id), **claims}


def nomination_body(e: Entry, award="chien_si_thi_dua_co_so", **fields) -> dict:
    return {"campaign_id": e.campaign_id, "registration_id": e.registration_id, "award": award,
            "dossier": {"submission_letter": "Tờ trình 1/TTr", "achievement_report": "Báo cáo",
                        "council_minutes": BALLOT_8}, **fields}


# == who: the token, not the body =================================================================
def test_a_nomination_naming_another_proposer_unit_is_refused_with_the_reason(d):
    e = teacher(d)
    d.at("2024-12-01")
    with Unchanged(d, e):
        body = refused(d.post("awards", "/nominations", nomination_body(e, proposer_unit="so-gd-dt"),
                              **head_of(e, d)), "auth.claims", "không được tự khai", status=403)
    assert set(body["errors"]) == {"proposer_unit"}
    own = head_of(e, d)["unit"]
    repeated = ok(d.post("awards", "/nominations", nomination_body(e, proposer_unit=own), **head_of(e, d)))
    assert repeated["proposer_unit"] == own


def test_a_nomination_addressed_to_another_level_than_the_proposer_own_is_refused(d):
    e = teacher(d)
    d.at("2024-12-01")
    with Unchanged(d, e):
        body = refused(d.post("awards", "/nominations", nomination_body(e, submitted_to="province"),
                              **head_of(e, d, level="school")), "auth.claims", status=403)
    assert set(body["errors"]) == {"submitted_to"}


def test_a_nomination_starts_at_the_level_the_head_unit_gives_when_the_token_names_no_authority(d):
    e = teacher(d, year=2025)
    d.at("2025-07-10")
    claims = {**head_of(e, d), "authority": None, "unit_level": "school"}
    n = ok(d.post("awards", "/nominations", nomination_body(e), **claims))
    assert n["target_level"] == "commune"  # school -> commune, which confers CSTĐCS from 01/07/2025
    nothing = {**claims, "unit_level": None}
    refused(d.post("awards", "/nominations", nomination_body(teacher(d)), **nothing), "auth.claims", status=403)


def test_a_head_nominates_only_within_their_unit_and_its_sub_units(d):
    root, school, other = uid("so"), uid("thcs"), uid("thpt")
    for unit_id, parent in ((root, None), (school, root), (other, None)):
        ok(d.post("registration", "/units", {"id": unit_id, "name": f"Đơn vị {unit_id}", "kind": "school",
                                             "parent_id": parent}, province=P))
    cid = campaign(d)
    e = enter(d, cid, who=individual("teacher", "Lê Văn Nam", unit_id=school))
    d.at("2024-12-01")
    with Unchanged(d, e):
        body = refused(d.post("awards", "/nominations", nomination_body(e), **{**head_of(e, d), "unit": other}),
                       "auth.unit_scope", "Lê Văn Nam", status=403)
    assert "phạm vi" in body["message"]
    from_above = ok(d.post("awards", "/nominations", nomination_body(e), **{**head_of(e, d), "unit": root}))
    assert from_above["proposer_unit"] == root


def test_a_decision_naming_another_level_than_the_token_authority_is_refused(d):
    e = teacher(d)
    n = approved_nomination(d, e)
    d.at("2024-12-10")
    with Unchanged(d, e):
        body = refused(d.post("awards", f"/nominations/{n['id']}/decision",
                              {"decision_number": "5/QĐ", "level": "department"}, role="authority", province=P,
                              authority="school"), "auth.claims", "Cấp quyết định", status=403)
    assert set(body["errors"]) == {"level"}


def test_an_authority_token_without_an_authority_decides_nothing(d):
    e = teacher(d)
    n = approved_nomination(d, e)
    with Unchanged(d, e):
        body = refused(d.post("awards", f"/nominations/{n['id']}/decision", {"decision_number": "6/QĐ"},
                              role="authority", province=P), "auth.claims", status=403)
    assert "authority" in body["errors"]
    refused(d.post("awards", "/ad-hoc-commendations", {
        "participant": person(), "award": "giay_khen", "achievement": "Cứu người đuối nước",
        "decision_number": "7/QĐ"}, role="authority", province=P), "auth.claims", status=403)


def test_a_school_principal_cannot_decide_an_award_of_province_level(d):
    """The walk-around of issue 11: a school principal's token decided an award 'at province level'."""
    e = school_entry = enter(d, campaign(d), who=s.collective("Trường THCS Bình Đại"))
    n = ok(nominate_(d, school_entry, "tap_the_lao_dong_xuat_sac", "2024-12-01"))
    assert n["target_level"] == "province"
    ok(appraise(d, P, n["id"]))
    with Unchanged(d, e):
        refused(decide(d, P, n["id"], "9/QĐ-UBND", "2024-12-20", level="school", issuer="Hiệu trưởng"),
                "decision.addressee", "Chủ tịch UBND tỉnh")
        refused(ad_hoc(d, person(), award="bang_khen_chu_tich_tinh", on="2024-12-20", level="school"),
                "authority.competence", "Hiệu trưởng")
    decided = ok(decide(d, P, n["id"], "9/QĐ-UBND", "2024-12-20", level="province", issuer="Chủ tịch UBND tỉnh"))
    assert [(h["level"], h["issuer"]) for h in history(d, e)] == [("province", "Chủ tịch UBND tỉnh")]
    assert decided["decision_date"] == "2024-12-20"


def test_the_issuer_is_the_token_name_or_the_rulebook_name_of_its_level(d):
    e = teacher(d)
    n = approved_nomination(d, e)
    d.at("2024-12-10")
    ok(d.post("awards", f"/nominations/{n['id']}/decision", {"decision_number": "10/QĐ"}, role="authority",
              province=P, authority="department"))
    assert [h["issuer"] for h in history(d, e)] == ["Giám đốc Sở Giáo dục và Đào tạo"]


# == when: the server's clock ======================================================================
@pytest.mark.parametrize("path,field", [
    ("/nominations", "submitted_on"), ("/nominations/x/decision", "decision_date"),
    ("/nominations/x/decision", "issuer"), ("/holds", "placed_on"), ("/holds/x/lifting", "lifted_on"),
    ("/ad-hoc-commendations", "decision_date")])
def test_a_date_or_issuer_sent_in_the_body_is_refused_naming_the_field(d, path, field):
    r = d.post("awards", path, {field: "2024-04-01"}, role="authority", province=P, authority="department")
    assert r.status == 422 and r.body["errors"]["json"][field], r


def test_a_nomination_after_the_deadline_is_late_by_the_server_date(d):
    cid = campaign(d, deadlines={"nominations": "2024-12-05"})
    e = enter(d, cid)
    with Unchanged(d, e):
        refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-06", minutes=BALLOT_8), "nomination.deadline",
                "05/12/2024")
    n = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-05", minutes=BALLOT_8))
    assert n["submitted_on"] == "2024-12-05"


def test_a_hold_is_dated_by_the_server(d):
    e = teacher(d)
    d.at("2024-11-03")
    hold = ok(d.post("awards", "/holds", {"participant_id": e.pid, "kind": "inspection", "reason": "Thanh tra"},
                     role="council", province=P))
    d.at("2024-11-09")
    lifted = ok(d.post("awards", f"/holds/{hold['id']}/lifting", {"reason": "Đã kết luận"}, role="council",
                       province=P))
    assert (hold["placed_on"], lifted["lifted_on"]) == ("2024-11-03", "2024-11-09")


def test_appraisal_is_dated_by_the_server(d, system):
    e = teacher(d)
    n = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8))
    d.at("2024-12-04")
    ok(appraise(d, P, n["id"]))
    d.settle()
    appraised = [json.loads(r.value) for r in system.bus.records("thidua.awards")
                 if json.loads(r.value)["type"] == "awards.nomination.appraised"
                 and json.loads(r.value)["data"]["nomination_id"] == n["id"]]
    assert [a["data"]["appraised_on"] for a in appraised] == ["2024-12-04"]


@pytest.mark.parametrize("kind", ["discipline", "investigation", "inspection", "complaint"])
def test_a_hold_is_of_a_kind_the_rulebook_names(d, kind):
    e = teacher(d)
    assert ok(d.post("awards", "/holds", {"participant_id": e.pid, "kind": kind, "reason": "Đang xem xét"},
                     role="council", province=P))["kind"] == kind


def test_a_hold_of_a_kind_the_rulebook_does_not_name_is_refused(d):
    r = d.post("awards", "/holds", {"participant_id": "gv-x", "kind": "rumour", "reason": "Nghe nói"},
               role="council", province=P)
    assert r.status == 422 and "kind" in r.body["errors"]["json"], r


# == the import path ==================================================================================
def test_past_awards_are_imported_only_by_the_department_or_an_operator_and_marked_imported(d):
    e = teacher(d)
    body = {"participant": e.participant, "award": "chien_si_thi_dua_co_so", "year": 2022,
            "decision_number": "12/QĐ-UBND", "decision_date": "2022-12-15", "issuer": ISSUERS["district"],
            "issuer_level": "district"}
    for role in ("authority", "unit_head", "council"):
        assert d.post("awards", "/history", body, role=role, province=P, authority="province").status == 403
    imported = ok(d.post("awards", "/history", body, role="operator", province=P))
    assert imported["imported"] is True and imported["decision_date"] == "2022-12-15"
    n = approved_nomination(d, e, award="giay_khen", minutes=None)
    ok(decide(d, P, n["id"], "13/QĐ", "2024-12-10", level="department"))
    assert [(h["award"], h["imported"]) for h in history(d, e)] == [("chien_si_thi_dua_co_so", True),
                                                                    ("giay_khen", False)]


# == quotas on every path =============================================================================
def test_an_ad_hoc_award_naming_a_campaign_counts_against_its_quota_and_one_without_does_not(d):
    cid = campaign(d, award_plan=[{"award": "giay_khen", "max": 1}])
    d.settle()
    first = ok(ad_hoc(d, person(), on="2024-09-01", level="department", campaign_id=cid))
    assert first["campaign_id"] == cid
    who = person()
    body = refused(ad_hoc(d, who, on="2024-09-02", level="department", campaign_id=cid), "decision.quota",
                   "tối đa 1")
    assert body["details"] == {"quota": 1, "used": 1, "award": "giay_khen"}
    assert ok(d.get("awards", f"/history/{who['participant_id']}", province=P), 200) == []
    assert ok(ad_hoc(d, who, on="2024-09-02", level="department"))["campaign_id"] is None
    quotas = ok(d.get("awards", f"/campaigns/{cid}/quotas", province=P), 200)
    assert [(q["award"], q["used"]) for q in quotas] == [("giay_khen", 1)]
    unknown = refused(ad_hoc(d, person(), on="2024-09-02", level="department", campaign_id="khong-co"),
                      "nomination.known")
    assert unknown["retryable"] is True


def exemplar_reviewed(d, cid: str) -> tuple[str, dict]:
    """An exemplar of the campaign through steps 1 to 4."""
    units = demo.new_units()
    for service, path, role, body in demo.setup_requests(cid, units):
        made = ok(d.post(service, path, body, role=role, province=P, **demo.claims(role, body, units)))
    d.settle()
    for number in range(1, 5):
        ok(s.step(d, number, P, made["id"], {"campaign_id": cid, **units}))
        d.settle()
    return made["id"], units


def commend(d, exemplar_id: str, award="giay_khen", body: dict | None = None, **claims):
    """Step 5: the department's director commends the exemplar within their authority."""
    d.at("2024-10-01")
    return d.post("awards", f"/exemplars/{exemplar_id}/recognition", {
        "influence": "Được nhiều trường học tập", "spread_units": 3, "outcome": "commended", "award": award,
        "decision_number": uid("QĐ"), **(body or {})}, role="authority", province=P,
        **({"authority": "department", "name": "Giám đốc Sở GD&ĐT"} | claims))


def test_step_5_commendations_count_against_the_campaign_quota(d):
    d.at("2024-04-20")
    cid = launch(d, P, title="Cao điểm thi đua có chỉ tiêu", issuer="Sở GD&ĐT", period_end="2025-10-31",
                 registration_deadline="2024-05-01", award_plan=[{"award": "giay_khen", "max": 1}])["id"]
    first, second = exemplar_reviewed(d, cid), exemplar_reviewed(d, cid)
    assert ok(commend(d, first[0]))["outcome"] == "commended"
    body = refused(commend(d, second[0]), "decision.quota", "tối đa 1", "đã quyết định 1")
    assert body["details"]["used"] == 1
    quotas = ok(d.get("awards", f"/campaigns/{cid}/quotas", province=P), 200)
    assert [(q["award"], q["used"]) for q in quotas] == [("giay_khen", 1)]


def test_step_5_takes_the_level_and_issuer_from_the_token(d):
    d.at("2024-04-20")
    cid = launch(d, P, title="Cao điểm thi đua", issuer="Sở GD&ĐT", period_end="2025-10-31",
                 registration_deadline="2024-05-01")["id"]
    exemplar_id, units = exemplar_reviewed(d, cid)
    refused(commend(d, exemplar_id, body={"level": "department"}, authority="school"), "auth.claims", status=403)
    refused(commend(d, exemplar_id, award="bang_khen_chu_tich_tinh"), "authority.competence")
    d.at("2024-10-01")
    outside = d.post("awards", f"/exemplars/{exemplar_id}/recognition", {
        "influence": "Được nhiều trường học tập", "spread_units": 3, "outcome": "commended", "award": "giay_khen",
        "decision_number": "1/QĐ"}, role="unit_head", province=P, unit=units["learner"], authority="school")
    refused(outside, "auth.unit_scope", status=403)
    ok(commend(d, exemplar_id))
    [given] = ok(d.get("awards", f"/history/{units['school']}", province=P), 200)
    assert (given["level"], given["issuer"], given["decision_date"]) == ("department", "Giám đốc Sở GD&ĐT",
                                                                          "2024-10-01")


# == once per person ===================================================================================
SECTOR_CRITERIA = [{"code": "tham_nien", "label": "Thời gian công tác trong ngành", "kind": "quantitative",
                    "metric": "years_in_sector", "comparison": ">=", "threshold": 20}]
KNC = "ky_niem_chuong_vi_su_nghiep_giao_duc"


def veteran(d) -> Entry:
    cid = campaign(d)
    who = individual("teacher", "Nguyễn Văn Lâu Năm", unit="Trường THPT Bến Tre")
    set_id = uid("tieu-chi")
    s.criteria_set(d, P, set_id, "Kỷ niệm chương", ["teacher"], SECTOR_CRITERIA, "Thông tư 29/2023")
    rid = ok(s.register(d, P, cid, who, on="2024-03-01"))["id"]
    d.settle()
    assert ok(s.evaluate(d, P, rid, set_id, {"tham_nien": 25}, on="2024-11-20"))["passed"]
    d.settle()
    return Entry(P, cid, rid, {"participant_id": who["participant_id"], "participant_kind": "individual",
                               "name": who["name"], "unit": who["unit"]})


def test_a_ky_niem_chuong_already_given_is_refused_at_nomination_citing_its_source(d):
    e = veteran(d)
    record(d, e, KNC, 2019, level="department")  # imported: given in 2019, entered as issued
    with Unchanged(d, e):
        body = refused(nominate_(d, e, KNC, "2024-12-01", submitted_to="minister"), "award.once_per_person",
                       "một lần")
    assert body["details"]["source"] == "Thông tư 29/2023/TT-BGDĐT, Điều 8"


def test_a_ky_niem_chuong_is_proposed_once_and_one_found_given_meanwhile_refuses_the_decision(d):
    e = veteran(d)
    n = ok(nominate_(d, e, KNC, "2024-12-01", submitted_to="minister"))
    assert n["target_level"] == "minister"
    again = refused(nominate_(d, e, KNC, "2024-12-02", submitted_to="minister"), "award.once_per_person")
    assert n["id"] in again["message"]
    refused(ad_hoc(d, e.participant, award=KNC, on="2024-12-03", level="minister"), "award.once_per_person")
    ok(appraise(d, P, n["id"]))
    record(d, e, KNC, 2020, level="department")  # an earlier one, found and imported meanwhile
    with Unchanged(d, e):
        refused(decide(d, P, n["id"], "20/QĐ-BGDĐT", "2024-12-10", level="minister"), "award.once_per_person")


def test_a_ky_niem_chuong_given_ad_hoc_is_not_given_ad_hoc_again(d):
    who = person()
    ok(ad_hoc(d, who, award=KNC, on="2024-12-05", level="minister"))
    refused(ad_hoc(d, who, award=KNC, on="2024-12-11", level="minister"), "award.once_per_person",
            "Quyết định số")


def test_a_form_not_once_per_person_may_be_given_again(d):
    e = teacher(d)
    ok(ad_hoc(d, e.participant, on="2024-12-05", level="department"))
    assert ok(ad_hoc(d, e.participant, on="2024-12-06", level="department"))["status"] == "decided"


# == percentage caps ===================================================================================
def test_the_2017_cap_of_cstdcs_is_in_force_until_2023_only():
    book = Rulebook()
    assert [c["code"] for c in book.caps(date(2023, 12, 31))] == ["cstdcs_15pct_ldtt"]
    assert book.caps(date(2024, 1, 1)) == []


OLD_CAP = {"code": "cstdcs_15pct_ldtt", "name": "Chiến sĩ thi đua cơ sở không quá 15% số Lao động tiên tiến",
           "counts": {"award": "chien_si_thi_dua_co_so"}, "of": {"award": "lao_dong_tien_tien"}, "max_pct": 15,
           "source": "Quyết định 12/2024/QĐ-UBND của tỉnh, Điều 3", "valid_from": "2024-01-01"}


def test_a_province_cap_binds_a_nomination_in_its_dates_with_the_numbers_and_source(d):
    here = "06"
    ok(d.post("awards", "/rules", {"cap": OLD_CAP}, role="council", province=here))
    assert [c["source"] for c in ok(d.get("awards", "/rules", province=here), 200)["province"]["caps"]] == [
        OLD_CAP["source"]]
    e = teacher(d, here)
    with Unchanged(d, e):
        body = refused(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8), "award.cap",
                       "15%")
    assert body["details"] == {"source": OLD_CAP["source"], "cap": "cstdcs_15pct_ldtt", "max_pct": 15, "base": 0,
                               "counted": 1, "allowed": 0}
    # the national 2017 cap of the same rule no longer binds anywhere else
    assert ok(nominate_(d, teacher(d), "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8))


def test_a_province_cap_past_its_end_date_does_not_bind(d):
    here = "07"
    ok(d.post("awards", "/rules", {"cap": {**OLD_CAP, "valid_to": "2024-06-30"}}, role="council", province=here))
    e = teacher(d, here)
    assert ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8))["status"] == "submitted"


EXCELLENT_SHARE = {"code": "hoan_thanh_xuat_sac_20pct", "name": "Hoàn thành xuất sắc nhiệm vụ không quá 20% số "
                   "hoàn thành tốt nhiệm vụ trở lên", "counts": {"rating": ["hoan_thanh_xuat_sac"]},
                   "of": {"rating": ["hoan_thanh_tot", "hoan_thanh_xuat_sac"]}, "max_pct": 20,
                   "source": "Quy định 366-QĐ/TW; Nghị định 90/2020/NĐ-CP (tỉnh áp dụng theo đơn vị)",
                   "valid_from": "2024-01-01"}


def test_the_share_rated_excellent_is_capped_per_unit_and_campaign_at_nomination_and_decision(d):
    here = "08"
    ok(d.post("awards", "/rules", {"cap": EXCELLENT_SHARE}, role="council", province=here))
    cid = campaign(d, here)
    unit = "Trường THCS Tân Thành"

    def member(rating, unit=unit):
        return enter(d, cid, here, who=individual("teacher", "Giáo viên", unit=unit),
                     evidence={**TEACHER_EVIDENCE, "xep_loai": rating})

    excellent = [member("hoan_thanh_xuat_sac") for _ in range(2)]
    good = [member("hoan_thanh_tot") for _ in range(3)]  # 5 rated good or better: 20 % is 1
    first = ok(nominate_(d, excellent[0], "giay_khen", "2024-12-01", submitted_to="school"))
    with Unchanged(d, excellent[1]):
        body = refused(nominate_(d, excellent[1], "giay_khen", "2024-12-01", submitted_to="school"), "award.cap",
                       "20%")
    assert {k: body["details"][k] for k in ("base", "counted", "allowed")} == {"base": 5, "counted": 2, "allowed": 1}
    assert body["details"]["source"] == EXCELLENT_SHARE["source"]
    assert ok(nominate_(d, good[0], "giay_khen", "2024-12-01", submitted_to="school"))  # not rated excellent
    # another unit has its own share: its one member is not counted with the first unit's
    elsewhere = member("hoan_thanh_xuat_sac", unit="Trường THCS Khác")
    body = refused(nominate_(d, elsewhere, "giay_khen", "2024-12-01", submitted_to="school"), "award.cap")
    assert {k: body["details"][k] for k in ("base", "counted", "allowed")} == {"base": 1, "counted": 1, "allowed": 0}
    # at decision the cap counts decided awards: the first is the one allowed
    ok(appraise(d, here, first["id"]))
    ok(decide(d, here, first["id"], "1/QĐ-HT", "2024-12-10", level="school", issuer="Hiệu trưởng"))
    assert [n["status"] for n in nominations(d, excellent[0]) if n["id"] == first["id"]] == ["decided"]


# == revocation ==========================================================================================
def revoke(d, award_id: str, level="department", number="99/QĐ-THU-HOI", on="2025-03-01"):
    d.at(on)
    return d.post("awards", f"/awards/{award_id}/revocation", {"reason": "Khai man thành tích",
                                                                "decision_number": number},
                  role="authority", province=P, authority=level)


def test_a_revoked_award_leaves_history_chains_and_the_quota_and_is_told(d, system):
    cid = campaign(d, award_plan=[{"award": "chien_si_thi_dua_co_so", "max": 1}])
    e, rival = enter(d, cid), enter(d, cid)
    cstdcs_years(d, e, 2022, 2023)
    n = approved_nomination(d, e)
    ok(decide(d, P, n["id"], "31/QĐ-SGDĐT", "2024-12-10", level="department"))
    r = approved_nomination(d, rival)
    refused(decide(d, P, r["id"], "32/QĐ-SGDĐT", "2024-12-10", level="department"), "decision.quota")
    # the chain of three years stands, before the revocation
    assert ok(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2024-12-20", minutes={"members_total": 10,
                                                                                     "votes_for": 9}))
    with Unchanged(d, e):
        refused(revoke(d, n["id"], level="school"), "revocation.authority", "cấp trên", status=403)
    revoked = ok(revoke(d, n["id"]))
    assert (revoked["status"], revoked["revocation_number"], revoked["revoked_on"]) == (
        "revoked", "99/QĐ-THU-HOI", "2025-03-01")
    assert [h["year"] for h in history(d, e)] == [2022, 2023]
    shown = ok(d.get("awards", f"/history/{e.pid}?include_revoked=true", province=P), 200)
    assert [(h["year"], h["status"]) for h in shown] == [(2022, "valid"), (2023, "valid"), (2024, "revoked")]
    assert [x["status"] for x in nominations(d, e) if x["id"] == n["id"]] == ["revoked"]
    refused(revoke(d, n["id"]), "revocation.once")
    # the chain falls with it, the quota place reopens
    refused(nominate_(d, e, "chien_si_thi_dua_cap_tinh", "2025-03-02",
                      minutes={"members_total": 10, "votes_for": 9}), "award.chain")
    assert ok(decide(d, P, r["id"], "33/QĐ-SGDĐT", "2025-03-05", level="department"))["status"] == "decided"
    d.settle()
    public = system.client("notifications").get(f"/public/{P}/commendations?campaign_id={cid}").get_json()
    assert [p["decision_number"] for p in public["decided"]] == ["33/QĐ-SGDĐT"]
    inbox = ok(d.get("notifications", f"/inbox/{e.pid}", role="participant", province=P, subject=e.pid), 200)
    assert "Thu hồi khen thưởng" in [m["title"] for m in inbox]


def test_an_imported_award_is_revoked_by_a_level_above_the_one_that_issued_it(d):
    e = teacher(d)
    [imported] = [record(d, e, "chien_si_thi_dua_co_so", 2023, level="district")]
    refused(revoke(d, imported["id"], level="department"), "revocation.authority", status=403)
    assert ok(revoke(d, imported["id"], level="province"))["status"] == "revoked"
    assert history(d, e) == []
    assert revoke(d, "khong-co", level="province").status == 404


# == the ministry's roll-up ===================================================================================
def test_the_ministry_reads_nominations_and_valid_awards_per_province_and_title(d):
    here = "11"
    e, f = teacher(d, here), teacher(d, here)
    n = approved_nomination(d, e)
    ok(d.post("awards", f"/nominations/{n['id']}/decision", {"decision_number": "1/QĐ"}, role="authority",
              province=here, authority="department"))
    approved_nomination(d, f)
    record(d, f, "giay_khen", 2023, level="district")
    revoked = record(d, f, "lao_dong_tien_tien", 2022, level="district")
    d.at("2025-01-10")
    ok(d.post("awards", f"/awards/{revoked['id']}/revocation", {"reason": "Sai sót", "decision_number": "2/QĐ"},
              role="authority", province=here, authority="province"))
    for role in ("department", "authority", "operator"):
        assert d.get("awards", "/national/awards", role=role, province=here).status == 403
    roll_up = ok(d.get("awards", "/national/awards", role="ministry", province="00"), 200)
    [mine] = [p for p in roll_up if p["province"] == here]
    assert (mine["nominations"], mine["awards"]) == (2, 2)
    assert [(a["award"], a["category"], a["nominations"], a["awards"]) for a in mine["by_award"]] == [
        ("chien_si_thi_dua_co_so", "title", 2, 1), ("giay_khen", "form", 0, 1)]
    assert {p["province"] for p in roll_up} >= {here, P}


# == every field of the rulebook is read ========================================================================
def test_every_field_of_the_national_rulebook_is_one_the_code_reads():
    """A field added to rulebook.json and read nowhere fails here: enforce it or leave it out."""
    book = json.loads(RULEBOOK.read_text(encoding="utf-8"))
    assert set(book) == {"about", "awards", "authorities", "escalation", "holds", "chains_exclude_kinds",
                         "one_achievement_one_award", "revocation", "caps", "succession"}
    assert {k for a in book["awards"] for k in a} == {
        "code", "name", "category", "applies_to", "requires", "ballot_pct", "chain", "once_per_person", "source",
        "valid_from", "valid_to"}
    assert {k for a in book["authorities"] for k in a} == {"level", "name", "confers", "source", "valid_from",
                                                            "valid_to"}
    assert {k for c in book["caps"]["rules"] for k in c} == {"code", "name", "counts", "of", "max_pct", "source",
                                                              "valid_from", "valid_to"}
    assert set(book["chains_exclude_kinds"]["kinds"]) == {"ad_hoc", "thematic"}
