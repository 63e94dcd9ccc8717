"""``thidua``: the operator's command line. Every command takes ``--json``.

Exit codes: 0 done; 1 the command ran and found a problem; 2 bad usage or
configuration; 3 a dependency (database, broker) did not answer.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from identity import cli as identity_cli
from shared import auth
from shared.audit_cli import audit_command
from shared.ops import commands as ops

SERVICES = ("registration", "evaluation", "awards", "notifications")


def _emit(as_json: bool, payload, text: str) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2) if as_json else text)


def _settings(service: str):
    from shared import config
    env = dict(os.environ)
    env.setdefault("JWT_SECRET", _dev_secret() or "")
    specific = env.get(f"DATABASE_URL_{service.upper()}")
    if specific:
        env["DATABASE_URL"] = specific
    try:
        return config.load(service, env)
    except config.ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _dev_secret() -> str | None:
    path = Path(os.environ.get("DATA_DIR", "data")) / "jwt_secret"
    return path.read_text().strip() if path.exists() else None


@click.group()
def main() -> None:
    """Vận hành hệ thống thi đua, khen thưởng (operate the platform)."""


@main.command()
@click.option("--services", "names", default=None, help="comma list; default SETUP_SERVICES or all")
@click.option("--topics/--no-topics", default=True, help="also create the Kafka topics")
@click.option("--json", "as_json", is_flag=True)
@ops.operation
def setup(names: str | None, topics: bool, as_json: bool) -> None:
    """Migrate each service's database to head and (unless --no-topics) create its topics."""
    from shared.ops import topics as topic_ops

    chosen = [n.strip() for n in (names or os.environ.get("SETUP_SERVICES") or ",".join(SERVICES)).split(",")]
    for name in chosen:
        if name not in SERVICES:
            raise click.UsageError(f"unknown service {name!r}; one of {', '.join(SERVICES)}")
    done = [{"service": r["service"], "database": r["to"], "topics": []} for r in ops.migrate_services(chosen)]
    if topics:
        client = ops.kafka()
        try:
            for d in done:
                d["topics"] = [r["topic"] for r in topic_ops.create(client, topic_ops.wanted(ops.settings(d["service"])))]
        finally:
            client.close()
    _emit(as_json, done, "\n".join(f"{d['service']}: schema at {d['database']}; topics {d['topics'] or '-'}"
                                   for d in done))


@main.command()
@click.option("--role", required=True, type=click.Choice(auth.ROLES))
@click.option("--province", "provinces", required=True, multiple=True, help="repeat for several")
@click.option("--subject", default="dev-user")
@click.option("--name", default=None, help="display name")
@click.option("--unit", default=None, help="id of the caller's unit")
@click.option("--unit-level", default=None, type=click.Choice(auth.UNIT_LEVELS))
@click.option("--authority", default=None, type=click.Choice(auth.AUTHORITY_LEVELS))
@click.option("--ttl", default=8 * 3600, show_default=True, help="seconds")
@click.option("--json", "as_json", is_flag=True)
def token(role: str, provinces: tuple[str, ...], subject: str, name: str | None, unit: str | None,
          unit_level: str | None, authority: str | None, ttl: int, as_json: bool) -> None:
    """Mint a bearer token signed with JWT_SECRET (or the embedded default's key). People sign in
    at the identity provider instead; this is for operators and tests."""
    settings = _settings("registration")
    claims = {"name": name, "unit": unit, "unit_level": unit_level, "authority": authority}
    value = auth.mint(settings.jwt_secret, subject, role, list(provinces), ttl,
                      settings.jwt_issuer, settings.jwt_audience, **claims)
    _emit(as_json, {"token": value, "role": role, "provinces": list(provinces),
                    **{k: v for k, v in claims.items() if v is not None}}, value)


main.add_command(audit_command)
for _command in identity_cli.COMMANDS:
    main.add_command(_command)
for _command in ops.COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()
