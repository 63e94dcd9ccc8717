"""Signing in and out in a real browser, on the real stack: the demo people at the issuer."""
from __future__ import annotations

from tests.browser.conftest import screenshot, sign_in


def test_a_wrong_password_is_refused_in_the_page_and_keeps_the_name(page):
    sign_in(page, "hung.nv", "sai-mat-khau")
    alert = page.get_by_role("alert")
    assert "Sai tên đăng nhập hoặc mật khẩu" in alert.inner_text()
    assert page.get_by_label("Tên đăng nhập").input_value() == "hung.nv"
    assert page.get_by_label("Mật khẩu").input_value() == ""


def test_the_department_signs_in_sees_its_home_page_and_signs_out(page):
    page.goto("/")
    screenshot(page, "trang-chao")
    sign_in(page, "hung.nv")
    assert page.get_by_role("heading", level=1).inner_text() == "Xin chào Nguyễn Văn Hùng"
    assert page.get_by_role("heading", name="Công việc của Sở/Phòng GD&ĐT").is_visible()
    screenshot(page, "trang-chu-so")
    page.get_by_role("button", name="Đăng xuất").click()
    assert "Đã đăng xuất" in page.get_by_role("status").first.inner_text()
    page.goto("/")
    assert page.get_by_role("link", name="Đăng nhập").first.is_visible()


def test_the_skip_link_is_the_first_stop_of_the_keyboard(page):
    page.goto("/dang-nhap")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Bỏ qua, đến nội dung chính"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "noi-dung"


def test_make_run_prints_the_web_address_and_every_demo_person_with_a_password_that_works(stack, page):
    from identity import demo
    from shared.stack import banner
    printed = banner(stack)
    assert f"web (trang web) {stack.web_url}" in printed and f"{stack.web_url}/dang-nhap" in printed
    for user in demo.USERS:
        assert f"{user.username:<10} {user.password:<14} {user.role:<12}" in printed
    sign_in(page, demo.USERS[-1].username, demo.USERS[-1].password)
    assert page.get_by_role("heading", level=1).inner_text() == f"Xin chào {demo.USERS[-1].name}"
