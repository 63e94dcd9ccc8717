"""A real HTTP receiver of webhooks for the tests: a small server in a thread that checks every
request's signature with the ``standardwebhooks`` library, as an integrator's would.

It answers 204 to a request whose signature verifies and keeps its event; 401 to one that
does not (kept in ``rejected``); 500 to everything while ``failing`` and to the events of the
subjects in ``failing_subjects``; and refuses connections
(the port closed) between :meth:`Receiver.go_down` and :meth:`Receiver.come_back`. With a
``tls`` context it serves HTTPS (the pinned-address tests: SNI and the certificate's name).
"""
from __future__ import annotations

import json
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Receiver:
    secret: str
    port: int = 0
    events: list[dict] = field(default_factory=list)  # verified, in the order they arrived
    headers: list[dict] = field(default_factory=list)  # of each verified request
    bodies: list[bytes] = field(default_factory=list)  # the raw body of each verified request
    rejected: list[str] = field(default_factory=list)  # why a request was refused
    failing: bool = False
    failing_subjects: set[str] = field(default_factory=set)
    hits: int = 0
    tls: ssl.SSLContext | None = None
    host: str = "127.0.0.1"  # the name in url (resolved by the test's own resolver when not an address)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}/hooks"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.hits += 1
                    if receiver.failing:
                        return self._answer(500)
                    try:
                        event = Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                    except WebhookVerificationError as exc:
                        receiver.rejected.append(str(exc))
                        return self._answer(401)
                    if event["subject"] in receiver.failing_subjects:
                        return self._answer(500)
                    receiver.events.append(event)
                    receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                    receiver.bodies.append(body)
                self._answer(204)

            def _answer(self, status):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def go_down(self) -> None:
        """Close the port: connections are refused."""
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def come_back(self) -> None:
        self.start()  # on the same port

    def ids(self, type_prefix: str = "") -> list[str]:
        return [e["id"] for e in self.events if e["type"].startswith(type_prefix)]

    def of_stream(self, subject: str) -> list[int]:
        return [e["sequence"] for e in self.events if e["subject"] == subject]

    def dump(self) -> str:
        return json.dumps([(e["type"], e["subject"], e["sequence"]) for e in self.events], ensure_ascii=False)


@contextmanager
def receiver(secret: str, **options):
    r = Receiver(secret, **options).start()
    try:
        yield r
    finally:
        if r._server is not None:
            r._server.shutdown()
            r._server.server_close()
