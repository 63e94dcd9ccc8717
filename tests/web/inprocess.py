"""The gateway's ports in process: the services' Flask test clients, and an issuer of the demo people."""
from __future__ import annotations

import io
import time

from identity import demo
from shared import auth
from tests.unit.conftest import SECRET, System
from web.client import Download, Reply, write_method
from web.signin import SignedIn, SignInRefused


class InProcessServiceClient:
    def __init__(self, system: System):
        self.system = system

    def get(self, service: str, path: str, authorization: str | None) -> Reply:
        return self._open("GET", service, path, authorization, None)

    def send(self, method: str, service: str, path: str, authorization: str | None, json=None) -> Reply:
        return self._open(write_method(method), service, path, authorization, json)

    def _open(self, method: str, service: str, path: str, authorization: str | None, json) -> Reply:
        app = self.system.apps[service]  # KeyError for a service that is not there, as the contract says
        headers = {"Authorization": authorization} if authorization else {}
        r = app.test_client().open(path, method=method, headers=headers, json=json)
        return Reply(r.status_code, r.get_json(silent=True))

    def upload(self, service: str, path: str, authorization: str | None, filename: str, content: bytes,
               media_type: str) -> Reply:
        app = self.system.apps[service]
        headers = {"Authorization": authorization} if authorization else {}
        r = app.test_client().post(path, headers=headers, content_type="multipart/form-data",
                                   data={"file": (io.BytesIO(content), filename, media_type)})
        return Reply(r.status_code, r.get_json(silent=True))

    def download(self, service: str, path: str, authorization: str | None) -> Download:
        app = self.system.apps[service]
        headers = {"Authorization": authorization} if authorization else {}
        r = app.test_client().get(path, headers=headers)
        if r.status_code == 200:
            return Download(200, r.data, r.headers.get("Content-Type"), r.headers.get("Content-Disposition"))
        return Download(r.status_code, b"", None, None, r.get_json(silent=True))

class InProcessIssuer:
    """The :class:`web.signin.Issuer` port for the in-process system: the demo people
    (identity/demo.py, password ``<username>-86``), their tokens signed with the system's
    secret, as the real issuer would name them. Held to the port's contract with the real
    issuer in ``tests/web/test_signin.py``."""

    def __init__(self, ttl_s: int = 600, province: str = "86"):
        self.ttl_s, self.province = ttl_s, province
        self.revoked: list[str] = []

    def sign_in(self, username: str, password: str) -> SignedIn:
        person = next((u for u in demo.USERS if u.username == username), None)
        if person is None or password != person.password:
            raise SignInRefused("Sai tên đăng nhập hoặc mật khẩu")
        token = auth.mint(SECRET, person.username, person.role, [self.province], self.ttl_s, name=person.name,
                          unit=person.unit, unit_level=person.unit_level, authority=person.authority)
        return SignedIn(token, time.time() + self.ttl_s)

    def sign_out(self, access_token: str) -> None:
        self.revoked.append(access_token)
