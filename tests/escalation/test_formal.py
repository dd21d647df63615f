"""A complaint from the portal to the ADR remedy: every letter and every clock (COP-05 to 18)."""

import re
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from complaints.domain.lifecycle import Status
from complaints.models import Complaint, Notice, NoticeKind, StaffAlert
from complaints.services.responses import complaint_respond
from escalation.models import AdrReferral, FormalCase
from escalation.services import adr_remedies_chase
from tests.accounts.factories import CustomerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def letter_text(complaint, kind) -> str:
    """Extract the text of the PDF letter of one notice, as a reader would see it."""
    notice = Notice.objects.get(complaint=complaint, kind=kind)
    with notice.letter.file.open("rb") as f:
        text = " ".join(page.extract_text() for page in PdfReader(BytesIO(f.read())).pages)
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def people():
    customer = CustomerFactory(
        with_user=True, name="Grace Hopper", email="grace@example.com", customer_type="consumer"
    )
    customer.email_confirmed_at = at(2026, 11, 1, 9, 0)
    customer.save()
    director = StaffUserFactory(role="technical_director", name="Tess Director")
    StaffUserFactory(role="senior_manager", name="Sid Manager")
    agent = StaffUserFactory(role="support_agent", name="Sam Support")
    return customer, director, agent


def test_the_whole_journey(people):
    customer, director, agent = people
    portal = Client()
    portal.force_login(customer.user)

    # 1. Filed on the portal (COP-01, COP-05).
    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        portal.post(
            reverse("complaints:complain"),
            {"token": "journey0000000001", "about": "technical_support",
             "subject": "Line drops nightly", "description": "Every night at 7pm.",
             "preferred_contact_method": "email", "customer_type": "consumer"},
        )  # fmt: skip
    complaint = Complaint.objects.get()
    ack = letter_text(complaint, NoticeKind.ACKNOWLEDGEMENT)
    assert complaint.reference in ack
    assert "Wednesday 25 November 2026 at 5pm" in ack  # response due, 2 working days
    assert "technical support team" in ack

    # 2. Our response (COP-09) starts the customer's 10 working days (COP-10).
    with time_machine.travel(at(2026, 11, 24, 15, 0), tick=False):
        complaint_respond(
            complaint=complaint, actor=agent, findings="Noise on the line at the cabinet.",
            fault_found=True, remedy_done="Openreach re-jointed the cable.",
        )  # fmt: skip
    complaint.refresh_from_db()
    assert complaint.auto_close_at == at(2026, 12, 9, 0, 0)
    response = letter_text(complaint, NoticeKind.RESPONSE)
    assert "Noise on the line at the cabinet." in response
    assert "end of Tuesday 8 December 2026" in response

    # 3. Still not satisfied: formal, with a register reference and a reviewer (COP-11, 15).
    adr_before = complaint.adr_eligible_at
    with time_machine.travel(at(2026, 11, 30, 9, 0), tick=False):
        portal.post(
            reverse("complaints:complaint-escalate", args=[complaint.reference]),
            {"requested": "technical_director", "reason": "It dropped again last night."},
        )
    complaint.refresh_from_db()
    case = FormalCase.objects.get()
    assert complaint.status == Status.FORMAL and complaint.auto_close_at is None
    assert complaint.adr_eligible_at == adr_before == at(2027, 1, 18, 10, 0)
    assert case.register_reference == "FCR-2026-0001"
    assert case.senior_manager == director and complaint.assignee == director
    opened = letter_text(complaint, NoticeKind.FORMAL_OPENED)
    assert "FCR-2026-0001" in opened and complaint.reference in opened
    assert "Tess Director, our Technical Director" in opened

    # 4. The review and the final proposition, with the deadlock letter unasked (COP-15, 17).
    desk = Client()
    desk.force_login(director)
    detail = reverse("escalation:formal-detail", args=[case.register_reference])
    page = desk.get(detail).content.decode()
    assert "It dropped again last night." in page and "Noise on the line" in page
    with time_machine.travel(at(2026, 12, 2, 11, 0), tick=False):
        refused = desk.post(
            reverse("escalation:formal-final-proposition", args=[case.register_reference]),
            follow=True,
        )
        assert "Record the review" in refused.content.decode()
        desk.post(
            detail,
            {"version": case.version, "further_investigation": "Line test over 5 days.",
             "findings": "An intermittent fault in the exchange card.",
             "proposed_action": "Replace the card and credit one month's line rental."},
        )  # fmt: skip
        desk.post(reverse("escalation:formal-final-proposition", args=[case.register_reference]))
    case.refresh_from_db()
    complaint.refresh_from_db()
    assert case.outcome == FormalCase.Outcome.FINAL_PROPOSITION
    assert complaint.status == Status.CLOSED and complaint.closure_reason == "final_proposition"
    final = letter_text(complaint, NoticeKind.FINAL_PROPOSITION)
    assert "An intermittent fault in the exchange card." in final
    assert "credit one month's line rental" in final
    assert "final proposition" in final
    # By email, the deadlock letter is received when sent; 6 months from then is later than
    # 9 months from first made? 23 Aug 2027 vs 2 Jun 2027: the later wins (COP-18).
    assert complaint.deadlock_letter_received_at == at(2026, 12, 2, 11, 0)
    assert complaint.osc_deadline_at == at(2027, 8, 23, 10, 0)
    deadlock = letter_text(complaint, NoticeKind.DEADLOCK)
    assert "deadlock" in deadlock.lower()
    assert "Ombudsman Services: Communications" in deadlock
    assert "PO Box 730, Warrington WA4 6WU" in deadlock
    assert "enquiries@os-communications.org" in deadlock
    assert "Monday 23 August 2027 at 10am" in deadlock

    # The review cannot start again: the customer's next step is the ombudsman.
    portal.force_login(customer.user)  # sessions last two weeks; back at today's date
    escalate = reverse("complaints:complaint-escalate", args=[complaint.reference])
    assert (
        "I am still not satisfied"
        not in portal.get(
            reverse("complaints:complaint-detail", args=[complaint.reference])
        ).content.decode()
    )
    portal.post(escalate, {"requested": "company_secretary", "reason": "again"})
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED

    # The customer sees the letters and that they may go to the ombudsman now.
    detail_page = portal.get(
        reverse("complaints:complaint-detail", args=[complaint.reference])
    ).content.decode()
    assert "You can now ask Ombudsman Services: Communications" in detail_page
    assert "Formal complaint reference <strong>FCR-2026-0001</strong>" in detail_page
    assert detail_page.count("download") >= 5

    # 5. ADR referral, decision accepted, remedy chased until done (COP-18).
    with time_machine.travel(at(2026, 12, 10, 10, 0), tick=False):
        desk.force_login(director)  # sessions last two weeks; the clock has moved on
        desk.post(
            reverse("escalation:formal-adr-referral", args=[case.register_reference]),
            {"referred_at": "2026-12-09T14:00", "scheme_reference": "OS-123456"},
        )
    with time_machine.travel(at(2027, 1, 20, 10, 0), tick=False):
        desk.force_login(director)
        desk.post(
            reverse("escalation:formal-adr-decision", args=[case.register_reference]),
            {"decision": "upheld", "decided_at": "2027-01-19T12:00", "customer_accepted": "true",
             "remedy": "Pay £50 compensation.", "remedy_due_at": "2027-02-02T17:00"},
        )  # fmt: skip
    referral = AdrReferral.objects.get()
    assert (referral.scheme_reference, referral.decision, referral.customer_accepted) == (
        "OS-123456", "upheld", True,
    )  # fmt: skip
    assert adr_remedies_chase(now=at(2027, 2, 2, 16, 59)) == []
    assert adr_remedies_chase(now=at(2027, 2, 3, 9, 0)) == [
        f"{complaint.reference} ADR remedy overdue: chased managers"
    ]
    assert adr_remedies_chase(now=at(2027, 2, 3, 15, 0)) == []  # once a day
    assert adr_remedies_chase(now=at(2027, 2, 4, 9, 0)) != []
    with time_machine.travel(at(2027, 2, 4, 11, 0), tick=False):
        desk.force_login(director)
        desk.post(
            reverse("escalation:formal-adr-remedy-done", args=[case.register_reference]),
            {"note": "£50 paid by BACS."},
        )
    assert adr_remedies_chase(now=at(2027, 2, 5, 9, 0)) == []
    assert StaffAlert.objects.filter(kind="adr_remedy").count() == 2
    history = " ".join(complaint.events.values_list("reason", flat=True))
    for step in ("Referred to the ADR scheme", "ADR decision: Upheld", "ADR remedy completed"):
        assert step in history


def test_a_deadlock_letter_on_request_starts_the_window_at_once(people):
    customer, director, _ = people
    from complaints.services.desk import complaint_escalate
    from tests.complaints.factories import complaint_make

    with time_machine.travel(at(2026, 11, 23, 10, 0), tick=False):
        complaint = complaint_make(customer=customer)
        complaint_escalate(complaint=complaint, actor=None, requested="not_specified", reason="x")
    case = FormalCase.objects.get()
    assert case.senior_manager.name == "Sid Manager"  # nobody asked for: a senior manager
    desk = Client()
    desk.force_login(director)
    with time_machine.travel(at(2026, 12, 1, 10, 0), tick=False):
        desk.post(
            reverse("escalation:formal-deadlock", args=[case.register_reference]),
            {"reason": "We have done all we can."},
        )
    complaint.refresh_from_db()
    assert complaint.deadlock_letter_received_at == at(2026, 12, 1, 10, 0)
    assert "We have done all we can." in letter_text(complaint, NoticeKind.DEADLOCK)


def test_a_deadlock_letter_by_post_counts_from_its_delivery(people):
    customer, director, _ = people
    from escalation.services import deadlock_letter_issue
    from tests.complaints.factories import complaint_make

    customer.preferred_contact_method = "post"
    customer.postal_address = "1 Mill Lane"
    customer.save()
    with time_machine.travel(at(2026, 12, 24, 10, 0), tick=False):
        complaint = complaint_make(customer=customer)
        deadlock_letter_issue(complaint=complaint, actor=director, reason="No more.")
    complaint.refresh_from_db()
    # Posted Thu 24 Dec: 25 and 28 Dec are bank holidays, so received 09:00 Wed 30 Dec.
    assert complaint.deadlock_letter_received_at == at(2026, 12, 30, 9, 0)


ROLES = {
    "support_agent": 403,
    "accounts_agent": 403,
    "senior_manager": 200,
    "technical_director": 200,
    "company_secretary": 200,
    "administrator": 200,
}


@pytest.mark.parametrize("role, status", ROLES.items())
def test_only_senior_managers_and_above_act_on_formal_cases(people, role, status):
    customer, _, _ = people
    from complaints.services.desk import complaint_escalate
    from tests.complaints.factories import complaint_make

    complaint = complaint_make(customer=customer)
    complaint_escalate(complaint=complaint, actor=None, requested="company_secretary", reason="x")
    case = FormalCase.objects.get()
    client = Client()
    client.force_login(StaffUserFactory(role=role))
    assert client.get(reverse("escalation:formal-list")).status_code == status
    detail = reverse("escalation:formal-detail", args=[case.register_reference])
    assert client.get(detail).status_code == status
    response = client.post(
        reverse("escalation:formal-deadlock", args=[case.register_reference]), {"reason": "r"}
    )
    assert response.status_code == (302 if status == 200 else 403)
    complaint.refresh_from_db()
    assert bool(complaint.deadlock_letter_received_at) == (status == 200)


def test_customers_and_anonymous_visitors_are_sent_to_the_staff_login(people):
    customer, _, _ = people
    for client in (Client(), _logged_in(customer.user)):
        response = client.get(reverse("escalation:formal-list"))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def _logged_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_register_references_are_unique_when_many_escalate_at_once():
    from escalation.services import formal_register_reference_next

    refs = {formal_register_reference_next(year=2026) for _ in range(30)}
    assert len(refs) == 30 and "FCR-2026-0030" in refs
