"""The pure rules of recorded needs (issue 15 items 1 and 3; Ofcom GC C5): no database."""

from datetime import date

import pytest

from accounts.needs_rules import (
    needs_badge_words,
    needs_problems,
    review_date_default,
    update_interval_problem,
)

KNOWN = {"hearing", "sight", "other", "call_time", "call_dont_write"}


@pytest.mark.parametrize("days", [None, 2, 5, 10])
def test_an_interval_at_or_above_the_codes_is_allowed(days):
    """Issue 15 item 3: extra time may lengthen COP-13's interval."""
    assert update_interval_problem(days, floor=2) is None


@pytest.mark.parametrize("days", [0, 1])
def test_an_interval_below_the_codes_is_refused_with_the_codes_number(days):
    """Issue 15 item 3: the Code's 2 working days (COP-13) are the floor, never shortened."""
    problem = update_interval_problem(days, floor=2)
    assert "at least every 2 working days" in problem and "COP-13" in problem


def test_an_interval_beyond_the_resolution_target_is_refused():
    assert "no more than 10 working days" in update_interval_problem(11, floor=2)


def test_a_need_must_be_chosen_and_something_else_described():
    assert (
        "Choose at least one need"
        in needs_problems(kinds=[], known=KNOWN, details="", call_times="")["kinds"]
    )
    problems = needs_problems(kinds=["other", "call_time"], known=KNOWN, details=" ", call_times="")
    assert set(problems) == {"details", "call_times"}
    assert needs_problems(kinds=["hearing"], known=KNOWN, details="", call_times="") == {}
    assert (
        "not needs we record"
        in needs_problems(kinds=["astrology"], known=KNOWN, details="", call_times="")["kinds"]
    )


@pytest.mark.parametrize(
    ("today", "months", "expected"),
    [
        (date(2026, 12, 7), 12, date(2027, 12, 7)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),  # no 29 February: the month's last day
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 1, 15), 1, date(2026, 2, 15)),
    ],
)
def test_review_date_is_months_later_or_the_months_last_day(today, months, expected):
    assert review_date_default(today, months=months) == expected


def test_the_badge_says_the_needs_in_short_with_the_format():
    """Issue 15 item 1: a short badge, e.g. for a customer who needs large print."""
    assert (
        needs_badge_words(kinds=["hearing", "call_dont_write"], communication_format="large_print")
        == "Needs: hearing, call, don't write · large print"
    )
    assert needs_badge_words(kinds=["sight"], communication_format="standard") == "Needs: sight"
