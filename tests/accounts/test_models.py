"""Users log in by email; customer records keep their invariants in the database."""

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Customer, CustomerType, User
from tests.accounts.factories import DEMO_PASSWORD, CustomerFactory, UserFactory

pytestmark = pytest.mark.django_db


def login_request():
    """A request for authenticate(): login throttling (django-axes) needs one."""
    from django.test import RequestFactory

    return RequestFactory().post("/account/login/")


class TestUser:
    def test_create_user_stores_email_in_lower_case(self):
        user = User.objects.create_user("Alice.Smith@Example.COM", "s3cret-pass", name="Alice")

        assert user.email == "alice.smith@example.com"
        assert not user.is_staff
        assert not user.is_superuser

    @pytest.mark.parametrize(
        "typed", ["alice@example.com", "ALICE@example.com", "Alice@Example.Com"]
    )
    def test_login_by_email_ignores_case(self, typed):
        user = UserFactory(email="alice@example.com")

        assert authenticate(request=login_request(), email=typed, password=DEMO_PASSWORD) == user
        assert authenticate(request=login_request(), username=typed, password=DEMO_PASSWORD) == user

    def test_login_refused_with_wrong_password(self):
        UserFactory(email="alice@example.com")

        assert (
            authenticate(request=login_request(), email="alice@example.com", password="wrong")
            is None
        )

    def test_login_refused_for_inactive_user(self):
        UserFactory(email="alice@example.com", is_active=False)

        assert (
            authenticate(request=login_request(), email="alice@example.com", password=DEMO_PASSWORD)
            is None
        )

    def test_email_is_required(self):
        with pytest.raises(ValueError, match="email"):
            User.objects.create_user("", "pw")

    def test_create_superuser(self):
        user = User.objects.create_superuser("Root@Example.com", "s3cret-pass", name="Root")

        assert user.email == "root@example.com"
        assert user.is_staff and user.is_superuser and user.is_active
        assert user.has_perm("complaints.review_formal")
        assert (
            authenticate(request=login_request(), email="root@example.com", password="s3cret-pass")
            == user
        )

    def test_create_superuser_refuses_non_superuser_flags(self):
        with pytest.raises(ValueError):
            User.objects.create_superuser("root@example.com", "pw", is_superuser=False)

    def test_names(self):
        assert str(UserFactory(name="Alice Smith")) == "Alice Smith"
        assert UserFactory(name="Alice Smith").get_short_name() == "Alice"
        assert str(UserFactory(name="", email="x@example.com")) == "x@example.com"


class TestCustomerEmployees:
    """COP-16: the employee count belongs to businesses only."""

    @pytest.mark.parametrize("customer_type", [CustomerType.CONSUMER, CustomerType.UNKNOWN])
    def test_database_rejects_employee_count_unless_business(self, customer_type):
        with pytest.raises(IntegrityError), transaction.atomic():
            CustomerFactory(customer_type=customer_type, employee_count=5)

    def test_clean_explains_on_the_field(self):
        customer = CustomerFactory.build(customer_type=CustomerType.CONSUMER, employee_count=5)

        with pytest.raises(ValidationError) as caught:
            customer.full_clean()

        assert list(caught.value.message_dict) == ["employee_count"]
        assert "Only a business" in caught.value.message_dict["employee_count"][0]

    @pytest.mark.parametrize("trait, employees", [("business_small", 9), ("business_large", 10)])
    def test_business_may_have_employees(self, trait, employees):
        customer = CustomerFactory(**{trait: True})

        customer.full_clean()
        assert customer.customer_type == CustomerType.BUSINESS
        assert customer.employee_count == employees

    def test_business_employee_count_may_be_unknown(self):
        CustomerFactory(customer_type=CustomerType.BUSINESS, employee_count=None).full_clean()

    def test_unknown_type_trait(self):
        assert CustomerFactory(unknown_type=True).customer_type == CustomerType.UNKNOWN


class TestCustomerContract:
    """COP-03: a contracted response time, when present, is at least one working day."""

    @pytest.mark.parametrize("days", [0, 31])
    def test_out_of_range_response_time_is_rejected(self, days):
        customer = CustomerFactory.build(contracted_response_working_days=days)

        with pytest.raises(ValidationError) as caught:
            customer.full_clean()

        assert "contracted_response_working_days" in caught.value.message_dict

    @pytest.mark.parametrize("days", [None, 1])
    def test_valid_response_time(self, days):
        CustomerFactory.build(contracted_response_working_days=days).full_clean()


class TestCustomerAccountReference:
    def test_non_empty_reference_is_unique(self):
        CustomerFactory(account_reference="ACC-1")

        with pytest.raises(IntegrityError), transaction.atomic():
            CustomerFactory(account_reference="ACC-1")

    def test_full_clean_reports_duplicate_reference(self):
        CustomerFactory(account_reference="ACC-1")

        with pytest.raises(ValidationError):
            CustomerFactory.build(account_reference="ACC-1").full_clean()

    def test_many_customers_without_reference(self):
        CustomerFactory.create_batch(3, account_reference="")

        assert Customer.objects.filter(account_reference="").count() == 3
        CustomerFactory.build(account_reference="").full_clean()

    def test_str_shows_reference(self):
        assert str(CustomerFactory(name="Bob", account_reference="ACC-9")) == "Bob (ACC-9)"
        assert str(CustomerFactory(name="Bob", account_reference="")) == "Bob"


def test_customer_with_portal_login():
    customer = CustomerFactory(with_user=True)

    assert customer.user.email == customer.email
    assert customer.user.customer == customer
    assert not customer.user.is_staff
