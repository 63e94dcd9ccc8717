"""The ServiceClient port's contract, held by both adapters: over HTTP (requests, against the
in-process services served on real sockets) and over the services' Flask test clients."""
from __future__ import annotations

import socket
import threading
import uuid

import pytest
from werkzeug.serving import make_server

from tests.unit.conftest import token
from tests.web.inprocess import InProcessServiceClient
from tests.web.seed import P
from web.app import create_app
from web.client import HttpServiceClient, ServiceUnavailable
from web.settings import SERVICES, WebSettings


@pytest.fixture(scope="module")
def served(system):
    """Each service of the in-process system on a socket of its own: the URLs the HTTP adapter is given."""
    servers = {name: make_server("127.0.0.1", 0, system.apps[name]) for name in SERVICES}
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers.values()]
    for t in threads:
        t.start()
    yield WebSettings({name: f"http://127.0.0.1:{s.server_port}" for name, s in servers.items()}, timeout_s=10)
    for s in servers.values():
        s.shutdown()


@pytest.fixture(params=["http", "in-process"])
def client(request, system, served):
    return HttpServiceClient(served) if request.param == "http" else InProcessServiceClient(system)


def bearer(province: str = P) -> str:
    return token("department", (province,))["Authorization"]


def test_an_answer_carries_its_status_and_json_body_and_the_callers_token(client, seeded):
    reply = client.get("registration", f"/campaigns/{seeded.campaign_id}", bearer())
    assert reply.status == 200 and reply.body["id"] == seeded.campaign_id and reply.body["province"] == P


def test_a_refusal_is_an_answer_not_an_error(client, seeded):
    unknown = client.get("registration", f"/campaigns/{seeded.campaign_id}", bearer("83"))
    anonymous = client.get("awards", f"/campaigns/{seeded.campaign_id}/quotas", None)
    assert (unknown.status, anonymous.status) == (404, 401)
    assert "Không tìm thấy phong trào thi đua" in unknown.body["message"]
    assert "Thiếu mã thông báo" in anonymous.body["message"]


def test_a_command_carries_its_json_body_and_a_refused_one_is_an_answer(client, seeded):
    unit = {"id": f"thcs-{uuid.uuid4().hex[:8]}", "name": "Trường THCS Lê Quý Đôn", "kind": "school"}
    made = client.send("post", "registration", "/units", bearer(), json=unit)
    again = client.send("POST", "registration", "/units", bearer(), json=unit)
    assert made.status == 201 and made.body["id"] == unit["id"] and made.body["name"] == unit["name"]
    assert again.status == 409 and again.body["rule"] == "unit.once"


def test_a_read_is_not_sent_as_a_command(client):
    with pytest.raises(ValueError):
        client.send("GET", "registration", "/units", bearer())


def test_an_unknown_service_is_a_key_error(client):
    with pytest.raises(KeyError):
        client.get("payroll", "/health", bearer())


def test_a_service_that_does_not_answer_is_unavailable():
    with socket.socket() as s:  # a port nothing listens on once it is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = HttpServiceClient(WebSettings({name: f"http://127.0.0.1:{port}" for name in SERVICES}, timeout_s=2))
    with pytest.raises(ServiceUnavailable) as caught:
        client.get("awards", "/rules", bearer())
    assert caught.value.service == "awards"


def test_the_gateway_over_http_answers_the_same_report_and_a_dead_service_is_a_503(system, seeded, served):
    over_http = create_app(served, clock=system.clock).test_client()
    in_process = create_app(served, client=InProcessServiceClient(system), clock=system.clock).test_client()
    path = f"/reports/campaigns/{seeded.campaign_id}/final.csv"
    a, b = over_http.get(path, headers=token("council", (P,))), in_process.get(path, headers=token("council", (P,)))
    assert a.status_code == b.status_code == 200 and a.data == b.data

    dead = WebSettings({**served.service_urls, "awards": "http://127.0.0.1:9"}, timeout_s=2)
    r = create_app(dead, clock=system.clock).test_client().get(path, headers=token("council", (P,)))
    assert r.status_code == 503 and r.get_json()["details"] == {"service": "awards", "retryable": True}
    assert "khen thưởng không trả lời" in r.get_json()["message"]
