"""Recorded needs of a customer (issue 15 items 1 and 3; Ofcom GC C5).

Recording, correcting, reviewing and withdrawing needs go through here, whoever does it:
the customer on the portal, staff on the desk, or an integration through the API. The
rules themselves are in accounts/needs_rules.py.

Where the history lives: a ``CustomerNeedsEvent`` for the customer (recorded, changed,
reviewed, withdrawn: who, when, how consent was given), and, through the
``needs_changed`` signal, a ``CaseEvent`` on each of the customer's open complaints.
Neither ever holds the needs or their details, so withdrawing consent (which deletes the
``CustomerNeeds`` row) leaves nothing of them behind in the append-only history.
"""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from accounts import needs_rules
from accounts.models import (
    CommunicationFormat,
    ConsentHow,
    Customer,
    CustomerNeeds,
    CustomerNeedsEvent,
    CustomerNeedsEventKind,
    Integration,
    NeedKind,
    User,
)
from complaints.domain.deadlines import progress_update_floor

# Sent inside the writing transaction with customer, kind (a CustomerNeedsEventKind),
# actor (None for the customer on the portal), consent_how, by_customer and
# update_interval (the agreed interval now in force, or None). The complaints app
# records it on the customer's open complaints and moves their progress-update clocks.
needs_changed = Signal()

KEEP = object()  # "leave as it is": what the portal passes for the staff-only agreements

STAFF_CONSENT = [c for c in ConsentHow.values if c != ConsentHow.PORTAL]


def communication_format(customer: Customer) -> str:
    """Return the CommunicationFormat in force for `customer`; STANDARD without a record.

    Read from the database each time (one indexed query), so a format withdrawn a moment
    ago is never used from a stale copy of the customer.
    """
    value = (
        CustomerNeeds.objects.filter(customer_id=customer.pk)
        .values_list("communication_format", flat=True)
        .first()
    )
    return value or CommunicationFormat.STANDARD


def needs_of(customer: Customer) -> CustomerNeeds | None:
    """Return the customer's recorded needs, or None (as loaded, e.g. by select_related)."""
    try:
        return customer.needs
    except CustomerNeeds.DoesNotExist:
        return None


# "Not read yet": what callers pass when they have not read the customer's needs row.
UNREAD = object()


def needs_read(customer: Customer) -> CustomerNeeds | None:
    """Read the customer's needs row now (one indexed query), or None without one.

    For a caller that uses it several times in one transaction (filing a complaint):
    the interval, format and needs below, from one read as fresh as each of theirs.
    """
    return CustomerNeeds.objects.filter(customer_id=customer.pk).first()


def agreed_update_interval(customer: Customer, needs=UNREAD) -> int | None:
    """Return the progress-update interval agreed for `customer`, or None for the Code's.

    `needs` is the row as the caller just read it (needs_read), saving the query.
    """
    if needs is not UNREAD:
        return needs.update_interval_working_days if needs else None
    return (
        CustomerNeeds.objects.filter(customer_id=customer.pk)
        .values_list("update_interval_working_days", flat=True)
        .first()
    )


def update_interval_floor() -> int:
    """Return the fewest working days an agreed progress-update interval may be (COP-13)."""
    return progress_update_floor(settings.REDRESS_POLICY_SET)


def review_date_default(today: date | None = None) -> date:
    """Return when a record made today is due for review (REDRESS_NEEDS_REVIEW_MONTHS)."""
    today = today or timezone.localdate()
    return needs_rules.review_date_default(today, months=settings.REDRESS_NEEDS_REVIEW_MONTHS)


def needs_badge(needs: CustomerNeeds | None) -> str:
    """Return the staff-only badge's words for `needs`, or "" when none are recorded."""
    if needs is None:
        return ""
    return needs_rules.needs_badge_words(
        kinds=needs.kinds, communication_format=needs.communication_format
    )


def needs_due_for_review(today: date | None = None):
    """Return the recorded needs whose review date has come, soonest first (by its index)."""
    today = today or timezone.localdate()
    return CustomerNeeds.objects.filter(review_on__lte=today).order_by("review_on", "pk")


def _actor_check(*, actor: User | None, by_customer: bool, customer: Customer, consent_how: str):
    if by_customer:
        if actor is None or actor.pk != customer.user_id:
            raise PermissionError("Only the customer records their own needs on the portal.")
        if consent_how != ConsentHow.PORTAL:
            raise ValidationError({"consent_how": "On the portal, consent is the customer's own."})
        return
    if actor is None or not actor.is_staff:
        raise PermissionError("Needs are recorded by the customer or by a member of staff.")
    if consent_how not in STAFF_CONSENT:
        raise ValidationError(
            {
                "consent_how": (
                    "Say how the customer agreed to us recording their needs: "
                    + ", ".join(ConsentHow(c).label.lower() for c in STAFF_CONSENT)
                    + "."
                )
            }
        )


def _event(customer, kind, *, actor, by_customer, consent_how, at, update_interval):
    CustomerNeedsEvent.objects.create(
        customer=customer,
        kind=kind,
        actor=None if by_customer else actor,
        by_customer=by_customer,
        consent_how=consent_how,
        at=at,
    )
    needs_changed.send(
        sender=CustomerNeeds,
        customer=customer,
        kind=kind,
        actor=actor,
        consent_how=consent_how,
        by_customer=by_customer,
        update_interval=update_interval,
        at=at,
    )


@transaction.atomic
def needs_record(
    *,
    customer: Customer,
    actor: User | None,
    consent_how: str,
    kinds: list[str],
    details: str = "",
    communication_format: str = CommunicationFormat.STANDARD,
    call_times: str = "",
    update_interval_working_days=KEEP,
    named_contact=KEEP,
    review_on=KEEP,
    by_customer: bool = False,
    now: datetime | None = None,
) -> CustomerNeeds:
    """Record or correct a customer's needs, with their consent (issue 15; Ofcom GC C5).

    The customer does it on the portal (`by_customer`, consent "portal"); staff record
    how the customer agreed (phone, letter, email, in person). Staff alone agree a longer
    progress-update interval and a named contact (item 3); the portal leaves them as
    they are (KEEP). Bad input raises ValidationError and changes nothing.
    """
    now = now or timezone.now()
    _actor_check(actor=actor, by_customer=by_customer, customer=customer, consent_how=consent_how)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    existing = CustomerNeeds.objects.filter(customer=customer).first()

    kinds = needs_rules.kinds_normalised(kinds, order=NeedKind.values)
    details, call_times = details.strip(), call_times.strip()
    errors = needs_rules.needs_problems(
        kinds=kinds, known=set(NeedKind.values), details=details, call_times=call_times
    )
    if communication_format not in CommunicationFormat.values:
        errors["communication_format"] = "Choose how we should send letters and updates."
    if update_interval_working_days is KEEP:
        update_interval_working_days = existing.update_interval_working_days if existing else None
    problem = needs_rules.update_interval_problem(
        update_interval_working_days, floor=update_interval_floor()
    )
    if problem:
        errors["update_interval_working_days"] = problem
    if named_contact is KEEP:
        named_contact = existing.named_contact if existing else None
    if named_contact is not None and not (
        named_contact.is_staff
        and named_contact.is_active
        and not Integration.objects.filter(user=named_contact).exists()
    ):
        errors["named_contact"] = "The named contact must be an active member of staff."
    if review_on is KEEP or review_on is None:
        review_on = existing.review_on if existing else review_date_default()
        if review_on < timezone.localdate(now):  # a correction is a fresh look
            review_on = review_date_default(timezone.localdate(now))
    elif review_on <= timezone.localdate(now):
        errors["review_on"] = "Give a review date in the future."
    if errors:
        raise ValidationError(errors)

    needs = existing or CustomerNeeds(customer=customer, recorded_at=now)
    fields = {
        "kinds": kinds,
        "details": details,
        "communication_format": communication_format,
        "call_times": call_times,
        "update_interval_working_days": update_interval_working_days,
        "named_contact": named_contact,
        "review_on": review_on,
    }
    if existing and all(getattr(existing, f) == v for f, v in fields.items()):
        return existing  # nothing new to record
    for name, value in fields.items():
        setattr(needs, name, value)
    needs.consent_given_at = now
    needs.consent_how = consent_how
    needs.recorded_by = None if by_customer else actor
    needs.updated_at = now
    needs.full_clean(exclude=["customer"])
    needs.save()
    kind = CustomerNeedsEventKind.CHANGED if existing else CustomerNeedsEventKind.RECORDED
    _event(
        customer,
        kind,
        actor=actor,
        by_customer=by_customer,
        consent_how=consent_how,
        at=now,
        update_interval=update_interval_working_days,
    )
    customer.needs = needs
    return needs


@transaction.atomic
def needs_withdraw(
    *, customer: Customer, actor: User | None, by_customer: bool = False, now=None
) -> bool:
    """Delete the customer's recorded needs: consent is withdrawn (issue 15; UK GDPR).

    The history keeps only that needs were recorded and then withdrawn. Returns False
    when there was nothing to withdraw.
    """
    now = now or timezone.now()
    if by_customer:
        if actor is None or actor.pk != customer.user_id:
            raise PermissionError("Only the customer withdraws their own needs on the portal.")
    elif actor is None or not actor.is_staff:
        raise PermissionError("Needs are withdrawn by the customer or by a member of staff.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    deleted, _ = CustomerNeeds.objects.filter(customer=customer).delete()
    if not deleted:
        return False
    _event(
        customer,
        CustomerNeedsEventKind.WITHDRAWN,
        actor=actor,
        by_customer=by_customer,
        consent_how="",
        at=now,
        update_interval=None,
    )
    return True


@transaction.atomic
def needs_review(
    *, customer: Customer, actor: User, review_on: date | None = None, now=None
) -> CustomerNeeds:
    """Record that staff reviewed the needs with the customer; set the next review date."""
    now = now or timezone.now()
    if actor is None or not actor.is_staff:
        raise PermissionError("Needs are reviewed by a member of staff.")
    needs = CustomerNeeds.objects.select_for_update().filter(customer=customer).first()
    if needs is None:
        raise ValidationError("This customer has no recorded needs to review.")
    today = timezone.localdate(now)
    review_on = review_on or review_date_default(today)
    if review_on <= today:
        raise ValidationError({"review_on": "Give a review date in the future."})
    needs.review_on = review_on
    needs.updated_at = now
    needs.save(update_fields=["review_on", "updated_at"])
    CustomerNeedsEvent.objects.create(
        customer=customer, kind=CustomerNeedsEventKind.REVIEWED, actor=actor, at=now
    )
    return needs
