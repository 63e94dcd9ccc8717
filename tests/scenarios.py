"""The seed plans as scenarios, written once against :class:`tests.driver.Driver`.

Each function drives the system as its users would and asserts what they would
see; the acceptance tests run them on the real stack, the unit tests on the bus.
"""
from __future__ import annotations

import uuid

from tests.driver import Driver, Reply
from tools import demo

HUNG_YEN, GIA_LAI, DA_NANG, QUANG_NINH, VINH_LONG = "33", "64", "48", "22", "86"


def ok(reply: Reply, status: int = 201) -> dict:
    assert reply.status == status, reply
    return reply.body


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# The unit level a campaign's issuer belongs to (the token says it; the issuer level follows).
UNIT_LEVEL_OF_ISSUER = {"office": "district", "council": "department", "department": "department",
                        "province": "province", "ministry": "ministry", "commune": "commune", "school": "school"}


def launcher(issuer: str = "Sở GD&ĐT", issuer_level: str = "department") -> dict:
    """The keyword arguments of a call made by the person who launches as ``issuer``: their role and
    the claims of their token (a council launches as a council)."""
    return {"role": "council" if issuer_level == "council" else "department", "name": issuer,
            "unit_level": UNIT_LEVEL_OF_ISSUER[issuer_level]}


def launch(d: Driver, province: str, **fields) -> dict:
    """``issuer`` and ``issuer_level`` name who launches: they go into the token, not the body."""
    who = launcher(fields.pop("issuer", "Sở GD&ĐT"), fields.pop("issuer_level", "department"))
    body = {"kind": "yearly", "period_start": "2024-01-01", "period_end": "2024-12-31",
            "registration_deadline": "2024-04-30", **fields}
    return ok(d.post("registration", "/campaigns", body, province=province, **who))


def head_unit(province: str) -> str:
    """The unit of the unit head who registers in a scenario, unless the participant names its own."""
    return f"truong-{province}"


def register(d: Driver, province: str, campaign_id: str, participant: dict, on: str,
             pledges: list | None = None, unit: str | None = None) -> Reply:
    """Registered on ``on`` by the server's clock (moved there first), by the head of ``unit``
    (the participant's own unit, or the scenario's)."""
    pledges = pledges or [{"content": "Hoàn thành xuất sắc nhiệm vụ năm học", "start": "2024-01-02",
                           "end": "2024-12-30"}]
    d.at(on)
    return d.post("registration", f"/campaigns/{campaign_id}/registrations",
                  {"participant": participant, "pledges": pledges}, role="unit_head", province=province,
                  unit=unit or participant.get("unit_id") or head_unit(province), unit_level="school")


def unit_id_of(unit: str) -> str:
    """The org-chart id of a unit named ``unit`` (the same name, the same unit)."""
    return f"dv-{uuid.uuid5(uuid.NAMESPACE_URL, unit).hex[:10]}"


def individual(kind: str, name: str, unit: str = "Trường THCS Mỹ Hòa", **extra) -> dict:
    return {"participant_id": uid(kind), "kind": "individual", "individual_kind": kind, "name": name,
            "unit": unit, "unit_id": unit_id_of(unit), **extra}


def collective(name: str, **extra) -> dict:
    return {"participant_id": uid("tt"), "kind": "collective", "name": name, "unit": name,
            "unit_id": unit_id_of(name), **extra}


def criteria_set(d: Driver, province: str, set_id: str, name: str, applies_to: list, criteria: list,
                 source: str) -> dict:
    return ok(d.post("evaluation", "/criteria-sets", {"id": set_id, "name": name, "applies_to": applies_to,
                                                      "criteria": criteria, "source": source},
                     role="council", province=province))


def evaluate(d: Driver, province: str, registration_id: str, set_id: str, evidence: dict,
             on: str = "2024-05-10") -> Reply:
    d.at(on)  # the council evaluates on the server's date
    return d.post("evaluation", "/evaluations", {"registration_id": registration_id, "criteria_set_id": set_id,
                                                  "evidence": evidence},
                  role="council", province=province)


def participant_unit(d: Driver, province: str, campaign_id: str, registration_id: str) -> str | None:
    """The unit of a registered participant, as awards knows it (None when it has not heard of it)."""
    seen = d.get("awards", f"/campaigns/{campaign_id}/participants", province=province)
    return next((p["unit_id"] for p in seen.body if p["registration_id"] == registration_id), None) \
        if seen.status == 200 else None


def nominate(d: Driver, province: str, campaign_id: str, registration_id: str, award: str, on: str,
             submitted_to: str = "district", minutes: dict | None = None, **extra) -> Reply:
    """The head of the participant's own unit, whose authority is ``submitted_to``, proposes on ``on``."""
    dossier = {"submission_letter": "Tờ trình số 12/TTr", "achievement_report": "Báo cáo thành tích",
               "council_minutes": minutes}
    d.at(on)
    return d.post("awards", "/nominations", {"campaign_id": campaign_id, "registration_id": registration_id,
                                             "award": award, "dossier": {**dossier, **extra}},
                  role="unit_head", province=province, authority=submitted_to,
                  unit=participant_unit(d, province, campaign_id, registration_id))


def appraise(d: Driver, province: str, nomination_id: str, outcome: str = "approved",
             reason: str = "Hồ sơ đầy đủ, đúng tiêu chuẩn") -> Reply:
    return d.post("awards", f"/nominations/{nomination_id}/appraisal", {"outcome": outcome, "reason": reason},
                  role="council", province=province)


def decide(d: Driver, province: str, nomination_id: str, number: str, on: str, level: str = "province",
           issuer: str = "Chủ tịch UBND tỉnh") -> Reply:
    """The holder of the authority ``level`` (named ``issuer`` in the token) decides on ``on``."""
    d.at(on)
    return d.post("awards", f"/nominations/{nomination_id}/decision", {"decision_number": number},
                  role="authority", province=province, authority=level, name=issuer)


# -- Mỹ Hòa (Hưng Yên), 2024 -----------------------------------------------------------
MY_HOA_CRITERIA = {
    "manager": [{"code": "dao_duc", "label": "Có phẩm chất, đạo đức tốt, gương mẫu", "kind": "qualitative"},
                {"code": "giai_phap_quan_ly", "label": "Nhiều giải pháp đổi mới, sáng tạo trong quản lý, được "
                 "tập thể ghi nhận", "kind": "qualitative", "vote_threshold_pct": 50}],
    "teacher": [{"code": "dao_duc", "label": "Có phẩm chất, đạo đức tốt, gương mẫu", "kind": "qualitative"},
                {"code": "giai_phap_giang_day", "label": "Giải pháp đổi mới, sáng tạo trong giảng dạy",
                 "kind": "quantitative", "metric": "initiatives", "comparison": ">=", "threshold": 1}],
    "staff": [{"code": "giai_phap", "label": "Có giải pháp đổi mới, sáng tạo trong nhiệm vụ được giao",
               "kind": "quantitative", "metric": "initiatives", "comparison": ">=", "threshold": 1}],
    "student": [{"code": "giai_thuong", "label": "Đoạt giải trong các kỳ thi cấp tỉnh, quốc gia, quốc tế",
                 "kind": "quantitative", "metric": "prizes_provincial_or_higher", "comparison": ">=",
                 "threshold": 1}],
    "collective": [{"code": "hoan_thanh_xuat_sac", "label": "Đoàn kết, hoàn thành xuất sắc các nhiệm vụ",
                    "kind": "quantitative", "metric": "rating", "comparison": "in",
                    "threshold": ["hoan_thanh_xuat_sac"]}],
}
MY_HOA_EVIDENCE = {
    "manager": {"dao_duc": {"judgement": "pass"}, "giai_phap_quan_ly": {"judgement": "pass", "votes_for": 9,
                                                                         "members_total": 11}},
    "teacher": {"dao_duc": {"judgement": "pass"}, "giai_phap_giang_day": 2},
    "staff": {"giai_phap": 1},
    "student": {"giai_thuong": 1},
    "collective": {"hoan_thanh_xuat_sac": "hoan_thanh_xuat_sac"},
}


def my_hoa(d: Driver) -> dict:
    """Phòng GD&ĐT Mỹ Hòa: criteria per kind of individual, Bằng khen for no more than 15,
    nominations before 18/05/2024."""
    p = HUNG_YEN
    campaign = launch(d, p, title="Đổi mới sáng tạo trong quản lý, giảng dạy và học tập năm 2024",
                      kind="thematic", issuer="Phòng GD&ĐT thị xã Mỹ Hòa", issuer_level="office",
                      registration_deadline="2024-04-30", deadlines={"nominations": "2024-05-18"},
                      target_groups=["collective", "manager", "teacher", "staff", "student"],
                      award_plan=[{"award": "bang_khen_chu_tich_tinh", "applies_to": "both", "max": 15}])
    cid = campaign["id"]
    sets = {}
    for kind, criteria in MY_HOA_CRITERIA.items():
        sets[kind] = f"myhoa-2024-{kind}-{uuid.uuid4().hex[:6]}"
        criteria_set(d, p, sets[kind], f"Tiêu chí lựa chọn — {kind}", [kind], criteria,
                     "Kế hoạch phát động phong trào thi đua của Phòng GD&ĐT Mỹ Hòa, mục III.4")
    kinds = ["collective", "manager", "teacher", "teacher", "teacher", "staff", "student", "student"] * 2 + ["teacher"]
    people = []
    for i, kind in enumerate(kinds):
        who = collective(f"Trường Tiểu học Mỹ Hòa số {i}") if kind == "collective" else \
            individual(kind, f"Người thứ {i}")
        people.append((kind, ok(register(d, p, cid, who, on="2024-04-20"))["id"]))
    d.settle()
    results = {}
    for kind, rid in people:
        results[rid] = ok(evaluate(d, p, rid, sets[kind], MY_HOA_EVIDENCE[kind]))
        assert results[rid]["passed"], results[rid]
    # a student without a provincial prize fails, and cannot be nominated
    weak = ok(register(d, p, cid, individual("student", "Học sinh chưa đạt giải"), on="2024-04-21"))["id"]
    d.settle()
    failed = ok(evaluate(d, p, weak, sets["student"], {"giai_thuong": 0}))
    assert not failed["passed"] and "Không đạt" in failed["results"][0]["reason"]
    d.settle()
    refused = nominate(d, p, cid, weak, "bang_khen_chu_tich_tinh", on="2024-05-15")
    assert refused.status == 409 and refused.body["rule"] == "nomination.requires_evaluation", refused

    nominations = [ok(nominate(d, p, cid, rid, "bang_khen_chu_tich_tinh", on="2024-05-15"))
                   for _, rid in people]
    assert all(n["target_level"] == "province" for n in nominations)  # trình cấp trên: district -> province
    late = nominate(d, p, cid, people[0][1], "bang_khen_chu_tich_tinh", on="2024-05-19")
    assert late.status == 409 and late.body["rule"] == "nomination.deadline"
    assert "18/05/2024" in late.body["message"]
    for n in nominations:
        ok(appraise(d, p, n["id"]))
    decided = [ok(decide(d, p, n["id"], f"{1000 + i}/QĐ-UBND", "2024-06-01")) for i, n in
               enumerate(nominations[:15])]
    assert all(n["status"] == "decided" for n in decided)
    sixteenth = decide(d, p, nominations[15]["id"], "1015/QĐ-UBND", "2024-06-01")
    assert sixteenth.status == 409 and sixteenth.body["rule"] == "decision.quota", sixteenth
    assert sixteenth.body["details"] == {"quota": 15, "used": 15, "award": "bang_khen_chu_tich_tinh"}
    quotas = ok(d.get("awards", f"/campaigns/{cid}/quotas", province=p), 200)
    assert [(q["award"], q["max"], q["used"]) for q in quotas] == [("bang_khen_chu_tich_tinh", 15, 15)]
    return {"campaign_id": cid, "decided": decided, "refused": nominations[15]}


# -- Gia Lai, 2021–2025 ---------------------------------------------------------------------
GIA_LAI_CRITERIA = [
    {"code": "hoan_thanh_nhiem_vu", "label": "100% thành viên hoàn thành nhiệm vụ", "kind": "quantitative",
     "metric": "members_complete_tasks_pct", "comparison": ">=", "threshold": 100, "unit": "%"},
    {"code": "lao_dong_tien_tien", "label": "Ít nhất 70% thành viên đạt Lao động tiên tiến",
     "kind": "quantitative", "metric": "ldtt_share_pct", "comparison": ">=", "threshold": 70, "unit": "%"},
    {"code": "chien_si_thi_dua", "label": "Có ít nhất 01 Chiến sĩ thi đua cơ sở", "kind": "quantitative",
     "metric": "cstdcs_count", "comparison": ">=", "threshold": 1},
    {"code": "ky_luat", "label": "Không có thành viên bị kỷ luật từ khiển trách trở lên", "kind": "quantitative",
     "metric": "members_disciplined_warning_or_above", "comparison": "==", "threshold": 0},
    {"code": "ttldxs", "label": "Ít nhất 2 năm đạt Tập thể lao động xuất sắc trong giai đoạn 2021–2025",
     "kind": "quantitative", "metric": "years_ttldxs", "comparison": ">=", "threshold": 2,
     "window": {"from": 2021, "to": 2025}},
]
GIA_LAI_PASSING = {"hoan_thanh_nhiem_vu": {"numerator": 42, "denominator": 42},
                   "lao_dong_tien_tien": {"numerator": 31, "denominator": 42}, "chien_si_thi_dua": 2,
                   "ky_luat": 0, "ttldxs": [2021, 2023, 2024]}
GIA_LAI_FAILING = {"hoan_thanh_nhiem_vu": {"numerator": 41, "denominator": 42},
                   "lao_dong_tien_tien": {"numerator": 29, "denominator": 42}, "chien_si_thi_dua": 0,
                   "ky_luat": 1, "ttldxs": [2019, 2020, 2022]}


def gia_lai(d: Driver) -> dict:
    """Gia Lai's collective exemplar criteria: passing, and failing when each one alone is not met."""
    p = GIA_LAI
    campaign = launch(d, p, title="Xây dựng, nhân rộng điển hình tiên tiến giai đoạn 2021–2025",
                      kind="thematic", issuer="Sở GD&ĐT Gia Lai", period_start="2021-10-04",
                      period_end="2025-12-31", registration_deadline="2021-10-31",
                      target_groups=["collective", "teacher", "manager", "staff", "student"],
                      award_plan=[{"award": "bang_khen_chu_tich_tinh", "applies_to": "collective", "min": 10},
                                  {"award": "bang_khen_chu_tich_tinh", "applies_to": "individual", "min": 10}])
    cid = campaign["id"]
    set_id = f"gialai-tap-the-{uuid.uuid4().hex[:6]}"
    criteria_set(d, p, set_id, "Tiêu chí điển hình tiên tiến — tập thể", ["collective"], GIA_LAI_CRITERIA,
                 "Kế hoạch Sở GD&ĐT Gia Lai 2021, tiêu chí lựa chọn tập thể điển hình")
    school = {**collective("Trường THPT Pleiku"), "address": "Pleiku, Gia Lai", "phone": "0269 3824 111"}
    late = register(d, p, cid, school, on="2021-11-01",
                    pledges=[{"content": "Điển hình tiên tiến", "start": "2021-11-01", "end": "2025-06-30"}])
    assert late.status == 409 and late.body["rule"] == "registration.deadline" and "31/10/2021" in late.body["message"]
    rid = ok(register(d, p, cid, school, on="2021-10-20",
                      pledges=[{"content": "Điển hình tiên tiến", "start": "2021-10-20", "end": "2025-06-30"}]))["id"]
    d.settle()
    passing = ok(evaluate(d, p, rid, set_id, GIA_LAI_PASSING, on="2025-05-20"))
    assert passing["passed"] and all(r["passed"] for r in passing["results"])
    for code in GIA_LAI_PASSING:
        evidence = {**GIA_LAI_PASSING, code: GIA_LAI_FAILING[code]}
        result = ok(evaluate(d, p, rid, set_id, evidence, on="2025-05-21"))
        failed = [r["code"] for r in result["results"] if not r["passed"]]
        assert not result["passed"] and failed == [code], (code, result["results"])
    history = ok(d.get("evaluation", f"/evaluations/{rid}", province=p), 200)
    assert [h["round"] for h in history] == list(range(1, 7))  # re-evaluation keeps the history
    return {"campaign_id": cid, "registration_id": rid}


# -- Đà Nẵng, 2024 ---------------------------------------------------------------------------
def da_nang(d: Driver) -> dict:
    """A yearly movement; blocks sign covenants; evaluated and commended in December."""
    p = DA_NANG
    campaign = launch(d, p, title="Phong trào thi đua năm 2024 của ngành Giáo dục Đà Nẵng",
                      issuer="Sở GD&ĐT Đà Nẵng", registration_deadline="2024-03-31",
                      deadlines={"nominations": "2024-12-20"},
                      award_plan=[{"award": "tap_the_lao_dong_tien_tien", "applies_to": "collective"}])
    cid = campaign["id"]
    schools = [uid("thpt") for _ in range(3)]
    for i, unit_id in enumerate(schools):
        ok(d.post("registration", "/units", {"id": unit_id, "name": f"Trường THPT số {i} Đà Nẵng",
                                             "kind": "school"}, province=p))
    block = uid("khoi")
    ok(d.post("registration", "/clusters", {"id": block, "name": "Khối THPT", "kind": "block",
                                            "member_unit_ids": schools}, province=p))
    d.at("2024-02-20")  # signed on the day it is recorded
    partial = d.post("registration", f"/clusters/{block}/covenants",
                     {"campaign_id": cid, "content": "Giao ước thi đua năm 2024", "signed_by": schools[:2]},
                     role="unit_head", province=p, unit=schools[0])
    assert partial.status == 409 and partial.body["rule"] == "covenant.all_members_sign"
    covenant = ok(d.post("registration", f"/clusters/{block}/covenants",
                         {"campaign_id": cid, "content": "Giao ước thi đua năm 2024", "signed_by": schools},
                         role="unit_head", province=p, unit=schools[0]))
    assert covenant["signed_on"] == "2024-02-20"
    set_id = f"danang-tt-{uuid.uuid4().hex[:6]}"
    criteria_set(d, p, set_id, "Tập thể lao động tiên tiến", ["collective"], [
        {"code": "ldtt", "label": "Ít nhất 70% thành viên Lao động tiên tiến", "kind": "quantitative",
         "metric": "ldtt_share_pct", "comparison": ">=", "threshold": 70},
        {"code": "ky_luat", "label": "Không có thành viên bị kỷ luật từ cảnh cáo trở lên", "kind": "quantitative",
         "metric": "members_disciplined_warning_or_above", "comparison": "==", "threshold": 0}],
        "Luật Thi đua, khen thưởng 2022, Điều 28")
    rid = ok(register(d, p, cid, {**collective("Trường THPT số 0 Đà Nẵng"), "unit_id": schools[0]},
                      on="2024-03-01"))["id"]
    d.settle()
    ok(evaluate(d, p, rid, set_id, {"ldtt": {"numerator": 50, "denominator": 60}, "ky_luat": 0}, on="2024-12-05"))
    d.settle()
    n = ok(nominate(d, p, cid, rid, "tap_the_lao_dong_tien_tien", on="2024-12-10", submitted_to="department"))
    assert n["target_level"] == "department"
    ok(appraise(d, p, n["id"]))
    decided = ok(decide(d, p, n["id"], "2150/QĐ-SGDĐT", "2024-12-25", level="department",
                        issuer="Giám đốc Sở GD&ĐT Đà Nẵng"))
    assert decided["status"] == "decided" and decided["decision_date"] == "2024-12-25"
    return {"campaign_id": cid, "covenant": covenant, "nomination": decided}


# -- Quảng Ninh, 2020 ------------------------------------------------------------------------
def quang_ninh(d: Driver) -> dict:
    """The sector council launches a yearly movement with named sub-movements."""
    p = QUANG_NINH
    parent = launch(d, p, title="Phong trào thi đua năm học 2020–2021 ngành Giáo dục Quảng Ninh",
                    issuer="Hội đồng Thi đua – Khen thưởng ngành Giáo dục", issuer_level="council",
                    period_start="2020-09-01", period_end="2021-08-31", registration_deadline="2020-10-15")
    subs = [launch(d, p, title=title, issuer="Hội đồng Thi đua – Khen thưởng ngành Giáo dục",
                   issuer_level="council", period_start="2020-09-01", period_end="2021-08-31",
                   registration_deadline="2020-10-15", parent_campaign_id=parent["id"], kind="thematic")
            for title in ("Đổi mới, sáng tạo trong dạy và học", "Mỗi thầy cô giáo là một tấm gương đạo đức, "
                          "tự học và sáng tạo")]
    shown = ok(d.get("registration", f"/campaigns/{parent['id']}", province=p), 200)
    assert sorted(shown["sub_campaigns"]) == sorted(s["id"] for s in subs)
    teacher = individual("teacher", "Phạm Thị Hồng", unit="Trường THCS Hạ Long")
    ok(register(d, p, subs[0]["id"], teacher, on="2020-10-01",
                pledges=[{"content": "Ứng dụng CNTT trong dạy học", "start": "2020-10-01", "end": "2021-05-31"}]))
    orphan = d.post("registration", "/campaigns", {
        "title": "Phong trào con không có phong trào cha", "kind": "thematic", "period_start": "2020-09-01",
        "period_end": "2021-08-31", "registration_deadline": "2020-10-15", "parent_campaign_id": "khong-co"},
        province=p, **launcher("HĐTĐKT", "council"))
    assert orphan.status == 409 and orphan.body["rule"] == "campaign.parent_exists"
    return {"parent": parent, "subs": subs}


# -- ad-hoc commendation (Bến Tre, now part of Vĩnh Long) -----------------------------------------
def ad_hoc(d: Driver) -> dict:
    """Khen đột xuất: decided at once by a competent authority; never counted in merit chains."""
    p = VINH_LONG
    person = {"participant_id": uid("gv"), "participant_kind": "individual", "name": "Võ Văn Tâm",
              "unit": "Trường THCS Bình Đại"}
    body = {"participant": person, "award": "giay_khen", "achievement": "Dũng cảm cứu học sinh bị đuối nước",
            "decision_number": "88/QĐ-SGDĐT"}
    director = {"role": "authority", "province": p, "authority": "department", "name": "Giám đốc Sở GD&ĐT Vĩnh Long"}
    d.at("2025-07-15")
    commended = ok(d.post("awards", "/ad-hoc-commendations", body, **director))
    assert commended["kind"] == "ad_hoc" and commended["status"] == "decided"
    too_high = d.post("awards", "/ad-hoc-commendations", {**body, "award": "bang_khen_chu_tich_tinh"}, **director)
    assert too_high.status == 409 and too_high.body["rule"] == "authority.competence"
    district_gone = d.post("awards", "/ad-hoc-commendations", body, role="authority", province=p,
                           authority="district", name="Chủ tịch UBND huyện Bình Đại")
    assert district_gone.status == 409 and "Chủ tịch UBND cấp huyện" in district_gone.body["message"]
    history = ok(d.get("awards", f"/history/{person['participant_id']}", province=p), 200)
    assert [(h["award"], h["kind"], h["decision_number"]) for h in history] == [
        ("giay_khen", "ad_hoc", "88/QĐ-SGDĐT")]
    return {"person": person}


# -- two provinces side by side ----------------------------------------------------------------
def two_provinces(d: Driver) -> None:
    a = launch(d, "83", title="Phong trào của tỉnh A", issuer="Sở GD&ĐT A")
    b = launch(d, "52", title="Phong trào của tỉnh B", issuer="Sở GD&ĐT B")
    ra = ok(register(d, "83", a["id"], individual("teacher", "Giáo viên tỉnh A"), on="2024-04-01"))
    d.settle()
    for service, path in (("registration", "/campaigns"),):
        mine = ok(d.get(service, path, province="52"), 200)
        assert b["id"] in [c["id"] for c in mine] and a["id"] not in [c["id"] for c in mine]
    assert d.get("registration", f"/campaigns/{a['id']}", province="52").status == 404
    assert d.get("registration", f"/registrations/{ra['id']}", province="52").status == 404
    assert d.get("evaluation", f"/candidates/{ra['id']}", province="52").status == 404
    assert ok(d.get("evaluation", f"/campaigns/{a['id']}/candidates", province="52"), 200) == []
    assert ok(d.get("awards", f"/campaigns/{a['id']}/participants", province="52"), 200) == []
    assert register(d, "52", a["id"], individual("teacher", "Kẻ lạ"), on="2024-04-01").status == 404
    stolen = nominate(d, "52", a["id"], ra["id"], "giay_khen", on="2024-05-01")
    assert stolen.status in (403, 404, 409) and stolen.status != 201


# -- Bến Tre: the five-step exemplar progression (5 bước nhân rộng điển hình) -----------------------
def audit(d: Driver, exemplar_id: str, province: str, key: bytes = b""):
    from shared.audit import gather
    answers = [ok(d.get(service, f"/exemplars/{exemplar_id}/audit", role="operator", province=province), 200)
               for service in ("registration", "evaluation", "awards", "notifications")]
    return gather(exemplar_id, answers, key)


def exemplar_setup(d: Driver, province: str = VINH_LONG) -> dict:
    """The campaign with its exemplar targets and three units (the demo's own requests)."""
    units = demo.new_units()
    [(service, path, role, body)] = demo.setup_requests(None, units)
    campaign = ok(d.post(service, path, body, role=role, province=province, **demo.claims(role, body, units)))
    units_only = demo.setup_requests(campaign["id"], units)[:-1]
    for service, path, role, body in units_only:
        ok(d.post(service, path, body, role=role, province=province, **demo.claims(role, body, units)))
    return {"campaign_id": campaign["id"], **units}


def register_exemplar(d: Driver, province: str, setup: dict) -> str:
    service, path, role, body = demo.setup_requests(setup["campaign_id"], setup)[-1]
    return ok(d.post(service, path, body, role=role, province=province, **demo.claims(role, body, setup)))["id"]


def step(d: Driver, number: int, province: str, exemplar_id: str, setup: dict) -> Reply:
    _, service, path, role, body = demo.step_requests(exemplar_id, setup)[number - 1]
    return d.post(service, path, body, role=role, province=province, **demo.claims(role, body, setup))


STEP_CALLS = {n: (lambda n: lambda d, p, x, s: step(d, n, p, x, s))(n) for n in range(1, 6)}


def ben_tre_exemplar(d: Driver, province: str = VINH_LONG, key: bytes = b"") -> dict:
    """All five steps through the owning services, then the appraisal and decision upward, then the audit."""
    setup = exemplar_setup(d, province)
    exemplar_id = register_exemplar(d, province, setup)
    for step in range(1, 6):
        ok(STEP_CALLS[step](d, province, exemplar_id, setup))
        d.settle()
    recognition = audit(d, exemplar_id, province, key)
    nomination_id = next(e["data"]["nomination_id"] for e in recognition.events
                         if e["type"] == "awards.exemplar.recognised")
    n = ok(d.get("awards", f"/nominations/{nomination_id}", province=province), 200)
    assert n["target_level"] == "province" and n["kind"] == "thematic"  # trình cấp trên
    ok(appraise(d, province, nomination_id))
    ok(decide(d, province, nomination_id, "321/QĐ-UBND", "2025-10-20"))
    d.settle()
    story = audit(d, exemplar_id, province, key)
    assert story.verified, story.problems
    steps = [e["type"] for e in story.events]
    for step_type in ("registration.exemplar.selected", "notifications.exemplar.publicised",
                      "registration.exemplar.learning_organised", "evaluation.exemplar.reviewed",
                      "awards.exemplar.recognised", "awards.nomination.submitted", "awards.award.decided"):
        assert step_type in steps, steps
    by_id = {e["id"]: e for e in story.events}
    chain = [e for e in story.events if e["type"] in {
        "registration.exemplar.selected", "notifications.exemplar.publicised",
        "registration.exemplar.learning_organised", "evaluation.exemplar.reviewed", "awards.exemplar.recognised"}]
    assert [by_id[e["causationid"]]["type"] for e in chain] == [
        "registration.exemplar.registered", "registration.exemplar.selected", "notifications.exemplar.publicised",
        "registration.exemplar.learning_organised", "evaluation.exemplar.reviewed"]
    return {"exemplar_id": exemplar_id, "setup": setup, "story": story, "nomination_id": nomination_id}


# -- the audit of a case: one registration's story through the four services ---------------------
CASE_STORY = ["registration.participant.registered", "evaluation.registration.evaluated",
              "awards.nomination.submitted", "awards.nomination.escalated", "awards.nomination.appraised",
              "awards.award.decided"]


def case_audit(d: Driver, correlation_id: str, province: str, key: bytes = b""):
    from shared.audit import gather_case
    answers = [ok(d.get(service, f"/cases/{correlation_id}/audit", role="operator", province=province), 200)
               for service in ("registration", "evaluation", "awards", "notifications")]
    return gather_case(correlation_id, answers, key)


def case_from_registration_to_notification(d: Driver, key: bytes = b"") -> dict:
    """A teacher of Mỹ Hòa registered, evaluated, nominated to the district and escalated to the
    province, appraised, decided, and everyone concerned notified; then the case's audit: one
    correlation id in all four services, every event caused by the one before it."""
    from shared import cases
    p = HUNG_YEN
    cid = launch(d, p, title="Đổi mới sáng tạo trong giảng dạy năm 2024", kind="thematic",
                 issuer="Phòng GD&ĐT thị xã Mỹ Hòa", issuer_level="office", registration_deadline="2024-04-30",
                 deadlines={"nominations": "2024-05-18"}, target_groups=["teacher"],
                 award_plan=[{"award": "bang_khen_chu_tich_tinh", "applies_to": "both", "max": 15}])["id"]
    set_id = uid("case-teacher")
    criteria_set(d, p, set_id, "Tiêu chí lựa chọn — giáo viên", ["teacher"], MY_HOA_CRITERIA["teacher"],
                 "Kế hoạch phát động phong trào thi đua của Phòng GD&ĐT Mỹ Hòa, mục III.4")
    rid = ok(register(d, p, cid, individual("teacher", "Nguyễn Thị Hồ Sơ"), on="2024-04-20"))["id"]
    d.settle()
    ok(evaluate(d, p, rid, set_id, MY_HOA_EVIDENCE["teacher"]))
    d.settle()
    nomination = ok(nominate(d, p, cid, rid, "bang_khen_chu_tich_tinh", on="2024-05-15"))
    ok(appraise(d, p, nomination["id"]))
    ok(decide(d, p, nomination["id"], "2024/QĐ-UBND", "2024-06-01"))
    d.settle()
    correlation_id = cases.correlation(rid)
    case = case_audit(d, correlation_id, p, key)
    assert case.verified, case.problems
    assert [e["type"] for e in case.events] == CASE_STORY
    assert {e["correlationid"] for e in case.events} == {correlation_id}
    by_id = {e["id"]: e for e in case.events}
    assert case.events[0]["causationid"] not in by_id  # the registration was caused by its command
    assert [by_id[e["causationid"]]["type"] for e in case.events[1:]] == CASE_STORY[:-1]
    told = {by_id[n["event_id"]]["type"] for n in case.notified}
    assert "awards.award.decided" in told and "awards.nomination.submitted" in told, case.notified
    return {"registration_id": rid, "correlation_id": correlation_id, "case": case,
            "nomination_id": nomination["id"]}
