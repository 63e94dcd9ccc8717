"""The embedded issuer: people sign in with their password, integrators with their client's secret;
every refusal is an OAuth error in Vietnamese; a revoked token is refused by the services."""
from __future__ import annotations

import base64
import json
import stat
import threading

import jwt
import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from identity import settings as identity_settings
from identity.app import create_app
from identity.directory import Directory, DirectoryError
from identity.keys import KeyRing
from shared import auth
from shared.cli import main as thidua
from shared.errors import Unauthorized

ISSUER = "http://issuer.test"


@pytest.fixture
def settings(tmp_path):
    return identity_settings.load({"DATA_DIR": str(tmp_path), "IDENTITY_ISSUER": ISSUER})


@pytest.fixture
def app(settings):
    app = create_app(settings)
    directory = app.extensions["issuer"].directory
    directory.add_client("thidua-web", "Trang đăng nhập", "password")
    directory.add_client("qlns-vinh-long", "Phần mềm nhân sự", "client_credentials", secret="qlns-secret-1",
                         province="86", scopes=["registration:read", "awards:read"])
    directory.add_user("mai.tt", "Trần Thị Mai", "86", ["unit_head"], "mai.tt-86", unit="thpt-luu-van-liet",
                       unit_level="school", authority="school")
    directory.add_user("lan.ht", "Huỳnh Thị Lan", "86", ["participant"], "lan.ht-86", unit="thpt-luu-van-liet",
                       unit_level="school")
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def sign_in(client, username, password, client_id="thidua-web"):
    return client.post("/oauth/token", data={"grant_type": "password", "client_id": client_id,
                                             "username": username, "password": password})


def basic(client_id, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def test_a_person_who_signs_in_gets_a_short_lived_token_whose_claims_are_their_directory_entry(client):
    answer = sign_in(client, "mai.tt", "mai.tt-86")
    assert answer.status_code == 200, answer.json
    assert answer.json["token_type"] == "Bearer" and answer.json["expires_in"] == 600
    claims = claims_of(answer.json["access_token"])
    assert {k: claims[k] for k in ("iss", "aud", "sub", "name", "provinces", "roles", "role", "unit",
                                   "unit_level", "authority")} == {
        "iss": ISSUER, "aud": "thidua", "sub": "mai.tt", "name": "Trần Thị Mai", "provinces": ["86"],
        "roles": ["unit_head"], "role": "unit_head", "unit": "thpt-luu-van-liet", "unit_level": "school",
        "authority": "school"}
    assert claims["exp"] - claims["iat"] == 600 and claims["jti"]
    header = jwt.get_unverified_header(answer.json["access_token"])
    assert header["alg"] == "RS256" and header["kid"] in {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]}


@pytest.mark.parametrize("username, password", [("mai.tt", "wrong-password"), ("nobody", "mai.tt-86")])
def test_a_wrong_password_or_an_unknown_user_is_one_and_the_same_oauth_refusal(client, username, password):
    answer = sign_in(client, username, password)
    assert answer.status_code == 400
    assert answer.json == {"error": "invalid_grant", "error_description": "Sai ten dang nhap hoac mat khau",
                           "message": "Sai tên đăng nhập hoặc mật khẩu"}


def test_a_disabled_person_cannot_sign_in_and_says_why(app, client):
    app.extensions["issuer"].directory.set_disabled("lan.ht")
    answer = sign_in(client, "lan.ht", "lan.ht-86")
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"
    assert "bị khóa" in answer.json["message"]


@pytest.mark.parametrize("form, status, error", [
    ({"grant_type": "password", "client_id": "thidua-web", "username": "mai.tt"}, 400, "invalid_request"),
    ({"grant_type": "password", "client_id": "no-such-app", "username": "mai.tt", "password": "mai.tt-86"},
     400, "invalid_client"),
    ({"grant_type": "authorization_code", "client_id": "thidua-web", "code": "x"}, 400, "unsupported_grant_type"),
    ({"grant_type": "client_credentials", "client_id": "thidua-web"}, 401, "invalid_client"),
])
def test_a_malformed_sign_in_is_an_oauth_error_with_a_vietnamese_reason_never_a_500(client, form, status, error):
    answer = client.post("/oauth/token", data=form)
    assert (answer.status_code, answer.json["error"]) == (status, error)
    assert answer.json["message"] and answer.json["error_description"].isascii()


def test_an_integrator_gets_a_service_token_of_its_province_with_its_scopes(client):
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                         headers=basic("qlns-vinh-long", "qlns-secret-1"))
    assert answer.status_code == 200, answer.json
    claims = claims_of(answer.json["access_token"])
    assert (claims["sub"], claims["role"], claims["roles"], claims["provinces"], claims["scope"]) == (
        "qlns-vinh-long", "service", ["service"], ["86"], "registration:read awards:read")
    narrower = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "awards:read",
                                                 "client_id": "qlns-vinh-long", "client_secret": "qlns-secret-1"})
    assert claims_of(narrower.json["access_token"])["scope"] == "awards:read"


def test_an_integrator_with_a_wrong_secret_or_asking_beyond_its_scopes_is_refused(client):
    wrong = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                        headers=basic("qlns-vinh-long", "not-the-secret"))
    assert (wrong.status_code, wrong.json["error"]) == (401, "invalid_client")
    beyond = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "awards:write"},
                         headers=basic("qlns-vinh-long", "qlns-secret-1"))
    assert (beyond.status_code, beyond.json["error"]) == (400, "invalid_scope")
    assert "phạm vi" in beyond.json["message"].lower()


def test_an_integrators_client_cannot_be_used_to_sign_a_person_in(client):
    answer = client.post("/oauth/token", data={"grant_type": "password", "username": "mai.tt",
                                               "password": "mai.tt-86"}, headers=basic("qlns-vinh-long", "qlns-secret-1"))
    assert (answer.status_code, answer.json["error"]) == (400, "unauthorized_client")


def test_a_revoked_token_is_listed_until_it_would_have_expired(client):
    token = sign_in(client, "mai.tt", "mai.tt-86").json["access_token"]
    other = sign_in(client, "mai.tt", "mai.tt-86").json["access_token"]
    assert client.get("/oauth/revoked").json == {"revoked": []}
    assert client.post("/oauth/revoke", data={"client_id": "thidua-web", "token": token}).status_code == 200
    assert client.get("/oauth/revoked").json == {"revoked": [claims_of(token)["jti"]]}
    assert claims_of(other)["jti"] not in client.get("/oauth/revoked").json["revoked"]


def test_only_the_client_a_token_was_issued_to_may_revoke_it_and_a_foreign_token_is_ignored(client):
    token = sign_in(client, "mai.tt", "mai.tt-86").json["access_token"]
    by_another = client.post("/oauth/revoke", data={"token": token}, headers=basic("qlns-vinh-long", "qlns-secret-1"))
    assert by_another.status_code == 400 and by_another.json["error"] == "invalid_grant"
    foreign = auth.mint("x" * 40, "someone", "department", ["86"])
    assert client.post("/oauth/revoke", data={"client_id": "thidua-web", "token": foreign}).status_code == 200
    assert client.get("/oauth/revoked").json == {"revoked": []}


def test_discovery_names_the_key_set_and_the_endpoints(client):
    body = client.get("/.well-known/openid-configuration").json
    assert body["issuer"] == ISSUER and body["jwks_uri"] == f"{ISSUER}/.well-known/jwks.json"
    assert body["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert all("d" not in k for k in client.get("/.well-known/jwks.json").json["keys"])  # no private part


def test_a_new_key_is_published_before_it_signs_and_the_old_one_until_it_is_retired(app, client, settings):
    old = jwt.get_unverified_header(sign_in(client, "mai.tt", "mai.tt-86").json["access_token"])["kid"]
    ring = KeyRing.load(settings.keys_file)
    new = ring.add().kid
    ring.save(settings.keys_file)
    assert {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]} == {old, new}
    assert jwt.get_unverified_header(sign_in(client, "mai.tt", "mai.tt-86").json["access_token"])["kid"] == old
    ring.use(new)
    ring.retire(old)
    ring.save(settings.keys_file)
    assert jwt.get_unverified_header(sign_in(client, "mai.tt", "mai.tt-86").json["access_token"])["kid"] == new
    assert {k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]} == {new}


def test_the_keys_and_the_directory_are_the_owners_only_and_passwords_are_kept_as_argon2_hashes(app, settings):
    assert stat.S_IMODE(settings.keys_file.stat().st_mode) == 0o600
    database = settings.database_url.removeprefix("sqlite:///")
    assert stat.S_IMODE(__import__("os").stat(database).st_mode) == 0o600
    with app.extensions["issuer"].directory.engine.connect() as conn:
        hashes = [r[0] for r in conn.exec_driver_sql("SELECT password_hash FROM users")]
    assert hashes and all(h.startswith("$argon2id$") and "86" not in h for h in hashes)


def test_a_service_accepts_the_issuers_token_over_http_and_refuses_it_once_revoked(tmp_path):
    """The issuer over real HTTP as the services' key source and revocation list."""
    server = make_server("127.0.0.1", 0, None, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app = create_app(identity_settings.load({"DATA_DIR": str(tmp_path), "IDENTITY_ISSUER": url}))
    server.app = app
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        directory = app.extensions["issuer"].directory
        directory.add_client("thidua-web", "Trang đăng nhập", "password")
        directory.add_user("mai.tt", "Trần Thị Mai", "86", ["unit_head"], "mai.tt-86", unit="thpt-luu-van-liet",
                           unit_level="school", authority="school")
        token = sign_in(app.test_client(), "mai.tt", "mai.tt-86").json["access_token"]
        verifier = auth.Verifier("s" * 40, oidc=auth.Oidc(url, "thidua", revocation_url=f"{url}/oauth/revoked",
                                                          revocation_cache_s=0))
        principal = verifier.decode(token)
        assert (principal.subject, principal.unit, principal.authority) == ("mai.tt", "thpt-luu-van-liet", "school")
        app.test_client().post("/oauth/revoke", data={"client_id": "thidua-web", "token": token})
        with pytest.raises(Unauthorized, match="thu hồi"):
            verifier.decode(token)
    finally:
        server.shutdown()


def test_operators_manage_people_and_clients_from_the_command_line(tmp_path):
    env = {"DATA_DIR": str(tmp_path)}
    run = CliRunner().invoke
    added = run(thidua, ["users", "add", "tam.lv", "--name", "Lê Văn Tâm", "--province", "86", "--role", "council",
                         "--unit", "so-gddt-vinh-long", "--unit-level", "department", "--password", "tam.lv-86"], env=env)
    assert added.exit_code == 0, added.output
    twice = run(thidua, ["users", "add", "tam.lv", "--name", "X", "--province", "86", "--role", "council",
                         "--password", "tam.lv-86"], env=env)
    assert twice.exit_code == 1 and "đã có" in twice.output
    assert run(thidua, ["users", "passwd", "tam.lv", "--password", "new-password-1"], env=env).exit_code == 0
    assert run(thidua, ["users", "disable", "tam.lv"], env=env).exit_code == 0
    listed = run(thidua, ["users", "list", "--json"], env=env)
    assert '"disabled": true' in listed.output and "Lê Văn Tâm" in listed.output
    directory = Directory(f"sqlite:///{tmp_path}/identity.db")
    assert directory.authenticate("tam.lv", "new-password-1") is not None
    assert directory.authenticate("tam.lv", "tam.lv-86") is None
    client = run(thidua, ["clients", "add", "qlns", "--name", "QLNS", "--province", "86",
                          "--scope", "registration:read awards:write", "--secret", "qlns-secret-1"], env=env)
    assert client.exit_code == 0, client.output
    assert directory.client("qlns").scopes == ("registration:read", "awards:write")
    bad = run(thidua, ["clients", "add", "q2", "--name", "Q", "--province", "86", "--scope", "everything",
                       "--secret", "qlns-secret-1"], env=env)
    assert bad.exit_code == 1 and "không hợp lệ" in bad.output


def test_a_client_may_be_given_the_webhooks_scope_and_nothing_like_it(app):
    directory = app.extensions["issuer"].directory
    directory.add_client("vnedu-86", "Hệ thống vnEdu", "client_credentials", secret="vnedu-secret-1",
                         province="86", scopes=["webhooks", "awards:read"])
    for bad in ("webhook", "webhooks:write", "payroll:read"):
        with pytest.raises(DirectoryError, match="webhooks"):
            directory.add_client(f"x-{bad}", "X", "client_credentials", secret="x-secret-1", province="86",
                                 scopes=[bad])


def test_the_token_answer_is_the_one_the_integrators_guide_shows(client):
    """The README's Integrators, Tokens: the client-credentials answer's fields and lifetime."""
    from pathlib import Path
    guide = (Path(__file__).parents[2] / "README.md").read_text().split("\n## Integrators\n", 1)[1]
    shown = json.loads("{" + guide.split("## Tokens", 1)[1].split("# {", 1)[1].split("\n", 1)[0])
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "awards:read"},
                         headers=basic("qlns-vinh-long", "qlns-secret-1"))
    assert answer.status_code == 200, answer.json
    assert set(answer.json) == set(shown)
    assert (answer.json["token_type"], answer.json["expires_in"], answer.json["scope"]) == ("Bearer", 600, "awards:read")
