"""Staff actions on a case from the triage desk, each recorded in the history (COP-08, COP-11)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from complaints.clocks import clocks_save
from complaints.domain.lifecycle import CLOSED_STATUSES, Status
from complaints.models import (
    Attachment,
    CaseEvent,
    CaseNote,
    Complaint,
    ThirdPartyCorrespondence,
)
from complaints.services.transitions import complaint_transition
from complaints.uploads import upload_check


class ComplaintChanged(Exception):
    """Raised when someone else changed the case since the member of staff loaded it."""

    def __init__(self, complaint: Complaint):
        last = complaint.events.order_by("-at", "-pk").first()
        if last:
            when = timezone.localtime(last.at).strftime("%d %b %Y at %H:%M")
            detail = f"by {last.actor_label} on {when} ({last.reason or last.get_kind_display()})"
        else:
            detail = "by someone else"
        super().__init__(
            f"{complaint.reference} was changed {detail} after you opened it. Nothing was "
            "saved: check the latest and try again."
        )


@contextmanager
def complaint_unchanged(complaint: Complaint, expected_version: int | None) -> Iterator[Complaint]:
    """Lock the case for one action, refusing if it changed since `expected_version` was read.

    Two members of staff acting on the same case can never silently overwrite each other:
    the second is told who changed it and when.
    """
    with transaction.atomic():
        locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
        if expected_version is not None and locked.version != expected_version:
            raise ComplaintChanged(locked)
        yield locked


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


@transaction.atomic
def complaint_assign(*, complaint: Complaint, assignee, actor) -> Complaint:
    """Give the case to a member of staff (or to nobody), recorded in the history."""
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    if assignee is not None and not assignee.is_staff:
        raise ValidationError({"assignee": "Only members of staff can be assigned a complaint."})
    if locked.assignee_id == (assignee.pk if assignee else None):
        return locked
    previous = str(locked.assignee) if locked.assignee_id else "nobody"
    locked.assignee = assignee
    clocks_save(locked)
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.ASSIGNED,
        actor=actor,
        reason=f"Assigned to {assignee or 'nobody'} (was {previous}).",
        extra={"assignee_id": assignee.pk if assignee else None},
    )
    return locked


@transaction.atomic
def complaint_note_add(*, complaint: Complaint, actor, body: str) -> CaseNote:
    """Add an internal, attributed note of facts found (COP-08); never shown to the customer."""
    body = _text(body, "body", "Write the note.")
    note = CaseNote.objects.create(complaint=complaint, author=actor, body=body)
    CaseEvent.objects.record(
        complaint=complaint, kind=CaseEvent.Kind.NOTE, actor=actor, reason="Internal note added."
    )
    return note


@transaction.atomic
def complaint_await_third_party(
    *, complaint: Complaint, actor, third_party_name: str, reason: str = ""
) -> Complaint:
    """Put the case on hold for a named third party; progress updates fall due (COP-13)."""
    name = _text(third_party_name, "third_party_name", "Name the third party you are waiting for.")
    locked = complaint_transition(
        complaint=complaint,
        to=Status.AWAITING_THIRD_PARTY,
        actor=actor,
        reason=(reason or "").strip() or f"Waiting for {name}.",
        extra={"third_party": name},
    )
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=locked.pk)
    locked.awaiting_third_party_name = name
    locked.save(update_fields=["awaiting_third_party_name"])
    return locked


@transaction.atomic
def complaint_third_party_log(
    *,
    complaint: Complaint,
    actor,
    third_party_name: str,
    direction: str,
    body: str,
    at: datetime | None = None,
) -> ThirdPartyCorrespondence:
    """Record correspondence with a supplier or other third party (COP-08)."""
    name = _text(third_party_name, "third_party_name", "Name the third party.")
    body = _text(body, "body", "Write or paste the correspondence.")
    if direction not in ("in", "out"):
        raise ValidationError({"direction": "Say whether it was from or to the third party."})
    record = ThirdPartyCorrespondence.objects.create(
        complaint=complaint,
        third_party_name=name,
        direction=direction,
        body=body,
        at=at or timezone.now(),
        recorded_by=actor,
    )
    CaseEvent.objects.record(
        complaint=complaint,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=actor,
        reason=f"Third-party correspondence {'from' if direction == 'in' else 'to'} {name}.",
    )
    return record


@transaction.atomic
def complaint_attachment_add(
    *,
    complaint: Complaint,
    actor,
    upload,
    kind: str = Attachment.Kind.TECHNICAL_REPORT,
    customer_visible: bool = False,
    max_bytes: int,
) -> Attachment:
    """Attach a checked file (a technical report, a letter scan) to the case (COP-06, COP-08)."""
    checked = upload_check(upload, max_bytes=max_bytes)
    attachment = Attachment(
        complaint=complaint,
        kind=kind,
        original_name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        customer_visible=customer_visible,
        uploaded_by=actor,
    )
    attachment.file.save(checked.name, File(upload), save=False)
    attachment.save()
    CaseEvent.objects.record(
        complaint=complaint,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=actor,
        reason=f"{attachment.get_kind_display()} attached: {checked.name}.",
        extra={"attachment_id": attachment.pk},
    )
    return attachment


def complaint_acknowledge(*, complaint: Complaint, actor, reason: str = "") -> Complaint:
    """Record that the customer was told we have the complaint and what happens next."""
    return complaint_transition(
        complaint=complaint,
        to=Status.ACKNOWLEDGED,
        actor=actor,
        reason=(reason or "").strip() or "Complaint acknowledged.",
    )


ESCALATION_REQUESTS = {
    "technical_director": "the Technical Director",
    "company_secretary": "the Company Secretary",
    "not_specified": "a senior manager",
}


def complaint_can_escalate(complaint: Complaint) -> bool:
    """Return whether the complaint can still be escalated to a formal review (COP-11, COP-15).

    Once formal, the review runs once: after the final proposition the next step is the
    ADR scheme, not a second review.
    """
    from complaints.domain.lifecycle import allowed_next

    return Status.FORMAL in allowed_next(complaint.status) and not hasattr(complaint, "formal_case")


def complaint_escalate(*, complaint: Complaint, actor, requested: str, reason: str) -> Complaint:
    """Escalate to formal status because the customer is still dissatisfied (COP-11, COP-15)."""
    if requested not in ESCALATION_REQUESTS:
        raise ValidationError({"requested": "Say whom the customer asked for."})
    reason = _text(reason, "reason", "Record what the customer said.")
    from escalation.models import FormalCase
    from escalation.services import formal_case_open

    if FormalCase.objects.filter(
        complaint=complaint, outcome=FormalCase.Outcome.FINAL_PROPOSITION
    ).exists():
        raise ValidationError(
            "Our final proposition has been sent: the review cannot start again. The customer "
            "can take the complaint to the ADR scheme (COP-15, COP-17)."
        )

    with transaction.atomic():
        locked = complaint_transition(
            complaint=complaint,
            to=Status.FORMAL,
            actor=actor,
            reason=f"Customer still dissatisfied; asked for {ESCALATION_REQUESTS[requested]}: "
            f"{reason}",
            extra={"requested": requested},
        )
        formal_case_open(complaint=locked, actor=actor, requested=requested, reason=reason)
        locked.refresh_from_db()
    if locked is not complaint:
        complaint.refresh_from_db()
    return locked


def complaint_reopen(*, complaint: Complaint, actor, reason: str) -> Complaint:
    """Reopen a closed complaint; first_made_at and every clock from it stay (COP-10)."""
    reason = _text(reason, "reason", "Say why the complaint is being reopened.")
    if Status(complaint.status) not in CLOSED_STATUSES:
        raise ValidationError("Only a closed complaint can be reopened.")
    return complaint_transition(
        complaint=complaint, to=Status.INVESTIGATING, actor=actor, reason=f"Reopened: {reason}"
    )


@transaction.atomic
def complaint_customer_match(
    *, complaint: Complaint, actor, account_reference: str, reason: str
) -> Complaint:
    """Put a complaint on the right customer's record after staff checked who made it.

    A complaint whose stated account reference belongs to someone else is filed against
    the sender's own record and flagged (complaints.services.portal). Staff check with the
    complainant, then give the account reference of the right customer: the complaint moves
    there (or stays, if it is the same), the flag clears and the history records both
    records, who decided and why. The clocks do not move: they run from when the complaint
    was first made, whoever it belongs to (COP-07).
    """
    from accounts.models import Customer

    account_reference = _text(
        account_reference, "account_reference", "Give the account reference of the customer."
    )
    reason = _text(reason, "reason", "Say how you checked who made the complaint.")
    customer = Customer.objects.filter(account_reference__iexact=account_reference).first()
    if customer is None:
        raise ValidationError(
            {
                "account_reference": f"No customer has the account reference "
                f"{account_reference}. Check it, or find the customer on the Customers page."
            }
        )
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    previous = locked.customer
    moved = previous.pk != customer.pk
    locked.customer = customer
    locked.customer_to_match = ""
    clocks_save(locked)
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.CUSTOMER_MATCHED,
        actor=actor,
        reason=(
            f"Matched to {customer} (was {previous}): {reason}"
            if moved
            else f"Kept with {customer}: {reason}"
        ),
        extra={"from_customer_id": previous.pk, "to_customer_id": customer.pk},
    )
    return locked
