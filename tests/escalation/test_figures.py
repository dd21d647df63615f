"""The monthly figures kept in the same transactions as the changes they count (issue 16
item 6, issue 17): after real sequences of operations they equal a count from scratch, the
same count `manage.py rebuild_figures` writes (COP-07, COP-10 to COP-18)."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from accounts.models import CustomerType
from complaints.domain.lifecycle import Status
from complaints.models import Channel, ClosureReason, Complaint, Department, NoticeKind
from complaints.services.notices import notice_send
from escalation.figures import figures_from_scratch, figures_rebuild, figures_stored
from escalation.models import AdrReferral, MonthlyFigure
from escalation.services import adr_decision_record, adr_referral_record, adr_remedy_complete
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make
from tests.escalation import test_reports
from tests.escalation.test_reports import (
    ACCOUNTS,
    TECH,
    at,
    moment,
    move,
    respond,
)

dataset = test_reports.dataset  # the dashboard's worked example, as a fixture here

pytestmark = pytest.mark.django_db


def assert_kept_equals_fresh():
    stored, fresh = figures_stored(), figures_from_scratch()
    assert stored == fresh, {k: (stored[k], fresh[k]) for k in stored.keys() | fresh.keys()}


def stored(month: date, department: str, measure: str, **dims) -> int:
    rows = MonthlyFigure.objects.filter(month=month, department=department, **dims)
    return sum(getattr(row, measure) for row in rows)


def test_the_dashboard_dataset_is_counted_as_it_happens(dataset):
    """Filing, answering in time and late, first-contact resolution, auto-closing and
    reopening, formal escalation, deadlock and ADR letters and referrals over five months
    and two departments: the kept figures equal a fresh count, row for row."""
    assert MonthlyFigure.objects.exists()
    assert_kept_equals_fresh()
    before = set(MonthlyFigure.objects.values_list("month", "department", "channel", "received"))
    figures_rebuild()
    after = set(MonthlyFigure.objects.values_list("month", "department", "channel", "received"))
    assert before == after


def test_a_reopened_auto_closure_drops_out_and_a_second_one_counts_in_its_month():
    with moment(2026, 3, 2, 9, 0):
        complaint = complaint_make(department=TECH)
    respond(complaint, 2026, 3, 2, 10, 0)
    move(complaint, Status.CLOSED, 2026, 3, 17, 0, 0, closure_reason=ClosureReason.DEEMED_RESOLVED)
    assert stored(date(2026, 3, 1), TECH, "auto_closed") == 1
    move(complaint, Status.INVESTIGATING, 2026, 4, 2, 9, 0)  # reopened (COP-10)
    assert stored(date(2026, 3, 1), TECH, "auto_closed") == 0
    respond(complaint, 2026, 4, 3, 9, 0)
    move(complaint, Status.CLOSED, 2026, 4, 20, 0, 0, closure_reason=ClosureReason.DEEMED_RESOLVED)
    assert stored(date(2026, 4, 1), TECH, "auto_closed") == 1
    assert stored(date(2026, 3, 1), TECH, "received") == 1
    assert_kept_equals_fresh()


def test_a_late_first_response_counts_as_measured_but_not_within_two_working_days():
    # Mon 2 Mar 09:00: due Wed 4 Mar 17:00 (COP-12); answered Thu 5 Mar.
    with moment(2026, 3, 2, 9, 0):
        complaint = complaint_make(department=ACCOUNTS, channel=Channel.EMAIL)
    respond(complaint, 2026, 3, 5, 9, 0)
    march = date(2026, 3, 1)
    assert stored(march, ACCOUNTS, "responded", channel=Channel.EMAIL) == 1
    assert stored(march, ACCOUNTS, "responded_within_2_working_days") == 0
    assert_kept_equals_fresh()


def test_adr_referral_decision_and_remedy_move_between_counters():
    """COP-18: a referral counts under its decision as it stands; an accepted remedy counts
    in the month it was carried out."""
    recorder = StaffUserFactory(role="administrator")
    with moment(2026, 1, 5, 9, 0):
        complaint = complaint_make(department=TECH)
    with moment(2026, 3, 20, 9, 0):
        notice_send(complaint=complaint, kind=NoticeKind.ADR_LETTER, deadline_at=at(2026, 3, 20))
        referral = adr_referral_record(
            complaint=complaint, actor=recorder, referred_at=at(2026, 3, 19, 9, 0)
        )
    march = date(2026, 3, 1)
    assert stored(march, TECH, "adr_pending") == 1
    with moment(2026, 4, 10, 9, 0):
        referral = adr_decision_record(
            referral=referral,
            actor=recorder,
            decision=AdrReferral.Decision.UPHELD,
            decided_at=at(2026, 4, 9, 9, 0),
            customer_accepted=True,
            remedy="Refund two months.",
            remedy_due_at=at(2026, 5, 9, 9, 0),
        )
    assert (stored(march, TECH, "adr_pending"), stored(march, TECH, "adr_upheld")) == (0, 1)
    with moment(2026, 4, 20, 9, 0):
        adr_remedy_complete(referral=referral, actor=recorder, note="Refunded.")
    assert stored(date(2026, 4, 1), TECH, "adr_remedies_completed") == 1
    assert stored(march, TECH, "adr_referrals") == 1
    assert_kept_equals_fresh()


def test_moving_a_complaint_to_another_department_moves_all_its_figures():
    recorder = StaffUserFactory(role="administrator")
    with moment(2026, 2, 2, 9, 0):
        complaint = complaint_make(department=TECH)
    move(complaint, Status.FORMAL, 2026, 2, 10, 9, 0)
    with moment(2026, 3, 20, 9, 0):
        notice_send(complaint=complaint, kind=NoticeKind.DEADLOCK, deadline_at=at(2026, 3, 20))
        adr_referral_record(complaint=complaint, actor=recorder, referred_at=at(2026, 3, 20, 9))
    with moment(2026, 3, 21, 9, 0), transaction.atomic():
        locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
        locked.department = ACCOUNTS
        locked.save()
    for measure, month in (
        ("received", date(2026, 2, 1)),
        ("escalated_to_formal", date(2026, 2, 1)),
        ("deadlocks", date(2026, 3, 1)),
        ("adr_referrals", date(2026, 3, 1)),
    ):
        assert (stored(month, TECH, measure), stored(month, ACCOUNTS, measure)) == (0, 1)
    assert_kept_equals_fresh()


def test_a_customer_found_to_be_a_business_moves_their_complaints():
    customer = CustomerFactory(customer_type=CustomerType.UNKNOWN)
    with moment(2026, 2, 2, 9, 0):
        complaint_make(customer=customer)
        complaint_make(customer=customer)
    feb = date(2026, 2, 1)
    assert stored(feb, TECH, "received", customer_type=CustomerType.UNKNOWN) == 2
    customer.customer_type = CustomerType.BUSINESS
    customer.employee_count = 4
    customer.save()
    assert stored(feb, TECH, "received", customer_type=CustomerType.UNKNOWN) == 0
    assert stored(feb, TECH, "received", customer_type=CustomerType.BUSINESS) == 2
    assert_kept_equals_fresh()


def test_the_months_are_london_months():
    # Tue 31 Mar 2026 23:30 BST is 22:30 UTC: a March complaint; 00:30 BST on 1 Apr is April.
    with moment(2026, 3, 31, 23, 30):
        complaint_make(department=TECH)
    with moment(2026, 4, 1, 0, 30):
        complaint_make(department=TECH)
    assert stored(date(2026, 3, 1), TECH, "received") == 1
    assert stored(date(2026, 4, 1), TECH, "received") == 1


def test_rebuild_command_recounts_after_a_bulk_change(capsys):
    with moment(2026, 2, 2, 9, 0):
        complaint = complaint_make(department=TECH)
    Complaint.objects.filter(pk=complaint.pk).update(
        first_made_at=complaint.first_made_at - timedelta(days=40)
    )
    with pytest.raises(SystemExit):
        call_command("rebuild_figures", "--check")
    call_command("rebuild_figures")
    call_command("rebuild_figures", "--check")
    assert "equal a fresh count" in capsys.readouterr().out
    assert stored(date(2025, 12, 1), TECH, "received") == 1
    assert stored(date(2026, 2, 1), TECH, "received") == 0


def test_migrating_to_the_figures_table_counts_the_complaints_already_held(dataset):
    """An upgrade of a database that already holds complaints: the migration that creates
    the figures table is followed by a count from scratch, so the dashboard never shows
    zeros after `migrate` (and a later migrate that applies nothing leaves them alone)."""
    from django.db.migrations.loader import MigrationLoader

    from escalation.figures import figures_after_migrate

    MonthlyFigure.objects.all().delete()
    migration = MigrationLoader(None, ignore_no_migrations=True).get_migration(
        "escalation", "0005_monthly_figures"
    )
    figures_after_migrate(sender=None, plan=[], verbosity=0)
    assert not MonthlyFigure.objects.exists()  # nothing applied: nothing counted
    figures_after_migrate(sender=None, plan=[(migration, True)], verbosity=0)
    assert not MonthlyFigure.objects.exists()  # unapplied (backwards): nothing counted
    figures_after_migrate(sender=None, plan=[(migration, False)], verbosity=0)
    assert MonthlyFigure.objects.exists()
    assert_kept_equals_fresh()


def test_a_root_cause_recorded_at_closing_moves_everything_the_complaint_counted():
    """Issue 16 items 1, 3, 4: by root cause, a case counts as it is understood today: its
    cohort, its letters and referral, its remedies (given before the cause was known) and
    the customer's answer all move to the cause recorded, and a voided remedy drops out."""
    from complaints.models import Category, RemedyKind, RootCause, SatisfactionResponse
    from complaints.services.causes import complaint_categorise, complaint_root_cause_record
    from complaints.services.remedies import remedy_record, remedy_void

    agent = StaffUserFactory(role="support_agent")
    manager = StaffUserFactory(role="senior_manager")
    cause = RootCause.objects.get(code="supplier_fault")
    category = Category.objects.get(code="fault")
    with moment(2026, 2, 2, 9, 0):
        complaint = complaint_make(department=TECH)
        complaint_categorise(
            complaint=complaint, actor=agent, category=category, product=None, reason=""
        )
        remedy_record(
            complaint=complaint, actor=agent, kind=RemedyKind.CREDIT, amount="12.34",
            approved_by=manager,
        )  # fmt: skip
        wrong = remedy_record(
            complaint=complaint, actor=agent, kind=RemedyKind.REFUND, amount="99.00",
            approved_by=manager,
        )  # fmt: skip
        remedy_void(remedy=wrong, actor=agent, reason="Recorded on the wrong case.")
    february = date(2026, 2, 1)
    in_category = {"category": category.pk}
    assert stored(february, TECH, "received", **in_category, root_cause=0) == 1
    assert stored(february, TECH, "remedy_pence", root_cause=0) == 1234
    with moment(2026, 2, 5, 9, 0):
        complaint.refresh_from_db()
        complaint_root_cause_record(
            complaint=complaint, actor=agent, root_cause=cause, company_at_fault=True,
            reason="Openreach fault.",
        )  # fmt: skip
        SatisfactionResponse.objects.create(complaint=complaint, score=4, via="link")
    for measure, n in (("received", 1), ("remedies", 1), ("remedy_pence", 1234)):
        assert stored(february, TECH, measure, root_cause=0) == 0
        assert stored(february, TECH, measure, **in_category, root_cause=cause.pk) == n
    assert stored(february, TECH, "satisfaction_4", root_cause=cause.pk) == 1
    assert_kept_equals_fresh()


def test_the_kept_remedies_and_answers_equal_the_live_count():
    """What the dashboard reads (the kept figures) equals the count over the rows."""
    from complaints.models import Department, SatisfactionResponse
    from complaints.services.remedies import remedy_record
    from escalation.reports import (
        complaints_return,
        kept_remedies_and_satisfaction,
        remedies_by_root_cause,
        remedy_totals_by,
        remedy_totals_by_root_cause,
        satisfaction_figures,
    )

    agent = StaffUserFactory(role="support_agent")
    manager = StaffUserFactory(role="senior_manager")
    for day, department, amount, score in (
        (3, TECH, "10.00", 1),
        (4, TECH, None, 5),
        (5, ACCOUNTS, "0.01", 3),
    ):
        with moment(2026, 3, day, 10, 0):
            complaint = complaint_make(department=department)
            remedy_record(
                complaint=complaint, actor=agent, kind="refund" if amount else "apology",
                amount=amount, approved_by=manager if amount else None,
            )  # fmt: skip
            SatisfactionResponse.objects.create(complaint=complaint, score=score, via="link")
    span = {"start": date(2026, 1, 1), "end": date(2026, 3, 31)}
    for department in (None, Department.TECHNICAL_SUPPORT):
        remedies, answers = kept_remedies_and_satisfaction(**span, department=department)
        assert remedies == remedy_totals_by(
            **span, key="complaint__department", department=department
        )
        assert answers == satisfaction_figures(**span, department=department)
        counted = complaints_return(**span, department=department)
        assert remedies_by_root_cause(counted) == remedy_totals_by_root_cause(
            **span, department=department
        )


def _not_yet_due_live(now) -> int:
    """The responses not yet due, counted from the complaints (what PendingResponse keeps)."""
    return Complaint.objects.filter(
        first_responded_at__isnull=True, response_due_at__gt=now
    ).count()


def test_a_response_not_yet_due_is_read_from_the_kept_deadlines_up_to_the_second_it_falls_due(
    client,
):
    """COP-12: Mon 2 Mar 2026 09:00, due Wed 4 Mar 17:00. Until 17:00 it is not measured; at
    17:00 it is due and, unanswered, measured and missed; the dashboard and the return read
    the kept count per deadline, which equals the count from the complaints at each moment."""
    from escalation.models import PendingResponse
    from escalation.reports import complaints_return, dashboard_figures

    with moment(2026, 3, 2, 9, 0):
        late = complaint_make(department=TECH, channel=Channel.EMAIL)
        answered = complaint_make(department=TECH, channel=Channel.EMAIL)
    assert late.response_due_at == at(2026, 3, 4, 17, 0)
    assert PendingResponse.objects.get(response_due_at=late.response_due_at).unanswered == 2
    respond(answered, 2026, 3, 3, 10, 0)  # in time: no longer pending
    assert PendingResponse.objects.get(response_due_at=late.response_due_at).unanswered == 1
    assert_kept_equals_fresh()
    march = date(2026, 3, 1)
    login = StaffUserFactory(role="senior_manager")
    client.force_login(login)
    for now, live, measured in (
        (at(2026, 3, 4, 16, 59, 59, 999999), 1, (1, 1)),  # a microsecond before: not yet due
        (at(2026, 3, 4, 17, 0), 0, (1, 2)),  # the deadline itself: due, and missed
        (at(2026, 3, 5, 9, 0), 0, (1, 2)),
    ):
        assert _not_yet_due_live(now) == live
        (row,) = dashboard_figures(start=march, end=march, department=TECH, now=now)
        assert (row.responded_within_2_working_days, row.response_measured) == measured
        total = complaints_return(start=march, end=march, now=now).total
        assert (total.responded_within_2_working_days, total.response_measured) == measured
        with time_machine.travel(now, tick=False):
            page = client.get(reverse("reports:return"), {"start": march, "end": march})
        assert f"{measured[0]} of {measured[1]} (" in " ".join(page.content.decode().split())


def test_open_now_is_kept_through_closing_and_reopening():
    """The dashboard's "open now" is the kept "open" counter summed over every month; it
    follows a close (deemed resolved, COP-10), a reopening and a first-contact resolution,
    and equals the complaints counted by status."""
    from escalation.reports import dashboard_now

    with moment(2026, 3, 2, 9, 0):
        first = complaint_make(department=TECH)
        complaint_make(department=ACCOUNTS)
    with moment(2026, 4, 1, 9, 0):
        third = complaint_make(department=TECH)
    move(third, Status.RESOLVED_AT_FIRST_CONTACT, 2026, 4, 1, 9, 30)
    respond(first, 2026, 3, 3, 9, 0)
    move(first, Status.CLOSED, 2026, 3, 17, 0, 0, closure_reason=ClosureReason.DEEMED_RESOLVED)

    def by_status() -> dict:
        return {d: Complaint.objects.open().filter(department=d).count() for d in (TECH, ACCOUNTS)}

    now = at(2026, 4, 2, 9, 0)
    assert {n.department: n.open_now for n in dashboard_now(department=None, now=now)} == {
        TECH: 0,
        ACCOUNTS: 1,
        Department.COMPANY_SECRETARY: 0,
    }
    assert by_status() == {TECH: 0, ACCOUNTS: 1}
    move(first, Status.INVESTIGATING, 2026, 4, 2, 9, 0)  # reopened
    assert [n.open_now for n in dashboard_now(department=TECH, now=now)] == [1]
    assert by_status() == {TECH: 1, ACCOUNTS: 1}
    # Overdue is still counted live: the second's response was due Wed 4 Mar 17:00.
    assert [n.overdue_now for n in dashboard_now(department=ACCOUNTS, now=now)] == [1]
    assert_kept_equals_fresh()
