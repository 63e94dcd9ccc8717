"""Settings of the embedded issuer, read from the environment in one place.

| variable | meaning | default |
|---|---|---|
| ``IDENTITY_ISSUER`` | the issuer's public URL: every token's ``iss``, the base of its discovery document | ``http://127.0.0.1:8000`` |
| ``IDENTITY_AUDIENCE`` | the ``aud`` of every token (the services' ``OIDC_AUDIENCE``) | ``thidua`` |
| ``IDENTITY_DATABASE_URL`` | the user directory (users, clients, revoked token ids) | ``sqlite:///<DATA_DIR>/identity.db`` |
| ``IDENTITY_KEYS_FILE`` | the signing keys (a private JWK set, mode 600), made at the first start | ``<DATA_DIR>/identity_keys.json`` |
| ``IDENTITY_TOKEN_TTL_S`` | lifetime of an access token | ``600`` |
| ``DATA_DIR`` | folder of the two files above | ``data`` |
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    issuer: str
    audience: str
    database_url: str
    keys_file: Path
    token_ttl_s: int = 600


def load(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data_dir = Path(env.get("DATA_DIR", "data"))
    return Settings(issuer=(env.get("IDENTITY_ISSUER") or "http://127.0.0.1:8000").rstrip("/"),
                    audience=env.get("IDENTITY_AUDIENCE") or "thidua",
                    database_url=env.get("IDENTITY_DATABASE_URL") or f"sqlite:///{data_dir}/identity.db",
                    keys_file=Path(env.get("IDENTITY_KEYS_FILE") or data_dir / "identity_keys.json"),
                    token_ttl_s=int(env.get("IDENTITY_TOKEN_TTL_S") or 600))
