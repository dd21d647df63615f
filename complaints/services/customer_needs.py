"""A customer's recorded needs, on their open complaints (issue 15 items 1 and 3).

accounts/needs.py sends ``needs_changed`` inside its transaction; this records it on
each open complaint's history (that needs were recorded, changed or withdrawn, never
what they are) and moves the progress-update clock to the agreed interval. The Code's
other clocks do not read the interval, so they never move (COP-12, COP-16, COP-18).
"""

from __future__ import annotations

from accounts.models import ConsentHow, CustomerNeedsEventKind
from complaints.clocks import clocks_save
from complaints.domain.lifecycle import OPEN_STATUSES
from complaints.models import CaseEvent, Complaint

_WHAT = {
    CustomerNeedsEventKind.RECORDED: "The customer's needs were recorded",
    CustomerNeedsEventKind.CHANGED: "The customer's recorded needs were changed",
    CustomerNeedsEventKind.WITHDRAWN: (
        "The customer's recorded needs were withdrawn and their details deleted"
    ),
}


def needs_reason(*, kind: str, consent_how: str, by_customer: bool) -> str:
    """Return the history line for a needs event: what happened and how, never the needs."""
    what = _WHAT[kind]
    if by_customer:
        return f"{what} by the customer on the portal."
    if consent_how:
        return f"{what}, with the customer's consent given {ConsentHow(consent_how).label.lower()}."
    return f"{what} by staff."


def needs_on_complaints(
    *, customer, kind, actor, consent_how, by_customer, update_interval, at, **_signal
) -> None:
    """Record a needs event on each open complaint of `customer`; apply the agreed interval."""
    if kind not in _WHAT:
        return  # a review changes nothing on the cases
    reason = needs_reason(kind=kind, consent_how=consent_how, by_customer=by_customer)
    open_ids = Complaint.objects.filter(
        customer=customer, status__in=[s.value for s in OPEN_STATUSES]
    ).values_list("pk", flat=True)
    for complaint in Complaint.objects.select_for_update().filter(pk__in=list(open_ids)):
        if complaint.agreed_update_working_days != update_interval:
            complaint.agreed_update_working_days = update_interval
            clocks_save(complaint)
        CaseEvent.objects.record(
            complaint=complaint, kind=CaseEvent.Kind.NEEDS, actor=actor, reason=reason, at=at
        )


def named_contact_for(complaint):
    """Return the staff user the customer's needs name as the case's contact, or None."""
    from accounts.models import CustomerNeeds

    needs = (
        CustomerNeeds.objects.filter(
            customer_id=complaint.customer_id, named_contact__is_active=True
        )
        .select_related("named_contact")
        .first()
    )
    return needs.named_contact if needs else None


def named_contacts_for(customer_ids) -> dict:
    """Return {customer id: named contact} for those of `customer_ids` whose needs name one.

    named_contact_for() for many customers in one query (the deadline sweep, issue 17).
    """
    from accounts.models import CustomerNeeds

    needs = CustomerNeeds.objects.filter(
        customer_id__in=list(customer_ids), named_contact__is_active=True
    ).select_related("named_contact")
    return {n.customer_id: n.named_contact for n in needs}
