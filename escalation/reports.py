"""Read-side queries for the complaints register (COP-15) and the compliance dashboard.

The dashboard and the return read the monthly figures kept by escalation.figures (summed by
the database per month and department, channel or customer type), so the cost of a report
follows the number of months and groups shown, not the number of complaints stored. Python
only arranges the few aggregated rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Case, Count, DateField, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from complaints.models import (
    Complaint,
    Department,
    Remedy,
    RemedyKind,
    SatisfactionResponse,
)
from escalation.figures import (
    DECISION_MEASURES,
    MEASURES,
    REMEDY_MEASURES,
    SATISFACTION_MEASURES,
    SCORES,
)
from escalation.models import AdrReferral, FormalCase, MonthlyFigure, PendingResponse

# The register's ADR filter: cases whose complaint was never referred to the scheme.
NOT_REFERRED = "none"
DECISIONS: tuple[str, ...] = tuple(AdrReferral.Decision.values)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _day_start(day: date) -> datetime:
    """Return local midnight at the start of `day`, as an aware datetime."""
    return datetime.combine(day, time.min, tzinfo=_tz())


# --- The complaints register (COP-15) --------------------------------------------------


@dataclass(frozen=True)
class RegisterFilters:
    """What the register is narrowed to; empty values do not filter."""

    outcome: str = ""
    senior_manager_id: int | None = None
    adr_decision: str = ""  # an AdrReferral.Decision value, NOT_REFERRED, or "" for any
    opened_from: date | None = None  # London dates, both inclusive
    opened_to: date | None = None
    search: str = ""  # part of the register reference or of the complaint reference


def register_rows(*, filters: RegisterFilters) -> QuerySet[FormalCase]:
    """Return the formal cases matching `filters`, newest first, with what the register shows."""
    rows = FormalCase.objects.select_related(
        "complaint__customer", "complaint__adr_referral", "senior_manager"
    ).order_by("-opened_at", "-pk")
    if filters.outcome:
        rows = rows.filter(outcome=filters.outcome)
    if filters.senior_manager_id is not None:
        rows = rows.filter(senior_manager_id=filters.senior_manager_id)
    if filters.adr_decision == NOT_REFERRED:
        rows = rows.filter(complaint__adr_referral__isnull=True)
    elif filters.adr_decision:
        rows = rows.filter(complaint__adr_referral__decision=filters.adr_decision)
    if filters.opened_from:
        rows = rows.filter(opened_at__gte=_day_start(filters.opened_from))
    if filters.opened_to:
        rows = rows.filter(opened_at__lt=_day_start(filters.opened_to + timedelta(days=1)))
    search = filters.search.strip()
    if search:
        rows = rows.filter(
            Q(register_reference__icontains=search) | Q(complaint__reference__icontains=search)
        )
    return rows


def register_senior_managers() -> QuerySet:
    """Return the people the register can be filtered by: reviewers and appointed managers.

    Reviewers are staff given `review_formal` through a role (group) or directly, as in the
    appoint form; a superuser shows once appointed. Each set is found on its own small
    table or index and the users then read by key: one query joining every user to their
    groups and cases, then DISTINCT, took 3 s at 66,000 formal cases.
    """
    user_model = get_user_model()
    review = {
        "permission__codename": "review_formal",
        "permission__content_type__app_label": "complaints",
    }
    # Literal group ids let the database see how few members they have (not the customers).
    groups = list(
        Group.permissions.through.objects.filter(**review).values_list("group_id", flat=True)
    )
    members = user_model.groups.through.objects.filter(group_id__in=groups).values_list("user_id")
    granted = user_model.user_permissions.through.objects.filter(**review).values_list("user_id")
    managers = FormalCase.objects.filter(senior_manager__isnull=False).values_list(
        "senior_manager_id"
    )
    # One UNION of the three small sets; then the users by key.
    ids = {pk for (pk,) in members.order_by().union(granted.order_by(), managers.order_by())}
    return user_model.objects.filter(pk__in=ids).order_by("name", "email")


# --- The compliance dashboard ----------------------------------------------------------


class _Rates:
    """The shares and ADR outcomes the dashboard's rows and the return's rows both show."""

    @property
    def responded_within_2_working_days_pct(self) -> float | None:
        """COP-12: the share of measured responses sent by the response deadline."""
        return _pct(self.responded_within_2_working_days, self.response_measured)

    @property
    def resolved_within_10_pct(self) -> float | None:
        """COP-14: the share of recorded resolution targets that were met."""
        return _pct(self.resolved_within_10, self.resolution_measured)

    @property
    def adr_outcome_counts(self) -> list[tuple[str, int]]:
        """Return (decision, count) in the order of AdrReferral.Decision."""
        return [(d, self.adr_outcomes.get(d, 0)) for d in DECISIONS]


@dataclass(frozen=True)
class MonthRow(_Rates):
    """The dashboard's figures for one London calendar month and one department.

    `department` is "" on a row that adds up every department. Cohort figures count the
    complaints first made (received) in the month; event figures count what happened in it.
    """

    month: date  # the first day of the month
    department: str
    # Cohort: complaints first made in the month (COP-07).
    received: int = 0
    acknowledged: int = 0
    response_measured: int = 0
    responded_within_2_working_days: int = 0
    resolution_measured: int = 0
    resolved_within_10: int = 0
    # Events in the month.
    auto_closed: int = 0
    escalated_to_formal: int = 0
    adr_letters_sent: int = 0
    deadlocks: int = 0
    adr_referrals: int = 0
    adr_outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def department_label(self) -> str:
        return Department(self.department).label if self.department else "All departments"


COUNTS: tuple[str, ...] = (
    "received",
    "acknowledged",
    "response_measured",
    "responded_within_2_working_days",
    "resolution_measured",
    "resolved_within_10",
    "auto_closed",
    "escalated_to_formal",
    "adr_letters_sent",
    "deadlocks",
    "adr_referrals",
)


@dataclass(frozen=True)
class DepartmentNow:
    """What is open and overdue in a department at the moment the report is run."""

    department: str
    open_now: int = 0
    overdue_now: int = 0

    @property
    def department_label(self) -> str:
        return Department(self.department).label if self.department else "All departments"


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _months(start: date, end: date) -> list[date]:
    """Return the first day of every month from `start`'s to `end`'s, inclusive."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _month_of(when: str, months: list[date]) -> Case:
    """The first day of the London month `when` falls in, among `months` (else NULL).

    Plain comparisons with each month's bounds, which the database does itself: SQLite's
    TruncMonth calls back into Python for every row (8 s for a year at 1M complaints).
    Newest month first: the rows counted live (responses not yet due) are recent, so most
    match the first WHEN instead of the twelfth (18 ms to 6 ms for 6,000 rows on SQLite).
    """
    bounds = [*months, (months[-1] + timedelta(days=32)).replace(day=1)]
    return Case(
        *reversed(
            [
                When(
                    **{f"{when}__gte": _day_start(first), f"{when}__lt": _day_start(after)},
                    then=Value(first),
                )
                for first, after in zip(bounds, bounds[1:], strict=False)
            ]
        ),
        output_field=DateField(),
    )


def dashboard_figures(
    *,
    start: date,
    end: date,
    department: str | None,
    now: datetime | None = None,
    not_yet_due: list[dict] | None = None,
) -> list[MonthRow]:
    """Return one row per London month from `start`'s to `end`'s (inclusive) and department.

    Months are whole calendar months in the office's time zone (Europe/London): the figures
    are kept per month (escalation.figures), so a range starting or ending mid-month counts
    the whole of its first and last months.

    Cohort of the complaints first made in the month (`first_made_at`, COP-07):
      received            complaints first made in the month;
      acknowledged        of those, how many have been acknowledged (`acknowledged_at` set);
      responded_within_2_working_days / response_measured (COP-12)
                          of those whose first response has been sent or is now due
                          (`response_due_at` <= now), how many had their first response
                          sent by `response_due_at`; a response still not due is not yet
                          counted either way;
      resolved_within_10 / resolution_measured (COP-14)
                          of those whose resolution target was recorded as met or missed
                          (`resolution_target_met` not null), how many met it.
    Events in the month:
      auto_closed         complaints closed in the month as deemed resolved (COP-10) and
                          still closed for that reason (a reopened one drops out);
      escalated_to_formal complaints escalated to formal in the month (`formal_at`, COP-11);
      adr_letters_sent    ADR letters (notices of kind adr_letter) written (COP-16);
      deadlocks           deadlock letters (notices of kind deadlock) written (COP-17);
      adr_referrals       referrals to the ADR scheme made in the month (COP-18), and
      adr_outcomes        those referrals by their decision as it stands now.

    Two queries, whatever the number of complaints: the kept monthly figures summed per
    month and department, and the few complaints whose first response is not yet due.
    """
    now = now or timezone.now()
    months = _months(start, end)
    departments = [department] if department else list(Department.values)
    dept = {"department": department} if department else {}
    grid: dict[tuple[date, str], dict] = {
        (month, d): {"adr_outcomes": {}} for month in months for d in departments
    }
    summed = (
        MonthlyFigure.objects.filter(month__gte=months[0], month__lte=months[-1], **dept)
        .values("month", "department")
        .annotate(**{m: Sum(m) for m in MEASURES})
        .order_by()
    )
    for row in summed:
        figures = grid.get((row["month"], row["department"]))
        if figures is not None:  # an unknown department value: nothing to show it under
            figures.update(_month_figures(row))
    if not_yet_due is None:  # else already counted, per month and every dimension
        not_yet_due = list(_not_yet_due(months, now, ("department",), **dept))
    for row in not_yet_due:
        figures = grid.get((row["month"], row["department"]))
        if figures is not None and "response_measured" in figures:
            figures["response_measured"] -= row["not_due"]
    return [MonthRow(month=month, department=d, **figures) for (month, d), figures in grid.items()]


def _month_figures(row: dict) -> dict:
    """The MonthRow fields from one row of summed MonthlyFigure counters."""
    return {
        "received": row["received"],
        "acknowledged": row["acknowledged"],
        # Less the responses not yet due, subtracted by the caller (see _not_yet_due).
        "response_measured": row["received"],
        "responded_within_2_working_days": row["responded_within_2_working_days"],
        "resolution_measured": row["resolution_measured"],
        "resolved_within_10": row["resolved_within_10"],
        "auto_closed": row["auto_closed"],
        "escalated_to_formal": row["escalated_to_formal"],
        "adr_letters_sent": row["adr_letters_sent"],
        "deadlocks": row["deadlocks"],
        "adr_referrals": row["adr_referrals"],
        "adr_outcomes": {d: row[m] for d, m in DECISION_MEASURES.items()},
    }


def _not_yet_due(months: list[date], now: datetime, by: tuple[str, ...], **filters):
    """Complaints first made in `months` not answered and whose response is not yet due,
    counted per month of first_made_at and per `by`: the one figure that depends on `now`.

    Read from the kept counts per response deadline (PendingResponse, escalation.figures):
    the rows whose deadline is still ahead, through the deadline's index. A few rows (a few
    deadlines ahead, times the combinations of department, channel and so on), however
    many complaints are stored or waiting: 60,000 complaints not yet due at 1M complaints
    were 121 ms to count on SQLite, their rows well under a millisecond to sum.
    """
    rows = (
        PendingResponse.objects.filter(
            response_due_at__gt=now,
            month__gte=months[0],
            month__lte=months[-1],
            unanswered__gt=0,
            **filters,
        )
        .values("month", *by)
        .annotate(not_due=Sum("unanswered"))
        .order_by()
    )
    for row in rows:
        yield {"month": row["month"], "not_due": row["not_due"]} | {name: row[name] for name in by}


def dashboard_month_totals(rows: list[MonthRow]) -> list[MonthRow]:
    """Return one row per month adding up the departments' rows (already aggregated)."""
    totals: dict[date, dict] = {}
    for row in rows:
        total = totals.setdefault(row.month, {"adr_outcomes": dict.fromkeys(DECISIONS, 0)})
        for name in COUNTS:
            total[name] = total.get(name, 0) + getattr(row, name)
        for decision, n in row.adr_outcome_counts:
            total["adr_outcomes"][decision] += n
    return [MonthRow(month=month, department="", **figures) for month, figures in totals.items()]


def dashboard_now(*, department: str | None, now: datetime | None = None) -> list[DepartmentNow]:
    """Return, per department, the complaints open now and how many of those are overdue.

    Open: any status but closed and resolved at first contact, from the kept figures (the
    "open" counter of every month; escalation.figures). Overdue: open with the company's
    earliest pending duty (`next_due_at`: the response, a promised call-back or a progress
    update; COP-04, COP-12, COP-13) already past, counted live from the (department,
    next_due_at) index: only the complaints already overdue are read, not every open one.
    One query (the two counts in a UNION ALL).
    """
    now = now or timezone.now()
    departments = [department] if department else list(Department.values)
    kept = (
        MonthlyFigure.objects.filter(department__in=departments, open__gt=0)
        .values("department")
        .annotate(kind=Value("open"), n=Sum("open"))
        .values_list("department", "kind", "n")
        .order_by()
    )
    # department IN (...): each department's range of the index, not a walk of all of it.
    # COUNT(*), not COUNT(id): the id is not in complaint_overdue_idx, and on PostgreSQL
    # counting it reads every overdue row from the table (26 ms at 1M, index only 10 ms).
    overdue = (
        Complaint.objects.open()
        .filter(department__in=departments, next_due_at__lt=now)
        .values("department")
        .annotate(kind=Value("overdue"), n=Count("*"))
        .values_list("department", "kind", "n")
        .order_by()
    )
    found = {(d, kind): n or 0 for d, kind, n in kept.union(overdue, all=True)}
    return [
        DepartmentNow(
            department=d,
            open_now=found.get((d, "open"), 0),
            overdue_now=found.get((d, "overdue"), 0),
        )
        for d in departments
    ]


def dashboard_default_range(*, today: date) -> tuple[date, date]:
    """Return the last 12 months: from the first day of the month 11 months back to today."""
    month = today.month - 11
    year = today.year + (month - 1) // 12
    return date(year, (month - 1) % 12 + 1, 1), today


# --- The yearly return (issue 16 item 6) -----------------------------------------------


@dataclass(frozen=True)
class ReturnRow(_Rates):
    """The return's figures for one group (a department, a channel, a customer type) or,
    with `key` "", for every complaint. Whole London calendar months."""

    key: str
    label: str
    received: int = 0
    response_measured: int = 0
    responded_within_2_working_days: int = 0
    resolution_measured: int = 0
    resolved_within_10: int = 0
    auto_closed: int = 0
    escalated_to_formal: int = 0
    adr_letters_sent: int = 0
    deadlocks: int = 0
    adr_referrals: int = 0
    adr_remedies_completed: int = 0
    remedies: int = 0
    remedy_payments: int = 0
    remedy_pence: int = 0
    remedies_adr: int = 0
    adr_outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def remedies_paid(self) -> Decimal:
        """What the credits, goodwill payments, refunds and compensation came to, in £."""
        return Decimal(self.remedy_pence) / 100

    @property
    def responded_late(self) -> int:
        """First responses sent after the deadline, or due and not sent (COP-12)."""
        return self.response_measured - self.responded_within_2_working_days


RETURN_COUNTS: tuple[str, ...] = (
    "received",
    "response_measured",
    "responded_within_2_working_days",
    "resolution_measured",
    "resolved_within_10",
    "auto_closed",
    "escalated_to_formal",
    "adr_letters_sent",
    "deadlocks",
    "adr_referrals",
    "adr_remedies_completed",
    "remedies",
    "remedy_payments",
    "remedy_pence",
    "remedies_adr",
)


@dataclass(frozen=True)
class ComplaintsReturn:
    """The return for whole months from `first_month` to `last_month` (both first days)."""

    first_month: date
    last_month: date
    total: ReturnRow
    by: dict[str, list[ReturnRow]]  # "department", "channel", ..., "root_cause" -> rows
    # The responses not yet due, per month and every dimension: dashboard_figures takes
    # them, so that a page showing both counts them once.
    not_yet_due: list[dict] = field(default_factory=list, repr=False)

    @property
    def last_day(self) -> date:
        return (self.last_month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


NO_CATEGORY = "No category recorded"
NO_ROOT_CAUSE = "Root cause not recorded"


def _return_groups() -> dict[str, list[tuple]]:
    """Each dimension's (key in the figures, label, key shown), in order: a category or root
    cause by name (the retired ones too, for past months) and shown by its code, with "none
    recorded" last."""
    from accounts.models import CustomerType
    from complaints.models import Category, Channel, RootCause

    def codes(model, none: str) -> list[tuple[int, str, str]]:
        found = model.objects.order_by("ordering", "name").values_list("pk", "name", "code")
        return [*found, (0, none, "")]

    return {
        "department": [(k, label, k) for k, label in Department.choices],
        "channel": [(k, label, k) for k, label in Channel.choices],
        "customer_type": [(k, label, k) for k, label in CustomerType.choices],
        "category": codes(Category, NO_CATEGORY),
        "root_cause": codes(RootCause, NO_ROOT_CAUSE),
    }


def complaints_return(
    *, start: date, end: date, now: datetime | None = None, department: str | None = None
) -> ComplaintsReturn:
    """Return the figures a regulator or the board asks for, for whole London months from
    `start`'s to `end`'s: volumes by department, channel and customer type; first responses
    within 2 working days (COP-12) and late; resolutions within 10 working days (COP-14);
    deemed resolved (COP-10); formal escalations (COP-11); ADR letters (COP-16); deadlock
    letters (COP-17); ADR referrals, their decisions and the accepted remedies carried out
    (COP-18); remedies given and paid. Also by category and root cause (issue 16 item 1).
    The same definitions as the dashboard (dashboard_figures). With `department`, only that
    department's complaints. Four queries: the two code tables, the kept figures, and the
    responses not yet due.
    """
    now = now or timezone.now()
    months = _months(start, end)
    groups = _return_groups()
    dept = {"department": department} if department else {}
    sums: dict[tuple[str, str], dict[str, int]] = {}

    def add(dims: dict, figures: dict) -> None:
        for dimension in ("", *groups):
            key = (dimension, dims[dimension] if dimension else "")
            into = sums.setdefault(key, {})
            for name, n in figures.items():
                into[name] = into.get(name, 0) + n

    summed = (
        MonthlyFigure.objects.filter(month__gte=months[0], month__lte=months[-1], **dept)
        .values(*groups)
        .annotate(**{m: Sum(m) for m in MEASURES})
        .order_by()
    )
    for row in summed:
        figures = {name: row[name] for name in RETURN_COUNTS if name in row}
        figures["response_measured"] = row["received"]
        figures.update({f"decision_{d}": row[m] for d, m in DECISION_MEASURES.items()})
        add(row, figures)
    not_yet_due = list(_not_yet_due(months, now, tuple(groups), **dept))
    for row in not_yet_due:
        add(row, {"response_measured": -row["not_due"]})

    def row_for(dimension: str, key, label: str, shown: str) -> ReturnRow:
        figures = dict(sums.get((dimension, key), {}))
        outcomes = {d: figures.pop(f"decision_{d}", 0) for d in DECISIONS}
        return ReturnRow(key=shown, label=str(label), adr_outcomes=outcomes, **figures)

    return ComplaintsReturn(
        not_yet_due=not_yet_due,
        first_month=months[0],
        last_month=months[-1],
        total=row_for("", "", "All complaints", ""),
        by={
            dimension: [row_for(dimension, *choice) for choice in choices]
            for dimension, choices in groups.items()
        },
    )


def return_default_range(*, today: date) -> tuple[date, date]:
    """The last 12 whole months before the current one."""
    last = today.replace(day=1) - timedelta(days=1)
    return dashboard_default_range(today=last)[0], last


def _grouped(
    queryset: QuerySet, when: str, department: str, months: list[date], **figures
) -> QuerySet:
    """Group `queryset` by London month of `when` and by department, counting `figures`."""
    return (
        queryset.annotate(month=_month_of(when, months))
        .values("month", department)
        .annotate(**figures)
        .order_by()
    )


# --- Remedies and satisfaction (issue 16 items 3 and 4) --------------------------------


@dataclass(frozen=True)
class RemedyTotals:
    """Live remedies given in one month for one group (a department, say): how many, £."""

    month: date
    key: str
    count: int = 0
    money_count: int = 0
    amount: Decimal = Decimal("0.00")
    adr: int = 0


def remedy_totals_by(
    *, start: date, end: date, key: str, department: str | None = None
) -> dict[tuple[date, str], RemedyTotals]:
    """Return the live remedies given from `start` to `end`, per London month and `key`.

    `key` is a field path from Remedy, e.g. "complaint__department". Grouping by another
    key (a root cause, once complaints have one) is this same call with that path: the
    rule of what counts (live, not voided; given in the month; ADR remedies included, as
    rows of kind "adr") stays here. One query.
    """
    start_at, end_at = _day_start(start), _day_start(end + timedelta(days=1))
    months = _months(start, end)
    rows = Remedy.objects.live().filter(given_at__gte=start_at, given_at__lt=end_at)
    if department:
        rows = rows.filter(complaint__department=department)
    found = _grouped(
        rows,
        "given_at",
        key,
        months,
        count=Count("pk"),
        money_count=Count("pk", filter=Q(amount__isnull=False)),
        amount=Sum("amount"),
        adr=Count("pk", filter=Q(kind=RemedyKind.ADR)),
    )
    return {
        (row["month"], row[key]): RemedyTotals(
            month=row["month"],
            key=row[key],
            count=row["count"],
            money_count=row["money_count"],
            amount=row["amount"] or Decimal("0.00"),
            adr=row["adr"],
        )
        for row in found
        if row["month"] is not None
    }


def remedy_totals_by_root_cause(
    *, start: date, end: date, department: str | None = None
) -> list[tuple[str, RemedyTotals]]:
    """Return the live remedies given from `start` to `end` per root cause of their
    complaint, over the whole period, most remedies first; complaints with no root cause
    recorded yet come last as "Root cause not recorded" (issue 16 items 1 and 3). The same
    rule as `remedy_totals_by` (that one query), summed across the months."""
    per_month = remedy_totals_by(
        start=start, end=end, key="complaint__root_cause__name", department=department
    )
    summed: dict[str, RemedyTotals] = {}
    for (_, cause), r in per_month.items():
        name = cause or ""
        s = summed.get(name)
        summed[name] = RemedyTotals(
            month=start,
            key=name,
            count=r.count + (s.count if s else 0),
            money_count=r.money_count + (s.money_count if s else 0),
            amount=r.amount + (s.amount if s else Decimal("0.00")),
            adr=r.adr + (s.adr if s else 0),
        )
    ordered = sorted(summed.values(), key=lambda r: (r.key == "", -r.count, r.key))
    return [(r.key or "Root cause not recorded", r) for r in ordered]


@dataclass(frozen=True)
class SatisfactionRow:
    """The satisfaction answers given in one month for one department (issue 16 item 4)."""

    month: date
    department: str
    responses: int = 0
    score_total: int = 0
    distribution: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)

    @property
    def mean(self) -> float | None:
        return round(self.score_total / self.responses, 2) if self.responses else None


def satisfaction_figures(
    *, start: date, end: date, department: str | None = None
) -> dict[tuple[date, str], SatisfactionRow]:
    """Return the answers given from `start` to `end`, per London month of answering and
    complaint department: how many, their mean and how many of each score. One query."""
    start_at, end_at = _day_start(start), _day_start(end + timedelta(days=1))
    months = _months(start, end)
    rows = SatisfactionResponse.objects.filter(answered_at__gte=start_at, answered_at__lt=end_at)
    if department:
        rows = rows.filter(complaint__department=department)
    found = _grouped(
        rows,
        "answered_at",
        "complaint__department",
        months,
        responses=Count("pk"),
        score_total=Sum("score"),
        **{f"s{n}": Count("pk", filter=Q(score=n)) for n in range(1, 6)},
    )
    return {
        (row["month"], row["complaint__department"]): SatisfactionRow(
            month=row["month"],
            department=row["complaint__department"],
            responses=row["responses"],
            score_total=row["score_total"] or 0,
            distribution=tuple(row[f"s{n}"] for n in range(1, 6)),
        )
        for row in found
        if row["month"] is not None
    }


# --- The same, read from the kept monthly figures (what the dashboard shows) -----------


def _kept(start: date, end: date, department: str | None, by: tuple[str, ...]):
    """The kept remedy and satisfaction counters summed per month (and `by`): one query."""
    months = _months(start, end)
    dept = {"department": department} if department else {}
    measures = (*REMEDY_MEASURES, *SATISFACTION_MEASURES)
    return (
        MonthlyFigure.objects.filter(month__gte=months[0], month__lte=months[-1], **dept)
        .values(*by)
        .annotate(**{m: Sum(m) for m in measures})
        .order_by()
    )


def _remedy_totals(month: date, key, row: dict) -> RemedyTotals:
    return RemedyTotals(
        month=month,
        key=key,
        count=row["remedies"],
        money_count=row["remedy_payments"],
        amount=(Decimal(row["remedy_pence"]) / 100).quantize(Decimal("0.01")),
        adr=row["remedies_adr"],
    )


def kept_remedies_and_satisfaction(
    *, start: date, end: date, department: str | None = None
) -> tuple[dict[tuple[date, str], RemedyTotals], dict[tuple[date, str], SatisfactionRow]]:
    """The remedies given and satisfaction answers per London month and department, from
    the kept figures (issue 16 items 3, 4): the same counts as `remedy_totals_by` and
    `satisfaction_figures` (tests check they agree), at a cost that does not grow with the
    number of remedies or answers. Whole months, as the rest of the dashboard."""
    remedies, answers = {}, {}
    for row in _kept(start, end, department, ("month", "department")):
        key = (row["month"], row["department"])
        if row["remedies"]:
            remedies[key] = _remedy_totals(row["month"], row["department"], row)
        if row["satisfaction_answers"]:
            answers[key] = SatisfactionRow(
                month=row["month"],
                department=row["department"],
                responses=row["satisfaction_answers"],
                score_total=row["satisfaction_score_total"],
                distribution=tuple(row[f"satisfaction_{n}"] for n in SCORES),
            )
    return remedies, answers


def remedies_by_root_cause(figures: ComplaintsReturn) -> list[tuple[str, RemedyTotals]]:
    """`remedy_totals_by_root_cause` from the kept figures, read off a return already
    counted (no query): per root cause over the period, most remedies first, "Root cause
    not recorded" last."""
    summed = [
        RemedyTotals(
            month=figures.first_month,
            key=row.label if row.key else "",
            count=row.remedies,
            money_count=row.remedy_payments,
            amount=row.remedies_paid.quantize(Decimal("0.01")),
            adr=row.remedies_adr,
        )
        for row in figures.by["root_cause"]
        if row.remedies
    ]
    ordered = sorted(summed, key=lambda r: (r.key == "", -r.count, r.key))
    return [(r.key or NO_ROOT_CAUSE, r) for r in ordered]
