"""OpenID Connect access tokens: a service accepts what its identity provider signed, with the keys the
provider publishes, and nothing else. The provider here is a real HTTP server on this machine whose
key set, discovery document and revoked-ids list each test changes."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from shared import auth
from shared.errors import Unauthorized

SECRET = "s" * 40


class Provider:
    """A stand-in identity provider: discovery, JWKS and the revoked list over HTTP, and a key to sign with."""

    def __init__(self):
        self.keys: dict[str, object] = {}  # kid -> private key
        self.published: list[str] = []  # the kids the JWKS lists
        self.revoked: list[str] = []
        self.fetches = 0
        self.up = True
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if not provider.up:
                    self.send_error(503)
                    return
                if self.path == "/.well-known/openid-configuration":
                    body = {"issuer": provider.issuer, "jwks_uri": provider.issuer + "/keys"}
                elif self.path == "/keys":
                    provider.fetches += 1
                    body = {"keys": [provider.jwk(kid) for kid in provider.published]}
                elif self.path == "/revoked":
                    body = {"revoked": provider.revoked}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_key(self, kind: str = "RSA", publish: bool = True) -> str:
        kid = uuid.uuid4().hex[:12]
        self.keys[kid] = rsa.generate_private_key(65537, 2048) if kind == "RSA" else ec.generate_private_key(ec.SECP256R1())
        if publish:
            self.published.append(kid)
        return kid

    def jwk(self, kid: str) -> dict:
        key = self.keys[kid]
        alg = jwt.algorithms.RSAAlgorithm if isinstance(key, rsa.RSAPrivateKey) else jwt.algorithms.ECAlgorithm
        return {**json.loads(alg.to_jwk(key.public_key())), "kid": kid, "use": "sig"}

    def token(self, kid: str, alg: str = "RS256", **overrides) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": "thidua", "sub": "mai.tt", "iat": now, "exp": now + 600,
                  "jti": uuid.uuid4().hex, "name": "Trần Thị Mai", "provinces": ["86"], "roles": ["unit_head"],
                  "unit": "thpt-luu-van-liet", "unit_level": "school", "authority": "school", **overrides}
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, self.keys[kid], algorithm=alg,
                          headers={"kid": kid})

    def public_pem(self, kid: str) -> bytes:
        return self.keys[kid].public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)

    def verifier(self, **oidc) -> auth.Verifier:
        settings = {"revocation_url": self.issuer + "/revoked", "jwks_refresh_cooldown_s": 0, **oidc}
        return auth.Verifier(SECRET, oidc=auth.Oidc(self.issuer, "thidua", **settings))


@pytest.fixture
def provider():
    p = Provider()
    yield p
    p.server.shutdown()
    p.server.server_close()


def test_a_token_signed_with_a_published_key_names_the_person_its_claims_describe(provider):
    kid = provider.add_key()
    principal = provider.verifier().decode(provider.token(kid))
    assert principal == auth.Principal("mai.tt", "unit_head", ("86",), roles=("unit_head",), name="Trần Thị Mai",
                                       unit="thpt-luu-van-liet", unit_level="school", authority="school")


def test_an_es256_token_is_accepted_too(provider):
    kid = provider.add_key("EC")
    assert provider.verifier().decode(provider.token(kid, alg="ES256")).subject == "mai.tt"


def test_the_key_set_is_found_through_the_issuers_discovery_document_and_fetched_once(provider):
    kid = provider.add_key()
    verifier = provider.verifier()
    for _ in range(3):
        verifier.decode(provider.token(kid))
    assert provider.fetches == 1


@pytest.mark.parametrize("claim, value, reason", [
    ("aud", "another-platform", "(?i)audience"),
    ("iss", "http://127.0.0.1:1/not-the-issuer", "(?i)issuer"),
    ("exp", int(time.time()) - 60, "expired"),
    ("sub", None, "sub"),
])
def test_a_token_for_another_audience_from_another_issuer_expired_or_without_subject_is_refused(
        provider, claim, value, reason):
    kid = provider.add_key()
    with pytest.raises(Unauthorized, match=reason):
        provider.verifier().decode(provider.token(kid, **{claim: value}))


def test_a_token_signed_with_a_key_the_issuer_does_not_publish_is_refused(provider):
    published, unpublished = provider.add_key(), provider.add_key(publish=False)
    verifier = provider.verifier()
    assert verifier.decode(provider.token(published)).subject == "mai.tt"
    with pytest.raises(Unauthorized, match="signing key"):
        verifier.decode(provider.token(unpublished))
    forged = provider.token(unpublished).split(".")
    genuine_header = provider.token(published).split(".")[0]
    with pytest.raises(Unauthorized, match="Signature"):  # a published kid on another key's signature
        verifier.decode(".".join([genuine_header, *forged[1:]]))


def test_an_unsigned_token_is_refused(provider):
    provider.add_key()
    unsigned = jwt.encode({"iss": provider.issuer, "aud": "thidua", "sub": "x", "exp": int(time.time()) + 60,
                           "roles": ["department"], "provinces": ["86"]}, None, algorithm="none")
    with pytest.raises(Unauthorized, match="'none'"):
        provider.verifier().decode(unsigned)


def test_an_hs256_token_keyed_with_the_issuers_public_key_is_refused(provider):
    """Algorithm confusion: the public key is public, so a token "signed" with it as an HMAC secret
    must not pass. HS256 tokens are checked against the shared secret only."""
    kid = provider.add_key()
    now = int(time.time())

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps({"iss": provider.issuer, "aud": "thidua", "sub": "x", "exp": now + 60,
                           "roles": ["department"], "provinces": ["86"]}).encode())
    signature = b64(hmac.new(provider.public_pem(kid), f"{header}.{body}".encode(), hashlib.sha256).digest())
    with pytest.raises(Unauthorized):
        provider.verifier().decode(f"{header}.{body}.{signature}")


def test_the_shared_secrets_hs256_tokens_are_still_accepted_beside_the_providers(provider):
    provider.add_key()
    token = auth.mint(SECRET, "operator-1", "operator", ["86"], unit="so-gddt-vinh-long")
    assert provider.verifier().decode(token).unit == "so-gddt-vinh-long"


def test_a_key_published_after_the_key_set_was_fetched_is_picked_up_at_its_first_token(provider):
    old = provider.add_key()
    verifier = provider.verifier()
    verifier.decode(provider.token(old))
    new = provider.add_key()  # rotation: the issuer publishes a new key and signs with it
    assert verifier.decode(provider.token(new)).subject == "mai.tt"
    assert provider.fetches == 2


def test_a_key_the_issuer_stopped_publishing_is_refused_once_the_key_set_is_fetched_again(provider):
    old, new = provider.add_key(), provider.add_key()
    verifier = provider.verifier(jwks_cache_s=0.5)
    old_token = provider.token(old)
    verifier.decode(old_token)
    provider.published.remove(old)
    time.sleep(0.6)
    verifier.decode(provider.token(new))  # fetches the key set anew
    with pytest.raises(Unauthorized):
        verifier._verify_oidc(provider.token(old))


def test_a_revoked_token_is_refused_within_the_lists_cache_time_and_others_are_not(provider):
    kid = provider.add_key()
    verifier = provider.verifier(revocation_cache_s=0.3)
    kept, revoked = provider.token(kid), provider.token(kid)
    assert verifier.decode(revoked).subject == "mai.tt"  # verified, and remembered
    provider.revoked.append(jwt.decode(revoked, options={"verify_signature": False})["jti"])
    time.sleep(0.4)
    with pytest.raises(Unauthorized, match="thu hồi") as refused:
        verifier.decode(revoked)
    assert refused.value.rule == "auth.revoked"
    assert verifier.decode(kept).subject == "mai.tt"


def test_an_operators_token_can_be_revoked_too(provider):
    token = auth.mint(SECRET, "operator-1", "operator", ["86"])
    provider.revoked.append(jwt.decode(token, options={"verify_signature": False})["jti"])
    with pytest.raises(Unauthorized, match="thu hồi"):
        provider.verifier().decode(token)


def test_when_the_revoked_list_cannot_be_had_requests_are_refused_after_the_last_list_goes_stale(provider):
    revoked = auth.RevocationList(provider.issuer + "/revoked", cache_s=0.1, stale_s=0.5)
    assert "some-jti" not in revoked
    provider.up = False
    time.sleep(0.2)
    assert "some-jti" not in revoked  # the last list, still fresh enough
    time.sleep(0.5)
    with pytest.raises(auth.Unavailable) as refused:
        "some-jti" in revoked
    assert refused.value.status == 503 and refused.value.rule == "auth.revocation"


def test_a_provider_whose_keys_cannot_be_fetched_makes_its_tokens_unverifiable_not_valid(provider):
    kid = provider.add_key()
    token = provider.token(kid)
    provider.up = False
    with pytest.raises(auth.Unavailable) as refused:
        provider.verifier(revocation_url="").decode(token)
    assert refused.value.status == 503


def test_keycloak_realm_roles_are_the_roles_when_the_token_names_none_and_foreign_ones_are_ignored(provider):
    kid = provider.add_key()
    token = provider.token(kid, roles=None, realm_access={"roles": ["offline_access", "council",
                                                                    "default-roles-vinhlong"]})
    principal = provider.verifier().decode(token)
    assert principal.roles == ("council",) and principal.role == "council"


def test_a_token_without_a_role_of_the_platform_is_refused(provider):
    kid = provider.add_key()
    with pytest.raises(Unauthorized, match="role"):
        provider.verifier().decode(provider.token(kid, roles=None, realm_access={"roles": ["offline_access"]}))


def test_without_a_configured_provider_only_hs256_tokens_are_accepted(provider):
    kid = provider.add_key()
    with pytest.raises(Unauthorized, match="RS256"):
        auth.Verifier(SECRET).decode(provider.token(kid))
