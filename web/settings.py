"""Settings of the web gateway, read from the environment in one place.

| variable | meaning | default |
|---|---|---|
| ``REGISTRATION_URL`` / ``EVALUATION_URL`` / ``AWARDS_URL`` / ``NOTIFICATIONS_URL`` | base URL of each service's public API | ``http://127.0.0.1:8001`` … ``8004`` |
| ``SERVICE_TIMEOUT_S`` | how long one call to a service may take | ``30`` |
| ``DOCUMENTS_MAX_BYTES`` | the largest file a page may upload (the services keep their own limit too) | ``20971520`` (20 MiB) |

The gateway holds no secret: it forwards the caller's bearer token and never mints one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

SERVICES = ("registration", "evaluation", "awards", "notifications")
DEFAULT_PORTS = {"registration": 8001, "evaluation": 8002, "awards": 8003, "notifications": 8004}


@dataclass(frozen=True)
class WebSettings:
    service_urls: dict[str, str]
    timeout_s: float = 30.0
    upload_max_bytes: int = 20 * 1024 * 1024


def load(env: dict[str, str] | None = None) -> WebSettings:
    env = os.environ if env is None else env
    urls = {s: env.get(f"{s.upper()}_URL", f"http://127.0.0.1:{DEFAULT_PORTS[s]}").rstrip("/")
            for s in SERVICES}
    return WebSettings(service_urls=urls, timeout_s=float(env.get("SERVICE_TIMEOUT_S", "30")),
                       upload_max_bytes=int(env.get("DOCUMENTS_MAX_BYTES") or 20 * 1024 * 1024))
