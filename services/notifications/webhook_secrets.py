"""Webhook signing secrets at rest: sealed with Fernet (``cryptography``) under a key from the
environment, so a copy of notifications' database (a backup, a dump handed to support)
does not let anyone sign events as the platform.

``WEBHOOK_SECRETS_KEY`` is one Fernet key (``Fernet.generate_key()``, 32 bytes url-safe
base64) or several, comma-separated: the first seals, all of them open (MultiFernet), so
the key is changed by putting the new one first, restarting, and letting the worker
re-seal (:func:`services.notifications.webhooks.seal_stored_secrets`). A sealed value is
``fernet:<token>``; anything else is a secret stored in plain text — a row from before
sealing, or one written while no key was set — and is read as it is, then sealed by the
worker's next start once a key is set. Without a key nothing is sealed (a development
installation) and the worker says so in its log; with sealed rows and no key (or the
wrong one) a delivery cannot be signed and is retried, its error naming the setting.
"""
from __future__ import annotations

import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SEALED = "fernet:"


class SecretUnavailable(Exception):
    """A sealed secret that the configured keys cannot open."""


class SecretBox:
    def __init__(self, keys: list[bytes | str] | tuple = ()):
        fernets = [Fernet(k) for k in keys]
        self._first = fernets[0] if fernets else None  # seals
        self._fernet = MultiFernet(fernets) if fernets else None  # opens

    @classmethod
    def from_env(cls, env=None) -> "SecretBox":
        env = os.environ if env is None else env
        raw = env.get("WEBHOOK_SECRETS_KEY", "")
        try:
            return cls([k.strip() for k in raw.split(",") if k.strip()])
        except ValueError as exc:
            raise ValueError("WEBHOOK_SECRETS_KEY phải là khóa Fernet (32 byte base64 url-safe), "
                             f"cách nhau bởi dấu phẩy (must be Fernet keys): {exc}") from None

    @property
    def keyed(self) -> bool:
        return self._fernet is not None

    def seal(self, secret: str) -> str:
        """What to store for ``secret``: sealed under the first key, or itself without a key."""
        if self._fernet is None:
            return secret
        return SEALED + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        if not is_sealed(stored):
            return stored
        if self._fernet is None:
            raise SecretUnavailable("Khóa bí mật webhook đã được mã hóa nhưng chưa đặt WEBHOOK_SECRETS_KEY "
                                    "(the secret is sealed and WEBHOOK_SECRETS_KEY is not set)")
        try:
            return self._fernet.decrypt(stored.removeprefix(SEALED).encode()).decode()
        except InvalidToken:
            raise SecretUnavailable("WEBHOOK_SECRETS_KEY không mở được khóa bí mật webhook đã lưu "
                                    "(WEBHOOK_SECRETS_KEY does not open the stored secret)") from None

    def reseal(self, stored: str) -> str | None:
        """``stored`` sealed under the current first key, or None when it already is."""
        if self._fernet is None:
            return None
        if not is_sealed(stored):
            return self.seal(stored)
        token = stored.removeprefix(SEALED).encode()
        try:
            self._first.decrypt(token)
            return None  # already under the first key
        except InvalidToken:
            return SEALED + self._fernet.rotate(token).decode()


def is_sealed(stored: str | None) -> bool:
    return bool(stored) and stored.startswith(SEALED)
