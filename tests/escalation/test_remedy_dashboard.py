"""The dashboard's remedy and satisfaction figures equal a count from scratch (issue 16)."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from complaints.models import Department, Remedy, SatisfactionResponse
from complaints.services.desk import complaint_escalate
from complaints.services.remedies import remedy_record, remedy_void
from escalation.models import AdrReferral
from escalation.reports import remedy_totals_by, satisfaction_figures
from escalation.services import adr_decision_record, adr_referral_record
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def test_remedy_and_satisfaction_figures_equal_a_count_from_scratch():
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    november = datetime(2026, 11, 10, 12, 0, tzinfo=LONDON)
    december = datetime(2026, 12, 2, 12, 0, tzinfo=LONDON)
    with time_machine.travel(december + timedelta(days=3), tick=False):
        tech = complaint_make(department=Department.TECHNICAL_SUPPORT)
        accounts = complaint_make(department=Department.ACCOUNTS)
        remedy_record(complaint=tech, actor=agent, kind="apology", given_at=november)
        remedy_record(
            complaint=tech, actor=agent, kind="refund", amount="19.99", approved_by=manager,
            given_at=november,
        )  # fmt: skip
        wrong = remedy_record(
            complaint=tech, actor=agent, kind="credit", amount="500", approved_by=manager,
            given_at=november,
        )  # fmt: skip
        remedy_void(remedy=wrong, actor=agent, reason="Wrong case.")
        remedy_record(
            complaint=accounts, actor=agent, kind="goodwill", amount="5.01", approved_by=manager,
            given_at=december,
        )  # fmt: skip
        complaint_escalate(complaint=accounts, actor=manager, requested="not_specified", reason="x")
        referral = adr_referral_record(complaint=accounts, actor=manager, referred_at=november)
        adr_decision_record(
            referral=referral, actor=manager, decision=AdrReferral.Decision.UPHELD,
            decided_at=december, customer_accepted=True, remedy="Apologise in writing.",
            remedy_due_at=december + timedelta(days=14),
        )  # fmt: skip
        SatisfactionResponse.objects.create(
            complaint=tech, score=2, via="link", answered_at=december
        )
        SatisfactionResponse.objects.create(
            complaint=accounts, score=5, via="portal", answered_at=december
        )
        totals = remedy_totals_by(
            start=date(2026, 11, 1), end=date(2026, 12, 31), key="complaint__department"
        )
        answers = satisfaction_figures(start=date(2026, 11, 1), end=date(2026, 12, 31))

    # From scratch: every live remedy, in Python.
    expected = {}
    for r in Remedy.objects.live().select_related("complaint"):
        month = timezone.localtime(r.given_at).date().replace(day=1)
        key = (month, r.complaint.department)
        count, money, amount, adr = expected.get(key, (0, 0, Decimal("0"), 0))
        expected[key] = (
            count + 1,
            money + (r.amount is not None),
            amount + (r.amount or 0),
            adr + (r.kind == "adr"),
        )
    got = {k: (v.count, v.money_count, v.amount, v.adr) for k, v in totals.items()}
    assert got == expected
    assert got[(date(2026, 11, 1), "technical_support")] == (2, 1, Decimal("19.99"), 0)
    assert got[(date(2026, 12, 1), "accounts")] == (2, 1, Decimal("5.01"), 1)
    assert answers[(date(2026, 12, 1), "technical_support")].distribution == (0, 1, 0, 0, 0)
    assert answers[(date(2026, 12, 1), "accounts")].mean == 5


def test_the_dashboard_shows_the_tables(client):
    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    complaint = complaint_make()
    remedy_record(
        complaint=complaint, actor=manager, kind="compensation", amount="1234.50",
        approved_by=manager,
    )  # fmt: skip
    SatisfactionResponse.objects.create(complaint=complaint, score=4, via="link")
    client.force_login(manager)
    body = client.get(reverse("reports:dashboard")).content.decode()
    assert 'id="remedies"' in body and "£1,234.50" in body
    assert 'id="satisfaction"' in body


def test_the_dashboard_csv_carries_the_remedy_and_satisfaction_columns(client):
    import csv
    import io

    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    day = datetime(2026, 11, 10, 12, 0, tzinfo=LONDON)
    with time_machine.travel(day, tick=False):
        complaint = complaint_make(department=Department.ACCOUNTS)
        remedy_record(
            complaint=complaint, actor=manager, kind="refund", amount="42.50",
            approved_by=manager,
        )  # fmt: skip
        remedy_record(complaint=complaint, actor=manager, kind="apology")
        SatisfactionResponse.objects.create(complaint=complaint, score=4, via="link")
        SatisfactionResponse.objects.create(
            complaint=complaint_make(department=Department.ACCOUNTS), score=1, via="link"
        )
        client.force_login(manager)
        response = client.get(
            reverse("reports:dashboard"),
            {"start": "2026-11-01", "end": "2026-11-30", "department": "accounts", "format": "csv"},
        )
    (header, row) = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    line = dict(zip(header, row, strict=True))
    assert (line["Month"], line["Received"]) == ("2026-11", "2")
    assert line["Remedies given"] == "2"
    assert line["Payments (credit, goodwill, refund, compensation)"] == "1"
    assert line["Paid (GBP)"] == "42.50"
    assert (line["Satisfaction answers"], line["Mean satisfaction (1 to 5)"]) == ("2", "2.50")


def test_remedies_are_totalled_by_root_cause_on_the_dashboard(client):
    """Issue 16 items 1 and 3: what the remedies cost, by why the complaints happened;
    complaints without a root cause yet are shown apart, last; voided remedies never count."""
    from complaints.models import RootCause
    from complaints.services.causes import complaint_root_cause_record
    from escalation.reports import remedy_totals_by_root_cause

    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    cause = RootCause.objects.filter(active=True).order_by("pk").first()
    day = datetime(2026, 11, 10, 12, 0, tzinfo=LONDON)
    with time_machine.travel(day, tick=False):
        caused = [complaint_make(department=Department.TECHNICAL_SUPPORT) for _ in range(2)]
        for c in caused:
            complaint_root_cause_record(
                complaint=c, actor=agent, root_cause=cause, company_at_fault=True, reason="x"
            )
            remedy_record(
                complaint=c, actor=agent, kind="credit", amount="10.50", approved_by=manager
            )
        unknown = complaint_make(department=Department.ACCOUNTS)
        remedy_record(complaint=unknown, actor=agent, kind="apology")
        voided = remedy_record(
            complaint=unknown, actor=agent, kind="refund", amount="99", approved_by=manager
        )
        remedy_void(remedy=voided, actor=agent, reason="Recorded twice.")
        rows = remedy_totals_by_root_cause(start=date(2026, 11, 1), end=date(2026, 11, 30))
        assert [(label, r.count, r.money_count, r.amount) for label, r in rows] == [
            (cause.name, 2, 2, Decimal("21.00")),
            ("Root cause not recorded", 1, 0, Decimal("0.00")),
        ]
        client.force_login(manager)
        page = client.get(
            reverse("reports:dashboard"), {"start": "2026-11-01", "end": "2026-11-30"}
        )
    assert page.status_code == 200
    html = page.content.decode()
    table = html[html.index('id="remedies-by-cause"') :]
    table = table[: table.index("</table>")]
    assert cause.name in table and "£21.00" in table and "Root cause not recorded" in table


def test_the_dashboard_counts_complaints_by_category_and_root_cause(client):
    """Issue 16 items 1 and 6: why complaints happen, beside how they were handled."""
    from complaints.models import Category, RootCause
    from complaints.services.causes import complaint_categorise, complaint_root_cause_record

    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    billing = Category.objects.get(code="billing")
    cause = RootCause.objects.get(code="system_error")
    with time_machine.travel(datetime(2026, 11, 10, 12, 0, tzinfo=LONDON), tick=False):
        for _ in range(3):
            complaint = complaint_make(department=Department.ACCOUNTS)
            complaint_categorise(
                complaint=complaint, actor=agent, category=billing, product=None, reason=""
            )
        complaint_root_cause_record(
            complaint=complaint, actor=agent, root_cause=cause, company_at_fault=True, reason="x"
        )
        complaint_make(department=Department.ACCOUNTS)  # not yet categorised
        client.force_login(manager)
        html = client.get(
            reverse("reports:dashboard"), {"start": "2026-11-01", "end": "2026-11-30"}
        ).content.decode()

    def table(table_id):
        part = html[html.index(f'id="{table_id}"') :]
        return " ".join(part[: part.index("</table>")].split())

    by_category = table("by-category")
    assert '<th scope="row">Billing</th> <td class="num">3</td>' in by_category
    assert '<th scope="row">No category recorded</th> <td class="num">1</td>' in by_category
    by_cause = table("by-root-cause")
    assert '<th scope="row">System error</th> <td class="num">1</td>' in by_cause
    assert '<th scope="row">Root cause not recorded</th> <td class="num">3</td>' in by_cause
