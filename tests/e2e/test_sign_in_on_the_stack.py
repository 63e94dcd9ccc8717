"""End to end: the demo province's people sign in at the embedded issuer over HTTP, then call the
services with the token they got; a wrong password gets no token; a revoked token stops working.

The real stack: Tansu, the issuer and the four services under gunicorn, their workers.
"""
import time

import pytest
import requests

from identity import demo
from shared.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack.on_free_ports(tmp_path_factory.mktemp("stack"))
    s.start()
    s.seed_demo()
    yield s
    s.stop()


def sign_in(stack, username, password):
    return requests.post(f"{stack.identity_url}/oauth/token", timeout=10, data={
        "grant_type": "password", "client_id": demo.SIGN_IN_CLIENT, "username": username, "password": password})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_seeded_person_signs_in_and_the_services_know_who_they_are(stack):
    answer = sign_in(stack, "hung.nv", "hung.nv-86")
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    assert requests.get(f"{stack.url('registration')}/campaigns", headers=bearer(token), timeout=10).status_code == 200
    units = requests.get(f"{stack.url('registration')}/units", headers=bearer(token), timeout=10).json()
    assert {u["id"] for u in units} == {unit_id for unit_id, *_ in demo.UNITS}  # every unit a token names exists


def test_every_seeded_person_can_sign_in_with_the_printed_password(stack):
    for user in demo.USERS:
        answer = sign_in(stack, user.username, user.password)
        assert answer.status_code == 200, (user.username, answer.text)


def test_an_integrator_gets_a_service_token_the_services_accept(stack):
    client = demo.CLIENTS[0]
    answer = requests.post(f"{stack.identity_url}/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(client.client_id, client.secret), timeout=10)
    assert answer.status_code == 200, answer.text
    campaigns = requests.get(f"{stack.url('registration')}/campaigns",
                             headers=bearer(answer.json()["access_token"]), timeout=10)
    assert campaigns.status_code == 200


def test_a_wrong_password_gets_no_token(stack):
    answer = sign_in(stack, "hung.nv", "not-the-password")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant" and answer.json()["message"] == "Sai tên đăng nhập hoặc mật khẩu"


def test_a_revoked_token_is_refused_by_the_service_within_seconds(stack):
    token = sign_in(stack, "mai.tt", "mai.tt-86").json()["access_token"]
    url = f"{stack.url('registration')}/campaigns"
    assert requests.get(url, headers=bearer(token), timeout=10).status_code == 200
    revoked = requests.post(f"{stack.identity_url}/oauth/revoke", timeout=10,
                            data={"client_id": demo.SIGN_IN_CLIENT, "token": token})
    assert revoked.status_code == 200
    deadline = time.monotonic() + 15  # the services' list is fetched again every OIDC_REVOCATION_CACHE_S (5 s)
    while (answer := requests.get(url, headers=bearer(token), timeout=10)).status_code == 200:
        assert time.monotonic() < deadline, "the revoked token is still accepted"
        time.sleep(0.5)
    assert answer.status_code == 401 and answer.json()["rule"] == "auth.revoked"


def test_seeding_again_after_a_restart_changes_nothing(stack):
    stack.seed_demo()
    assert sign_in(stack, "hung.nv", "hung.nv-86").status_code == 200
