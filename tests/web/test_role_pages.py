"""The unit head's, the council's and the authority's pages over the in-process system: each
person signs in as a demo person and does their part by posting the pages' forms; what the
services refuse is shown in the page with its rule, a retryable answer is retried, not shown
as an error.
"""
from __future__ import annotations

import re
import uuid

import pytest
from werkzeug.datastructures import MultiDict

from identity import demo
from tests.unit.conftest import module_system, token
from tests.web.conftest import csrf_of, pages_app, seed_demo_units, sign_in
from tests.web.test_accessibility import Page

P = demo.PROVINCE
CRITERIA = [("crit_code", "sang_kien"), ("crit_label", "Có ít nhất 1 sáng kiến được công nhận"),
            ("crit_kind", "quantitative"), ("crit_metric", "initiatives"), ("crit_comparison", ">="),
            ("crit_threshold", "1"), ("crit_unit", ""), ("crit_vote_pct", ""),
            ("crit_code", "dao_duc"), ("crit_label", "Phẩm chất đạo đức tốt"), ("crit_kind", "qualitative"),
            ("crit_metric", ""), ("crit_comparison", ""), ("crit_threshold", ""), ("crit_unit", ""),
            ("crit_vote_pct", "80")]


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    yield from module_system(tmp_path_factory, "web-roles")


@pytest.fixture(scope="module")
def world(system):
    """The demo province's units, and a campaign of the Sở open for registration."""
    system.clock.set("2024-04-20")
    department = token("department", (P,), unit="so-gddt-vinh-long", unit_level="department",
                       name="Sở Giáo dục và Đào tạo Vĩnh Long")
    seed_demo_units(system)

    def launch(**over):
        r = system.client("registration").post("/campaigns", headers=department, json={
            "title": f"Dạy tốt, học tốt {uuid.uuid4().hex[:4]}", "kind": "yearly", "period_start": "2023-09-05",
            "period_end": "2024-05-31", "registration_deadline": "2024-04-30",
            "award_plan": [{"award": "bang_khen_chu_tich_tinh", "max": 15}], **over})
        assert r.status_code == 201, r.get_json()
        return r.get_json()
    return {"campaign": launch(), "closed": launch(registration_deadline="2024-04-10"), "launch": launch}


@pytest.fixture(scope="module")
def app(system):
    return pages_app(system)


def person(app, username):
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    return client


def post(client, path, data, via):
    """Post a form with the CSRF token of the page ``via`` (where the form is)."""
    items = list(data.items()) if isinstance(data, dict) else list(data)
    return client.post(path, data=MultiDict(items + [("csrf_token", csrf_of(client.get(via)))]))


def text(reply) -> str:
    return reply.get_data(as_text=True)


def link(page, pattern: str) -> str:
    found = re.search(pattern, text(page))
    assert found, pattern
    return found.group(1)


def test_from_registration_to_decision_each_role_does_its_part_in_its_pages(system, app, world):
    cid = world["campaign"]["id"]
    mai, tam, chau = person(app, "mai.tt"), person(app, "tam.lv"), person(app, "chau.pm")

    home = mai.get("/don-vi/")
    assert home.status_code == 200 and "Trường THPT Lưu Văn Liệt" in text(home)
    added = post(mai, "/don-vi/thanh-vien", {"unit_id": "thpt-luu-van-liet", "name": "Huỳnh Thị Lan",
                                            "person_id": "lan.ht", "position": "Giáo viên Ngữ văn",
                                            "individual_kind": "teacher", "gender": "female"}, "/don-vi/")
    assert added.status_code == 302, text(added)
    assert "Huỳnh Thị Lan" in text(mai.get("/don-vi/"))

    page = f"/don-vi/phong-trao/{cid}"
    registered = post(mai, f"{page}/dang-ky", [
        ("participant", "person:thpt-luu-van-liet:lan.ht"), ("pledge_content", "Có sáng kiến được công nhận"),
        ("pledge_area", "Đổi mới phương pháp dạy học"), ("pledge_start", "2023-09-05"), ("pledge_end", "2024-05-31"),
        ("pledge_content", ""), ("pledge_area", ""), ("pledge_start", ""), ("pledge_end", "")], page)
    assert registered.status_code == 302, text(registered)
    system.drain()
    assert "Huỳnh Thị Lan" in text(mai.get(page))

    set_id = f"gv-{uuid.uuid4().hex[:6]}"
    defined = post(tam, "/hoi-dong/bo-tieu-chi", [("id", set_id), ("name", "Tiêu chí giáo viên"),
                                                  ("source", "Kế hoạch thi đua của Sở GD&ĐT Vĩnh Long"),
                                                  ("applies_to", "teacher"), *CRITERIA], "/hoi-dong/bo-tieu-chi")
    assert defined.status_code == 302, text(defined)
    rid = link(tam.get(f"/hoi-dong/phong-trao/{cid}"), r'href="/hoi-dong/binh-xet/([^"]+)"')
    evaluated = post(tam, f"/hoi-dong/binh-xet/{rid}", {
        "criteria_set_id": set_id, "ev_sang_kien": "2", "ev_dao_duc_judgement": "pass",
        "ev_dao_duc_votes_for": "10", "ev_dao_duc_members_total": "11"}, f"/hoi-dong/binh-xet/{rid}")
    assert evaluated.status_code == 302, text(evaluated)
    assert "Vòng 1" in text(tam.get(f"/hoi-dong/binh-xet/{rid}"))

    nominate = f"{page}/de-nghi/{rid}"
    dossier = {"award": "bang_khen_chu_tich_tinh", "kind": "periodic", "submission_letter": "Tờ trình 12/TTr-THPT",
               "achievement_report": "Báo cáo thành tích năm học 2023–2024"}
    # the evaluation is still on its way to awards: the page waits and posts again, it shows no error
    waiting = post(mai, nominate, dossier, nominate)
    assert waiting.status_code == 202 and "Đang xử lý" in text(waiting)
    system.drain()
    assert post(mai, nominate, dossier, nominate).status_code == 302
    assert "Chờ thẩm định" in text(mai.get(page))

    nid = link(tam.get(f"/hoi-dong/phong-trao/{cid}"), r'href="/hoi-dong/tham-dinh/([^"]+)"')
    returned = post(tam, f"/hoi-dong/tham-dinh/{nid}", {"outcome": "returned",
                                                         "reason": "Bổ sung biên bản họp hội đồng"},
                    f"/hoi-dong/tham-dinh/{nid}")
    assert returned.status_code == 302, text(returned)
    back = mai.get(page)
    assert "Trả lại để hoàn thiện" in text(back) and "Bổ sung biên bản họp hội đồng" in text(back)
    again = f"/don-vi/de-nghi/{nid}/bo-sung"
    assert "Tờ trình 12/TTr-THPT" in text(mai.get(again))  # the returned dossier, to complete
    resubmitted = post(mai, again, {"submission_letter": "Tờ trình 12/TTr-THPT",
                                    "achievement_report": "Báo cáo thành tích năm học 2023–2024",
                                    "members_total": "11", "votes_for": "10", "meeting_date": "2024-04-19"}, again)
    assert resubmitted.status_code == 302, text(resubmitted)
    approved = post(tam, f"/hoi-dong/tham-dinh/{nid}", {"outcome": "approved", "reason": "Hồ sơ đầy đủ"},
                    f"/hoi-dong/tham-dinh/{nid}")
    assert approved.status_code == 302, text(approved)

    son = person(app, "son.vt")
    over = post(son, f"/tham-quyen/quyet-dinh/{nid}", {"decision_number": "9/QĐ-SGDĐT"}, "/tham-quyen/")
    assert over.status_code in (403, 409), text(over)
    assert re.search(r"<code>(decision\.addressee|authority\.competence)</code>", text(over)), text(over)
    decided = post(chau, f"/tham-quyen/quyet-dinh/{nid}", {"decision_number": "123/QĐ-UBND"}, "/tham-quyen/")
    assert decided.status_code == 302, text(decided)
    shown = text(chau.get("/tham-quyen/"))
    assert f"/tham-quyen/quyet-dinh/{nid}" not in shown and "20/04/2024" in shown  # decided, on the server's day
    assert "Quyết định số 123/QĐ-UBND ngày 20/04/2024" in text(mai.get(page))

    # every page of the way: one heading to start from, a label on every field (tests/web/test_accessibility.py)
    for who, path in ((mai, "/don-vi/"), (mai, page), (mai, nominate), (mai, again), (tam, "/hoi-dong/"),
                      (tam, "/hoi-dong/bo-tieu-chi"), (tam, f"/hoi-dong/phong-trao/{cid}"),
                      (tam, f"/hoi-dong/binh-xet/{rid}"), (tam, f"/hoi-dong/tham-dinh/{nid}"), (chau, "/tham-quyen/"),
                      (chau, "/dien-hinh/")):
        shown = Page(text(who.get(path)))
        assert [t for t, _ in shown.tags].count("h1") == 1 and shown.unlabelled() == [], path


def test_a_registration_after_the_deadline_is_refused_in_the_page_with_its_rule(app, world):
    mai = person(app, "mai.tt")
    page = f"/don-vi/phong-trao/{world['closed']['id']}"
    refused = post(mai, f"{page}/dang-ky", {"participant": "unit:thpt-luu-van-liet",
                                           "pledge_content": "Tập thể lao động xuất sắc",
                                           "pledge_start": "2023-09-05", "pledge_end": "2024-05-31"}, page)
    assert refused.status_code == 409
    body = text(refused)
    assert 'role="alert"' in body and "<code>registration.deadline</code>" in body
    assert "Tập thể lao động xuất sắc" in body  # what was typed is kept for another try


def test_evidence_the_page_can_tell_is_wrong_is_refused_before_any_service_sees_it(system, app, world):
    mai, tam = person(app, "mai.tt"), person(app, "tam.lv")
    cid = world["launch"]()["id"]
    page = f"/don-vi/phong-trao/{cid}"
    assert post(mai, f"{page}/dang-ky", {"participant": "unit:thpt-luu-van-liet", "pledge_content": "Xuất sắc",
                                        "pledge_start": "2023-09-05", "pledge_end": "2024-05-31"},
                page).status_code == 302
    system.drain()
    rid = link(tam.get(f"/hoi-dong/phong-trao/{cid}"), r'href="/hoi-dong/binh-xet/([^"]+)"')
    set_id = f"tt-{uuid.uuid4().hex[:6]}"
    assert post(tam, "/hoi-dong/bo-tieu-chi", [("id", set_id), ("name", "Tiêu chí tập thể"), ("source", "Kế hoạch"),
                                               *CRITERIA], "/hoi-dong/bo-tieu-chi").status_code == 302
    edit = tam.get(f"/hoi-dong/bo-tieu-chi?id={set_id}")  # "Sửa": the set as saved, to save as its next version
    assert 'value="sang_kien"' in text(edit) and 'value="80"' in text(edit)
    saved = tam.post(f"/hoi-dong/bo-tieu-chi?id={set_id}", data=MultiDict(
        [("id", set_id), ("name", "Tiêu chí tập thể"), ("source", "Kế hoạch"), *CRITERIA,
         ("csrf_token", csrf_of(edit))]))
    assert saved.status_code == 302 and "phiên bản 2" in text(tam.get("/hoi-dong/"))
    refused = post(tam, f"/hoi-dong/binh-xet/{rid}", {"criteria_set_id": set_id, "ev_sang_kien": "1",
                                                      "ev_dao_duc_judgement": "pass", "ev_dao_duc_votes_for": "mười"},
                   f"/hoi-dong/binh-xet/{rid}")
    assert refused.status_code == 422 and "ev_dao_duc_votes_for" in text(refused)
    code = system.client("evaluation").get(f"/evaluations/{rid}", headers=token("council", (P,))).status_code
    assert code == 404  # nothing was evaluated


def test_the_role_pages_are_each_for_their_own_role(app):
    lan = person(app, "lan.ht")
    for path in ("/don-vi/", "/hoi-dong/", "/tham-quyen/"):
        refused = lan.get(path)
        assert refused.status_code == 403 and "<code>web.role</code>" in text(refused), path
    assert app.test_client().get("/don-vi/").status_code == 302  # nobody signed in: to the sign-in page


def test_an_exemplar_goes_through_its_five_steps_each_by_the_role_that_takes_it(system, app, world):
    mai, tam, chau = person(app, "mai.tt"), person(app, "tam.lv"), person(app, "chau.pm")
    registered = post(mai, "/dien-hinh/", {"campaign_id": world["campaign"]["id"], "phase": "2023–2024",
                                          "participant": "unit:thpt-luu-van-liet", "address": "Phường 1, TP Vĩnh Long",
                                          "phone": "0270 3822 123",
                                          "achievements": "Dẫn đầu phong trào đổi mới phương pháp dạy học"},
                      "/dien-hinh/")
    assert registered.status_code == 302, text(registered)
    page = registered.headers["Location"]
    xid = page.rstrip("/").rsplit("/", 1)[1]

    def step(who, name, data):
        answer = post(who, f"/dien-hinh/{xid}/{name}", data, page)
        system.drain()
        return answer

    early = step(mai, "hoc-tap", {"held_on": "2024-04-20", "participants": "40", "form": "Chuyên đề"})
    assert early.status_code == 202 and "Đang xử lý" in text(early)  # step 2 not yet seen: it waits, no error
    assert step(mai, "chon", {"commendation": "Biểu dương điển hình tiên tiến"}).status_code == 302
    assert step(tam, "tuyen-truyen", [("message", "Nhân rộng điển hình Trường THPT Lưu Văn Liệt"),
                                      ("channels", "inbox"), ("channels", "public_page")]).status_code == 302
    assert step(mai, "hoc-tap", {"held_on": "2024-04-20", "participants": "40",
                                 "form": "Chuyên đề đổi mới phương pháp"}).status_code == 302
    review = {"assessment": "Các đơn vị học tập tích cực", "out_unit_id": "thpt-luu-van-liet",
              "out_outcome": "followed", "members_total": "11", "votes_for": "12"}
    refused = step(tam, "binh-xet", review)
    assert refused.status_code == 409 and "<code>exemplar.council_vote</code>" in text(refused)
    assert step(tam, "binh-xet", {**review, "votes_for": "10"}).status_code == 302
    shown = text(tam.get(page))
    assert shown.count("đã thực hiện") == 4 and "Các đơn vị học tập tích cực" in shown
    assert Page(text(chau.get(page))).unlabelled() == []
    recognised = step(chau, "khen-thuong", {"influence": "Lan tỏa tới 12 trường trong tỉnh", "spread_units": "12",
                                            "outcome": "commended", "award": "bang_khen_chu_tich_tinh",
                                            "decision_number": "200/QĐ-UBND"})
    assert recognised.status_code == 302, text(recognised)
    again = step(chau, "khen-thuong", {"influence": "Lần nữa", "spread_units": "12", "outcome": "commended",
                                       "award": "bang_khen_chu_tich_tinh", "decision_number": "201/QĐ-UBND"})
    assert again.status_code == 409 and "<code>exemplar.recognise_once</code>" in text(again)


def test_the_head_registers_a_unit_under_hers_and_withdraws_a_registration_with_its_reason(system, app, world):
    mai = person(app, "mai.tt")
    tag = uuid.uuid4().hex[:6]
    added = post(mai, "/don-vi/don-vi-truc-thuoc", {"name": f"Tổ Ngữ văn {tag}", "id": f"to-van-{tag}",
                                                   "kind": "division"}, "/don-vi/")
    assert added.status_code == 302, text(added)
    assert f"Tổ Ngữ văn {tag}" in text(mai.get("/don-vi/"))
    elsewhere = post(mai, "/don-vi/thanh-vien", {"unit_id": "thpt-chuyen-nguyen-binh-khiem", "name": "Người khác",
                                                "person_id": f"x-{tag}", "individual_kind": "teacher"}, "/don-vi/")
    assert elsewhere.status_code == 403 and "<code>auth.unit_scope</code>" in text(elsewhere)

    cid = world["launch"]()["id"]
    page = f"/don-vi/phong-trao/{cid}"
    assert post(mai, f"{page}/dang-ky", {"participant": f"unit:to-van-{tag}", "pledge_content": "Tổ lao động xuất sắc",
                                        "pledge_start": "2023-09-05", "pledge_end": "2024-05-31"},
                page).status_code == 302
    rid = link(mai.get(page), rf'action="/don-vi/phong-trao/{cid}/rut/([^"]+)"')
    short = post(mai, f"{page}/rut/{rid}", {"reason": "x"}, page)
    assert short.status_code == 422 and "reason" in text(short)  # the service's reason, in the page
    withdrawn = post(mai, f"{page}/rut/{rid}", {"reason": "Tổ sáp nhập vào tổ Khoa học xã hội"}, page)
    assert withdrawn.status_code == 302, text(withdrawn)
    assert "Đã rút đăng ký" in text(mai.get(page))
