"""The recurring-problems rule (issue 16 item 2): N cases in M working days is a burst."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from complaints.domain.recurring import (
    END,
    KEEP,
    RAISE,
    burst_started_at,
    burst_step,
    window_first_day,
    window_start,
)

LONDON = ZoneInfo("Europe/London")


def test_the_window_counts_working_days_back_including_today(england):
    assert window_first_day(date(2026, 12, 9), 3, england) == date(2026, 12, 7)
    assert window_first_day(date(2026, 12, 9), 1, england) == date(2026, 12, 9)
    # Monday back over the weekend: Mon, Fri, Thu.
    assert window_first_day(date(2026, 12, 7), 3, england) == date(2026, 12, 3)


def test_the_window_skips_bank_holidays_and_a_weekend_today(england):
    # Christmas Day (Fri) and the Boxing Day substitute (Mon 28th) do not count.
    assert window_first_day(date(2026, 12, 29), 3, england) == date(2026, 12, 23)
    # On a Saturday the window is the last working days: Fri and Thu.
    assert window_first_day(date(2026, 12, 12), 2, england) == date(2026, 12, 10)


def test_the_window_starts_at_midnight_office_time(england):
    now = datetime(2026, 12, 9, 15, 30, tzinfo=LONDON)
    assert window_start(now, 3, england) == datetime(2026, 12, 7, 0, 0, tzinfo=LONDON)


def test_an_empty_window_or_threshold_is_refused(england):
    with pytest.raises(ValueError):
        window_first_day(date(2026, 12, 9), 0, england)
    with pytest.raises(ValueError):
        burst_started_at([], start=datetime(2026, 12, 7, tzinfo=LONDON), threshold=0)


def test_the_burst_starts_when_the_nth_case_in_the_window_was_recorded():
    start = datetime(2026, 12, 7, tzinfo=LONDON)
    cases = [start + timedelta(hours=h) for h in (12, 9, 10, 11)]
    assert burst_started_at(cases, start=start, threshold=3) == start + timedelta(hours=11)
    assert burst_started_at(cases, start=start, threshold=5) is None


def test_cases_before_the_window_are_not_counted():
    start = datetime(2026, 12, 7, tzinfo=LONDON)
    cases = [start - timedelta(minutes=1), start, start + timedelta(hours=1)]
    assert burst_started_at(cases, start=start, threshold=3) is None
    assert burst_started_at(cases, start=start, threshold=2) == start + timedelta(hours=1)


def test_one_alert_per_burst_and_a_new_one_only_after_it_ended():
    t = datetime(2026, 12, 7, tzinfo=LONDON)
    assert burst_step(open_alert=False, started_at=t) == RAISE
    assert burst_step(open_alert=True, started_at=t) == KEEP
    assert burst_step(open_alert=True, started_at=None) == END
    assert burst_step(open_alert=False, started_at=None) is None
