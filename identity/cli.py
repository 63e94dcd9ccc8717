"""``thidua users``, ``thidua clients``, ``thidua keys``: the operator's hold on the embedded issuer.

They act on the issuer's directory (``IDENTITY_DATABASE_URL``) and key file
(``IDENTITY_KEYS_FILE``) directly, as the issuer itself does, while it runs or not.
Passwords and secrets are asked for at the prompt (hidden) unless given with ``--password``.
"""
from __future__ import annotations

import json

import click

from identity import settings as identity_settings
from identity.directory import GRANT_TYPES, Directory, DirectoryError
from identity.keys import KeyRing
from shared.auth import AUTHORITY_LEVELS, ROLES, UNIT_LEVELS


def _directory() -> Directory:
    return Directory(identity_settings.load().database_url).create()


def _emit(as_json: bool, payload, text: str) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2) if as_json else text)


def _refused(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group()
def users() -> None:
    """Người dùng của hệ thống đăng nhập đi kèm (the embedded issuer's users)."""


@users.command("add")
@click.argument("username")
@click.option("--name", required=True, help="display name, e.g. 'Trần Thị Mai'")
@click.option("--province", required=True)
@click.option("--role", "roles", required=True, multiple=True, type=click.Choice(ROLES), help="repeat for several")
@click.option("--unit", default=None, help="id of the person's unit in registration")
@click.option("--unit-level", default=None, type=click.Choice(UNIT_LEVELS))
@click.option("--authority", default=None, type=click.Choice(AUTHORITY_LEVELS))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--json", "as_json", is_flag=True)
def users_add(username, name, province, roles, unit, unit_level, authority, password, as_json) -> None:
    """Add a person who signs in with USERNAME and a password."""
    try:
        user = _directory().add_user(username, name, province, list(roles), password, unit, unit_level, authority)
    except DirectoryError as exc:
        raise _refused(exc) from exc
    _emit(as_json, _user_row(user), f"added {user.id} ({user.name}), {' '.join(user.roles)}, province {province}")


@users.command("list")
@click.option("--json", "as_json", is_flag=True)
def users_list(as_json: bool) -> None:
    """Every person of the directory, and whether they may sign in."""
    rows = [_user_row(u) for u in _directory().users()]
    _emit(as_json, rows, "\n".join(
        f"{r['username']:<22} {r['name']:<24} {r['province']:<4} {','.join(r['roles']):<22} "
        f"{r['unit'] or '-':<24} {r['unit_level'] or '-':<10} {r['authority'] or '-':<10}"
        f"{'  DISABLED' if r['disabled'] else ''}" for r in rows) or "no users")


@users.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="let the person sign in again")
@click.option("--json", "as_json", is_flag=True)
def users_disable(username: str, enable: bool, as_json: bool) -> None:
    """Stop USERNAME from signing in (tokens already given expire within their lifetime;
    revoke them at /oauth/revoke to end them sooner)."""
    try:
        _directory().set_disabled(username, not enable)
    except DirectoryError as exc:
        raise _refused(exc) from exc
    _emit(as_json, {"username": username, "disabled": not enable}, f"{username}: {'enabled' if enable else 'disabled'}")


@users.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--json", "as_json", is_flag=True)
def users_passwd(username: str, password: str, as_json: bool) -> None:
    """Set USERNAME's password."""
    try:
        _directory().set_password(username, password)
    except DirectoryError as exc:
        raise _refused(exc) from exc
    _emit(as_json, {"username": username, "password": "changed"}, f"{username}: password changed")


def _user_row(user) -> dict:
    return {"username": user.id, "name": user.name, "province": user.province, "roles": list(user.roles),
            "unit": user.unit, "unit_level": user.unit_level, "authority": user.authority,
            "disabled": user.disabled}


@click.group()
def clients() -> None:
    """Ứng dụng tích hợp (OAuth clients of integrators)."""


@clients.command("add")
@click.argument("client_id")
@click.option("--name", required=True)
@click.option("--province", default=None, help="the province its tokens act in (client_credentials)")
@click.option("--scope", "scopes", multiple=True, help="e.g. registration:read; repeat for several")
@click.option("--grant-type", default="client_credentials", type=click.Choice(GRANT_TYPES), show_default=True,
              help="password: a public sign-in client (no secret)")
@click.option("--secret", default=None, help="default for client_credentials: asked at the prompt")
@click.option("--json", "as_json", is_flag=True)
def clients_add(client_id, name, province, scopes, grant_type, secret, as_json) -> None:
    """Add an OAuth client: an integrator's service (client credentials, with scopes) or a public sign-in client."""
    if grant_type == "client_credentials" and secret is None:
        secret = click.prompt("Secret", hide_input=True, confirmation_prompt=True)
    try:
        client = _directory().add_client(client_id, name, grant_type, secret, province,
                                         [s for scope in scopes for s in scope.split()])
    except DirectoryError as exc:
        raise _refused(exc) from exc
    _emit(as_json, {"client_id": client.id, "name": client.name, "grant_type": client.grant_type,
                    "province": client.province, "scopes": list(client.scopes)},
          f"added client {client.id} ({client.grant_type}; scopes: {' '.join(client.scopes) or '-'})")


@click.group()
def keys() -> None:
    """Khóa ký của hệ thống đăng nhập (signing keys): add, use, retire — see identity/keys.py."""


def _ring_path():
    return identity_settings.load().keys_file


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
def keys_list(as_json: bool) -> None:
    """Every published key, and which one signs."""
    ring = KeyRing.load_or_create(_ring_path())
    rows = [{"kid": k.kid, "signing": k.kid == ring.signing} for k in ring.keys]
    _emit(as_json, rows, "\n".join(f"{r['kid']}{'  (signing)' if r['signing'] else ''}" for r in rows))


@keys.command("add")
@click.option("--json", "as_json", is_flag=True)
def keys_add(as_json: bool) -> None:
    """Publish a new key that does not sign yet."""
    path = _ring_path()
    ring = KeyRing.load_or_create(path)
    key = ring.add()
    ring.save(path)
    _emit(as_json, {"kid": key.kid}, f"published {key.kid}; once the services have fetched it "
                                     f"(OIDC_JWKS_CACHE_S), `thidua keys use {key.kid}`")


@keys.command("use")
@click.argument("kid")
def keys_use(kid: str) -> None:
    """Sign new tokens with KID (published earlier with `keys add`)."""
    path = _ring_path()
    ring = KeyRing.load_or_create(path)
    try:
        ring.use(kid)
    except KeyError as exc:
        raise _refused(exc) from exc
    ring.save(path)
    click.echo(f"{kid} signs from now on")


@keys.command("retire")
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Stop publishing KID (after the last token it signed has expired)."""
    path = _ring_path()
    ring = KeyRing.load_or_create(path)
    try:
        ring.retire(kid)
    except (KeyError, ValueError) as exc:
        raise _refused(exc) from exc
    ring.save(path)
    click.echo(f"{kid} retired")


COMMANDS = (users, clients, keys)
