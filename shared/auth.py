"""Bearer tokens (JWT): who is calling, in which role, for which province, unit and level.

This is the one place where claims are read. Two kinds of token are accepted
(:class:`Verifier`):

- OpenID Connect access tokens of the installation's identity provider (the embedded
  issuer ``identity/``, a province's Keycloak, the national SSO): RS256 or ES256, verified
  with the keys its JWKS publishes (fetched, cached, fetched again for a ``kid`` not seen
  before: key rotation), ``iss``, ``aud`` and ``exp`` checked;
- HS256 tokens signed with ``JWT_SECRET``: ``thidua token`` for operators, and the tests.

A token whose ``jti`` the issuer lists as revoked is refused (:class:`RevocationList`).
A token carries::

    {"sub": "gv-001", "name": "Trần Thị Bích", "provinces": ["86"], "roles": ["unit_head"],
     "role": "unit_head", "unit": "thpt-chuyen-ben-tre", "unit_level": "school",
     "authority": "school", "scope": "...", "jti": "...", "iss": ..., "aud": ..., "exp": ...}

Routes ask :func:`current` for the principal and :func:`province_for` for the
province a request acts in; they never parse the header themselves, and never take a
caller's unit, level or authority from a request body (:func:`check_own`).
"""
from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

import jwt
import requests
from flask import Flask, g, request

from shared.errors import ApiError, Forbidden, Unauthorized

log = logging.getLogger(__name__)

# Roles a token may name; which role may do what is decided by each route. ``ministry`` reads
# across provinces (national roll-ups) and writes nothing.
ROLES = ("department", "unit_head", "council", "authority", "participant", "service", "operator", "ministry")
# The level of the unit a person belongs to (the organisation chart, not the authority).
UNIT_LEVELS = ("school", "commune", "district", "department", "province", "ministry")
# The authority a person holds (thẩm quyền): who may confer what is in the awards rulebook.
AUTHORITY_LEVELS = ("prime_minister", "minister", "province", "department", "district", "commune", "school")
PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/openapi.json", "/docs", "/public", "/asyncapi.", "/schemas/")


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says: the only source of a caller's province, unit, level,
    role and authority. A request body never names them."""
    subject: str
    role: str
    provinces: tuple[str, ...]
    roles: tuple[str, ...] = ()
    name: str | None = None
    unit: str | None = None  # the id of the person's unit, in its province
    unit_level: str | None = None  # UNIT_LEVELS
    authority: str | None = None  # AUTHORITY_LEVELS, for those who decide awards
    scopes: tuple[str, ...] = ()  # OAuth scopes of a service client (e.g. "awards:read")
    token_id: str | None = field(default=None, compare=False)  # the token's ``jti``: what revocation names

    def __post_init__(self):
        if not self.roles:
            object.__setattr__(self, "roles", (self.role,))

    def has_role(self, *roles: str) -> bool:
        return any(r in roles for r in self.roles)

    @property
    def national(self) -> bool:
        return "ministry" in self.roles


def mint(secret: str, subject: str, role: str, provinces: list[str], ttl_s: int = 3600,
         issuer: str = "thidua", audience: str = "thidua", **claims) -> str:
    """A token signed with the shared secret (HS256), for operators and tests. ``claims`` adds
    ``name``, ``unit``, ``unit_level``, ``authority``, ``roles`` (list) and ``scope`` (space-separated)."""
    now = int(time.time())
    body = {"sub": subject, "role": role, "provinces": list(provinces), "iss": issuer, "aud": audience,
            "iat": now, "exp": now + ttl_s, "jti": uuid.uuid4().hex}
    body.update({k: v for k, v in claims.items() if v is not None})
    return jwt.encode(body, secret, algorithm="HS256")


def decode(token: str, secret: str, issuer: str = "thidua", audience: str = "thidua") -> Principal:
    """The principal a token names. A client sends the same token with every request, so a
    token verified once is remembered (per process, bounded) until its ``exp``; a token that
    failed is checked afresh every time."""
    principal, expires = _verified(token, secret, issuer, audience)
    if time.time() >= expires:  # expired since it was verified: PyJWT says so, in its words
        _verified.__wrapped__(token, secret, issuer, audience)
    return principal


@functools.lru_cache(maxsize=1024)
def _verified(token: str, secret: str, issuer: str, audience: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=issuer, audience=audience,
                            options={"require": ["sub", "exp", "iss", "aud"]})
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"Mã thông báo (token) không hợp lệ: {exc}", rule="auth.token") from exc
    return principal_from_claims(claims), float(claims["exp"])


def principal_from_claims(claims: dict) -> Principal:
    """The principal of verified claims, each claim checked for its shape."""
    roles = claims.get("roles") or ([claims["role"]] if claims.get("role") else []) or _realm_roles(claims)
    if not isinstance(roles, list) or not roles or not all(r in ROLES for r in roles):
        raise Unauthorized(f"Vai trò (role) {roles!r} không được hỗ trợ; một trong: {', '.join(ROLES)}",
                           rule="auth.claims")
    role = claims.get("role") if claims.get("role") in roles else roles[0]
    provinces = claims.get("provinces")
    if provinces is None and isinstance(claims.get("province"), str):
        provinces = [claims["province"]]
    if not isinstance(provinces, list) or not provinces or not all(isinstance(p, str) for p in provinces):
        raise Unauthorized("Token phải nêu ít nhất một tỉnh (provinces)", rule="auth.claims")
    unit_level, authority = claims.get("unit_level"), claims.get("authority")
    if unit_level is not None and unit_level not in UNIT_LEVELS:
        raise Unauthorized(f"Cấp đơn vị (unit_level) {unit_level!r} không hợp lệ", rule="auth.claims")
    if authority is not None and authority not in AUTHORITY_LEVELS:
        raise Unauthorized(f"Thẩm quyền (authority) {authority!r} không hợp lệ", rule="auth.claims")
    scope = claims.get("scope") or ""
    return Principal(str(claims["sub"]), role, tuple(provinces), roles=tuple(roles), name=claims.get("name"),
                     unit=claims.get("unit"), unit_level=unit_level, authority=authority,
                     scopes=tuple(scope.split()) if isinstance(scope, str) else tuple(scope),
                     token_id=claims.get("jti"))


def _realm_roles(claims: dict) -> list[str]:
    """Keycloak's realm roles, when a token names no ``roles``: only the platform's own, since a
    realm also holds roles of its own (``offline_access``, ``default-roles-<realm>``...)."""
    realm = claims.get("realm_access")
    named = realm.get("roles") if isinstance(realm, dict) else None
    return [r for r in named if r in ROLES] if isinstance(named, list) else []


class Unavailable(ApiError):
    """The identity provider's keys or revocation list cannot be had: the token cannot be checked."""
    status, title = 503, "Service Unavailable"


@dataclass(frozen=True)
class Oidc:
    """The installation's OpenID Connect provider (``OIDC_*`` in :mod:`shared.config`)."""
    issuer: str
    audience: str = "thidua"
    jwks_url: str = ""  # empty: discovered from the issuer
    revocation_url: str = ""  # empty: no revocation check
    revocation_cache_s: float = 5.0
    jwks_cache_s: float = 300.0
    jwks_refresh_cooldown_s: float = 30.0  # least time between two fetches forced by an unknown kid
    algorithms: tuple[str, ...] = ("RS256", "ES256")


class RevocationList:
    """The ids (``jti``) of revoked tokens, as the issuer lists them (``GET`` → ``{"revoked": [...]}``),
    fetched again once ``cache_s`` has passed: a revoked token is refused within that time.

    If the list cannot be fetched, the last one fetched stays in use for up to ``stale_s``; after
    that every request is refused (503) until the issuer answers: a revocation that cannot be
    checked is not assumed not to have happened."""

    def __init__(self, url: str, cache_s: float = 5.0, stale_s: float = 60.0, timeout_s: float = 3.0):
        self.url, self.cache_s, self.stale_s, self.timeout_s = url, cache_s, stale_s, timeout_s
        self._ids: frozenset[str] | None = None
        self._fetched = self._tried = float("-inf")
        self._lock = threading.Lock()

    def __contains__(self, jti: str) -> bool:
        return jti in self.current()

    def warm(self) -> None:
        """Fetch the list once before the first request (a process starting cold under a burst of
        requests would otherwise have nothing to fall back on if that first fetch is slow)."""
        with self._lock:
            self._refresh(time.monotonic())

    def current(self) -> frozenset[str]:
        now = time.monotonic()
        if now - self._tried >= self.cache_s:
            with self._lock:
                if now - self._tried >= self.cache_s:
                    self._refresh(now)
        if self._ids is None or time.monotonic() - self._fetched > self.stale_s:
            raise Unavailable("Không kiểm tra được danh sách mã thông báo đã thu hồi của hệ thống đăng nhập; "
                              "hãy thử lại sau", rule="auth.revocation")
        return self._ids

    def _refresh(self, now: float) -> None:
        self._tried = now
        try:
            answer = requests.get(self.url, timeout=self.timeout_s)
            answer.raise_for_status()
            self._ids, self._fetched = frozenset(answer.json()["revoked"]), now
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            log.warning("revocation list %s not fetched: %s", self.url, exc)


class Verifier:
    """Checks a bearer token and names its principal: HS256 tokens with the shared secret, RS256/ES256
    tokens (when an OIDC provider is configured) with the provider's published keys, never one kind
    with the other's key (an HS256 token signed with a public key is checked against the secret,
    and fails). A token verified once is remembered until its ``exp``, per process; the revocation
    list is consulted on every request."""

    def __init__(self, secret: str, issuer: str = "thidua", audience: str = "thidua", oidc: Oidc | None = None):
        self.secret, self.issuer, self.audience, self.oidc = secret, issuer, audience, oidc
        self.revoked = RevocationList(oidc.revocation_url, oidc.revocation_cache_s) \
            if oidc and oidc.revocation_url else None
        self._keys: jwt.PyJWKClient | None = None
        self._keys_lock = threading.Lock()
        self._oidc_verified = functools.lru_cache(maxsize=1024)(self._verify_oidc)

    @classmethod
    def from_settings(cls, settings) -> "Verifier":
        oidc = Oidc(settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url,
                    settings.oidc_revocation_url, settings.oidc_revocation_cache_s,
                    settings.oidc_jwks_cache_s) if settings.oidc_issuer else None
        return cls(settings.jwt_secret, settings.jwt_issuer, settings.jwt_audience, oidc)

    def decode(self, token: str) -> Principal:
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Mã thông báo (token) không hợp lệ: {exc}", rule="auth.token") from exc
        if alg == "HS256":
            principal = decode(token, self.secret, self.issuer, self.audience)
        elif self.oidc and alg in self.oidc.algorithms:
            principal, expires = self._oidc_verified(token)
            if time.time() >= expires:
                self._verify_oidc(token)  # raises, in PyJWT's words
        else:
            raise Unauthorized(f"Mã thông báo ký bằng thuật toán {alg!r} không được chấp nhận", rule="auth.token")
        if self.revoked is not None and principal.token_id and principal.token_id in self.revoked:
            raise Unauthorized("Mã thông báo đã bị thu hồi: hãy đăng nhập lại", rule="auth.revoked")
        return principal

    def _verify_oidc(self, token: str) -> tuple[Principal, float]:
        try:
            key = self._jwks().get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable(f"Không lấy được khóa công khai của hệ thống đăng nhập: {exc}",
                              rule="auth.jwks") from exc
        except jwt.PyJWTError as exc:  # no kid, or a kid the issuer does not publish
            raise Unauthorized(f"Mã thông báo (token) không hợp lệ: {exc}", rule="auth.token") from exc
        try:
            claims = jwt.decode(token, key, algorithms=list(self.oidc.algorithms), issuer=self.oidc.issuer,
                                audience=self.oidc.audience, options={"require": ["sub", "exp", "iss", "aud"]})
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Mã thông báo (token) không hợp lệ: {exc}", rule="auth.token") from exc
        return principal_from_claims(claims), float(claims["exp"])

    def _jwks(self) -> jwt.PyJWKClient:
        """The provider's key set client, made at the first token (a service starts without its issuer)."""
        with self._keys_lock:
            if self._keys is None:
                self._keys = jwt.PyJWKClient(self.oidc.jwks_url or discover_jwks_url(self.oidc.issuer),
                                             lifespan=self.oidc.jwks_cache_s, timeout=5,
                                             cooldown_duration=self.oidc.jwks_refresh_cooldown_s)
            return self._keys


def discover_jwks_url(issuer: str) -> str:
    """``jwks_uri`` of the issuer's OpenID configuration; ``<issuer>/.well-known/jwks.json`` if it has none."""
    base = issuer.rstrip("/")
    try:
        answer = requests.get(f"{base}/.well-known/openid-configuration", timeout=5)
        if answer.ok and answer.json().get("jwks_uri"):
            return answer.json()["jwks_uri"]
    except (requests.RequestException, ValueError) as exc:
        raise Unavailable(f"Không đọc được cấu hình OpenID của {issuer}: {exc}", rule="auth.jwks") from exc
    return f"{base}/.well-known/jwks.json"


def init_app(app: Flask, verifier: Verifier) -> None:
    @app.before_request
    def _authenticate():
        g.principal = None
        if request.path.startswith(PUBLIC_PATHS) or request.method == "OPTIONS":
            return
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise Unauthorized("Thiếu mã thông báo: cần tiêu đề Authorization: Bearer <token>", rule="auth.token")
        g.principal = verifier.decode(header.removeprefix("Bearer ").strip())


def current() -> Principal:
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("Thiếu mã thông báo", rule="auth.token")
    return principal


def require_role(*roles: str) -> Principal:
    principal = current()
    if not principal.has_role(*roles):
        raise Forbidden(f"Vai trò {principal.role!r} không được phép thực hiện thao tác này; "
                        f"cần một trong: {', '.join(roles)}", rule="auth.role")
    return principal


def province_for(requested: str | None = None) -> str:
    """The province this request acts in: the one asked for, if the token covers it."""
    principal = current()
    if requested is None:
        if len(principal.provinces) == 1:
            return principal.provinces[0]
        raise Forbidden("Token có nhiều tỉnh: hãy nêu tỉnh (province) của yêu cầu", rule="auth.province")
    if requested not in principal.provinces:
        raise Forbidden(f"Token không có quyền với tỉnh {requested!r}", rule="auth.province")
    return requested


def provinces_visible() -> tuple[str, ...]:
    return current().provinces


def require_national() -> Principal:
    """The ``ministry`` role: national roll-ups across provinces, read only."""
    principal = current()
    if not principal.national:
        raise Forbidden("Chỉ Bộ (vai trò ministry) xem số liệu toàn quốc", rule="auth.national")
    return principal


def check_own(field: str, given, own, what: str) -> None:
    """Refuse (403) a body field that names another unit, level or authority than the caller's
    token: such a field may only repeat what the token already says."""
    if given is not None and given != own:
        raise Forbidden(f"{what} trong yêu cầu ({given!r}) khác với {what} của người gọi theo mã thông báo "
                        f"({own!r}): không được tự khai", rule="auth.claims",
                        errors={field: [f"must be the caller's own ({own!r}), or left out"]})
