"""The council's pages over the in-process system (README, Councils and conflicts of interest): a council formed and staffed in
its page, a member declaring an interest, a ballot whose page shows who is entitled and who is
recused and why, the secret ballot's counts and the open vote, the share against the rule's, and
the unit head's nomination and the appraisal showing the ballot that counts instead of asking for
typed minutes. What the services refuse is shown in the page with its rule.

The module has its own system: once a council is formed in the province, a title that needs a
ballot needs the council's, which the other page tests (typed minutes) must not see.
"""
from __future__ import annotations

import re
import uuid

import pytest

from identity import demo
from tests.unit.conftest import module_system, token
from tests.web.conftest import pages_app, seed_demo_units
from tests.web.seed import TEACHER_CRITERIA, TEACHER_EVIDENCE
from tests.web.test_accessibility import Page
from tests.web.test_role_pages import person, post, text

P = demo.PROVINCE
SO, SCHOOL = "so-gddt-vinh-long", "thpt-luu-van-liet"
CSTDCS = "chien_si_thi_dua_co_so"


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "web-ballots")


@pytest.fixture(scope="module")
def app(system):
    return pages_app(system)


def ok(reply, status=201):
    assert reply.status_code == status, reply.get_json()
    return reply.get_json()


@pytest.fixture(scope="module")
def world(system):
    """A campaign of the Sở, two teachers of the school registered and evaluated (passed)."""
    system.clock.set("2024-04-20")
    seed_demo_units(system)
    department = token("department", (P,), unit=SO, unit_level="department", name="Sở GD&ĐT Vĩnh Long")
    head = token("unit_head", (P,), subject="mai.tt", unit=SCHOOL, unit_level="school")
    campaign = ok(system.client("registration").post("/campaigns", headers=department, json={
        "title": f"Dạy tốt, học tốt {uuid.uuid4().hex[:4]}", "kind": "yearly", "period_start": "2023-09-05",
        "period_end": "2024-12-31", "registration_deadline": "2024-04-30",
        "deadlines": {"nominations": "2024-05-31"},
        "award_plan": [{"award": CSTDCS, "applies_to": "individual", "max": 5},
                       {"award": "lao_dong_tien_tien", "applies_to": "individual", "max": 5}]}))
    teachers = {}
    for name in ("Nguyễn Thị Thu Hà", "Trương Văn Phúc"):
        pid = f"gv-{uuid.uuid4().hex[:8]}"
        teachers[name] = {"participant_id": pid, "registration_id": ok(system.client("registration").post(
            f"/campaigns/{campaign['id']}/registrations", headers=head, json={
                "participant": {"participant_id": pid, "kind": "individual", "individual_kind": "teacher",
                                "name": name, "unit": "Trường THPT Lưu Văn Liệt", "unit_id": SCHOOL},
                "pledges": [{"content": "Hoàn thành xuất sắc nhiệm vụ năm học", "start": "2023-09-05",
                             "end": "2024-05-31"}]}))["id"]}
    system.drain()
    set_id = f"gv-{uuid.uuid4().hex[:6]}"
    council = token("council", (P,), subject="tam.lv", unit=SO, unit_level="department")
    ok(system.client("evaluation").post("/criteria-sets", headers=council, json={
        "id": set_id, "name": "Tiêu chí giáo viên", "applies_to": ["teacher"], "criteria": TEACHER_CRITERIA,
        "source": "Kế hoạch thi đua của Sở GD&ĐT Vĩnh Long"}))
    system.clock.set("2024-05-10")
    for t in teachers.values():
        ok(system.client("evaluation").post("/evaluations", headers=council, json={
            "registration_id": t["registration_id"], "criteria_set_id": set_id, "evidence": TEACHER_EVIDENCE}))
    system.drain()
    return {"campaign": campaign, "teachers": teachers, "council_id": f"hd-so-{uuid.uuid4().hex[:6]}"}


def refused_with(reply, rule: str) -> str:
    shown = text(reply)
    assert 'role="alert"' in shown and f"<code>{rule}</code>" in shown, shown
    return shown


def accessible(client, path: str) -> None:
    shown = Page(text(client.get(path)))
    assert [t for t, _ in shown.tags].count("h1") == 1 and shown.unlabelled() == [], path


def before_council(app, world, teacher: str):
    """The secretary signed in, the teacher, and the council's page of the campaign's candidates."""
    listing = f"/hoi-dong/hd/{world['council_id']}/phong-trao/{world['campaign']['id']}"
    return person(app, "tam.lv"), world["teachers"][teacher], listing


def open_ballot(tam, listing: str, teacher: dict, award: str, **extra) -> str:
    """Open a ballot from the candidates' page; the ballot's page it leads to."""
    opened = post(tam, f"{listing}/bo-phieu", {"registration_id": teacher["registration_id"], "award": award,
                                              **extra}, listing)
    assert opened.status_code == 302, text(opened)
    return opened.headers["Location"]


def member_row(shown: str, name: str) -> str:
    return re.search(rf"<th scope=\"row\">{name}</th>(.*?)</tr>", shown, re.S).group(1)


MEMBERS = [("tam.lv", "Lê Văn Tâm", SO, "secretary"), ("mai.tt", "Trần Thị Mai", SCHOOL, "member"),
           ("tv-chu-tich", "Phan Văn Minh", SO, "chair"), ("tv-pho", "Đỗ Thị Ngọc", SO, "vice_chair"),
           ("tv-uy-vien", "Cao Văn Lộc", SO, "member")]


def test_a_council_is_formed_and_staffed_in_its_pages_and_a_member_outside_the_scope_is_refused(app, world):
    tam, mai = person(app, "tam.lv"), person(app, "mai.tt")
    cid = world["council_id"]
    assert "Tỉnh chưa có hội đồng nào" in text(tam.get("/hoi-dong/danh-sach"))
    formed = post(tam, "/hoi-dong/danh-sach", {"id": cid, "name": "Hội đồng Thi đua – Khen thưởng ngành",
                                              "unit_id": SO, "term": "2023-2024"}, "/hoi-dong/danh-sach")
    assert formed.status_code == 302 and formed.headers["Location"].endswith(f"/hoi-dong/hd/{cid}"), text(formed)
    again = post(tam, "/hoi-dong/danh-sach", {"id": cid, "name": "Hội đồng lặp", "unit_id": SO, "term": "2023-2024"},
                 "/hoi-dong/danh-sach")
    assert again.status_code == 409 and 'value="Hội đồng lặp"' in refused_with(again, "council.once")

    page = f"/hoi-dong/hd/{cid}"
    for person_id, name, unit, position in MEMBERS:
        added = post(tam, f"{page}/thanh-vien", {"person_id": person_id, "name": name, "unit_id": unit,
                                                 "position": position}, page)
        assert added.status_code == 302, text(added)
    shown = text(tam.get(page))
    assert all(name in shown for _, name, _, _ in MEMBERS) and "Thư ký" in shown and "Chủ tịch hội đồng" in shown
    # the school's head staffs her school's council, not the Sở's
    outside = post(mai, f"{page}/thanh-vien", {"person_id": "lan.ht", "name": "Huỳnh Thị Lan", "unit_id": SCHOOL},
                   page)
    assert outside.status_code == 403 and "Huỳnh Thị Lan" not in text(tam.get(page))
    refused_with(outside, "auth.unit_scope")
    for path in ("/hoi-dong/danh-sach", page):
        accessible(tam, path)


def test_the_secret_ballot_shows_the_recused_refuses_their_ballot_and_shows_the_share(system, app, world):
    tam, teacher, listing = before_council(app, world, "Nguyễn Thị Thu Hà")
    campaign = world["campaign"]["id"]
    assert "Nguyễn Thị Thu Hà" in text(tam.get(listing))
    ballot = open_ballot(tam, listing, teacher, CSTDCS)
    shown = text(tam.get(ballot))
    # the member of the candidate's school is recused, with the reason in Vietnamese; four are entitled
    row = member_row(shown, "Trần Thị Mai")
    assert "Phải rút lui" in row and "thuộc đơn vị của người được xét" in row
    assert '<dd id="co-quyen">4</dd>' in shown and "Bỏ phiếu kín" in shown

    result = f"{ballot}/ket-qua"
    everyone = [("voters", p) for p, *_ in MEMBERS]
    recused = post(tam, result, [("votes_for", "4"), ("votes_against", "1"), *everyone], ballot)
    assert recused.status_code == 409 and "phiếu của thành viên này không được nhận" in refused_with(
        recused, "ballot.recused")
    not_a_number = post(tam, result, {"votes_for": "bốn", "votes_against": "0"}, ballot)
    assert not_a_number.status_code == 422 and "phải là số nguyên" in text(not_a_number)
    too_many = post(tam, result, {"votes_for": "5", "votes_against": "0"}, ballot)
    assert too_many.status_code == 422 and "nhiều hơn số thành viên có quyền biểu quyết" in refused_with(
        too_many, "ballot.entitled")
    counted = post(tam, result, [("votes_for", "4"), ("votes_against", "0"),
                                 *[(k, v) for k, v in everyone if v != "mai.tt"]], ballot)
    assert counted.status_code == 302, text(counted)
    shown = text(tam.get(ballot))
    assert re.search(r"<strong>4/4</strong>.*<strong>100%</strong>", shown, re.S)
    assert "Đạt tỉ lệ" in shown and "80%" in shown and "Không tính 1 thành viên phải rút lui" in shown
    accessible(tam, ballot)
    accessible(tam, listing)

    # the unit head's nomination form shows the ballot that counts, and asks for no typed minutes
    system.drain()
    mai = person(app, "mai.tt")
    nominate = f"/don-vi/phong-trao/{campaign}/de-nghi/{teacher['registration_id']}"
    form = text(mai.get(nominate))
    assert "Kết quả bỏ phiếu của hội đồng" in form and "4/4 (100%)" in form and "Chiến sĩ thi đua cơ sở" in form
    assert 'name="members_total"' not in form
    accessible(mai, nominate)
    nominated = post(mai, nominate, {"award": CSTDCS, "kind": "periodic", "submission_letter": "Tờ trình 7/TTr",
                                     "achievement_report": "Báo cáo thành tích"}, nominate)
    assert nominated.status_code == 302, text(nominated)
    system.drain()
    nomination = next(n for n in system.client("awards").get(
        f"/campaigns/{campaign}/nominations", headers=token("council", (P,))).get_json()
        if n["registration_id"] == teacher["registration_id"])
    appraisal = text(tam.get(f"/hoi-dong/tham-dinh/{nomination['id']}"))
    assert "Kết quả bỏ phiếu của hội đồng" in appraisal and "4/4 (100%)" in appraisal
    assert "Biên bản họp hội đồng" not in appraisal


def test_typed_minutes_are_refused_without_the_councils_ballot(system, app, world):
    mai = person(app, "mai.tt")
    teacher = world["teachers"]["Trương Văn Phúc"]
    nominate = f"/don-vi/phong-trao/{world['campaign']['id']}/de-nghi/{teacher['registration_id']}"
    form = text(mai.get(nominate))
    assert "Hội đồng chưa bỏ phiếu về người này" in form and 'name="members_total"' not in form
    refused = post(mai, nominate, {"award": CSTDCS, "kind": "periodic", "submission_letter": "Tờ trình 8/TTr",
                                   "achievement_report": "Báo cáo", "members_total": "10", "votes_for": "10"}, nominate)
    assert refused.status_code == 409
    assert "không nhận biên bản nhập tay" in refused_with(refused, "award.secret_ballot")


def test_a_member_declares_an_interest_and_is_refused_a_vote_in_the_open_ballot(system, app, world):
    tam, teacher, listing = before_council(app, world, "Trương Văn Phúc")
    declared = post(tam, f"{listing}/xung-dot", {"participant_id": teacher["participant_id"],
                                                 "reason": "Là anh em ruột của người được xét"}, listing)
    assert declared.status_code == 302, text(declared)
    twice = post(tam, f"{listing}/xung-dot", {"participant_id": teacher["participant_id"], "reason": "Lần nữa"},
                 listing)
    assert twice.status_code == 409
    refused_with(twice, "council.interest_once")

    ballot = open_ballot(tam, listing, teacher, "lao_dong_tien_tien", open_vote="1")
    shown = text(tam.get(ballot))
    row = member_row(shown, "Lê Văn Tâm")
    assert "Phải rút lui" in row and "đã khai báo xung đột lợi ích" in row
    assert "Biểu quyết công khai" in shown and "phiếu của bạn sẽ không được nhận" in shown
    vote = post(tam, f"{ballot}/phieu", {"choice": "for"}, ballot)
    assert vote.status_code == 409 and "không được bỏ phiếu" in refused_with(vote, "ballot.recused")
    accessible(tam, ballot)


def test_an_open_vote_member_by_member_then_its_tally(system, app, world):
    tam, teacher, listing = before_council(app, world, "Nguyễn Thị Thu Hà")
    ballot = open_ballot(tam, listing, teacher, "lao_dong_tien_tien", open_vote="1")
    assert post(tam, f"{ballot}/phieu", {"choice": "for"}, ballot).status_code == 302
    twice = post(tam, f"{ballot}/phieu", {"choice": "against"}, ballot)
    assert twice.status_code == 409
    refused_with(twice, "ballot.vote_once")
    assert 'hx-trigger="every 5s"' in text(tam.get(ballot))  # the members' table redraws while they vote
    redrawn = tam.get(f"{ballot}/thanh-vien", headers={"HX-Request": "true"})
    assert redrawn.status_code == 200 and "<h1" not in text(redrawn)
    assert "Đã biểu quyết" in member_row(text(redrawn), "Lê Văn Tâm")
    assert "Chưa" in member_row(text(redrawn), "Phan Văn Minh")
    closed = post(tam, f"{ballot}/ket-qua", {}, ballot)
    assert closed.status_code == 302, text(closed)
    shown = text(tam.get(ballot))
    assert re.search(r"<strong>1/4</strong>.*<strong>25%</strong>", shown, re.S)
    assert "không đòi hỏi tỉ lệ phiếu kín" in shown and 'hx-trigger="every 5s"' not in shown
