"""The gateway's dossier files (web/documents.py): a page uploads a file and downloads one through the
services, as the caller, over both ServiceClient adapters (HTTP to the services on real sockets, and
their Flask test clients); the services' refusals come back as they said them."""
from __future__ import annotations

import io
import socket

import pytest

from tests import files
from tests.driver import InProcess
from tests.scenarios import ok
from tests.unit.conftest import SECRET
from tests.unit.test_award_rules import BALLOT_8, TEACHER_EVIDENCE, nominate_, teacher
from tests.unit.test_award_trust import head_of
from tests.web.inprocess import InProcessServiceClient
from tests.web.test_service_client import served  # noqa: F401  (the services on sockets, a fixture)
from web.app import create_app
from web.client import HttpServiceClient, ServiceUnavailable
from web.settings import SERVICES, WebSettings

P = "86"
GATEWAY_LIMIT = 50_000


@pytest.fixture(params=["http", "in-process"])
def gateway(request, system, served):  # noqa: F811
    settings = WebSettings(served.service_urls, timeout_s=10, upload_max_bytes=GATEWAY_LIMIT)
    client = HttpServiceClient(settings) if request.param == "http" else InProcessServiceClient(system)
    return create_app(settings, client=client, clock=system.clock).test_client()


@pytest.fixture
def d(system):
    return InProcess(system, SECRET)


def send(gateway, d, content: bytes, filename="to-trinh.pdf", service="awards", **who):
    """Uploaded by ``who`` (the token's role and claims; a unit head of the province by default)."""
    who = {"role": "unit_head", "province": P, **who}
    return gateway.post(f"/documents/{service}", data={"file": (io.BytesIO(content), filename, "application/pdf")},
                        headers=d.token(**who), content_type="multipart/form-data")


def test_a_page_uploads_a_dossier_file_and_the_council_downloads_it_through_the_gateway(gateway, d):
    e = teacher(d)
    content = files.pdf("To trinh qua cong")
    up = send(gateway, d, content, filename="Tờ trình 12.pdf", **head_of(e, d))
    assert up.status_code == 201, up.get_json()
    ref = up.get_json()
    assert ref["media_type"] == "application/pdf" and ref["name"] == "Tờ trình 12.pdf"
    n = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8, documents=[ref]))
    got = gateway.get(f"/nominations/{n['id']}/documents/{ref['sha256']}", headers=d.token("council", P))
    assert got.status_code == 200 and got.data == content
    assert got.headers["Content-Type"] == "application/pdf"
    assert "T%E1%BB%9D%20tr%C3%ACnh%2012.pdf" in got.headers["Content-Disposition"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"

    other_head = gateway.get(f"/nominations/{n['id']}/documents/{ref['sha256']}",
                             headers=d.token(**{**head_of(e, d), "unit": "truong-khac"}))
    assert other_head.status_code == 403 and other_head.get_json()["rule"] == "documents.readers"
    elsewhere = gateway.get(f"/nominations/{n['id']}/documents/{ref['sha256']}", headers=d.token("council", "83"))
    assert elsewhere.status_code == 404 and "Không có đề nghị" in elsewhere.get_json()["message"]
    assert gateway.get(f"/nominations/{n['id']}/documents/{ref['sha256']}").status_code == 401


def test_a_council_uploads_evidence_and_reads_it_back_through_the_gateway(gateway, d, system):
    e = teacher(d)
    content = files.png()
    ref = send(gateway, d, content, filename="anh.png", service="evaluation", role="council").get_json()
    set_id = ok(d.get("evaluation", f"/evaluations/{e.registration_id}", role="council", province=P), 200)[0][
        "criteria_set_id"]
    ok(d.post("evaluation", "/evaluations", {"registration_id": e.registration_id, "criteria_set_id": set_id,
                                             "evidence": TEACHER_EVIDENCE, "documents": [ref]},
              role="council", province=P))
    got = gateway.get(f"/evaluations/{e.registration_id}/documents/{ref['sha256']}", headers=d.token("council", P))
    assert got.status_code == 200 and got.data == content and got.headers["Content-Type"] == "image/png"


def test_the_services_refusals_of_an_upload_come_back_as_they_said_them(gateway, d):
    wrong = send(gateway, d, files.exe(), filename="bao-cao.pdf")
    assert wrong.status_code == 415 and wrong.get_json()["rule"] == "documents.type"
    assert "Loại tệp không được chấp nhận" in wrong.get_json()["message"]
    assert send(gateway, d, files.pdf(), role="participant").status_code == 403
    assert send(gateway, d, files.pdf(), service="evaluation", role="unit_head").status_code == 403


def test_the_gateway_refuses_a_file_over_its_limit_before_sending_it_on(gateway, d):
    for size in (GATEWAY_LIMIT + 1, 5 * GATEWAY_LIMIT):  # read and counted, and refused while read
        r = send(gateway, d, files.pdf() + b"x" * size)
        assert r.status_code == 413, r.get_json()
        body = r.get_json()
        assert body["rule"] == "documents.size" and set(body["errors"]) == {"file"}
        assert body["details"] == {"max_bytes": GATEWAY_LIMIT} and "Tệp quá lớn" in body["message"]


def test_no_file_or_a_service_that_takes_none_is_a_clear_4xx(gateway, d):
    none = gateway.post("/documents/awards", data={}, headers=d.token("unit_head", P),
                        content_type="multipart/form-data")
    assert none.status_code == 422 and set(none.get_json()["errors"]) == {"file"}
    assert send(gateway, d, files.pdf(), service="notifications").status_code == 404


# == the ServiceClient port's two new methods, held by both adapters ============================
@pytest.fixture(params=["http", "in-process"])
def client(request, system, served):  # noqa: F811
    return HttpServiceClient(served) if request.param == "http" else InProcessServiceClient(system)


def test_upload_and_download_answer_what_the_service_said_on_both_adapters(client, d):
    e = teacher(d)
    head = d.token(**head_of(e, d))["Authorization"]
    content = files.docx("Báo cáo thành tích")
    up = client.upload("awards", "/documents", head, "Báo cáo.docx", content, "application/octet-stream")
    assert up.status == 201 and up.body["media_type"].endswith("wordprocessingml.document")
    n = ok(nominate_(d, e, "chien_si_thi_dua_co_so", "2024-12-01", minutes=BALLOT_8, documents=[up.body]))
    got = client.download("awards", f"/nominations/{n['id']}/documents/{up.body['sha256']}", head)
    assert (got.status, got.content, got.media_type) == (200, content, up.body["media_type"])
    assert got.disposition.startswith("attachment") and got.body is None
    missing = client.download("awards", f"/nominations/khong-co/documents/{up.body['sha256']}", head)
    assert missing.status == 404 and missing.content == b"" and "Không có đề nghị" in missing.body["message"]
    refused = client.upload("awards", "/documents", None, "a.pdf", files.pdf(), "application/pdf")
    assert refused.status == 401 and "Thiếu mã thông báo" in refused.body["message"]
    with pytest.raises(KeyError):
        client.download("payroll", "/x", head)


def test_a_service_that_does_not_answer_an_upload_or_a_download_is_a_503_of_the_gateway(system, d):
    with socket.socket() as s:  # a port nothing listens on once it is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dead = WebSettings({name: f"http://127.0.0.1:{port}" for name in SERVICES}, timeout_s=2)
    with pytest.raises(ServiceUnavailable):
        HttpServiceClient(dead).upload("awards", "/documents", None, "a.pdf", files.pdf(), "application/pdf")
    with pytest.raises(ServiceUnavailable):
        HttpServiceClient(dead).download("awards", "/nominations/x/documents/y", None)
    gateway = create_app(dead, clock=system.clock).test_client()
    for r in (send(gateway, d, files.pdf()), gateway.get("/evaluations/r1/documents/ab", headers=d.token("council", P))):
        assert r.status_code == 503 and r.get_json()["details"]["retryable"] is True, r.get_json()
