"""Categories, products and root causes of complaints, each change recorded (issue 16)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from complaints.clocks import clocks_save
from complaints.models import CaseEvent, Category, Complaint, Product, RootCause


def _name(value) -> str:
    return value.name if value is not None else "none"


@transaction.atomic
def complaint_categorise(
    *, complaint: Complaint, actor, category: Category, product: Product | None, reason: str = ""
) -> Complaint:
    """Set what the complaint is about (at triage), recorded in the history with who and why."""
    if category is None:
        raise ValidationError({"category": "Choose what the complaint is about."})
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    product_id = product.pk if product else None
    if locked.category_id == category.pk and locked.product_id == product_id:
        return locked
    before = {"category": locked.category_id and locked.category.code}
    before["product"] = locked.product_id and locked.product.code
    locked.category, locked.product = category, product
    clocks_save(locked)
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.CATEGORISED,
        actor=actor,
        reason=(reason or "").strip() or f"Category: {category.name}; product: {_name(product)}.",
        extra={
            "category": category.code,
            "product": product.code if product else None,
            "was": before,
        },
    )
    return locked


@transaction.atomic
def complaint_root_cause_record(
    *,
    complaint: Complaint,
    actor,
    root_cause: RootCause,
    company_at_fault: bool,
    reason: str = "",
    now=None,
) -> Complaint:
    """Record why it went wrong and whether the company was at fault, with who and when.

    Allowed on a closed case too: that is how a case leaves the "Root cause missing" queue.
    """
    if root_cause is None:
        raise ValidationError({"root_cause": "Choose the root cause."})
    if company_at_fault is None:
        raise ValidationError({"company_at_fault": "Say whether the company was at fault."})
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    if locked.root_cause_id == root_cause.pk and locked.company_at_fault == company_at_fault:
        return locked
    was = {
        "root_cause": locked.root_cause_id and locked.root_cause.code,
        "company_at_fault": locked.company_at_fault,
    }
    now = now or timezone.now()
    locked.root_cause = root_cause
    locked.company_at_fault = company_at_fault
    locked.root_cause_recorded_at = now
    locked.root_cause_recorded_by = actor
    clocks_save(locked)
    fault = "the company was at fault" if company_at_fault else "the company was not at fault"
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.ROOT_CAUSE,
        actor=actor,
        reason=(reason or "").strip() or f"Root cause: {root_cause.name}; {fault}.",
        at=now,
        extra={"root_cause": root_cause.code, "company_at_fault": company_at_fault, "was": was},
    )
    return locked
