"""Webhooks: integrators' subscriptions and the deliveries owed to them (the outbound outbox).

A **subscription** belongs to one province (the integrator's token's), names a URL, the
event types it wants (``awards.award.decided``, or ``awards.*`` for all of a service) and a
Standard Webhooks secret (``whsec_`` + base64). It is configuration of an integration, not a
fact of the emulation domain, and its secret must never travel on Kafka: so it is an
operational table, not an event stream (``thidua rebuild`` leaves it as it is).

A **delivery** is one event owed to one subscription, written by :func:`fan_out` in the
consumer's transaction that marks the event processed: an event the consumer took is
owed to every matching subscription of **its own province** exactly once, and nothing owed
is lost across restarts. :func:`due` gives the deliveries the sender may try now: only the
head of each stream (``source/subject``, in ``sequence`` order) per subscription, so a
delivery that keeps failing — and one that has finally ``failed`` — holds back the later
events of its stream for that subscription, and no other stream.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

from sqlalchemy import (Column, Connection, DateTime, Index, Integer, String, Table, Text, UniqueConstraint,
                        bindparam, exists, select, update)
from sqlalchemy.orm import aliased

from shared import envelope as env
from shared.db import DriverStatement

from services.notifications.projections import metadata
from services.notifications.webhook_secrets import SecretBox

SCOPE = "webhooks"  # the OAuth scope an integrator's client needs to manage its webhooks
SECRET_PREFIX = "whsec_"
SECRET_BYTES = (24, 64)  # the Standard Webhooks specification's range for a secret's key
OPEN = ("pending", "sending")  # a delivery still to be sent
HOLDING = (*OPEN, "failed")  # a delivery that holds back the later events of its stream

subscriptions = Table(
    "webhook_subscriptions", metadata,
    Column("id", String(36), primary_key=True),
    Column("province", String(16), nullable=False, index=True),
    Column("owner", String(200), nullable=False),  # the token's subject: the integrator's client
    Column("url", String(2000), nullable=False),
    Column("event_types", Text, nullable=False),  # JSON list
    Column("secret", String(200), nullable=False),  # sealed (webhook_secrets), or plain from before
    # After a rotation, the secret replaced, still signing beside the new one until ``previous_secret_until``.
    Column("previous_secret", String(200), nullable=True),
    Column("previous_secret_until", DateTime(timezone=True), nullable=True),
    Column("description", String(500), nullable=True),
    Column("status", String(20), nullable=False),  # active, deleted
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("deleted_at", DateTime(timezone=True), nullable=True),
)

deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", String(36), primary_key=True),
    Column("subscription_id", String(36), nullable=False),
    Column("province", String(16), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("stream", String(300), nullable=False),  # source/subject: the order that is kept
    Column("sequence", Integer, nullable=False),
    Column("body", Text, nullable=False),  # the event as on Kafka (structured CloudEvents JSON)
    Column("status", String(20), nullable=False),  # pending, sending, delivered, failed, cancelled
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("first_attempt_at", DateTime(timezone=True), nullable=True),  # the max age counts from here
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("event_id", "subscription_id", name="uq_webhook_deliveries_event_subscription"),
    Index("ix_webhook_deliveries_stream", "subscription_id", "stream", "sequence"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

TABLES = (subscriptions.name, deliveries.name)


# -- subscribing -----------------------------------------------------------------------------
def new_secret() -> str:
    """A fresh secret, shown once to the integrator who subscribes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is not a usable Standard Webhooks secret, or None."""
    if not secret.startswith(SECRET_PREFIX):
        return f"Khóa bí mật phải bắt đầu bằng {SECRET_PREFIX} (must start with {SECRET_PREFIX})"
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        return f"Phần sau {SECRET_PREFIX} phải là base64 (must be base64 after {SECRET_PREFIX})"
    low, high = SECRET_BYTES
    if not low <= len(key) <= high:
        return f"Khóa phải dài từ {low} đến {high} byte (the key must be {low} to {high} bytes)"
    return None


def url_problem(url: str, allow_http: bool) -> str | None:
    """Why ``url`` may not receive webhooks, or None: https, or http to this machine only
    (a test receiver) unless ``WEBHOOK_ALLOW_HTTP`` says otherwise."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        host, parts = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host:
        return "Địa chỉ phải là URL http(s) có tên máy (must be an http(s) URL with a host)"
    if parts.username or parts.password:
        return "Địa chỉ không được chứa tên đăng nhập, mật khẩu (no credentials in the URL)"
    if parts.scheme == "http" and not (allow_http or _loopback(host)):
        return ("Chỉ nhận địa chỉ https (https only; http only to this machine unless WEBHOOK_ALLOW_HTTP=1)")
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def type_problem(event_type: str, services: tuple[str, ...]) -> str | None:
    """Why ``event_type`` cannot be subscribed, or None: a type (``svc.aggregate.verb``) or
    ``svc.*`` of a service whose topic notifications follows."""
    service, _, rest = event_type.partition(".")
    if service not in services:
        return (f"Loại sự kiện {event_type!r} không thuộc dịch vụ nào theo dõi được ({', '.join(services)}) "
                f"(not an event type of {', '.join(services)})")
    if rest != "*" and (rest.count(".") != 1 or not all(rest.split("."))):
        return (f"Loại sự kiện {event_type!r} phải có dạng dịch_vụ.đối_tượng.sự_việc hoặc dịch_vụ.* "
                f"(must be service.aggregate.verb or service.*)")
    return None


def allow_http(env_: dict | None = None) -> bool:
    return (os.environ if env_ is None else env_).get("WEBHOOK_ALLOW_HTTP") == "1"


def grace(env_: dict | None = None) -> timedelta:
    """How long a rotated-out secret still signs beside the new one (``WEBHOOK_SECRET_GRACE_S``)."""
    raw = (os.environ if env_ is None else env_).get("WEBHOOK_SECRET_GRACE_S", "86400")
    try:
        seconds = float(raw)
        if seconds >= 0:  # also refuses nan
            return timedelta(seconds=seconds)
    except (ValueError, OverflowError):  # not a number; inf
        pass
    raise ValueError("WEBHOOK_SECRET_GRACE_S phải là số giây không âm "
                     f"(must be a non-negative number of seconds): {raw!r}")


# What the notifications web process reads of the webhook settings at each request: checked
# once when it starts (:func:`check_web_settings`), so a malformed value stops the process
# with the setting's name instead of failing every subscription later with a 500.
WEB_SETTINGS = ("WEBHOOK_SECRETS_KEY", "WEBHOOK_ALLOWED_NETWORKS", "WEBHOOK_ALLOW_PRIVATE", "WEBHOOK_SECRET_GRACE_S")


def check_web_settings(env_: dict | None = None) -> None:
    """Raise ValueError naming the first of :data:`WEB_SETTINGS` that does not load."""
    from services.notifications.webhook_net import NetworkPolicy

    SecretBox.from_env(env_)
    NetworkPolicy.from_env(env_)
    grace(env_)


def rotate(conn: Connection, webhook_id: str, new_stored: str, now: datetime, keep_for: timedelta) -> datetime:
    """Make ``new_stored`` the subscription's secret; the current one signs beside it until the
    returned time (a second rotation within that time drops the oldest: two secrets at most)."""
    until = now + keep_for
    conn.execute(update(subscriptions).where(subscriptions.c.id == webhook_id).values(
        previous_secret=subscriptions.c.secret, previous_secret_until=until, secret=new_stored))
    return until


def seal_stored_secrets(conn: Connection, box: SecretBox) -> int:
    """Seal every secret still stored in plain text (rows from before sealing, or written with no
    key) and re-seal those under an older key; returns how many rows changed. Idempotent."""
    changed = set()
    for row in conn.execute(select(subscriptions.c.id, subscriptions.c.secret, subscriptions.c.previous_secret)).all():
        for column in (subscriptions.c.secret, subscriptions.c.previous_secret):
            old = getattr(row, column.name)
            new = box.reseal(old) if old is not None else None
            if new is not None and conn.execute(update(subscriptions).where(  # unless rotated meanwhile
                    subscriptions.c.id == row.id, column == old).values({column: new})).rowcount:
                changed.add(row.id)
    return len(changed)


# -- what is owed ----------------------------------------------------------------------------
# Run for every event the consumer takes, so straight on the driver (shared.db.DriverStatement).
_ACTIVE_IN = DriverStatement(select(subscriptions.c.id, subscriptions.c.event_types).where(
    subscriptions.c.province == bindparam("province"), subscriptions.c.status == "active"))
_OWED = DriverStatement(select(deliveries.c.subscription_id).where(deliveries.c.event_id == bindparam("event_id")))
_OWE = DriverStatement.insert(deliveries, ("id", "subscription_id", "province", "event_id", "event_type", "stream",
                                           "sequence", "body", "status", "attempts", "created_at",
                                           "next_attempt_at"))


def wants(event_types: list[str], event: env.Envelope) -> bool:
    return event.type in event_types or f"{event.type.partition('.')[0]}.*" in event_types


def fan_out(conn: Connection, event: env.Envelope) -> None:
    """Owe ``event`` to every active subscription of its province that wants its type (once:
    a redriven or redelivered event adds nothing)."""
    rows = _active_in(conn, event.province)
    matching = [sid for sid, types in rows if wants(json.loads(types), event)]
    if not matching:
        return
    already = set(_OWED.scalars(conn, {"event_id": event.id}))
    now = datetime.now(timezone.utc)
    body = env.encode(event).decode()
    owed = [dict(id=str(uuid.uuid4()), subscription_id=sid, province=event.province, event_id=event.id,
                 event_type=event.type, stream=f"{event.source}/{event.subject}", sequence=event.sequence,
                 body=body, status="pending", attempts=0, created_at=now, next_attempt_at=now)
            for sid in matching if sid not in already]
    if owed:
        _OWE.execute(conn, owed)


def _active_in(conn: Connection, province: str) -> list[tuple]:
    """The province's active subscriptions, read once per SQLAlchemy transaction (PostgreSQL: a
    consumer's batch of events is one, and a round trip per event cost 85 µs); what it sees is
    what was committed when it first looked (a subscription made meanwhile is concurrent with
    those events; the next batch sees it). A SQLite write begun on the driver shows no
    transaction to key on: there the query runs every time (a few µs)."""
    transaction = conn.get_transaction()
    if transaction is None:
        return _ACTIVE_IN.rows(conn, {"province": province})
    cached = conn.info.get("webhook_subscriptions")
    if cached is None or cached[0] is not transaction:
        cached = conn.info["webhook_subscriptions"] = (transaction, {})
    found = cached[1].get(province)
    if found is None:
        found = cached[1][province] = _ACTIVE_IN.rows(conn, {"province": province})
    return found


def due(conn: Connection, now: datetime, limit: int = 200) -> list[dict]:
    """The deliveries to try now, oldest due first: each the head of its stream for its
    subscription (no earlier event of that stream still pending, being sent or failed)."""
    earlier = aliased(deliveries)
    held_back = exists().where(earlier.c.subscription_id == deliveries.c.subscription_id,
                               earlier.c.stream == deliveries.c.stream,
                               earlier.c.sequence < deliveries.c.sequence,
                               earlier.c.status.in_(HOLDING))
    q = (select(deliveries).where(deliveries.c.status.in_(OPEN), deliveries.c.next_attempt_at <= now, ~held_back)
         .order_by(deliveries.c.next_attempt_at).limit(limit))
    return [dict(r) for r in conn.execute(q).mappings()]


@dataclass(frozen=True)
class Target:
    """Where and how one subscription's deliveries are sent: ``secrets`` as stored (sealed), the
    current one first, then the rotated-out one while its grace lasts."""
    id: str
    province: str
    url: str
    secrets: tuple[str, ...]

    def signing_secrets(self, box: SecretBox) -> tuple[str, ...]:
        return tuple(box.open(s) for s in self.secrets)


def targets(conn: Connection, ids: set[str], now: datetime) -> dict[str, Target]:
    rows = conn.execute(select(subscriptions).where(subscriptions.c.id.in_(ids),
                                                    subscriptions.c.status == "active")).mappings()
    return {r["id"]: Target(r["id"], r["province"], r["url"], _secrets(r, now)) for r in rows}


def _secrets(row, now: datetime) -> tuple[str, ...]:
    until = row["previous_secret_until"]
    if row["previous_secret"] and until is not None and now < _aware(until):
        return row["secret"], row["previous_secret"]
    return (row["secret"],)


def _aware(when: datetime) -> datetime:
    """SQLite gives naive datetimes back (stored as UTC)."""
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
