"""Complaints that arrive by phone (COP-04) or letter (COP-06), logged by staff in one step."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import ContactMethod, Customer
from complaints.domain.lifecycle import Status
from complaints.models import Attachment, Channel, Complaint, Correspondence, Direction
from complaints.services.desk import complaint_attachment_add
from complaints.services.intake import complaint_log
from complaints.services.responses import complaint_phone_promise
from complaints.services.transitions import complaint_transition


@transaction.atomic
def customer_find_or_create(
    *,
    account_reference: str = "",
    name: str = "",
    email: str = "",
    phone: str = "",
    postal_address: str = "",
) -> Customer:
    """Return the customer with this account reference (or email), else a new customer.

    Contact details given here fill in what the record lacks; they never overwrite it.
    """
    account_reference, email = account_reference.strip(), email.strip().lower()
    customer = None
    if account_reference:
        customer = Customer.objects.filter(account_reference__iexact=account_reference).first()
    if customer is None and email:
        customer = Customer.objects.filter(email__iexact=email).order_by("-pk").first()
    if customer is None:
        if not name.strip():
            raise ValidationError({"name": "Give the customer's name, or an account reference."})
        customer = Customer(account_reference=account_reference, name=name.strip())
    for field, value in (
        ("email", email),
        ("phone", phone.strip()),
        ("postal_address", postal_address.strip()),
    ):
        if value and not getattr(customer, field):
            setattr(customer, field, value)
    customer.full_clean()
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        # Someone recorded this account reference a moment ago: it is that customer.
        existing = Customer.objects.filter(account_reference__iexact=account_reference).first()
        if existing is None:
            raise
        return existing
    return customer


@transaction.atomic
def complaint_log_call(
    *,
    actor,
    customer: Customer,
    department: str,
    subject: str,
    description: str,
    called_at: datetime,
    resolved: bool,
    what_was_done: str = "",
    promised_at: datetime | None = None,
    contact_method: str = "",
) -> Complaint:
    """Log a phone complaint: resolved on the call, or a promised next response (COP-04)."""
    errors = {}
    if resolved and not what_was_done.strip():
        errors["what_was_done"] = "Say what was done on the call to resolve it."
    if not resolved:
        if promised_at is None:
            errors["promised_at"] = "Give the time you promised the customer our next response."
        if contact_method not in ContactMethod.values:
            errors["contact_method"] = "Record how the customer agreed to be contacted."
    if errors:
        raise ValidationError(errors)
    complaint = complaint_log(
        customer=customer,
        channel=Channel.PHONE,
        department=department,
        subject=subject,
        description=description,
        first_made_at=called_at,
        agreed_contact_method=contact_method or ContactMethod.PHONE,
        actor=actor,
        reason="Complaint made by phone.",
    )
    if resolved:
        Correspondence.objects.create(
            complaint=complaint,
            direction=Direction.OUTBOUND,
            channel=Channel.PHONE,
            subject="Resolved on the call",
            body=what_was_done.strip(),
            at=called_at,
            recorded_by=actor,
        )
        complaint_transition(
            complaint=complaint,
            to=Status.RESOLVED_AT_FIRST_CONTACT,
            actor=actor,
            reason=f"Resolved on the call: {what_was_done.strip()}",
            at=called_at,
        )
    else:
        complaint_phone_promise(
            complaint=complaint,
            actor=actor,
            promised_at=promised_at,
            contact_method=contact_method,
        )
    complaint.refresh_from_db()
    return complaint


@transaction.atomic
def complaint_log_letter(
    *,
    actor,
    customer: Customer,
    department: str,
    subject: str,
    description: str,
    received_at: datetime,
    scan,
    no_contact_given: bool = False,
) -> Complaint:
    """Log a complaint by letter with its scan attached (COP-06).

    The Code asks letter writers for a phone number or email; staff record one if the
    letter has it, or confirm it gave none. Replies then go by email or phone when known.
    """
    if not (customer.email or customer.phone) and not no_contact_given:
        raise ValidationError(
            {
                "email": "Record the phone number or email address the letter gives, or confirm "
                "that it gives neither (COP-06)."
            }
        )
    if customer.email:
        method = ContactMethod.EMAIL
    elif customer.phone:
        method = ContactMethod.PHONE
    else:
        method = ContactMethod.POST
    complaint = complaint_log(
        customer=customer,
        channel=Channel.LETTER,
        department=department,
        subject=subject,
        description=description,
        first_made_at=received_at,
        agreed_contact_method=method,
        actor=actor,
        reason="Complaint made by letter.",
    )
    Correspondence.objects.create(
        complaint=complaint,
        direction=Direction.INBOUND,
        channel=Channel.LETTER,
        subject=subject,
        body=description,
        at=received_at,
        recorded_by=actor,
    )
    complaint_attachment_add(
        complaint=complaint,
        actor=actor,
        upload=scan,
        kind=Attachment.Kind.LETTER_SCAN,
        max_bytes=settings.REDRESS_MAX_ATTACHMENT_BYTES,
    )
    return complaint
