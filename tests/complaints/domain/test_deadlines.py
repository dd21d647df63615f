"""The clocks of the Code (COP-03, 10, 12, 13, 14, 16, 17, 18) and their policy versions."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from complaints.domain.deadlines import (
    CODE_2016,
    POLICY_SETS,
    REGULATOR_2026,
    RULES,
    UnknownPolicy,
    adr_customer_eligible,
    adr_eligible_at,
    auto_close_at,
    deadlock_received_at,
    explain,
    format_moment,
    osc_deadline,
    osc_warning_at,
    policy_by_key,
    policy_for,
    progress_update_due,
    resolution_target,
    response_due,
)

LONDON = ZoneInfo("Europe/London")


def london(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LONDON)


# --- COP-12 / COP-03: response -----------------------------------------------------------


def test_cop12_response_due_in_two_working_days(england):
    due = response_due(london(2026, 11, 23, 10), calendar=england, policy=CODE_2016)
    assert due == london(2026, 11, 25, 17)


@pytest.mark.parametrize(
    ("contracted", "expected"),
    [
        (None, london(2026, 11, 25, 17)),
        (1, london(2026, 11, 24, 17)),  # shorter: replaces the Code's 2
        (0, london(2026, 11, 23, 17)),  # same working day
        (2, london(2026, 11, 25, 17)),
        (5, london(2026, 11, 25, 17)),  # longer: the Code's 2 still applies
    ],
)
def test_cop03_contracted_response_time_only_replaces_the_code_when_shorter(
    england, contracted, expected
):
    due = response_due(
        london(2026, 11, 23, 10),
        calendar=england,
        policy=CODE_2016,
        contracted_working_days=contracted,
    )
    assert due == expected


def test_cop13_progress_update_due_two_working_days_after(england):
    due = progress_update_due(london(2026, 11, 27, 16), calendar=england, policy=CODE_2016)
    assert due == london(2026, 12, 1, 17)


def test_cop14_resolution_target_ten_working_days(england):
    due = resolution_target(london(2026, 11, 23, 10), calendar=england, policy=CODE_2016)
    assert due == london(2026, 12, 7, 17)


# --- COP-10: auto-close ------------------------------------------------------------------


def test_cop10_auto_close_counts_from_the_later_of_response_and_action(england):
    sent, actioned = london(2026, 11, 25, 14), london(2026, 11, 30, 10)
    expected = london(2026, 12, 15, 0)
    assert auto_close_at(sent, actioned, calendar=england, policy=CODE_2016) == expected
    # An action recorded before the response does not pull the clock back.
    assert auto_close_at(actioned, sent, calendar=england, policy=CODE_2016) == expected


def test_cop10_auto_close_compares_moments_not_wall_clocks(england):
    sent = datetime(2026, 11, 25, 14, tzinfo=UTC)
    actioned = datetime(2026, 11, 25, 15, tzinfo=ZoneInfo("America/New_York"))  # 20:00 UTC
    due = auto_close_at(sent, actioned, calendar=england, policy=CODE_2016)
    assert due == london(2026, 12, 11, 0)  # counted from Thu 26 Nov: 20:00 is after close


# --- COP-07: policy versions ---------------------------------------------------------------


def test_cop07_code_set_always_gives_the_code(england):
    assert policy_for(london(2030, 1, 1, 10)) is CODE_2016
    assert policy_for(london(2026, 4, 8, 10), policy_set="code") is CODE_2016


def test_cop07_regulator_set_picks_by_the_local_first_made_date():
    assert policy_for(london(2026, 4, 7, 23, 59), policy_set="regulator-2026") is CODE_2016
    assert policy_for(london(2026, 4, 8, 0, 0), policy_set="regulator-2026") is REGULATOR_2026
    # 23:30 UTC on 7 April is 00:30 BST on 8 April: the London date decides.
    late = datetime(2026, 4, 7, 23, 30, tzinfo=UTC)
    assert policy_for(late, policy_set="regulator-2026") is REGULATOR_2026


def test_cop07_complaint_older_than_every_policy_gets_the_earliest():
    assert policy_for(london(2015, 6, 1, 10), policy_set="regulator-2026") is CODE_2016


def test_unknown_policy_set_lists_the_known_sets():
    with pytest.raises(UnknownPolicy) as caught:
        policy_for(london(2026, 4, 8, 10), policy_set="ofcom")
    assert isinstance(caught.value, KeyError)
    assert str(caught.value) == (
        "Unknown policy set 'ofcom'; known policy sets: code, regulator-2026."
    )


def test_policy_by_key_round_trips_every_policy():
    for policies in POLICY_SETS.values():
        for policy in policies:
            assert policy_by_key(policy.key) is policy
    with pytest.raises(UnknownPolicy, match="code-2016, regulator-2026"):
        policy_by_key("code-2010")


def test_regulator_preset_is_documented_as_unverified():
    assert "as reported" in REGULATOR_2026.description
    assert "verified against the regulator's published text" in REGULATOR_2026.description
    assert REGULATOR_2026.effective_from == date(2026, 4, 8)
    assert (
        replace(
            REGULATOR_2026,
            adr_after_days=CODE_2016.adr_after_days,
            adr_max_employees=CODE_2016.adr_max_employees,
            osc_months_after_deadlock=CODE_2016.osc_months_after_deadlock,
            key=CODE_2016.key,
            name=CODE_2016.name,
            effective_from=CODE_2016.effective_from,
            description=CODE_2016.description,
        )
        == CODE_2016
    )  # every other number is the Code's


@pytest.mark.parametrize(
    ("first_made", "expected"),
    [
        (london(2026, 4, 7, 10), london(2026, 6, 2, 10)),  # the Code's 8 weeks
        (london(2026, 4, 8, 10), london(2026, 5, 20, 10)),  # the regulator's 6 weeks
    ],
)
def test_cop16_regulator_preset_switches_adr_at_2026_04_08(england, first_made, expected):
    policy = policy_for(first_made, policy_set="regulator-2026")
    assert adr_eligible_at(first_made, calendar=england, policy=policy) == expected


# --- COP-16: ADR ---------------------------------------------------------------------------


def test_cop16_adr_eligible_at_8_weeks_same_local_time_across_bst(england):
    eligible = adr_eligible_at(
        datetime(2026, 3, 10, 10, tzinfo=UTC), calendar=england, policy=CODE_2016
    )
    assert (eligible.date(), eligible.time()) == (date(2026, 5, 5), time(10))
    assert eligible.tzinfo == LONDON


@pytest.mark.parametrize(
    ("customer_type", "employees", "policy", "eligible"),
    [
        ("business", 9, CODE_2016, True),
        ("business", 10, CODE_2016, False),  # the Code: fewer than 10
        ("business", 10, REGULATOR_2026, True),  # as reported: 10 or fewer
        ("business", 11, REGULATOR_2026, False),
        ("business", None, CODE_2016, True),  # size unknown
        ("consumer", None, CODE_2016, True),
        ("consumer", 5000, CODE_2016, True),
        (None, 5000, CODE_2016, True),  # type unknown
        ("", 50, CODE_2016, True),
        ("charity", 50, CODE_2016, True),
        ("Business", 10, CODE_2016, False),
    ],
)
def test_cop16_adr_customer_eligibility(customer_type, employees, policy, eligible):
    assert adr_customer_eligible(customer_type, employees, policy=policy) is eligible


# --- COP-17 / COP-18: deadlock and the ombudsman window ------------------------------------


def test_cop17_deadlock_letter_by_email_is_received_when_sent(england):
    sent = datetime(2026, 12, 24, 15, tzinfo=UTC)
    received = deadlock_received_at(sent, by_post=False, calendar=england, policy=CODE_2016)
    assert received == sent
    assert received.tzinfo == LONDON


@pytest.mark.parametrize(
    ("posted", "received"),
    [
        (london(2026, 11, 23, 15), london(2026, 11, 25, 9)),
        # Christmas: Fri 25 and Mon 28 Dec 2026 are bank holidays.
        (london(2026, 12, 24, 15), london(2026, 12, 30, 9)),
        # August bank holiday weekend: Mon 31 Aug 2026.
        (london(2026, 8, 28, 16), london(2026, 9, 2, 9)),
        (london(2026, 11, 28, 11), london(2026, 12, 1, 9)),  # posted on a Saturday
        (london(2026, 11, 23, 23, 30), london(2026, 11, 25, 9)),  # late post is same date
    ],
)
def test_cop17_deadlock_letter_by_post_arrives_09_00_second_working_day(england, posted, received):
    assert (
        deadlock_received_at(posted, by_post=True, calendar=england, policy=CODE_2016) == received
    )


def test_cop18_warning_28_days_before_the_deadline(england):
    deadline = london(2026, 10, 15, 10)
    assert osc_warning_at(deadline, calendar=england, policy=CODE_2016) == london(2026, 9, 17, 10)


def test_cop18_warning_keeps_local_time_across_the_clock_change(england):
    warning = osc_warning_at(london(2026, 11, 5, 10), calendar=england, policy=CODE_2016)
    assert (warning.date(), warning.time()) == (date(2026, 10, 8), time(10))
    assert warning.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("first_made", "deadlock", "expected"),
    [
        (london(2026, 5, 31, 10), None, london(2027, 2, 28, 10)),
        (london(2027, 5, 31, 10), None, london(2028, 2, 29, 10)),  # leap year
        (london(2026, 1, 15, 10), london(2026, 8, 31, 9), london(2027, 2, 28, 9)),
        (london(2026, 1, 15, 10), london(2026, 2, 20, 12), london(2026, 10, 15, 10)),
    ],
)
def test_cop18_osc_deadline_is_the_later_window_clamped_to_month_end(
    england, first_made, deadlock, expected
):
    assert osc_deadline(first_made, deadlock, calendar=england, policy=CODE_2016) == expected


def test_cop18_regulator_preset_gives_12_months_after_deadlock(england):
    first_made, deadlock = london(2026, 5, 1, 10), london(2026, 6, 1, 12)
    assert osc_deadline(first_made, deadlock, calendar=england, policy=CODE_2016) == london(
        2027, 2, 1, 10
    )
    assert osc_deadline(first_made, deadlock, calendar=england, policy=REGULATOR_2026) == (
        london(2027, 6, 1, 12)
    )


# --- Explanations ---------------------------------------------------------------------------


def test_cop12_explain_christmas_eve_names_the_bank_holidays_skipped(england):
    line = explain("response_due", london(2026, 12, 24, 12), calendar=england, policy=CODE_2016)
    assert "\n" not in line
    assert "Christmas Day" in line
    assert "Boxing Day (substitute day)" in line
    assert "Fri 25 and Mon 28 Dec" in line
    assert "COP-12" in line
    assert "Wed 30 Dec 2026 17:00" in line


def test_cop03_explain_says_when_a_contract_set_the_response_time(england):
    line = explain(
        "response_due",
        london(2026, 11, 23, 10),
        calendar=england,
        policy=CODE_2016,
        contracted_working_days=1,
    )
    assert "COP-03" in line
    assert "Tue 24 Nov 2026 17:00" in line


def test_cop10_explain_says_which_anchor_was_later(england):
    line = explain(
        "auto_close",
        london(2026, 11, 25, 14),
        london(2026, 11, 30, 10),
        calendar=england,
        policy=CODE_2016,
    )
    assert "counting from the resolution, the later" in line
    assert "Tue 15 Dec 2026 00:00" in line


def test_cop18_explain_gives_both_windows(england):
    line = explain(
        "osc_deadline",
        london(2026, 1, 15, 10),
        london(2026, 6, 1, 12),
        calendar=england,
        policy=CODE_2016,
    )
    assert "9 months after first made (Thu 15 Oct 2026 10:00)" in line
    assert "6 months after deadlock letter received (Tue 1 Dec 2026 12:00)" in line


def test_cop16_explain_says_6_weeks_under_the_regulator_preset(england):
    line = explain("adr_eligible", london(2026, 4, 8, 10), calendar=england, policy=REGULATOR_2026)
    assert "6 weeks after first made" in line
    assert "Wed 20 May 2026 10:00" in line


def test_explain_rejects_unknown_rules_and_stray_second_moments(england):
    with pytest.raises(ValueError, match="known rules"):
        explain("respond_by", london(2026, 1, 5, 10), calendar=england, policy=CODE_2016)
    with pytest.raises(ValueError, match="one moment"):
        explain(
            "adr_eligible",
            london(2026, 1, 5, 10),
            london(2026, 1, 6, 10),
            calendar=england,
            policy=CODE_2016,
        )


def test_format_moment_is_local_and_locale_free(england):
    moment = datetime(2026, 6, 1, 16, 5, tzinfo=UTC)
    assert format_moment(moment, calendar=england) == "Mon 1 Jun 2026 17:05"


# --- Naive datetimes -----------------------------------------------------------------------


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_rejects_naive_datetimes(england, rule):
    with pytest.raises(ValueError, match="Naive datetime"):
        RULES[rule](datetime(2026, 11, 23, 10), None, calendar=england, policy=CODE_2016)


def test_second_moment_must_be_aware_too(england):
    with pytest.raises(ValueError, match="Naive datetime"):
        osc_deadline(
            london(2026, 1, 15, 10),
            datetime(2026, 6, 1, 12),
            calendar=england,
            policy=CODE_2016,
        )
    with pytest.raises(ValueError, match="Naive datetime"):
        auto_close_at(
            london(2026, 1, 15, 10), datetime(2026, 6, 1), calendar=england, policy=CODE_2016
        )


def test_policy_for_rejects_naive_datetimes():
    with pytest.raises(ValueError, match="Naive datetime"):
        policy_for(datetime(2026, 4, 8, 10), policy_set="regulator-2026")


def test_deadlock_received_rejects_naive_datetimes(england):
    with pytest.raises(ValueError, match="Naive datetime"):
        deadlock_received_at(
            datetime(2026, 4, 8, 10), by_post=True, calendar=england, policy=CODE_2016
        )
