"""Working days and office hours, given a set of bank holidays and a time zone.

Pure Python: "now" and the holidays are always passed in. Every rule is evaluated on local
wall-clock time; local datetimes are built with `tzinfo=` and never by adding a timedelta to
an aware datetime, so the BST/GMT changes cannot shift 09:00 or 17:00.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_sets
from dateutil.relativedelta import relativedelta

_ONE_DAY = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
# The holidays package says "observed"; gov.uk calls these "substitute days".
_OBSERVED = "(observed)"
_SUBSTITUTE = "(substitute day)"


def _epoch_seconds(t: datetime) -> int:
    """Return whole seconds since the epoch, rounding down, for exact integer arithmetic."""
    return (t - _EPOCH) // _SECOND


def to_local(t: datetime, tz: ZoneInfo) -> datetime:
    """Return the aware datetime `t` in `tz`; reject naive datetimes, whose moment is unknown."""
    if not isinstance(t, datetime):
        raise TypeError(f"Expected an aware datetime, got {type(t).__name__} {t!r}.")
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(
            f"Naive datetime {t.isoformat()} has no time zone, so its moment is unknown; "
            "pass an aware datetime (store and pass UTC)."
        )
    return t.astimezone(tz)


def _normalise(t: datetime) -> datetime:
    """Return `t` with a wall-clock time that exists (times in a spring-forward gap move on)."""
    return t.astimezone(UTC).astimezone(t.tzinfo)


@dataclass(frozen=True)
class OfficeCalendar:
    """The office's working days and hours in one time zone."""

    holidays: Container[date]
    tz: ZoneInfo = ZoneInfo("Europe/London")
    opens: time = time(9, 0)
    closes: time = time(17, 0)

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError(
                f"The office must open before it closes ({self.opens}, {self.closes})."
            )
        # Per year, the running count of working days (see _working_days_in).
        object.__setattr__(self, "_year_counts", {})

    def local(self, t: datetime) -> datetime:
        """Return the aware datetime `t` in the calendar's time zone."""
        return to_local(t, self.tz)

    def at(self, d: date, wall_time: time) -> datetime:
        """Return the aware local datetime for wall-clock `wall_time` on date `d`."""
        return _normalise(datetime.combine(d, wall_time, tzinfo=self.tz))

    def wall_clock_add(self, t: datetime, *, months: int = 0, days: int = 0) -> datetime:
        """Return `t` moved by calendar months and days on local wall-clock time."""
        naive = self.local(t).replace(tzinfo=None) + relativedelta(months=months, days=days)
        return _normalise(naive.replace(tzinfo=self.tz))

    def is_working_day(self, d: date) -> bool:
        """Return whether `d` is Monday to Friday and not a bank holiday."""
        return d.weekday() < 5 and d not in self.holidays

    def next_working_day(self, d: date) -> date:
        """Return the first working day strictly after `d`."""
        d += _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def day_zero(self, t: datetime) -> date:
        """Return the working day a clock started at `t` counts from (deadlines.md, Day 0)."""
        lt = self.local(t)
        d = lt.date()
        if self.is_working_day(d) and lt.time() < self.closes:
            return d
        return self.next_working_day(d)

    def add_working_days(self, d: date, n: int) -> date:
        """Return the `n`-th working day after `d` (for 0, `d` or the next working day)."""
        if n < 0:
            raise ValueError(f"Cannot count {n} working days: the count must be 0 or more.")
        if n == 0:
            return d if self.is_working_day(d) else self.next_working_day(d)
        for _ in range(n):
            d = self.next_working_day(d)
        return d

    def company_deadline(self, t: datetime, n: int) -> datetime:
        """Return close of business on the `n`-th working day after day 0 of `t`."""
        return self.at(self.add_working_days(self.day_zero(t), n), self.closes)

    def customer_deadline(self, t: datetime, n: int) -> datetime:
        """Return the end (next midnight) of the `n`-th working day after day 0 of `t`."""
        last_day = self.add_working_days(self.day_zero(t), n)
        return self.at(last_day + _ONE_DAY, time(0))

    def holiday_name(self, d: date) -> str | None:
        """Return the bank holiday's name for `d`, or None when `d` is not one."""
        if d not in self.holidays:
            return None
        getter = getattr(self.holidays, "get", None)
        name = getter(d) if getter is not None else None
        return str(name).replace(_OBSERVED, _SUBSTITUTE) if name else "bank holiday"

    def non_working_days_between(self, start: date, end: date) -> list[tuple[date, str]]:
        """Return the weekdays after `start` up to and including `end` that are bank holidays."""
        found = []
        d = start + _ONE_DAY
        while d <= end:
            if d.weekday() < 5:
                name = self.holiday_name(d)
                if name is not None:
                    found.append((d, name))
            d += _ONE_DAY
        return found

    def _year_running_counts(self, year: int) -> list[int]:
        """Return counts[i] = the working days among the first i days of `year`."""
        counts = self._year_counts.get(year)
        if counts is None:
            counts = [0]
            d = date(year, 1, 1)
            while d.year == year:
                counts.append(counts[-1] + self.is_working_day(d))
                d += _ONE_DAY
            self._year_counts[year] = counts
        return counts

    def _working_days_in(self, first: date, stop: date) -> int:
        """Return the number of working days from `first` up to but not including `stop`."""
        if stop <= first:
            return 0
        start_counts = self._year_running_counts(first.year)
        if first.year == stop.year:
            day = first.timetuple().tm_yday
            return (
                self._year_running_counts(stop.year)[stop.timetuple().tm_yday - 1]
                - (start_counts[day - 1])
            )
        total = start_counts[-1] - start_counts[first.timetuple().tm_yday - 1]
        for year in range(first.year + 1, stop.year):
            total += self._year_running_counts(year)[-1]
        return total + self._year_running_counts(stop.year)[stop.timetuple().tm_yday - 1]

    def _office_seconds_on(self, d: date, a: int, b: int) -> int:
        """Return the seconds of day `d`'s office hours that fall between epoch seconds a and b."""
        if not self.is_working_day(d):
            return 0
        opens = _epoch_seconds(self.at(d, self.opens))
        closes = _epoch_seconds(self.at(d, self.closes))
        return max(0, min(b, closes) - max(a, opens))

    def working_seconds_between(self, start: datetime, end: datetime) -> int:
        """Return the office-hours seconds from `start` to `end`, negative if `end` is earlier.

        The first and last days are counted exactly; each working day between them counts a
        full office day, so the cost does not grow with the length of the span (the staff
        queue computes this for every row). A full office day is `closes - opens` of wall
        time, which assumes the clocks never change during office hours: true in
        Europe/London, where they change at 01:00 GMT.
        """
        a, b = _epoch_seconds(self.local(start)), _epoch_seconds(self.local(end))
        if b < a:
            return -self.working_seconds_between(end, start)
        first = self.local(start).date()
        last = self.local(end).date()
        if first == last:
            return self._office_seconds_on(first, a, b)
        full_day = (
            datetime.combine(first, self.closes) - datetime.combine(first, self.opens)
        ) // _SECOND
        between = self._working_days_in(first + _ONE_DAY, last)
        return (
            self._office_seconds_on(first, a, b)
            + between * full_day
            + self._office_seconds_on(last, a, b)
        )


def office_calendar(
    *,
    country: str = "GB",
    subdiv: str = "ENG",
    tz: str = "Europe/London",
    opens: time = time(9),
    closes: time = time(17),
) -> OfficeCalendar:
    """Return the calendar for a region's bank holidays (GB/ENG: England and Wales)."""
    return OfficeCalendar(
        holidays=holiday_sets.country_holidays(country, subdiv=subdiv),
        tz=ZoneInfo(tz),
        opens=opens,
        closes=closes,
    )
