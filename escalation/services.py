"""Formal complaints, final propositions, deadlock letters and ADR referrals (COP-11, 15-18)."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.roles import GROUP_NAMES, Role, user_roles
from complaints.clocks import calendar, clocks_save
from complaints.domain import deadlines
from complaints.domain.lifecycle import Status
from complaints.models import (
    CaseEvent,
    ClosureReason,
    Complaint,
    DeliveryChannel,
    NoticeKind,
    StaffAlert,
)
from complaints.services.desk import complaint_note_add
from complaints.services.notices import notice_send
from complaints.services.references import reference_next_number
from complaints.services.remedies import remedy_adr_sync
from complaints.services.transitions import complaint_transition
from escalation.models import AdrReferral, FormalCase, Requested

REVIEWER_ROLE = {
    Requested.TECHNICAL_DIRECTOR: Role.TECHNICAL_DIRECTOR,
    Requested.COMPANY_SECRETARY: Role.COMPANY_SECRETARY,
    Requested.NOT_SPECIFIED: Role.SENIOR_MANAGER,
}


def reviewer_can_act(user) -> bool:
    """Return whether the user may act on formal complaints (senior managers and above)."""
    return bool(user and user.is_active and user.has_perm("complaints.review_formal"))


def _require_reviewer(user) -> None:
    if not reviewer_can_act(user):
        raise PermissionDenied("Only senior managers can act on formal complaints.")


def senior_manager_pick(requested: str):
    """Return the reviewer to appoint: the one asked for, else the least busy senior manager."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .annotate(
            open_cases=Count(
                "formal_cases", filter=Q(formal_cases__outcome=FormalCase.Outcome.OPEN)
            )
        )
    )
    for role in (REVIEWER_ROLE[Requested(requested)], Role.SENIOR_MANAGER):
        chosen = users.filter(groups__name=GROUP_NAMES[role]).order_by("open_cases", "pk").first()
        if chosen:
            return chosen
    return None


def formal_register_reference_next(*, year: int) -> str:
    """Return the next complaints register reference, e.g. FCR-2026-0042 (COP-15)."""
    return f"FCR-{year}-{reference_next_number(scope=f'FCR-{year}'):04d}"


@transaction.atomic
def formal_case_open(
    *, complaint: Complaint, actor, requested: str, reason: str, at: datetime | None = None
) -> FormalCase:
    """Log the complaint under the formal procedure (COP-11, COP-15).

    It gets a register reference from its own sequence and a senior manager (the one the
    customer asked for when possible); the customer is told both references and who is
    reviewing. Clocks from first_made_at keep running. Opening twice does nothing more.
    """
    existing = FormalCase.objects.filter(complaint=complaint).first()
    if existing:
        return existing
    at = at or timezone.now()
    manager = senior_manager_pick(requested)
    case = FormalCase.objects.create(
        complaint=complaint,
        register_reference=formal_register_reference_next(year=timezone.localtime(at).year),
        requested=requested,
        senior_manager=manager,
        opened_at=at,
        reason=reason,
    )
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    if manager:
        locked.assignee = manager
        clocks_save(locked)
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.ASSIGNED,
        actor=actor,
        reason=f"Formal complaint {case.register_reference} opened; "
        + (f"{manager} appointed to review it." if manager else "no senior manager available yet."),
        at=at,
        extra={"register_reference": case.register_reference, "requested": requested},
    )
    if manager is None:
        StaffAlert.objects.get_or_create(
            complaint=locked,
            kind="formal_unappointed",
            deadline_at=at,
            audience=StaffAlert.Audience.MANAGERS,
            defaults={
                "department": locked.department,
                "message": f"{locked.reference} ({case.register_reference}) needs a senior "
                "manager appointed to review it.",
            },
        )
    notice_send(
        complaint=locked,
        kind=NoticeKind.FORMAL_OPENED,
        deadline_at=at,
        actor=actor,
        register_reference=case.register_reference,
        reviewer=_reviewer_words(case),
    )
    return case


# The title each reviewing role signs with, most senior first (COP-15).
REVIEWER_TITLES: dict[Role, str] = {
    Role.TECHNICAL_DIRECTOR: "Technical Director",
    Role.COMPANY_SECRETARY: "Company Secretary",
    Role.SENIOR_MANAGER: "Senior Manager",
    Role.ADMINISTRATOR: "Senior Manager",
}


def reviewer_title(user) -> str:
    """Return the title a reviewer signs with: their most senior role, not the one asked for."""
    roles = user_roles(user)
    return next((title for role, title in REVIEWER_TITLES.items() if role in roles), "Manager")


def reviewer_signature(user) -> str:
    """Return the name and title that sign a formal letter, one per line (COP-15, COP-17)."""
    return f"{user.name or user.email}\n{reviewer_title(user)}"


def _reviewer_words(case: FormalCase) -> str:
    manager = case.senior_manager
    if manager is None:
        return "a senior manager, whom we will name when appointed"
    title = reviewer_title(manager)
    words = (
        f"our {title}"
        if title in ("Technical Director", "Company Secretary")
        else "a senior manager"
    )
    return f"{manager.name or manager.email}, {words}"


@transaction.atomic
def formal_case_appoint(*, case: FormalCase, manager, actor) -> FormalCase:
    """Appoint (or change) the senior manager reviewing a formal complaint."""
    _require_reviewer(actor)
    if not reviewer_can_act(manager):
        raise ValidationError({"senior_manager": "Choose a senior manager."})
    case = FormalCase.objects.select_for_update().get(pk=case.pk)
    case.senior_manager = manager
    case.version += 1
    case.save(update_fields=["senior_manager", "version"])
    complaint = Complaint.objects.select_for_update(of=("self",)).get(pk=case.complaint_id)
    complaint.assignee = manager
    clocks_save(complaint)
    CaseEvent.objects.record(
        complaint=complaint,
        kind=CaseEvent.Kind.ASSIGNED,
        actor=actor,
        reason=f"{manager} appointed to review formal complaint {case.register_reference}.",
    )
    return case


class FormalCaseChanged(Exception):
    """Someone else saved the review since this form was opened."""


class ReviewClosed(ValidationError):
    """The final proposition has been sent: its findings are what the customer was told."""

    def __init__(self, case: FormalCase):
        sent = timezone.localtime(case.final_proposition_sent_at)
        super().__init__(
            f"The final proposition was sent on {sent:%d %b %Y at %H:%M}, so the review is "
            "what the customer was told and can no longer change. Nothing was saved. Your "
            "text is below: add it as a note if it should be kept."
        )


REVIEW_FIELDS = {
    "further_investigation": "Further investigation",
    "findings": "Findings",
    "proposed_action": "Proposed further action",
}


def review_typed_text(case: FormalCase, typed: dict) -> str:
    """Return what someone typed into a closed review that differs from what was sent."""
    return "\n\n".join(
        f"{label}: {typed[field].strip()}"
        for field, label in REVIEW_FIELDS.items()
        if typed.get(field, "").strip() and typed[field].strip() != getattr(case, field).strip()
    )


@transaction.atomic
def formal_note_add(*, case: FormalCase, actor, body: str):
    """Add a later note to a formal case, kept apart from the review the customer was sent."""
    _require_reviewer(actor)
    return complaint_note_add(complaint=case.complaint, actor=actor, body=body)


@transaction.atomic
def formal_review_save(
    *,
    case: FormalCase,
    actor,
    further_investigation: str,
    findings: str,
    proposed_action: str,
    expected_version: int | None = None,
) -> FormalCase:
    """Save the senior manager's further investigation, findings and proposed action."""
    _require_reviewer(actor)
    case = FormalCase.objects.select_for_update().get(pk=case.pk)
    if case.outcome != FormalCase.Outcome.OPEN:
        raise ReviewClosed(case)
    if expected_version is not None and case.version != expected_version:
        last = case.complaint.events.order_by("-at", "-pk").first()
        who = (
            f" by {last.actor_label} on {timezone.localtime(last.at):%d %b %Y at %H:%M}"
            if last
            else ""
        )
        raise FormalCaseChanged(
            f"The review was changed{who} after you opened it. Nothing was saved: reload, "
            "check and try again."
        )
    case.further_investigation = further_investigation.strip()
    case.findings = findings.strip()
    case.proposed_action = proposed_action.strip()
    case.version += 1
    case.save()
    CaseEvent.objects.record(
        complaint=case.complaint,
        kind=CaseEvent.Kind.NOTE,
        actor=actor,
        reason=f"Formal review of {case.register_reference} updated.",
    )
    return case


def _deadlock(complaint: Complaint, *, actor, at: datetime, reason: str):
    """Send the deadlock letter (COP-17) and start the 6-month referral window (COP-18).

    Signed by the senior manager reviewing the formal complaint, else by whoever sends it,
    and headed with the register reference beside the complaint's when there is one.
    """
    case = FormalCase.objects.filter(complaint=complaint).select_related("senior_manager").first()
    notice = notice_send(
        complaint=complaint,
        kind=NoticeKind.DEADLOCK,
        deadline_at=at,
        actor=actor,
        deadlock_reason=reason,
        osc_deadline_after_deadlock=_osc_words(complaint, at),
        register_reference=case.register_reference if case else "",
        signed_by=reviewer_signature(_signer(case, actor)),
    )
    if notice is None:
        return None
    by_post = set(notice.deliveries.values_list("channel", flat=True)) == {DeliveryChannel.POST}
    policy = deadlines.policy_by_key(complaint.policy_key)
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    locked.deadlock_letter_received_at = deadlines.deadlock_received_at(
        at, by_post=by_post, calendar=calendar(), policy=policy
    )
    changed = clocks_save(locked)
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.CLOCK,
        actor=actor,
        reason="Deadlock letter sent (COP-17): the customer may refer the complaint to the "
        "ADR scheme now; referral deadline recalculated (COP-18).",
        at=at,
        extra={"clocks_changed": sorted(changed), "by_post": by_post},
    )
    return notice


def _signer(case: FormalCase | None, actor):
    """Return who signs a formal letter: the reviewing senior manager, else its sender."""
    return case.senior_manager if case and case.senior_manager else actor


def _osc_words(complaint: Complaint, deadlock_sent_at: datetime) -> str:
    from complaints.domain.wording import moment_words

    cal = calendar()
    policy = deadlines.policy_by_key(complaint.policy_key)
    received = deadlines.deadlock_received_at(
        deadlock_sent_at,
        by_post=complaint.agreed_contact_method == "post",
        calendar=cal,
        policy=policy,
    )
    deadline = deadlines.osc_deadline(
        complaint.first_made_at, received, calendar=cal, policy=policy
    )
    return moment_words(deadline, cal.tz)


@transaction.atomic
def deadlock_letter_issue(*, complaint: Complaint, actor, reason: str = "") -> Complaint:
    """Issue a deadlock letter on the customer's request, by a senior manager (COP-17)."""
    _require_reviewer(actor)
    if complaint.deadlock_letter_received_at:
        raise ValidationError("A deadlock letter has already been sent for this complaint.")
    _deadlock(
        complaint,
        actor=actor,
        at=timezone.now(),
        reason=reason.strip() or "We are unable to deal with your complaint further.",
    )
    complaint.refresh_from_db()
    return complaint


@transaction.atomic
def final_proposition_send(*, case: FormalCase, actor) -> FormalCase:
    """Send the final proposition letter and, unasked, the deadlock letter (COP-15, COP-17)."""
    _require_reviewer(actor)
    case = FormalCase.objects.select_for_update().get(pk=case.pk)
    if case.outcome != FormalCase.Outcome.OPEN:
        raise ValidationError("The final proposition has already been sent.")
    errors = {}
    if not case.findings.strip():
        errors["findings"] = "Record the review's findings before sending the final proposition."
    if not case.proposed_action.strip():
        errors["proposed_action"] = "Record the proposed further action first."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    complaint = case.complaint
    notice_send(
        complaint=complaint,
        kind=NoticeKind.FINAL_PROPOSITION,
        deadline_at=now,
        actor=actor,
        register_reference=case.register_reference,
        reviewer=_reviewer_words(case),
        signed_by=reviewer_signature(_signer(case, actor)),
        findings=case.findings,
        proposed_action=case.proposed_action,
    )
    case.outcome = FormalCase.Outcome.FINAL_PROPOSITION
    case.final_proposition_sent_at = now
    case.version += 1
    case.save(update_fields=["outcome", "final_proposition_sent_at", "version"])
    if not complaint.deadlock_letter_received_at:
        _deadlock(
            complaint,
            actor=actor,
            at=now,
            reason="Our final proposition has been sent: we cannot deal with your complaint "
            "any further.",
        )
    complaint.refresh_from_db()
    if complaint.status == Status.FORMAL:
        complaint_transition(
            complaint=complaint,
            to=Status.CLOSED,
            actor=actor,
            reason=f"Final proposition sent for {case.register_reference} (COP-15).",
            closure_reason=ClosureReason.FINAL_PROPOSITION,
            at=now,
        )
    return case


# --- ADR referrals (COP-18) --------------------------------------------------------------


@transaction.atomic
def adr_referral_record(
    *, complaint: Complaint, actor, referred_at: datetime, scheme_reference: str = ""
) -> AdrReferral:
    """Record that the customer referred the complaint to the ADR scheme."""
    _require_reviewer(actor)
    if referred_at > timezone.now():
        raise ValidationError({"referred_at": "The referral date cannot be in the future."})
    referral, created = AdrReferral.objects.get_or_create(
        complaint=complaint,
        defaults={
            "referred_at": referred_at,
            "scheme_reference": scheme_reference.strip(),
            "recorded_by": actor,
        },
    )
    if not created:
        raise ValidationError("A referral is already recorded for this complaint.")
    CaseEvent.objects.record(
        complaint=complaint,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=actor,
        reason=f"Referred to the ADR scheme on {timezone.localtime(referred_at):%d %b %Y}"
        + (f" (their reference {scheme_reference.strip()})" if scheme_reference.strip() else "")
        + " (COP-18).",
        extra={"adr": "referred"},
    )
    return referral


@transaction.atomic
def adr_decision_record(
    *,
    referral: AdrReferral,
    actor,
    decision: str,
    decided_at: datetime,
    customer_accepted: bool | None,
    remedy: str = "",
    remedy_due_at: datetime | None = None,
) -> AdrReferral:
    """Record the scheme's decision and whether the customer accepted it (COP-18).

    The company always abides by an accepted decision: an accepted decision with a remedy
    needs a date by which it will be done, and is chased until it is.
    """
    _require_reviewer(actor)
    if decision not in AdrReferral.Decision.values or decision == AdrReferral.Decision.PENDING:
        raise ValidationError({"decision": "Choose the scheme's decision."})
    errors = {}
    if customer_accepted and decision in (
        AdrReferral.Decision.UPHELD,
        AdrReferral.Decision.PARTLY_UPHELD,
    ):
        if not remedy.strip():
            errors["remedy"] = "Record what the company must do."
        if remedy_due_at is None:
            errors["remedy_due_at"] = "Give the date the remedy must be done by."
    if errors:
        raise ValidationError(errors)
    referral = AdrReferral.objects.select_for_update().get(pk=referral.pk)
    referral.decision = decision
    referral.decided_at = decided_at
    referral.customer_accepted = customer_accepted
    referral.remedy = remedy.strip()
    referral.remedy_due_at = remedy_due_at
    referral.save()
    accepted = {
        True: "accepted",
        False: "did not accept",
        None: "has not yet said whether they accept",
    }
    CaseEvent.objects.record(
        complaint=referral.complaint,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=actor,
        reason=f"ADR decision: {referral.get_decision_display()}; the customer "
        f"{accepted[customer_accepted]} it (COP-18).",
        extra={"adr": "decision", "decision": referral.decision},
    )
    # Issue 16 item 3: an accepted remedy counts among the remedies given, in one table.
    remedy_adr_sync(
        complaint=referral.complaint,
        actor=actor,
        accepted_remedy=referral.remedy if customer_accepted else "",
        decided_at=decided_at,
    )
    return referral


@transaction.atomic
def adr_remedy_complete(*, referral: AdrReferral, actor, note: str) -> AdrReferral:
    """Record that the company carried out the remedy the scheme decided (COP-18)."""
    _require_reviewer(actor)
    if not note.strip():
        raise ValidationError({"note": "Say what was done."})
    referral = AdrReferral.objects.select_for_update().get(pk=referral.pk)
    if not referral.remedy:
        raise ValidationError("There is no remedy to complete.")
    referral.remedy_completed_at = timezone.now()
    referral.save(update_fields=["remedy_completed_at"])
    CaseEvent.objects.record(
        complaint=referral.complaint,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=actor,
        reason=f"ADR remedy completed: {note.strip()}",
    )
    return referral


def adr_remedies_chase(*, now: datetime | None = None) -> list[str]:
    """Alert managers once a day about each accepted remedy not done by its date (COP-18)."""
    now = now or timezone.now()
    today = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    lines = []
    overdue = AdrReferral.objects.filter(
        remedy_due_at__lte=now,
        remedy_completed_at__isnull=True,
        customer_accepted=True,
    ).select_related("complaint")
    for referral in overdue.iterator():
        complaint = referral.complaint
        _alert, created = StaffAlert.objects.get_or_create(
            complaint=complaint,
            kind="adr_remedy",
            deadline_at=today,
            audience=StaffAlert.Audience.MANAGERS,
            defaults={
                "department": complaint.department,
                "message": f"{complaint.reference}: the ADR remedy was due "
                f"{timezone.localtime(referral.remedy_due_at):%d %b %Y} and is not done.",
            },
        )
        if created:
            AdrReferral.objects.filter(pk=referral.pk).update(remedy_chased_at=now)
            lines.append(f"{complaint.reference} ADR remedy overdue: chased managers")
    return lines


@transaction.atomic
def case_file_request_record(
    *, referral: AdrReferral, actor, requested_on, case_file_reference: str, due_on
) -> AdrReferral:
    """Record that the ADR scheme asked for our case file, by when (COP-18).

    The deadline (close of business on the day they gave) becomes a stored clock of the
    complaint: the sweep reminds the reviewing senior manager and the managers before it
    and alerts them once if it passes with no case file ready. Recorded again (the scheme
    asks again, or moves its date), the new request replaces the old; a case file made on
    or after the request date counts.
    """
    from complaints.domain.case_file import case_file_due
    from escalation.casefile import case_file_ready_since

    _require_reviewer(actor)
    today = timezone.localdate()
    errors = {}
    if requested_on > today:
        errors["requested_on"] = "The request date cannot be in the future."
    if due_on < requested_on:
        errors["due_on"] = "The scheme's deadline cannot be before its request."
    if not case_file_reference.strip():
        errors["case_file_reference"] = "Give the scheme's reference for the request."
    if errors:
        raise ValidationError(errors)
    complaint = Complaint.objects.select_for_update(of=("self",)).get(pk=referral.complaint_id)
    referral = AdrReferral.objects.select_for_update().get(pk=referral.pk)
    referral.case_file_requested_on = requested_on
    referral.case_file_reference = case_file_reference.strip()
    referral.save(update_fields=["case_file_requested_on", "case_file_reference"])
    complaint.case_file_due_at = case_file_due(due_on, calendar=calendar())
    complaint.case_file_ready_at = case_file_ready_since(complaint, requested_on)
    clocks_save(complaint)
    CaseEvent.objects.record(
        complaint=complaint,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=actor,
        reason=f"The ADR scheme asked for our case file on {requested_on:%d %b %Y} (their "
        f"reference {referral.case_file_reference}); due by "
        f"{timezone.localtime(complaint.case_file_due_at):%d %b %Y %H:%M} (COP-18).",
        extra={
            "adr": "case_file_requested",
            "case_file_reference": referral.case_file_reference,
            "requested_on": requested_on.isoformat(),
            "due_at": complaint.case_file_due_at.isoformat(),
        },
    )
    return referral


def case_file_produce(*, case: FormalCase, actor):
    """Have the ombudsman's case file of a formal case built in the background (a Bundle).

    A request while one is being built returns that one; after it is ready, a new version.
    """
    from complaints.bundles import bundle_request
    from complaints.models import BundleKind

    _require_reviewer(actor)
    return bundle_request(
        kind=BundleKind.OMBUDSMAN_CASE_FILE, complaint=case.complaint, actor=actor
    )
