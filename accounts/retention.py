"""UK GDPR retention: anonymise customers' personal data, export it, and handle erasure requests.

Closed complaints are kept for REDRESS_RETENTION_YEARS after the customer's last closure;
then the personal data is replaced with placeholders and stored files are deleted. The
case history (CaseEvent) and the rows themselves are kept, so the register, the
compliance reports and the audit trail stay whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import (
    Customer,
    CustomerNeeds,
    Representative,
    SubjectAccessRequest,
    User,
)
from complaints.domain.wording import date_words
from complaints.models import (
    Attachment,
    Bundle,
    CaseEvent,
    CaseNote,
    Complaint,
    Correspondence,
    DeliveryState,
    InboundEmail,
    Notice,
    OutboxMessage,
    Remedy,
    SatisfactionResponse,
    ThirdPartyCorrespondence,
)
from escalation.models import AdrReferral, FormalCase


def _retention_cutoff(now: datetime) -> datetime:
    """Return the moment before which a closure is old enough to anonymise."""
    years = getattr(settings, "REDRESS_RETENTION_YEARS", 6)
    # On local time, so that "6 years" means the same calendar date across BST/GMT.
    return timezone.localtime(now) - relativedelta(years=years)


def _ombudsman_window_open(now: datetime) -> Q:
    """Complaints the customer can still refer to the ombudsman (COP-18)."""
    # osc_window_closed: the deadline job recorded that this very deadline passed.
    return Q(osc_deadline_at__gt=now) & ~Q(osc_window_closed_for=F("osc_deadline_at"))


def _adr_in_progress() -> Q:
    """Complaints with the ADR scheme: awaiting its decision, or an accepted remedy not done."""
    live = AdrReferral.objects.filter(complaint=OuterRef("pk")).filter(
        Q(decision=AdrReferral.Decision.PENDING)
        | Q(remedy_due_at__isnull=False, remedy_completed_at__isnull=True)
    )
    return Q(Exists(live))


def _must_keep(now: datetime) -> QuerySet[Complaint]:
    """Complaints whose records we must keep as they are: open, or still with the ombudsman."""
    return Complaint.objects.filter(
        Q(pk__in=Complaint.objects.open().values("pk"))
        | _ombudsman_window_open(now)
        | _adr_in_progress()
    )


def retention_due(*, now: datetime) -> QuerySet[Customer]:
    """Return the customers whose personal data the retention period says to anonymise now."""
    blocking = _must_keep(now).filter(customer=OuterRef("pk"))
    return (
        Customer.objects.filter(anonymised_at__isnull=True)
        .annotate(last_closed_at=Max("complaints__closed_at"))
        .filter(last_closed_at__lt=_retention_cutoff(now))
        .exclude(Exists(blocking))
        .order_by("pk")
    )


def _placeholder(now: datetime, *, grounds: str) -> str:
    return f"[removed {grounds} on {timezone.localtime(now).date().isoformat()}]"


@transaction.atomic
def customer_anonymise(
    *,
    customer: Customer,
    actor,
    reason: str,
    now: datetime | None = None,
    grounds: str = "under the retention policy",
) -> Customer:
    """Replace the customer's personal data with placeholders; keep the rows and the history.

    Deactivates and blanks the portal login, scrubs free text on every complaint of the
    customer, deletes stored files (attachments, letters, raw emails) and writes one
    history row per complaint. Anonymising twice changes nothing.
    """
    now = now or timezone.now()
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.anonymised_at is not None:
        return locked
    removed = _placeholder(now, grounds=grounds)

    locked.name = f"Anonymised customer #{locked.pk}"
    for name in ("email", "phone", "postal_address", "account_reference", "contract_reference"):
        setattr(locked, name, "")
    locked.email_confirmed_at = None
    locked.anonymised_at = now
    locked.save()
    # Recorded needs are special-category data held only with consent (issue 15): they go
    # with the rest, and the history says only that they were held.
    CustomerNeeds.objects.filter(customer=locked).delete()
    # Representatives (issue 15 item 4): the rows stay (the history names them), their
    # details and the authority document go, and their access ended with the customer's.
    reps = Representative.objects.filter(customer=locked)
    rep_files = [name for name in reps.values_list("authority_document", flat=True) if name]
    for rep in reps.select_for_update():
        rep.name = f"Anonymised representative #{rep.pk}"
        for name in ("organisation", "email", "phone", "postal_address"):
            setattr(rep, name, "")
        rep.authority_seen = removed[:200]
        rep.authority_document = ""
        rep.authority_document_name = ""
        rep.user = None
        if rep.withdrawn_at is None:
            rep.withdrawn_at, rep.withdrawal_reason = now, removed
        rep.save()

    if locked.user_id is not None:
        user = User.objects.select_for_update().get(pk=locked.user_id)
        user.email = f"anonymised-{locked.pk}@invalid"
        user.name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
        if actor is not None and actor.pk == user.pk:
            actor = user  # the history names the blanked login, not the person

    complaints = Complaint.objects.filter(customer=locked)
    in_cases = Q(complaint__customer=locked)
    complaints.update(subject=removed, description=removed)
    Correspondence.objects.filter(in_cases).update(subject=removed, body=removed)
    CaseNote.objects.filter(in_cases).update(body=removed)
    ThirdPartyCorrespondence.objects.filter(in_cases).update(body=removed)
    Notice.objects.filter(in_cases).update(subject=removed, body=removed)
    deliveries = OutboxMessage.objects.filter(notice__complaint__customer=locked)
    # Nothing can be delivered without an address: anything still queued is stopped.
    deliveries.exclude(state__in=[DeliveryState.SENT, DeliveryState.FAILED]).update(
        state=DeliveryState.FAILED, last_error=f"Recipient {removed}"
    )
    deliveries.update(recipient=removed)
    FormalCase.objects.filter(in_cases).update(
        reason=removed, further_investigation=removed, findings=removed, proposed_action=removed
    )
    AdrReferral.objects.filter(in_cases).exclude(remedy="").update(remedy=removed)
    # The score and the remedy's kind and amount stay for the figures, as anonymous facts;
    # what the customer wrote, and staff's notes about what was given, go.
    SatisfactionResponse.objects.filter(in_cases).exclude(comment="").update(comment=removed)
    Remedy.objects.filter(in_cases).exclude(note="").update(note=removed)

    # Attachment rows are immutable (and kept): only the stored content goes, after commit
    # so that a rollback never leaves rows pointing at files already deleted. The raw
    # emails go with their sender and subject.
    files: dict[int, list[str]] = {}
    emails = InboundEmail.objects.filter(in_cases)
    stored = [
        *Attachment.objects.filter(in_cases).values_list("complaint_id", "file"),
        *emails.values_list("complaint_id", "raw"),
    ]
    for complaint_id, name in stored:
        if name:
            files.setdefault(complaint_id, []).append(name)
    emails.update(sender=removed, subject=removed)
    names = [name for group in files.values() for name in group] + rep_files
    # Subject access requests keep their dates and history; what was asked goes, and so do
    # the ZIPs built about the customer (their answers and any case files), after commit.
    SubjectAccessRequest.objects.filter(customer=locked).exclude(details="").update(details=removed)
    built = Bundle.objects.filter(customer=locked).exclude(file="")
    names += [name for name in built.values_list("file", flat=True) if name]
    built.update(file="")
    transaction.on_commit(lambda: _files_delete(names))

    for complaint in complaints.order_by("pk"):
        deleted = files.get(complaint.pk, [])
        CaseEvent.objects.record(
            complaint=complaint,
            kind=CaseEvent.Kind.NOTE,
            actor=actor,
            at=now,
            reason=(
                f"Personal data anonymised: {reason} Free text replaced and "
                f"{len(deleted)} stored file(s) deleted; the records and this history are kept."
            ),
            extra={"retention": "anonymised", "files_deleted": deleted},
        )
    return locked


def _files_delete(names: list[str]) -> None:
    """Delete stored files; a file already gone is no error, so this is safe to repeat."""
    for name in names:
        default_storage.delete(name)


def retention_sweep(*, now: datetime | None = None) -> list[str]:
    """Anonymise every customer the retention period has caught up with; safe to run twice."""
    now = now or timezone.now()
    years = getattr(settings, "REDRESS_RETENTION_YEARS", 6)
    lines = []
    due = list(retention_due(now=now).values_list("pk", "last_closed_at"))
    for customer_id, last_closed_at in due:
        with transaction.atomic():
            customer = Customer.objects.select_for_update().get(pk=customer_id)
            # Checked again under the lock: a complaint may have reopened since the query.
            if not retention_due(now=now).filter(pk=customer_id).exists():
                continue
            customer_anonymise(
                customer=customer,
                actor=None,
                now=now,
                reason=f"the last complaint closed more than {years} years ago.",
            )
        closed = timezone.localtime(last_closed_at).date().isoformat()
        lines.append(f"customer #{customer_id} anonymised (last complaint closed {closed})")
    return lines


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def customer_data_export(*, customer: Customer) -> dict:
    """Return everything we hold about the customer as JSON-serialisable data (UK GDPR art. 15).

    Internal case notes and third-party correspondence are personal data about the
    customer too, so they are included, labelled as our internal records.
    """
    complaints = (
        Complaint.objects.filter(customer=customer)
        .select_related("formal_case", "adr_referral", "satisfaction")
        .prefetch_related(
            "remedies",
            "correspondence",
            Prefetch("notes", CaseNote.objects.select_related("author")),
            "third_party_correspondence",
            "notices",
            "attachments",
        )
        .order_by("first_made_at", "pk")
    )
    return {
        "about": (
            "Everything we hold about you, as of the time of this export. Sections marked "
            "'internal' are our own records about your complaint that we do not normally "
            "show on the portal."
        ),
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "name": customer.name,
            "account_reference": customer.account_reference,
            "email": customer.email,
            "email_confirmed_at": _when(customer.email_confirmed_at),
            "phone": customer.phone,
            "postal_address": customer.postal_address,
            "preferred_contact_method": customer.preferred_contact_method,
            "customer_type": customer.customer_type,
            "employee_count": customer.employee_count,
            "contract_reference": customer.contract_reference,
            "contracted_response_working_days": customer.contracted_response_working_days,
            "created_at": _when(customer.created_at),
            "anonymised_at": _when(customer.anonymised_at),
            "portal_login": customer.user.email if customer.user_id else None,
        },
        "needs": _needs_export(customer),
        "representatives": _representatives_export(customer),
        "complaints": [_complaint_export(c) for c in complaints],
    }


def _representatives_export(customer: Customer) -> list[dict]:
    """Everyone recorded as acting for the customer, and their authority (issue 15 item 4)."""
    from accounts.representatives import authority_state

    reps = (
        Representative.objects.filter(customer=customer)
        .select_related("user")
        .prefetch_related("complaints")
        .order_by("recorded_at", "pk")
    )
    return [
        {
            "name": rep.name,
            "relationship": rep.get_relationship_display(),
            "organisation": rep.organisation,
            "email": rep.email,
            "phone": rep.phone,
            "postal_address": rep.postal_address,
            "how_they_want_letters": rep.get_contact_method_display(),
            "portal_login": rep.user.email if rep.user_id else None,
            "authority_seen": rep.authority_seen,
            "authority_document": rep.authority_document_name or None,
            "receives_letters": rep.receive_letters,
            "may_act_on_the_complaint": rep.act_on_case,
            "letters_copied_to_you": rep.copy_customer,
            "for": "all your complaints"
            if rep.all_complaints
            else [c.reference for c in rep.complaints.all()],
            "from": _when(rep.starts_at),
            "until": _when(rep.ends_at),
            "state": authority_state(rep),
            "recorded_at": _when(rep.recorded_at),
            "withdrawn_at": _when(rep.withdrawn_at),
            "withdrawal_reason": rep.withdrawal_reason,
        }
        for rep in reps
    ]


def _needs_export(customer: Customer) -> dict | None:
    """The customer's recorded needs (issue 15), or None when none are held."""
    needs = CustomerNeeds.objects.filter(customer=customer).select_related("named_contact").first()
    if needs is None:
        return None
    return {
        "needs": needs.kind_labels(),
        "details": needs.details,
        "call_times": needs.call_times,
        "communication_format": needs.get_communication_format_display(),
        "update_interval_working_days": needs.update_interval_working_days,
        "named_contact": str(needs.named_contact) if needs.named_contact_id else None,
        "consent_given_at": _when(needs.consent_given_at),
        "consent_how": needs.get_consent_how_display(),
        "recorded_at": _when(needs.recorded_at),
        "updated_at": _when(needs.updated_at),
        "review_on": needs.review_on.isoformat(),
    }


def _complaint_export(complaint: Complaint) -> dict:
    formal = getattr(complaint, "formal_case", None)
    adr = getattr(complaint, "adr_referral", None)
    return {
        "reference": complaint.reference,
        "status": complaint.status_enum.customer_label,
        "channel": complaint.channel,
        "department": complaint.department,
        "subject": complaint.subject,
        "description": complaint.description,
        "agreed_contact_method": complaint.agreed_contact_method,
        "dates": {
            name: _when(getattr(complaint, name))
            for name in (
                "first_made_at",
                "logged_at",
                "acknowledged_at",
                "first_responded_at",
                "responded_at",
                "resolved_at",
                "formal_at",
                "deadlock_requested_at",
                "deadlock_letter_received_at",
                "closed_at",
            )
        },
        "closure_reason": complaint.closure_reason,
        "clocks": {
            name: _when(getattr(complaint, name))
            for name in (
                "response_due_at",
                "resolution_target_at",
                "progress_update_due_at",
                "auto_close_at",
                "adr_eligible_at",
                "osc_deadline_at",
            )
        },
        "correspondence": [
            {
                "at": _when(m.at),
                "direction": m.direction,
                "channel": m.channel,
                "subject": m.subject,
                "body": m.body,
            }
            for m in complaint.correspondence.all()
            if m.customer_visible
        ],
        "notices": [
            {
                "at": _when(n.created_at),
                "kind": n.kind,
                "subject": n.subject,
                "body": n.body,
            }
            for n in complaint.notices.all()
        ],
        "files": [
            {
                "at": _when(a.at),
                "kind": a.kind,
                "file_name": a.original_name,
                "size": a.size,
            }
            for a in complaint.attachments.all()
            if a.customer_visible
        ],
        "formal_review": (
            {
                "register_reference": formal.register_reference,
                "opened_at": _when(formal.opened_at),
                "reason": formal.reason,
                "findings": formal.findings,
                "proposed_action": formal.proposed_action,
                "final_proposition_sent_at": _when(formal.final_proposition_sent_at),
            }
            if formal
            else None
        ),
        "adr_referral": (
            {
                "referred_at": _when(adr.referred_at),
                "scheme_reference": adr.scheme_reference,
                "decision": adr.decision,
                "decided_at": _when(adr.decided_at),
                "remedy": adr.remedy,
                "remedy_completed_at": _when(adr.remedy_completed_at),
            }
            if adr
            else None
        ),
        "remedies": [
            {
                "remedy": r.get_kind_display(),
                "amount_gbp": str(r.amount) if r.amount is not None else None,
                "given_at": _when(r.given_at),
                "withdrawn_at": _when(r.voided_at),
            }
            for r in complaint.remedies.all()
        ],
        "satisfaction_answer": (
            {
                "score": answer.score,
                "comment": answer.comment,
                "answered_at": _when(answer.answered_at),
            }
            if (answer := getattr(complaint, "satisfaction", None))
            else None
        ),
        "internal": {
            "case_notes": [
                {"at": _when(n.at), "author": str(n.author), "note": n.body}
                for n in complaint.notes.all()
            ],
            "correspondence_not_shown_on_the_portal": [
                {"at": _when(m.at), "direction": m.direction, "subject": m.subject, "body": m.body}
                for m in complaint.correspondence.all()
                if not m.customer_visible
            ],
            "third_party_correspondence": [
                {
                    "at": _when(t.at),
                    "third_party": t.third_party_name,
                    "direction": t.direction,
                    "body": t.body,
                }
                for t in complaint.third_party_correspondence.all()
            ],
            "files_not_shown_on_the_portal": [
                {"at": _when(a.at), "kind": a.kind, "file_name": a.original_name}
                for a in complaint.attachments.all()
                if not a.customer_visible
            ],
        },
    }


@dataclass(frozen=True)
class ErasureOutcome:
    """What came of an erasure request: granted, or refused with the reasons in plain words."""

    granted: bool
    message: str
    reasons: list[str] = field(default_factory=list)


def _refusal_reasons(customer: Customer, now: datetime) -> list[str]:
    tz = timezone.get_default_timezone()
    reasons = []
    mine = Complaint.objects.filter(customer=customer).order_by("first_made_at", "pk")
    for complaint in mine.open():
        reasons.append(
            f"We must keep your complaint records while complaint {complaint.reference} is "
            "still open."
        )
    for complaint in mine.filter(_adr_in_progress()).exclude(pk__in=mine.open().values("pk")):
        reasons.append(
            f"We must keep your complaint records while complaint {complaint.reference} is "
            "with the ombudsman."
        )
    for complaint in mine.filter(_ombudsman_window_open(now)).exclude(
        pk__in=mine.open().values("pk")
    ):
        reasons.append(
            "We must keep your complaint records until "
            f"{date_words(complaint.osc_deadline_at, tz)} because you can still refer "
            f"complaint {complaint.reference} to the ombudsman."
        )
    return reasons


@transaction.atomic
def erasure_request(*, customer: Customer, actor, now: datetime | None = None) -> ErasureOutcome:
    """Erase the customer's personal data now, or refuse while an ADR window is open (COP-18).

    The request and its outcome go in the history of each of the customer's complaints.
    """
    now = now or timezone.now()
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.anonymised_at is not None:
        return ErasureOutcome(granted=True, message="Your personal data has already been removed.")
    reasons = _refusal_reasons(locked, now)
    if reasons:
        for complaint in Complaint.objects.filter(customer=locked).order_by("pk"):
            CaseEvent.objects.record(
                complaint=complaint,
                kind=CaseEvent.Kind.NOTE,
                actor=actor,
                at=now,
                reason="Erasure requested by the customer: refused. " + " ".join(reasons),
                extra={"erasure": "refused"},
            )
        return ErasureOutcome(granted=False, message=" ".join(reasons), reasons=reasons)
    # One history row per complaint records the request, the outcome and what was removed.
    customer_anonymise(
        customer=locked,
        actor=actor,
        now=now,
        reason=(
            "erasure requested by the customer: granted (nothing open, no ombudsman window open)."
        ),
        grounds="at the customer's request",
    )
    return ErasureOutcome(
        granted=True,
        message=(
            "We have removed your personal data. We keep a record that your complaints were "
            "made and how they were handled, without your details. Your portal login no "
            "longer works."
        ),
    )
