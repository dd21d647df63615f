"""Recorded needs on the portal and the desk (issue 15 item 1; Ofcom GC C5).

The customer tells us, reads, corrects and withdraws on "Your needs and how we contact
you"; staff record needs told by phone or letter, see a staff-only badge in the queue and
at the top of the case, and work the review queue. Customers never see the badge.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from accounts.models import CustomerNeeds, CustomerNeedsEvent
from accounts.needs import needs_record
from complaints.models import CaseEvent
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
NEEDS = reverse("accounts:needs")
WITHDRAW = reverse("accounts:needs_withdraw")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def portal_form(**overrides) -> dict:
    data = {
        "kinds": ["hearing", "call_time"],
        "details": "I use a hearing aid.",
        "call_times": "Weekdays after 2pm",
        "communication_format": "email_text",
        "consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- The portal ---------------------------------------------------------------------------


def test_a_customer_tells_us_reads_corrects_and_withdraws_their_needs():
    """Issue 15 item 1: every step on the portal, consent the customer's own act."""
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    client = signed_in(customer.user)
    page = client.get(NEEDS)
    assert page.status_code == 200
    assert "We do not hold any needs for you" in page.content.decode()

    response = client.post(NEEDS, portal_form())
    assert response.status_code == 302
    page = client.get(NEEDS).content.decode()
    assert "I use a hearing aid." in page and "Weekdays after 2pm" in page
    assert "by you on this website" in page
    assert "23 November 2027" in page  # the review date a year on
    needs = CustomerNeeds.objects.get(customer=customer)
    assert needs.recorded_by is None and needs.consent_how == "portal"

    client.post(NEEDS, portal_form(kinds=["hearing"], call_times="", details=""))
    needs.refresh_from_db()
    assert needs.kinds == ["hearing"] and needs.details == ""

    assert "Delete my needs" in client.get(WITHDRAW).content.decode()
    response = client.post(WITHDRAW)
    assert response.status_code == 302
    assert not CustomerNeeds.objects.filter(customer=customer).exists()
    assert "We do not hold any needs for you" in client.get(NEEDS).content.decode()
    kinds = CustomerNeedsEvent.objects.filter(customer=customer).values_list("kind", flat=True)
    assert list(kinds) == ["recorded", "changed", "withdrawn"]
    reasons = " ".join(
        CaseEvent.objects.filter(complaint=complaint).values_list("reason", flat=True)
    )
    assert "hearing aid" not in reasons.lower() and "2pm" not in reasons


def test_without_consent_nothing_is_saved_and_the_page_says_why():
    customer = CustomerFactory(confirmed=True)
    response = signed_in(customer.user).post(NEEDS, portal_form(consent=None))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Tick the box to agree" in body and "Error:" in body
    assert "I use a hearing aid." in body  # what was typed is kept on the page
    assert not CustomerNeeds.objects.exists()


def test_a_missing_call_time_is_a_clear_message_on_the_field():
    customer = CustomerFactory(confirmed=True)
    response = signed_in(customer.user).post(NEEDS, portal_form(call_times=""))
    assert "tell us when suits you" in response.content.decode()
    assert not CustomerNeeds.objects.exists()


def test_another_customer_sees_only_their_own_and_cannot_withdraw_anyone_elses():
    owner = CustomerFactory(confirmed=True)
    signed_in(owner.user).post(NEEDS, portal_form())
    other = signed_in(CustomerFactory(confirmed=True).user)
    assert "I use a hearing aid." not in other.get(NEEDS).content.decode()
    other.post(WITHDRAW)
    assert CustomerNeeds.objects.filter(customer=owner).exists()


def test_the_customer_never_sees_the_staff_badge_on_their_complaints():
    """Issue 15 item 1: the badge is for staff only."""
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    client = signed_in(customer.user)
    client.post(NEEDS, portal_form())
    for url in (
        reverse("complaints:my-complaints"),
        reverse("complaints:complaint-detail", args=[complaint.reference]),
    ):
        body = client.get(url).content.decode()
        assert "needs-badge" not in body and "Needs:" not in body


# --- The desk -----------------------------------------------------------------------------


def desk_needs_url(customer, next_url=""):
    url = reverse("admin:accounts_customer_needs", args=[customer.pk])
    return f"{url}?next={next_url}" if next_url else url


def desk_form(**overrides) -> dict:
    data = {
        "kinds": ["sight", "bereavement"],
        "details": "Partner died last month; reads with a magnifier.",
        "call_times": "",
        "communication_format": "large_print",
        "update_interval_working_days": "5",
        "named_contact": "",
        "review_on": "",
        "consent_how": "phone",
    }
    data.update(overrides)
    return data


def test_staff_record_needs_from_a_phone_call_from_the_case_page_and_go_back_to_it():
    """Issue 15 item 1: staff record, with how the customer agreed, and see the badge."""
    agent = StaffUserFactory(name="Sam Agent")
    contact = StaffUserFactory(name="Dana Contact")
    customer = CustomerFactory(name="Ada Lovelace")
    complaint = complaint_make(customer=customer)
    case = reverse("admin:complaints_complaint_change", args=[complaint.pk])
    client = signed_in(agent)
    assert "Record needs told to us by phone" in client.get(case).content.decode()

    response = client.post(
        desk_needs_url(customer), {**desk_form(named_contact=contact.pk), "next": case}
    )
    assert response.status_code == 302 and response["Location"] == case
    needs = CustomerNeeds.objects.get(customer=customer)
    assert needs.recorded_by == agent and needs.consent_how == "phone"
    assert needs.named_contact == contact and needs.update_interval_working_days == 5

    body = client.get(case).content.decode()
    assert "Needs: sight, bereavement · large print" in body
    assert "Partner died last month" in body
    assert "Named contact: <strong>Dana Contact</strong>" in body
    assert "every 5 working days, as agreed" in body

    queue = client.get(reverse("admin:complaints_complaint_changelist")).content.decode()
    assert '<span class="needs-badge">Needs: sight, bereavement · large print</span>' in queue
    assert "Partner died" not in queue  # the queue shows the needs in short only


def test_staff_record_needs_from_a_letter_and_a_too_short_interval_is_refused():
    agent = StaffUserFactory()
    customer = CustomerFactory()
    client = signed_in(agent)
    response = client.post(
        desk_needs_url(customer),
        desk_form(consent_how="letter", update_interval_working_days="1"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "at least every 2 working days under the Code" in body
    assert "Partner died last month" in body  # nothing typed is lost
    assert not CustomerNeeds.objects.exists()

    response = client.post(desk_needs_url(customer), desk_form(consent_how=""))
    assert response.status_code == 200 and not CustomerNeeds.objects.exists()

    client.post(desk_needs_url(customer), desk_form(consent_how="letter"))
    assert CustomerNeeds.objects.get(customer=customer).consent_how == "letter"


def test_staff_withdraw_needs_when_the_customer_asks_by_email():
    agent = StaffUserFactory()
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    client = signed_in(agent)
    client.post(desk_needs_url(customer), desk_form(consent_how="email"))
    url = reverse("admin:accounts_customer_needs_withdraw", args=[customer.pk])
    assert "Delete the needs" in client.get(url).content.decode()
    client.post(url)
    assert not CustomerNeeds.objects.exists()
    case = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    body = case.content.decode()
    assert "needs-badge" not in body and "Partner died" not in body
    assert "withdrawn and their details deleted" in body  # the timeline says only that


def test_the_review_queue_lists_needs_due_and_a_review_moves_the_date():
    agent = StaffUserFactory()
    due, later = CustomerFactory(name="Due Person"), CustomerFactory(name="Later Person")
    for customer, review_on in ((due, date(2026, 11, 24)), (later, date(2027, 6, 1))):
        needs_record(
            customer=customer,
            actor=agent,
            consent_how="phone",
            kinds=["financial"],
            review_on=review_on,
        )
    client = signed_in(agent)
    url = reverse("admin:accounts_customerneeds_changelist")
    with time_machine.travel(datetime(2026, 11, 25, 9, 0, tzinfo=LONDON), tick=False):
        body = client.get(url, {"review": "due"}).content.decode()
        assert "Due Person" in body and "Later Person" not in body
        client.post(reverse("admin:accounts_customer_needs_review", args=[due.pk]))
        client.get(url)  # the message is shown once
        body = client.get(url, {"review": "due"}).content.decode()
        assert "Due Person" not in body
    assert CustomerNeeds.objects.get(customer=due).review_on == date(2027, 11, 25)


@pytest.mark.parametrize("name", ["needs", "needs_withdraw", "needs_review"])
def test_the_desks_needs_pages_are_for_staff_only(name):
    customer = CustomerFactory(confirmed=True)
    url = reverse(f"admin:accounts_customer_{name}", args=[customer.pk])
    for client in (Client(), signed_in(customer.user)):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_the_customer_page_on_the_desk_shows_the_needs_and_links_to_change_them():
    agent = StaffUserFactory()
    customer = CustomerFactory()
    client = signed_in(agent)
    page = reverse("admin:accounts_customer_change", args=[customer.pk])
    assert "None recorded." in client.get(page).content.decode()
    client.post(desk_needs_url(customer), desk_form())
    body = client.get(page).content.decode()
    assert '<span class="needs-badge">Needs: sight, bereavement · large print</span>' in body
    assert reverse("admin:accounts_customer_needs_withdraw", args=[customer.pk]) in body


def test_the_badge_is_on_the_formal_case_workspace_too():
    """Issue 15 item 1: every staff page of the customer's case, the senior manager's too."""
    from complaints.services.desk import complaint_escalate

    manager = StaffUserFactory(role="senior_manager")
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    complaint = complaint_escalate(
        complaint=complaint, actor=manager, requested="not_specified", reason="Still down."
    )
    needs_record(customer=customer, actor=manager, consent_how="letter", kinds=["literacy"])
    url = reverse("escalation:formal-detail", args=[complaint.formal_case.register_reference])
    body = signed_in(manager).get(url).content.decode()
    assert '<span class="needs-badge">Needs: reading or writing</span>' in body


def test_every_problem_is_shown_at_once_on_the_portal_and_the_desk():
    """Bad input gets every clear message in one go, and nothing is saved."""
    customer = CustomerFactory(confirmed=True)
    body = (
        signed_in(customer.user)
        .post(NEEDS, portal_form(consent=None, call_times=""))
        .content.decode()
    )
    assert "Tick the box to agree" in body and "tell us when suits you" in body
    desk = signed_in(StaffUserFactory()).post(
        desk_needs_url(customer),
        desk_form(consent_how="", kinds=["other"], details="", update_interval_working_days="1"),
    )
    text = desk.content.decode()
    assert "tell us what it is" in text and "at least every 2 working days" in text
    assert "Say how the customer agreed" in text
    assert not CustomerNeeds.objects.exists()
