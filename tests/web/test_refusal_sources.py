"""The refusal box of the pages shows the refused rule's Vietnamese name and its source (căn cứ), over
the in-process system: a service's refusal (a registration after the deadline), the gateway's own
(a page of another role, a wrong password), and a source the service gave for one award over the
catalogue's (issue 12)."""
from __future__ import annotations

from markupsafe import escape
from werkzeug.datastructures import MultiDict

from shared import rule_catalogue
from tests.web.conftest import csrf_of, sign_in
# the role pages' fixtures: the demo units, a campaign open and one closed on 10/04/2024, the pages
from tests.web.test_role_pages import app, system, world  # noqa: F401
from web.client import Reply
from web.ui import Refusal


def box(code: str) -> tuple[str, str]:
    """What the refusal box must say for ``code``: its name beside the code, and its source."""
    entry = rule_catalogue.rules()[code]
    return (f"<dd>{escape(entry['name'])} <code>{code}</code></dd>",
            f"<dt>Căn cứ</dt><dd>{escape(entry['source'])}</dd>")


def test_a_registration_after_the_deadline_shows_the_rule_and_the_plan_it_rests_on(app, world):
    mai = app.test_client()
    assert sign_in(mai, "mai.tt").status_code == 302
    page = f"/don-vi/phong-trao/{world['closed']['id']}"
    refused = mai.post(f"{page}/dang-ky", data=MultiDict([
        ("participant", "unit:thpt-luu-van-liet"), ("pledge_content", "Tập thể lao động xuất sắc"),
        ("pledge_start", "2023-09-05"), ("pledge_end", "2024-05-31"), ("csrf_token", csrf_of(mai.get(page)))]))
    shown = refused.get_data(as_text=True)
    assert refused.status_code == 409 and 'role="alert"' in shown
    named, cited = box("registration.deadline")
    assert named in shown and cited in shown
    assert "Hạn đăng ký thi đua" in shown and "Kế hoạch" in shown  # in Vietnamese, the plan named


def test_the_gateways_own_refusal_of_another_roles_page_shows_its_source(app):
    mai = app.test_client()
    assert sign_in(mai, "mai.tt").status_code == 302  # a unit head, not the council
    refused = mai.get("/hoi-dong/")
    shown = refused.get_data(as_text=True)
    assert refused.status_code == 403
    named, cited = box("web.role")
    assert named in shown and cited in shown and "Quy định của hệ thống" in shown


def test_a_wrong_password_shows_the_sign_in_rule_and_its_source(app):
    client = app.test_client()
    refused = sign_in(client, "mai.tt", "not-her-password")
    shown = refused.get_data(as_text=True)
    assert refused.status_code == 401
    named, cited = box("identity.password")
    assert named in shown and cited in shown


def test_the_source_a_service_gave_for_one_award_is_shown_not_the_catalogues():
    said = Refusal.of("awards", Reply(409, {"code": 409, "message": "«Tập thể lao động tiên tiến» chỉ dành cho tập thể",
                                            "rule": "award.applies_to", "rule_name": "Đối tượng của danh hiệu",
                                            "details": {"source": "Luật TĐKT 2022, Điều 28"}}))
    assert (said.rule_name, said.source) == ("Đối tượng của danh hiệu", "Luật TĐKT 2022, Điều 28")
    # a body without a citation (an older service) is cited from the catalogue
    older = Refusal.of("registration", Reply(409, {"message": "Đã quá hạn", "rule": "registration.deadline"}))
    assert older.source == rule_catalogue.rules()["registration.deadline"]["source"]
