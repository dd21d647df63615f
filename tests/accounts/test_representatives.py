"""Representatives acting for the customer (issue 15 item 4; Ofcom GC C5; UK GDPR).

The rules (authority in force, who sees and acts, the history of each affected case, the
expiry job), and each way in: the desk, the API, the portal, the data export and
anonymisation.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Representative
from accounts.representatives import (
    authority_active,
    authority_state,
    letter_recipients,
    may_act,
    may_view,
    representative_record,
    representative_withdraw,
    representatives_expire,
)
from accounts.retention import customer_anonymise, customer_data_export
from complaints.models import CaseEvent
from complaints.selectors import complaint_timeline
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
PDF = b"%PDF-1.4\n" + b"0" * 64


def _record(customer, **fields):
    fields = {
        "name": "Priya Attorney",
        "relationship": "power_of_attorney",
        "email": "priya@example.org",
        "authority_seen": "lasting power of attorney",
        **fields,
    }
    return representative_record(customer=customer, actor=StaffUserFactory(), **fields)


def _rep_events(complaint):
    return list(
        CaseEvent.objects.filter(
            complaint=complaint, kind=CaseEvent.Kind.REPRESENTATIVE
        ).values_list("reason", flat=True)
    )


# --- The rules ------------------------------------------------------------------------------


def test_authority_is_in_force_from_its_start_until_its_end_or_withdrawal():
    customer = CustomerFactory()
    with time_machine.travel(MONDAY, tick=False):
        rep = _record(
            customer,
            starts_at=MONDAY + timedelta(hours=1),
            ends_at=MONDAY + timedelta(days=7),
        )
        assert not authority_active(rep) and authority_state(rep) == "not yet started"
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        assert authority_active(rep) and authority_state(rep) == "in force"
    with time_machine.travel(MONDAY + timedelta(days=7), tick=False):
        assert not authority_active(rep) and authority_state(rep) == "expired"
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        representative_withdraw(rep=rep, actor=StaffUserFactory(), reason="Customer asked.")
        rep.refresh_from_db()
        assert authority_state(rep) == "withdrawn"


def test_who_may_see_and_act_follows_the_scope():
    customer = CustomerFactory()
    covered, other = complaint_make(customer=customer), complaint_make(customer=customer)
    login = CustomerFactory(confirmed=True).user
    reader = _record(
        customer, user=login, act_on_case=False, all_complaints=False, complaints=[covered]
    )
    assert may_view(login, covered) and not may_act(login, covered)
    assert not may_view(login, other)
    assert not may_view(login, complaint_make())  # someone else's customer
    recipients = letter_recipients(covered)
    assert recipients.representatives == (reader,) and recipients.customer


def test_letters_only_to_the_representative_when_the_customer_asked():
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    _record(customer, copy_customer=False)
    assert letter_recipients(complaint).customer is False


def test_recording_needs_the_authority_seen_and_a_way_to_send_letters():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as caught:
        _record(customer, authority_seen=" ", email="", contact_method="email")
    assert set(caught.value.error_dict) == {"authority_seen", "email"}
    assert not Representative.objects.exists()


def test_a_staff_login_or_another_customers_complaint_is_refused():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as caught:
        _record(
            customer,
            user=StaffUserFactory(),
            all_complaints=False,
            complaints=[complaint_make()],
        )
    assert set(caught.value.error_dict) == {"user", "complaints"}


def test_the_authority_document_is_checked_like_every_upload():
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as caught:
        _record(customer, document=SimpleUploadedFile("lpa.pdf", b"MZ\x90\x00 not a pdf"))
    assert "not a PDF" in " ".join(caught.value.error_dict["authority_document"][0].messages)
    rep = _record(customer, document=SimpleUploadedFile("../../lpa.pdf", PDF))
    assert rep.authority_document_name == "lpa.pdf"
    assert rep.authority_document_type == "application/pdf"
    assert rep.authority_document.read() == PDF


def test_a_customer_cannot_record_a_representative_themselves():
    customer = CustomerFactory(confirmed=True)
    with pytest.raises(PermissionError):
        representative_record(
            customer=customer,
            actor=customer.user,
            name="x",
            relationship="family",
            email="x@example.org",
            authority_seen="x",
        )


# --- The history of each affected complaint -------------------------------------------------


def test_grant_withdrawal_and_expiry_are_in_each_affected_complaints_history():
    customer = CustomerFactory()
    with time_machine.travel(MONDAY, tick=False):
        first, second = complaint_make(customer=customer), complaint_make(customer=customer)
        whole = _record(customer, name="Rob Brother", relationship="family")
        named = _record(
            customer,
            name="Office of Jo Bloggs MP",
            relationship="mp_office",
            organisation="House of Commons",
            all_complaints=False,
            complaints=[second],
            receive_letters=True,
            act_on_case=False,
            ends_at=MONDAY + timedelta(days=3),
        )
    assert _rep_events(first) == [
        "Rob Brother (family member) may act for the customer: may receive our letters and "
        "act on the complaint. Authority seen: lasting power of attorney."
    ]
    assert len(_rep_events(second)) == 2
    assert "may receive our letters, until 26 November 2026 10:00" in _rep_events(second)[1]

    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        representative_withdraw(
            rep=whole, actor=StaffUserFactory(), reason="The customer rang to withdraw it."
        )
        assert not representative_withdraw(rep=whole, actor=StaffUserFactory(), reason="again")
    assert _rep_events(first)[-1] == (
        "Rob Brother (family member) may no longer act for the customer: authority "
        "withdrawn. Why: The customer rang to withdraw it."
    )

    # The expiry job writes the end into the history once, however often it runs.
    with time_machine.travel(MONDAY + timedelta(days=3, minutes=1), tick=False):
        assert representatives_expire() == 1
        assert representatives_expire() == 0
    assert _rep_events(second)[-1] == (
        "Office of Jo Bloggs MP (an mp's office, House of Commons) may no longer act for "
        "the customer: the authority ended on 26 November 2026 10:00."
    )
    assert len(_rep_events(first)) == 2  # the MP's authority was not over the first
    named.refresh_from_db()
    assert named.expiry_recorded_at is not None


def test_withdrawing_needs_a_reason():
    rep = _record(CustomerFactory())
    with pytest.raises(ValidationError):
        representative_withdraw(rep=rep, actor=StaffUserFactory(), reason=" ")


# --- The portal -------------------------------------------------------------------------------


def test_the_portal_shows_a_representative_only_the_cases_they_are_authorised_on():
    customer = CustomerFactory(confirmed=True, name="Edith Jones")
    covered = complaint_make(customer=customer, subject="Covered case")
    complaint_make(customer=customer, subject="Private case")
    login = CustomerFactory(confirmed=True).user
    rep = _record(
        customer,
        user=login,
        all_complaints=False,
        complaints=[covered],
        ends_at=timezone.now() + timedelta(days=1),
    )
    client = Client()
    client.force_login(login)
    page = client.get(reverse("complaints:my-complaints")).content.decode()
    assert "Covered case" in page and "Private case" not in page
    detail = client.get(reverse("complaints:complaint-detail", args=[covered.reference]))
    text = detail.content.decode()
    assert "as the representative of <strong>Edith Jones</strong>" in text
    assert "You may act on it for them." in text
    # Expired: access ends at once, before any job has run.
    with time_machine.travel(rep.ends_at + timedelta(seconds=1), tick=False):
        page = client.get(reverse("complaints:my-complaints"))
        assert b"Covered case" not in page.content
        assert (
            client.get(reverse("complaints:complaint-detail", args=[covered.reference])).status_code
            == 404
        )


def test_a_representatives_reply_says_who_wrote_it_wherever_the_case_is_read():
    """The customer, staff and an ombudsman can tell the representative's words from theirs."""
    customer = CustomerFactory(confirmed=True, name="Edith Jones")
    complaint = complaint_make(customer=customer)
    login = CustomerFactory(confirmed=True, name="Robin Carer").user
    login.name = "Robin Carer"
    login.save()
    _record(customer, user=login, name="Robin Carer", relationship="carer")
    rep, own = Client(), Client()
    rep.force_login(login)
    own.force_login(customer.user)
    reply = reverse("complaints:complaint-reply", args=[complaint.reference])
    rep.post(reply, {"body": "Writing as Edith's carer."})
    own.post(reply, {"body": "Writing myself."})
    page = own.get(reverse("complaints:complaint-detail", args=[complaint.reference]))
    text = page.content.decode()
    assert "From Robin Carer, acting for the customer (portal)" in text
    assert text.count("From the customer (portal)") == 1
    desk = [e.title for e in complaint_timeline(complaint) if e.kind == "correspondence"]
    assert "From Robin Carer, acting for the customer (portal)" in desk


def test_a_representative_who_may_only_read_is_offered_no_actions():
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    login = CustomerFactory(confirmed=True).user
    _record(customer, user=login, act_on_case=False)
    client = Client()
    client.force_login(login)
    text = client.get(
        reverse("complaints:complaint-detail", args=[complaint.reference])
    ).content.decode()
    assert "You may read it, but not act on it" in text
    assert reverse("complaints:complaint-reply", args=[complaint.reference]) not in text


def test_a_representative_with_no_customer_record_of_their_own_sees_the_case():
    """An MP's caseworker with a bare login (no complaints, no customer record)."""
    from tests.accounts.factories import CustomerUserFactory

    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer, subject="The MP's case")
    login = CustomerUserFactory()
    _record(customer, user=login, relationship="mp_office")
    client = Client()
    client.force_login(login)
    assert b"The MP&#x27;s case" in client.get(reverse("complaints:my-complaints")).content
    assert (
        client.get(reverse("complaints:complaint-detail", args=[complaint.reference])).status_code
        == 200
    )


# --- The desk -----------------------------------------------------------------------------------


def test_staff_record_a_representative_with_the_authority_file_and_withdraw_it():
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    agent = StaffUserFactory(role="support_agent")
    client = Client()
    client.force_login(agent)
    url = reverse("admin:accounts_customer_representative_add", args=[customer.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "name": "Carol Carer",
            "relationship": "carer",
            "contact_method": "post",
            "postal_address": "1 High Street\nBristol",
            "authority_seen": "form signed by the customer",
            "authority_document": SimpleUploadedFile("form.pdf", PDF),
            "receive_letters": "on",
            "act_on_case": "on",
            "copy_customer": "on",
            "all_complaints": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rep = Representative.objects.get()
    assert rep.recorded_by == agent and rep.authority_document_name == "form.pdf"
    assert "Carol Carer (carer) may act" in _rep_events(complaint)[0]
    page = client.get(reverse("admin:accounts_customer_change", args=[customer.pk]))
    assert b"Carol Carer" in page.content and b"in force" in page.content
    document = client.get(
        reverse("admin:accounts_customer_representative_document", args=[customer.pk, rep.pk])
    )
    assert b"".join(document.streaming_content) == PDF

    withdraw = reverse(
        "admin:accounts_customer_representative_withdraw", args=[customer.pk, rep.pk]
    )
    assert client.get(withdraw).status_code == 200
    assert client.post(withdraw, {"reason": ""}).status_code == 200  # a reason is required
    assert client.post(withdraw, {"reason": "Customer asked by phone."}).status_code == 302
    rep.refresh_from_db()
    assert rep.withdrawn_by == agent and rep.withdrawal_reason == "Customer asked by phone."


def test_the_desk_form_says_what_is_wrong_and_records_nothing():
    customer = CustomerFactory()
    client = Client()
    client.force_login(StaffUserFactory(role="support_agent"))
    response = client.post(
        reverse("admin:accounts_customer_representative_add", args=[customer.pk]),
        {
            "name": "Carol",
            "relationship": "carer",
            "contact_method": "email",
            "authority_seen": "x",
            "receive_letters": "on",
            "all_complaints": "on",
            "authority_document": SimpleUploadedFile("x.pdf", b"MZ not a pdf at all"),
        },
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "They want letters this way: give an email address." in text
    assert "This file is not one we accept" in text
    assert not Representative.objects.exists()


# --- The API ----------------------------------------------------------------------------------


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    from accounts.integrations import api_key_issue, integration_create

    integration = integration_create(name="CRM", role="support_agent")
    issued = api_key_issue(integration=integration, scopes=["read", "write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    return client


def test_an_integration_records_lists_and_withdraws_a_representative(api):
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    login = CustomerFactory(confirmed=True).user
    url = reverse("api:customer-representatives", args=[customer.pk])
    response = api.post(
        url,
        {
            "name": "Sam Staff",
            "relationship": "business_staff",
            "organisation": "Acme Ltd",
            "email": "sam@acme.example",
            "portal_login": login.email,
            "authority_seen": "email from the company director",
            "authority_document": base64.b64encode(PDF).decode(),
            "authority_document_name": "director.pdf",
            "complaints": [complaint.reference],
            "act_on_case": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "in force" and body["complaints"] == [complaint.reference]
    assert body["portal_login"] == login.email and body["has_authority_document"]
    assert body["recorded_by"]  # the integration's acting user
    assert "Sam Staff (a member of the business's staff, Acme Ltd)" in _rep_events(complaint)[0]
    assert [r["name"] for r in api.get(url).json()] == ["Sam Staff"]

    problem = api.post(url, {"name": "x", "relationship": "carer"}, format="json")
    assert problem.status_code == 400 and "authority_seen" in problem.json()["errors"]

    withdraw = reverse("api:customer-representative-withdraw", args=[customer.pk, body["id"]])
    assert api.post(withdraw, {}, format="json").status_code == 400
    done = api.post(withdraw, {"reason": "Director says Sam has left."}, format="json")
    assert done.status_code == 200 and done.json()["state"] == "withdrawn"
    assert "Director says Sam has left." in _rep_events(complaint)[-1]


def test_the_api_refuses_a_bad_authority_file(api):
    customer = CustomerFactory()
    response = api.post(
        reverse("api:customer-representatives", args=[customer.pk]),
        {
            "name": "x",
            "relationship": "carer",
            "email": "x@example.org",
            "authority_seen": "x",
            "authority_document": base64.b64encode(b"MZ\x90\x00").decode(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert "authority_document" in response.json()["errors"]


# --- UK GDPR ----------------------------------------------------------------------------------


def test_the_data_export_lists_who_acts_for_the_customer():
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    _record(customer, all_complaints=False, complaints=[complaint], copy_customer=False)
    [rep] = customer_data_export(customer=customer)["representatives"]
    assert rep["name"] == "Priya Attorney"
    assert rep["relationship"] == "Power of attorney or deputy"
    assert rep["for"] == [complaint.reference]
    assert rep["letters_copied_to_you"] is False and rep["state"] == "in force"


def test_anonymisation_blanks_the_representative_and_ends_their_access():
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    login = CustomerFactory(confirmed=True).user
    rep = _record(customer, user=login, document=SimpleUploadedFile("lpa.pdf", PDF))
    stored = rep.authority_document.name
    customer_anonymise(customer=customer, actor=None, reason="Erasure request.")
    rep.refresh_from_db()
    assert rep.name == f"Anonymised representative #{rep.pk}"
    assert (rep.email, rep.user, rep.authority_document.name) == ("", None, "")
    assert rep.withdrawn_at is not None
    assert not may_view(login, complaint)
    assert stored  # the stored file itself is deleted after commit (retention._files_delete)


def test_a_representatives_pages_make_as_many_queries_with_many_cases_as_with_one():
    """Bounded queries: more customers represented and more cases add no queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    login = CustomerFactory(confirmed=True).user
    client = Client()
    client.force_login(login)

    def represent_one():
        customer = CustomerFactory()
        complaint = complaint_make(customer=customer)
        _record(customer, user=login, all_complaints=False, complaints=[complaint])
        return complaint

    first = represent_one()
    urls = [
        reverse("complaints:my-complaints"),
        reverse("complaints:complaint-detail", args=[first.reference]),
    ]

    def counts():
        found = []
        for url in urls:
            client.get(url)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return found

    few = counts()
    for _ in range(5):
        represent_one()
    assert counts() == few


def test_the_case_page_tells_staff_who_acts_for_the_customer():
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    _record(customer, name="Rob Brother", relationship="family", act_on_case=False)
    client = Client()
    client.force_login(StaffUserFactory(role="support_agent"))
    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    text = page.content.decode()
    assert "Acting for the customer" in text
    assert "Rob Brother (family member)</strong>: may receive our letters; letters by email" in text
