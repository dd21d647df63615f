"""Categories, products and root causes (issue 16 item 1): the close rule, the auto-close
(COP-10) that still closes onto the "Root cause missing" queue, the desk and the API."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.roles import Role
from complaints.domain.causes import AT_FAULT_NEEDED, ROOT_CAUSE_NEEDED, close_problems
from complaints.domain.lifecycle import Status
from complaints.models import CaseEvent, Category, Complaint, Department, Product, RootCause
from complaints.selectors import complaints_root_cause_missing, complaints_visible_to
from complaints.services.causes import complaint_categorise, complaint_root_cause_record
from complaints.services.enforcement import deadlines_sweep
from complaints.services.responses import complaint_respond
from complaints.services.transitions import complaint_close
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)


def test_the_close_rule_names_what_is_missing():
    assert close_problems(has_root_cause=False, company_at_fault=None) == {
        "root_cause": ROOT_CAUSE_NEEDED,
        "company_at_fault": AT_FAULT_NEEDED,
    }
    assert close_problems(has_root_cause=True, company_at_fault=False) == {}


def responded(**kwargs) -> Complaint:
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(**kwargs)
        complaint_respond(
            complaint=complaint,
            actor=None,
            findings="The router firmware was out of date.",
            fault_found=True,
            remedy_done="We updated it remotely.",
        )
    complaint.refresh_from_db()
    return complaint


@pytest.mark.django_db
def test_the_seeded_codes_are_there():
    assert Category.objects.filter(code="billing", active=True).exists()
    assert Product.objects.filter(code="broadband").exists()
    assert RootCause.objects.filter(code="no_fault_found").exists()


@pytest.mark.django_db
def test_staff_cannot_close_without_a_root_cause_and_an_at_fault_answer():
    complaint = responded()
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    with pytest.raises(ValidationError) as refused:
        complaint_close(
            complaint=complaint, actor=agent, closure_reason="customer_satisfied", reason=""
        )
    assert ROOT_CAUSE_NEEDED in refused.value.messages
    assert AT_FAULT_NEEDED in refused.value.messages
    complaint.refresh_from_db()
    assert complaint.status == Status.RESPONDED

    complaint_root_cause_record(
        complaint=complaint,
        actor=agent,
        root_cause=RootCause.objects.get(code="supplier_fault"),
        company_at_fault=True,
        reason="Openreach missed the appointment.",
    )
    complaint_close(
        complaint=complaint, actor=agent, closure_reason="customer_satisfied", reason=""
    )
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED
    assert complaint.root_cause_recorded_by == agent
    event = complaint.events.get(kind=CaseEvent.Kind.ROOT_CAUSE)
    assert event.actor == agent and event.reason == "Openreach missed the appointment."
    assert event.extra["root_cause"] == "supplier_fault" and event.extra["company_at_fault"]


@pytest.mark.django_db
def test_setting_the_category_is_recorded_with_who_and_what_it_was():
    complaint = complaint_make()
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    complaint_categorise(
        complaint=complaint,
        actor=agent,
        category=Category.objects.get(code="fault"),
        product=Product.objects.get(code="broadband"),
    )
    complaint_categorise(
        complaint=complaint,
        actor=agent,
        category=Category.objects.get(code="fault"),
        product=Product.objects.get(code="broadband"),
    )  # the same again changes nothing
    events = list(complaint.events.filter(kind=CaseEvent.Kind.CATEGORISED))
    assert len(events) == 1
    assert events[0].extra == {
        "category": "fault",
        "product": "broadband",
        "was": {"category": None, "product": None},
    }


@pytest.mark.django_db
def test_auto_close_still_closes_and_the_case_waits_on_its_departments_queue():
    """COP-10: the 10-day auto-close is never refused; the missing root cause is queued."""
    tech = responded(department=Department.TECHNICAL_SUPPORT)
    billing = responded(department=Department.ACCOUNTS)
    with time_machine.travel(datetime(2026, 12, 11, 0, 0, tzinfo=LONDON), tick=False):
        deadlines_sweep()
    tech.refresh_from_db()
    assert tech.status == Status.CLOSED and tech.closure_reason == "deemed_resolved"

    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    mine = complaints_root_cause_missing(complaints_visible_to(agent))
    assert list(mine) == [tech]
    everyone = complaints_root_cause_missing(complaints_visible_to(manager))
    assert set(everyone) == {tech, billing}

    client = Client()
    client.force_login(agent)
    page = client.get(reverse("admin:complaints_complaint_changelist") + "?queue=cause_missing")
    assert page.status_code == 200
    assert tech.reference in page.text and billing.reference not in page.text

    # Recording it afterwards takes the case off the queue; it stays closed.
    complaint_root_cause_record(
        complaint=tech,
        actor=agent,
        root_cause=RootCause.objects.get(code="no_fault_found"),
        company_at_fault=False,
    )
    assert not complaints_root_cause_missing(complaints_visible_to(agent)).exists()
    tech.refresh_from_db()
    assert tech.status == Status.CLOSED


@pytest.mark.django_db
def test_the_desk_close_form_shows_what_is_missing():
    complaint = responded()
    client = Client()
    client.force_login(StaffUserFactory(role=Role.SUPPORT_AGENT))
    url = reverse("admin:complaints_complaint_action", args=[complaint.pk, "close"])
    page = client.post(url, {"version": complaint.version, "closure_reason": "customer_satisfied"})
    assert page.status_code == 200
    assert ROOT_CAUSE_NEEDED in page.text
    complaint.refresh_from_db()
    assert complaint.status == Status.RESPONDED
