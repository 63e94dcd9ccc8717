"""Bearer tokens (JWT): who is calling, in which role, for which province, unit and level.

This is the one place where claims are read. A token carries::

    {"sub": "gv-001", "name": "Trần Thị Bích", "provinces": ["86"], "roles": ["unit_head"],
     "role": "unit_head", "unit": "thpt-chuyen-ben-tre", "unit_level": "school",
     "authority": "school", "scope": "...", "jti": "...", "iss": ..., "aud": ..., "exp": ...}

Routes ask :func:`current` for the principal and :func:`province_for` for the
province a request acts in; they never parse the header themselves, and never take a
caller's unit, level or authority from a request body (:func:`check_own`).
"""
from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass

import jwt
from flask import Flask, g, request

from shared.errors import Forbidden, Unauthorized

# Roles a token may name; which role may do what is decided by each route. ``ministry`` reads
# across provinces (national roll-ups) and writes nothing.
ROLES = ("department", "unit_head", "council", "authority", "participant", "service", "operator", "ministry")
# The level of the unit a person belongs to (the organisation chart, not the authority).
UNIT_LEVELS = ("school", "commune", "district", "department", "province", "ministry")
# The authority a person holds (thẩm quyền): who may confer what is in the awards rulebook.
AUTHORITY_LEVELS = ("prime_minister", "minister", "province", "department", "district", "commune", "school")
PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/openapi.json", "/docs", "/public")


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
        raise Unauthorized(f"Mã thông báo (token) không hợp lệ: {exc}") from exc
    return principal_from_claims(claims), float(claims["exp"])


def principal_from_claims(claims: dict) -> Principal:
    """The principal of verified claims, each claim checked for its shape."""
    roles = claims.get("roles") or ([claims["role"]] if claims.get("role") else [])
    if not isinstance(roles, list) or not roles or not all(r in ROLES for r in roles):
        raise Unauthorized(f"Vai trò (role) {roles!r} không được hỗ trợ; một trong: {', '.join(ROLES)}")
    role = claims.get("role") if claims.get("role") in roles else roles[0]
    provinces = claims.get("provinces")
    if provinces is None and isinstance(claims.get("province"), str):
        provinces = [claims["province"]]
    if not isinstance(provinces, list) or not provinces or not all(isinstance(p, str) for p in provinces):
        raise Unauthorized("Token phải nêu ít nhất một tỉnh (provinces)")
    unit_level, authority = claims.get("unit_level"), claims.get("authority")
    if unit_level is not None and unit_level not in UNIT_LEVELS:
        raise Unauthorized(f"Cấp đơn vị (unit_level) {unit_level!r} không hợp lệ")
    if authority is not None and authority not in AUTHORITY_LEVELS:
        raise Unauthorized(f"Thẩm quyền (authority) {authority!r} không hợp lệ")
    scope = claims.get("scope") or ""
    return Principal(str(claims["sub"]), role, tuple(provinces), roles=tuple(roles), name=claims.get("name"),
                     unit=claims.get("unit"), unit_level=unit_level, authority=authority,
                     scopes=tuple(scope.split()) if isinstance(scope, str) else tuple(scope))


def init_app(app: Flask, secret: str, issuer: str, audience: str) -> None:
    @app.before_request
    def _authenticate():
        g.principal = None
        if request.path.startswith(PUBLIC_PATHS) or request.method == "OPTIONS":
            return
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise Unauthorized("Thiếu mã thông báo: cần tiêu đề Authorization: Bearer <token>")
        g.principal = decode(header.removeprefix("Bearer ").strip(), secret, issuer, audience)


def current() -> Principal:
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("Thiếu mã thông báo")
    return principal


def require_role(*roles: str) -> Principal:
    principal = current()
    if not principal.has_role(*roles):
        raise Forbidden(f"Vai trò {principal.role!r} không được phép thực hiện thao tác này; "
                        f"cần một trong: {', '.join(roles)}")
    return principal


def province_for(requested: str | None = None) -> str:
    """The province this request acts in: the one asked for, if the token covers it."""
    principal = current()
    if requested is None:
        if len(principal.provinces) == 1:
            return principal.provinces[0]
        raise Forbidden("Token có nhiều tỉnh: hãy nêu tỉnh (province) của yêu cầu")
    if requested not in principal.provinces:
        raise Forbidden(f"Token không có quyền với tỉnh {requested!r}")
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
