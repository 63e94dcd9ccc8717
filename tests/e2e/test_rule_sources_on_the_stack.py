"""Refusals over HTTP on the real stack (gunicorn, Tansu) cite their rule: a registration after the
deadline and a decision over the campaign's quota carry the catalogue's name and source, a nomination
for a title of another kind the rulebook's own article for that title; the OpenAPI documents say so
(issue 12)."""
import pytest
import requests

from shared import rule_catalogue
from shared.stack import SERVICES, Stack
from tests import scenarios as s
from tests.contract.test_award_quota_on_postgres import approved_nominations
from tests.driver import OverHttp

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]
P = s.HUNG_YEN


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    st = Stack.on_free_ports(tmp_path_factory.mktemp("rule-sources"), test_clock=True)
    st.start()
    yield st
    st.stop()


def cited(reply, code: str) -> dict:
    """The refusal's body, after checking it names ``code`` with the catalogue's name."""
    assert reply.status == 409 and reply.body["rule"] == code, reply
    assert reply.body["rule_name"] == rule_catalogue.rules()[code]["name"], reply.body
    return reply.body


def test_refusals_over_http_carry_their_rule_name_and_source(stack):
    d = OverHttp(stack)
    cid, ids = approved_nominations(d, 2, P, quota=1)

    late = cited(s.register(d, P, cid, s.individual("teacher", "Giáo viên đăng ký muộn"), on="2024-12-05"),
                 "registration.deadline")
    assert late["source"] == rule_catalogue.rules()["registration.deadline"]["source"]
    assert "Kế hoạch" in late["source"] and "30/04/2024" in late["message"]

    # the rulebook cites each title's own article: it is kept over the catalogue's general one
    teacher = s.ok(d.get("awards", f"/campaigns/{cid}/participants", province=P), 200)[0]["registration_id"]
    wrong_kind = cited(s.nominate(d, P, cid, teacher, "tap_the_lao_dong_tien_tien", on="2024-12-05",
                                  submitted_to="department"), "award.applies_to")
    assert wrong_kind["source"] == wrong_kind["details"]["source"] == "Luật TĐKT 2022, Điều 28"

    s.ok(s.decide(d, P, ids[0], "1/QĐ-SGDĐT", "2024-12-10", level="department", issuer="Giám đốc Sở GD&ĐT"))
    over = cited(s.decide(d, P, ids[1], "2/QĐ-SGDĐT", "2024-12-10", level="department",
                          issuer="Giám đốc Sở GD&ĐT"), "decision.quota")
    assert over["source"] == rule_catalogue.rules()["decision.quota"]["source"]
    assert over["details"] == {"quota": 1, "used": 1, "award": "giay_khen"}


def test_every_services_openapi_document_describes_the_refusal_body(stack):
    for service in SERVICES:  # every operation's default answer, and the 422 of its arguments
        doc = requests.get(f"{stack.url(service)}/openapi.json", timeout=30).json()
        ref = doc["components"]["responses"]["DEFAULT_ERROR"]["content"]["application/json"]["schema"]["$ref"]
        error = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]["properties"]
        assert {"code", "message", "rule", "rule_name", "source", "errors", "details", "retryable"} <= set(error)
        assert "căn cứ" in error["source"]["description"]
