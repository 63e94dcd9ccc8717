"""The council's paperwork and reports of a seeded campaign, downloaded from the web gateway:
their figures equal what the services answer, in XLSX, CSV and PDF alike."""
from __future__ import annotations

import re
from collections import Counter
from urllib.parse import unquote

import pytest

from tests.web.conftest import csv_tables, pdf_text, xlsx_tables
from tests.web.seed import BANG_KHEN, CSTDCS, P, TEACHER, TITLE, call, ok
from tests.unit.conftest import token

READERS = {"xlsx": xlsx_tables, "csv": csv_tables}


def download(web, seeded, report: str, fmt: str, province: str | tuple = P, role: str = "department"):
    provinces = (province,) if isinstance(province, str) else province
    return web.get(f"/reports/campaigns/{seeded.campaign_id}/{report}.{fmt}", headers=token(role, provinces))


def tables(web, seeded, report: str, fmt: str) -> dict[str, list[dict]]:
    r = download(web, seeded, report, fmt)
    assert r.status_code == 200, r.get_json(silent=True)
    return READERS[fmt](r.data)


def services(system, seeded, service: str, path: str):
    return ok(call(system, "GET", service, path.format(cid=seeded.campaign_id)), 200)


# -- the preliminary and final reports: the figures ---------------------------------------------
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("report", ["preliminary", "final"])
def test_the_reports_count_what_the_services_answer(system, seeded, web, report, fmt):
    got = tables(web, seeded, report, fmt)
    registrations = [r for r in services(system, seeded, "registration", "/campaigns/{cid}/registrations")
                     if r["status"] != "withdrawn"]
    candidates = services(system, seeded, "evaluation", "/campaigns/{cid}/candidates")
    nominations = services(system, seeded, "awards", "/campaigns/{cid}/nominations")
    expected = {"Đăng ký thi đua": registrations,
                "Đã bình xét": [c for c in candidates if c["status"] in ("passed", "failed")],
                "Đạt tiêu chuẩn": [c for c in candidates if c["status"] == "passed"],
                "Được đề nghị khen thưởng": nominations,
                "Được khen thưởng": [n for n in nominations if n["status"] == "decided"]}
    totals = {row["Chỉ tiêu"]: row for row in got["tong_hop"]}
    for label, rows in expected.items():
        kinds = Counter(r["participant_kind"] for r in rows)
        assert (totals[label]["Tập thể"], totals[label]["Cá nhân"], totals[label]["Tổng số"]) == \
            (kinds["collective"], kinds["individual"], len(rows)), label
    # the seed: six registered, one withdrawn; five evaluated, four passed; four nominated, three decided
    assert [totals[k]["Tổng số"] for k in expected] == [5, 5, 4, 4, 3]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_report_counts_per_title_per_kind_and_the_quota_used(system, seeded, web, fmt):
    got = tables(web, seeded, "final", fmt)
    nominations = services(system, seeded, "awards", "/campaigns/{cid}/nominations")
    per_title = {row["Danh hiệu / hình thức khen thưởng"]: row for row in got["theo_danh_hieu"]}
    for name in {n["award_name"] for n in nominations}:
        decided = Counter(n["participant_kind"] for n in nominations if n["award_name"] == name
                          and n["status"] == "decided")
        proposed = Counter(n["participant_kind"] for n in nominations if n["award_name"] == name)
        row = per_title[name]
        assert (row["Đề nghị: tập thể"], row["Đề nghị: cá nhân"]) == (proposed["collective"], proposed["individual"])
        assert (row["Khen thưởng: tập thể"], row["Khen thưởng: cá nhân"], row["Tổng số được khen thưởng"]) == \
            (decided["collective"], decided["individual"], sum(decided.values()))
    assert per_title[BANG_KHEN]["Tổng số được khen thưởng"] == 2 and per_title[CSTDCS]["Khen thưởng: cá nhân"] == 1

    quotas = services(system, seeded, "awards", "/campaigns/{cid}/quotas")
    assert [(r["Tối đa"], r["Đã quyết định"], r["Còn lại"]) for r in got["chi_tieu"]] == \
        [(q["max"], q["used"], q["max"] - q["used"]) for q in quotas] == [(3, 2, 1), (5, 1, 4)]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_report_counts_per_kind_of_participant(system, seeded, web, fmt):
    got = {row["Đối tượng"]: row for row in tables(web, seeded, "preliminary", fmt)["theo_doi_tuong"]}
    registrations = [r for r in services(system, seeded, "registration", "/campaigns/{cid}/registrations")
                     if r["status"] != "withdrawn"]
    kinds = Counter(r["individual_kind"] or "collective" for r in registrations)
    assert {k: got[label]["Đăng ký thi đua"] for k, label in
            (("collective", "Tập thể"), ("teacher", "Giáo viên"), ("manager", "Cán bộ quản lý"),
             ("student", "Học sinh"), ("staff", "Nhân viên"))} == {**dict.fromkeys(["staff"], 0), **kinds}
    assert (got["Giáo viên"]["Được đề nghị khen thưởng"], got["Giáo viên"]["Được khen thưởng"]) == (2, 1)
    assert (got["Học sinh"]["Đã bình xét"], got["Học sinh"]["Đạt tiêu chuẩn"]) == (1, 0)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_report_shows_exemplars_per_phase_against_their_targets(system, seeded, web, fmt):
    got = tables(web, seeded, "final", fmt)["dien_hinh"]
    progress = services(system, seeded, "registration", "/campaigns/{cid}/exemplar-progress")
    assert [(str(r["Giai đoạn"]), r["Chỉ tiêu"], r["Đã lựa chọn"], r["Còn thiếu"], r["Kết quả"]) for r in got] == \
        [(p["phase"], p["target"], p["selected"], p["remaining"], "Đạt" if not p["remaining"] else "Chưa đạt")
         for p in progress] == [("2024", 1, 1, 0, "Đạt"), ("2024", 2, 0, 2, "Chưa đạt")]


def test_each_report_names_its_own_deadline(seeded, web):
    preliminary = pdf_text(download(web, seeded, "preliminary", "pdf").data)
    final = pdf_text(download(web, seeded, "final", "pdf").data)
    assert "BÁO CÁO SƠ KẾT" in preliminary and "Thời hạn gửi báo cáo sơ kết: 15/07/2024." in preliminary
    assert "BÁO CÁO TỔNG KẾT" in final and "Thời hạn gửi báo cáo tổng kết: 20/12/2024." in final


def test_the_report_in_pdf_shows_the_figures_and_the_vietnamese_header(seeded, web):
    text = pdf_text(download(web, seeded, "final", "pdf").data)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert re.search(r"SỞ GIÁO DỤC VÀ ĐÀO TẠO TỈNH.*\n\s*VĨNH LONG", text)  # the issuer, on two lines
    assert "ngày 01 tháng 6 năm 2024" in text
    assert re.search(r"Đăng ký thi đua\s+1\s+4\s+5", text)
    assert re.search(r"Được khen thưởng\s+1\s+2\s+3", text)


# -- the list of proposals --------------------------------------------------------------------
def test_the_proposals_are_listed_per_award_with_their_counts(system, seeded, web):
    got = tables(web, seeded, "proposals", "xlsx")
    nominations = services(system, seeded, "awards", "/campaigns/{cid}/nominations")
    per_award = Counter((n["award_name"], n["participant_kind"]) for n in nominations)
    assert {r["Danh hiệu / hình thức khen thưởng"]: (r["Tập thể"], r["Cá nhân"]) for r in got["tong_hop"]} == \
        {name: (per_award[(name, "collective")], per_award[(name, "individual")]) for name, _ in per_award}
    listed = {t: [r["Họ và tên / Tập thể"] for r in rows] for t, rows in got.items() if t.startswith("de_nghi_")}
    assert sorted(listed.values()) == sorted([
        [n["name"] for n in sorted(nominations, key=lambda n: (n["participant_kind"], n["name"]))
         if n["award_name"] == name] for name in {n["award_name"] for n in nominations}])
    decided = next(r for rows in got.values() for r in rows if r.get("Họ và tên / Tập thể") == TEACHER)
    assert (decided["Số quyết định"], decided["Trạng thái"]) == ("100/QĐ-UBND", "Đã quyết định khen thưởng")


def test_the_proposals_in_pdf_show_the_names_with_their_diacritics(seeded, web):
    text = pdf_text(download(web, seeded, "proposals", "pdf").data)
    assert "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG" in text and TITLE in text
    for name in (TEACHER, "Nguyễn Văn Đức", "Lê Thị Hồng Nhung"):
        assert name in text, name
    assert f"I. {BANG_KHEN} (3 đề nghị)" in text and f"II. {CSTDCS} (1 đề nghị)" in text


# -- the minutes of the vote -----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_minutes_give_each_ballot_its_share_and_whether_the_threshold_is_met(system, seeded, web, fmt):
    ballots = {r["Họ và tên / Tập thể"]: r for r in tables(web, seeded, "minutes", fmt)["bo_phieu"]}
    assert set(ballots) == {TEACHER, "Nguyễn Văn Đức"}  # the nominations whose dossier has minutes
    duc = ballots["Nguyễn Văn Đức"]
    assert (duc["Tổng số thành viên"], duc["Số phiếu tán thành"], duc["Tỷ lệ tán thành (%)"],
            duc["Tỷ lệ tối thiểu (%)"], duc["Kết quả"]) == (10, 9, 90.0, 80, "Đạt")  # CSTĐCS: ≥ 80%
    bich = ballots[TEACHER]
    assert (bich["Tỷ lệ tán thành (%)"], bich["Tỷ lệ tối thiểu (%)"], bich["Kết quả"]) == \
        (90.9, None, "Không yêu cầu bỏ phiếu kín")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_minutes_give_the_votes_of_the_evaluation(system, seeded, web, fmt):
    got = tables(web, seeded, "minutes", fmt)["bieu_quyet_tieu_chi"]
    expected = []
    for name in ("Lê Thị Hồng Nhung", "Nguyễn Văn Đức", TEACHER):
        rounds = ok(call(system, "GET", "evaluation", f"/evaluations/{seeded.ids[name]}"), 200)
        expected += [(name, r["label"], r["votes"]["members"], r["votes"]["for"]) for r in rounds[-1]["results"]
                     if r.get("votes")]
    assert sorted((r["Họ và tên / Tập thể"], r["Tiêu chí"], r["Tổng số thành viên"], r["Số phiếu tán thành"])
                  for r in got) == sorted(expected)
    assert {r["Tỷ lệ tán thành (%)"] for r in got} == {81.8}  # 9 of 11


def test_the_minutes_in_pdf(seeded, web):
    text = pdf_text(download(web, seeded, "minutes", "pdf").data)
    assert "BIÊN BẢN HỌP HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG" in text
    assert "Nguyễn Văn Đức" in text and re.search(r"10\s+9\s+90,0\s+80\s+Đạt", text)


# -- the draft decision ---------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_draft_decision_annexes_the_approved_nominations(system, seeded, web, fmt):
    got = tables(web, seeded, "draft-decision", fmt)
    nominations = services(system, seeded, "awards", "/campaigns/{cid}/nominations")
    approved = [n["name"] for n in nominations if n["status"] == "approved"]
    assert list(got) == ["phu_luc_province"]
    assert [(r["STT"], r["Họ và tên / Tập thể"], r["Danh hiệu / hình thức khen thưởng"], r["Cấp quyết định"])
            for r in got["phu_luc_province"]] == \
        [(1, "Lê Thị Hồng Nhung", BANG_KHEN, "Chủ tịch Ủy ban nhân dân tỉnh")] == \
        [(1, approved[0], BANG_KHEN, "Chủ tịch Ủy ban nhân dân tỉnh")]


def test_the_draft_decision_in_pdf_is_the_authoritys_and_left_undated(seeded, web):
    text = pdf_text(download(web, seeded, "draft-decision", "pdf").data)
    assert "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH" in text and "DỰ THẢO QUYẾT ĐỊNH" in text
    assert "Số: …/QĐ-…" in text and "ngày … tháng … năm 2024" in text
    assert f"Tặng {BANG_KHEN} cho 1 cá nhân (có danh sách kèm theo)" in text and "Lê Thị Hồng Nhung" in text
    assert TEACHER not in text  # already decided: not in the draft


# -- the files --------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt, mimetype", [
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("pdf", "application/pdf"), ("csv", "text/csv; charset=utf-8")])
def test_a_report_downloads_with_its_type_and_a_vietnamese_file_name(seeded, web, fmt, mimetype):
    r = download(web, seeded, "preliminary", fmt)
    assert r.status_code == 200 and r.headers["Content-Type"] == mimetype
    disposition = r.headers["Content-Disposition"]
    plain = re.search(r'filename="([^"]+)"', disposition).group(1)
    exact = unquote(re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1))
    assert disposition.startswith("attachment;")
    assert plain == f"Bao-cao-so-ket-Phong-trao-thi-dua-Day-tot-hoc-tot-nam-hoc-2023-2024.{fmt}" and plain.isascii()
    assert exact == f"Báo cáo sơ kết - {TITLE}.{fmt}"


# -- refusals -----------------------------------------------------------------------------------
def test_a_campaign_of_another_province_is_not_found(seeded, web):
    r = download(web, seeded, "proposals", "pdf", province="83")
    body = r.get_json()
    assert r.status_code == 404 and body["details"] == {"service": "registration", "status": 404}
    assert f"Không tìm thấy phong trào thi đua {seeded.campaign_id}" in body["message"]


def test_a_services_403_is_passed_through_with_its_message(seeded, web):
    # awards' rulebook is read for one province: a token of two provinces is refused there
    r = download(web, seeded, "final", "xlsx", province=(P, "83"))
    body = r.get_json()
    assert r.status_code == 403 and body["details"] == {"service": "awards", "status": 403}
    assert body["message"].startswith("Không có quyền xem báo cáo này (dịch vụ khen thưởng: Token có nhiều tỉnh")


def test_a_report_without_a_token_is_refused_as_the_service_refuses_it(seeded, web):
    r = web.get(f"/reports/campaigns/{seeded.campaign_id}/final.xlsx")
    assert r.status_code == 401 and "Cần đăng nhập" in r.get_json()["message"]


@pytest.mark.parametrize("filename", ["final.docx", "annual.pdf", "final"])
def test_an_unknown_report_or_format_is_not_found_and_names_the_choices(seeded, web, filename):
    r = download(web, seeded, filename.rpartition(".")[0] or filename, filename.rpartition(".")[2]) \
        if "." in filename else web.get(f"/reports/campaigns/{seeded.campaign_id}/{filename}", headers=token())
    body = r.get_json()
    assert r.status_code == 404 and f"«{filename}»" in body["message"]
    assert body["details"] == {"reports": ["proposals", "minutes", "draft-decision", "preliminary", "final"],
                               "formats": ["xlsx", "pdf", "csv"]}
    assert "proposals" in body["message"] and "xlsx, pdf, csv" in body["message"]
