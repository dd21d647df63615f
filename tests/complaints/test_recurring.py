"""Recurring problems (issue 16 item 2): N cases of one root cause, or of one category and
product, in M working days alert the managers once per burst (Ofcom GC C4 complaints handling)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.roles import Role
from complaints.models import Category, Product, RecurringProblemAlert, RootCause, StaffAlert
from complaints.services.causes import complaint_categorise, complaint_root_cause_record
from complaints.services.recurring import recurring_problems_check
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

LONDON = ZoneInfo("Europe/London")
# Monday 7 Dec 2026; with the settings below the window is today and the 2 working days
# before it: from midnight on Thursday 3 Dec.
MONDAY = datetime(2026, 12, 7, 10, 0, tzinfo=LONDON)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_window(settings):
    settings.REDRESS_RECURRING_THRESHOLD = 3
    settings.REDRESS_RECURRING_WINDOW_WORKING_DAYS = 3


@pytest.fixture
def agent():
    return StaffUserFactory(role=Role.SUPPORT_AGENT)


def with_cause(agent, at: datetime, code: str = "system_error"):
    """A complaint made and given a root cause at `at`."""
    with time_machine.travel(at, tick=False):
        complaint = complaint_make(first_made_at=at)
        complaint_root_cause_record(
            complaint=complaint,
            actor=agent,
            root_cause=RootCause.objects.get(code=code),
            company_at_fault=True,
            reason="Found the cause.",
            now=at,
        )
    return complaint


def with_category(agent, at: datetime, category="billing", product="broadband"):
    with time_machine.travel(at, tick=False):
        complaint = complaint_make(first_made_at=at)
        complaint_categorise(
            complaint=complaint,
            actor=agent,
            category=Category.objects.get(code=category),
            product=Product.objects.get(code=product) if product else None,
            reason="Triage.",
        )
    return complaint


def check(at: datetime, **kwargs):
    with time_machine.travel(at, tick=False):
        return recurring_problems_check(now=at, **kwargs)


def test_one_case_short_of_the_threshold_raises_nothing(agent):
    for hours in (1, 2):
        with_cause(agent, MONDAY - timedelta(days=3, hours=-hours))
    assert check(MONDAY) == []
    assert not RecurringProblemAlert.objects.exists()
    assert not StaffAlert.objects.filter(kind="recurring_problem").exists()


def test_the_threshold_raises_one_alert_listing_the_cases_for_managers(agent):
    cases = [with_cause(agent, MONDAY - timedelta(hours=h)) for h in (3, 2, 1)]
    lines = check(MONDAY)
    alert = RecurringProblemAlert.objects.get(kind="root_cause")
    assert alert.key == "system_error"
    assert alert.references == [c.reference for c in cases]
    assert alert.burst_started_at == MONDAY - timedelta(hours=1)  # the third case
    assert alert.ended_at is None
    for case in cases:
        assert case.reference in alert.message
    staff = StaffAlert.objects.get(kind="recurring_problem")
    assert staff.audience == StaffAlert.Audience.MANAGERS
    assert staff.complaint_id == cases[-1].pk
    assert staff.message == alert.message
    assert len(lines) == 1 and lines[0].startswith("alerted managers")


def test_running_twice_or_after_downtime_raises_nothing_more(agent):
    for h in (3, 2, 1):
        with_cause(agent, MONDAY - timedelta(hours=h))
    check(MONDAY)
    assert check(MONDAY) == []
    # Beat was down; by Wednesday a fourth case came, and the burst is still on.
    with_cause(agent, MONDAY + timedelta(days=1))
    assert check(MONDAY + timedelta(days=2)) == []
    assert RecurringProblemAlert.objects.count() == 1
    assert StaffAlert.objects.filter(kind="recurring_problem").count() == 1


def test_a_burst_that_ended_and_started_again_raises_a_second_alert(agent):
    for h in (3, 2, 1):
        with_cause(agent, MONDAY - timedelta(hours=h))
    check(MONDAY)
    # By Thursday the window starts on Tuesday: Monday's cases have left it.
    thursday = MONDAY + timedelta(days=3)
    lines = check(thursday)
    assert len(lines) == 1 and lines[0].startswith("ended")
    first = RecurringProblemAlert.objects.get()
    assert first.ended_at == thursday
    again = [with_cause(agent, thursday + timedelta(hours=h)) for h in (1, 2, 3)]
    check(thursday + timedelta(hours=4))
    second = RecurringProblemAlert.objects.exclude(pk=first.pk).get()
    assert second.references == [c.reference for c in again]
    assert StaffAlert.objects.filter(kind="recurring_problem").count() == 2


def test_category_and_product_are_grouped_together(agent):
    for h in (3, 2):
        with_category(agent, MONDAY - timedelta(hours=h))
    with_category(agent, MONDAY - timedelta(hours=1), product="mobile")
    assert check(MONDAY) == []
    with_category(agent, MONDAY - timedelta(minutes=30))
    check(MONDAY)
    alert = RecurringProblemAlert.objects.get(kind="category_product")
    assert alert.key == "billing/broadband"
    assert len(alert.references) == 3


def test_cases_outside_the_window_are_ignored(agent):
    # Wednesday 2 Dec is before the window (Thu, Fri, Mon).
    with_cause(agent, datetime(2026, 12, 2, 16, 0, tzinfo=LONDON))
    with_cause(agent, datetime(2026, 12, 3, 0, 0, tzinfo=LONDON))
    with_cause(agent, datetime(2026, 12, 4, 12, 0, tzinfo=LONDON))
    assert check(MONDAY) == []
    with_cause(agent, MONDAY - timedelta(hours=1))
    check(MONDAY)
    assert len(RecurringProblemAlert.objects.get().references) == 3


def test_a_dry_run_says_would_and_changes_nothing(agent):
    for h in (3, 2, 1):
        with_cause(agent, MONDAY - timedelta(hours=h))
    lines = check(MONDAY, dry_run=True)
    assert len(lines) == 1 and lines[0].startswith("would alert managers")
    assert not RecurringProblemAlert.objects.exists()


def test_the_command_calls_the_same_check(agent, capsys):
    for h in (3, 2, 1):
        with_cause(agent, MONDAY - timedelta(hours=h))
    with time_machine.travel(MONDAY, tick=False):
        call_command("recurring_problems", "--dry-run")
        assert "would alert managers" in capsys.readouterr().out
        call_command("recurring_problems")
        assert "alerted managers" in capsys.readouterr().out
        call_command("recurring_problems")
        assert "No new recurring problems." in capsys.readouterr().out
    assert RecurringProblemAlert.objects.count() == 1


def _queries(at) -> int:
    with CaptureQueriesContext(connection) as queries:
        check(at)
    return len(queries)


def test_the_query_count_does_not_grow_with_the_complaints(agent):
    for h in (3, 2, 1):
        with_cause(agent, MONDAY - timedelta(hours=h))
        with_category(agent, MONDAY - timedelta(hours=h))
    few = _queries(MONDAY)
    few_again = _queries(MONDAY + timedelta(minutes=1))
    for h in range(12):
        with_cause(agent, MONDAY + timedelta(minutes=2 + h))
        with_category(agent, MONDAY + timedelta(minutes=2 + h))
    assert _queries(MONDAY + timedelta(minutes=30)) == few_again
    assert few <= 12


def test_managers_read_the_alerts_in_the_admin_and_nobody_deletes_them(agent, client):
    from django.urls import reverse

    for h in (3, 2, 1):
        with_cause(agent, MONDAY - timedelta(hours=h))
    check(MONDAY)
    alert = RecurringProblemAlert.objects.get()
    url = reverse("admin:complaints_recurringproblemalert_changelist")
    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    client.force_login(manager)
    page = client.get(url)
    assert page.status_code == 200
    assert alert.references[0] in page.content.decode()
    delete = reverse("admin:complaints_recurringproblemalert_delete", args=[alert.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert RecurringProblemAlert.objects.filter(pk=alert.pk).exists()
    client.force_login(agent)
    assert client.get(url).status_code == 403
