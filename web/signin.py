"""The port through which the gateway signs a person in at the issuer, and its HTTP adapter.

The gateway is the issuer's public client ``thidua-web`` (no secret): it sends the person's
name and password with the password grant and keeps the access token it gets in the person's
session; signing out revokes it at the issuer, so every service refuses it from then on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import jwt
import requests

from shared import auth
from web.settings import WebSettings


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    expires_at: float  # seconds since the epoch


class SignInRefused(Exception):
    """The issuer said no (wrong name or password, unknown client); ``message`` is its Vietnamese reason."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class IssuerUnavailable(RuntimeError):
    """The issuer could not be reached or did not answer JSON."""


class Issuer(Protocol):
    """Contract: ``sign_in(username, password)`` returns a :class:`SignedIn` or raises
    :class:`SignInRefused` with the issuer's Vietnamese reason (or :class:`IssuerUnavailable`);
    ``sign_out(access_token)`` revokes the token (an unknown or revoked token is no error)."""

    def sign_in(self, username: str, password: str) -> SignedIn: ...

    def sign_out(self, access_token: str) -> None: ...


class HttpIssuer:
    """The issuer over HTTP. Its token and revocation endpoints are read from its OpenID discovery
    document (a province's Keycloak has them at ``/protocol/openid-connect/...``), once, when first
    needed; an issuer without one is taken to have the embedded issuer's ``/oauth/token`` and
    ``/oauth/revoke``."""

    def __init__(self, settings: WebSettings, session: requests.Session | None = None):
        self.url, self.client_id, self.timeout_s = settings.identity_url, settings.client_id, settings.timeout_s
        self.session = session or requests.Session()
        self._endpoints: dict[str, str] | None = None

    def endpoints(self) -> dict[str, str]:
        if self._endpoints is None:
            found = {}
            try:
                r = self.session.get(self.url + "/.well-known/openid-configuration", timeout=self.timeout_s)
            except requests.RequestException as exc:
                raise IssuerUnavailable(str(exc)) from exc
            if r.status_code == 200:
                found = _json(r)
            elif r.status_code != 404:
                raise IssuerUnavailable(f"discovery answered HTTP {r.status_code}")
            self._endpoints = {"token": found.get("token_endpoint") or self.url + "/oauth/token",
                               "revocation": found.get("revocation_endpoint") or self.url + "/oauth/revoke"}
        return self._endpoints

    def sign_in(self, username: str, password: str) -> SignedIn:
        r = self._post("token", {"grant_type": "password", "client_id": self.client_id,
                                 "username": username, "password": password})
        body = _json(r)
        if r.status_code != 200:
            raise SignInRefused(body.get("message") or body.get("error_description") or "Không đăng nhập được")
        return SignedIn(body["access_token"], time.time() + float(body.get("expires_in", 3600)))

    def sign_out(self, access_token: str) -> None:
        r = self._post("revocation", {"token": access_token, "token_type_hint": "access_token",
                                      "client_id": self.client_id})
        if r.status_code >= 500:
            raise IssuerUnavailable(f"revocation answered HTTP {r.status_code}")

    def _post(self, endpoint: str, form: dict) -> requests.Response:
        url = self.endpoints()[endpoint]
        try:
            return self.session.post(url, data=form, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise IssuerUnavailable(str(exc)) from exc


def _json(r: requests.Response) -> dict:
    try:
        body = r.json()
    except ValueError as exc:
        raise IssuerUnavailable(f"HTTP {r.status_code}, not JSON") from exc
    return body if isinstance(body, dict) else {}


def who(access_token: str) -> auth.Principal:
    """Who the token names, to choose the pages to show. Read without checking the signature:
    the token came straight from the issuer to this process, and every service checks it
    again on every call; the page only decides what to offer, never what is allowed."""
    return auth.principal_from_claims(jwt.decode(access_token, options={"verify_signature": False}))
