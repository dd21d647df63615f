"""The complaints return for a regulator or the board (issue 16 item 6): the figures, the
printable page, the CSV and the API, for managers only (COP-07, COP-10 to COP-18)."""

import csv
import io
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from accounts.roles import Role
from complaints.models import Complaint
from escalation.figures import figures_rebuild
from escalation.reports import complaints_return, dashboard_figures, return_default_range
from tests.accounts.factories import StaffUserFactory
from tests.api import conftest as api_fixtures
from tests.escalation import test_reports
from tests.escalation.test_reports import (
    NOW,
    at,
)

dataset = test_reports.dataset  # the dashboard's worked example, as a fixture here
api_client = api_fixtures.api_client
_fresh_rate_limits = api_fixtures._fresh_rate_limits

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.escalation.test_reports")]

JAN, MAY = date(2026, 1, 1), date(2026, 5, 31)


def login(client, role="senior_manager"):
    client.force_login(StaffUserFactory(role=role))


def test_the_return_counts_the_dataset_by_hand(dataset):
    """January to May 2026 (the dataset's comments): eight complaints, five of eight first
    responses within 2 working days, six of seven targets met, one deemed resolved, three
    formal escalations, one ADR letter, one deadlock, two referrals (upheld, not accepted)."""
    figures = complaints_return(start=JAN, end=MAY, now=NOW)
    total = figures.total
    assert total.received == 8
    assert (total.responded_within_2_working_days, total.response_measured) == (5, 8)
    assert total.responded_late == 3
    assert total.responded_within_2_working_days_pct == 62.5
    assert (total.resolved_within_10, total.resolution_measured) == (6, 7)
    assert total.auto_closed == 1
    assert total.escalated_to_formal == 3
    assert (total.adr_letters_sent, total.deadlocks, total.adr_referrals) == (1, 1, 2)
    assert {d: n for d, n in total.adr_outcome_counts if n} == {"upheld": 1, "not_accepted": 1}
    by_department = {row.key: row.received for row in figures.by["department"]}
    assert by_department == {"technical_support": 5, "accounts": 3, "company_secretary": 0}


def test_each_grouping_adds_up_to_the_total_and_to_the_dashboard(dataset):
    figures = complaints_return(start=JAN, end=MAY, now=NOW)
    months = dashboard_figures(start=JAN, end=MAY, department=None, now=NOW)
    for name in ("received", "response_measured", "resolved_within_10", "adr_referrals"):
        expected = getattr(figures.total, name)
        assert sum(getattr(r, name) for r in months) == expected
        for dimension, rows in figures.by.items():
            assert sum(getattr(r, name) for r in rows) == expected, (dimension, name)


def test_a_response_not_yet_due_is_not_counted_in_the_return(dataset):
    # Suppose E1 (first made Fri 1 May, due Wed 6 May 17:00) had not been answered.
    e1 = dataset["complaints"]["E1"]
    Complaint.objects.filter(pk=e1.pk).update(first_responded_at=None)
    figures_rebuild()
    may = date(2026, 5, 1)
    early = complaints_return(start=may, end=MAY, now=at(2026, 5, 1, 9, 0)).total
    assert (early.response_measured, early.responded_late) == (0, 0)
    late = complaints_return(start=may, end=MAY, now=at(2026, 5, 7, 9, 0)).total
    assert (late.response_measured, late.responded_late) == (1, 1)


def test_default_range_is_the_last_twelve_whole_months():
    assert return_default_range(today=date(2026, 6, 10)) == (date(2025, 6, 1), date(2026, 5, 31))
    assert return_default_range(today=date(2026, 1, 1)) == (date(2025, 1, 1), date(2025, 12, 31))


def test_the_page_is_printable_and_shows_the_figures(client, dataset):
    login(client)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("reports:return"), {"start": "2026-01-01", "end": MAY})
    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    assert "January 2026 to May 2026" in text
    assert "5 of 8 (62.5%)" in text
    assert "6 of 7 (85.7%)" in text
    assert "Download the return as CSV" in text
    assert 'class="report-filters no-print"' in text  # hidden on paper by staff.css
    assert "By customer type" in text and "By channel" in text and "By department" in text


def test_the_page_explains_a_period_it_cannot_use(client):
    login(client)
    with time_machine.travel(NOW, tick=False):
        backwards = client.get(reverse("reports:return"), {"start": "2026-05-01", "end": JAN})
        nonsense = client.get(reverse("reports:return"), {"start": "31/31/2026"})
        too_long = client.get(reverse("reports:return"), {"start": "2020-01-01", "end": MAY})
    assert "Choose a date on or after" in backwards.content.decode()
    assert "Enter a valid date" in nonsense.content.decode()
    assert "at most 60 months" in too_long.content.decode()
    # Shown instead: the last 12 whole months.
    assert "June 2025 to May 2026" in " ".join(backwards.content.decode().split())


def test_the_csv_has_the_same_figures(client, dataset):
    login(client)
    with time_machine.travel(NOW, tick=False):
        response = client.get(
            reverse("reports:return"), {"start": "2026-01-01", "end": MAY, "format": "csv"}
        )
    assert response["Content-Disposition"] == (
        'attachment; filename="complaints-return-202601-202605.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    header, total = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:3] == ["Group", "Value", "Received"]
    assert total["Group"] == "Total" and total["Received"] == "8"
    assert total["% responded within 2 working days"] == "62.5"
    assert total["ADR decision: upheld"] == "1"
    groups = {row[0] for row in rows[2:]}
    assert groups == {"Department", "Channel", "Customer type", "Category", "Root cause"}


@pytest.mark.parametrize("role", ["support_agent", "accounts_agent", "company_secretary"])
def test_staff_without_every_department_are_refused(client, role):
    login(client, role)
    assert client.get(reverse("reports:return")).status_code == 403


def test_the_api_gives_the_same_figures_to_a_manager_key(api_client, dataset):
    manager = api_client(Role.SENIOR_MANAGER, scopes=("read",))
    with time_machine.travel(NOW, tick=False):
        response = manager.get("/api/v1/reports/return/", {"start": "2026-01-01", "end": MAY})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["from_month"], body["to_month"]) == ("2026-01", "2026-05")
    assert body["total"]["received"] == 8
    assert body["total"]["responded_within_2_working_days_pct"] == 62.5
    assert body["total"]["adr_decisions"]["not_accepted"] == 1
    assert [r["key"] for r in body["by_channel"]][:1] == ["phone"]


def test_the_api_refuses_a_bad_period_and_an_agent_key(api_client):
    manager = api_client(Role.SENIOR_MANAGER, scopes=("read",))
    bad = manager.get("/api/v1/reports/return/", {"start": "2026-05-01", "end": "2026-01-01"})
    assert bad.status_code == 400
    assert "Choose a date on or after" in bad.content.decode()
    agent = api_client(Role.SUPPORT_AGENT, scopes=("read",))
    assert agent.get("/api/v1/reports/return/").status_code == 403
