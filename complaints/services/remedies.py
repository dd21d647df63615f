"""Remedies given on a complaint: recorded once, voided (never deleted) when wrong.

Issue 16 item 3. What a complaint's response says was done (COP-09) and what the ADR
scheme decided and the customer accepted (COP-18) are counted in one place, the Remedy
table: an accepted ADR remedy is a Remedy row written in the same transaction as the
decision (``remedy_adr_sync``), so the dashboard's totals read one table.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from complaints.models import MONEY_REMEDY_KINDS, CaseEvent, Complaint, Remedy, RemedyKind

APPROVE_PERMISSION = "complaints.approve_remedy"
# The largest amount the column holds (max_digits=10, decimal_places=2).
MAX_AMOUNT = Decimal("99999999.99")


def remedy_approvers() -> QuerySet:
    """Return the active staff who may approve a remedy that costs money (managers)."""
    perm = {"codename": "approve_remedy", "content_type__app_label": "complaints"}
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__permissions__codename=perm["codename"])
            & Q(groups__permissions__content_type__app_label=perm["content_type__app_label"])
            | Q(user_permissions__codename=perm["codename"])
            & Q(user_permissions__content_type__app_label=perm["content_type__app_label"])
        )
        .distinct()
        .order_by("name", "email")
    )


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).strip().removeprefix("£").replace(",", ""))
    except InvalidOperation:
        raise ValidationError(
            {"amount": "Give the amount in pounds and pence, like 25.00."}
        ) from None
    if not amount.is_finite():
        raise ValidationError({"amount": "Give the amount in pounds and pence, like 25.00."})
    return amount


def _who(user) -> str:
    return (user.name or user.email) if user is not None else "the system"


def remedy_words(remedy: Remedy) -> str:
    """Return the remedy in the words the history and the case page use."""
    words = remedy.get_kind_display()
    if remedy.amount is not None:
        words += f" of £{remedy.amount:,.2f}"
    if remedy.approved_by_id:
        words += f", approved by {_who(remedy.approved_by)}"
    return words


@transaction.atomic
def remedy_record(
    *,
    complaint: Complaint,
    actor,
    kind: str,
    amount=None,
    approved_by=None,
    given_at: datetime | None = None,
    note: str = "",
) -> Remedy:
    """Record one remedy given on `complaint`, and say so in its history.

    A credit, goodwill payment, refund or compensation needs an amount above £0.00 in
    pounds and pence and the manager who approved it (someone holding approve_remedy);
    an apology, explanation or service fix has no amount. The ADR scheme's remedy is
    recorded with its decision (``remedy_adr_sync``), not here.
    """
    now = timezone.now()
    given_at = given_at or now
    errors: dict[str, str] = {}
    if kind == RemedyKind.ADR:
        errors["kind"] = (
            "The ADR scheme's remedy is recorded with its decision on the formal case, "
            "when the customer accepts it."
        )
    elif kind not in RemedyKind.values:
        errors["kind"] = "Choose what was given."
    amount = _amount(amount)
    if kind in MONEY_REMEDY_KINDS:
        if amount is None:
            errors["amount"] = "Give the amount in pounds and pence, like 25.00."
        elif amount <= 0:
            errors["amount"] = "The amount must be more than £0.00."
        elif amount > MAX_AMOUNT:
            errors["amount"] = "The amount is too large: check it."
        elif amount != amount.quantize(Decimal("0.01")):
            errors["amount"] = "Give the amount in pounds and pence: at most two decimal places."
        if approved_by is None:
            errors["approved_by"] = "Name the manager who approved the payment."
        elif not (approved_by.is_active and approved_by.has_perm(APPROVE_PERMISSION)):
            errors["approved_by"] = (
                f"{_who(approved_by)} may not approve payments: choose a manager who may."
            )
    elif kind in RemedyKind.values:
        if amount is not None:
            errors["amount"] = (
                "Only a credit, goodwill payment, refund or compensation has an amount."
            )
    if given_at > now:
        errors["given_at"] = "The date given cannot be in the future."
    if errors:
        raise ValidationError(errors)
    remedy = Remedy.objects.create(
        complaint=complaint,
        kind=kind,
        amount=amount.quantize(Decimal("0.01")) if amount is not None else None,
        approved_by=approved_by,
        given_at=given_at,
        note=note.strip(),
        recorded_by=actor,
        recorded_at=now,
    )
    _history(remedy, actor=actor)
    return remedy


def _history(remedy: Remedy, *, actor, at: datetime | None = None) -> CaseEvent:
    note = f" {remedy.note}" if remedy.note else ""
    return CaseEvent.objects.record(
        complaint=remedy.complaint,
        kind=CaseEvent.Kind.REMEDY,
        actor=actor,
        at=at,
        reason=f"Remedy given on {timezone.localtime(remedy.given_at):%d %b %Y}: "
        f"{remedy_words(remedy)}.{note}",
        extra={
            "remedy_id": remedy.pk,
            "remedy": remedy.kind,
            "amount": None if remedy.amount is None else f"{remedy.amount:.2f}",
            "approved_by": remedy.approved_by_id,
        },
    )


@transaction.atomic
def remedy_void(*, remedy: Remedy, actor, reason: str, _adr: bool = False) -> Remedy:
    """Void a remedy recorded by mistake: it stays on the case, marked void, and drops out
    of the totals. The history says who voided it and why."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the remedy is being voided."})
    remedy = Remedy.objects.select_for_update().select_related("complaint").get(pk=remedy.pk)
    if remedy.voided_at is not None:
        raise ValidationError("This remedy was already voided.")
    if remedy.kind == RemedyKind.ADR and not _adr:
        raise ValidationError(
            "The ADR remedy follows the scheme's decision: record the decision again to change it."
        )
    remedy.voided_at = timezone.now()
    remedy.voided_by = actor
    remedy.void_reason = reason
    remedy.save(update_fields=["voided_at", "voided_by", "void_reason"])
    CaseEvent.objects.record(
        complaint=remedy.complaint,
        kind=CaseEvent.Kind.REMEDY,
        actor=actor,
        reason=f"Remedy voided ({remedy_words(remedy)}): {reason}",
        extra={"remedy_id": remedy.pk, "voided": True},
    )
    return remedy


def remedy_for_complaint(*, complaint: Complaint, pk: int) -> Remedy:
    """Return the complaint's remedy `pk`, or a ValidationError naming the field."""
    remedy = Remedy.objects.filter(complaint=complaint, pk=pk).first()
    if remedy is None:
        raise ValidationError({"remedy": f"There is no remedy {pk} on {complaint.reference}."})
    return remedy


@transaction.atomic
def remedy_adr_sync(
    *, complaint: Complaint, actor, accepted_remedy: str, decided_at: datetime | None
) -> Remedy | None:
    """Keep the complaint's ADR remedy in step with the decision as now recorded (COP-18).

    An accepted decision with a remedy is one live Remedy of kind ``adr`` given at the
    decision date; recording the decision again with another remedy voids the old row and
    records the new one; a decision no longer accepted voids it. Called by
    escalation.services.adr_decision_record in the same transaction.
    """
    text = accepted_remedy.strip()
    live = (
        Remedy.objects.select_for_update()
        .filter(complaint=complaint, kind=RemedyKind.ADR, voided_at__isnull=True)
        .first()
    )
    if live is not None:
        if text and live.note == text:
            return live
        remedy_void(
            remedy=live,
            actor=actor,
            reason="The ADR decision was recorded again"
            + (" with another remedy." if text else ": no accepted remedy now."),
            _adr=True,
        )
    if not text:
        return None
    remedy = Remedy.objects.create(
        complaint=complaint,
        kind=RemedyKind.ADR,
        given_at=min(decided_at or timezone.now(), timezone.now()),
        note=text,
        recorded_by=actor,
    )
    _history(remedy, actor=actor)
    return remedy


def remedies_of(complaint: Complaint) -> QuerySet:
    """Return every remedy on the complaint, voided ones too, oldest first, for the desk."""
    return complaint.remedies.select_related("approved_by", "recorded_by", "voided_by").order_by(
        "given_at", "pk"
    )


def voidable(remedies: QuerySet) -> QuerySet:
    """The remedies staff may void: live ones, except an ADR remedy (it follows the scheme)."""
    return remedies.live().exclude(kind=RemedyKind.ADR)


def with_voidable_remedy(complaints: QuerySet) -> QuerySet:
    """`complaints`, each knowing whether it has a remedy to void, read in the same query."""
    from django.db.models import Exists, OuterRef

    return complaints.annotate(
        has_voidable_remedy=Exists(voidable(Remedy.objects.filter(complaint=OuterRef("pk"))))
    )


def has_voidable_remedy(complaint: Complaint) -> bool:
    """Whether the complaint has a remedy staff may void (as read by with_voidable_remedy)."""
    known = getattr(complaint, "has_voidable_remedy", None)
    return known if known is not None else voidable(complaint.remedies.all()).exists()
