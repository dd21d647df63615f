"""Complaints are never lost or made to look lost at the front door (COP-01, COP-04, COP-06).

A typed account reference never turns a complaint away and never hands it to the account
holder on its own; whoever logs a complaint for another department sees where it went; an
agent on a formal case is told who owns it (COP-15).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import Customer
from complaints.domain.lifecycle import Status
from complaints.models import CaseEvent, CaseNote, Complaint
from complaints.services.desk import complaint_escalate
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_form_data, complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def form_data(**overrides):
    """The public form, as a stranger fills it in about a charge (Accounts)."""
    stranger = {
        "token": "f0e1d2c3b4a5968778695a4b3c2d1e0f",
        "name": "Sam Stranger",
        "email": "sam@example.com",
        "about": "accounts",
        "subject": "Charged twice",
        "description": "Two payments left my account on 1 November.",
    }
    return complaint_form_data(**{**stranger, **overrides})


def holder(**fields):
    """The customer who holds ACC-1001, with a confirmed portal login."""
    return CustomerFactory(
        confirmed=True, account_reference="ACC-1001", email="holder@example.com", **fields
    )


def staff(role: str):
    user = StaffUserFactory(role=role)
    client = Client()
    client.force_login(user)
    return client, user


def my_references(customer) -> str:
    client = Client()
    client.force_login(customer.user)
    return client.get(reverse("complaints:my-complaints")).content.decode()


# --- 1. A known account reference on the public form --------------------------------


def test_a_known_account_reference_never_turns_a_complaint_away():
    """Typing the number from your invoice files the complaint; it is flagged, not attached."""
    account_holder = holder()
    response = Client().post(
        reverse("complaints:complain"), form_data(account_reference="ACC-1001")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    complaint = Complaint.objects.get()
    assert complaint.customer != account_holder
    assert complaint.customer.email == "sam@example.com"
    assert complaint.customer.account_reference == ""  # never taken from the holder
    assert complaint.stated_account_reference == "ACC-1001"
    assert complaint.customer_to_match == (
        "Stated account reference ACC-1001 belongs to another customer record."
    )
    logged = complaint.events.get(kind=CaseEvent.Kind.LOGGED)
    assert "ACC-1001 belongs to another customer record" in logged.reason
    # The account holder does not see a complaint someone else filed.
    assert complaint.reference not in my_references(account_holder)


def test_the_holders_confirmed_email_links_the_complaint_to_the_account():
    account_holder = holder()
    response = Client().post(
        reverse("complaints:complain"),
        form_data(account_reference="acc-1001", email="Holder@Example.com", name="A Holder"),
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.customer == account_holder
    assert complaint.customer_to_match == ""
    assert complaint.reference in my_references(account_holder)


def test_an_unconfirmed_holder_address_is_not_enough():
    """Only a confirmed address proves the complainant is the account holder."""
    CustomerFactory(account_reference="ACC-1001", email="holder@example.com")
    CustomerFactory(email="other@example.com")  # someone else, also unconfirmed
    Client().post(
        reverse("complaints:complain"),
        form_data(account_reference="ACC-1001", email="other@example.com"),
    )
    complaint = Complaint.objects.get()
    assert complaint.customer.email == "other@example.com"
    assert complaint.customer_to_match


def test_a_signed_in_customer_typing_someone_elses_reference_is_flagged():
    account_holder = holder()
    me = CustomerFactory(with_user=True, email="me@example.com", account_reference="ACC-2002")
    me.email_confirmed_at = NOW
    me.save()
    client = Client()
    client.force_login(me.user)
    response = client.post(reverse("complaints:complain"), form_data(account_reference="ACC-1001"))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.customer == me
    assert "ACC-1001 belongs to another customer record" in complaint.customer_to_match
    me.refresh_from_db()
    assert me.account_reference == "ACC-2002"
    assert complaint.reference not in my_references(account_holder)


def test_a_new_reference_is_recorded_on_the_new_customer():
    Client().post(reverse("complaints:complain"), form_data(account_reference="ACC-3003"))
    complaint = Complaint.objects.get()
    assert complaint.customer.account_reference == "ACC-3003"
    assert complaint.customer_to_match == ""


def test_staff_match_the_complaint_to_the_holder_in_one_step():
    account_holder = holder()
    Client().post(reverse("complaints:complain"), form_data(account_reference="ACC-1001"))
    complaint = Complaint.objects.get()
    client, agent = staff("accounts_agent")
    queue = client.get(reverse("admin:complaints_complaint_changelist") + "?queue=to_match")
    assert complaint.reference in queue.content.decode()
    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    body = page.content.decode()
    assert "Customer to match" in body and "Match to customer" in body

    url = reverse("admin:complaints_complaint_action", args=[complaint.pk, "match"])
    form = client.get(url)
    assert 'value="ACC-1001"' in form.content.decode()  # the stated reference, ready
    response = client.post(
        url,
        {
            "version": complaint.version,
            "account_reference": "ACC-1001",
            "reason": "Called the account holder: Sam is their partner, named on the account.",
        },
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.customer == account_holder
    assert complaint.customer_to_match == ""
    event = complaint.events.get(kind=CaseEvent.Kind.CUSTOMER_MATCHED)
    assert event.actor == agent
    assert "Matched to" in event.reason and "partner" in event.reason
    assert complaint.reference in my_references(account_holder)
    queue = client.get(reverse("admin:complaints_complaint_changelist") + "?queue=to_match")
    assert reverse("admin:complaints_complaint_change", args=[complaint.pk]) not in (
        queue.content.decode()
    )


def test_matching_to_an_unknown_reference_is_a_clear_error_and_changes_nothing():
    holder()
    Client().post(reverse("complaints:complain"), form_data(account_reference="ACC-1001"))
    complaint = Complaint.objects.get()
    client, _ = staff("accounts_agent")
    url = reverse("admin:complaints_complaint_action", args=[complaint.pk, "match"])
    response = client.post(
        url, {"version": complaint.version, "account_reference": "ACC-9", "reason": "Checked."}
    )
    assert response.status_code == 200
    assert "No customer has the account reference ACC-9" in response.content.decode()
    assert Complaint.objects.get().customer_to_match


def test_the_match_action_is_offered_only_when_there_is_something_to_match():
    complaint = complaint_make(department="accounts")
    client, _ = staff("accounts_agent")
    url = reverse("admin:complaints_complaint_action", args=[complaint.pk, "match"])
    assert client.get(url).status_code == 302  # "not possible", back to the case


def test_a_duplicate_account_reference_in_the_admin_is_a_plain_message():
    """No form shows a database constraint's name to a person."""
    CustomerFactory(account_reference="ACC-1001")
    other = CustomerFactory(account_reference="")
    client, _ = staff("administrator")
    url = reverse("admin:accounts_customer_change", args=[other.pk])
    form = client.get(url)
    assert form.status_code == 200
    data = {
        "name": other.name,
        "email": other.email,
        "phone": other.phone,
        "postal_address": other.postal_address,
        "account_reference": "ACC-1001",
        "preferred_contact_method": other.preferred_contact_method,
        "customer_type": other.customer_type,
        "employee_count": "",
        "contracted_response_working_days": "",
    }
    response = client.post(url, data)
    body = response.content.decode()
    assert "Constraint" not in body and "customer_account_reference_unique" not in body
    assert "This account reference belongs to another customer." in body
    assert Customer.objects.get(pk=other.pk).account_reference == ""


# --- 2. Logging a call or a letter for another department ----------------------------


def log_call(client, **overrides):
    data = {
        "name": "Carla Caller",
        "phone": "0117 000 2222",
        "department": "accounts",
        "subject": "Charged after cancelling",
        "description": "Cancelled in October, charged in November.",
        "called_at": "2026-11-23T09:40",
        "resolved": "no",
        "promised_at": "2026-11-24T12:00",
        "contact_method": "phone",
    }
    data.update(overrides)
    return client.post(reverse("admin:complaints_complaint_log_call"), data, follow=True)


def test_a_call_logged_for_another_department_lands_on_a_confirmation():
    client, agent = staff("support_agent")
    response = log_call(client)
    body = response.content.decode()
    complaint = Complaint.objects.get()
    assert response.status_code == 200
    assert "doesn’t exist" not in body and "doesn't exist" not in body
    assert f"Complaint logged: {complaint.reference}" in body
    assert "Accounts" in body and "not assigned to anyone yet" in body
    assert "you cannot open it" in body
    # The agent still may not open the case itself.
    case = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert case.status_code in (302, 404)


def test_a_letter_logged_for_another_department_lands_on_a_confirmation():
    client, _ = staff("support_agent")
    response = client.post(
        reverse("admin:complaints_complaint_log_letter"),
        {
            "name": "Lettice Writer",
            "email": "lettice@example.com",
            "postal_address": "3 Avon Row, Keynsham",
            "department": "accounts",
            "subject": "Bill too high",
            "description": "My November bill doubled.",
            "received_at": "2026-11-23T09:00",
            "scan": SimpleUploadedFile("letter.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"),
        },
        follow=True,
    )
    complaint = Complaint.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "admin:complaints_complaint_logged", args=[complaint.reference]
    )
    assert f"Complaint logged: {complaint.reference}" in response.content.decode()


def test_whoever_logged_it_may_add_a_note_but_not_see_the_case():
    client, agent = staff("support_agent")
    log_call(client)
    complaint = Complaint.objects.get()
    note_url = reverse("admin:complaints_complaint_action", args=[complaint.pk, "note"])
    response = client.post(note_url, {"body": "Caller rang back: the charge was £29.99."})
    assert response.status_code == 302
    assert response.url == reverse("admin:complaints_complaint_logged", args=[complaint.reference])
    assert CaseNote.objects.get(complaint=complaint).author == agent
    # Only adding: no other action, and nobody else's confirmation page.
    respond_url = reverse("admin:complaints_complaint_action", args=[complaint.pk, "respond"])
    assert client.get(respond_url).status_code == 404
    other, _ = staff("support_agent")
    logged = reverse("admin:complaints_complaint_logged", args=[complaint.reference])
    assert other.get(logged).status_code == 404
    assert other.post(note_url, {"body": "x"}).status_code == 404


def test_the_logger_may_add_for_a_week_only(frozen):
    client, _ = staff("support_agent")
    log_call(client)
    complaint = Complaint.objects.get()
    frozen.shift(60 * 60 * 24 * 8)
    note_url = reverse("admin:complaints_complaint_action", args=[complaint.pk, "note"])
    assert client.post(note_url, {"body": "Late note."}).status_code == 404


def test_a_call_for_your_own_department_offers_to_open_the_case():
    client, _ = staff("accounts_agent")
    response = log_call(client)
    complaint = Complaint.objects.get()
    assert f"Open {complaint.reference}" in response.content.decode()


# --- 7. An agent on a formal case is told who owns it ---------------------------------


def test_an_agent_on_a_formal_case_is_told_who_owns_it_and_what_they_may_do():
    manager = StaffUserFactory(role="senior_manager", name="Sarah Senior")
    complaint = complaint_make(department="technical_support")
    complaint_escalate(
        complaint=complaint,
        actor=None,
        requested="not_specified",
        reason="Still no service after two visits.",
    )
    complaint.refresh_from_db()
    assert complaint.status == Status.FORMAL
    client, _ = staff("support_agent")
    body = client.get(
        reverse("admin:complaints_complaint_change", args=[complaint.pk])
    ).content.decode()
    assert "a senior manager owns this case" in body
    assert "Sarah Senior, senior manager, now owns it" in body
    assert "You can still: add internal note" in body
    assert "Send response" not in body
    # Senior managers themselves do not get the banner.
    manager_client = Client()
    manager_client.force_login(manager)
    page = manager_client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert "a senior manager owns this case" not in page.content.decode()


# --- No form shows a database error ----------------------------------------------------


def test_two_signups_with_one_address_at_once_get_the_forms_message(monkeypatch):
    """The second of two simultaneous sign-ups loses the race at the database, not at the
    form's check: it still gets the form's plain message, and the first account stands."""
    from accounts.forms import SignupForm
    from accounts.models import User

    User.objects.create_user("twin@example.com", "first-password-123", name="First Twin")
    # As if the other request's INSERT landed between this one's check and its INSERT.
    monkeypatch.setattr(SignupForm, "clean_email", lambda form: form.cleaned_data["email"])
    response = Client().post(
        reverse("accounts:signup"),
        {
            "name": "Second Twin",
            "email": "twin@example.com",
            "password1": "a-long-enough-password-2",
            "password2": "a-long-enough-password-2",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is already an account with this email address" in body
    assert "IntegrityError" not in body and "UNIQUE" not in body
    assert User.objects.get(email="twin@example.com").name == "First Twin"


def test_a_clash_that_reaches_a_page_is_a_clear_409(rf):
    from django.db import IntegrityError

    from complaints.middleware import IntegrityErrorMiddleware

    middleware = IntegrityErrorMiddleware(lambda request: None)
    request = rf.post("/complain/")
    response = middleware.process_exception(
        request, IntegrityError("UNIQUE constraint failed: accounts_customer.account_reference")
    )
    assert response.status_code == 409
    body = response.content.decode()
    assert "none of it was saved" in body and "Back button" in body
    assert "UNIQUE" not in body and "constraint" not in body
    assert middleware.process_exception(request, ValueError("other")) is None
