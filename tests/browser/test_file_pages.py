"""Dossier files in a real headless Chromium on the real stack: the school's head attaches a PDF to
a nomination by clicking the file field and choosing it (a program renamed .pdf is refused in place,
with its rule, and nothing is added), sends the dossier, and the council sees the file on the appraisal
page and downloads it. The teacher was registered and evaluated over HTTP, as the other roles' pages do.
"""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests import files
from tests.browser.conftest import screenshot
from tests.browser.test_whole_flow import done, until
from tests.browser.people import evaluated_teacher

BANG_KHEN = "Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh"
FIELD = "Chọn tệp để đính kèm"


@pytest.fixture(scope="module")
def evaluated(stack):
    """A teacher of a fresh campaign, registered by the head and passed by the council; her name and
    the head's campaign page."""
    stack.set_clock("2024-04-20")
    teacher = evaluated_teacher(stack, f"Lê Thị Thu Trang {uuid.uuid4().hex[:4]}")
    return teacher.name, f"/don-vi/phong-trao/{teacher.campaign_id}"


def choose(page, path) -> None:
    """Click the labelled file field and choose ``path`` in the file chooser, as a person does."""
    with page.expect_file_chooser() as chooser:
        page.get_by_label(FIELD).click()
    chooser.value.set_files(str(path))


def test_the_head_attaches_a_pdf_by_clicking_and_the_council_downloads_it(person, evaluated, tmp_path):
    name, campaign_page = evaluated
    content = files.pdf("To trinh de nghi khen thuong")
    letter, program = tmp_path / "tờ-trình-khen-thưởng.pdf", tmp_path / "bao-cao.pdf"
    letter.write_bytes(content)
    program.write_bytes(files.exe())

    mai = person("mai.tt")
    mai.goto(campaign_page)
    until(mai, lambda: mai.get_by_role("link", name=f"Đề nghị khen thưởng {name}"))
    mai.get_by_role("link", name=f"Đề nghị khen thưởng {name}").click()
    listed = mai.get_by_role("list", name="các tệp đã đính kèm")

    choose(mai, program)  # a program named .pdf: refused in place with its rule, nothing added
    alert = mai.locator("#tep-ho-so-dinh-kem-loi")
    expect(alert).to_contain_text("Không đính kèm được tệp")
    expect(alert).to_contain_text("documents.type")
    expect(listed.get_by_role("listitem")).to_have_count(0)
    screenshot(mai, "don-vi-tep-bi-tu-choi")

    choose(mai, letter)
    expect(listed.get_by_role("listitem")).to_have_count(1)
    expect(listed).to_contain_text("tờ-trình-khen-thưởng.pdf")
    expect(alert).not_to_contain_text("Không đính kèm được tệp")  # the earlier refusal is cleared
    mai.get_by_label("Danh hiệu, hình thức khen thưởng").select_option(label=BANG_KHEN)
    mai.get_by_label("Tờ trình").fill("Tờ trình số 21/TTr-THPTLVL")
    mai.get_by_label("Báo cáo thành tích").fill("Cô có sáng kiến được áp dụng ở 8 trường trong tỉnh.")
    screenshot(mai, "don-vi-dinh-kem-tep")
    mai.get_by_role("button", name="Gửi đề nghị khen thưởng").click()
    done(mai, "Đã gửi đề nghị khen thưởng")

    tam = person("tam.lv")
    tam.goto(campaign_page.replace("/don-vi/", "/hoi-dong/"))
    until(tam, lambda: tam.get_by_role("link", name=f"Thẩm định hồ sơ {name}"))
    tam.get_by_role("link", name=f"Thẩm định hồ sơ {name}").click()
    file_link = tam.get_by_role("link", name="tờ-trình-khen-thưởng.pdf")
    expect(file_link).to_be_visible()
    screenshot(tam, "hoi-dong-tham-dinh-tep")
    with tam.expect_download() as downloading:
        file_link.click()
    got = downloading.value
    assert got.suggested_filename.endswith(".pdf")
    assert open(got.path(), "rb").read() == content
