"""The subject access request clock (issue 15 item 5; UK GDPR art. 12(3), ICO guidance)."""

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from complaints.domain.calendar import office_calendar
from complaints.domain.sar import (
    SarClock,
    SarRuleError,
    sar_due_on,
    sar_extended_due_on,
    sar_extension_check,
    sar_warn_on,
    sar_warning_horizon,
)

VECTORS = Path(__file__).resolve().parents[2] / "data" / "sar_clock_vectors.csv"
ROWS = list(csv.DictReader(VECTORS.open(newline="", encoding="utf-8")))
ENGLAND = office_calendar()
RECEIPTS = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def test_the_worked_examples_cover_what_the_issue_names():
    """Issue 15: 31 January + one month, a month ending on a Sunday, a bank holiday Monday."""
    names = " ".join(row["name"] for row in ROWS)
    for needed in ("jan-31", "month-ending-on-a-sunday", "bank-holiday-monday", "leap-year",
                   "received-on-a-saturday", "extended"):  # fmt: skip
        assert needed in names


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_worked_example(row):
    """Each row of tests/data/sar_clock_vectors.csv gives its due date."""
    received = date.fromisoformat(row["received_on"])
    months = int(row["extension_months"])
    got = (
        sar_extended_due_on(received, months, ENGLAND) if months else sar_due_on(received, ENGLAND)
    )
    assert got == date.fromisoformat(row["expected_due_on"])


@given(RECEIPTS)
def test_due_is_a_working_day_at_least_28_days_after_receipt(received):
    due = sar_due_on(received, ENGLAND)
    assert ENGLAND.is_working_day(due)
    assert due >= received + timedelta(days=28)


@given(RECEIPTS)
def test_due_is_at_most_a_month_plus_the_run_of_non_working_days(received):
    """Never later than 31 days, plus only the weekend or holidays it was moved over."""
    due = sar_due_on(received, ENGLAND)
    unadjusted = received + relativedelta(months=1)
    assert unadjusted - received <= timedelta(days=31)
    # Every day skipped between the corresponding day and the due date is a day off.
    d = unadjusted
    while d < due:
        assert not ENGLAND.is_working_day(d)
        d += timedelta(days=1)


@given(RECEIPTS, RECEIPTS)
def test_due_is_monotone_in_the_receipt_date(a, b):
    if a <= b:
        assert sar_due_on(a, ENGLAND) <= sar_due_on(b, ENGLAND)


@given(RECEIPTS, st.sampled_from([1, 2]))
def test_an_extension_is_later_and_at_most_three_months_in_all(received, months):
    due = sar_due_on(received, ENGLAND)
    extended = sar_extended_due_on(received, months, ENGLAND)
    assert extended > due
    assert ENGLAND.is_working_day(extended)
    latest = received + relativedelta(months=3)
    assert extended <= (latest if ENGLAND.is_working_day(latest) else
                        ENGLAND.next_working_day(latest))  # fmt: skip


@pytest.mark.parametrize("months", [0, 3, -1])
def test_an_extension_is_by_one_or_two_months(months):
    with pytest.raises(SarRuleError, match="one or two further months"):
        sar_extended_due_on(date(2026, 6, 10), months, ENGLAND)


def _check(**overrides):
    facts = dict(
        received_on=date(2026, 6, 10), due_on=date(2026, 7, 10), told_on=date(2026, 7, 10),
        months=2, already_extended=False, reason="Many years of records on three accounts.",
    )  # fmt: skip
    facts.update(overrides)
    sar_extension_check(**facts)


def test_an_extension_told_on_the_due_date_is_allowed():
    """The customer must be told within the first month: the due date itself is in time."""
    _check()


def test_an_extension_after_the_original_due_date_is_refused_with_the_date():
    with pytest.raises(SarRuleError, match="Too late to extend.*Friday 10 July 2026"):
        _check(told_on=date(2026, 7, 11))


def test_a_request_is_extended_once_only():
    with pytest.raises(SarRuleError, match="extended once"):
        _check(already_extended=True)


def test_an_extension_needs_a_reason_the_customer_can_be_told():
    with pytest.raises(SarRuleError, match="reason"):
        _check(reason="  ")


def test_the_warning_comes_working_days_before_the_due_date():
    # Due Tuesday 26 May 2026, after the spring bank holiday: 3 working days before is
    # Wednesday 20 May (Monday 25 May is not counted).
    assert sar_warn_on(date(2026, 5, 26), 3, ENGLAND) == date(2026, 5, 20)
    assert sar_warning_horizon(date(2026, 5, 20), 3, ENGLAND) == date(2026, 5, 26)


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), st.integers(0, 10))
def test_the_warning_horizon_matches_the_warning_date(today, n):
    """A due date is within the horizon exactly when its warning date has come."""
    for offset in range(0, 25):
        due = today + timedelta(days=offset)
        if ENGLAND.is_working_day(due):
            in_horizon = due <= sar_warning_horizon(today, n, ENGLAND)
            assert in_horizon == (sar_warn_on(due, n, ENGLAND) <= today)


def test_a_clock_is_overdue_only_after_its_current_due_date():
    clock = SarClock(received_on=date(2026, 6, 10), due_on=date(2026, 7, 10),
                     extended_due_on=date(2026, 9, 10))  # fmt: skip
    assert clock.current_due_on == date(2026, 9, 10)
    assert not clock.is_overdue(date(2026, 9, 10))
    assert clock.is_overdue(date(2026, 9, 11))
