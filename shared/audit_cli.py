"""``thidua audit <exemplar id | correlation id>``: the four services' trails gathered into one
verified story.

An exemplar's id (or ``exemplar-<id>``) asks each service's ``GET /exemplars/<id>/audit``;
any other correlation id, a case's (``registration-<registration id>``), asks
``GET /cases/<correlation id>/audit``. Either with a token of the operator's province; then
it verifies every hash chain (with ``CHAIN_KEY`` when the installation has one), checks
causes and order (:mod:`shared.audit`), prints the story in Vietnamese or as JSON, and
exits 1 when anything is missing, out of order or tampered with.
"""
from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path

import click
import requests

from shared import audit, auth
from shared.stack import DEFAULT_PORTS, SERVICES


def exemplar_of(story: str) -> str | None:
    """The exemplar id ``story`` names (its id, or its correlation id), or None for a case."""
    candidate = story.removeprefix("exemplar-")
    try:
        return candidate if str(uuid.UUID(candidate)) == candidate else None
    except ValueError:
        return None


def fetch(urls: dict[str, str], path: str, token: str) -> list[dict]:
    """Every service's answer to ``path`` (``/exemplars/<id>/audit`` or ``/cases/<id>/audit``)."""
    answers = []
    for service in SERVICES:
        r = requests.get(f"{urls[service]}{path}",
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
        r.raise_for_status()
        answers.append(r.json())
    return answers


def _local(name: str) -> str:
    path = Path(os.environ.get("DATA_DIR", "data")) / name
    return path.read_text().strip() if path.exists() else ""


@click.command("audit")
@click.argument("story")
@click.option("--province", required=True, help="the province the exemplar or case belongs to")
@click.option("--url", "urls", multiple=True, metavar="SERVICE=URL",
              help="a service's base URL (default: the embedded default's ports on 127.0.0.1)")
@click.option("--json", "as_json", is_flag=True)
def audit_command(story: str, province: str, urls: tuple[str, ...], as_json: bool) -> None:
    """Gather, verify and tell the story of one exemplar (its id) or one case (its correlation id,
    registration-<registration id>) across the four services."""
    base = {s: f"http://127.0.0.1:{p}" for s, p in DEFAULT_PORTS.items()}
    for item in urls:
        service, _, url = item.partition("=")
        if service not in SERVICES or not url:
            raise click.UsageError(f"--url {item!r}: expected SERVICE=URL with SERVICE one of {', '.join(SERVICES)}")
        base[service] = url.rstrip("/")
    secret = os.environ.get("JWT_SECRET") or _local("jwt_secret")
    if not secret:
        raise click.UsageError("JWT_SECRET is not set (nor data/jwt_secret)")
    key = (os.environ.get("CHAIN_KEY") or _local("chain_key")).encode()
    token = auth.mint(secret, "thidua-audit", "operator", [province], 300,
                      os.environ.get("JWT_ISSUER", "thidua"), os.environ.get("JWT_AUDIENCE", "thidua"))
    exemplar_id = exemplar_of(story)
    try:
        answers = fetch(base, f"/exemplars/{exemplar_id}/audit" if exemplar_id else f"/cases/{story}/audit", token)
    except requests.RequestException as exc:
        click.echo(f"a service did not answer: {exc}", err=True)
        sys.exit(3)
    if exemplar_id:
        found, told = audit.gather(exemplar_id, answers, key), audit.narrate
    else:
        found, told = audit.gather_case(story, answers, key), audit.narrate_case
    click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2) if as_json else told(found))
    sys.exit(0 if found.verified else 1)
