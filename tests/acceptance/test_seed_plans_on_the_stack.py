"""Acceptance: the seed plans replayed over HTTP on the real stack
(Tansu, the four services under gunicorn, their workers), plus e-mail through a real SMTP server."""
import time

import pytest

from shared.stack import Stack
from tests import scenarios
from tests.driver import OverHttp
from tests.smtp import smtp_server

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


@pytest.fixture(scope="module")
def mailbox():
    with smtp_server() as served:
        yield served


@pytest.fixture(scope="module")
def driver(tmp_path_factory, mailbox):
    controller, _ = mailbox
    stack = Stack.on_free_ports(tmp_path_factory.mktemp("acceptance"), test_clock=True,
                                extra_env={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(controller.port)})
    stack.start()
    yield OverHttp(stack)
    stack.stop()


@pytest.mark.parametrize("scenario", [scenarios.my_hoa, scenarios.gia_lai, scenarios.da_nang,
                                      scenarios.quang_ninh, scenarios.ad_hoc, scenarios.two_provinces],
                         ids=lambda f: f.__name__)
def test_seed_plan_on_the_real_stack(driver, scenario):
    scenario(driver)


def test_a_decision_reaches_the_inbox_the_public_list_and_the_mailbox(driver, mailbox):
    _, box = mailbox
    outcome = scenarios.da_nang(driver)
    driver.settle()
    public = scenarios.ok(driver.get("notifications", f"/public/{scenarios.DA_NANG}/commendations"
                                     f"?campaign_id={outcome['campaign_id']}"), 200)
    assert [p["decision_number"] for p in public["decided"]] == ["2150/QĐ-SGDĐT"]
    scenarios.ok(driver.post("notifications", "/recipients", {"id": "gv-mail", "name": "Giáo viên có thư",
                                                              "email": "gv@truong.edu.vn"}, province="48"))
    campaign = scenarios.launch(driver, "48", title="Thi đua có thư điện tử", issuer="Sở GD&ĐT Đà Nẵng")
    scenarios.ok(scenarios.register(driver, "48", campaign["id"], {**scenarios.individual("teacher", "Giáo viên"),
                                                                  "participant_id": "gv-mail"}, on="2024-04-01"))
    deadline = time.monotonic() + 30
    while not any("gv@truong.edu.vn" in m.rcpt_tos for m in box.messages) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any("gv@truong.edu.vn" in m.rcpt_tos for m in box.messages)
