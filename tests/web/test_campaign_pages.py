"""The department's campaign pages in process: a launch accepted, refused in the page with its
rule and what was typed, retried while its criteria set is still on its way; a campaign followed
with its figures, charts (and their tables) and report links."""
from __future__ import annotations

import html
import re
import uuid
from dataclasses import replace

import pytest
from werkzeug.datastructures import MultiDict

from tests.web.inprocess import InProcessServiceClient
from tests.web.conftest import pages_app, post_form, sign_in
from tests.web.seed import call, ok


@pytest.fixture
def department(system, seeded):
    client = pages_app(system).test_client()
    sign_in(client, "hung.nv")
    return client


def launch_form(title: str, **changes) -> dict:
    form = {"title": title, "kind": "yearly", "period_start": "2024-09-05", "period_end": "2025-05-31",
            "registration_deadline": "2024-10-15", "deadlines.nominations": "2025-05-10",
            "content_areas": "Đổi mới phương pháp dạy học\nChuyển đổi số trong nhà trường",
            "award_plan.0.award": "", "award_plan.1.award": "bang_khen_chu_tich_tinh",
            "award_plan.1.applies_to": "both", "award_plan.1.max": "3", "award_plan.1.min": "1",
            "exemplar_targets.0.phase": "2025", "exemplar_targets.0.kind": "individual",
            "exemplar_targets.0.min": "2"}
    return {**form, **changes}


def new_criteria_set(system) -> str:
    """A criteria set defined in evaluation, its event not yet delivered to registration."""
    cs = f"gv-{uuid.uuid4().hex[:6]}"
    ok(call(system, "POST", "evaluation", "/criteria-sets", {
        "id": cs, "name": "Tiêu chí giáo viên", "applies_to": ["teacher"], "source": "Kế hoạch của Sở",
        "criteria": [{"code": "dao_duc", "label": "Đạo đức tốt", "kind": "qualitative", "vote_threshold_pct": 50}]},
        role="council"))
    return cs


def campaign_titled(system, title: str) -> dict | None:
    campaigns = ok(call(system, "GET", "registration", "/campaigns"), 200)
    return next((c for c in campaigns if c["title"] == title), None)


def test_a_campaign_is_launched_from_the_form_and_its_page_follows(system, department):
    title = f"Phong trào «Trường học hạnh phúc» {uuid.uuid4().hex[:6]}"
    r = post_form(department, "/phong-trao/moi",
                  list(launch_form(title).items()) + [("target_groups", "teacher"), ("target_groups", "collective")])
    assert r.status_code == 302, r.get_data(as_text=True)
    made = campaign_titled(system, title)
    assert r.headers["Location"] == f"/phong-trao/{made['id']}"
    assert made["target_groups"] == ["teacher", "collective"] and made["deadlines"]["nominations"] == "2025-05-10"
    assert made["award_plan"] == [{"award": "bang_khen_chu_tich_tinh", "applies_to": "both", "max": 3, "min": 1}]
    assert made["content_areas"] == ["Đổi mới phương pháp dạy học", "Chuyển đổi số trong nhà trường"]
    at_once = department.get(r.headers["Location"])  # awards has not heard of it yet
    assert at_once.status_code == 202 and 'hx-get="/phong-trao/' in at_once.get_data(as_text=True)
    system.drain()
    page = department.get(r.headers["Location"]).get_data(as_text=True)
    assert f"<h1>{title}</h1>" in page.replace("&laquo;", "«").replace("&raquo;", "»")


def test_a_refusal_is_shown_in_the_page_with_its_rule_and_what_was_typed_and_nothing_is_made(system, department):
    title = f"Phong trào kết thúc trước khi bắt đầu {uuid.uuid4().hex[:6]}"
    r = post_form(department, "/phong-trao/moi", launch_form(title, period_end="2024-01-01"))
    page = r.get_data(as_text=True)
    assert r.status_code == 409
    assert 'role="alert"' in page and "Thời gian kết thúc phong trào phải sau thời gian bắt đầu" in page
    assert "<code>campaign.period_order</code>" in page and "đăng ký thi đua" in page  # the service that said it
    assert f'value="{title}"' in page and 'value="2024-01-01"' in page and 'value="3"' in page
    assert campaign_titled(system, title) is None


def test_a_field_the_service_refuses_is_marked_under_its_own_input(system, department):
    r = post_form(department, "/phong-trao/moi", launch_form("Ph", **{"award_plan.1.max": "-2"}))
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "<code>title</code>" in page
    # the plan's second row of the form was the first row sent: its error is shown at the second row
    marked = re.search(r'id="f-award_plan\.1\.max"[^>]*aria-invalid="true"', page, re.S)
    assert marked and 'id="f-award_plan.1.max-err"' in page


def test_a_number_that_is_not_one_is_refused_by_the_page_naming_the_field(system, department):
    r = post_form(department, "/phong-trao/moi", launch_form("Phong trào số sai", **{"award_plan.1.max": "ba"}))
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "«ba» không phải là số nguyên" in page
    assert campaign_titled(system, "Phong trào số sai") is None


def test_a_retryable_answer_is_retried_then_polled_and_ends_on_the_campaign(system, department):
    """The criteria set was defined a moment ago: registration has not seen it yet (retryable).
    The page retries, then shows "đang xử lý" polling with htmx; once the event arrives the
    poll ends on the new campaign's page."""
    cs = new_criteria_set(system)
    title = f"Phong trào chờ bộ tiêu chí {uuid.uuid4().hex[:6]}"
    form = list(launch_form(title).items()) + [("criteria_set_ids", cs)]
    r = post_form(department, "/phong-trao/moi", form)
    page = r.get_data(as_text=True)
    assert r.status_code == 202 and "Đang xử lý" in page and 'hx-post="/phong-trao/moi"' in page
    assert 'hx-trigger="load delay:2s"' in page and f'value="{cs}"' in page
    assert campaign_titled(system, title) is None

    poll = _poll_data(page)
    again = department.post("/phong-trao/moi", data=poll, headers={"HX-Request": "true"})
    assert again.status_code == 202 and "<html" not in again.get_data(as_text=True)  # the form alone, polled again
    assert 'hx-trigger="load delay:2s"' in again.get_data(as_text=True)

    system.drain()
    done = department.post("/phong-trao/moi", data=poll, headers={"HX-Request": "true"})
    made = campaign_titled(system, title)
    assert done.status_code == 200 and done.headers["HX-Redirect"] == f"/phong-trao/{made['id']}"
    assert made["criteria_set_ids"] == [cs]


def test_a_poll_that_ends_refused_goes_back_to_the_form_showing_the_refusal_once(system, department):
    cs = f"unknown-{uuid.uuid4().hex[:6]}"
    r = post_form(department, "/phong-trao/moi", list(launch_form("Phong trào bộ tiêu chí lạ").items())
                  + [("criteria_set_ids", cs)])
    assert r.status_code == 202
    poll = _poll_data(r.get_data(as_text=True))
    poll.setlist("period_end", ["2024-01-01"])  # now it is refused for good
    done = department.post("/phong-trao/moi", data=poll, headers={"HX-Request": "true"})
    assert done.headers["HX-Redirect"] == "/phong-trao/moi"
    page = department.get("/phong-trao/moi").get_data(as_text=True)
    assert "campaign.period_order" in page and 'value="Phong trào bộ tiêu chí lạ"' in page
    assert "campaign.period_order" not in department.get("/phong-trao/moi").get_data(as_text=True)


def test_the_campaign_page_shows_its_figures_charts_with_tables_and_report_links(department, seeded):
    r = department.get(f"/phong-trao/{seeded.campaign_id}")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    cells = re.findall(r"<td>(\d+)</td>", page.split('class="figures"')[1].split("</table>")[0])
    assert cells == ["5", "1", "5", "4", "4", "3"]  # registered, withdrawn, evaluated, passed, nominated, decided
    assert page.count('<img src="data:image/svg+xml') == 3
    quota = page.split('id="bang-chi-tieu"')[1].split("</table>")[0]
    assert re.findall(r"<td>([^<]*)</td>", quota) == ["Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh", "2", "3", "1",
                                                      "Chiến sĩ thi đua cơ sở", "1", "5", "4"]
    exemplars = page.split('id="bang-dien-hinh"')[1].split("</table>")[0]
    assert re.findall(r"<td>([^<]*)</td>", exemplars)[:5] == ["2024", "Tập thể", "1", "1", "0"]
    assert f'/reports/campaigns/{seeded.campaign_id}/final.xlsx' in page


def test_a_report_link_downloads_as_the_signed_in_person(department, seeded):
    r = department.get(f"/reports/campaigns/{seeded.campaign_id}/final.csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")


def test_a_campaign_of_another_province_is_the_services_refusal_in_the_page(department):
    r = department.get("/phong-trao/khong-co")
    assert r.status_code == 404 and "Không tìm thấy phong trào thi đua" in r.get_data(as_text=True)


def test_a_teacher_is_not_offered_the_department_pages(system, seeded):
    client = pages_app(system).test_client()
    sign_in(client, "lan.ht")
    assert "Phát động phong trào" not in client.get("/").get_data(as_text=True)
    r = client.get("/phong-trao/moi")
    assert r.status_code == 403 and "web.role" in r.get_data(as_text=True)


def _poll_data(page: str) -> MultiDict:
    """The hidden fields of the "đang xử lý" form: what htmx posts again."""
    form = page.split('class="pending"')[1].split("</form>")[0]
    return MultiDict([(n, html.unescape(v))
                      for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)])


class EventArrivesAfterFirstAnswer(InProcessServiceClient):
    """The in-process services, with the event on its way delivered right after the first
    retryable answer: what a short delay between two tries gives on the real stack."""

    def __init__(self, system):
        super().__init__(system)
        self.answers = []

    def send(self, method, service, path, authorization, json=None):
        reply = super().send(method, service, path, authorization, json)
        self.answers.append(reply.status)
        if reply.body and reply.body.get("retryable"):
            self.system.drain()
        return reply


def test_a_retryable_answer_retried_once_the_event_came_is_simply_accepted(system, seeded):
    client = EventArrivesAfterFirstAnswer(system)
    app = pages_app(system)
    app.extensions["web"] = replace(app.extensions["web"], client=client)
    browser = app.test_client()
    sign_in(browser, "hung.nv")
    cs = new_criteria_set(system)
    title = f"Phong trào thử lại {uuid.uuid4().hex[:6]}"
    r = post_form(browser, "/phong-trao/moi", list(launch_form(title).items()) + [("criteria_set_ids", cs)])
    assert r.status_code == 302 and client.answers == [409, 201]
    assert campaign_titled(system, title)["criteria_set_ids"] == [cs]


def test_a_refused_download_followed_from_a_page_is_a_page_and_a_program_still_gets_json(department, seeded):
    r = department.get(f"/reports/campaigns/{seeded.campaign_id}/unknown.pdf", headers={"Accept": "text/html"})
    assert r.status_code == 404 and 'role="alert"' in r.get_data(as_text=True)
    assert "Không có báo cáo «unknown.pdf»" in r.get_data(as_text=True)
    program = department.get(f"/reports/campaigns/{seeded.campaign_id}/unknown.pdf",
                             headers={"Accept": "application/json"})
    assert program.status_code == 404 and program.get_json()["code"] == 404


def test_a_plan_whose_minimum_is_over_its_quota_is_refused_with_its_rule(system, department):
    title = f"Phong trào chỉ tiêu sai {uuid.uuid4().hex[:6]}"
    r = post_form(department, "/phong-trao/moi", launch_form(title, **{"award_plan.1.min": "4"}))
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "<code>campaign.award_plan</code>" in page
    assert "số tối thiểu lớn hơn tối đa" in page and campaign_titled(system, title) is None
