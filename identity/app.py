"""The embedded issuer's web app: the OAuth 2 token and revocation endpoints, the key set, discovery.

``POST /oauth/token``
    ``grant_type=password`` (``client_id`` of the public client ``thidua-web``, ``username``,
    ``password``): a person's access token, whose claims are their directory entry;
    ``grant_type=client_credentials`` (an integrator's client id and secret, HTTP Basic or in
    the form, optional ``scope``): a ``service`` token of the client's province and scopes.
``POST /oauth/revoke``
    RFC 7009: the token's id joins the revoked list (until the token would have expired).
``GET /oauth/revoked``
    ``{"revoked": [jti, ...]}``: what the services consult (``OIDC_REVOCATION_URL``).
``GET /.well-known/jwks.json``, ``GET /.well-known/openid-configuration``

Authlib does the OAuth 2 protocol, joserfc the JWTs and keys, argon2 the hashes. A refusal is
an OAuth error: ``error`` (the RFC's code), ``error_description`` (Vietnamese, written without
diacritics because RFC 6749 §5.2 allows only ASCII there) and ``message`` (the same Vietnamese,
in full, as in every other refusal of the platform).
"""
from __future__ import annotations

import unicodedata
import uuid

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import Flask, jsonify
from joserfc import jwt
from joserfc.errors import JoseError

from identity import settings as identity_settings
from identity.directory import Client, Directory
from identity.keys import KeyRing

# What each OAuth error code means, for the refusals Authlib raises itself.
MESSAGES = {
    "invalid_client": "Ứng dụng (client_id) không được nhận ra, hoặc sai khóa bí mật (client_secret)",
    "invalid_grant": "Sai tên đăng nhập hoặc mật khẩu",
    "invalid_request": "Yêu cầu thiếu tham số hoặc có tham số sai (grant_type, username, password, token...)",
    "invalid_scope": "Phạm vi (scope) yêu cầu vượt quá phạm vi đã cấp cho ứng dụng",
    "unauthorized_client": "Ứng dụng này không được dùng kiểu cấp quyền (grant_type) này",
    "unsupported_grant_type": "Kiểu cấp quyền (grant_type) không được hỗ trợ: dùng password hoặc client_credentials",
    "unsupported_token_type": "Chỉ thu hồi được mã truy cập (access_token)",
}


class Refusal(InvalidGrantError):
    """A refusal whose Vietnamese reason is ours (Authlib's own descriptions are English)."""

    def __init__(self, message: str):
        super().__init__(description=ascii_vietnamese(message))
        self.message = message


def ascii_vietnamese(text: str) -> str:
    """Vietnamese without its diacritics, the only form RFC 6749 lets ``error_description`` take."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


class PasswordGrant(grants.ResourceOwnerPasswordCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]

    def authenticate_user(self, username: str, password: str):
        user = self.server.directory.authenticate(username, password)
        if user is None:  # unknown user or wrong password: the same answer, so as not to reveal who exists
            raise Refusal("Sai tên đăng nhập hoặc mật khẩu")
        if user.disabled:
            raise Refusal("Tài khoản đã bị khóa: hãy liên hệ người quản trị")
        return user


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class TokenGenerator(JWTBearerTokenGenerator):
    """RFC 9068 access tokens, signed RS256 with the ring's signing key, with the platform's claims."""

    def __init__(self, server: "Issuer"):
        super().__init__(issuer=server.settings.issuer, alg="RS256", expires_generator=server.settings.token_ttl_s)
        self.server = server

    def get_jwks(self):
        return self.server.keys().signing_set()

    def get_audiences(self, client, user, scope):
        return self.server.settings.audience

    def get_jti(self, client, grant_type, user, scope):
        return uuid.uuid4().hex

    def get_extra_claims(self, client: Client, grant_type, user, scope):
        if user is not None:
            return user.claims()
        return {"name": client.name, "role": "service", "roles": ["service"],
                "province": client.province, "provinces": [client.province]}


class IssuedToken:
    """A token this issuer signed, as the revocation endpoint sees it."""

    def __init__(self, claims: dict):
        self.claims = claims

    def check_client(self, client: Client) -> bool:
        return self.claims.get("client_id") == client.get_client_id()


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"]
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def query_token(self, token_string: str, token_type_hint):
        """The token, if this issuer signed it; otherwise none, and RFC 7009 answers 200 all the same."""
        try:
            claims = jwt.decode(token_string, self.server.keys().verifying_set(), algorithms=["RS256"]).claims
        except (JoseError, ValueError):
            return None
        return IssuedToken(claims) if claims.get("iss") == self.server.settings.issuer and claims.get("jti") else None

    def revoke_token(self, token: IssuedToken, request) -> None:
        self.server.directory.revoke(token.claims["jti"], int(token.claims.get("exp", 0)), token.claims.get("sub"))


class Issuer(AuthorizationServer):
    def __init__(self, app: Flask, settings: identity_settings.Settings, directory: Directory):
        self.settings, self.directory = settings, directory
        self._ring, self._ring_stamp = None, None
        super().__init__(app, query_client=directory.client, save_token=self._keep_nothing)
        self.register_token_generator("default", TokenGenerator(self))
        self.register_grant(PasswordGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_endpoint(Revocation)

    @staticmethod
    def _keep_nothing(token, request) -> None:
        """Access tokens are self-contained JWTs: nothing is stored when one is issued, only when revoked."""

    def keys(self) -> KeyRing:
        """The key ring, read again whenever the file changed (``thidua keys`` edits it while we run)."""
        stat = self.settings.keys_file.stat()
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self._ring_stamp:
            self._ring, self._ring_stamp = KeyRing.load(self.settings.keys_file), stamp
        return self._ring

    def handle_error_response(self, request, error: OAuth2Error):
        message = getattr(error, "message", None) or MESSAGES.get(error.error, "Yêu cầu đăng nhập không hợp lệ")
        status, _, headers = error()
        body = {"error": error.error, "error_description": ascii_vietnamese(message), "message": message}
        return jsonify(body), status, [h for h in headers if h[0].lower() != "content-type"]


def create_app(settings: identity_settings.Settings | None = None) -> Flask:
    settings = settings or identity_settings.load()
    directory = Directory(settings.database_url).create()
    KeyRing.load_or_create(settings.keys_file)
    app = Flask("identity")
    app.json.ensure_ascii = False
    issuer = Issuer(app, settings, directory)
    app.extensions["issuer"] = issuer

    @app.post("/oauth/token")
    def token():
        return issuer.create_token_response()

    @app.post("/oauth/revoke")
    def revoke():
        return issuer.create_endpoint_response(Revocation.ENDPOINT_NAME)

    @app.get("/oauth/revoked")
    def revoked():
        return {"revoked": directory.revoked()}

    @app.get("/.well-known/jwks.json")
    def jwks():
        return issuer.keys().public()

    @app.get("/.well-known/openid-configuration")
    def discovery():
        base = settings.issuer
        return {"issuer": base, "jwks_uri": f"{base}/.well-known/jwks.json",
                "token_endpoint": f"{base}/oauth/token", "revocation_endpoint": f"{base}/oauth/revoke",
                "revoked_tokens_endpoint": f"{base}/oauth/revoked",
                "grant_types_supported": ["password", "client_credentials"],
                "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": ["sub", "name", "province", "provinces", "roles", "role", "unit",
                                     "unit_level", "authority", "scope"]}

    @app.get("/health")
    @app.get("/ready")
    def health():
        return {"status": "ok"}

    return app
