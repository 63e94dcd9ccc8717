"""Dossier files end to end, as the demo province's people would: signed in at the issuer, they upload
through the web gateway (gunicorn) to the services (gunicorn, their workers, Tansu), which keep the
files in S3-compatible storage (moto's S3 server over HTTP, as production would have MinIO or a
cloud's); the dossier names them, and only those who may see it get them back.
"""
import io
import sys
import time
import uuid

import pytest
import requests

from shared import auth
from shared.broker import free_port
from shared.stack import Stack
from tests import files
from tests.e2e.test_sign_in_on_the_stack import sign_in
from tests.e2e.test_trust_on_the_stack import CRITERIA, PLEDGES, Person, campaign, ok, teacher
from tests.s3 import CREDENTIALS, s3_server

pytestmark = [pytest.mark.e2e, pytest.mark.kafka]
LIMIT = 200_000
BUCKET = "thidua-documents"


@pytest.fixture(scope="module")
def s3():
    with s3_server() as server:
        server.bucket(BUCKET)
        yield server


@pytest.fixture(scope="module")
def stack(tmp_path_factory, s3):
    s = Stack.on_free_ports(tmp_path_factory.mktemp("stack-documents"), extra_env={
        "DOCUMENTS_URL": f"s3://{BUCKET}/thidua", "DOCUMENTS_S3_ENDPOINT_URL": s3.endpoint_url,
        "DOCUMENTS_MAX_BYTES": str(LIMIT), **CREDENTIALS})
    s.start()
    s.seed_demo()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def gateway(stack):
    """The web gateway under gunicorn, over the stack's services (stopped with the stack)."""
    port = free_port()
    stack._spawn("web-gateway", [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--worker-class", "gthread",
        "--threads", "2", "--no-control-socket", "web.app:serve()"], "web",
        {**{f"{s.upper()}_URL": stack.url(s) for s in ("registration", "evaluation", "awards", "notifications")},
         "DOCUMENTS_MAX_BYTES": str(LIMIT)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return url
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, f"the gateway did not start; see {stack.data_dir}/logs"
        time.sleep(0.2)


def upload(gateway, person: Person, service: str, content: bytes, filename: str):
    return requests.post(f"{gateway}/documents/{service}", headers=person.headers, timeout=30,
                         files={"file": (filename, io.BytesIO(content), "application/pdf")})


def test_the_councils_evidence_and_the_heads_dossier_go_to_s3_and_back_to_those_who_may_see_them(stack, gateway, s3):
    hung, mai, tam, chau, lan = (Person(stack, u) for u in ("hung.nv", "mai.tt", "tam.lv", "chau.pm", "lan.ht"))
    made = campaign(hung)
    rid = ok(mai.post("registration", f"/campaigns/{made['id']}/registrations",
                      {"participant": teacher(f"gv-{uuid.uuid4().hex[:6]}"), "pledges": PLEDGES}))["id"]
    set_id = f"gv-{uuid.uuid4().hex[:6]}"
    ok(tam.post("evaluation", "/criteria-sets", {"id": set_id, "name": "Tiêu chí giáo viên", "applies_to": ["teacher"],
                                                 "source": "Kế hoạch của Sở", "criteria": CRITERIA}))
    proof = files.jpeg()
    evidence = upload(gateway, tam, "evaluation", proof, "giay-chung-nhan-sang-kien.jpg")
    assert evidence.status_code == 201, evidence.text
    evidence = evidence.json()
    assert ok(tam.post("evaluation", "/evaluations", {"registration_id": rid, "criteria_set_id": set_id,
                                                      "evidence": {"sang_kien": 2},
                                                      "documents": [{**evidence, "criterion": "sang_kien"}]}))["passed"]

    letter = files.pdf("To trinh 12/TTr")
    refused = upload(gateway, mai, "awards", files.exe(), "to-trinh.pdf")  # a program, whatever its name
    assert refused.status_code == 415 and refused.json()["errors"].keys() == {"file"}
    too_big = upload(gateway, mai, "awards", letter + b"x" * LIMIT, "to-trinh.pdf")
    assert too_big.status_code == 413 and "Tệp quá lớn" in too_big.json()["message"]
    up = upload(gateway, mai, "awards", letter, "Tờ trình 12-TTr.pdf")
    assert up.status_code == 201, up.text
    ref = up.json()
    ghost = {**ref, "sha256": "0" * 64}
    code, body = mai.post("awards", "/nominations", {
        "campaign_id": made["id"], "registration_id": rid, "award": "bang_khen_chu_tich_tinh",
        "dossier": {"submission_letter": "TTr 12", "achievement_report": "Báo cáo thành tích", "documents": [ghost]}})
    assert code == 422 and set(body["errors"]) == {"dossier.documents.0.sha256"}, body
    nomination = ok(mai.post("awards", "/nominations", {
        "campaign_id": made["id"], "registration_id": rid, "award": "bang_khen_chu_tich_tinh",
        "dossier": {"submission_letter": "TTr 12", "achievement_report": "Báo cáo thành tích", "documents": [ref]}}))
    assert nomination["dossier"]["documents"] == [ref]
    assert f"thidua/awards/{ref['sha256']}" in s3.keys(BUCKET)
    assert f"thidua/evaluation/{evidence['sha256']}" in s3.keys(BUCKET)  # each service under its own prefix

    dossier_file = f"/nominations/{nomination['id']}/documents/{ref['sha256']}"
    for reader in (tam, chau, mai):
        got = requests.get(gateway + dossier_file, headers=reader.headers, timeout=30)
        assert got.status_code == 200 and got.content == letter, (reader.username, got.status_code)
        assert got.headers["Content-Type"] == "application/pdf"
    got = requests.get(f"{gateway}/evaluations/{rid}/documents/{evidence['sha256']}", headers=tam.headers, timeout=30)
    assert got.status_code == 200 and got.content == proof

    assert requests.get(gateway + dossier_file, headers=lan.headers, timeout=30).status_code == 403  # the teacher
    other_school = {"Authorization": "Bearer " + auth.mint(stack.secret, "ht-nbk", "unit_head", ["86"],
                                                           unit="thpt-chuyen-nguyen-binh-khiem", unit_level="school")}
    refusal = requests.get(gateway + dossier_file, headers=other_school, timeout=30)
    assert refusal.status_code == 403 and refusal.json()["rule"] == "documents.readers"
    hung_yen = {"Authorization": "Bearer " + auth.mint(stack.secret, "hd-hy", "council", ["33"])}
    assert requests.get(gateway + dossier_file, headers=hung_yen, timeout=30).status_code == 404
    assert sign_in(stack, "mai.tt", "mai.tt-86").status_code == 200  # the issuer still answers after it all
