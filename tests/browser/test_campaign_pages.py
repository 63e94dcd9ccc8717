"""The department launches a campaign by clicking and typing in Vietnamese, follows it with its
charts, and sees a refused launch with its rule — in Debian's Chromium, on the real stack."""
from __future__ import annotations

import uuid

from tests.browser.conftest import api, screenshot

SCHOOL = "thpt-luu-van-liet"


def fill_campaign(page, title: str, period_end: str = "2025-05-31") -> None:
    page.goto("/")
    page.get_by_role("link", name="Phát động phong trào").click()
    page.get_by_label("Tên phong trào").fill(title)
    page.get_by_label("Loại phong trào").select_option(label="Thường xuyên theo năm học")
    page.get_by_label("Bắt đầu").fill("2024-04-01")
    page.get_by_label("Kết thúc").fill(period_end)
    page.get_by_label("Nội dung thi đua (mỗi dòng một nội dung)").fill(
        "Đổi mới phương pháp dạy học\nXây dựng trường học xanh – sạch – đẹp")
    page.get_by_label("Hạn đăng ký thi đua").fill("2024-05-15")
    page.get_by_label("Hạn gửi hồ sơ đề nghị khen thưởng").fill("2025-05-10")
    page.get_by_label("Giáo viên", exact=True).check()
    page.get_by_label("Tập thể", exact=True).check()
    page.get_by_label("Danh hiệu / hình thức 1").select_option(label="Chiến sĩ thi đua cơ sở")
    page.get_by_label("Tối đa (chỉ tiêu)").first.fill("5")
    page.get_by_label("Giai đoạn 1").fill("2025")
    page.locator("#f-exemplar_targets\\.0\\.kind").select_option(label="Cá nhân")
    page.locator("#f-exemplar_targets\\.0\\.min").fill("2")


def launch_with_a_new_criteria_set(page, stack, title: str, set_name: str) -> None:
    """The council defines a criteria set (over HTTP); the department launches a campaign naming it."""
    api(stack, "tam.lv", "POST", "evaluation", "/criteria-sets", {
        "id": f"gv-{uuid.uuid4().hex[:8]}", "name": set_name, "applies_to": ["teacher"],
        "source": "Kế hoạch của Sở", "criteria": [{"code": "dao_duc", "label": "Đạo đức tốt",
                                                    "kind": "qualitative", "vote_threshold_pct": 50}]})
    fill_campaign(page, title)
    page.get_by_label(set_name).check()
    page.get_by_role("button", name="Phát động phong trào").click()


def test_the_department_launches_a_campaign_and_follows_it_with_its_charts(person, stack):
    page = person("hung.nv")
    title = f"Phong trào «Thầy cô – tấm gương tự học» {uuid.uuid4().hex[:4]}"
    fill_campaign(page, title)
    screenshot(page, "phat-dong-phong-trao")
    page.get_by_role("button", name="Phát động phong trào").click()
    page.get_by_role("heading", level=1, name=title).wait_for()  # after "đang cập nhật", if awards was slow
    cid = page.url.rsplit("/", 1)[1]
    for name in ("Huỳnh Thị Lan", "Trương Văn Nam"):
        api(stack, "mai.tt", "POST", "registration", f"/campaigns/{cid}/registrations", {
            "participant": {"participant_id": f"gv-{uuid.uuid4().hex[:8]}", "name": name, "kind": "individual",
                            "individual_kind": "teacher", "unit": "Trường THPT Lưu Văn Liệt", "unit_id": SCHOOL},
            "pledges": [{"content": "Hoàn thành xuất sắc nhiệm vụ", "start": "2024-04-20", "end": "2025-05-31"}]})
    page.reload()
    figures = page.locator("table.figures td")
    assert figures.first.inner_text() == "2"  # registered
    assert page.get_by_role("img", name="Biểu đồ: Đăng ký thi đua theo thời gian (số liệu ở bảng dưới)").is_visible()
    assert page.locator("#bang-dang-ky tbody tr").first.inner_text().split("\t") == ["20/04/2024", "2", "2"]
    assert page.locator("#bang-chi-tieu tbody tr").first.inner_text().split("\t") == \
        ["Chiến sĩ thi đua cơ sở", "0", "5", "5"]
    assert page.locator("#bang-dien-hinh tbody tr").first.inner_text().split("\t") == ["2025", "Cá nhân", "0", "2", "2"]
    screenshot(page, "theo-doi-phong-trao")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: one column, nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "theo-doi-phong-trao-dien-thoai")
    page.set_viewport_size({"width": 1280, "height": 900})
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX — Báo cáo tổng kết").click()
    assert download.value.suggested_filename.endswith(".xlsx")


def test_a_refused_launch_shows_its_rule_and_keeps_what_was_typed(person):
    page = person("hung.nv")
    title = f"Phong trào ngày kết thúc sai {uuid.uuid4().hex[:4]}"
    fill_campaign(page, title, period_end="2024-03-01")
    page.get_by_role("button", name="Phát động phong trào").click()
    alert = page.get_by_role("alert")
    assert "Thời gian kết thúc phong trào phải sau thời gian bắt đầu" in alert.inner_text()
    assert "campaign.period_order" in alert.inner_text()
    assert page.get_by_label("Tên phong trào").input_value() == title
    assert page.get_by_label("Giáo viên").is_checked()
    assert page.get_by_label("Tối đa (chỉ tiêu)").first.input_value() == "5"
    screenshot(page, "tu-choi-phat-dong")


def test_a_campaign_naming_a_criteria_set_just_defined_is_launched_not_refused(person, stack):
    """The set is defined in evaluation the moment before; registration may hear of it a little later
    (a retryable answer): the page retries, or polls, and ends on the campaign — never an error.
    (Whether the answer was still in flight here depends on the workers' timing; the in-process
    tests make both cases happen for sure.)"""
    page = person("hung.nv")
    tag = uuid.uuid4().hex[:4]
    title = f"Phong trào theo bộ tiêu chí mới {tag}"
    launch_with_a_new_criteria_set(page, stack, title, f"Tiêu chí giáo viên mới {tag}")
    page.get_by_role("heading", level=1, name=title).wait_for(timeout=30_000)
    assert page.get_by_role("alert").count() == 0


def test_while_registration_has_not_heard_of_the_set_the_page_says_it_is_processing_and_polls(person, stack):
    """Registration's worker stopped: the set defined in evaluation cannot reach it, so the launch
    stays retryable. The page shows "Đang xử lý…" and htmx posts again; once the worker is back,
    the poll ends on the new campaign."""
    page = person("hung.nv")
    tag = uuid.uuid4().hex[:4]
    title = f"Phong trào chờ bộ tiêu chí {tag}"
    stack.kill("registration-worker")
    try:
        launch_with_a_new_criteria_set(page, stack, title, f"Tiêu chí chờ {tag}")
        page.get_by_role("heading", name="Đang xử lý…").wait_for()
        screenshot(page, "dang-xu-ly")
        with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/phong-trao/moi")):
            pass  # htmx posts the same form again
    finally:
        stack.start_worker("registration")
    page.get_by_role("heading", level=1, name=title).wait_for(timeout=45_000)
    assert page.url.split("/phong-trao/")[1] != "moi"
