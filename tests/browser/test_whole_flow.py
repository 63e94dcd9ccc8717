"""The whole flow in a real headless Chromium on the real stack, by clicking and typing in
Vietnamese: the Sở launches a campaign on its page, the school's head registers her teacher and nominates
her, the council evaluates and appraises (returning the dossier once), the head completes it,
a director who lacks the authority is refused with the rule, the provincial chair decides, and
the teacher reads it in her inbox and on the public page; the Sở reads the case's story (Dấu vết hồ sơ).

Services answer through Kafka events, so a page that waits on another service's projection is
loaded again until it shows what was done, as a person would press F5.
"""
from __future__ import annotations

import time
import uuid

from playwright.sync_api import TimeoutError as PlaywrightTimeout, expect

from tests.browser.conftest import screenshot

TEACHER, SCHOOL = "Huỳnh Thị Lan", "Trường THPT Lưu Văn Liệt"
BANG_KHEN = "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"


def launch(person, title: str) -> None:
    """The Sở launches the campaign on its page (W-core's), typing it in as its officer would."""
    hung = person("hung.nv")
    hung.get_by_role("link", name="Phát động phong trào").click()
    hung.get_by_label("Tên phong trào").fill(title)
    hung.get_by_label("Loại phong trào").select_option(label="Thường xuyên theo năm học")
    hung.get_by_label("Bắt đầu").fill("2023-09-05")
    hung.get_by_label("Kết thúc").fill("2024-05-31")
    hung.get_by_label("Nội dung thi đua (mỗi dòng một nội dung)").fill("Đổi mới phương pháp dạy học")
    hung.get_by_label("Hạn đăng ký thi đua").fill("2024-04-30")
    hung.get_by_label("Hạn gửi hồ sơ đề nghị khen thưởng").fill("2024-05-18")
    hung.get_by_role("group", name="Đối tượng thi đua").get_by_role("checkbox", name="Giáo viên", exact=True).check()
    hung.get_by_label("Danh hiệu / hình thức 1").select_option(label=BANG_KHEN)
    hung.get_by_label("Tối đa (chỉ tiêu)").first.fill("15")
    hung.get_by_role("button", name="Phát động phong trào").click()
    hung.get_by_role("heading", level=1, name=title).wait_for()


def until(page, shown, timeout_s: float = 30.0) -> None:
    """Reload ``page`` until ``shown()`` (a locator) is visible: another service's answer on its way."""
    deadline = time.monotonic() + timeout_s
    while not shown().count():
        assert time.monotonic() < deadline, f"{page.url} never showed it"
        time.sleep(0.5)
        page.reload()


def done(page, text: str) -> None:
    """The page says, in its status note, that the command was done (else: what it said instead)."""
    note = page.get_by_role("status").filter(has_text=text).first
    try:
        note.wait_for(timeout=45_000)  # a step still in flight: the page sends it again by itself
    except PlaywrightTimeout:
        raise AssertionError(f"{page.url} did not say {text!r}: {page.locator('main').inner_text()}") from None


def test_a_teacher_goes_from_registration_to_her_award_through_the_pages(stack, person, page):
    stack.set_clock("2024-04-20")
    title = f"Phong trào «Dạy tốt, học tốt» {uuid.uuid4().hex[:4]}"
    launch(person, title)

    # the head of the school: her teacher in the unit, registered in the campaign
    mai = person("mai.tt")
    mai.get_by_role("link", name="Đơn vị và thành viên").click()
    mai.wait_for_url("**/don-vi/")
    if not mai.get_by_role("cell", name="lan.ht", exact=True).count():
        mai.get_by_label("Họ và tên").fill(TEACHER)
        mai.get_by_label("Mã cá nhân").fill("lan.ht")
        mai.get_by_label("Chức vụ").fill("Giáo viên Ngữ văn")
        mai.get_by_label("Đối tượng").select_option(label="Giáo viên")
        mai.get_by_label("Giới tính").select_option(label="Nữ")
        mai.get_by_role("button", name="Thêm thành viên").click()
        done(mai, f"Đã thêm {TEACHER}")
    screenshot(mai, "don-vi-thanh-vien")
    mai.get_by_role("link", name=title).click()
    mai.get_by_label("Tập thể, cá nhân đăng ký").select_option(label=f"{TEACHER} — {SCHOOL}")
    mai.get_by_label("Nội dung").first.fill("Có sáng kiến kinh nghiệm được Hội đồng khoa học cấp tỉnh công nhận")
    mai.get_by_label("Lĩnh vực").fill("Đổi mới phương pháp dạy học")
    mai.get_by_role("button", name="Thêm nội dung").click()  # htmx: one more row, left empty
    expect(mai.locator("textarea[name=pledge_content]")).to_have_count(2)
    mai.get_by_role("button", name="Đăng ký thi đua").click()
    done(mai, f"Đã đăng ký thi đua cho {TEACHER}")
    campaign_page = mai.url
    screenshot(mai, "don-vi-dang-ky-thi-dua")

    # the council: a criteria set, then the teacher's evaluation with its evidence and vote
    tam = person("tam.lv")
    tam.get_by_role("link", name="Bình xét và thẩm định").click()
    tam.get_by_role("link", name="Định nghĩa bộ tiêu chí").click()
    set_id = f"gv-{uuid.uuid4().hex[:6]}"
    tam.get_by_label("Tên bộ tiêu chí").fill("Tiêu chí bình xét giáo viên")
    tam.get_by_label("Mã bộ tiêu chí").fill(set_id)
    tam.get_by_label("Căn cứ").fill("Kế hoạch thi đua năm học 2023–2024 của Sở GD&ĐT Vĩnh Long")
    tam.get_by_label("Giáo viên").check()
    tam.get_by_label("Nội dung tiêu chí").fill("Có ít nhất một sáng kiến được công nhận")
    tam.get_by_label("Mã tiêu chí").fill("sang_kien")
    tam.get_by_label("Chỉ số").fill("initiatives")
    tam.get_by_label("So sánh").select_option(">=")
    tam.get_by_label("Ngưỡng").fill("1")
    tam.get_by_role("button", name="Thêm tiêu chí").click()  # htmx: a second criterion
    tam.get_by_label("Nội dung tiêu chí").nth(1).fill("Có phẩm chất đạo đức tốt, được tập thể tín nhiệm")
    tam.get_by_label("Mã tiêu chí").nth(1).fill("dao_duc")
    tam.get_by_label("Loại").nth(1).select_option("qualitative")
    tam.get_by_label("Tỷ lệ phiếu tán thành").nth(1).fill("80")
    screenshot(tam, "hoi-dong-bo-tieu-chi")
    tam.get_by_role("button", name="Lưu bộ tiêu chí").click()
    done(tam, "Đã lưu bộ tiêu chí")
    tam.get_by_role("link", name=title).click()
    tam.wait_for_url("**/hoi-dong/phong-trao/*")
    until(tam, lambda: tam.get_by_role("link", name=f"Bình xét {TEACHER}"))
    tam.get_by_role("link", name=f"Bình xét {TEACHER}").click()
    if tam.get_by_label("Bộ tiêu chí").input_value() != set_id:
        tam.get_by_label("Bộ tiêu chí").select_option(set_id)  # htmx: that set's evidence fields instead
    tam.locator(f'#evidence[data-set="{set_id}"]').wait_for()
    tam.get_by_label("Minh chứng — Có ít nhất một sáng kiến được công nhận").fill("2")
    tam.get_by_role("radio", name="Đạt", exact=True).check()
    tam.get_by_label("Số phiếu tán thành — Có phẩm chất đạo đức tốt").fill("10")
    tam.get_by_label("Tổng số thành viên hội đồng — Có phẩm chất đạo đức tốt").fill("11")
    tam.get_by_role("button", name="Ghi kết quả bình xét").click()
    done(tam, f"Đã bình xét {TEACHER}: đạt")
    screenshot(tam, "hoi-dong-binh-xet")

    # the head nominates her, with the dossier
    mai.goto(campaign_page)
    until(mai, lambda: mai.get_by_role("link", name=f"Đề nghị khen thưởng {TEACHER}"))
    mai.get_by_role("link", name=f"Đề nghị khen thưởng {TEACHER}").click()
    mai.get_by_label("Danh hiệu, hình thức khen thưởng").select_option(label=BANG_KHEN)
    mai.get_by_label("Tờ trình").fill("Tờ trình số 15/TTr-THPTLVL")
    mai.get_by_label("Báo cáo thành tích").fill("Cô Huỳnh Thị Lan có sáng kiến «Dạy đọc hiểu theo dự án» "
                                                "được áp dụng ở 12 trường trong tỉnh.")
    screenshot(mai, "don-vi-de-nghi-khen-thuong")
    mai.get_by_role("button", name="Gửi đề nghị khen thưởng").click()
    done(mai, "Đã gửi đề nghị khen thưởng")

    # the council returns the dossier to be completed
    tam.goto("/hoi-dong/")
    tam.get_by_role("link", name=title).click()
    tam.get_by_role("link", name=f"Thẩm định hồ sơ {TEACHER}").click()
    tam.get_by_label("Trả lại để đơn vị hoàn thiện hồ sơ").check()
    tam.get_by_label("Lý do, nhận xét").fill("Bổ sung biên bản họp hội đồng thi đua của trường")
    screenshot(tam, "hoi-dong-tham-dinh")
    tam.get_by_role("button", name="Ghi kết quả thẩm định").click()
    done(tam, "Đã thẩm định hồ sơ")

    # the head sees it returned, with the reason, and completes it
    mai.goto(campaign_page)
    expect(mai.get_by_text("Bổ sung biên bản họp hội đồng thi đua của trường")).to_be_visible()
    mai.get_by_role("link", name=f"Bổ sung hồ sơ của {TEACHER}").click()
    expect(mai.get_by_label("Tờ trình")).to_have_value("Tờ trình số 15/TTr-THPTLVL")  # kept, to complete
    mai.get_by_label("Tổng số thành viên hội đồng").fill("11")
    mai.get_by_label("Số phiếu tán thành").fill("10")
    mai.get_by_label("Ngày họp").fill("2024-04-19")
    screenshot(mai, "don-vi-bo-sung-ho-so")
    mai.get_by_role("button", name="Gửi lại hồ sơ").click()
    done(mai, "Đã gửi lại hồ sơ")

    tam.reload()
    tam.get_by_role("link", name=f"Thẩm định hồ sơ {TEACHER}").click()
    tam.get_by_label("Đạt — trình cấp có thẩm quyền quyết định").check()
    tam.get_by_label("Lý do, nhận xét").fill("Hồ sơ đầy đủ, đúng tiêu chuẩn")
    tam.get_by_role("button", name="Ghi kết quả thẩm định").click()
    done(tam, "Đã thẩm định, chờ quyết định")

    # the Sở's director may not confer a provincial chair's Bằng khen: refused, with the rule
    son = person("son.vt")
    son.get_by_role("link", name="Quyết định khen thưởng").click()
    row = son.get_by_role("row").filter(has_text=title)
    row.get_by_label(f"Số quyết định khen thưởng {TEACHER}").fill("9/QĐ-SGDĐT")
    row.get_by_role("button", name="Ký quyết định").click()
    alert = son.get_by_role("alert")
    expect(alert).to_contain_text("Không thực hiện được")
    said = alert.inner_text()
    assert any(rule in said for rule in ("decision.addressee", "authority.competence")), said
    screenshot(son, "tham-quyen-tu-choi")

    # the provincial chair decides, with the decision's number; the date is the server's
    chau = person("chau.pm")
    chau.get_by_role("link", name="Quyết định khen thưởng").click()
    screenshot(chau, "tham-quyen-quyet-dinh")
    row = chau.get_by_role("row").filter(has_text=title)
    row.get_by_label(f"Số quyết định khen thưởng {TEACHER}").fill("123/QĐ-UBND")
    row.get_by_role("button", name="Ký quyết định").click()
    done(chau, "số 123/QĐ-UBND ngày 20/04/2024")

    mai.goto(campaign_page)
    expect(mai.get_by_text("Quyết định số 123/QĐ-UBND ngày 20/04/2024")).to_be_visible()
    screenshot(mai, "don-vi-phong-trao")
    phone = person("mai.tt", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(campaign_page)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot(phone, "don-vi-phong-trao-dien-thoai")

    # the teacher reads it in her inbox; everyone sees it on the public page, signed in or not
    lan = person("lan.ht")
    lan.get_by_role("link", name="Hộp thư").first.click()
    lan.get_by_text("123/QĐ-UBND").first.wait_for()  # the notifications worker may still be on its way
    screenshot(lan, "hop-thu-giao-vien")
    page.goto("/")
    page.get_by_role("link", name="Công khai").first.click()
    row = page.locator("#bang-decided tr", has_text="123/QĐ-UBND").filter(has_text=TEACHER)
    row.first.wait_for()
    expect(row.first).to_contain_text("Bằng khen")

    # the Sở follows the case's story through the four services, checked by each (the gateway holds no key)
    hung = person("hung.nv")
    hung.goto("/phong-trao")
    hung.get_by_role("link", name=title).click()
    hung.get_by_role("link", name=f"Dấu vết hồ sơ của {TEACHER}").click()
    hung.get_by_role("heading", level=1, name="Dấu vết hồ sơ").wait_for()
    expect(hung.locator("#ket-luan")).to_contain_text("Đã kiểm tra")
    for step in ("Đăng ký thi đua (registered)", "Bình xét, đánh giá (evaluated)", "Thẩm định (appraised)",
                 "Quyết định khen thưởng (decided)"):
        expect(hung.get_by_role("heading", name=step).first).to_be_visible()
    screenshot(hung, "dau-vet-ho-so")


def take(page, url: str, typed: dict[str, str], button: str, said: str) -> None:
    """One exemplar step: its page, its fields typed in, its button, the page saying it was recorded."""
    page.goto(url)
    for label, value in typed.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name=button).click()
    done(page, said)


def test_an_exemplar_goes_through_its_five_steps_in_the_pages(stack, person):
    """Each step waits on the event of the one before, owned by another service: the page that
    sends it too early says "Đang xử lý…" and sends it again by itself, it shows no error."""
    stack.set_clock("2024-04-20")
    title = f"Phong trào «Điển hình tiên tiến» {uuid.uuid4().hex[:4]}"
    launch(person, title)
    mai, tam, chau = person("mai.tt"), person("tam.lv"), person("chau.pm")
    mai.get_by_role("link", name="Điển hình tiên tiến").click()
    mai.get_by_label("Phong trào thi đua").select_option(label=title)
    mai.get_by_label("Giai đoạn").fill("2023–2024")
    mai.get_by_label("Tập thể, cá nhân").select_option(label=f"{SCHOOL} (tập thể)")
    mai.get_by_label("Địa chỉ").fill("Phường 1, thành phố Vĩnh Long")
    mai.get_by_label("Điện thoại").fill("0270 3822 123")
    mai.get_by_label("Thành tích tiêu biểu").fill("Dẫn đầu phong trào đổi mới phương pháp dạy học của tỉnh")
    mai.get_by_role("button", name="Đăng ký điển hình").click()
    done(mai, "Đã đăng ký điển hình")
    mai.get_by_label("Nội dung biểu dương").fill("Biểu dương điển hình tiên tiến năm học 2023–2024")
    mai.get_by_role("button", name="Lựa chọn, biểu dương").click()
    done(mai, "Lựa chọn, biểu dương")
    exemplar_page = mai.url

    take(tam, exemplar_page, {"Nội dung tuyên truyền": "Nhân rộng điển hình Trường THPT Lưu Văn Liệt trong toàn tỉnh"},
         "Tuyên truyền điển hình", "Tuyên truyền, nhân rộng")
    take(mai, exemplar_page, {"Ngày tổ chức": "2024-04-20", "Số người tham gia": "45",
                              "Hình thức học tập": "Chuyên đề đổi mới phương pháp dạy học"},
         "Ghi nhận buổi học tập", "Tổ chức học tập")

    tam.goto(exemplar_page)
    tam.get_by_label("Đánh giá của hội đồng").fill("Các tổ chuyên môn học tập và làm theo tích cực")
    first = tam.get_by_role("group", name="Đơn vị đã học tập 1")
    first.get_by_label("Đơn vị").select_option(label=SCHOOL)
    first.get_by_label("Kết quả").select_option(label="Làm theo")
    tam.get_by_label("Tổng số thành viên hội đồng").fill("11")
    tam.get_by_label("Số phiếu tán thành").fill("10")
    tam.get_by_role("button", name="Ghi kết quả bình xét").click()
    done(tam, "Bình xét")

    chau.goto(exemplar_page)
    chau.get_by_label("Mức độ ảnh hưởng, tính lan tỏa").fill("Lan tỏa tới 12 trường trung học phổ thông trong tỉnh")
    chau.get_by_label("Số đơn vị đã nhân rộng").fill("12")
    chau.get_by_role("radio", name="Khen thưởng theo thẩm quyền").check()
    chau.get_by_label("Danh hiệu, hình thức khen thưởng").select_option(label=BANG_KHEN)
    chau.get_by_label("Số quyết định").fill("200/QĐ-UBND")
    chau.get_by_role("button", name="Ghi nhận bước 5").click()
    done(chau, "Khen thưởng, trình cấp trên")
    expect(chau.get_by_text("đã thực hiện")).to_have_count(5)  # step 5 read back from awards: its result, no form
    expect(chau.get_by_text("quyết định số 200/QĐ-UBND")).to_be_visible()
    expect(chau.get_by_role("button", name="Ghi nhận bước 5")).to_have_count(0)
    screenshot(chau, "dien-hinh-nam-buoc")
