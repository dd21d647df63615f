"""Every clock in the Code, defined once (shared/spec/deadlines.md).

Pure Python: the moments, the office calendar and the policy are always passed in. The numbers
live in a `Policy`, and a complaint is judged by the policy in force when it was first made
(COP-07), so changing the policy never moves the deadlines of complaints already open.
All results are aware datetimes in the calendar's time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .calendar import OfficeCalendar, to_local

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Policy:
    """The numbers behind the clocks, in force for complaints first made from a date."""

    key: str
    name: str
    effective_from: date
    response_working_days: int = 2
    progress_update_working_days: int = 2
    resolution_working_days: int = 10
    auto_close_working_days: int = 10
    adr_after_days: int = 56
    adr_max_employees: int = 9
    osc_months_after_first_made: int = 9
    osc_months_after_deadlock: int = 6
    osc_warning_days: int = 28
    deadlock_post_delivery_working_days: int = 2
    description: str = ""

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from.isoformat()})"


CODE_2016 = Policy(
    key="code-2016",
    name="Complaints Code of Practice",
    effective_from=date(2016, 1, 1),
    description=(
        "The Code's own numbers: response in 2 working days (COP-12), progress updates every "
        "2 working days (COP-13), resolution target 10 working days (COP-14), closed as "
        "resolved after 10 working days without a reply (COP-10), ADR after 8 weeks for "
        "consumers and businesses with fewer than 10 employees (COP-16), referral to the "
        "ombudsman within 6 months of deadlock or 9 months of first complaint, whichever is "
        "later, with a warning 28 days before (COP-18)."
    ),
)

REGULATOR_2026 = Policy(
    key="regulator-2026",
    name="Regulator's rules as reported in 2025-26 (unverified)",
    effective_from=date(2026, 4, 8),
    adr_after_days=42,
    adr_max_employees=10,
    osc_months_after_deadlock=12,
    description=(
        "For complaints first made on or after 8 April 2026: ADR letter at 6 weeks, for "
        "consumers and businesses with 10 or fewer employees, and referral within 12 months "
        "of the deadlock letter; every other number as the Code. These figures are as "
        "reported in 2025-26 and have not been checked: they must be verified against the "
        "regulator's published text before they are treated as authoritative."
    ),
)

# An operator picks one set (a setting); the last policy in force on the first-made date wins.
POLICY_SETS: dict[str, tuple[Policy, ...]] = {
    "code": (CODE_2016,),
    "regulator-2026": (CODE_2016, REGULATOR_2026),
}

POLICIES: dict[str, Policy] = {p.key: p for ps in POLICY_SETS.values() for p in ps}


class UnknownPolicy(KeyError):
    """Raised when a policy key or policy set is not one this module defines."""

    def __init__(self, kind: str, name: str, known: list[str]):
        self.message = f"Unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(known))}."
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def policy_for(
    first_made_at: datetime, *, policy_set: str = "code", tz: ZoneInfo = LONDON
) -> Policy:
    """Return the policy in force when the complaint was first made (COP-07)."""
    try:
        policies = POLICY_SETS[policy_set]
    except KeyError:
        raise UnknownPolicy("policy set", policy_set, list(POLICY_SETS)) from None
    made_on = to_local(first_made_at, tz).date()
    in_force = [p for p in policies if p.effective_from <= made_on]
    # A complaint older than every policy (an import) is judged by the earliest one.
    return max(in_force, key=lambda p: p.effective_from, default=policies[0])


def policy_by_key(key: str) -> Policy:
    """Return the policy stored on a complaint under `key`."""
    try:
        return POLICIES[key]
    except KeyError:
        raise UnknownPolicy("policy", key, list(POLICIES)) from None


def _later(a: datetime, b: datetime) -> datetime:
    """Return the later moment of `a` and `b` (compared in UTC, not by wall clock)."""
    if a.astimezone(UTC) >= b.astimezone(UTC):
        return a
    return b


def response_due(
    first_made_at: datetime,
    *,
    calendar: OfficeCalendar,
    policy: Policy,
    contracted_working_days: int | None = None,
) -> datetime:
    """Return when the response is due (COP-12), or sooner under a shorter contract (COP-03)."""
    n = policy.response_working_days
    if contracted_working_days is not None and contracted_working_days < n:
        n = contracted_working_days
    return calendar.company_deadline(first_made_at, n)


def resolution_target(
    first_made_at: datetime, *, calendar: OfficeCalendar, policy: Policy
) -> datetime:
    """Return the target time for resolving the complaint (COP-14)."""
    return calendar.company_deadline(first_made_at, policy.resolution_working_days)


def auto_close_at(
    response_sent_at: datetime,
    resolution_actioned_at: datetime | None = None,
    *,
    calendar: OfficeCalendar,
    policy: Policy,
) -> datetime:
    """Return when a complaint without a reply is closed as resolved (COP-10)."""
    anchor = calendar.local(response_sent_at)
    if resolution_actioned_at is not None:
        anchor = _later(anchor, calendar.local(resolution_actioned_at))
    return calendar.customer_deadline(anchor, policy.auto_close_working_days)


def progress_update_interval(policy: Policy, agreed_working_days: int | None = None) -> int:
    """Return the working days between progress updates: the Code's, or longer if agreed.

    A customer's recorded needs may agree a longer interval (issue 15 item 3). The Code's
    interval is the floor: an agreement below it is ignored here (and refused where it
    is recorded), so the Code's clock is never shortened (COP-13).
    """
    floor = policy.progress_update_working_days
    if agreed_working_days is None:
        return floor
    return max(floor, agreed_working_days)


def progress_update_floor(policy_set: str = "code") -> int:
    """Return the fewest working days an agreed update interval may be under `policy_set`.

    The strictest policy of the set decides, so an agreement is valid whichever policy a
    customer's complaints are judged by (COP-07, COP-13).
    """
    try:
        policies = POLICY_SETS[policy_set]
    except KeyError:
        raise UnknownPolicy("policy set", policy_set, list(POLICY_SETS)) from None
    return max(p.progress_update_working_days for p in policies)


def progress_update_due(
    since: datetime,
    *,
    calendar: OfficeCalendar,
    policy: Policy,
    agreed_working_days: int | None = None,
) -> datetime:
    """Return when the next progress update to the customer is due (COP-13, issue 15 item 3)."""
    return calendar.company_deadline(since, progress_update_interval(policy, agreed_working_days))


def adr_eligible_at(
    first_made_at: datetime, *, calendar: OfficeCalendar, policy: Policy
) -> datetime:
    """Return when the customer may take an unresolved complaint to ADR (COP-16)."""
    return calendar.wall_clock_add(first_made_at, days=policy.adr_after_days)


def osc_deadline(
    first_made_at: datetime,
    deadlock_received_at: datetime | None = None,
    *,
    calendar: OfficeCalendar,
    policy: Policy,
) -> datetime:
    """Return the last moment to refer to the ombudsman, the later of both windows (COP-18)."""
    after_first = calendar.wall_clock_add(first_made_at, months=policy.osc_months_after_first_made)
    if deadlock_received_at is None:
        return after_first
    after_deadlock = calendar.wall_clock_add(
        deadlock_received_at, months=policy.osc_months_after_deadlock
    )
    return _later(after_first, after_deadlock)


def osc_warning_at(
    osc_deadline_at: datetime, *, calendar: OfficeCalendar, policy: Policy
) -> datetime:
    """Return when to warn the customer that the ombudsman window is closing (COP-18)."""
    return calendar.wall_clock_add(osc_deadline_at, days=-policy.osc_warning_days)


def deadlock_received_at(
    sent_at: datetime, *, by_post: bool, calendar: OfficeCalendar, policy: Policy
) -> datetime:
    """Return when the customer is deemed to receive a deadlock letter (COP-17, COP-18)."""
    sent = calendar.local(sent_at)
    if not by_post:
        return sent
    delivered_on = calendar.add_working_days(
        sent.date(), policy.deadlock_post_delivery_working_days
    )
    return calendar.at(delivered_on, calendar.opens)


def adr_customer_eligible(
    customer_type: str | None, employee_count: int | None, *, policy: Policy
) -> bool:
    """Return whether the customer may use ADR; missing data never denies the right (COP-16)."""
    if (customer_type or "").strip().lower() != "business" or employee_count is None:
        return True
    return employee_count <= policy.adr_max_employees


# The rules of deadline_vectors.csv: (at, second_at | None, *, calendar, policy) -> datetime.
Rule = Callable[..., datetime]


def _one_moment(name: str, clock: Callable[..., datetime]) -> Rule:
    """Return `clock` as a rule that refuses a second moment it would silently ignore."""

    def rule(
        at: datetime, second_at: datetime | None = None, *, calendar: OfficeCalendar, policy: Policy
    ) -> datetime:
        if second_at is not None:
            raise ValueError(
                f"Rule {name!r} takes one moment, but a second was given: {second_at}."
            )
        return clock(at, calendar=calendar, policy=policy)

    rule.__name__ = rule.__qualname__ = name
    rule.__doc__ = clock.__doc__
    return rule


RULES: dict[str, Rule] = {
    "response_due": _one_moment("response_due", response_due),
    "resolution_target": _one_moment("resolution_target", resolution_target),
    "auto_close": auto_close_at,
    "adr_eligible": _one_moment("adr_eligible", adr_eligible_at),
    "osc_deadline": osc_deadline,
}


# --- Explanations -------------------------------------------------------------------------

_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_moment(t: datetime, *, calendar: OfficeCalendar) -> str:
    """Return `t` as local "Www D Mon YYYY HH:MM", the same in every locale."""
    lt = calendar.local(t)
    return f"{_day_month(lt)} {lt.year} {lt:%H:%M}"


def _day_month(d: date) -> str:
    return f"{_DAY_NAMES[d.weekday()]} {d.day} {_MONTH_NAMES[d.month - 1]}"


def _day_list(days: list[date]) -> str:
    """Return "Fri 25, Mon 28 Dec and Fri 1 Jan": the month once per run of days."""
    items = []
    for i, d in enumerate(days):
        last_of_month = i + 1 == len(days) or (days[i + 1].year, days[i + 1].month) != (
            d.year,
            d.month,
        )
        items.append(_day_month(d) if last_of_month else f"{_DAY_NAMES[d.weekday()]} {d.day}")
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _span_of_days(days: int) -> str:
    return _plural(days // 7, "week") if days % 7 == 0 else _plural(days, "day")


def _counting_clauses(t: datetime, n: int, *, calendar: OfficeCalendar) -> list[str]:
    """Return why counting starts later than `t` and which bank holidays it skips."""
    lt = calendar.local(t)
    day0 = calendar.day_zero(lt)
    clauses = []
    if day0 != lt.date():
        if calendar.is_working_day(lt.date()):
            why = f"after office hours (from {calendar.closes:%H:%M})"
        elif lt.weekday() >= 5:
            why = f"a {_FULL_DAY_NAMES[lt.weekday()]}"
        else:
            why = f"a bank holiday ({calendar.holiday_name(lt.date())})"
        clauses.append(f"{why}, so counting starts {_day_month(day0)}")
    skipped = calendar.non_working_days_between(lt.date(), calendar.add_working_days(day0, n))
    if skipped:
        verb = "is a bank holiday" if len(skipped) == 1 else "are bank holidays"
        names = ", ".join(name for _, name in skipped)
        clauses.append(f"{_day_list([d for d, _ in skipped])} {verb} ({names})")
    return clauses


def _clock_change_note(start: datetime, end: datetime) -> str:
    return (
        ", same local time across the clock change" if start.utcoffset() != end.utcoffset() else ""
    )


def _explain_response_due(at, second_at, *, calendar, policy, contracted_working_days):
    result = response_due(
        at, calendar=calendar, policy=policy, contracted_working_days=contracted_working_days
    )
    n, basis = policy.response_working_days, "COP-12"
    if contracted_working_days is not None and contracted_working_days < n:
        n, basis = contracted_working_days, "contracted response time, COP-03, COP-12"
    return "; ".join(
        [
            f"first made {format_moment(at, calendar=calendar)}",
            *_counting_clauses(at, n, calendar=calendar),
            f"response due {format_moment(result, calendar=calendar)} "
            f"({_plural(n, 'working day')}, {basis})",
        ]
    )


def _explain_resolution_target(at, second_at, *, calendar, policy, contracted_working_days):
    result = resolution_target(at, calendar=calendar, policy=policy)
    n = policy.resolution_working_days
    return "; ".join(
        [
            f"first made {format_moment(at, calendar=calendar)}",
            *_counting_clauses(at, n, calendar=calendar),
            f"resolution target {format_moment(result, calendar=calendar)} "
            f"({_plural(n, 'working day')}, COP-14)",
        ]
    )


def _explain_auto_close(at, second_at, *, calendar, policy, contracted_working_days):
    result = auto_close_at(at, second_at, calendar=calendar, policy=policy)
    sent = f"response sent {format_moment(at, calendar=calendar)}"
    if second_at is None:
        start, anchor = f"{sent} starts the clock (no resolution to action)", at
    else:
        actioned = f"resolution actioned {format_moment(second_at, calendar=calendar)}"
        anchor = _later(at, second_at)
        later = "the resolution" if anchor is second_at else "the response"
        start = f"{sent}, {actioned}; counting from {later}, the later of the two"
    n = policy.auto_close_working_days
    last_day = _day_month(calendar.local(result) - timedelta(days=1))
    return "; ".join(
        [
            start,
            *_counting_clauses(anchor, n, calendar=calendar),
            f"closes as resolved at {format_moment(result, calendar=calendar)} unless the "
            f"customer replies by the end of {last_day} "
            f"({_plural(n, 'working day')}, customer's time, COP-10)",
        ]
    )


def _explain_adr_eligible(at, second_at, *, calendar, policy, contracted_working_days):
    result = adr_eligible_at(at, calendar=calendar, policy=policy)
    return (
        f"first made {format_moment(at, calendar=calendar)}; ADR eligible "
        f"{format_moment(result, calendar=calendar)} ({_span_of_days(policy.adr_after_days)} "
        f"after first made{_clock_change_note(calendar.local(at), result)}, COP-16)"
    )


def _clamped_note(start: datetime, months: int, *, calendar: OfficeCalendar) -> str:
    end = calendar.wall_clock_add(start, months=months)
    return ", clamped to the month's last day" if end.day != calendar.local(start).day else ""


def _window(start: datetime, months: int, label: str, *, calendar: OfficeCalendar) -> str:
    end = format_moment(calendar.wall_clock_add(start, months=months), calendar=calendar)
    clamped = _clamped_note(start, months, calendar=calendar)
    return f"{_plural(months, 'month')} after {label} ({end}{clamped})"


def _explain_osc_deadline(at, second_at, *, calendar, policy, contracted_working_days):
    result = format_moment(
        osc_deadline(at, second_at, calendar=calendar, policy=policy), calendar=calendar
    )
    months = policy.osc_months_after_first_made
    made = f"first made {format_moment(at, calendar=calendar)}"
    if second_at is None:
        clamped = _clamped_note(at, months, calendar=calendar)
        return (
            f"{made}; no deadlock letter received; referral deadline {result} "
            f"({_plural(months, 'month')} after first made{clamped}, COP-18)"
        )
    first = _window(at, months, "first made", calendar=calendar)
    deadlock = _window(
        second_at, policy.osc_months_after_deadlock, "deadlock letter received", calendar=calendar
    )
    return (
        f"{made}; deadlock letter received {format_moment(second_at, calendar=calendar)}; "
        f"referral deadline {result}, the later of {first} and {deadlock}, COP-18"
    )


_EXPLAINERS: dict[str, Callable[..., str]] = {
    "response_due": _explain_response_due,
    "resolution_target": _explain_resolution_target,
    "auto_close": _explain_auto_close,
    "adr_eligible": _explain_adr_eligible,
    "osc_deadline": _explain_osc_deadline,
}


def explain(
    rule: str,
    at: datetime,
    second_at: datetime | None = None,
    *,
    calendar: OfficeCalendar,
    policy: Policy,
    contracted_working_days: int | None = None,
) -> str:
    """Return one plain-English line saying how the rule's deadline was worked out."""
    if rule not in _EXPLAINERS:
        raise ValueError(f"Unknown rule {rule!r}; known rules: {', '.join(sorted(RULES))}.")
    if second_at is not None and rule not in ("auto_close", "osc_deadline"):
        raise ValueError(f"Rule {rule!r} takes one moment, but a second was given: {second_at}.")
    return _EXPLAINERS[rule](
        at,
        second_at,
        calendar=calendar,
        policy=policy,
        contracted_working_days=contracted_working_days,
    )
