"""Webhooks that cannot be turned against the installation, nor leak their secrets: no
server-side request forgery (refused at subscription, checked again and pinned at each
delivery), secret rotation with a grace period verified by a real receiver holding either
secret, secrets sealed at rest (and the rows stored before), and the province's read-only list."""
import datetime as dt
import os
import socket
import ssl
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from ipaddress import ip_address, ip_network
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared import migrations
from shared.db import Database
from tests import scenarios as s
from tests.unit.test_webhooks import INTEGRATOR, OTHER, P, d, db, deliver_until, rows  # noqa: F401 (fixtures)
from tests.webhook_receiver import receiver

from services.notifications import webhook_net, webhooks
from services.notifications.webhook_net import NetworkPolicy, RefusedAddress
from services.notifications.webhook_secrets import SecretBox
from services.notifications.webhook_sender import SenderSettings, WebhookSender

LOOPBACK = NetworkPolicy(allowed=(ip_network("127.0.0.0/8"),))
FAST = dict(backoff_s=0.01, backoff_cap_s=0.05, max_attempts=50)


@pytest.fixture
def strict(monkeypatch):
    """An installation that opened no network."""
    for name in ("WEBHOOK_ALLOWED_NETWORKS", "WEBHOOK_ALLOW_PRIVATE", "WEBHOOK_ALLOW_HTTP"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def loopback_opened(monkeypatch):
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")


def subscribe(d, url, types=("registration.*",), **who):
    return d.post("notifications", "/webhooks", {"url": url, "event_types": list(types)},
                  **{"province": P, **INTEGRATOR, **who})


def subscriptions(db):
    with db.read() as conn:
        return [dict(r) for r in conn.execute(select(webhooks.subscriptions)).mappings()]


class Resolver:
    """socket.getaddrinfo for made-up names: each name answers its addresses in turn (the last one
    stays), and every name asked is recorded; real resolution for everything else."""

    def __init__(self, monkeypatch, **answers):
        self.answers = {name.replace("_", "."): list(addrs) for name, addrs in answers.items()}
        self.asked: list[str] = []
        self._real = socket.getaddrinfo
        monkeypatch.setattr(socket, "getaddrinfo", self)

    def __call__(self, host, port, *args, **kwargs):
        self.asked.append(host)
        if host not in self.answers:
            return self._real(host, port, *args, **kwargs)
        queue = self.answers[host]
        addr = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (addr, port))]


# == server-side request forgery ==================================================================
@pytest.mark.parametrize("address, says", [
    ("169.254.169.254", "link-local"), ("10.1.2.3", "private"), ("172.16.0.9", "private"),
    ("192.168.1.1", "private"), ("127.0.0.1", "loopback"), ("127.8.8.8", "loopback"), ("::1", "loopback"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"), ("fe80::1", "link-local"), ("224.0.0.251", "multicast"),
    ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"), ("240.0.0.1", "reserved"), ("100.64.0.1", "not a global"),
    ("::ffff:10.0.0.1", "private"), ("::ffff:169.254.169.254", "link-local"),
])
def test_an_address_inside_the_installation_is_refused(address, says):
    problem = NetworkPolicy().address_problem(ip_address(address))
    assert problem and says in problem and "WEBHOOK_ALLOWED_NETWORKS" in problem
    assert NetworkPolicy(allow_private=True).address_problem(ip_address(address)) is None


def test_public_addresses_pass_and_the_allow_list_opens_only_its_networks():
    for public in ("8.8.8.8", "203.162.4.191", "2001:4860:4860::8888"):
        assert NetworkPolicy().address_problem(ip_address(public)) is None
    opened = NetworkPolicy.from_env({"WEBHOOK_ALLOWED_NETWORKS": "10.20.0.0/16, fd00:1::/64"})
    assert opened.address_problem(ip_address("10.20.3.4")) is None
    assert opened.address_problem(ip_address("fd00:1::5")) is None
    assert opened.address_problem(ip_address("10.21.0.1"))
    assert opened.address_problem(ip_address("169.254.169.254"))
    assert NetworkPolicy.from_env({"WEBHOOK_ALLOW_PRIVATE": "1"}).allow_private
    with pytest.raises(ValueError, match="WEBHOOK_ALLOWED_NETWORKS"):
        NetworkPolicy.from_env({"WEBHOOK_ALLOWED_NETWORKS": "10.0.0.0/33"})


@pytest.mark.parametrize("url, says", [
    ("https://169.254.169.254/latest/meta-data/", "link-local"),
    ("https://10.0.0.5/hook", "private"),
    ("https://[::1]:8443/hook", "loopback"),
    ("https://[fd00::7]/hook", "private"),
    ("https://[::ffff:127.0.0.1]/hook", "loopback"),
    ("https://localhost/hook", "loopback"),  # a name: refused by what it resolves to
    ("https://2130706433/hook", "loopback"),  # 127.0.0.1 spelled as one number: the resolver reads it so
    ("https://0x7f.1/hook", "loopback"),
    ("http://127.0.0.1:9/hook", "loopback"),
])
def test_a_subscription_to_an_internal_address_is_a_422_naming_url(d, db, strict, url, says):
    r = subscribe(d, url)
    assert r.status == 422, r
    (message,) = r.body["errors"]["json"]["url"]
    assert says in message and "địa chỉ công khai" in message, message
    assert subscriptions(db) == []


def test_a_name_that_resolves_inside_is_refused_and_one_that_resolves_outside_is_taken(d, db, strict, monkeypatch):
    Resolver(monkeypatch, metadata_vinhlong_gov_vn=["169.254.169.254"], mixed_vinhlong_gov_vn=["203.162.4.191"],
             qlns_vinhlong_gov_vn=["203.162.4.190"])
    r = subscribe(d, "https://metadata.vinhlong.gov.vn/hook")
    assert r.status == 422 and "metadata.vinhlong.gov.vn → 169.254.169.254" in r.body["errors"]["json"]["url"][0]
    assert s.ok(subscribe(d, "https://qlns.vinhlong.gov.vn/hook"))["url"] == "https://qlns.vinhlong.gov.vn/hook"


def test_a_name_with_one_internal_address_among_public_ones_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, port, **kw: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.162.4.191", port)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.8", port))])
    with pytest.raises(RefusedAddress, match="10.0.0.8"):
        NetworkPolicy().checked("hai-dia-chi.vinhlong.gov.vn", 443)


def test_each_delivery_checks_the_address_again_and_sends_nothing_inside(d, db, loopback_opened):
    """Subscribed while the operator had opened loopback; the worker's setting does not: nothing is
    sent, and the delivery says why (retried, since the setting or the DNS may change)."""
    with receiver("") as r:
        r.secret = s.ok(subscribe(d, r.url))["signing_secret"]
        s.launch(d, P, title="Thi đua")
        d.settle()
        WebhookSender(db, SenderSettings(**FAST)).send_due()
        assert r.hits == 0
        (row,) = rows(db)
        assert row["status"] == "pending" and row["attempts"] == 1
        assert "RefusedAddress" in row["last_error"] and "vòng lặp" in row["last_error"]
        deliver_until(WebhookSender(db, SenderSettings(network=LOOPBACK, **FAST)), lambda: len(r.events) == 1)


def test_the_connection_goes_to_the_address_checked_not_to_a_second_dns_answer(d, db, monkeypatch, strict):
    """DNS rebinding: the name answers 127.0.0.1 (opened) to the check, then 127.0.0.2 (refused;
    nothing listens there). Pinned, the request reaches the checked address, with the name as Host."""
    monkeypatch.setenv("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32")
    monkeypatch.setenv("WEBHOOK_ALLOW_HTTP", "1")  # the receiver is plain http under a name
    only_one = NetworkPolicy(allowed=(ip_network("127.0.0.1/32"),))
    with receiver("", host="hooks.vinhlong.gov.vn") as r:
        resolver = Resolver(monkeypatch, hooks_vinhlong_gov_vn=["127.0.0.1"])
        r.secret = s.ok(subscribe(d, r.url))["signing_secret"]  # the subscription's check
        s.launch(d, P, title="Thi đua")
        d.settle()
        resolver.answers["hooks.vinhlong.gov.vn"] = ["127.0.0.1", "127.0.0.2"]
        resolver.asked.clear()
        deliver_until(WebhookSender(db, SenderSettings(network=only_one, **FAST)), lambda: len(r.events) == 1)
    assert resolver.asked.count("hooks.vinhlong.gov.vn") == 1  # resolved once, by the check
    assert r.headers[0]["host"] == f"hooks.vinhlong.gov.vn:{r.port}"


def _certificate(tmp_path, name):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, str(cert_file)


def test_over_https_the_pinned_connection_still_names_and_verifies_the_host(tmp_path, monkeypatch):
    """Connected to the checked address, the TLS handshake sends the name (SNI) and the
    certificate is verified against the name, not the address."""
    context, ca = _certificate(tmp_path, "hooks.vinhlong.gov.vn")
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    Resolver(monkeypatch, hooks_vinhlong_gov_vn=["127.0.0.1"], other_vinhlong_gov_vn=["127.0.0.1"])
    secret = webhooks.new_secret()
    session = webhook_net.session(LOOPBACK)
    with receiver(secret, tls=context, host="hooks.vinhlong.gov.vn") as r:
        body = '{"id":"e-1","subject":"s","type":"awards.award.decided"}'
        from services.notifications.webhook_sender import signed_headers
        answer = session.post(r.url, data=body, verify=ca, timeout=5,
                              headers=signed_headers(secret, "e-1", body, datetime.now(timezone.utc)))
        assert answer.status_code == 204 and r.events[0]["id"] == "e-1"
        assert names == ["hooks.vinhlong.gov.vn"]
        with pytest.raises(requests.exceptions.SSLError):  # same address, a name the certificate does not have
            session.post(f"https://other.vinhlong.gov.vn:{r.port}/hooks", data=body, verify=ca, timeout=5)


def test_a_redirect_is_not_followed(d, db, loopback_opened):
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    import threading
    hits = []

    class Redirect(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        s.ok(subscribe(d, f"http://127.0.0.1:{server.server_address[1]}/hooks"))
        s.launch(d, P, title="Thi đua")
        d.settle()
        WebhookSender(db, SenderSettings(network=LOOPBACK, **FAST)).send_due()
    finally:
        server.shutdown()
        server.server_close()
    (row,) = rows(db)
    assert hits == ["/hooks"] and row["last_status_code"] == 307 and row["status"] == "pending"


# == rotation =====================================================================================
def test_a_rotated_secret_signs_beside_the_new_one_for_the_grace_period_then_only_the_new(d, db, loopback_opened):
    with receiver("") as r:
        made = s.ok(subscribe(d, r.url))
        old = r.secret = made["signing_secret"]
        sender = WebhookSender(db, SenderSettings(network=LOOPBACK, **FAST))
        s.launch(d, P, title="Trước khi đổi khóa")
        d.settle()
        deliver_until(sender, lambda: len(r.events) == 1)
        assert len(r.headers[0]["webhook-signature"].split(" ")) == 1
        rotated = s.ok(d.post("notifications", f"/webhooks/{made['id']}/secret", {}, province=P, **INTEGRATOR))
        new = rotated["signing_secret"]
        assert new != old and webhooks.secret_problem(new) is None
        until = datetime.fromisoformat(rotated["previous_secret_until"])
        assert timedelta(hours=23, minutes=59) < until - datetime.now(timezone.utc) <= timedelta(hours=24)
        shown = s.ok(d.get("notifications", f"/webhooks/{made['id']}", province=P, **INTEGRATOR), 200)
        assert new not in str(shown) and old not in str(shown) and shown["previous_secret_until"]

        s.launch(d, P, title="Trong thời gian chuyển tiếp")  # the receiver still holds the old secret
        d.settle()
        deliver_until(sender, lambda: len(r.events) == 2)
        body, headers = r.bodies[1], r.headers[1]
        assert len(headers["webhook-signature"].split(" ")) == 2
        assert Webhook(new).verify(body, headers)["id"] == Webhook(old).verify(body, headers)["id"]
        r.secret = new  # the receiver moves to the new secret
        s.launch(d, P, title="Sau thời gian chuyển tiếp")
        d.settle()
        later = until + timedelta(seconds=1)
        deadline = datetime.now(timezone.utc) + timedelta(seconds=10)
        while len(r.events) < 3 and datetime.now(timezone.utc) < deadline:
            sender.send_due(later)
            time.sleep(0.02)
        body, headers = r.bodies[2], r.headers[2]
    assert r.rejected == [] and len(headers["webhook-signature"].split(" ")) == 1
    assert Webhook(new).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, headers)


def test_a_second_rotation_keeps_only_the_two_latest_secrets_and_the_grace_is_configurable(d, db, monkeypatch):
    monkeypatch.setenv("WEBHOOK_SECRET_GRACE_S", "3600")
    made = s.ok(subscribe(d, "https://he-thong.vinhlong.gov.vn/hook"))
    path = f"/webhooks/{made['id']}/secret"
    chosen = webhooks.new_secret()
    second = s.ok(d.post("notifications", path, {"secret": chosen}, province=P, **INTEGRATOR))
    assert second["signing_secret"] == chosen
    third = s.ok(d.post("notifications", path, {}, province=P, **INTEGRATOR))
    until = datetime.fromisoformat(third["previous_secret_until"])
    assert timedelta(minutes=59) < until - datetime.now(timezone.utc) <= timedelta(hours=1)
    with db.read() as conn:
        target = webhooks.targets(conn, {made["id"]}, datetime.now(timezone.utc))[made["id"]]
    assert target.signing_secrets(SecretBox()) == (third["signing_secret"], chosen)


def test_only_the_subscriber_rotates_and_a_bad_secret_is_refused_naming_it(d, db):
    made = s.ok(subscribe(d, "https://he-thong.vinhlong.gov.vn/hook"))
    path = f"/webhooks/{made['id']}/secret"
    assert d.post("notifications", path, {}, province=P, **{**INTEGRATOR, "subject": "vnedu-83"}).status == 404
    assert d.post("notifications", path, {}, province=OTHER, **INTEGRATOR).status == 404
    assert d.post("notifications", path, {}, province=P, role="department").status == 403
    bad = d.post("notifications", path, {"secret": "whsec_c2hvcnQ="}, province=P, **INTEGRATOR)
    assert bad.status == 422 and "24 đến 64 byte" in bad.body["errors"]["json"]["secret"][0]
    (row,) = subscriptions(db)
    assert row["previous_secret"] is None


# == secrets at rest ==============================================================================
def test_with_a_key_the_secret_is_sealed_at_rest_and_deliveries_still_verify(d, db, monkeypatch, loopback_opened):
    key = Fernet.generate_key().decode()
    monkeypatch.setenv("WEBHOOK_SECRETS_KEY", key)
    with receiver("") as r:
        made = s.ok(subscribe(d, r.url))
        r.secret = made["signing_secret"]
        (row,) = subscriptions(db)
        assert row["secret"].startswith("fernet:") and made["signing_secret"] not in row["secret"]
        key_bytes = made["signing_secret"].removeprefix("whsec_")
        assert key_bytes not in row["secret"]
        rotated = s.ok(d.post("notifications", f"/webhooks/{made['id']}/secret", {}, province=P, **INTEGRATOR))
        (row,) = subscriptions(db)
        assert row["secret"].startswith("fernet:") and row["previous_secret"].startswith("fernet:")
        s.launch(d, P, title="Thi đua")
        d.settle()
        keyed = SenderSettings(network=LOOPBACK, box=SecretBox([key]), **FAST)
        deliver_until(WebhookSender(db, keyed), lambda: len(r.events) == 1)
    assert Webhook(rotated["signing_secret"]).verify(r.bodies[0], r.headers[0])


def test_secrets_stored_in_plain_text_are_sealed_at_the_workers_start_and_the_key_can_change(d, db, monkeypatch,
                                                                                              loopback_opened):
    with receiver("") as r:
        r.secret = s.ok(subscribe(d, r.url))["signing_secret"]  # no key yet: stored as it is
        (row,) = subscriptions(db)
        assert row["secret"] == r.secret
        old_key, new_key = Fernet.generate_key(), Fernet.generate_key()
        sender = WebhookSender(db, SenderSettings(network=LOOPBACK, box=SecretBox([old_key]), **FAST))
        assert sender.seal_secrets() == 1 and sender.seal_secrets() == 0
        sealed = subscriptions(db)[0]["secret"]
        assert sealed.startswith("fernet:") and SecretBox([old_key]).open(sealed) == r.secret
        rekeyed = WebhookSender(db, SenderSettings(network=LOOPBACK, box=SecretBox([new_key, old_key]), **FAST))
        assert rekeyed.seal_secrets() == 1 and rekeyed.seal_secrets() == 0
        resealed = subscriptions(db)[0]["secret"]
        assert SecretBox([new_key]).open(resealed) == r.secret

        s.launch(d, P, title="Thi đua")
        d.settle()
        keyless = WebhookSender(db, SenderSettings(network=LOOPBACK, **FAST))
        keyless.send_due()
        (delivery,) = rows(db)
        assert r.hits == 0 and delivery["status"] == "pending" and "WEBHOOK_SECRETS_KEY" in delivery["last_error"]
        wrong = WebhookSender(db, SenderSettings(network=LOOPBACK, box=SecretBox([old_key]), **FAST))
        with db.write() as conn:
            conn.execute(update(webhooks.deliveries).values(next_attempt_at=datetime.now(timezone.utc)))
        wrong.send_due()
        assert r.hits == 0 and "không mở được" in rows(db)[0]["last_error"]
        with db.write() as conn:
            conn.execute(update(webhooks.deliveries).values(next_attempt_at=datetime.now(timezone.utc)))
        deliver_until(rekeyed, lambda: len(r.events) == 1)
    assert r.rejected == []


def test_a_malformed_key_is_refused_naming_the_setting():
    with pytest.raises(ValueError, match="WEBHOOK_SECRETS_KEY"):
        SecretBox.from_env({"WEBHOOK_SECRETS_KEY": "not-a-fernet-key"})



# == the settings, checked when the web process starts ============================================
MALFORMED = [("WEBHOOK_SECRETS_KEY", "not-a-fernet-key"), ("WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/33"),
             ("WEBHOOK_ALLOW_PRIVATE", "yes"), ("WEBHOOK_SECRET_GRACE_S", "soon"),
             ("WEBHOOK_SECRET_GRACE_S", "-60"), ("WEBHOOK_SECRET_GRACE_S", "inf"), ("WEBHOOK_SECRET_GRACE_S", "nan")]


@pytest.mark.parametrize("name, value", MALFORMED)
def test_each_malformed_web_setting_is_refused_naming_it(name, value):
    assert name in webhooks.WEB_SETTINGS
    with pytest.raises(ValueError, match=name):
        webhooks.check_web_settings({name: value})


def test_well_formed_web_settings_and_none_at_all_pass():
    webhooks.check_web_settings({})
    webhooks.check_web_settings({"WEBHOOK_SECRETS_KEY": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
                                 "WEBHOOK_ALLOWED_NETWORKS": "10.20.0.0/16, fd00:1::/64", "WEBHOOK_ALLOW_PRIVATE": "0",
                                 "WEBHOOK_SECRET_GRACE_S": "3600"})
    assert webhooks.grace({"WEBHOOK_SECRET_GRACE_S": "0"}) == timedelta(0)
    assert webhooks.grace({}) == timedelta(days=1)


@pytest.mark.parametrize("name, value", [MALFORMED[0], MALFORMED[3]])
def test_the_web_process_does_not_start_on_a_malformed_setting_and_names_it(name, value, tmp_path):
    """gunicorn itself, as deployed: the app is built at the worker's boot, and a refused
    setting stops the master (instead of a process that answers 500 to every subscription)."""
    root = Path(__file__).resolve().parents[2]
    url = f"sqlite:///{tmp_path / 'n.db'}"
    migrations.prepare(Database(url), "notifications")  # a live database: the process does not migrate it
    env = {**os.environ, "PYTHONPATH": str(root), name: value, "DATABASE_URL": url, "JWT_SECRET": "x" * 32}
    run = subprocess.run([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "1",
                          "--no-control-socket", "services.notifications.app:create_app()"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0, run.stderr[-2000:]
    assert name in run.stderr and "Worker failed to boot" in run.stderr, run.stderr[-2000:]

# == the province's view ==========================================================================
def test_the_department_and_the_operators_see_every_subscription_of_their_province_without_secrets(d, db):
    mine = s.ok(subscribe(d, "https://qlns.vinhlong.gov.vn/hook"))
    theirs = s.ok(subscribe(d, "https://vnedu.vinhlong.gov.vn/hook", subject="vnedu-83"))
    s.ok(subscribe(d, "https://qlns.other.gov.vn/hook", province=OTHER))
    for role in ("department", "operator"):
        seen = s.ok(d.get("notifications", f"/webhooks?province={P}", province=P, role=role), 200)
        assert [(w["id"], w["owner"], w["province"]) for w in seen] == [(mine["id"], "qlns-83", P),
                                                                         (theirs["id"], "vnedu-83", P)]
        assert not {"secret", "signing_secret", "previous_secret"} & {k for w in seen for k in w}
        assert mine["signing_secret"] not in str(seen) and theirs["signing_secret"] not in str(seen)
        assert s.ok(d.get("notifications", "/webhooks", province=P, role=role), 200) == seen  # the token's own
    assert d.get("notifications", f"/webhooks?province={OTHER}", province=P, role="department").status == 403
    assert d.get("notifications", "/webhooks", province=P, role="participant").body["rule"] == "webhooks.scope"
    # the integrator still sees only its own
    own = s.ok(d.get("notifications", "/webhooks", province=P, **INTEGRATOR), 200)
    assert [w["id"] for w in own] == [mine["id"]]
    # read only: the department cannot unsubscribe, rotate nor redrive
    assert d.post("notifications", f"/webhooks/{mine['id']}/redrive", {}, province=P, role="department").status == 403


def test_the_openapi_document_describes_the_rotation_and_the_provinces_list(system):
    doc = system.client("notifications").get("/openapi.json").get_json()
    assert "post" in doc["paths"]["/webhooks/{webhook_id}/secret"]
    assert "province" in {p["name"] for p in doc["paths"]["/webhooks"]["get"]["parameters"]}
    schemas = doc["components"]["schemas"]
    assert "signing_secret" in schemas["NewSecret"]["properties"]
    shown = schemas["Webhook"]["properties"]
    assert "signing_secret" not in shown and "previous_secret" not in shown
    assert shown["secret"].get("writeOnly") is True  # given when subscribing, never shown
