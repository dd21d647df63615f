"""Extra time where fair (issue 15 item 3): an agreed interval only ever lengthens COP-13's.

Pure clock functions, no database: response, ADR and ombudsman dates take no agreed
interval at all, and the progress-update interval is never below the Code's.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from complaints.domain import deadlines
from complaints.domain.calendar import office_calendar

LONDON = ZoneInfo("Europe/London")
CAL = office_calendar(country="GB", subdiv="ENG", tz="Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)


def test_the_codes_interval_without_an_agreement():
    assert deadlines.progress_update_interval(deadlines.CODE_2016) == 2
    assert deadlines.progress_update_due(
        MONDAY, calendar=CAL, policy=deadlines.CODE_2016
    ) == datetime(2026, 11, 25, 17, 0, tzinfo=LONDON)


def test_an_agreed_interval_of_five_working_days_moves_the_update_to_friday_week():
    """Issue 15 item 3: five working days from Monday 10:00 is the next Monday 17:00."""
    due = deadlines.progress_update_due(
        MONDAY, calendar=CAL, policy=deadlines.CODE_2016, agreed_working_days=5
    )
    assert due == datetime(2026, 11, 30, 17, 0, tzinfo=LONDON)


@given(agreed=st.one_of(st.none(), st.integers(min_value=0, max_value=30)))
def test_an_agreement_never_makes_updates_due_sooner_than_the_code(agreed):
    """COP-13 is the floor whatever is agreed (a value below it is ignored by the clock)."""
    for policy in deadlines.POLICIES.values():
        code = deadlines.progress_update_due(MONDAY, calendar=CAL, policy=policy)
        agreed_due = deadlines.progress_update_due(
            MONDAY, calendar=CAL, policy=policy, agreed_working_days=agreed
        )
        assert agreed_due >= code
        assert deadlines.progress_update_interval(policy, agreed) >= (
            policy.progress_update_working_days
        )


def test_the_floor_is_the_strictest_policy_of_the_set():
    assert deadlines.progress_update_floor("code") == 2
    assert deadlines.progress_update_floor("regulator-2026") == 2
