"""Staff reports: the complaints register (COP-15), the compliance dashboard and the return.

Each reads through escalation.reports and exports what it shows as CSV (`?format=csv`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import staff_required
from complaints.models import Department
from complaints.paging import paged
from escalation import charts
from escalation.models import AdrReferral, FormalCase
from escalation.reports import (
    NOT_REFERRED,
    ComplaintsReturn,
    MonthRow,
    RegisterFilters,
    ReturnRow,
    complaints_return,
    dashboard_default_range,
    dashboard_figures,
    dashboard_month_totals,
    dashboard_now,
    kept_remedies_and_satisfaction,
    register_rows,
    register_senior_managers,
    remedies_by_root_cause,
    return_default_range,
)

REGISTER_PERMISSIONS = ("complaints.review_formal", "complaints.view_all_departments")
DASHBOARD_PERMISSIONS = ("complaints.view_all_departments",)
PAGE_SIZE = 50
# Longest date range the dashboard accepts: a row per month and department.
MAX_MONTHS = 60
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _require_any(user, permissions: Iterable[str]) -> None:
    if not any(user.has_perm(p) for p in permissions):
        raise PermissionDenied


def csv_cell(value) -> str:
    """Return `value` as CSV text that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow([csv_cell(v) for v in row])


def _csv_response(rows: Iterable[Iterable], *, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(_csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _prepend(first, rest: Iterable) -> Iterator:
    yield first
    yield from rest


def _local(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return timezone.localtime(moment).strftime(fmt) if moment else ""


def _page_context(request, *, title: str) -> dict:
    """Return the admin's page furniture (header, user links) plus the page title."""
    return {**admin.site.each_context(request), "title": title}


# --- The complaints register -----------------------------------------------------------


class RegisterFilterForm(forms.Form):
    """The register's filters, sent by GET."""

    q = forms.CharField(label="Reference", required=False, max_length=40)
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Any"), *FormalCase.Outcome.choices]
    )
    senior_manager = forms.ModelChoiceField(
        label="Senior manager", required=False, queryset=None, empty_label="Anyone"
    )
    adr = forms.ChoiceField(
        label="ADR",
        required=False,
        choices=[("", "Any"), (NOT_REFERRED, "Not referred"), *AdrReferral.Decision.choices],
    )
    opened_from = forms.DateField(
        label="Opened from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    opened_to = forms.DateField(
        label="Opened to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["senior_manager"].queryset = register_senior_managers()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("opened_from"), cleaned.get("opened_to")
        if start and end and start > end:
            self.add_error("opened_to", "Choose a date on or after the “opened from” date.")
        return cleaned

    def filters(self) -> RegisterFilters:
        """Return the filters from the fields that are valid; invalid ones do not filter."""
        if not self.is_bound:
            return RegisterFilters()
        self.is_valid()
        data = self.cleaned_data
        manager = data.get("senior_manager")
        return RegisterFilters(
            outcome=data.get("outcome") or "",
            senior_manager_id=manager.pk if manager else None,
            adr_decision=data.get("adr") or "",
            opened_from=data.get("opened_from"),
            opened_to=data.get("opened_to"),
            search=data.get("q") or "",
        )


REGISTER_COLUMNS = (
    "Register reference",
    "Complaint reference",
    "Customer",
    "Opened",
    "Customer asked for",
    "Senior manager",
    "Outcome",
    "Final proposition sent",
    "ADR status",
    "Referred to ADR",
    "Scheme reference",
)


def _adr(case: FormalCase) -> AdrReferral | None:
    try:
        return case.complaint.adr_referral
    except AdrReferral.DoesNotExist:
        return None


def _register_line(case: FormalCase) -> list[str]:
    referral = _adr(case)
    return [
        case.register_reference,
        case.complaint.reference,
        case.complaint.customer.name,
        _local(case.opened_at),
        case.get_requested_display(),
        str(case.senior_manager) if case.senior_manager else "",
        case.get_outcome_display(),
        _local(case.final_proposition_sent_at),
        referral.get_decision_display() if referral else "Not referred",
        _local(referral.referred_at, "%Y-%m-%d") if referral else "",
        referral.scheme_reference if referral else "",
    ]


@require_GET
@staff_required
def register(request):
    """List every formal complaint with its register reference (COP-15), filtered and paged.

    The page shows 50 rows at a time; `?format=csv` exports every row the filters match.
    """
    _require_any(request.user, REGISTER_PERMISSIONS)
    form = RegisterFilterForm(request.GET or None)
    rows = register_rows(filters=form.filters())
    if request.GET.get("format") == "csv":
        lines = (_register_line(case) for case in rows.iterator(chunk_size=2000))
        stamp = timezone.localdate().strftime("%Y%m%d")
        return _csv_response(
            _prepend(REGISTER_COLUMNS, lines), filename=f"complaints-register-{stamp}.csv"
        )
    listed = paged(request, rows, per_page=PAGE_SIZE)
    return render(
        request,
        "escalation/register.html",
        {
            **_page_context(request, title="Complaints register"),
            "form": form,
            "paged": listed,
            "page": listed.page,
            "cases": [(case, _adr(case)) for case in listed.page.object_list],
        },
    )


# --- The compliance dashboard ----------------------------------------------------------


class DashboardForm(forms.Form):
    """The dashboard's date range (the last 12 months unless chosen) and department, by GET."""

    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    department = forms.ChoiceField(
        label="Department", required=False, choices=[("", "All departments"), *Department.choices]
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        cleaned = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return cleaned
        end = cleaned.get("end") or self.today
        start = cleaned.get("start") or dashboard_default_range(today=end)[0]
        if start > end:
            self.add_error("end", "Choose a date on or after the “from” date.")
        elif (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
            self.add_error("start", f"Choose a range of at most {MAX_MONTHS} months.")
        else:
            cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def choice(self) -> tuple[date, date, str | None]:
        """Return the range and department asked for; the last 12 months unless valid."""
        if self.is_bound and self.is_valid():
            data = self.cleaned_data
            return data["start"], data["end"], data.get("department") or None
        start, end = dashboard_default_range(today=self.today)
        department = self.cleaned_data.get("department") if self.is_bound else None
        return start, end, department or None


DECISION_HEADERS = {
    AdrReferral.Decision.PENDING: "pending",
    AdrReferral.Decision.UPHELD: "upheld",
    AdrReferral.Decision.PARTLY_UPHELD: "partly upheld",
    AdrReferral.Decision.NOT_UPHELD: "not upheld",
    AdrReferral.Decision.NOT_ACCEPTED_FOR_REVIEW: "not accepted",
}

DASHBOARD_COLUMNS = (
    "Month",
    "Department",
    "Received",
    "Acknowledged",
    "First response measured",
    "Responded within 2 working days",
    "% responded within 2 working days",
    "Resolution target recorded",
    "Resolved within 10 working days",
    "% resolved within 10 working days",
    "Auto-closed (deemed resolved)",
    "Escalated to formal",
    "ADR letters sent",
    "Deadlock letters",
    "ADR referrals",
    *(f"ADR decision: {DECISION_HEADERS[d]}" for d in AdrReferral.Decision.values),
    "Remedies given",
    "Payments (credit, goodwill, refund, compensation)",
    "Paid (GBP)",
    "ADR remedies accepted",
    "Satisfaction answers",
    "Mean satisfaction (1 to 5)",
)


def _dashboard_line(row: MonthRow, remedy: dict, satisfaction: dict) -> list:
    def pct(value):
        return "" if value is None else f"{value:.1f}"

    return [
        row.month.strftime("%Y-%m"),
        row.department_label,
        row.received,
        row.acknowledged,
        row.response_measured,
        row.responded_within_2_working_days,
        pct(row.responded_within_2_working_days_pct),
        row.resolution_measured,
        row.resolved_within_10,
        pct(row.resolved_within_10_pct),
        row.auto_closed,
        row.escalated_to_formal,
        row.adr_letters_sent,
        row.deadlocks,
        row.adr_referrals,
        *(n for _, n in row.adr_outcome_counts),
        remedy["count"],
        remedy["money_count"],
        f"{remedy['amount']:.2f}",
        remedy["adr"],
        satisfaction["responses"],
        "" if satisfaction["mean"] is None else f"{satisfaction['mean']:.2f}",
    ]


def _dashboard_charts(totals: list[MonthRow], *, scope: str) -> list[dict]:
    """Return the dashboard's charts (title and SVG) drawn from the month totals."""
    labels = [row.month.strftime("%b %Y") for row in totals]
    received = [row.received for row in totals]
    within = [row.responded_within_2_working_days_pct for row in totals]
    received_title = f"Complaints received per month ({scope})"
    within_title = f"% of first responses sent within 2 working days ({scope}, COP-12)"
    return [
        {
            "title": received_title,
            "svg": charts.bar_chart(
                chart_id="chart-received",
                title=received_title,
                description="; ".join(f"{m}: {n}" for m, n in zip(labels, received, strict=True))
                + ".",
                bars=list(zip(labels, received, strict=True)),
            ),
        },
        {
            "title": within_title,
            "svg": charts.bar_chart(
                chart_id="chart-responded",
                title=within_title,
                description="; ".join(
                    f"{m}: {'no responses due' if p is None else f'{p:g}%'}"
                    for m, p in zip(labels, within, strict=True)
                )
                + ".",
                bars=list(zip(labels, within, strict=True)),
                unit="%",
                max_value=100,
            ),
        },
    ]


@require_GET
@staff_required
def dashboard(request):
    """Show the Code's figures per month and department, open and overdue now, and charts."""
    _require_any(request.user, DASHBOARD_PERMISSIONS)
    now = timezone.now()
    form = DashboardForm(request.GET or None, today=timezone.localdate(now))
    start, end, department = form.choice()
    csv_wanted = request.GET.get("format") == "csv"
    # The page's figures by category and root cause count the responses not yet due by
    # every dimension; the month-by-department table reuses that count (one query, not two).
    by_cause = (
        None
        if csv_wanted
        else complaints_return(start=start, end=end, now=now, department=department)
    )
    rows = dashboard_figures(
        start=start,
        end=end,
        department=department,
        now=now,
        not_yet_due=by_cause.not_yet_due if by_cause else None,
    )
    totals = dashboard_month_totals(rows)
    if department:
        table = rows
    else:  # each month's departments, then their total
        table = []
        for total in totals:
            table.extend(row for row in rows if row.month == total.month)
            table.append(total)
    extra = _remedies_and_satisfaction(start, end, department, table)
    if csv_wanted:
        stamp = f"{start:%Y%m%d}-{end:%Y%m%d}"
        lines = (
            _dashboard_line(row, remedy, answers)
            for row, remedy, answers in zip(
                table, extra["remedy_rows"], extra["satisfaction_rows"], strict=True
            )
        )
        return _csv_response(
            _prepend(DASHBOARD_COLUMNS, lines),
            filename=f"complaints-dashboard-{department or 'all'}-{stamp}.csv",
        )
    scope = Department(department).label if department else "all departments"
    return render(
        request,
        "escalation/dashboard.html",
        {
            **_page_context(request, title="Compliance dashboard"),
            "form": form,
            "start": start,
            "end": end,
            "department": department,
            "table": table,
            "now": now,
            "open_now": dashboard_now(department=department, now=now),
            "charts": _dashboard_charts(totals, scope=scope),
            "decision_headers": [DECISION_HEADERS[d] for d in AdrReferral.Decision.values],
            **extra,
            "remedies_by_cause": remedies_by_root_cause(by_cause),
            "by_cause_tables": _by_cause_tables(by_cause),
        },
    )


# --- The return (issue 16 item 6) ------------------------------------------------------

RETURN_PERMISSIONS = DASHBOARD_PERMISSIONS  # the same people as the dashboard


class ReturnForm(forms.Form):
    """The return's period, by GET: whole months from the "from" date's to the "to" date's.

    Unless chosen, the last 12 whole months before the current one.
    """

    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self):
        cleaned = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return cleaned
        default_start, default_end = return_default_range(today=self.today)
        end = cleaned.get("end") or (self.today if cleaned.get("start") else default_end)
        start = cleaned.get("start") or dashboard_default_range(today=end)[0]
        if start > end:
            self.add_error("end", "Choose a date on or after the “from” date.")
        elif (end.year - start.year) * 12 + end.month - start.month >= MAX_MONTHS:
            self.add_error("start", f"Choose a range of at most {MAX_MONTHS} months.")
        else:
            cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def choice(self) -> tuple[date, date]:
        """Return the range asked for; the last 12 whole months unless it is valid."""
        if self.is_bound and self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        return return_default_range(today=self.today)


RETURN_GROUPS = {
    "department": "Department",
    "channel": "Channel",
    "customer_type": "Customer type",
    "category": "Category",
    "root_cause": "Root cause",
}

RETURN_COLUMNS = (
    "Group",
    "Value",
    "Received",
    "First responses measured",
    "Responded within 2 working days",
    "Responded late or not yet",
    "% responded within 2 working days",
    "Resolution target recorded",
    "Resolved within 10 working days",
    "% resolved within 10 working days",
    "Deemed resolved (auto-closed)",
    "Formal escalations",
    "ADR letters sent",
    "Deadlock letters",
    "ADR referrals",
    *(f"ADR decision: {DECISION_HEADERS[d]}" for d in AdrReferral.Decision.values),
    "Accepted ADR remedies carried out",
    "Remedies given",
    "Payments (credit, goodwill, refund, compensation)",
    "Paid (GBP)",
)


def _pct_cell(value) -> str:
    return "" if value is None else f"{value:.1f}"


def _return_line(group: str, row: ReturnRow) -> list:
    return [
        group,
        row.label,
        row.received,
        row.response_measured,
        row.responded_within_2_working_days,
        row.responded_late,
        _pct_cell(row.responded_within_2_working_days_pct),
        row.resolution_measured,
        row.resolved_within_10,
        _pct_cell(row.resolved_within_10_pct),
        row.auto_closed,
        row.escalated_to_formal,
        row.adr_letters_sent,
        row.deadlocks,
        row.adr_referrals,
        *(n for _, n in row.adr_outcome_counts),
        row.adr_remedies_completed,
        row.remedies,
        row.remedy_payments,
        f"{row.remedies_paid:.2f}",
    ]


def return_lines(figures: ComplaintsReturn) -> Iterator[list]:
    """The return as CSV rows: the total, then each group's rows."""
    yield RETURN_COLUMNS
    yield _return_line("Total", figures.total)
    for dimension, heading in RETURN_GROUPS.items():
        for row in figures.by[dimension]:
            yield _return_line(heading, row)


def return_as_data(figures: ComplaintsReturn) -> dict:
    """The return as JSON-ready data (the API's body), with the same figures as the page."""

    def row(r: ReturnRow) -> dict:
        return {
            "key": r.key,
            "label": r.label,
            "received": r.received,
            "first_responses_measured": r.response_measured,
            "responded_within_2_working_days": r.responded_within_2_working_days,
            "responded_late": r.responded_late,
            "responded_within_2_working_days_pct": r.responded_within_2_working_days_pct,
            "resolution_target_recorded": r.resolution_measured,
            "resolved_within_10_working_days": r.resolved_within_10,
            "resolved_within_10_working_days_pct": r.resolved_within_10_pct,
            "deemed_resolved": r.auto_closed,
            "formal_escalations": r.escalated_to_formal,
            "adr_letters_sent": r.adr_letters_sent,
            "deadlock_letters": r.deadlocks,
            "adr_referrals": r.adr_referrals,
            "adr_decisions": dict(r.adr_outcome_counts),
            "adr_remedies_carried_out": r.adr_remedies_completed,
            "remedies_given": r.remedies,
            "remedy_payments": r.remedy_payments,
            "remedies_paid_gbp": f"{r.remedies_paid:.2f}",
        }

    return {
        "from_month": figures.first_month.strftime("%Y-%m"),
        "to_month": figures.last_month.strftime("%Y-%m"),
        "time_zone": "Europe/London",
        "total": row(figures.total),
        **{f"by_{dimension}": [row(r) for r in rows] for dimension, rows in figures.by.items()},
    }


@require_GET
@staff_required
def complaints_return_page(request):
    """The return for a regulator or the board: a printable page, or `?format=csv`."""
    _require_any(request.user, RETURN_PERMISSIONS)
    now = timezone.now()
    form = ReturnForm(request.GET or None, today=timezone.localdate(now))
    start, end = form.choice()
    figures = complaints_return(start=start, end=end, now=now)
    if request.GET.get("format") == "csv":
        stamp = f"{figures.first_month:%Y%m}-{figures.last_month:%Y%m}"
        return _csv_response(return_lines(figures), filename=f"complaints-return-{stamp}.csv")
    return render(
        request,
        "escalation/return.html",
        {
            **_page_context(request, title="Complaints return"),
            "form": form,
            "figures": figures,
            "groups": [(RETURN_GROUPS[d], rows) for d, rows in figures.by.items()],
            "now": now,
            "decision_headers": [DECISION_HEADERS[d] for d in AdrReferral.Decision.values],
            "total_decisions": [
                (DECISION_HEADERS[d], n) for d, n in figures.total.adr_outcome_counts
            ],
        },
    )


def _by_cause_tables(figures: ComplaintsReturn) -> list[tuple[str, str, list[ReturnRow]]]:
    """The dashboard's figures by category and by root cause (issue 16 items 1 and 6), from
    the kept figures, as the return counts them; groups with nothing received or paid in
    the period are left out."""

    def shown(rows):
        return [r for r in rows if r.received or r.remedies or r.escalated_to_formal]

    return [
        ("By category", "by-category", shown(figures.by["category"])),
        ("By root cause", "by-root-cause", shown(figures.by["root_cause"])),
    ]


def _remedies_and_satisfaction(start, end, department, table) -> dict:
    """The remedy and satisfaction tables' rows, in the figures table's order (issue 16)."""
    remedies, answers = kept_remedies_and_satisfaction(start=start, end=end, department=department)
    remedy_rows, satisfaction_rows = [], []
    for row in table:
        month, dept = row.month, row.department
        if dept:
            r = remedies.get((month, dept))
            a = answers.get((month, dept))
            r_list = [r] if r else []
            a_list = [a] if a else []
        else:  # the month's total of every department
            r_list = [v for (m, _), v in remedies.items() if m == month]
            a_list = [v for (m, _), v in answers.items() if m == month]
        responses = sum(a.responses for a in a_list)
        total = sum(a.score_total for a in a_list)
        remedy_rows.append(
            {
                "month": month,
                "label": row.department_label,
                "total": not dept,
                "count": sum(r.count for r in r_list),
                "money_count": sum(r.money_count for r in r_list),
                "amount": sum((r.amount for r in r_list), Decimal("0.00")),
                "adr": sum(r.adr for r in r_list),
            }
        )
        satisfaction_rows.append(
            {
                "month": month,
                "label": row.department_label,
                "total": not dept,
                "responses": responses,
                "mean": round(total / responses, 2) if responses else None,
                "distribution": [sum(a.distribution[i] for a in a_list) for i in range(5)],
            }
        )
    return {"remedy_rows": remedy_rows, "satisfaction_rows": satisfaction_rows}
