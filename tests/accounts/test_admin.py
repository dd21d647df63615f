"""The admin pages for users and customers."""

import pytest
from django.urls import reverse

from accounts.models import Customer, User
from accounts.roles import GROUP_NAMES, Role
from tests.accounts.factories import CustomerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    superuser = User.objects.create_superuser("root@example.com", "s3cret-pass", name="Root")
    client.force_login(superuser)
    return client


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:accounts_user_changelist",
        "admin:accounts_user_add",
        "admin:accounts_customer_changelist",
        "admin:accounts_customer_add",
    ],
)
def test_pages_load(admin_client, url_name):
    StaffUserFactory(role=Role.SENIOR_MANAGER)
    CustomerFactory(business_small=True)

    response = admin_client.get(reverse(url_name))

    assert response.status_code == 200


def test_user_changelist_shows_roles(admin_client):
    StaffUserFactory(email="manager@example.com", role=Role.SENIOR_MANAGER)

    response = admin_client.get(reverse("admin:accounts_user_changelist"))

    assert GROUP_NAMES[Role.SENIOR_MANAGER] in response.text


def test_user_change_page_loads(admin_client):
    user = StaffUserFactory()

    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))

    assert response.status_code == 200
    assert "username" not in response.context["adminform"].form.fields


def test_add_user_by_email(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Agent@Example.com",
            "name": "New Agent",
            "usable_password": "true",
            "password1": "a-long-pass-phrase-42",
            "password2": "a-long-pass-phrase-42",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.agent@example.com")
    assert user.name == "New Agent"
    assert user.check_password("a-long-pass-phrase-42")


def test_add_user_refuses_email_differing_only_by_case(admin_client):
    StaffUserFactory(email="agent@example.com")

    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "AGENT@example.com",
            "name": "Copy",
            "usable_password": "true",
            "password1": "a-long-pass-phrase-42",
            "password2": "a-long-pass-phrase-42",
        },
    )

    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors


def test_customer_search(admin_client):
    CustomerFactory(name="Findable Person", account_reference="ACC-FIND")
    CustomerFactory(name="Someone Else")

    response = admin_client.get(reverse("admin:accounts_customer_changelist"), {"q": "ACC-FIND"})

    assert list(response.context["cl"].result_list) == [
        Customer.objects.get(name="Findable Person")
    ]


def test_customer_search_matches_whole_identifiers_and_part_of_a_name(admin_client):
    """The same rule as the complaints list's search (accounts.services.customers_matching)."""
    mine = CustomerFactory(
        name="Hermione Granger", email="h@example.org", phone="07700 900123", account_reference=""
    )
    CustomerFactory(name="Ron Weasley", email="r@example.org")
    url = reverse("admin:accounts_customer_changelist")
    for term in ("granger", " H@Example.org ", "07700 900123"):
        assert list(admin_client.get(url, {"q": term}).context["cl"].result_list) == [mine], term
    assert list(admin_client.get(url, {"q": "example.org"}).context["cl"].result_list) == []


def test_the_customer_list_reads_fifty_a_page_by_name_and_counts_only_to_1000(admin_client):
    Customer.objects.bulk_create(
        Customer(name=f"Customer {i:04d}", email=f"c{i}@example.com") for i in range(1010)
    )
    page = admin_client.get(reverse("admin:accounts_customer_changelist"))
    rows = list(page.context["cl"].result_list)
    assert len(rows) == 50 and rows[0].name == "Customer 0000" and rows[-1].name == "Customer 0049"
    assert "More than 1,000 customers: choose a filter or search" in page.text


def test_customer_change_page_validates_employees(admin_client):
    customer = CustomerFactory()
    url = reverse("admin:accounts_customer_change", args=[customer.pk])
    data = {
        "name": customer.name,
        "account_reference": customer.account_reference,
        "email": customer.email,
        "phone": customer.phone,
        "postal_address": "",
        "preferred_contact_method": "email",
        "customer_type": "consumer",
        "employee_count": "5",
        "contract_reference": "",
        "contracted_response_working_days": "",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "employee_count" in response.context["adminform"].form.errors


def test_customers_cannot_be_deleted(admin_client):
    customer = CustomerFactory()

    response = admin_client.get(reverse("admin:accounts_customer_delete", args=[customer.pk]))
    changelist = admin_client.get(reverse("admin:accounts_customer_changelist"))

    assert response.status_code == 403
    assert "delete_selected" not in changelist.context["cl"].model_admin.get_actions(
        changelist.wsgi_request
    )
    assert Customer.objects.filter(pk=customer.pk).exists()
