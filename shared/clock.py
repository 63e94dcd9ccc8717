"""The server's clock: every registration, submission, appraisal and decision is dated by it.

Dates that decide a case (a deadline met or missed, the rules in force) are never taken
from a request body. They are the server's, in Vietnam's time zone: a deadline of
01/05/2024 ends at midnight in Hà Nội, not in UTC.

A process gets its clock from its composition root (:func:`from_env`):

* :class:`SystemClock` in production;
* :class:`FixedClock` in fast tests, moved by the test itself;
* :class:`FileClock` when ``TEST_CLOCK_FILE`` names a file (the end-to-end tests move the
  clock of a whole running stack by writing an ISO date or time into it). An operator never
  sets it; ``/health`` says which clock a process runs on.
"""
from __future__ import annotations

import os
import time as time_
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock(Protocol):
    name: str

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""


def today(clock: Clock) -> date:
    """The calendar date in Vietnam at the clock's current instant."""
    return clock.now().astimezone(VIETNAM).date()


class SystemClock:
    name = "system"

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


def _parse(text: str) -> datetime:
    """An ISO date (noon in Vietnam that day) or an ISO date-time (UTC when it names no zone)."""
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(12), VIETNAM).astimezone(timezone.utc)
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


class FixedClock:
    """The real time until the test moves it (``set``), then running from there."""
    name = "fixed"

    def __init__(self, at: str | datetime | None = None):
        self._at, self._since = None, 0.0
        if at is not None:
            self.set(at)

    def set(self, at: str | datetime) -> None:
        self._at = _parse(at) if isinstance(at, str) else at.astimezone(timezone.utc)
        self._since = time_.monotonic()

    def now(self) -> datetime:
        # it runs from where it was set, so that events recorded one after the other stay in order
        if self._at is None:
            return datetime.now(timezone.utc)
        return self._at + timedelta(seconds=time_.monotonic() - self._since)


class FileClock:
    """The time written in a file (re-read when the file changes), running from when it was written;
    the real time when it is empty."""
    name = "file"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._seen: tuple[float, datetime | None] | None = None

    def now(self) -> datetime:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return datetime.now(timezone.utc)
        if self._seen is None or self._seen[0] != mtime:
            text = self.path.read_text().strip()
            self._seen = (mtime, _parse(text) if text else None)
        if self._seen[1] is None:
            return datetime.now(timezone.utc)
        # it runs from the moment the file was written (the same in every process), keeping events in order
        return self._seen[1] + timedelta(seconds=max(0.0, time_.time() - mtime))


def from_env(env: dict[str, str] | None = None) -> Clock:
    env = os.environ if env is None else env
    path = env.get("TEST_CLOCK_FILE")
    return FileClock(path) if path else SystemClock()
