"""Creating staff and customers."""

import pytest
from django.core.exceptions import ValidationError

from accounts.models import CustomerType
from accounts.roles import Role, user_roles
from accounts.services import customer_create, customer_portal_user_create, staff_user_create
from tests.accounts.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_staff_user_create():
    user = staff_user_create(
        email="Agent@Example.com", name="Ann Agent", role=Role.SUPPORT_AGENT, password="pw-123456"
    )

    assert user.email == "agent@example.com"
    assert user.is_staff
    assert user_roles(user) == {Role.SUPPORT_AGENT}
    assert user.check_password("pw-123456")


def test_staff_user_create_refuses_customer_role():
    with pytest.raises(ValueError, match="not a staff role"):
        staff_user_create(email="c@example.com", name="C", role=Role.CUSTOMER)


def test_customer_create():
    customer = customer_create(
        name="Acme Ltd",
        account_reference=" ACC-1 ",
        email="Billing@Acme.Example",
        customer_type=CustomerType.BUSINESS,
        employee_count=4,
        contracted_response_working_days=1,
    )

    assert customer.pk
    assert customer.account_reference == "ACC-1"
    assert customer.email == "billing@acme.example"


def test_customer_create_validates():
    with pytest.raises(ValidationError) as caught:
        customer_create(name="Pat", customer_type=CustomerType.CONSUMER, employee_count=3)

    assert "employee_count" in caught.value.message_dict


def test_customer_portal_user_create():
    customer = CustomerFactory()

    user = customer_portal_user_create(
        customer=customer, email=customer.email, password="pw-123456"
    )

    customer.refresh_from_db()
    assert customer.user == user
    assert user_roles(user) == {Role.CUSTOMER}
    assert not user.is_staff
    with pytest.raises(ValueError, match="already has a portal login"):
        customer_portal_user_create(customer=customer, email="other@example.com", password="x")
