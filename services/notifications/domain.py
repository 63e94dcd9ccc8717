"""Notifications' own decisions: the recipient directory, reminder settings and deadline reminders."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from shared.aggregate import Stream
from shared.errors import RuleViolation

RECIPIENT_REGISTERED = "notifications.recipient.registered"
DEADLINE_REMINDED = "notifications.deadline.reminded"
REMINDER_SETTINGS_DEFINED = "notifications.reminder_settings.defined"

DEADLINE_NAMES = {"registration": "hạn đăng ký thi đua", "nominations": "hạn đề nghị khen thưởng",
                  "preliminary_report": "hạn báo cáo sơ kết", "final_report": "hạn báo cáo tổng kết"}


@dataclass(frozen=True)
class RegisterRecipient:
    recipient_id: str
    province: str
    name: str
    email: str | None


@dataclass(frozen=True)
class DefineReminderDays:
    province: str
    days_before: tuple[int, ...]


@dataclass(frozen=True)
class RemindDeadline:
    key: str
    province: str
    campaign_id: str
    campaign_title: str
    deadline_kind: str
    deadline: date
    days_before: int
    today: date


def register_recipient(cmd: RegisterRecipient) -> dict[str, Any]:
    return {"recipient_id": cmd.recipient_id, "name": cmd.name, "email": cmd.email}


def define_reminder_days(cmd: DefineReminderDays) -> dict[str, Any]:
    if sorted(set(cmd.days_before)) != sorted(cmd.days_before):
        raise RuleViolation("Các mốc nhắc hạn bị trùng", rule="reminders.distinct_days")
    return {"days_before": sorted(cmd.days_before, reverse=True)}


def remind(stream: Stream, cmd: RemindDeadline) -> dict[str, Any] | None:
    """A reminder is sent once per campaign, deadline and bucket of days; None if already sent."""
    if stream.version:
        return None
    return {"key": cmd.key, "campaign_id": cmd.campaign_id, "campaign_title": cmd.campaign_title,
            "deadline_kind": cmd.deadline_kind, "deadline_name": DEADLINE_NAMES.get(cmd.deadline_kind,
                                                                                 cmd.deadline_kind),
            "deadline": cmd.deadline.isoformat(), "days_before": (cmd.deadline - cmd.today).days,
            "sent_on": cmd.today.isoformat()}


def due_bucket(days_left: int, buckets: list[int]) -> int | None:
    """The reminder bucket a deadline ``days_left`` away falls in: the smallest that covers it."""
    covering = [b for b in buckets if 0 <= days_left <= b]
    return min(covering) if covering else None


# -- who reads an inbox ----------------------------------------------------------------------
class Reader(Protocol):
    """Who asks, as their token says (``shared.auth.Principal``)."""
    subject: str
    provinces: tuple[str, ...]
    unit: str | None
    authority: str | None

    def has_role(self, *roles: str) -> bool: ...


def role_mailbox_readable(reader: Reader, recipient: str) -> tuple[str, ...] | None:
    """The provinces in which ``reader`` reads a role's mailbox — ``council:<province>`` (the
    province's council, not a unit's), ``authority:<level>:<province>`` (an authority of that
    level), ``province:<province>`` (the department) — or None if ``recipient`` is no role's."""
    role, _, rest = recipient.partition(":")
    if role == "council":
        allowed = reader.has_role("council") and reader.unit is None
    elif role == "authority":
        level, _, rest = rest.partition(":")
        allowed = reader.has_role("authority") and reader.authority == level
    elif role == "province":
        allowed = reader.has_role("department")
    else:
        return None
    return (rest,) if allowed and rest in reader.provinces else ()


def inbox_readable(reader: Reader, recipient: str, chains: Mapping[str, Sequence[Sequence[str]]]) -> tuple[str, ...]:
    """The provinces in which ``reader`` may read ``recipient``'s inbox: the recipient, and the
    head of a unit the recipient is of (or is) or of a unit above it. ``chains``: per province,
    for each unit the recipient is of (or the recipient itself, if it is a unit), that unit and
    every unit above it."""
    by_role = role_mailbox_readable(reader, recipient)
    if by_role is not None:
        return by_role
    if reader.subject == recipient:
        return reader.provinces
    if not (reader.has_role("unit_head") and reader.unit):
        return ()
    return tuple(p for p in reader.provinces if any(reader.unit in chain for chain in chains.get(p, ())))
