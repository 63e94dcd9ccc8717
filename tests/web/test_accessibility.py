"""What every page must be for everyone: Vietnamese, landmarks, one heading to start from, a
skip link, a label for every input, and colours of at least 4.5:1 — checked on the rendered
pages of each kind, in process; and the vendored htmx is the pinned npm package's own file."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.web.conftest import pages_app, sign_in

WEB = Path(__file__).resolve().parents[2] / "web"
ROOT = WEB.parent


class Page(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.labels_for: set[str] = set()
        self.inside_label = 0
        self.labelled_inline: set[int] = set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "label":
            self.inside_label += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        if tag in ("input", "select", "textarea") and self.inside_label:
            self.labelled_inline.add(len(self.tags) - 1)

    def handle_endtag(self, tag):
        if tag == "label":
            self.inside_label -= 1

    def unlabelled(self) -> list[dict]:
        return [a for i, (tag, a) in enumerate(self.tags)
                if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit")
                and i not in self.labelled_inline and a.get("id") not in self.labels_for
                and not a.get("aria-label")]


@pytest.fixture(scope="module")
def pages(system, seeded):
    anyone = pages_app(system).test_client()
    department = pages_app(system).test_client()
    sign_in(department, "hung.nv")
    found = anyone.get("/tra-cuu?name=tran+thi+bich").get_data(as_text=True)
    history = re.search(r'href="(/tra-cuu/86/[^"]+)"', found).group(1)
    return {
        "đăng nhập": anyone.get("/dang-nhap"), "chào": anyone.get("/"), "công khai": anyone.get("/cong-khai/86"),
        "tra cứu": anyone.get("/tra-cuu?name=tran+thi+bich"), "lịch sử": anyone.get(history),
        "trang chủ": department.get("/"), "hộp thư": department.get("/hop-thu"),
        "phong trào": department.get("/phong-trao"), "phát động": department.get("/phong-trao/moi"),
        "theo dõi": department.get(f"/phong-trao/{seeded.campaign_id}"),
        "từ chối": department.get("/phong-trao/khong-co")}


def test_every_page_is_vietnamese_with_landmarks_one_h1_and_a_skip_link_first(pages):
    for name, r in pages.items():
        html = r.get_data(as_text=True)
        page = Page(html)
        tags = [t for t, _ in page.tags]
        assert '<html lang="vi">' in html, name
        assert tags.count("h1") == 1 and tags.count("main") == 1, name
        assert {"header", "nav", "footer"} <= set(tags), name
        first_link = next(a for t, a in page.tags if t == "a")
        assert first_link.get("href") == "#noi-dung" and ("main", {"id": "noi-dung", "tabindex": "-1"}) in page.tags


def test_every_input_of_every_page_has_its_label(pages):
    for name, r in pages.items():
        assert Page(r.get_data(as_text=True)).unlabelled() == [], name


def test_every_chart_has_a_text_alternative_and_its_table(pages):
    page = Page(pages["theo dõi"].get_data(as_text=True))
    images = [a for t, a in page.tags if t == "img"]
    assert len(images) == 3 and all(a.get("alt", "").startswith("Biểu đồ: ") for a in images)
    tables = {a.get("id") for t, a in page.tags if t == "table"}
    assert {"bang-dang-ky", "bang-chi-tieu", "bang-dien-hinh"} <= tables


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


# (text, background) pairs the stylesheet uses
PAIRS = [("ink", "paper"), ("muted", "paper"), ("brand", "paper"), ("brand-ink", "brand"), ("bad", "bad-soft"),
         ("ink", "bad-soft"), ("ink", "good-soft"), ("ink", "warn-soft"), ("ink", "soft"), ("brand", "soft"),
         ("muted", "soft"), ("focus", "paper")]


def test_the_stylesheets_colours_keep_a_contrast_of_four_and_a_half_to_one():
    css = (WEB / "static" / "site.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    for text, background in PAIRS:
        assert contrast(colours[text], colours[background]) >= 4.5, (text, background)
    assert contrast("#dde8f3", colours["brand"]) >= 4.5  # the header's muted text


def test_the_vendored_htmx_is_the_pinned_npm_packages_file_with_its_licence():
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"]["htmx.org"]
    locked = json.loads((ROOT / "package-lock.json").read_text())["packages"]["node_modules/htmx.org"]["version"]
    vendored = WEB / "static" / "vendor" / f"htmx-{pinned}.min.js"
    assert pinned == locked and f'version:"{pinned}"' in vendored.read_text()
    assert "Zero-Clause BSD" in (WEB / "static" / "vendor" / "htmx-LICENSE.txt").read_text()
    assert f"vendor/htmx-{pinned}.min.js" in (WEB / "templates" / "base.html").read_text()
