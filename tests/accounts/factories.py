"""Factories for users, staff in a role, and customers."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory, Password

from accounts.models import ContactMethod, Customer, CustomerType, User
from accounts.roles import Role, user_role_add

DEMO_PASSWORD = "demo-pass-123"


class UserFactory(DjangoModelFactory):
    """A user with no role; log in with DEMO_PASSWORD."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name", locale="en_GB")
    password = Password(DEMO_PASSWORD)


class StaffUserFactory(UserFactory):
    """A member of staff; `role=` picks the role (support agent by default)."""

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    is_staff = True

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        if create:
            user_role_add(user=obj, role=extracted or Role.SUPPORT_AGENT)


class CustomerUserFactory(UserFactory):
    """A portal login holding the customer role."""

    @factory.post_generation
    def role(obj, create, extracted, **kwargs):
        if create:
            user_role_add(user=obj, role=Role.CUSTOMER)


class CustomerFactory(DjangoModelFactory):
    """A consumer without a portal login, unless told otherwise."""

    class Meta:
        model = Customer

    class Params:
        with_user = factory.Trait(
            user=factory.SubFactory(
                CustomerUserFactory,
                email=factory.SelfAttribute("..email"),
                name=factory.SelfAttribute("..name"),
            )
        )
        # Signed up on the portal and followed the link in the confirmation email.
        confirmed = factory.Trait(
            with_user=True, email_confirmed_at=factory.LazyFunction(timezone.now)
        )
        business_small = factory.Trait(customer_type=CustomerType.BUSINESS, employee_count=9)
        business_large = factory.Trait(customer_type=CustomerType.BUSINESS, employee_count=10)
        unknown_type = factory.Trait(customer_type=CustomerType.UNKNOWN, employee_count=None)

    user = None
    name = factory.Faker("name", locale="en_GB")
    account_reference = factory.Sequence(lambda n: f"ACC{n:06d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone = factory.Sequence(lambda n: f"0117 900 {n % 10000:04d}")
    postal_address = factory.Faker("address", locale="en_GB")
    preferred_contact_method = ContactMethod.EMAIL
    customer_type = CustomerType.CONSUMER
    employee_count = None
