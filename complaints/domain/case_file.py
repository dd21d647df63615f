"""The ADR scheme's request for our case file (COP-18): its deadline and reminder. Pure Python."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from complaints.domain.calendar import OfficeCalendar


def case_file_due(due_on: date, *, calendar: OfficeCalendar) -> datetime:
    """The scheme's deadline as a moment: close of business on the day they gave.

    Like every company deadline, it falls at closing time; a day the office is shut
    still counts as given (the scheme sets the date, not us).
    """
    return calendar.at(due_on, calendar.closes)


def case_file_warning_at(
    due_at: datetime, *, calendar: OfficeCalendar, working_days: int
) -> datetime:
    """When to remind the senior managers: opening time `working_days` working days before.

    Never later than the deadline itself; with 0 the reminder is at opening time that day.
    """
    day = calendar.local(due_at).date()
    for _ in range(max(0, working_days)):
        day -= timedelta(days=1)
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
    return min(calendar.at(day, calendar.opens), due_at)


def case_file_met(
    due_at: datetime | None, ready_at: datetime | None, *, now: datetime
) -> bool | None:
    """Whether the case file was ready by the deadline: None while that is not yet known."""
    if due_at is None:
        return None
    if ready_at is not None:
        return ready_at <= due_at
    return False if now > due_at else None
