"""One seeded campaign of Vĩnh Long, driven through the four services as their users would.

All the seeding is here, in one function. Who acts is in each call's token (unit, level,
authority); every date is the server's clock, moved to the day of each step.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from tests.unit.conftest import System, token

P = "86"  # Vĩnh Long
TEACHER = "Trần Thị Bích"
SCHOOL = "Trường THCS Nguyễn Đình Chiểu"
BANG_KHEN = "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"
CSTDCS = "Chiến sĩ thi đua cơ sở"
TITLE = "Phong trào thi đua «Dạy tốt, học tốt» năm học 2023–2024"


@dataclass
class Seeded:
    campaign_id: str
    ids: dict[str, str] = field(default_factory=dict)  # participant name -> registration id


def call(system: System, method: str, service: str, path: str, body: dict | None = None,
         role: str = "department", province: str = P, **claims):
    r = system.client(service).open(path, method=method, json=body, headers=token(role, (province,), **claims))
    return r.status_code, r.get_json(silent=True)


def ok(answer, status: int = 201):
    code, body = answer
    assert code == status, (code, body)
    return body


TEACHER_CRITERIA = [
    {"code": "dao_duc", "label": "Có phẩm chất đạo đức tốt, được tập thể tín nhiệm", "kind": "qualitative",
     "vote_threshold_pct": 50},
    {"code": "xep_loai", "label": "Hoàn thành tốt nhiệm vụ trở lên", "kind": "quantitative", "metric": "rating",
     "comparison": "in", "threshold": ["hoan_thanh_tot", "hoan_thanh_xuat_sac"]},
    {"code": "sang_kien", "label": "Có sáng kiến được công nhận", "kind": "quantitative", "metric": "initiatives",
     "comparison": ">=", "threshold": 1}]
TEACHER_EVIDENCE = {"dao_duc": {"judgement": "pass", "votes_for": 9, "members_total": 11},
                    "xep_loai": "hoan_thanh_xuat_sac", "sang_kien": 2}
COLLECTIVE_CRITERIA = [{"code": "xep_loai", "label": "Hoàn thành xuất sắc nhiệm vụ", "kind": "quantitative",
                        "metric": "rating", "comparison": "in", "threshold": ["hoan_thanh_xuat_sac"]}]
STUDENT_CRITERIA = [{"code": "giai_thuong", "label": "Đoạt giải cấp tỉnh trở lên", "kind": "quantitative",
                     "metric": "prizes_provincial_or_higher", "comparison": ">=", "threshold": 1}]


def seed(system: System) -> Seeded:
    """Six registered (one withdrawn), five evaluated (four passed), four nominated, three decided
    (two Bằng khen, one Chiến sĩ thi đua cơ sở), one approved awaiting its decision, one exemplar."""
    tag = uuid.uuid4().hex[:6]
    root, school = f"so-vl-{tag}", f"thcs-ndc-{tag}"
    department = {"unit": root, "unit_level": "department", "name": "Sở Giáo dục và Đào tạo tỉnh Vĩnh Long"}
    head = {"role": "unit_head", "unit": school, "unit_level": "school"}
    system.clock.set("2024-04-20")
    ok(call(system, "POST", "registration", "/units", {"id": root, "name": "Sở Giáo dục và Đào tạo tỉnh Vĩnh Long", "kind": "department"},
            **department))
    ok(call(system, "POST", "registration", "/units", {"id": school, "name": SCHOOL, "kind": "school",
                                                       "parent_id": root}, **department))
    cid = ok(call(system, "POST", "registration", "/campaigns", {
        "title": TITLE, "kind": "yearly", "period_start": "2023-09-05", "period_end": "2024-12-31",
        "registration_deadline": "2024-04-30",
        "deadlines": {"nominations": "2024-05-18", "preliminary_report": "2024-07-15", "final_report": "2024-12-20"},
        "target_groups": ["collective", "manager", "teacher", "staff", "student"],
        "award_plan": [{"award": "bang_khen_chu_tich_tinh", "applies_to": "both", "max": 3},
                       {"award": "chien_si_thi_dua_co_so", "applies_to": "individual", "max": 5}],
        "exemplar_targets": [{"phase": "2024", "kind": "collective", "min": 1},
                             {"phase": "2024", "kind": "individual", "min": 2}]}, **department))["id"]
    sets = {}
    for group, applies, criteria in (("gv", ["teacher", "manager"], TEACHER_CRITERIA),
                                     ("tt", ["collective"], COLLECTIVE_CRITERIA), ("hs", ["student"], STUDENT_CRITERIA)):
        sets[group] = f"vl-{group}-{tag}"
        ok(call(system, "POST", "evaluation", "/criteria-sets", {
            "id": sets[group], "name": f"Tiêu chí bình xét ({group})", "applies_to": applies, "criteria": criteria,
            "source": "Kế hoạch thi đua của Sở GD&ĐT Vĩnh Long"}, role="council"))
    people = [("teacher", TEACHER), ("manager", "Nguyễn Văn Đức"), ("teacher", "Lê Thị Hồng Nhung"),
              ("student", "Phạm Minh Khôi"), ("collective", SCHOOL), ("staff", "Võ Văn Tùng")]
    seeded = Seeded(cid)
    for group, name in people:
        who = {"participant_id": f"{group}-{uuid.uuid4().hex[:8]}", "name": name, "unit": SCHOOL, "unit_id": school,
               **({"kind": "collective"} if group == "collective"
                  else {"kind": "individual", "individual_kind": group})}
        seeded.ids[name] = ok(call(system, "POST", "registration", f"/campaigns/{cid}/registrations", {
            "participant": who,
            "pledges": [{"content": "Hoàn thành xuất sắc nhiệm vụ năm học", "start": "2023-09-05",
                         "end": "2024-05-31"}]}, **head))["id"]
    ok(call(system, "POST", "registration", f"/registrations/{seeded.ids['Võ Văn Tùng']}/withdrawal",
            {"reason": "Chuyển công tác"}, **head))
    system.drain()

    system.clock.set("2024-05-10")
    evaluations = [(TEACHER, "gv", TEACHER_EVIDENCE), ("Nguyễn Văn Đức", "gv", TEACHER_EVIDENCE),
                   ("Lê Thị Hồng Nhung", "gv", TEACHER_EVIDENCE), (SCHOOL, "tt", {"xep_loai": "hoan_thanh_xuat_sac"}),
                   ("Phạm Minh Khôi", "hs", {"giai_thuong": 0})]
    for name, group, evidence in evaluations:
        ok(call(system, "POST", "evaluation", "/evaluations", {
            "registration_id": seeded.ids[name], "criteria_set_id": sets[group], "evidence": evidence},
            role="council"))
    system.drain()

    system.clock.set("2024-05-15")
    nominations = {}
    for name, award, minutes in ((TEACHER, "bang_khen_chu_tich_tinh", {"members_total": 11, "votes_for": 10}),
                                 ("Lê Thị Hồng Nhung", "bang_khen_chu_tich_tinh", None),
                                 (SCHOOL, "bang_khen_chu_tich_tinh", None),
                                 ("Nguyễn Văn Đức", "chien_si_thi_dua_co_so", {"members_total": 10, "votes_for": 9})):
        dossier = {"submission_letter": "Tờ trình số 12/TTr-SGDĐT", "achievement_report": "Báo cáo thành tích",
                   "council_minutes": minutes and {**minutes, "meeting_date": "2024-05-14"}}
        # the Sở's director proposes: the nomination starts at the department's own authority
        nominations[name] = ok(call(system, "POST", "awards", "/nominations", {
            "campaign_id": cid, "registration_id": seeded.ids[name], "award": award, "dossier": dossier},
            role="unit_head", unit=root, unit_level="department", authority="department"))["id"]
    for nid in nominations.values():
        ok(call(system, "POST", "awards", f"/nominations/{nid}/appraisal",
                {"outcome": "approved", "reason": "Hồ sơ đầy đủ, đúng tiêu chuẩn"}, role="council"))
    system.clock.set("2024-06-01")
    for i, (name, level, issuer) in enumerate(((TEACHER, "province", "Chủ tịch UBND tỉnh"),
                                               (SCHOOL, "province", "Chủ tịch UBND tỉnh"),
                                               ("Nguyễn Văn Đức", "department", "Giám đốc Sở GD&ĐT"))):
        ok(call(system, "POST", "awards", f"/nominations/{nominations[name]}/decision", {
            "decision_number": f"{100 + i}/QĐ-UBND"}, role="authority", authority=level, name=issuer))
    system.drain()

    exemplar = ok(call(system, "POST", "registration", "/exemplars", {
        "campaign_id": cid, "phase": "2024", "kind": "collective", "participant_id": school, "unit_id": school,
        "achievements": "Dẫn đầu phong trào đổi mới phương pháp dạy học",
        "collective": {"school": SCHOOL, "address": "Phường 1, TP Vĩnh Long", "phone": "0270 3822 123"}},
        **head))["id"]
    ok(call(system, "POST", "registration", f"/exemplars/{exemplar}/selection", {
        "commendation": "Biểu dương điển hình tiên tiến"}, **department))
    system.drain()
    return seeded
