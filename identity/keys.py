"""The issuer's signing keys: a private JWK set in one file (mode 600) beside the data.

The file holds every published key and names the one that signs::

    {"signing": "<kid>", "keys": [{"kty": "RSA", "kid": "...", "d": "...", ...}, ...]}

Rotation, without a token refused on the way: ``thidua keys add`` publishes a new key that
does not sign yet; once every service has fetched the key set again (``OIDC_JWKS_CACHE_S``,
5 minutes by default), ``thidua keys use <kid>`` makes it sign; once the last token the old
key signed has expired (``IDENTITY_TOKEN_TTL_S``), ``thidua keys retire <old kid>`` stops
publishing it. The issuer re-reads the file when it changes.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from joserfc.jwk import KeySet, RSAKey


def new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, private=True, auto_kid=True)


class KeyRing:
    def __init__(self, signing: str, keys: list[RSAKey]):
        self.signing, self.keys = signing, keys

    @classmethod
    def load_or_create(cls, path: Path) -> "KeyRing":
        """The ring in ``path``, made (with one key) if there is none yet: by one process only,
        even when several start at once (the file appears whole, or not at all)."""
        if not path.exists():
            key = new_key()
            try:
                _write_new(path, {"signing": key.kid, "keys": [key.as_dict(private=True)]})
            except FileExistsError:
                pass  # another process made it first: use theirs
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> "KeyRing":
        body = json.loads(path.read_text())
        return cls(body["signing"], [RSAKey.import_key(k) for k in body["keys"]])

    def save(self, path: Path) -> None:
        _write(path, {"signing": self.signing, "keys": [k.as_dict(private=True) for k in self.keys]})

    def signing_set(self) -> KeySet:
        """Only the signing key: joserfc names its ``kid`` in every token's header."""
        return KeySet([k for k in self.keys if k.kid == self.signing])

    def verifying_set(self) -> KeySet:
        return KeySet(list(self.keys))

    def public(self) -> dict:
        """The JWKS the services fetch: every published key, public parts only."""
        return {"keys": [k.as_dict(private=False) for k in self.keys]}

    # -- rotation ----------------------------------------------------------------
    def add(self) -> RSAKey:
        key = new_key()
        self.keys.append(key)
        return key

    def use(self, kid: str) -> None:
        if kid not in {k.kid for k in self.keys}:
            raise KeyError(f"không có khóa {kid!r}")
        self.signing = kid

    def retire(self, kid: str) -> None:
        if kid == self.signing:
            raise ValueError(f"khóa {kid!r} đang ký: hãy chọn khóa khác trước (thidua keys use)")
        if kid not in {k.kid for k in self.keys}:
            raise KeyError(f"không có khóa {kid!r}")
        self.keys = [k for k in self.keys if k.kid != kid]


def _write_new(path: Path, body: dict) -> None:
    tmp = _private_temp(path, body)
    try:
        os.link(tmp, path)  # atomic, and fails if the file is already there
    finally:
        os.unlink(tmp)


def _write(path: Path, body: dict) -> None:
    os.replace(_private_temp(path, body), path)


def _private_temp(path: Path, body: dict) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-")  # mkstemp makes it 600
    with os.fdopen(fd, "w") as f:
        json.dump(body, f)
    return tmp
