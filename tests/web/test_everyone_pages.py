"""The pages for everyone, in process: the public list and the look-up without signing in (and
with no token sent even when signed in), each person's mailboxes."""
from __future__ import annotations

import re

import pytest

from tests.web.conftest import pages_app, sign_in
from tests.web.seed import BANG_KHEN, SCHOOL, TEACHER


@pytest.fixture
def anyone(system, seeded):
    return pages_app(system).test_client()


def cells(page: str, table_id: str) -> list[list[str]]:
    body = page.split(f'id="{table_id}"')[1].split("</table>")[0].split("<tbody>")[1]
    return [re.findall(r"<td>(.*?)</td>", row, re.S) for row in body.split("</tr>") if "<td>" in row]


def test_the_public_page_lists_what_is_under_appraisal_and_decided_without_signing_in(anyone):
    r = anyone.get("/cong-khai")
    assert r.status_code == 302 and r.headers["Location"] == "/cong-khai/86"
    page = anyone.get("/cong-khai/86").get_data(as_text=True)
    decided = cells(page, "bang-decided")
    assert sorted(row[0] for row in decided) == sorted([TEACHER, SCHOOL, "Nguyễn Văn Đức"])
    assert [row[0] for row in cells(page, "bang-under_appraisal")] == ["Lê Thị Hồng Nhung"]
    mine = next(row for row in decided if row[0] == TEACHER)
    assert mine[2] == BANG_KHEN and "Số 100/QĐ-UBND, ngày 01/06/2024" in mine[4]


@pytest.mark.parametrize("typed", ["tran thi bich", "Trần Thị Bích"])
def test_the_look_up_finds_a_person_typed_with_or_without_marks_and_opens_her_history(anyone, typed):
    page = anyone.get("/tra-cuu", query_string={"name": typed}).get_data(as_text=True)
    found = re.findall(r'<h3><a href="(/tra-cuu/86/[^"]+)">([^<]+)</a></h3>', page)
    assert [name for _, name in found] == [TEACHER] and f"{SCHOOL}" in page
    history = anyone.get(found[0][0]).get_data(as_text=True)
    assert cells(history, "bang-khen-thuong") == [["2024", BANG_KHEN, "100/QĐ-UBND", "01/06/2024", "Tỉnh",
                                                   "Chủ tịch UBND tỉnh"]]


def test_the_look_up_of_units_only_and_an_htmx_search_answers_only_the_results(anyone):
    r = anyone.get("/tra-cuu", query_string={"name": "nguyen", "kind": "collective"}, headers={"HX-Request": "true"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in page
    assert re.findall(r'">([^<]+)</a></h3>', page) == [SCHOOL]


def test_a_look_up_refused_by_the_service_is_shown_with_the_field_and_what_was_typed(anyone):
    r = anyone.get("/tra-cuu", query_string={"name": "a"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and 'role="alert"' in page and "Độ dài phải từ 2 đến 200" in page
    assert 'value="a"' in page and 'aria-invalid="true"' in page
    partial = anyone.get("/tra-cuu", query_string={"name": "a"}, headers={"HX-Request": "true"})
    assert partial.status_code == 200 and 'role="alert"' in partial.get_data(as_text=True)  # htmx swaps a 2xx


def test_nobody_found_and_an_unknown_participant(anyone):
    assert "Không tìm thấy khen thưởng nào" in anyone.get("/tra-cuu?name=khong+co+ai").get_data(as_text=True)
    assert anyone.get("/tra-cuu/86/khong-co").status_code == 404


def test_each_person_reads_their_own_mailbox_and_those_of_their_role(system, seeded):
    def boxes(username):
        client = pages_app(system).test_client()
        sign_in(client, username)
        page = client.get("/hop-thu").get_data(as_text=True)
        return dict(re.findall(r'<h2 id="hop-thu-\d+">([^<]+?) <span class="muted">\((\d+)\)</span>', page)), page

    authority, page = boxes("chau.pm")
    assert authority == {"Hộp thư của tôi": "0", "Hộp thư của cấp có thẩm quyền": "3"}
    assert "Hồ sơ trình cấp trên" in page
    assert set(boxes("hung.nv")[0]) == {"Hộp thư của tôi", "Hộp thư của Sở"}
    assert set(boxes("mai.tt")[0]) == {"Hộp thư của tôi", "Hộp thư của đơn vị"}
    assert set(boxes("lan.ht")[0]) == {"Hộp thư của tôi"}


def test_the_inbox_needs_someone_signed_in(anyone):
    r = anyone.get("/hop-thu")
    assert r.status_code == 302 and r.headers["Location"].startswith("/dang-nhap?next=/hop-thu")
