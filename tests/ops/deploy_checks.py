"""Checks that the Compose and the Kubernetes tests share: what a process's environment must
hold for the code that reads it, read from that code so a renamed setting fails both."""
from __future__ import annotations

import re
from pathlib import Path

WEBHOOK_SENDER = Path(__file__).resolve().parents[2] / "services" / "notifications" / "webhook_sender.py"


def webhook_settings() -> list[str]:
    """The WEBHOOK_* names the notifications worker's sender reads (SenderSettings.from_env)."""
    names = re.findall(r'env\.get\("(WEBHOOK_[A-Z_]+)"', WEBHOOK_SENDER.read_text(encoding="utf-8"))
    assert names, "SenderSettings.from_env reads no WEBHOOK_* setting any more"
    return names


def webhook_sender_problems(where: str, env: dict[str, str]) -> list[str]:
    """What keeps the webhook sender from starting on ``env`` as it means to: a setting missing
    (the code's default would be used silently) or one that does not load."""
    from services.notifications.webhook_sender import SenderSettings

    problems = []
    missing = [n for n in webhook_settings() if not env.get(n)]
    if missing:
        problems.append(f"{where}: no {', '.join(missing)}")
    try:
        SenderSettings.from_env(env)
    except ValueError as exc:
        problems.append(f"{where}: webhook settings do not load: {exc}")
    return problems
