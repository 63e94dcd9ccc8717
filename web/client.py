"""The port through which the gateway reads the services, and its HTTP adapter.

The gateway talks to the services over their public HTTP APIs only, as the caller:
every call carries the caller's ``Authorization`` header unchanged, so each service
decides on its own what this caller may see.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import requests

from web.settings import WebSettings


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # the decoded JSON body, or None when there was none


@dataclass(frozen=True)
class Download:
    """A file a service sent (status 200: ``content`` and its headers), or its refusal (``body``, JSON)."""
    status: int
    content: bytes
    media_type: str | None
    disposition: str | None  # the service's Content-Disposition: the file's name
    body: Any = None


class ServiceUnavailable(RuntimeError):
    """The service could not be reached (down, timed out) or did not answer JSON."""

    def __init__(self, service: str, reason: str):
        super().__init__(f"{service}: {reason}")
        self.service, self.reason = service, reason


class ServiceClient(Protocol):
    """Contract (``tests/web/test_service_client.py`` holds every adapter to it):

    * ``get(service, path, authorization)`` sends ``GET path`` to ``service`` (one of
      :data:`web.settings.SERVICES`) with ``authorization`` as the ``Authorization`` header
      (none when it is None) and returns the status and the decoded JSON body, whatever the
      status: a 401, 403 or 404 is an answer, not an error;
    * ``upload(service, path, authorization, filename, content, media_type)`` sends ``POST path`` as
      ``multipart/form-data`` with the file in the field ``file``, and answers like ``get``;
    * ``download(service, path, authorization)`` sends ``GET path`` and returns a :class:`Download`: the
      bytes, type and Content-Disposition the service sent, or (any status but 200) its JSON refusal;
    * a service that cannot be reached raises :class:`ServiceUnavailable`;
    * an unknown service name raises ``KeyError``;
    * ``send(method, service, path, authorization, json)`` does the same for ``POST``, ``PUT``,
      ``PATCH`` or ``DELETE`` with ``json`` as the JSON body (none when it is None); any other
      method raises ``ValueError`` before anything is sent.
    """

    def get(self, service: str, path: str, authorization: str | None) -> Reply: ...

    def upload(self, service: str, path: str, authorization: str | None, filename: str, content: bytes,
               media_type: str) -> Reply: ...

    def download(self, service: str, path: str, authorization: str | None) -> Download: ...

    def send(self, method: str, service: str, path: str, authorization: str | None,
             json: Any = None) -> Reply: ...


WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def write_method(method: str) -> str:
    """The method, upper-cased, when it is one a command is sent with; else ``ValueError``."""
    if method.upper() not in WRITE_METHODS:
        raise ValueError(f"{method!r} is not one of {', '.join(WRITE_METHODS)}")
    return method.upper()


class HttpServiceClient:
    def __init__(self, settings: WebSettings, session: requests.Session | None = None):
        self.urls, self.timeout_s = settings.service_urls, settings.timeout_s
        self.session = session or requests.Session()

    def get(self, service: str, path: str, authorization: str | None) -> Reply:
        return self._open("GET", service, path, authorization, None)

    def send(self, method: str, service: str, path: str, authorization: str | None,
             json: Any = None) -> Reply:
        return self._open(write_method(method), service, path, authorization, json)

    def _open(self, method: str, service: str, path: str, authorization: str | None, json: Any) -> Reply:
        url = self.urls[service] + path
        headers = {"Accept": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        try:
            r = self.session.request(method, url, headers=headers, json=json, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise ServiceUnavailable(service, str(exc)) from exc
        try:
            return Reply(r.status_code, r.json() if r.content else None)
        except ValueError as exc:
            raise ServiceUnavailable(service, f"HTTP {r.status_code}, not JSON") from exc

    def upload(self, service: str, path: str, authorization: str | None, filename: str, content: bytes,
               media_type: str) -> Reply:
        try:
            r = self.session.post(self.urls[service] + path, headers=_headers(authorization),
                                  files={"file": (filename, content, media_type)}, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise ServiceUnavailable(service, str(exc)) from exc
        return _reply(service, r)

    def download(self, service: str, path: str, authorization: str | None) -> Download:
        try:
            r = self.session.get(self.urls[service] + path, headers=_headers(authorization), timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise ServiceUnavailable(service, str(exc)) from exc
        if r.status_code == 200:
            return Download(200, r.content, r.headers.get("Content-Type"), r.headers.get("Content-Disposition"))
        return Download(r.status_code, b"", None, None, _reply(service, r).body)


def _headers(authorization: str | None) -> dict[str, str]:
    return {"Accept": "application/json", **({"Authorization": authorization} if authorization else {})}


def _reply(service: str, r: requests.Response) -> Reply:
    try:
        return Reply(r.status_code, r.json() if r.content else None)
    except ValueError as exc:
        raise ServiceUnavailable(service, f"HTTP {r.status_code}, not JSON") from exc

