"""The :class:`web.client.ServiceClient` port over the in-process system's Flask test clients."""
from __future__ import annotations

from tests.unit.conftest import System
from web.client import Reply


class InProcessServiceClient:
    def __init__(self, system: System):
        self.system = system

    def get(self, service: str, path: str, authorization: str | None) -> Reply:
        app = self.system.apps[service]  # KeyError for a service that is not there, as the contract says
        headers = {"Authorization": authorization} if authorization else {}
        r = app.test_client().get(path, headers=headers)
        return Reply(r.status_code, r.get_json(silent=True))
