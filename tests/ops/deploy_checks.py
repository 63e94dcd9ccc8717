"""Checks that the Compose and the Kubernetes tests share: what a process's environment must
hold for the code that reads it, read from that code so a renamed setting fails both."""
from __future__ import annotations

import re
from pathlib import Path

NOTIFICATIONS = Path(__file__).resolve().parents[2] / "services" / "notifications"
WEBHOOK_SENDER = NOTIFICATIONS / "webhook_sender.py"
# Where the webhooks' protection is read, by the web process and the worker's sender alike.
WEBHOOK_PROTECTION = (NOTIFICATIONS / "webhook_net.py", NOTIFICATIONS / "webhook_secrets.py")


def _read_settings(*paths: Path) -> list[str]:
    return [n for path in paths for n in re.findall(r'env\.get\("(WEBHOOK_[A-Z_]+)"', path.read_text(encoding="utf-8"))]


def webhook_settings() -> list[str]:
    """The WEBHOOK_* names the notifications worker's sender reads (SenderSettings.from_env)."""
    names = _read_settings(WEBHOOK_SENDER)
    assert names, "SenderSettings.from_env reads no WEBHOOK_* setting any more"
    return names


def webhook_protection() -> dict[str, tuple[str, ...]]:
    """The protection settings each notifications process reads: the worker's sender those of its
    NetworkPolicy and SecretBox; the web process what it checks at start (webhooks.WEB_SETTINGS)."""
    from services.notifications import webhooks

    worker = tuple(_read_settings(*WEBHOOK_PROTECTION))
    assert worker and set(worker) <= set(webhooks.WEB_SETTINGS), (worker, webhooks.WEB_SETTINGS)
    return {"web": webhooks.WEB_SETTINGS, "worker": worker}


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


def webhook_protection_problems(web: tuple[str, dict[str, str]], worker: tuple[str, dict[str, str]]) -> list[str]:
    """What leaves the webhooks unprotected, or the two notifications processes at odds: a
    setting missing, no WEBHOOK_SECRETS_KEY (secrets in plain text), every private network
    open, a value the process would refuse at start, or a key or allow-list that differs
    between the web (which seals secrets and checks URLs) and the worker (which opens them and
    checks each delivery)."""
    from services.notifications.webhooks import check_web_settings

    problems, names = [], webhook_protection()
    for (where, env), kind in ((web, "web"), (worker, "worker")):
        missing = [n for n in names[kind] if n not in env]
        if missing:
            problems.append(f"{where}: no {', '.join(missing)}")
        if not env.get("WEBHOOK_SECRETS_KEY"):
            problems.append(f"{where}: WEBHOOK_SECRETS_KEY is empty (webhook secrets stored in plain text)")
        if env.get("WEBHOOK_ALLOW_PRIVATE") == "1":
            problems.append(f"{where}: WEBHOOK_ALLOW_PRIVATE is on (webhooks may reach every internal network)")
        try:
            check_web_settings({n: env[n] for n in names[kind] if n in env})
        except ValueError as exc:
            problems.append(f"{where}: webhook protection settings do not load: {exc}")
    for name in names["worker"]:
        if web[1].get(name) != worker[1].get(name):
            problems.append(f"{web[0]} and {worker[0]} disagree on {name}")
    return problems
