"""Set-up the browser tests share, done over HTTP as the demo people (the other roles' pages would
do the same): a teacher of Trường THPT Lưu Văn Liệt, in a fresh campaign, passed by the council."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from tests.e2e.test_trust_on_the_stack import CRITERIA, Person, ok

SCHOOL = "Trường THPT Lưu Văn Liệt"


@dataclass
class Evaluated:
    campaign_id: str
    registration_id: str
    name: str
    tag: str


def evaluated_teacher(stack, name: str, tag: str | None = None) -> Evaluated:
    """A teacher named ``name`` (unique: the stack is shared) registered by the head in a new campaign
    and passed by the council; awards may still be on its way to seeing the evaluation."""
    hung, mai, tam = (Person(stack, u) for u in ("hung.nv", "mai.tt", "tam.lv"))
    tag = tag or uuid.uuid4().hex[:4]
    made = ok(hung.post("registration", "/campaigns", {
        "title": f"Phong trào «Dạy tốt, học tốt» {tag}", "kind": "yearly", "period_start": "2024-04-01",
        "period_end": "2025-05-31", "registration_deadline": "2024-05-15",
        "award_plan": [{"award": "bang_khen_chu_tich_tinh", "max": 10}]}))
    rid = ok(mai.post("registration", f"/campaigns/{made['id']}/registrations", {
        "participant": {"participant_id": f"gv-{tag}-{uuid.uuid4().hex[:6]}", "kind": "individual",
                        "individual_kind": "teacher", "name": name, "unit": SCHOOL,
                        "unit_id": "thpt-luu-van-liet"},
        "pledges": [{"content": "Có sáng kiến được công nhận", "start": "2024-04-20", "end": "2025-05-31"}]}))["id"]
    set_id = f"gv-{tag}-{uuid.uuid4().hex[:4]}"
    ok(tam.post("evaluation", "/criteria-sets", {"id": set_id, "name": "Tiêu chí giáo viên", "applies_to": ["teacher"],
                                                 "source": "Kế hoạch của Sở", "criteria": CRITERIA}))
    ok(tam.post("evaluation", "/evaluations", {"registration_id": rid, "criteria_set_id": set_id,
                                               "evidence": {"sang_kien": 2}}))
    return Evaluated(made["id"], rid, name, tag)
