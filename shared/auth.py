"""Bearer tokens (JWT, HS256): who is calling, in which role, for which provinces.

This is the one place where claims are read. A token carries::

    {"sub": "user-or-service-id", "role": "department", "provinces": ["83"],
     "iss": "thidua", "aud": "thidua", "exp": ...}

Routes ask :func:`current` for the principal and :func:`province_for` for the
province a request acts in; they never parse the header themselves.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import jwt
from flask import Flask, g, request

from shared.errors import Forbidden, Unauthorized

# Roles a token may name; which role may do what is decided by each route.
ROLES = ("department", "unit_head", "council", "authority", "participant", "service", "operator")
PUBLIC_PATHS = ("/health", "/ready", "/metrics", "/openapi.json", "/docs", "/public")


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    provinces: tuple[str, ...]


def mint(secret: str, subject: str, role: str, provinces: list[str], ttl_s: int = 3600,
         issuer: str = "thidua", audience: str = "thidua") -> str:
    now = int(time.time())
    return jwt.encode({"sub": subject, "role": role, "provinces": list(provinces), "iss": issuer,
                       "aud": audience, "iat": now, "exp": now + ttl_s}, secret, algorithm="HS256")


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
    role, provinces = claims.get("role"), claims.get("provinces")
    if role not in ROLES:
        raise Unauthorized(f"Vai trò (role) {role!r} không được hỗ trợ")
    if not isinstance(provinces, list) or not provinces or not all(isinstance(p, str) for p in provinces):
        raise Unauthorized("Token phải nêu ít nhất một tỉnh (provinces)")
    return Principal(str(claims["sub"]), role, tuple(provinces)), float(claims["exp"])


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
    if principal.role not in roles:
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
