"""The issuer's user directory: people, the OAuth clients of integrators, and revoked token ids.

Passwords and client secrets are kept as argon2 hashes only. A person's roles, province,
unit, unit level and authority are what their tokens will say (:mod:`shared.auth` reads them).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (Boolean, Column, Integer, MetaData, String, Table, create_engine, delete, insert,
                        make_url, select, update)
from sqlalchemy.exc import IntegrityError

from shared.auth import AUTHORITY_LEVELS, ROLES, UNIT_LEVELS

metadata = MetaData()

users = Table(
    "users", metadata,
    Column("id", String(100), primary_key=True),  # the username, and every token's ``sub``
    Column("name", String(300), nullable=False),
    Column("province", String(16), nullable=False),
    Column("unit", String(100)),
    Column("unit_level", String(20)),
    Column("roles", String(200), nullable=False),  # space-separated, the first is the main one
    Column("authority", String(20)),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

clients = Table(
    "clients", metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(300), nullable=False),
    Column("secret_hash", String(200)),  # none: a public client (a sign-in page, curl)
    Column("province", String(16)),  # whose data an integrator's tokens reach
    Column("scopes", String(500), nullable=False, default=""),
    Column("grant_type", String(40), nullable=False),  # password | client_credentials
)

revoked_tokens = Table(
    "revoked_tokens", metadata,
    Column("jti", String(100), primary_key=True),
    Column("subject", String(100)),
    Column("expires_at", Integer, nullable=False),  # listed until the token would have expired anyway
)

# What an integrator may be given: "<service>:read" or "<service>:write", and "webhooks" (manage its
# own webhook subscriptions, services/notifications/webhook_api.py).
SCOPE = re.compile(r"^((registration|evaluation|awards|notifications):(read|write)|webhooks)$")
GRANT_TYPES = ("password", "client_credentials")
_hasher = PasswordHasher()
# Checked against when the username is unknown, so that an unknown user takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password of anyone")


class DirectoryError(ValueError):
    """A directory change refused, with the reason in Vietnamese."""


@dataclass(frozen=True)
class User:
    id: str
    name: str
    province: str
    roles: tuple[str, ...]
    unit: str | None = None
    unit_level: str | None = None
    authority: str | None = None
    disabled: bool = False

    def get_user_id(self) -> str:  # Authlib's user protocol
        return self.id

    def claims(self) -> dict:
        """What a token of this person says (the claims :func:`shared.auth.principal_from_claims` reads)."""
        body = {"name": self.name, "province": self.province, "provinces": [self.province],
                "roles": list(self.roles), "role": self.roles[0], "unit": self.unit,
                "unit_level": self.unit_level, "authority": self.authority}
        return {k: v for k, v in body.items() if v is not None}


@dataclass(frozen=True)
class Client:
    """An OAuth client (Authlib's ``ClientMixin`` protocol)."""
    id: str
    name: str
    grant_type: str
    secret_hash: str | None = None
    province: str | None = None
    scopes: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        return self.secret_hash is None

    def get_client_id(self) -> str:
        return self.id

    def get_default_redirect_uri(self):
        return None

    def check_redirect_uri(self, redirect_uri) -> bool:
        return False  # no redirect flows: tokens come from the token endpoint only

    def check_response_type(self, response_type) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == self.grant_type

    def check_client_secret(self, client_secret: str) -> bool:
        return self.secret_hash is not None and _verify(self.secret_hash, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none" if self.public else method in ("client_secret_basic", "client_secret_post")

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """All of the client's scopes when none is asked for; what is asked for when the client has
        it; ``None`` (invalid_scope) when it asks for more."""
        if not scope:
            return " ".join(self.scopes)
        asked = scope.split()
        return " ".join(asked) if set(asked) <= set(self.scopes) else None


def _verify(hashed: str, given: str) -> bool:
    try:
        return _hasher.verify(hashed, given)
    except (VerificationError, InvalidHashError):
        return False


class Directory:
    def __init__(self, url: str):
        self.engine = create_engine(url, connect_args={"timeout": 15} if url.startswith("sqlite") else {})

    def create(self) -> "Directory":
        """Its tables, made if missing (and the SQLite file's folder)."""
        url = make_url(str(self.engine.url))
        if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            metadata.create_all(self.engine)
            Path(url.database).chmod(0o600)  # password hashes: the owner's only
        else:
            metadata.create_all(self.engine)
        return self

    # -- people ------------------------------------------------------------------
    def add_user(self, id: str, name: str, province: str, roles: list[str] | tuple[str, ...], password: str,
                 unit: str | None = None, unit_level: str | None = None, authority: str | None = None) -> User:
        user = User(id, name, province, tuple(roles), unit, unit_level, authority)
        _check_user(user, password)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(users).values(
                    id=id, name=name, province=province, roles=" ".join(roles), unit=unit, unit_level=unit_level,
                    authority=authority, password_hash=_hasher.hash(password), disabled=False))
        except IntegrityError as exc:
            raise DirectoryError(f"Người dùng {id!r} đã có") from exc
        return user

    def user(self, id: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == id)).mappings().first()
        return _user(row) if row else None

    def users(self) -> list[User]:
        with self.engine.connect() as conn:
            return [_user(r) for r in conn.execute(select(users).order_by(users.c.province, users.c.id)).mappings()]

    def authenticate(self, id: str, password: str) -> User | None:
        """The person, if the password is theirs (disabled or not: the caller says which refusal)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == id)).mappings().first()
        if row is None:
            _verify(_DUMMY_HASH, password)
            return None
        return _user(row) if _verify(row["password_hash"], password) else None

    def set_password(self, id: str, password: str) -> None:
        _check_password(password)
        self._change(id, password_hash=_hasher.hash(password))

    def set_disabled(self, id: str, disabled: bool = True) -> None:
        self._change(id, disabled=disabled)

    def _change(self, id: str, **values) -> None:
        with self.engine.begin() as conn:
            if conn.execute(update(users).where(users.c.id == id).values(**values)).rowcount == 0:
                raise DirectoryError(f"Không có người dùng {id!r}")

    # -- clients -----------------------------------------------------------------
    def add_client(self, id: str, name: str, grant_type: str, secret: str | None = None,
                   province: str | None = None, scopes: list[str] | tuple[str, ...] = ()) -> Client:
        if grant_type not in GRANT_TYPES:
            raise DirectoryError(f"Kiểu cấp quyền {grant_type!r} không hợp lệ; một trong: {', '.join(GRANT_TYPES)}")
        bad = [s for s in scopes if not SCOPE.match(s)]
        if bad:
            raise DirectoryError(f"Phạm vi {bad!r} không hợp lệ: dạng <dịch vụ>:read, <dịch vụ>:write "
                                 "hoặc webhooks")
        if grant_type == "client_credentials" and not (secret and province):
            raise DirectoryError("Ứng dụng tích hợp (client_credentials) cần khóa bí mật và tỉnh")
        if secret is not None:
            _check_password(secret)
        client = Client(id, name, grant_type, _hasher.hash(secret) if secret else None, province, tuple(scopes))
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(clients).values(id=id, name=name, grant_type=grant_type,
                                                    secret_hash=client.secret_hash, province=province,
                                                    scopes=" ".join(scopes)))
        except IntegrityError as exc:
            raise DirectoryError(f"Ứng dụng {id!r} đã có") from exc
        return client

    def client(self, id: str) -> Client | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(clients).where(clients.c.id == id)).mappings().first()
        if row is None:
            return None
        return Client(row["id"], row["name"], row["grant_type"], row["secret_hash"], row["province"],
                      tuple(row["scopes"].split()))

    # -- revocation --------------------------------------------------------------
    def revoke(self, jti: str, expires_at: int, subject: str | None = None) -> None:
        now = int(time.time())
        with self.engine.begin() as conn:
            conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at < now))
            if conn.execute(select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti)).first() is None:
                conn.execute(insert(revoked_tokens).values(jti=jti, subject=subject, expires_at=expires_at))

    def revoked(self) -> list[str]:
        """The ids of revoked tokens that have not expired yet (an expired one is refused anyway)."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(revoked_tokens.c.jti)
                                     .where(revoked_tokens.c.expires_at >= int(time.time()))).scalars())


def _user(row) -> User:
    return User(row["id"], row["name"], row["province"], tuple(row["roles"].split()), row["unit"],
                row["unit_level"], row["authority"], bool(row["disabled"]))


def _check_user(user: User, password: str) -> None:
    if not re.match(r"^[a-z0-9][a-z0-9._-]{1,99}$", user.id):
        raise DirectoryError(f"Tên đăng nhập {user.id!r} không hợp lệ: chữ thường không dấu, số, '.', '-', '_'")
    if not user.roles or any(r not in ROLES for r in user.roles):
        raise DirectoryError(f"Vai trò {list(user.roles)!r} không hợp lệ; một trong: {', '.join(ROLES)}")
    if user.unit_level is not None and user.unit_level not in UNIT_LEVELS:
        raise DirectoryError(f"Cấp đơn vị {user.unit_level!r} không hợp lệ; một trong: {', '.join(UNIT_LEVELS)}")
    if user.authority is not None and user.authority not in AUTHORITY_LEVELS:
        raise DirectoryError(f"Thẩm quyền {user.authority!r} không hợp lệ; một trong: {', '.join(AUTHORITY_LEVELS)}")
    _check_password(password)


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise DirectoryError("Mật khẩu (hoặc khóa bí mật) phải có ít nhất 8 ký tự")
