"""The pages for everyone, in Chromium on the real stack: a teacher awarded by the demo people
(over HTTP, as the other roles' pages would) is on the public page and found by the look-up
without signing in, typed without marks; the unit head who proposed her reads the appraisal
in her inbox."""
from __future__ import annotations

import uuid

import pytest

from tests.browser.conftest import screenshot
from tests.e2e.test_trust_on_the_stack import CRITERIA, Person, ok

SCHOOL = "Trường THPT Lưu Văn Liệt"


@pytest.fixture(scope="module")
def awarded(stack):
    """A teacher of a fresh campaign taken to a province's Bằng khen; her name and decision number."""
    hung, mai, tam, chau = (Person(stack, u) for u in ("hung.nv", "mai.tt", "tam.lv", "chau.pm"))
    tag = uuid.uuid4().hex[:4]
    name, number = f"Nguyễn Thị Ngọc Hân {tag}", f"{int(tag, 16) % 900 + 100}/QĐ-UBND"
    made = ok(hung.post("registration", "/campaigns", {
        "title": f"Phong trào «Dạy tốt, học tốt» {tag}", "kind": "yearly", "period_start": "2024-04-01",
        "period_end": "2025-05-31", "registration_deadline": "2024-05-15",
        "award_plan": [{"award": "bang_khen_chu_tich_tinh", "max": 10}]}))
    rid = ok(mai.post("registration", f"/campaigns/{made['id']}/registrations", {
        "participant": {"participant_id": f"gv-{tag}-{uuid.uuid4().hex[:6]}", "kind": "individual",
                        "individual_kind": "teacher", "name": name, "unit": SCHOOL,
                        "unit_id": "thpt-luu-van-liet"},
        "pledges": [{"content": "Có sáng kiến được công nhận", "start": "2024-04-20", "end": "2025-05-31"}]}))["id"]
    set_id = f"gv-{tag}"
    ok(tam.post("evaluation", "/criteria-sets", {"id": set_id, "name": "Tiêu chí giáo viên", "applies_to": ["teacher"],
                                                 "source": "Kế hoạch của Sở", "criteria": CRITERIA}))
    ok(tam.post("evaluation", "/evaluations", {"registration_id": rid, "criteria_set_id": set_id,
                                               "evidence": {"sang_kien": 2}}))
    nomination = ok(mai.post("awards", "/nominations", {
        "campaign_id": made["id"], "registration_id": rid, "award": "bang_khen_chu_tich_tinh",
        "dossier": {"submission_letter": "Tờ trình 12", "achievement_report": "Báo cáo thành tích"}}))
    ok(tam.post("awards", f"/nominations/{nomination['id']}/appraisal", {"outcome": "approved",
                                                                         "reason": "Đủ tiêu chuẩn"}))
    ok(chau.post("awards", f"/nominations/{nomination['id']}/decision", {"decision_number": number}))
    return name, number


def test_the_public_page_lists_the_award_without_signing_in(page, awarded):
    name, number = awarded
    page.goto("/")
    page.get_by_role("link", name="Công khai").first.click()
    decided = page.locator("#bang-decided")
    decided.get_by_text(name).wait_for()  # the notifications worker may still be on its way: Playwright waits
    row = decided.locator("tr", has_text=name)
    assert "Bằng khen" in row.inner_text() and number in row.inner_text()
    screenshot(page, "cong-khai")


def test_the_look_up_finds_her_by_a_name_typed_without_marks_and_shows_her_history(page, awarded):
    name, number = awarded
    page.goto("/")
    page.get_by_role("link", name="Tra cứu").first.click()
    tag = name.rsplit(" ", 1)[1]
    page.get_by_label("Họ tên hoặc tên tập thể").fill(f"nguyen thi ngoc han {tag}")
    page.get_by_label("Đối tượng").select_option(label="Cá nhân")
    page.get_by_role("button", name="Tra cứu").click()
    page.get_by_role("heading", name="Kết quả: 1 người, tập thể").wait_for()
    screenshot(page, "tra-cuu")
    page.get_by_role("link", name=name).click()
    assert page.get_by_role("heading", level=1).inner_text() == name
    row = page.locator("#bang-khen-thuong tbody tr").first.inner_text().split("\t")
    assert row[1].startswith("Bằng khen") and row[2] == number and row[4] == "Tỉnh"


def test_a_look_up_too_short_is_refused_in_the_page_naming_the_field(page):
    page.goto("/tra-cuu")
    page.get_by_label("Họ tên hoặc tên tập thể").fill("a")
    page.get_by_role("button", name="Tra cứu").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "name" in alert.inner_text() and "Độ dài phải từ 2 đến 200" in alert.inner_text()


def test_the_unit_head_reads_the_appraisal_of_her_proposal_in_her_inbox(person, awarded):
    name, _ = awarded
    page = person("mai.tt")
    page.get_by_role("link", name="Hộp thư").first.click()
    mine = page.locator("section", has=page.get_by_role("heading", name="Hộp thư của tôi"))
    mine.get_by_text(name).first.wait_for()
    screenshot(page, "hop-thu")
