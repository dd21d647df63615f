"""Writes to users and customers."""

from __future__ import annotations

from django.db import transaction

from accounts.models import ContactMethod, Customer, CustomerType, User
from accounts.roles import STAFF_ROLES, Role, user_role_add


@transaction.atomic
def staff_user_create(*, email: str, name: str, role: Role, password: str | None = None) -> User:
    """Create a member of staff holding the given staff role."""
    role = Role(role)
    if role not in STAFF_ROLES:
        raise ValueError(f"{role.label!r} is not a staff role.")
    user = User.objects.create_user(email, password, name=name, is_staff=True)
    user_role_add(user=user, role=role)
    return user


@transaction.atomic
def customer_create(
    *,
    name: str,
    account_reference: str = "",
    email: str = "",
    phone: str = "",
    postal_address: str = "",
    preferred_contact_method: str = ContactMethod.EMAIL,
    customer_type: str = CustomerType.UNKNOWN,
    employee_count: int | None = None,
    contract_reference: str = "",
    contracted_response_working_days: int | None = None,
    user: User | None = None,
) -> Customer:
    """Validate and save a new customer record (COP-03, COP-16)."""
    customer = Customer(
        name=name,
        account_reference=account_reference.strip(),
        email=User.objects.normalize_email(email).lower(),
        phone=phone.strip(),
        postal_address=postal_address,
        preferred_contact_method=preferred_contact_method,
        customer_type=customer_type,
        employee_count=employee_count,
        contract_reference=contract_reference.strip(),
        contracted_response_working_days=contracted_response_working_days,
        user=user,
    )
    customer.full_clean()
    customer.save()
    return customer


@transaction.atomic
def customer_portal_user_create(*, customer: Customer, email: str, password: str) -> User:
    """Give a customer a portal login (a user holding the customer role)."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.user_id is not None:
        raise ValueError(f"Customer {customer} already has a portal login.")
    user = User.objects.create_user(email, password, name=customer.name)
    user_role_add(user=user, role=Role.CUSTOMER)
    locked.user = user
    locked.save(update_fields=["user"])
    customer.user = user
    return user
