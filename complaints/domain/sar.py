"""The clock of a subject access request (UK GDPR art. 12(3) and 15), as the ICO counts it.

Pure Python: the receipt date and the calendar are always passed in.

The rule (ICO, "Right of access", "How long do we have to comply?"): count from the day the
request is received, whether or not it is a working day, to the corresponding calendar date
in the next month; where the next month has no such date, the last day of that month;
where that date is a weekend or a bank holiday, the next working day.

An extension (art. 12(3): "extended by two further months where necessary") is allowed
once, by one or two months, and only if the customer is told, with the reasons, within the
first month, i.e. on or before the original due date. The ICO's wording is that the time
to respond is extended "by a further two months". Our reading, chosen to be the safe one:
the further months are added to the original *unadjusted* due date (the corresponding or
month-end day, before any move to a working day), by the same corresponding-day rule, and
the result is then moved to the next working day if needed. So receipt on 31 January
2026 is due on 28 February (moved to Monday 2 March) and, extended by two months, on
28 April 2026, never later than three calendar months after receipt. Counting the three
months from receipt instead would give 30 April; we never rely on those two extra days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from complaints.domain.calendar import OfficeCalendar

MAX_EXTENSION_MONTHS = 2
_ONE_DAY = timedelta(days=1)


class SarRuleError(ValueError):
    """A change the subject access rules do not allow; the message says why, in plain words."""


def sar_received_on(received_at: datetime, calendar: OfficeCalendar) -> date:
    """Return the local date a request received at `received_at` counts from."""
    return calendar.local(received_at).date()


def _months_on(start: date, months: int) -> date:
    """Return the corresponding day `months` later, or that month's last day if it has none."""
    # relativedelta clips to the month's last day (31 January + 1 month = 28/29 February).
    return start + relativedelta(months=months)


def _working_day_on_or_after(d: date, calendar: OfficeCalendar) -> date:
    return d if calendar.is_working_day(d) else calendar.next_working_day(d)


def sar_unadjusted_due_on(received_on: date) -> date:
    """Return one calendar month after receipt, before moving off a non-working day."""
    return _months_on(received_on, 1)


def sar_due_on(received_on: date, calendar: OfficeCalendar) -> date:
    """Return the date a request received on `received_on` must be answered by."""
    return _working_day_on_or_after(sar_unadjusted_due_on(received_on), calendar)


def sar_extended_due_on(received_on: date, months: int, calendar: OfficeCalendar) -> date:
    """Return the due date after extending by `months` (1 or 2) further months."""
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise SarRuleError(
            f"An extension is by one or two further months, not {months} (UK GDPR art. 12(3))."
        )
    extended = _months_on(sar_unadjusted_due_on(received_on), months)
    return _working_day_on_or_after(extended, calendar)


def sar_extension_check(
    *,
    received_on: date,
    due_on: date,
    told_on: date,
    months: int,
    already_extended: bool,
    reason: str,
) -> None:
    """Raise SarRuleError unless an extension may be made now, as the law allows."""
    if already_extended:
        raise SarRuleError("This request has already been extended; it can be extended once.")
    if not 1 <= months <= MAX_EXTENSION_MONTHS:
        raise SarRuleError(
            f"An extension is by one or two further months, not {months} (UK GDPR art. 12(3))."
        )
    if not reason.strip():
        raise SarRuleError("Give the reason for the extension: the customer must be told it.")
    if told_on < received_on:
        raise SarRuleError("The customer cannot have been told before the request arrived.")
    if told_on > due_on:
        raise SarRuleError(
            f"Too late to extend: the customer must be told within the first month, by "
            f"{due_on:%A} {due_on.day} {due_on:%B %Y}. Answer the request instead."
        )


def sar_warn_on(due_on: date, working_days: int, calendar: OfficeCalendar) -> date:
    """Return the working day `working_days` working days before `due_on`."""
    d = due_on
    for _ in range(working_days):
        d -= _ONE_DAY
        while not calendar.is_working_day(d):
            d -= _ONE_DAY
    return d


def sar_warning_horizon(today: date, working_days: int, calendar: OfficeCalendar) -> date:
    """Return the last due date whose warning is due by `today` (due dates are working days)."""
    if working_days == 0:
        return today
    return calendar.add_working_days(today, working_days)


@dataclass(frozen=True)
class SarClock:
    """A request's dates: receipt, the original due date and any extended one."""

    received_on: date
    due_on: date
    extended_due_on: date | None = None

    @property
    def current_due_on(self) -> date:
        """Return the date the request must now be answered by."""
        return self.extended_due_on or self.due_on

    def is_overdue(self, today: date) -> bool:
        """Return whether the due date has passed (answered on the due date is in time)."""
        return today > self.current_due_on
