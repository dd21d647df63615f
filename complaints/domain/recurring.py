"""Recurring problems: N cases of one cause within M working days is a burst (issue 16).

Pure Python. The service (complaints/services/recurring.py) reads the window's cases and
the open alerts, and acts on what `burst_step` says. The rule:

* The window is today and the M - 1 working days before it (or, on a weekend or bank
  holiday, the last M working days), from midnight of its first day to now.
* A key (a root cause, or a category and product) is in a burst while at least N of its
  cases fall in the window. The burst started when the N-th of those cases was recorded.
* A burst is alerted once. It ends at the first run that counts fewer than N in the
  window; only then can a new burst of the same key raise a new alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from complaints.domain.calendar import OfficeCalendar

RAISE = "raise"
KEEP = "keep"
END = "end"


def window_first_day(today: date, working_days: int, calendar: OfficeCalendar) -> date:
    """Return the first of the last `working_days` working days up to and including `today`.

    Worked example (England): on Wednesday 9 Dec 2026 a 3-day window starts Monday 7 Dec;
    on Tuesday 29 Dec (after Christmas and Boxing Day's substitute holidays) it starts
    Wednesday 23 Dec.
    """
    if working_days < 1:
        raise ValueError(f"A window of {working_days} working days is empty: give 1 or more.")
    d = today
    counted = 1 if calendar.is_working_day(d) else 0
    while counted < working_days or not calendar.is_working_day(d):
        d -= timedelta(days=1)
        if calendar.is_working_day(d):
            counted += 1
    return d


def window_start(now: datetime, working_days: int, calendar: OfficeCalendar) -> datetime:
    """Return midnight (office time) at the start of the window that ends at `now`."""
    first = window_first_day(calendar.local(now).date(), working_days, calendar)
    return calendar.at(first, time(0))


def burst_started_at(
    timestamps: Iterable[datetime], *, start: datetime, threshold: int
) -> datetime | None:
    """Return when the count in the window reached `threshold`, or None if it has not.

    Worked example: threshold 3, cases at 09:00, 10:00, 11:00 and 12:00 in the window: the
    burst started at 11:00. Cases before `start` are not counted.
    """
    if threshold < 1:
        raise ValueError(f"A threshold of {threshold} would alert on nothing: give 1 or more.")
    inside = sorted(t for t in timestamps if t >= start)
    if len(inside) < threshold:
        return None
    return inside[threshold - 1]


def burst_step(*, open_alert: bool, started_at: datetime | None) -> str | None:
    """Say what to do with one key: raise a new alert, keep the open one, end it, or nothing."""
    if started_at is not None:
        return KEEP if open_alert else RAISE
    return END if open_alert else None
