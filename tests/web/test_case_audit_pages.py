"""A case's story for people, through the gateway: the page "Dấu vết hồ sơ" and the JSON
``/cases/<correlation id>/audit``, gathered without the chain key (each service verifies its own
chains with its own key and says so); a tampered event named; another province sees nothing."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from shared import audit, cases, config
from shared.eventstore import events
from tests import scenarios
from tests.driver import InProcess
from tests.unit.conftest import SECRET, build_system, close_system
from tests.web.test_accessibility import Page
from tests.web.conftest import sign_in
from tests.web.inprocess import InProcessIssuer, InProcessServiceClient
from web.app import create_app
from web.settings import load

CHAIN_KEY = "khoa-chuoi-cua-cac-dich-vu"  # the services hold it; the gateway never does
SERVICES = ("registration", "evaluation", "awards", "notifications")


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("case-audit-web")
    system = build_system(settings_for=lambda name: config.load(name, {
        "JWT_SECRET": SECRET, "DATA_DIR": str(data_dir), "CHAIN_KEY": CHAIN_KEY}))
    yield system
    close_system(system)


@pytest.fixture(scope="module")
def case(system):
    return scenarios.case_from_registration_to_notification(InProcess(system, SECRET), CHAIN_KEY.encode())


def _browser(system, province: str, username: str = "hung.nv"):
    app = create_app(replace(load({}), retry_delays_s=(0.0, 0.0, 0.0)), client=InProcessServiceClient(system),
                     clock=system.clock, issuer=InProcessIssuer(province=province))
    browser = app.test_client()
    assert sign_in(browser, username).status_code == 302
    return browser


def _answers(system, correlation_id: str, province: str) -> list[dict]:
    d = InProcess(system, SECRET)
    return [scenarios.ok(d.get(s, f"/cases/{correlation_id}/audit", role="operator", province=province), 200)
            for s in SERVICES]


def _text(page) -> str:
    spaced = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.get_data(as_text=True)))
    return re.sub(r" ([)»])", r"\1", spaced)  # what a tag closed ends where the words end


def test_the_page_tells_every_step_of_the_case_in_words_and_says_it_was_checked(system, case):
    browser = _browser(system, scenarios.HUNG_YEN)
    page = browser.get(f"/ho-so/{case['registration_id']}/dau-vet")
    assert page.status_code == 200, _text(page)
    text = _text(page)
    assert "Dấu vết hồ sơ" in text and "Đã kiểm tra:" in text and "Phát hiện sai lệch" not in text
    positions = [text.index(cases.STEPS[t]) for t in scenarios.CASE_STORY]
    assert positions == sorted(positions), "the steps are told in the order they happened"
    by_id = {e["id"]: e for e in case["case"].events}
    for event in case["case"].events[1:]:  # each later step names the event that caused it
        assert f"do bước «{cases.STEPS[by_id[event['causationid']]['type']]}» (sự kiện {event['causationid']})" in text
    assert "do thao tác của người dùng" in text  # the registration: caused by a person's command
    assert "Đã thông báo (notified)" in text and case["case"].notified[0]["recipient"] in text
    tags = [t for t, _ in Page(page.get_data(as_text=True)).tags]
    assert tags.count("h1") == 1 and tags.count("main") == 1  # as every page (tests/web/test_accessibility.py)


def test_the_json_is_the_gathered_case_verified_by_each_service_without_the_key_at_the_gateway(system, case):
    browser = _browser(system, scenarios.HUNG_YEN)
    r = browser.get(f"/cases/{case['correlation_id']}/audit")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["verified"] and body["problems"] == []
    assert [e["type"] for e in body["events"]] == scenarios.CASE_STORY
    assert [e["causationid"] for e in body["events"][1:]] == [e["id"] for e in body["events"][:-1]]
    assert {n["event_id"] for n in body["notified"]} <= {e["id"] for e in body["events"]} and body["notified"]
    # the services hold a key the gateway does not: verifying their chains without it fails every row
    answers = _answers(system, case["correlation_id"], scenarios.HUNG_YEN)
    assert all(a["chains"] == {"verified": True, "problems": []} for a in answers)
    assert any("(edited)" in p for p in audit.gather_case(case["correlation_id"], answers, b"").problems)
    assert audit.gather_case(case["correlation_id"], answers, CHAIN_KEY.encode()).verified  # the CLI's way


def test_the_follow_and_council_pages_link_to_the_case(system, case):
    browser = _browser(system, scenarios.HUNG_YEN)
    campaign_id = case["case"].events[0]["data"]["campaign_id"]
    link = f'href="/ho-so/{case["registration_id"]}/dau-vet"'
    assert link in browser.get(f"/phong-trao/{campaign_id}").get_data(as_text=True)
    council = _browser(system, scenarios.HUNG_YEN, "tam.lv").get(f"/hoi-dong/phong-trao/{campaign_id}")
    assert council.status_code == 200 and link in council.get_data(as_text=True)


def test_another_provinces_person_sees_nothing_of_the_case(system, case):
    browser = _browser(system, scenarios.GIA_LAI)
    page = browser.get(f"/ho-so/{case['registration_id']}/dau-vet")
    assert page.status_code == 404
    text = _text(page)
    assert "Không tìm thấy hồ sơ" in text and case["case"].events[0]["id"] not in text
    assert not any(cases.STEPS[t] in text for t in scenarios.CASE_STORY)
    r = browser.get(f"/cases/{case['correlation_id']}/audit")
    assert r.status_code == 404 and "events" not in r.get_json()


def test_a_tampered_event_is_a_problem_on_the_page_and_in_the_json(system):
    tampered = scenarios.case_from_registration_to_notification(InProcess(system, SECRET), CHAIN_KEY.encode())
    decided = next(e for e in tampered["case"].events if e["type"] == "awards.award.decided")
    with system.apps["awards"].extensions["runtime"].db.write() as conn:
        body = conn.execute(select(events.c.body).where(events.c.event_id == decided["id"])).scalar_one()
        conn.execute(update(events).where(events.c.event_id == decided["id"])
                     .values(body=body.replace("2024/QĐ-UBND", "2025/QĐ-UBND")))
    browser = _browser(system, scenarios.HUNG_YEN)
    body = browser.get(f"/cases/{tampered['correlation_id']}/audit").get_json()
    assert not body["verified"]
    assert any(p.startswith("[awards]") and decided["id"] in p and "(edited)" in p for p in body["problems"])
    page = browser.get(f"/ho-so/{tampered['registration_id']}/dau-vet")
    text = _text(page)
    assert page.status_code == 200 and "Phát hiện sai lệch" in text and "Đã kiểm tra:" not in text
    assert "✗ [awards]" in text and "(edited)" in text
    assert re.search(rf'<li id="su-kien-{decided["id"]}" class="attention">', page.get_data(as_text=True))


def test_the_gatherer_without_a_key_takes_a_services_word_that_its_own_chain_is_broken(system, case):
    answers = _answers(system, case["correlation_id"], scenarios.HUNG_YEN)
    evaluation = next(a for a in answers if a["service"] == "evaluation")
    evaluation["chains"] = {"verified": False, "problems": ["sự kiện x: nội dung không khớp mã băm — đã bị sửa (edited)"]}
    found = audit.gather_case(case["correlation_id"], answers, None)
    assert not found.verified and found.problems == ["[evaluation] sự kiện x: nội dung không khớp mã băm — đã bị sửa "
                                                     "(edited)"]
    for unsaid in ({"verified": False, "problems": []}, None):  # a verdict that is not "intact" is not taken as one
        evaluation["chains"] = unsaid
        assert "[evaluation]" in (found := audit.gather_case(case["correlation_id"], answers, None).problems)[0] \
            and "(no chain verdict)" in found[0], found
    del evaluation["chains"]
    assert "(no chain verdict)" in audit.gather_case(case["correlation_id"], answers, None).problems[0]


def test_the_gatherer_without_a_key_still_checks_causes_and_consumed_events(system, case):
    answers = _answers(system, case["correlation_id"], scenarios.HUNG_YEN)
    evaluation = next(a for a in answers if a["service"] == "evaluation")
    (evaluated,) = evaluation["events"]
    evaluation["events"] = []  # its chain still verified by the service, but the event is not in the trail
    problems = audit.gather_case(case["correlation_id"], answers, None).problems
    assert any("cause not in the trail" in p and evaluated["id"] in p for p in problems), problems
    assert any(p.startswith("[awards]") and evaluated["id"] in p and "(removed)" in p for p in problems), problems


def test_the_json_without_a_token_or_with_a_false_one_is_refused_with_the_services_word(system, case):
    anyone = create_app(load({}), client=InProcessServiceClient(system), clock=system.clock).test_client()
    path = f"/cases/{case['correlation_id']}/audit"
    assert anyone.get(path, headers={"Accept": "application/json"}).status_code == 401
    refused = anyone.get(path, headers={"Authorization": "Bearer not-a-token"})
    assert refused.status_code == 401 and "Cần đăng nhập để xem dấu vết hồ sơ" in refused.get_json()["message"]
    assert refused.get_json()["details"]["service"] == "registration"
