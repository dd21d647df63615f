"""Plain-English wording of moments for customers ("Wednesday 30 December 2026 at 5pm")."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _date_words(d) -> str:
    return f"{_DAYS[d.weekday()]} {d.day} {_MONTHS[d.month - 1]} {d.year}"


def _clock_words(t: time) -> str:
    hour = t.hour % 12 or 12
    suffix = "am" if t.hour < 12 else "pm"
    if t == time(12, 0):
        return "midday"
    return f"{hour}{suffix}" if t.minute == 0 else f"{hour}:{t.minute:02d}{suffix}"


def moment_words(t: datetime, tz: ZoneInfo) -> str:
    """Return `t` as a customer reads it; midnight is "the end of" the day before."""
    local = t.astimezone(tz)
    if local.time() == time(0, 0):
        return f"the end of {_date_words((local - timedelta(days=1)).date())}"
    return f"{_date_words(local.date())} at {_clock_words(local.time())}"


def date_words(t: datetime, tz: ZoneInfo) -> str:
    """Return the local date of `t` in words, e.g. "Wednesday 30 December 2026"."""
    return _date_words(t.astimezone(tz).date())
