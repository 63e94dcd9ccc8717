"""The council's ballot in Chromium on the real stack: the council's secretary forms the Sở's council in
its page and adds its members, one of them of the candidate's school; opens the secret ballot on a
teacher, whose page shows that member recused with the reason; a voters' list naming the recused
member is refused with its rule; the counts recorded, the share over the entitled is shown against
the rule's.

This module runs on a stack of its own: once a council is formed in the demo province, a title that
needs a ballot needs the council's, and the whole-flow test (typed minutes, a province without
councils) shares the session's stack.
"""
from __future__ import annotations

import time
import uuid

import pytest

from tests.browser.conftest import screenshot, started_stack
from tests.e2e.test_trust_on_the_stack import Person, ok

SO, SCHOOL = "so-gddt-vinh-long", "thpt-luu-van-liet"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    yield from started_stack(tmp_path_factory, "ballot-stack")


@pytest.fixture(scope="module")
def candidate(stack):
    """A campaign of the Sở and a teacher of the school registered in it, once evaluation has her."""
    hung, mai = Person(stack, "hung.nv"), Person(stack, "mai.tt")
    tag = uuid.uuid4().hex[:4]
    name = f"Lý Thị Thanh Trúc {tag}"
    made = ok(hung.post("registration", "/campaigns", {
        "title": f"Phong trào «Dạy tốt, học tốt» {tag}", "kind": "yearly", "period_start": "2024-04-01",
        "period_end": "2025-05-31", "registration_deadline": "2024-05-15",
        "award_plan": [{"award": "chien_si_thi_dua_co_so", "applies_to": "individual", "max": 10}]}))
    rid = ok(mai.post("registration", f"/campaigns/{made['id']}/registrations", {
        "participant": {"participant_id": f"gv-{tag}-{uuid.uuid4().hex[:6]}", "kind": "individual",
                        "individual_kind": "teacher", "name": name, "unit": "Trường THPT Lưu Văn Liệt",
                        "unit_id": SCHOOL},
        "pledges": [{"content": "Có sáng kiến được công nhận", "start": "2024-04-20", "end": "2025-05-31"}]}))["id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the registration travels to evaluation over Kafka
        code, body = hung.get("evaluation", f"/campaigns/{made['id']}/candidates")
        if code == 200 and any(c["name"] == name for c in body):
            return made, name, rid
        time.sleep(0.3)
    pytest.fail(f"evaluation never learned of {name}")


MEMBERS = [("tam.lv", "Lê Văn Tâm", SO, "Thư ký"), ("mai.tt", "Trần Thị Mai", SCHOOL, "Ủy viên"),
           ("tv-minh", "Phan Văn Minh", SO, "Chủ tịch hội đồng"), ("tv-ngoc", "Đỗ Thị Ngọc", SO, "Ủy viên")]


def test_a_council_is_formed_a_member_of_the_candidates_unit_is_recused_and_the_share_is_shown(person, candidate):
    campaign, name, rid = candidate
    tam = person("tam.lv")
    council_id = f"hd-so-{uuid.uuid4().hex[:6]}"

    tam.goto("/")
    tam.get_by_role("link", name="Hội đồng và bỏ phiếu").click()
    tam.get_by_label("Mã hội đồng").fill(council_id)
    tam.get_by_label("Tên hội đồng").fill("Hội đồng Thi đua – Khen thưởng ngành Giáo dục")
    assert tam.get_by_label("Mã đơn vị của hội đồng").input_value() == SO
    tam.get_by_label("Nhiệm kỳ (năm học)").fill("2023-2024")
    tam.get_by_role("button", name="Thành lập hội đồng").click()
    tam.get_by_role("heading", name="Hội đồng Thi đua – Khen thưởng ngành Giáo dục", level=1).wait_for()

    for person_id, member, unit, position in MEMBERS:
        tam.get_by_label("Mã người (tên đăng nhập)").fill(person_id)
        tam.get_by_label("Họ và tên").fill(member)
        tam.get_by_label("Mã đơn vị công tác").fill(unit)
        tam.get_by_label("Chức danh trong hội đồng").select_option(label=position)
        tam.get_by_role("button", name="Thêm thành viên").click()
        tam.get_by_role("cell", name=member).wait_for()

    tam.get_by_role("link", name=campaign["title"]).click()
    tam.get_by_label(f"Danh hiệu, hình thức cho {name}").select_option("chien_si_thi_dua_co_so")
    tam.get_by_role("button", name=f"Mở bỏ phiếu về {name}").click()
    tam.get_by_role("heading", name=f"Bỏ phiếu về {name}", level=1).wait_for()

    mai_row = tam.get_by_role("row").filter(has=tam.get_by_role("rowheader", name="Trần Thị Mai"))
    assert "Phải rút lui" in mai_row.inner_text() and "thuộc đơn vị của người được xét" in mai_row.inner_text()
    assert tam.locator("#co-quyen").inner_text() == "3"

    # the minutes list the recused member among the voters: refused, with the rule, nothing recorded
    tam.get_by_label("Số phiếu tán thành").fill("3")
    tam.get_by_label("Số phiếu không tán thành").fill("0")
    for _, member, _, _ in MEMBERS:
        tam.get_by_role("checkbox", name=member).check()
    tam.get_by_role("button", name="Ghi kết quả kiểm phiếu").click()
    refusal = tam.get_by_role("alert")
    assert "ballot.recused" in refusal.inner_text() and "Trần Thị Mai" in refusal.inner_text()

    tam.get_by_role("checkbox", name="Trần Thị Mai").uncheck()
    tam.get_by_role("button", name="Ghi kết quả kiểm phiếu").click()
    result = tam.locator("#ti-le")
    result.wait_for()
    assert "3/3" in result.inner_text() and "100%" in result.inner_text()
    assert "Không tính 1 thành viên phải rút lui" in result.inner_text()
    assert "Đạt tỉ lệ" in tam.locator("#dat-ti-le").inner_text() and "80%" in tam.locator("#dat-ti-le").inner_text()
    screenshot(tam, "bo-phieu-hoi-dong")
    tam.set_viewport_size({"width": 390, "height": 844})  # a phone: the table scrolls inside its frame
    assert tam.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(tam, "bo-phieu-hoi-dong-dien-thoai")

    # the unit head's nomination form shows that ballot (once awards has heard of it), not typed minutes
    mai = person("mai.tt")
    nominate = f"/don-vi/phong-trao/{campaign['id']}/de-nghi/{rid}"
    deadline = time.monotonic() + 30
    while True:
        mai.goto(nominate)
        if mai.get_by_text("3/3 (100%)").count() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    counted = mai.get_by_role("region", name="Kết quả bỏ phiếu của hội đồng")
    assert "Chiến sĩ thi đua cơ sở" in counted.inner_text() and "3/3 (100%)" in counted.inner_text()
    assert mai.get_by_label("Tổng số thành viên hội đồng").count() == 0
