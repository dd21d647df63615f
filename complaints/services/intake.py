"""Logging a complaint (COP-01, COP-07) and correcting when it was first made."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import ContactMethod, Customer
from accounts.needs import UNREAD, agreed_update_interval
from complaints.clocks import (
    alarms_sync,
    clocks_apply,
    clocks_save,
    policy_for_new_complaint,
)
from complaints.models import CaseEvent, Channel, Complaint, Department, history_batch_adopt
from complaints.services.references import complaint_reference_next
from complaints.services.texts import full_text_keep, text_cut
from complaints.signals import complaint_logged
from complaints.transactions import atomic_step


@atomic_step
def complaint_log(
    *,
    customer: Customer,
    channel: str,
    department: str,
    subject: str,
    description: str,
    actor,
    first_made_at: datetime | None = None,
    agreed_contact_method: str | None = None,
    reason: str = "",
    stated_account_reference: str = "",
    customer_to_match: str = "",
    needs=UNREAD,
    alarms: dict | None = None,
    portal_token: str | None = None,
) -> Complaint:
    """Log a new complaint with its reference, stored clocks and first history row.

    `first_made_at` is when the customer first told us (COP-07), which may be earlier than
    now (a call typed up later); it may not be in the future. The policy in force at that
    moment and the customer's contracted response time (COP-03) are fixed on the
    complaint, so later changes to either never move its deadlines. `actor` is the member
    of staff logging it, or None for a customer or the system. `stated_account_reference`
    is the reference the complainant gave, kept as given; `customer_to_match`, when set,
    says why staff must check which customer the complaint belongs to (it is recorded in
    the first history row and puts the case on the "Customer to match" queue).
    `needs` is the customer's needs row as the caller just read it (accounts.needs
    .needs_read), saving a query; `alarms`, when given, is filled with the deadline alarms
    written (kind -> DeadlineAlarm), for a caller that moves the complaint on at once.
    `portal_token` is the portal form's one-use token (complaints.services.portal): a
    second complaint with the same token raises IntegrityError.
    """
    now = timezone.now()
    first_made_at = first_made_at or now
    errors: dict[str, str] = {}
    if channel not in Channel.values:
        errors["channel"] = f"Choose a channel: {', '.join(Channel.values)}."
    if department not in Department.values:
        errors["department"] = f"Choose a department: {', '.join(Department.values)}."
    if not (subject or "").strip():
        errors["subject"] = "Say in a few words what the complaint is about."
    if not (description or "").strip():
        errors["description"] = "Describe the complaint."
    if timezone.is_naive(first_made_at):
        errors["first_made_at"] = "Give the time the complaint was first made with its time zone."
    elif first_made_at > now:
        errors["first_made_at"] = "The time the complaint was first made cannot be in the future."
    contact = agreed_contact_method or customer.preferred_contact_method
    if contact not in ContactMethod.values:
        errors["agreed_contact_method"] = (
            f"Choose a contact method: {', '.join(ContactMethod.values)}."
        )
    if errors:
        raise ValidationError(errors)

    description, whole = text_cut(description.strip(), file_name="complaint-in-full.txt")
    policy = policy_for_new_complaint(first_made_at)
    complaint = Complaint(
        reference=complaint_reference_next(year=timezone.localtime(now).year),
        customer=customer,
        channel=channel,
        department=department,
        customer_type=customer.customer_type,
        subject=subject.strip(),
        description=description.strip(),
        agreed_contact_method=contact,
        policy_key=policy.key,
        contracted_response_working_days=customer.contracted_response_working_days,
        agreed_update_working_days=agreed_update_interval(customer, needs),
        first_made_at=first_made_at,
        logged_at=now,
        logged_by=actor,
        stated_account_reference=stated_account_reference.strip()[:40],
        customer_to_match=customer_to_match[:200],
        portal_token=portal_token,
    )
    clocks_apply(complaint)
    complaint.save(force_insert=True)
    history_batch_adopt(complaint)
    if whole is not None:
        full_text_keep(complaint, whole, file_name="complaint-in-full.txt", at=now, actor=actor)
    alarms_sync(complaint, existing={} if alarms is None else alarms)  # a new one has none
    event = CaseEvent.objects.record(
        complaint=complaint,
        kind=CaseEvent.Kind.LOGGED,
        actor=actor,
        reason=" ".join(
            filter(
                None,
                [
                    reason or f"Complaint received by {complaint.get_channel_display().lower()}.",
                    customer_to_match and f"{customer_to_match} Staff to match the customer.",
                ],
            )
        ),
        to_status=complaint.status,
        at=now,
        extra={
            "policy": policy.key,
            "first_made_at": first_made_at.isoformat(),
            **({"customer_to_match": customer_to_match} if customer_to_match else {}),
        },
    )
    transaction.on_commit(
        lambda: complaint_logged.send(
            sender=Complaint, complaint_id=complaint.pk, event_id=event.pk
        )
    )
    return complaint


@transaction.atomic
def complaint_first_made_change(
    *, complaint: Complaint, first_made_at: datetime, actor, reason: str
) -> Complaint:
    """Correct when the complaint was first made, with a reason; recompute its clocks (COP-07)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the first-made time is being changed."})
    locked = Complaint.objects.select_for_update().get(pk=complaint.pk)
    if timezone.is_naive(first_made_at):
        raise ValidationError({"first_made_at": "Give the time with its time zone."})
    if first_made_at > locked.logged_at:
        raise ValidationError(
            {"first_made_at": "The complaint cannot have been first made after it was logged."}
        )
    if first_made_at == locked.first_made_at:
        return locked
    previous = locked.first_made_at
    locked.first_made_at = first_made_at
    changed = clocks_save(locked)
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.FIRST_MADE_CHANGED,
        actor=actor,
        reason=reason,
        extra={
            "from": previous.isoformat(),
            "to": first_made_at.isoformat(),
            "clocks_changed": sorted(changed),
        },
    )
    return locked
