"""Browser tests: the real stack (Tansu, the issuer, four services and the web pages under
gunicorn, the demo province seeded) and a real headless Chromium — Debian's ``/usr/bin/chromium``
driven by Playwright, never a downloaded browser.

One stack for the whole session (starting it takes seconds); its clock is the test clock
(``stack.set_clock``), so a test dates its steps. Each test gets a fresh browser context
(its own cookies: nobody is signed in), ``page``; ``person(username)`` gives another page
already signed in, for a test with several people. Screenshots go to docs/screenshots.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.stack import Stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
START_DAY = "2024-04-20"  # the stack's clock when it starts: a school year's registration time


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    s = Stack.on_free_ports(tmp_path_factory.mktemp("browser-stack"), test_clock=True, web_workers=1)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    (s.data_dir / "clock").write_text(START_DAY)
    s.start()
    s.seed_demo()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver (.ci/run does)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        # Playwright gives every launch a fresh temporary user-data dir of its own
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def context(browser, stack):
    ctx = browser.new_context(base_url=stack.web_url, locale="vi-VN", viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def person(browser, stack):
    """``person("hung.nv")``: a page of its own context, signed in through the sign-in page."""
    contexts = []

    def open_as(username: str, password: str | None = None, **context_kw):
        ctx = browser.new_context(base_url=stack.web_url, locale="vi-VN",
                                  **({"viewport": {"width": 1280, "height": 900}} | context_kw))
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        pg = ctx.new_page()
        sign_in(pg, username, password)
        return pg

    yield open_as
    for ctx in contexts:
        ctx.close()


def sign_in(page, username: str, password: str | None = None) -> None:
    """Type the name and password into the sign-in page and press the button, as a person does."""
    page.goto("/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password or f"{username}-86")
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()


def screenshot(page, name: str) -> Path:
    """The page as a file, docs/screenshots/<name>.png (full page): the README shows these."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def api(stack, username: str, method: str, service: str, path: str, json=None):
    """A service called over HTTP as a demo person (signed in at the issuer): for a test to set up
    what another role's pages would do. Returns the decoded body; anything but 2xx fails."""
    import requests
    token = requests.post(f"{stack.identity_url}/oauth/token", timeout=10, data={
        "grant_type": "password", "client_id": "thidua-web", "username": username,
        "password": f"{username}-86"}).json()["access_token"]
    r = requests.request(method, stack.url(service) + path, json=json, timeout=10,
                         headers={"Authorization": f"Bearer {token}"})
    assert r.ok, (r.status_code, r.text)
    return r.json()
