"""The :class:`web.signin.Issuer` port's contract, held by both adapters: over HTTP against the
real embedded issuer (identity/, served on a socket, the demo directory seeded) and the
in-process issuer the fast page tests use."""
from __future__ import annotations

import threading

import pytest
import requests
from werkzeug.serving import make_server

from identity import demo
from identity import settings as identity_settings
from identity.app import create_app as create_issuer
from identity.directory import Directory
from shared.broker import free_port
from tests.web.inprocess import InProcessIssuer
from web.settings import load
from web.signin import HttpIssuer, IssuerUnavailable, SignInRefused, who


@pytest.fixture(scope="module")
def issuer_url(tmp_path_factory):
    data = tmp_path_factory.mktemp("issuer")
    port = free_port()
    # its discovery document names its endpoints under its public URL: this socket's
    settings = identity_settings.load({"DATA_DIR": str(data), "IDENTITY_ISSUER": f"http://127.0.0.1:{port}"})
    server = make_server("127.0.0.1", port, create_issuer(settings))
    demo.seed_directory(Directory(settings.database_url))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(params=["http", "in-process"])
def issuer(request, issuer_url):
    if request.param == "in-process":
        return InProcessIssuer()
    return HttpIssuer(load({"IDENTITY_URL": issuer_url}))


def test_a_demo_person_signs_in_and_the_token_names_them(issuer):
    signed = issuer.sign_in("mai.tt", "mai.tt-86")
    person = who(signed.access_token)
    assert (person.name, person.role, person.unit, person.authority, person.provinces) == \
        ("Trần Thị Mai", "unit_head", "thpt-luu-van-liet", "school", ("86",))
    assert signed.expires_at > 0


@pytest.mark.parametrize("username, password", [("mai.tt", "sai"), ("khong.co", "khong.co-86")])
def test_a_wrong_password_or_an_unknown_person_is_refused_in_vietnamese(issuer, username, password):
    with pytest.raises(SignInRefused) as refused:
        issuer.sign_in(username, password)
    assert "Sai tên đăng nhập hoặc mật khẩu" in refused.value.message


def test_signing_out_twice_is_no_error(issuer):
    signed = issuer.sign_in("lan.ht", "lan.ht-86")
    issuer.sign_out(signed.access_token)
    issuer.sign_out(signed.access_token)


def test_signing_out_revokes_the_token_at_the_real_issuer(issuer_url):
    issuer = HttpIssuer(load({"IDENTITY_URL": issuer_url}))
    signed = issuer.sign_in("lan.ht", "lan.ht-86")
    issuer.sign_out(signed.access_token)
    revoked = requests.get(f"{issuer_url}/oauth/revoked", timeout=5).json()["revoked"]
    assert who(signed.access_token).token_id in revoked


def test_an_issuer_that_does_not_answer_is_unavailable():
    with pytest.raises(IssuerUnavailable):
        HttpIssuer(load({"IDENTITY_URL": "http://127.0.0.1:9", "SERVICE_TIMEOUT_S": "2"})).sign_in("a", "b")


def test_a_keycloak_shaped_issuer_is_used_at_the_endpoints_its_discovery_names():
    """A province's own provider (Keycloak's realm layout): the page signs in and out at the
    endpoints of its discovery document, not at the embedded issuer's paths."""
    from flask import Flask, request as flask_request
    realm = Flask(__name__)
    calls = []
    base = {}

    @realm.get("/realms/vinhlong/.well-known/openid-configuration")
    def discovery():
        root = base["url"] + "/realms/vinhlong/protocol/openid-connect"
        return {"issuer": base["url"] + "/realms/vinhlong", "token_endpoint": root + "/token",
                "revocation_endpoint": root + "/revoke"}

    @realm.post("/realms/vinhlong/protocol/openid-connect/token")
    def token():
        calls.append(("token", dict(flask_request.form)))
        if flask_request.form.get("password") != "right":
            return {"error": "invalid_grant", "error_description": "Invalid user credentials"}, 401
        return {"access_token": "header.payload.signature", "expires_in": 300}

    @realm.post("/realms/vinhlong/protocol/openid-connect/revoke")
    def revoke():
        calls.append(("revoke", dict(flask_request.form)))
        return "", 200

    server = make_server("127.0.0.1", 0, realm)
    base["url"] = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        issuer = HttpIssuer(load({"IDENTITY_URL": base["url"] + "/realms/vinhlong"}))
        with pytest.raises(SignInRefused, match="Invalid user credentials"):
            issuer.sign_in("mai.tt", "wrong")
        signed = issuer.sign_in("mai.tt", "right")
        issuer.sign_out(signed.access_token)
    finally:
        server.shutdown()
    assert signed.access_token == "header.payload.signature"
    assert [(kind, form.get("grant_type") or form.get("token")) for kind, form in calls] == [
        ("token", "password"), ("token", "password"), ("revoke", "header.payload.signature")]
    assert calls[1][1]["client_id"] == "thidua-web"
