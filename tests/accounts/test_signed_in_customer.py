"""The signed-in customer comes with the user, read afresh on every request.

accounts.backends.PermissionsBackend.get_user joins the customer record (with their needs
and whether they ever had a representative) to the user Django reads for each signed-in
request, so the portal's pages and the complaint form do not read it again. What must not
change: a customer sees their own record as it is now, an unconfirmed address is not yet
a portal customer, and a representative still gets the letters (COP-16, GC C5).
"""

import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.backends import PermissionsBackend
from accounts.representatives import representative_record
from accounts.roles import Role
from accounts.services import portal_customer
from complaints.models import Complaint
from tests.accounts.factories import CustomerFactory, StaffUserFactory, UserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db


def _signed_in(customer) -> Client:
    client = Client()
    client.force_login(customer.user)
    return client


def _customer_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].startswith('SELECT "accounts_customer"')]


def test_the_portal_reads_the_customer_with_the_user_not_again():
    customer = CustomerFactory(confirmed=True, name="Ada Example")
    complaint_make(customer=customer, subject="Line drops at night")
    with CaptureQueriesContext(connection) as queries:
        page = _signed_in(customer).get(reverse("complaints:my-complaints"))
    assert page.status_code == 200
    assert "Line drops at night" in page.content.decode()
    assert _customer_reads(queries.captured_queries) == []


def test_a_change_to_the_record_shows_on_the_next_page():
    customer = CustomerFactory(confirmed=True, name="Ada Example")
    client = _signed_in(customer)
    assert "Ada Example" in client.get(reverse("complaints:complain")).content.decode()
    customer.name = "Ada Lovelace"
    customer.save(update_fields=["name"])  # staff corrected it, in another request
    assert "Ada Lovelace" in client.get(reverse("complaints:complain")).content.decode()


def test_an_unconfirmed_address_is_not_yet_a_portal_customer():
    customer = CustomerFactory(with_user=True)  # a login, the address not yet confirmed
    user = PermissionsBackend().get_user(customer.user.pk)
    assert user == customer.user
    assert portal_customer(user) is None
    assert portal_customer(user, filing=True) is None


def test_a_login_without_a_customer_record_is_not_a_portal_customer():
    user = PermissionsBackend().get_user(UserFactory().pk)
    assert portal_customer(user) is None


def test_a_deactivated_account_is_not_signed_in():
    customer = CustomerFactory(confirmed=True)
    client = _signed_in(customer)
    customer.user.is_active = False
    customer.user.save(update_fields=["is_active"])
    page = client.get(reverse("complaints:my-complaints"))
    assert page.status_code == 302 and reverse("accounts:login") in page["Location"]


def test_a_represented_customer_filing_signed_in_still_copies_the_representative():
    """GC C5: "ever represented" comes with the user; the letter goes to the representative."""
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    customer = CustomerFactory(confirmed=True)
    representative_record(
        customer=customer, actor=agent, name="Priya Attorney", relationship="power_of_attorney",
        email="priya@example.org", authority_seen="lasting power of attorney",
    )  # fmt: skip
    user = PermissionsBackend().get_user(customer.user.pk)
    assert portal_customer(user, filing=True).represented is True

    response = _signed_in(customer).post(
        reverse("complaints:complain"),
        {
            "token": uuid.uuid4().hex,
            "about": "technical_support",
            "subject": "Broadband drops every evening",
            "description": "Since Monday the line drops at 7pm.",
            "preferred_contact_method": "email",
            "customer_type": "consumer",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    complaint = Complaint.objects.get(customer=customer)
    recipients = set(complaint.notices.get().deliveries.values_list("recipient", flat=True))
    assert "priya@example.org" in recipients


def test_a_user_no_longer_there_or_a_damaged_session_is_nobody():
    assert PermissionsBackend().get_user(10**9) is None
    assert PermissionsBackend().get_user("not-a-number") is None


def test_the_user_read_with_the_customer_is_the_whole_user():
    """What ModelBackend would have read: every field, with its Python type."""
    customer = CustomerFactory(confirmed=True)
    user = customer.user
    read = PermissionsBackend().get_user(user.pk)
    fields = [f.attname for f in type(user)._meta.concrete_fields]
    assert [getattr(read, f) for f in fields] == [getattr(user, f) for f in fields]
    assert read.customer.email_confirmed_at == customer.email_confirmed_at
    assert read.customer.user is read and read.customer_represented is False
    assert read.get_session_auth_hash() == user.get_session_auth_hash()
