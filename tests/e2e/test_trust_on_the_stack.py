"""End to end, as the demo province's people would: each signs in at the embedded issuer with their
password, then does their part over HTTP on the real stack (Tansu, the issuer, the four services under
gunicorn, their workers), on the real clock. What a token does not say is not believed.
"""
import time
import uuid

import pytest
import requests

from shared import auth, clock
from tests.e2e.test_sign_in_on_the_stack import sign_in, stack  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


class Person:
    """A demo person, signed in once at the issuer."""

    def __init__(self, stack, username: str):
        self.stack, self.username = stack, username
        answer = sign_in(stack, username, f"{username}-86")
        assert answer.status_code == 200, answer.text
        self.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def call(self, method, service, path, body=None, retry_s=30.0):
        """One request; an answer that the previous step is still in flight (retryable) is asked again."""
        deadline = time.monotonic() + retry_s
        while True:
            r = requests.request(method, self.stack.url(service) + path, json=body, headers=self.headers, timeout=30)
            if r.status_code == 409 and r.json().get("retryable") and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            return r.status_code, r.json()

    def post(self, service, path, body):
        return self.call("POST", service, path, body)

    def get(self, service, path):
        return self.call("GET", service, path)


def ok(answer, status=201):
    code, body = answer
    assert code == status, (code, body)
    return body


def until(fetch, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        value = fetch()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


CRITERIA = [{"code": "sang_kien", "label": "Có ít nhất 1 sáng kiến", "kind": "quantitative",
             "metric": "initiatives", "comparison": ">=", "threshold": 1}]
PLEDGES = [{"content": "Có sáng kiến được công nhận", "start": "2026-09-05", "end": "2027-05-31"}]


def teacher(pid="lan.ht"):
    return {"participant_id": pid, "kind": "individual", "individual_kind": "teacher",
            "name": "Huỳnh Thị Lan", "unit": "Trường THPT Lưu Văn Liệt"}


def campaign(department, **over):
    return ok(department.post("registration", "/campaigns", {
        "title": f"Dạy tốt, học tốt {uuid.uuid4().hex[:4]}", "kind": "yearly", "period_start": "2026-09-01",
        "period_end": "2027-05-31", "registration_deadline": "2027-01-31",
        "award_plan": [{"award": "bang_khen_chu_tich_tinh", "max": 15}], **over}))


def test_the_signed_in_people_take_a_teacher_from_registration_to_award_and_back(stack):
    hung, mai, tam, chau, lan = (Person(stack, u) for u in ("hung.nv", "mai.tt", "tam.lv", "chau.pm", "lan.ht"))
    made = campaign(hung)
    assert (made["issuer"], made["issuer_level"]) == ("Sở Giáo dục và Đào tạo Vĩnh Long", "department")
    rid = ok(mai.post("registration", f"/campaigns/{made['id']}/registrations",
                      {"participant": teacher(), "pledges": PLEDGES}))["id"]
    set_id = f"gv-{uuid.uuid4().hex[:6]}"
    ok(tam.post("evaluation", "/criteria-sets", {"id": set_id, "name": "Tiêu chí giáo viên", "applies_to": ["teacher"],
                                                 "source": "Kế hoạch của Sở", "criteria": CRITERIA}))
    assert ok(tam.post("evaluation", "/evaluations", {"registration_id": rid, "criteria_set_id": set_id,
                                                      "evidence": {"sang_kien": 2}}))["passed"]
    nomination = ok(mai.post("awards", "/nominations", {
        "campaign_id": made["id"], "registration_id": rid, "award": "bang_khen_chu_tich_tinh",
        "dossier": {"submission_letter": "TTr 12", "achievement_report": "Báo cáo thành tích"}}))
    assert nomination["target_level"] == "province" and nomination["proposer_unit"]  # climbed from the school
    ok(tam.post("awards", f"/nominations/{nomination['id']}/appraisal", {"outcome": "approved", "reason": "Đủ tiêu chuẩn"}))
    # the Sở's director holds department authority: a province's award is not his to decide
    son = Person(stack, "son.vt")
    code, body = son.post("awards", f"/nominations/{nomination['id']}/decision", {"decision_number": "9/QĐ-SGDĐT"})
    assert code in (403, 409) and body["rule"] in ("decision.addressee", "authority.competence"), body
    decided = ok(chau.post("awards", f"/nominations/{nomination['id']}/decision", {"decision_number": "123/QĐ-UBND"}))
    assert decided["status"] == "decided"
    assert decided["decision_date"] == clock.today(clock.SystemClock()).isoformat()  # dated by the server

    mine = until(lambda: [m for m in ok(lan.get("notifications", "/inbox"), 200) if "123/QĐ-UBND" in m["body"]])
    assert mine, "the teacher was not told"
    code, refused = hung.get("notifications", "/inbox/lan.ht")  # the department is not the teacher
    assert code == 403 and refused["rule"] == "notifications.inbox_reader"

    [given] = ok(hung.get("awards", "/history/lan.ht"), 200)
    assert given["decision_number"] == "123/QĐ-UBND"
    ok(chau.post("awards", f"/awards/{given['id']}/revocation",
                 {"reason": "Hồ sơ khai không đúng sự thật", "decision_number": "124/QĐ-UBND"}))
    assert ok(hung.get("awards", "/history/lan.ht"), 200) == []  # a revoked award is gone from history
    quotas = ok(hung.get("awards", f"/campaigns/{made['id']}/quotas"), 200)
    assert [q["used"] for q in quotas] == [0]  # and its quota place is open again


def test_what_a_body_says_of_its_caller_or_its_date_is_not_believed(stack):
    hung, mai = Person(stack, "hung.nv"), Person(stack, "mai.tt")
    code, body = hung.post("registration", "/campaigns", {
        "title": "Phong trào tự khai cấp tỉnh", "kind": "yearly", "issuer_level": "province",
        "period_start": "2026-09-01", "period_end": "2027-05-31", "registration_deadline": "2027-01-31"})
    assert code == 403 and body["rule"] == "auth.claims" and "issuer_level" in body["errors"], body
    closed = campaign(hung, registration_deadline="2026-11-30")  # the deadline has passed, by the server's clock
    back_dated = mai.post("registration", f"/campaigns/{closed['id']}/registrations",
                          {"participant": teacher(f"gv-{uuid.uuid4().hex[:6]}"), "pledges": PLEDGES,
                           "registered_on": "2026-11-01"})
    assert back_dated[0] == 422 and "registered_on" in back_dated[1]["errors"]["json"], back_dated
    late = mai.post("registration", f"/campaigns/{closed['id']}/registrations",
                    {"participant": teacher(f"gv-{uuid.uuid4().hex[:6]}"), "pledges": PLEDGES})
    assert late[0] == 409 and late[1]["rule"] == "registration.deadline", late
    elsewhere = {**teacher(f"gv-{uuid.uuid4().hex[:6]}"), "unit_id": "thpt-chuyen-nguyen-binh-khiem"}
    code, body = mai.post("registration", f"/campaigns/{campaign(hung)['id']}/registrations",
                          {"participant": elsewhere, "pledges": PLEDGES})
    assert code == 403 and body["rule"] == "auth.unit_scope", body  # another school is not hers


def test_two_provinces_each_have_their_own_unit_of_the_same_id(stack):
    hung = Person(stack, "hung.nv")
    hung_yen = {"Authorization": "Bearer " + auth.mint(stack.secret, "sgd-hy", "department", ["33"],
                                                       unit_level="department", name="Sở GD&ĐT Hưng Yên")}
    r = requests.post(f"{stack.url('registration')}/units", headers=hung_yen, timeout=10,
                      json={"id": "so-gddt-vinh-long", "name": "Sở GD&ĐT Hưng Yên", "kind": "department"})
    assert r.status_code == 201, r.text  # no 409 that would tell Hưng Yên about Vĩnh Long's unit
    assert ok(hung.get("registration", "/units/so-gddt-vinh-long"), 200)["name"] == "Sở Giáo dục và Đào tạo Vĩnh Long"
    mine = requests.get(f"{stack.url('registration')}/units/so-gddt-vinh-long", headers=hung_yen, timeout=10).json()
    assert mine["name"] == "Sở GD&ĐT Hưng Yên"
