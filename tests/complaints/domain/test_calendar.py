"""Working days, day 0 and office hours (deadlines.md), over bank holidays and clock changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.domain.calendar import OfficeCalendar, office_calendar

LONDON = ZoneInfo("Europe/London")
HOUR = 3600
OFFICE_DAY = 8 * HOUR

property_test = settings(max_examples=200, deadline=None)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)
dates = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
working_day_counts = st.integers(min_value=0, max_value=25)
nearby = st.timedeltas(min_value=timedelta(days=-45), max_value=timedelta(days=45))


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


# --- Day 0 -------------------------------------------------------------------------------


def test_day_zero_before_opening_counts_from_that_day(england):
    assert england.day_zero(london(2026, 11, 23, 7, 30)) == date(2026, 11, 23)


def test_day_zero_during_office_hours_is_that_day(england):
    assert england.day_zero(london(2026, 11, 23, 16, 59, 59)) == date(2026, 11, 23)


def test_day_zero_at_17_00_exactly_is_the_next_working_day(england):
    assert england.day_zero(london(2026, 11, 23, 17, 0)) == date(2026, 11, 24)


def test_day_zero_after_close_on_friday_is_monday(england):
    assert england.day_zero(london(2026, 11, 27, 17, 30)) == date(2026, 11, 30)


@pytest.mark.parametrize("day", [28, 29])
def test_day_zero_at_the_weekend_is_monday(england, day):
    assert england.day_zero(london(2026, 11, day, 11, 0)) == date(2026, 11, 30)


def test_day_zero_on_a_bank_holiday_is_the_next_working_day(england):
    assert england.day_zero(london(2026, 12, 25, 10, 0)) == date(2026, 12, 29)


def test_day_zero_uses_local_time_not_utc(england):
    # 16:30 UTC is 17:30 BST: after close in London.
    assert england.day_zero(datetime(2026, 6, 1, 16, 30, tzinfo=UTC)) == date(2026, 6, 2)


# --- Working days and bank holidays --------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [(date(2027, 3, 26), "Good Friday"), (date(2027, 3, 29), "Easter Monday")],
)
def test_easter_2027_is_not_worked(england, day, name):
    assert not england.is_working_day(day)
    assert england.holiday_name(day) == name
    assert england.next_working_day(date(2027, 3, 25)) == date(2027, 3, 30)


def test_england_includes_august_bank_holiday(england):
    assert england.holiday_name(date(2026, 8, 31)) == "Late Summer Bank Holiday"


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 12, 28), "Boxing Day (substitute day)"),
        (date(2027, 12, 27), "Christmas Day (substitute day)"),
        (date(2027, 12, 28), "Boxing Day (substitute day)"),
    ],
)
def test_substitute_days_are_bank_holidays(england, day, name):
    assert not england.is_working_day(day)
    assert england.holiday_name(day) == name


def test_ordinary_days(england):
    assert england.is_working_day(date(2026, 11, 23))
    assert not england.is_working_day(date(2026, 11, 28))  # Saturday
    assert england.holiday_name(date(2026, 11, 23)) is None


def test_holidays_are_a_parameter():
    no_holidays = OfficeCalendar(holidays=frozenset())
    assert no_holidays.is_working_day(date(2026, 12, 25))
    assert no_holidays.holiday_name(date(2026, 12, 25)) is None
    just_one = OfficeCalendar(holidays={date(2026, 11, 24)})
    assert just_one.holiday_name(date(2026, 11, 24)) == "bank holiday"
    assert just_one.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 25)


def test_add_working_days_zero_is_that_day_or_the_next_working_day(england):
    assert england.add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)
    assert england.add_working_days(date(2026, 11, 28), 0) == date(2026, 11, 30)


def test_add_working_days_counts_strictly_after(england):
    assert england.add_working_days(date(2026, 11, 28), 1) == date(2026, 11, 30)
    assert england.add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)


def test_add_working_days_rejects_a_negative_count(england):
    with pytest.raises(ValueError, match="-1"):
        england.add_working_days(date(2026, 11, 23), -1)


def test_non_working_days_between_names_bank_holidays_on_weekdays(england):
    assert england.non_working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 28), "Boxing Day (substitute day)"),
        (date(2027, 1, 1), "New Year's Day"),
    ]
    assert england.non_working_days_between(date(2026, 12, 25), date(2026, 12, 25)) == []


# --- Deadlines and the clock changes -------------------------------------------------------


def test_company_deadline_is_17_00_bst_after_the_spring_change(england):
    # Clocks go forward on Sun 29 Mar 2026: received in GMT, due in BST.
    due = england.company_deadline(london(2026, 3, 27, 10, 0), 2)
    assert (due.date(), due.time()) == (date(2026, 3, 31), time(17, 0))
    assert due.utcoffset() == timedelta(hours=1)
    assert due.astimezone(UTC).hour == 16


def test_company_deadline_is_17_00_gmt_after_the_autumn_change(england):
    due = england.company_deadline(london(2026, 10, 23, 10, 0), 2)
    assert (due.date(), due.time()) == (date(2026, 10, 27), time(17, 0))
    assert due.utcoffset() == timedelta(0)


def test_bst_switch_2027_received_in_the_night_before(england):
    # Sat 27 Mar 2027 23:30 GMT; Easter Monday 29 Mar; clocks change Sun 28 Mar.
    due = england.company_deadline(datetime(2027, 3, 27, 23, 30, tzinfo=UTC), 2)
    assert due == london(2027, 4, 1, 17, 0)
    assert due.tzinfo == LONDON


def test_customer_deadline_is_midnight_after_the_last_day(england):
    end = england.customer_deadline(london(2026, 11, 25, 14, 0), 10)
    assert end == london(2026, 12, 10, 0, 0)


def test_local_rejects_naive_datetimes(england):
    with pytest.raises(ValueError, match="Naive datetime"):
        england.local(datetime(2026, 11, 23, 10, 0))


def test_local_converts_to_london(england):
    local = england.local(datetime(2026, 6, 1, 8, 0, tzinfo=UTC))
    assert local.tzinfo == LONDON
    assert (local.date(), local.time()) == (date(2026, 6, 1), time(9, 0))


def test_wall_clock_add_keeps_local_time_across_the_change(england):
    later = england.wall_clock_add(london(2026, 3, 10, 10, 0), days=56)
    assert (later.date(), later.time()) == (date(2026, 5, 5), time(10, 0))
    assert later.utcoffset() == timedelta(hours=1)


def test_wall_clock_add_moves_a_time_in_the_spring_gap_forward(england):
    # 01:30 on 28 Mar 2027 does not exist in London; the clock reads 02:30 BST.
    moved = england.wall_clock_add(london(2027, 2, 28, 1, 30), months=1)
    assert (moved.date(), moved.time()) == (date(2027, 3, 28), time(2, 30))
    assert moved.astimezone(UTC).astimezone(LONDON) == moved


def test_office_hours_must_make_sense():
    with pytest.raises(ValueError):
        OfficeCalendar(holidays=frozenset(), opens=time(17), closes=time(9))


def test_office_calendar_settings_are_parameters():
    scotland = office_calendar(subdiv="SCT", opens=time(8, 30), closes=time(16, 30))
    assert not scotland.is_working_day(date(2026, 11, 30))  # St Andrew's Day
    assert scotland.company_deadline(london(2026, 11, 23, 10), 0).time() == time(16, 30)


# --- Working seconds (due/overdue badges) -------------------------------------------------


def test_working_seconds_within_a_day(england):
    start = london(2026, 11, 23, 10, 0)
    assert (
        england.working_seconds_between(start, london(2026, 11, 23, 15, 30)) == 5 * HOUR + 30 * 60
    )


def test_working_seconds_over_a_weekend(england):
    friday, monday = london(2026, 11, 27, 16, 0), london(2026, 11, 30, 10, 0)
    assert england.working_seconds_between(friday, monday) == 2 * HOUR
    assert england.working_seconds_between(monday, friday) == -2 * HOUR


def test_working_seconds_outside_office_hours_is_zero(england):
    evening, night = london(2026, 11, 23, 18, 0), london(2026, 11, 24, 8, 0)
    assert england.working_seconds_between(evening, night) == 0


def test_working_seconds_skip_bank_holidays(england):
    christmas_eve, tuesday = london(2026, 12, 24, 9, 0), london(2026, 12, 29, 9, 0)
    assert england.working_seconds_between(christmas_eve, tuesday) == OFFICE_DAY


# --- Properties ---------------------------------------------------------------------------


@property_test
@given(t=moments, n=working_day_counts)
def test_company_deadline_is_a_working_day_at_17_00_after_t(england, t, n):
    due = england.company_deadline(t, n)
    assert due.tzinfo == LONDON
    assert england.is_working_day(due.date())
    assert due.time() == time(17, 0)
    assert due > t


@property_test
@given(t=moments, n=working_day_counts)
def test_customer_deadline_is_midnight_after_a_working_day(england, t, n):
    end = england.customer_deadline(t, n)
    assert end.time() == time(0, 0)
    assert england.is_working_day(end.date() - timedelta(days=1))
    assert end > t
    assert end > england.company_deadline(t, n)


@property_test
@given(a=moments, b=moments, n=working_day_counts)
def test_later_receipt_never_gives_an_earlier_deadline(england, a, b, n):
    first, second = sorted([a, b])
    assert england.company_deadline(first, n) <= england.company_deadline(second, n)
    assert england.customer_deadline(first, n) <= england.customer_deadline(second, n)


@property_test
@given(t=moments, n=working_day_counts)
def test_more_working_days_never_gives_an_earlier_deadline(england, t, n):
    assert england.company_deadline(t, n) < england.company_deadline(t, n + 1)


@property_test
@given(d=dates, n=working_day_counts, m=working_day_counts)
def test_adding_working_days_composes(england, d, n, m):
    d = england.add_working_days(d, 0)  # a working day
    assert england.add_working_days(england.add_working_days(d, n), m) == (
        england.add_working_days(d, n + m)
    )


@property_test
@given(t=moments, n=working_day_counts)
def test_working_time_to_a_company_deadline_is_n_to_n_plus_1_office_days(england, t, n):
    seconds = england.working_seconds_between(t, england.company_deadline(t, n))
    assert n * OFFICE_DAY < seconds <= (n + 1) * OFFICE_DAY


@property_test
@given(a=moments, gap=nearby)
def test_working_seconds_are_antisymmetric(england, a, gap):
    b = a + gap
    seconds = england.working_seconds_between(a, b)
    assert seconds == -england.working_seconds_between(b, a)
    assert seconds >= 0 if b >= a else seconds <= 0


@property_test
@given(a=moments, ab=nearby, bc=nearby)
def test_working_seconds_are_additive(england, a, ab, bc):
    b, c = a + ab, a + ab + bc
    ws = england.working_seconds_between
    assert ws(a, b) + ws(b, c) == ws(a, c)


def _office_seconds_day_by_day(calendar, start, end):
    """The plain definition: each working day's overlap with the span, one day at a time
    (in whole seconds, as the calendar counts)."""
    a = calendar.local(start).replace(microsecond=0)
    b = calendar.local(end).replace(microsecond=0)
    total, d = 0, a.date()
    while d <= b.date():
        if calendar.is_working_day(d):
            opens, closes = calendar.at(d, calendar.opens), calendar.at(d, calendar.closes)
            total += max(0, int((min(b, closes) - max(a, opens)).total_seconds()))
        d += timedelta(days=1)
    return total


@property_test
@given(a=moments, span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=1200)))
def test_working_seconds_over_long_spans_match_counting_day_by_day(england, a, span):
    """The staff queue's clock badge (COP-12) counts office hours across years, holidays and
    clock changes; the constant-time count agrees with walking the days one by one."""
    assert england.working_seconds_between(a, a + span) == _office_seconds_day_by_day(
        england, a, a + span
    )


def test_working_seconds_across_new_year_skip_the_bank_holidays(england):
    # Wed 23 Dec 2026 12:00 to Mon 4 Jan 2027 10:00: 24 Dec, 29-31 Dec and 4 Jan are
    # working days; 25, 28 Dec (Boxing Day's substitute) and 1 Jan are bank holidays.
    start, end = london(2026, 12, 23, 12), london(2027, 1, 4, 10)
    assert england.working_seconds_between(start, end) == 5 * HOUR + 4 * OFFICE_DAY + HOUR
