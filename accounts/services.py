"""Writes to users and customers."""

from __future__ import annotations

from datetime import timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

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


CONFIRM_SALT = "accounts.email-confirm"


class ConfirmationInvalid(Exception):
    """The confirmation link is broken, altered or too old; the message says which."""


class AlreadyConfirmed(Exception):
    """The address was confirmed before: the link was used, or another was."""

    def __init__(self, user: User):
        self.user = user
        super().__init__("This address is already confirmed.")


def email_confirmation_token(*, email: str, user: User | None = None) -> str:
    """Return a signed token proving, when it comes back, that its holder reads `email`."""
    payload = {"email": email.strip().lower(), "user": user.pk if user else None}
    return signing.dumps(payload, salt=CONFIRM_SALT, compress=True)


@transaction.atomic
def email_confirm(*, token: str, max_age_days: int) -> User:
    """Confirm an email address from a signed link; link (or create) its customer and login.

    The customer record with this address (the newest, preferring one without a login)
    is linked to the login that asked, or to the login with this address, or to a new one
    with no password. A link confirms once: when that record is already confirmed and
    linked, AlreadyConfirmed is raised and nothing is written, so a used link (forwarded,
    or left in a shared browser's history) never signs anyone in again.
    """
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT, max_age=timedelta(days=max_age_days))
    except signing.SignatureExpired as exc:
        raise ConfirmationInvalid(
            f"This link has expired: links work for {max_age_days} days. Ask for a new one."
        ) from exc
    except signing.BadSignature as exc:
        raise ConfirmationInvalid("This link is not valid. Check you copied all of it.") from exc
    email = payload["email"]
    user = None
    if payload.get("user"):
        user = User.objects.filter(pk=payload["user"], email__iexact=email).first()
    user = user or User.objects.filter(email__iexact=email).first()
    customers = Customer.objects.select_for_update().filter(email__iexact=email)
    customer = (customers.filter(user=user).first() if user else None) or customers.filter(
        user__isnull=True
    ).order_by("-pk").first()
    if customer is None and user is not None:
        customer = Customer.objects.filter(user=user).first()
    if customer is not None and customer.user_id and customer.email_confirmed_at:
        raise AlreadyConfirmed(customer.user)
    if user is None:
        name = customer.name if customer else email.split("@")[0]
        user = User.objects.create_user(email, None, name=name)
    if customer is None:
        customer = Customer(name=user.name or email.split("@")[0], email=email)
    if customer.user_id is None:
        customer.user = user
    customer.email_confirmed_at = customer.email_confirmed_at or timezone.now()
    customer.save()
    user_role_add(user=user, role=Role.CUSTOMER)
    return user


def customers_matching(term: str):
    """The customers a member of staff means by `term` in a search box.

    An account reference, email address (in any case) or telephone number must match whole;
    a name matches any part of it. Each exact match reads an index, and on PostgreSQL a
    trigram index serves the name (accounts migration 0005), so no search reads every
    customer.
    """
    from django.db.models import Q

    term = " ".join(term.split())
    return Customer.objects.filter(
        Q(account_reference=term) | Q(email__iexact=term) | Q(phone=term) | Q(name__icontains=term)
    )


def portal_customer(user, *, filing: bool = False) -> Customer | None:
    """Return the confirmed customer record of a portal login, or None.

    Read once per request: the record found is kept on the request's user object (a new
    one each request), so the portal's list and a complaint's page do not read it twice.
    Not finding one is not kept: a confirmation later in the same request must count.

    With `filing` (the complaint form), in the same SELECT: the customer's needs and
    whether they ever had a representative, which filing would otherwise read one each.
    A user read by accounts.backends.PermissionsBackend.get_user (every signed-in request)
    comes with all three already: no query here at all.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    found = getattr(user, "_redress_portal_customer", None)
    if found is not None and (not filing or hasattr(found, "represented")):
        return found
    if "customer" in user._state.fields_cache:  # joined to the user at sign-in's check
        found = user._state.fields_cache["customer"]  # accounts.backends.get_user
        if found is None or found.email_confirmed_at is None:
            return None
        found.represented = user.customer_represented
        user._redress_portal_customer = found
        return found
    records = Customer.objects.filter(user=user, email_confirmed_at__isnull=False)
    if filing:
        from accounts.representatives import with_represented

        records = with_represented(records.select_related("needs"))
    found = records.first()
    if found is not None:
        user._redress_portal_customer = found
    return found


@transaction.atomic
def customer_contact_change(*, customer: Customer, **fields) -> Customer:
    """Change a customer's contact details and preferences, validated (COP-04, COP-16)."""
    allowed = {
        "name",
        "phone",
        "postal_address",
        "preferred_contact_method",
        "customer_type",
        "employee_count",
    }
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    for field, value in fields.items():
        if field not in allowed:
            raise ValueError(f"{field} cannot be changed here.")
        setattr(locked, field, value)
    if locked.customer_type != CustomerType.BUSINESS:
        locked.employee_count = None
    locked.full_clean()
    locked.save()
    return locked


STAFF_CHANGEABLE = (
    "name",
    "account_reference",
    "email",
    "phone",
    "postal_address",
    "preferred_contact_method",
    "customer_type",
    "employee_count",
    "contract_reference",
    "contracted_response_working_days",
)


@transaction.atomic
def customer_details_change(*, customer: Customer, **fields) -> Customer:
    """Change a customer record as staff (or an integration) may, validated (COP-03, COP-16).

    A customer who signs in to the portal does so with their email address, and a complaint
    is linked to their account by it: only they change it (on the portal). A new contracted
    response time applies to complaints made from now on; each complaint keeps its own.
    """
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    for field, value in fields.items():
        if field not in STAFF_CHANGEABLE:
            raise ValidationError({field: "This cannot be changed here."})
        if field == "email":
            value = User.objects.normalize_email(value or "").lower()
            if locked.user_id and value != locked.email:
                raise ValidationError(
                    {
                        "email": "This customer signs in to the portal with their email "
                        "address; only they can change it, from the portal."
                    }
                )
            if value != locked.email:
                locked.email_confirmed_at = None  # a new address is not confirmed yet
        if isinstance(value, str):
            value = value.strip() if field != "postal_address" else value
        setattr(locked, field, value)
    if locked.customer_type != CustomerType.BUSINESS:
        locked.employee_count = None
    locked.full_clean()
    locked.save()
    return locked
