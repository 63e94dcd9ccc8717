"""The webhook sender: a loop of the notifications worker that sends what is owed.

Each pass takes the due heads of the streams (:func:`webhooks.due`), claims each one
(``pending`` → ``sending`` with a lease, so that two worker processes never send the same
row and a worker that dies mid-send leaves it to be tried again when the lease ends), and
POSTs it: a CloudEvent in structured mode (``application/cloudevents+json``, the event as
on Kafka), signed by the ``standardwebhooks`` library (``webhook-id`` = the event id, the
same on every retry, so a receiver can drop a repeat; ``webhook-timestamp``;
``webhook-signature`` = ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``). A 2xx answer
delivers it; anything else — another status, a refused connection, a timeout — is tried
again after an exponential back-off (``base · 2^(attempts-1)``, capped), until
``max_attempts`` or ``max_age`` since the first attempt; then it is ``failed`` and holds its
stream back until it is redriven. One thread per subscription at a time (a small pool
across subscriptions), so a slow receiver delays only its own deliveries.

Each request goes through :class:`webhook_net.PinnedAdapter`: the host is resolved, every
address checked (public only, unless the operator opened networks), and the connection
made to the address checked — a refused address is a failed attempt like a refused
connection. The secret is opened (:mod:`webhook_secrets`) at each send; during a
rotation's grace the old secret signs too, both signatures in ``webhook-signature``.
"""
from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import requests
from sqlalchemy import update
from standardwebhooks.webhooks import Webhook

from shared import envelope as env
from shared.privacy.protector import KeyMissing

from services.notifications import webhooks
from services.notifications.background import keep_sending
from services.notifications.webhook_net import NetworkPolicy
from services.notifications.webhook_net import session as session_for
from services.notifications.webhook_secrets import SecretBox, SecretUnavailable
from services.notifications.webhooks import _aware, deliveries

log = logging.getLogger(__name__)
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


@dataclass(frozen=True)
class SenderSettings:
    max_attempts: int = 10
    max_age: timedelta = timedelta(days=3)
    backoff_s: float = 5.0
    backoff_cap_s: float = 3600.0
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    concurrency: int = 4  # subscriptions served at once
    network: NetworkPolicy = NetworkPolicy()  # public addresses only, unless the operator opens some
    box: SecretBox = SecretBox()  # opens the stored secrets (none sealed without a key)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.connect_timeout_s + self.read_timeout_s + 30)

    @classmethod
    def from_env(cls, env=None) -> "SenderSettings":
        env = os.environ if env is None else env
        d = cls()
        return cls(max_attempts=int(env.get("WEBHOOK_MAX_ATTEMPTS", d.max_attempts)),
                   max_age=timedelta(seconds=float(env.get("WEBHOOK_MAX_AGE_S", d.max_age.total_seconds()))),
                   backoff_s=float(env.get("WEBHOOK_BACKOFF_S", d.backoff_s)),
                   backoff_cap_s=float(env.get("WEBHOOK_BACKOFF_CAP_S", d.backoff_cap_s)),
                   connect_timeout_s=float(env.get("WEBHOOK_CONNECT_TIMEOUT_S", d.connect_timeout_s)),
                   read_timeout_s=float(env.get("WEBHOOK_READ_TIMEOUT_S", d.read_timeout_s)),
                   concurrency=int(env.get("WEBHOOK_CONCURRENCY", d.concurrency)),
                   network=NetworkPolicy.from_env(env), box=SecretBox.from_env(env))

    def delay(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff_s * 2 ** (attempts - 1), self.backoff_cap_s))


def signed_headers(secrets: str | tuple[str, ...], msg_id: str, body: str, when: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one request (the timestamp is the wall clock's: the
    receiver checks it against its own, within five minutes). Several secrets (during a
    rotation's grace) give several space-separated signatures: a receiver holding either
    secret verifies."""
    secrets = (secrets,) if isinstance(secrets, str) else secrets
    return {"content-type": CONTENT_TYPE, "webhook-id": msg_id,
            "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": " ".join(Webhook(s).sign(msg_id, when, body) for s in secrets),
            "user-agent": "thidua-webhooks/1"}


class WebhookSender:
    """``protector`` (shared.privacy) opens an event's personal fields when it is sent, not when it
    was owed: the integrator of the province reads the names as the services' own APIs show them,
    and a person erased while a delivery waited is sent erased. Without one the body goes as stored."""

    def __init__(self, db, settings: SenderSettings | None = None, protector=None):
        self.db, self.settings, self.protector = db, settings or SenderSettings(), protector
        self._pool = ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="webhook")
        self._http = threading.local()  # a requests.Session per pool thread (a Session is not thread-safe)

    def send_due(self, now: datetime | None = None) -> int:
        """One pass: send every due head; returns how many were delivered."""
        now = now or datetime.now(timezone.utc)
        with self.db.read() as conn:
            due = webhooks.due(conn, now)
            found = webhooks.targets(conn, {d["subscription_id"] for d in due}, now)
        by_subscription: dict[str, list[dict]] = {}
        for d in due:
            by_subscription.setdefault(d["subscription_id"], []).append(d)
        jobs = [self._pool.submit(self._send_all, found.get(sid), rows, now) for sid, rows in by_subscription.items()]
        return sum(j.result() for j in jobs)

    def _send_all(self, target: webhooks.Target | None, rows: list[dict], now: datetime) -> int:
        return sum(self._send(target, row, now) for row in rows if self._claim(row, now))

    def _body(self, stored: str) -> str:
        if self.protector is None:
            return stored
        return env.encode(self.protector.open(env.from_stored(stored))).decode()

    def _claim(self, row: dict, now: datetime) -> bool:
        with self.db.write() as conn:
            return conn.execute(update(deliveries).where(
                deliveries.c.id == row["id"], deliveries.c.status == row["status"],
                deliveries.c.next_attempt_at == row["next_attempt_at"])
                .values(status="sending", next_attempt_at=now + self.settings.lease)).rowcount == 1

    def _send(self, target: webhooks.Target | None, row: dict, now: datetime) -> int:
        if target is None or target.province != row["province"]:  # deleted meanwhile; never across provinces
            self._finish(row, status="cancelled", error="Đăng ký webhook không còn (subscription gone)")
            return 0
        first = row["first_attempt_at"] or now
        code, error = None, None
        try:
            body = self._body(row["body"])
            headers = signed_headers(target.signing_secrets(self.settings.box), row["event_id"], body,
                                     datetime.now(timezone.utc))
            reply = self._session().post(
                target.url, data=body.encode(), allow_redirects=False, headers=headers,
                timeout=(self.settings.connect_timeout_s, self.settings.read_timeout_s))
            code = reply.status_code
            if 200 <= code < 300:
                self._finish(row, status="delivered", code=code, first=first, delivered=True)
                return 1
            error = f"HTTP {code}: {reply.text[:500]}"
        except (requests.RequestException, SecretUnavailable, KeyMissing) as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
        attempts = row["attempts"] + 1
        failed = attempts >= self.settings.max_attempts or now - _aware(first) >= self.settings.max_age
        self._finish(row, status="failed" if failed else "pending", code=code, error=error, first=first,
                     next_at=now + self.settings.delay(attempts))
        log.warning("webhook %s of %s to %s failed (attempt %d/%d): %s", row["id"], row["event_id"], target.url,
                    attempts, self.settings.max_attempts, error)
        return 0

    def _finish(self, row: dict, status: str, code: int | None = None, error: str | None = None,
                first: datetime | None = None, next_at: datetime | None = None, delivered: bool = False) -> None:
        at = datetime.now(timezone.utc)
        values = dict(status=status, last_status_code=code, last_error=error, last_attempt_at=at)
        if status != "cancelled":
            values.update(attempts=row["attempts"] + 1, first_attempt_at=first)
        if next_at is not None:
            values["next_attempt_at"] = next_at
        if delivered:
            values["delivered_at"] = at
        with self.db.write() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == row["id"]).values(**values))

    def _session(self) -> requests.Session:
        session = getattr(self._http, "session", None)
        if session is None:
            session = self._http.session = session_for(self.settings.network)
        return session

    def seal_secrets(self) -> int:
        """Seal the secrets still stored in plain text (or under an older key): at the worker's start."""
        if not self.settings.box.keyed:
            log.warning("WEBHOOK_SECRETS_KEY is not set: webhook secrets are stored in plain text")
            return 0
        with self.db.write() as conn:
            changed = webhooks.seal_stored_secrets(conn, self.settings.box)
        if changed:
            log.info("sealed the webhook secrets of %d subscriptions", changed)
        return changed

    def run(self, stop: threading.Event) -> None:
        self.seal_secrets()
        try:
            keep_sending(stop, self.send_due, "webhook sender", busy_s=0.05, idle_s=0.5)
        finally:
            self._pool.shutdown(wait=False, cancel_futures=True)
