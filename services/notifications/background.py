"""The notifications worker's own loops: the mailer, the deadline reminders (and the webhook
sender, in :mod:`services.notifications.webhook_sender`).

Mailer: deliveries are rows written in the same transaction as the inbox item. The
mailer claims a due row (``status`` pending → sending, with a lease), sends it over
SMTP, and marks it sent; a failure is retried with exponential back-off up to
``EMAIL_MAX_ATTEMPTS`` and then marked ``failed`` — visible at ``GET /deliveries``
and retried by hand with ``POST /deliveries/<id>/retry``. smtplib is the standard
library's client; nothing else is needed to speak SMTP.

Reminders: once a day (and at start), every campaign deadline that falls within a
province's reminder days produces one ``notifications.deadline.reminded`` event per
bucket; the bucket's stream makes a second reminder impossible.
"""
from __future__ import annotations

import json
import logging
import os
import smtplib
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage

from sqlalchemy import or_, select, update

from shared import clock as clocks
from shared.aggregate import CommandContext
from shared.envelope import Actor

from services.notifications import domain, handlers
from services.notifications.projections import campaigns, deliveries, reminder_settings

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int = 25
    sender: str = "thidua@localhost"
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    max_attempts: int = 6
    backoff_s: float = 30.0

    @classmethod
    def from_env(cls, env=None) -> "MailSettings | None":
        env = os.environ if env is None else env
        if not env.get("SMTP_HOST"):
            return None
        return cls(host=env["SMTP_HOST"], port=int(env.get("SMTP_PORT", "25")),
                   sender=env.get("SMTP_FROM", "thidua@localhost"), user=env.get("SMTP_USER") or None,
                   password=env.get("SMTP_PASSWORD") or None, starttls=env.get("SMTP_STARTTLS") == "1",
                   max_attempts=int(env.get("EMAIL_MAX_ATTEMPTS", "6")),
                   backoff_s=float(env.get("EMAIL_BACKOFF_S", "30")))


def default_reminder_days(env=None) -> list[int]:
    env = os.environ if env is None else env
    return sorted({int(x) for x in env.get("REMINDER_DAYS", "7,3,1").split(",") if x.strip()}, reverse=True)


class Mailer:
    def __init__(self, db, settings: MailSettings):
        self.db, self.settings = db, settings

    def send_due(self, now: datetime | None = None, limit: int = 50) -> int:
        """Send what is due; returns how many were sent."""
        now = now or datetime.now(timezone.utc)
        with self.db.read() as conn:
            due = conn.execute(select(deliveries).where(
                or_(deliveries.c.status == "pending", deliveries.c.status == "sending"),
                deliveries.c.next_attempt_at <= now).order_by(deliveries.c.next_attempt_at).limit(limit)
            ).mappings().all()
        sent = 0
        for row in due:
            if self._claim(row, now):
                sent += self._send(row, now)
        return sent

    def _claim(self, row, now) -> bool:
        with self.db.write() as conn:
            return conn.execute(update(deliveries).where(
                deliveries.c.id == row["id"], deliveries.c.status == row["status"],
                deliveries.c.next_attempt_at == row["next_attempt_at"])
                .values(status="sending", next_attempt_at=now + LEASE)).rowcount == 1

    def _send(self, row, now) -> int:
        s = self.settings
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = s.sender, row["email"], row["subject"]
        message.set_content(row["body"])
        try:
            with smtplib.SMTP(s.host, s.port, timeout=10) as smtp:
                if s.starttls:
                    smtp.starttls()
                if s.user:
                    smtp.login(s.user, s.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            attempts = row["attempts"] + 1
            failed = attempts >= s.max_attempts
            delay = timedelta(seconds=min(s.backoff_s * 2 ** (attempts - 1), 3600))
            with self.db.write() as conn:
                conn.execute(update(deliveries).where(deliveries.c.id == row["id"]).values(
                    status="failed" if failed else "pending", attempts=attempts,
                    next_attempt_at=now + delay, last_error=f"{type(exc).__name__}: {exc}"[:2000]))
            log.warning("e-mail %s to %s failed (attempt %d/%d): %s", row["id"], row["email"], attempts,
                        s.max_attempts, exc)
            return 0
        with self.db.write() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == row["id"]).values(
                status="sent", attempts=row["attempts"] + 1, sent_at=datetime.now(timezone.utc), last_error=None))
        return 1

    def run(self, stop: threading.Event) -> None:
        keep_sending(stop, self.send_due, "mailer", busy_s=0.2, idle_s=2.0)


def keep_sending(stop: threading.Event, send_due, what: str, busy_s: float, idle_s: float) -> None:
    """Call ``send_due`` until stopped: again soon after it sent something, later after it sent
    nothing; a failure is logged and the loop goes on (the rows say what is left to send)."""
    while not stop.is_set():
        try:
            sent = send_due()
        except Exception:
            log.exception("%s failed; retrying", what)
            sent = 0
        stop.wait(busy_s if sent else idle_s)


class Reminders:
    def __init__(self, db, store, default_days: list[int], clock: clocks.Clock | None = None):
        self.db, self.store, self.default_days = db, store, default_days
        self.clock = clock or clocks.SystemClock()

    def send_due(self, today: date | None = None) -> int:
        today = today or clocks.today(self.clock)  # the server's date in Vietnam
        with self.db.read() as conn:
            rows = conn.execute(select(campaigns)).mappings().all()
            settings = {r["province"]: [int(x) for x in r["days_before"].split(",")]
                        for r in conn.execute(select(reminder_settings)).mappings()}
        sent = 0
        for campaign in rows:
            buckets = settings.get(campaign["province"], self.default_days)
            for kind, iso in json.loads(campaign["deadlines"]).items():
                if not iso:
                    continue
                deadline = date.fromisoformat(iso)
                bucket = domain.due_bucket((deadline - today).days, buckets)
                if bucket is None:
                    continue
                cmd = domain.RemindDeadline(key=f"{campaign['id']}:{kind}:{bucket}", province=campaign["province"],
                                            campaign_id=campaign["id"], campaign_title=campaign["title"],
                                            deadline_kind=kind, deadline=deadline, days_before=bucket, today=today)
                ctx = CommandContext(source="notifications", province=campaign["province"],
                                     actor=Actor("notifications-scheduler", "service"),
                                     correlation_id=f"campaign-{campaign['id']}",
                                     causation_id=f"schedule:{today.isoformat()}", time=self.clock.now())
                with self.db.write() as conn:
                    sent += handlers.remind_deadline(self.store, conn, cmd, ctx) is not None
        return sent

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.send_due()
            except Exception:
                log.exception("reminders failed; retrying")
            stop.wait(3600)


def loops(rt) -> list:
    from services.notifications.webhook_sender import SenderSettings, WebhookSender
    out = [Reminders(rt.db, rt.store, default_reminder_days(), rt.clock).run,
           WebhookSender(rt.db, SenderSettings.from_env(), rt.protector).run]
    settings = MailSettings.from_env()
    if settings is not None:
        out.append(Mailer(rt.db, settings).run)
    else:
        log.info("SMTP_HOST is not set: e-mails are queued in deliveries, not sent")
    return out
