"""Settings of the web gateway, read from the environment in one place.

| variable | meaning | default |
|---|---|---|
| ``REGISTRATION_URL`` / ``EVALUATION_URL`` / ``AWARDS_URL`` / ``NOTIFICATIONS_URL`` | base URL of each service's public API | ``http://127.0.0.1:8001`` … ``8004`` |
| ``SERVICE_TIMEOUT_S`` | how long one call to a service may take | ``30`` |
| ``DOCUMENTS_MAX_BYTES`` | the largest file a page may upload (the services keep their own limit too) | ``20971520`` (20 MiB) |
| ``IDENTITY_URL`` | the issuer people sign in at (password grant) | ``http://127.0.0.1:8000`` |
| ``WEB_CLIENT_ID`` | the issuer's public client of the sign-in page | ``thidua-web`` |
| ``WEB_SESSION_SECRET`` | signs the session cookie (which holds the person's access token) | a random one per process |
| ``WEB_SECURE_COOKIE`` | ``1``: the session cookie only over HTTPS (production behind TLS) | ``0`` |
| ``WEB_PROVINCE`` | the province whose public pages (công khai, tra cứu) the site opens on | ``86`` (the demo's) |
| ``WEB_RETRY_DELAYS_S`` | the back-off between retries of a "retryable" answer, comma-separated | ``0.2,0.5,1`` |

The gateway mints no token: it forwards the token the issuer gave the person who signed in.
A random session secret signs out everyone when the process restarts; a deployment with
several workers or hosts sets ``WEB_SESSION_SECRET``.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field

SERVICES = ("registration", "evaluation", "awards", "notifications")
DEFAULT_PORTS = {"registration": 8001, "evaluation": 8002, "awards": 8003, "notifications": 8004}


@dataclass(frozen=True)
class WebSettings:
    service_urls: dict[str, str]
    timeout_s: float = 30.0
    upload_max_bytes: int = 20 * 1024 * 1024
    identity_url: str = "http://127.0.0.1:8000"
    client_id: str = "thidua-web"
    session_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    secure_cookie: bool = False
    retry_delays_s: tuple[float, ...] = (0.2, 0.5, 1.0)
    province: str = "86"


def load(env: dict[str, str] | None = None) -> WebSettings:
    env = os.environ if env is None else env
    urls = {s: env.get(f"{s.upper()}_URL", f"http://127.0.0.1:{DEFAULT_PORTS[s]}").rstrip("/")
            for s in SERVICES}
    delays = tuple(float(d) for d in env.get("WEB_RETRY_DELAYS_S", "0.2,0.5,1").split(",") if d.strip())
    return WebSettings(service_urls=urls, timeout_s=float(env.get("SERVICE_TIMEOUT_S", "30")),
                       identity_url=env.get("IDENTITY_URL", "http://127.0.0.1:8000").rstrip("/"),
                       client_id=env.get("WEB_CLIENT_ID", "thidua-web"),
                       session_secret=env.get("WEB_SESSION_SECRET") or secrets.token_urlsafe(32),
                       secure_cookie=env.get("WEB_SECURE_COOKIE", "0") == "1", retry_delays_s=delays,
                       province=env.get("WEB_PROVINCE", "86"),
                       upload_max_bytes=int(env.get("DOCUMENTS_MAX_BYTES") or 20 * 1024 * 1024))
