"""The :class:`web.client.ServiceClient` port over the in-process system's Flask test clients."""
from __future__ import annotations

import io

from tests.unit.conftest import System
from web.client import Download, Reply


class InProcessServiceClient:
    def __init__(self, system: System):
        self.system = system

    def get(self, service: str, path: str, authorization: str | None) -> Reply:
        app = self.system.apps[service]  # KeyError for a service that is not there, as the contract says
        headers = {"Authorization": authorization} if authorization else {}
        r = app.test_client().get(path, headers=headers)
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
