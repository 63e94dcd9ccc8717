"""The pages' plumbing, in process (Flask test client over the in-process system): signing in
and out, CSRF on every form, an expired session back to the sign-in page."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest

from tests.web.conftest import csrf_of, pages_app, sign_in
from tests.web.inprocess import InProcessIssuer, InProcessServiceClient
from web.client import Reply


@pytest.fixture
def issuer():
    return InProcessIssuer()


@pytest.fixture
def browser(system, issuer):
    return pages_app(system, issuer).test_client()


def test_a_person_signs_in_sees_their_roles_work_and_the_cookie_is_httponly_and_lax(browser):
    r = sign_in(browser, "hung.nv")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = browser.get("/").get_data(as_text=True)
    assert "Xin chào Nguyễn Văn Hùng" in home and "Công việc của Sở/Phòng GD&amp;ĐT" in home


def test_a_wrong_password_is_shown_in_the_page_with_the_name_kept_and_no_password(browser):
    r = sign_in(browser, "hung.nv", "sai")
    page = r.get_data(as_text=True)
    assert r.status_code == 401 and 'role="alert"' in page and "Sai tên đăng nhập hoặc mật khẩu" in page
    assert 'value="hung.nv"' in page and 'value="sai"' not in page


def test_a_form_without_its_csrf_token_is_refused_and_nobody_is_signed_in(browser):
    r = browser.post("/dang-nhap", data={"username": "hung.nv", "password": "hung.nv-86"})
    assert r.status_code == 400 and "web.csrf" in r.get_data(as_text=True)
    assert "Xin chào" not in browser.get("/").get_data(as_text=True)


def test_signing_out_revokes_the_token_at_the_issuer(browser, issuer):
    sign_in(browser, "mai.tt")
    home = browser.get("/")
    r = browser.post("/dang-xuat", data={"csrf_token": csrf_of(home)})
    assert r.status_code == 302 and r.headers["Location"] == "/dang-nhap" and len(issuer.revoked) == 1
    assert "Xin chào" not in browser.get("/").get_data(as_text=True)


def test_an_expired_session_goes_back_to_the_sign_in_page_with_a_message(system):
    browser = pages_app(system, InProcessIssuer(ttl_s=1)).test_client()
    sign_in(browser, "hung.nv")
    time.sleep(1.1)
    r = browser.get("/reports/campaigns/x/final.csv")
    assert r.status_code == 302 and r.headers["Location"].startswith("/dang-nhap?next=")
    page = browser.get(r.headers["Location"]).get_data(as_text=True)
    assert "Phiên đăng nhập đã hết hạn" in page


def test_the_sign_in_page_goes_back_only_to_a_page_of_this_site(browser):
    form = browser.get("/dang-nhap?next=https://evil.example/")
    r = browser.post("/dang-nhap", data={"username": "hung.nv", "password": "hung.nv-86",
                                         "next": "//evil.example/", "csrf_token": csrf_of(form)})
    assert r.headers["Location"] == "/"


class AlwaysInFlight(InProcessServiceClient):
    """A service whose answer stays retryable (an event that never comes, for this test)."""

    def get(self, service, path, authorization):
        self.calls = getattr(self, "calls", 0) + 1
        return Reply(409, {"code": 409, "retryable": True, "rule": "campaign.known",
                           "message": "Chưa nhận được phong trào"})


def test_a_read_still_in_flight_after_its_retries_is_the_updating_page_not_an_error(system):
    app = pages_app(system)
    slow = AlwaysInFlight(system)
    app.extensions["web"] = replace(app.extensions["web"], client=slow)
    browser = app.test_client()
    r = browser.get("/cong-khai/86")
    page = r.get_data(as_text=True)
    assert r.status_code == 202 and "Đang cập nhật" in page and 'hx-get="/cong-khai/86"' in page
    assert slow.calls == 4  # the first answer and three retries
