"""A person's erasure, written once against :class:`tests.driver.Driver`: the unit tests run it
on the bus, the end-to-end test on the real stack.

A teacher, Lan, is a unit's member, registered with her gender, phone and address, evaluated,
nominated, appraised and decided (Bằng khen), given an e-mail address, and registered as an
exemplar; a colleague, Bình, goes through the same steps. The department erases Lan. Every read
path then shows her as erased and none shows her data; Bình is untouched.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from shared.privacy.personal import ERASED
from tests.driver import Driver
from tests.scenarios import appraise, criteria_set, decide, evaluate, individual, launch, nominate, ok, register

TEACHER_CRITERIA = [{"code": "sang_kien", "label": "Có ít nhất 1 sáng kiến", "kind": "quantitative",
                     "metric": "initiatives", "comparison": ">=", "threshold": 1}]


@dataclass
class Person:
    id: str
    name: str
    phone: str
    email: str
    registration_id: str = ""
    nomination_id: str = ""

    @property
    def secrets(self) -> tuple[str, ...]:
        """What of the person no read path may show once they are erased."""
        return self.name, self.phone, self.email


@dataclass
class Story:
    province: str
    campaign_id: str
    unit_id: str
    exemplar_id: str
    lan: Person
    binh: Person


def _person(tag: str, name: str, phone: str) -> Person:
    return Person(f"{tag}-{uuid.uuid4().hex[:8]}", f"{name} {uuid.uuid4().hex[:4]}", phone,
                  f"{tag}.{uuid.uuid4().hex[:6]}@truong.edu.vn")


def before_erasure(d: Driver, province: str) -> Story:
    lan, binh = _person("lan", "Huỳnh Thị Lan", "0909 111 222"), _person("binh", "Nguyễn Văn Bình", "0909 333 444")
    campaign = launch(d, province, title="Dạy tốt, học tốt 2024", target_groups=["teacher"],
                      deadlines={"nominations": "2024-06-15"},
                      award_plan=[{"award": "bang_khen_chu_tich_tinh", "applies_to": "both", "max": 15}])
    unit_name = f"Trường THPT Lưu Văn Liệt {uuid.uuid4().hex[:4]}"
    unit_id = individual("teacher", "x", unit=unit_name)["unit_id"]
    ok(d.post("registration", "/units", {"id": unit_id, "name": unit_name, "kind": "school"}, province=province))
    set_id = f"gv-{uuid.uuid4().hex[:6]}"
    criteria_set(d, province, set_id, "Tiêu chí giáo viên", ["teacher"], TEACHER_CRITERIA, "Kế hoạch của Sở")
    for p in (lan, binh):
        ok(d.post("registration", f"/units/{unit_id}/members", {
            "person_id": p.id, "name": p.name, "individual_kind": "teacher", "gender": "female"}, province=province))
        ok(d.post("notifications", "/recipients", {"id": p.id, "name": p.name, "email": p.email},
                  role="service", province=province))
        who = individual("teacher", p.name, unit=unit_name, gender="female", phone=p.phone, address="12 Lê Lợi")
        p.registration_id = ok(register(d, province, campaign["id"], {**who, "participant_id": p.id},
                                        on="2024-03-01"))["id"]
    d.settle()
    for p in (lan, binh):
        ok(evaluate(d, province, p.registration_id, set_id, {"sang_kien": 2}, on="2024-05-10"))
    d.settle()
    for i, p in enumerate((lan, binh)):
        p.nomination_id = ok(nominate(d, province, campaign["id"], p.registration_id, "bang_khen_chu_tich_tinh",
                                      on="2024-05-15"))["id"]
        d.settle()
        ok(appraise(d, province, p.nomination_id))
        d.settle()
        ok(decide(d, province, p.nomination_id, f"{700 + i}/QĐ-UBND", "2024-06-01"))
    exemplar = ok(d.post("registration", "/exemplars", {
        "campaign_id": campaign["id"], "phase": "giai đoạn 2024", "kind": "individual", "participant_id": lan.id,
        "unit_id": unit_id, "individual": {"name": lan.name, "position": "Giáo viên", "unit": unit_name,
                                           "phone": lan.phone},
        "achievements": "Sáng kiến dạy học được công nhận cấp tỉnh"}, role="unit_head", province=province,
        unit=unit_id, unit_level="school"))
    d.settle()
    story = Story(province, campaign["id"], unit_id, exemplar["id"], lan, binh)
    seen = read_paths(d, story)
    assert lan.name in seen and binh.name in seen, "before the erasure both are shown"
    return story


def read_paths(d: Driver, s: Story) -> str:
    """Everything the platform's readers are shown about the story, as one text."""
    p, replies = s.province, []

    def get(service, path, **who):
        reply = d.get(service, path, province=p, **who)
        assert reply.status == 200, (service, path, reply)
        replies.append(reply.body)

    get("registration", f"/campaigns/{s.campaign_id}/registrations")
    for person in (s.lan, s.binh):
        get("registration", f"/registrations/{person.registration_id}")
        get("evaluation", f"/evaluations/{person.registration_id}", role="council")
        get("evaluation", f"/candidates/{person.registration_id}", role="council")
        get("awards", f"/history/{person.id}")
        get("awards", f"/nominations/{person.nomination_id}")
        get("notifications", "/inbox", role="participant", subject=person.id)
    get("registration", f"/units/{s.unit_id}")
    get("registration", f"/exemplars/{s.exemplar_id}")
    get("evaluation", f"/campaigns/{s.campaign_id}/candidates", role="council")
    get("awards", f"/campaigns/{s.campaign_id}/nominations")
    get("awards", f"/campaigns/{s.campaign_id}/participants")
    get("notifications", f"/inbox/{s.unit_id}", role="unit_head", unit=s.unit_id, unit_level="school")
    get("notifications", "/deliveries", role="department")
    replies.append(d.get("notifications", f"/public/{p}/commendations", province=p).body)  # công khai
    return json.dumps(replies, ensure_ascii=False)


def erase(d: Driver, s: Story) -> dict:
    return ok(d.post("registration", f"/people/{s.lan.id}/erasure", {"request_reference": "Đơn số 12/2024"},
                     province=s.province))


def after_erasure(d: Driver, s: Story) -> str:
    """Every read path once the erasure has reached every service."""
    d.settle()
    seen = read_paths(d, s)
    for secret in s.lan.secrets:
        assert secret not in seen, f"{secret!r} still shown after the erasure"
    assert ERASED in seen and s.binh.name in seen and s.binh.email in seen
    public = d.get("notifications", f"/public/{s.province}/commendations", province=s.province).body
    assert sorted(r["name"] for r in public["decided"]) == sorted([ERASED, s.binh.name])
    return seen
