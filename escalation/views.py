"""The senior managers' review workspace for formal complaints (COP-15 to COP-18)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import staff_required
from complaints.bundles import bundles_of
from complaints.domain.case_file import case_file_met
from complaints.forms import form_errors_add
from complaints.models import BundleKind
from complaints.paging import paged
from complaints.selectors import complaint_timeline, customer_needs_banner
from escalation import forms as workspace_forms
from escalation.models import AdrReferral, FormalCase
from escalation.selectors import (
    formal_cases_assigned,
    formal_cases_open_others,
    formal_cases_recently_closed,
)
from escalation.services import (
    FormalCaseChanged,
    ReviewClosed,
    adr_decision_record,
    adr_referral_record,
    adr_remedy_complete,
    case_file_produce,
    case_file_request_record,
    deadlock_letter_issue,
    final_proposition_send,
    formal_case_appoint,
    formal_note_add,
    formal_review_save,
    review_typed_text,
    reviewer_can_act,
)

# Rows on a page of each list: the open cases run to tens of thousands.
FORMAL_LIST_PAGE_SIZE = 25
# Case file versions listed on a formal case (the newest; every one is kept).
CASE_FILE_VERSIONS_SHOWN = 20


def reviewers_only(view):
    """Let in only staff who may act on formal complaints; others get 403."""

    @staff_required
    def wrapped(request, *args, **kwargs):
        if not reviewer_can_act(request.user):
            raise PermissionDenied("Only senior managers can open formal complaints.")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_GET
@reviewers_only
def formal_list(request):
    """Formal cases assigned to me, then every other open formal case, a page of each at a time."""
    return render(
        request,
        "escalation/formal_list.html",
        {
            "title": "Formal complaints",
            "mine": paged(
                request,
                formal_cases_assigned(user=request.user),
                per_page=FORMAL_LIST_PAGE_SIZE,
                param="mine_page",
            ),
            "others": paged(
                request,
                formal_cases_open_others(user=request.user),
                per_page=FORMAL_LIST_PAGE_SIZE,
            ),
            "recent_closed": formal_cases_recently_closed(),
        },
    )


@require_http_methods(["GET", "POST"])
@reviewers_only
def formal_detail(request, register_reference: str):
    """One formal case: its whole history, the review, and its actions."""
    case = get_object_or_404(
        FormalCase.objects.select_related("complaint__customer", "senior_manager"),
        register_reference=register_reference,
    )
    complaint = case.complaint
    review = workspace_forms.ReviewForm(
        request.POST or None,
        initial={
            "version": case.version,
            "further_investigation": case.further_investigation,
            "findings": case.findings,
            "proposed_action": case.proposed_action,
        },
    )
    note = workspace_forms.FormalNoteForm()
    if request.method == "POST" and review.is_valid():
        try:
            formal_review_save(
                case=case,
                actor=request.user,
                further_investigation=review.cleaned_data["further_investigation"],
                findings=review.cleaned_data["findings"],
                proposed_action=review.cleaned_data["proposed_action"],
                expected_version=review.cleaned_data["version"],
            )
        except ReviewClosed as exc:
            # Refused, but what was typed is not lost: it is offered as a note.
            case.refresh_from_db()
            form_errors_add(review, exc)
            note = workspace_forms.FormalNoteForm(
                initial={"body": review_typed_text(case, review.cleaned_data)}
            )
        except FormalCaseChanged as exc:
            review.add_error(None, str(exc))
        except ValidationError as exc:
            form_errors_add(review, exc)
        else:
            messages.success(request, "Review saved.")
            return redirect("escalation:formal-detail", case.register_reference)
    referral = AdrReferral.objects.filter(complaint=complaint).first()
    return render(
        request,
        "escalation/formal_detail.html",
        {
            "title": f"{case.register_reference}: {complaint.subject}",
            "case": case,
            "complaint": complaint,
            "review": review,
            "review_closed": case.outcome != FormalCase.Outcome.OPEN,
            "note": note,
            "timeline": complaint_timeline(complaint),
            "needs_banner": customer_needs_banner(complaint, request.user),
            "appoint": workspace_forms.AppointForm(initial={"senior_manager": case.senior_manager}),
            "deadlock": workspace_forms.DeadlockForm(),
            "referral": referral,
            "referral_form": workspace_forms.ReferralForm(),
            "decision_form": workspace_forms.DecisionForm(),
            "remedy_form": workspace_forms.RemedyDoneForm(),
            "letters": complaint.attachments.filter(kind="letter_sent").order_by("at"),
            "case_file_request_form": workspace_forms.CaseFileRequestForm(
                initial={
                    "requested_on": referral.case_file_requested_on,
                    "case_file_reference": referral.case_file_reference,
                    "due_on": complaint.case_file_due_at
                    and timezone.localtime(complaint.case_file_due_at).date(),
                }
                if referral
                else None
            ),
            "case_file_met": case_file_met(
                complaint.case_file_due_at, complaint.case_file_ready_at, now=timezone.now()
            ),
            "case_files": bundles_of(kind=BundleKind.OMBUDSMAN_CASE_FILE, complaint=complaint)[
                :CASE_FILE_VERSIONS_SHOWN
            ],
        },
    )


@require_POST
@reviewers_only
def formal_note(request, register_reference: str):
    """Add a later, internal note to a formal case (the review itself may be closed)."""
    case = _case(register_reference)
    form = workspace_forms.FormalNoteForm(request.POST)
    if not form.is_valid():
        return _back(request, case, error=ValidationError(form.errors["body"]))
    try:
        formal_note_add(case=case, actor=request.user, body=form.cleaned_data["body"])
    except ValidationError as exc:
        return _back(request, case, error=exc)
    return _back(request, case, "Note added to the case history.")


def _case(register_reference: str) -> FormalCase:
    return get_object_or_404(FormalCase, register_reference=register_reference)


def _back(
    request, case: FormalCase, message: str | None = None, error: ValidationError | None = None
):
    if error is not None:
        messages.error(request, " ".join(error.messages))
    elif message:
        messages.success(request, message)
    return redirect("escalation:formal-detail", case.register_reference)


@require_POST
@reviewers_only
def formal_appoint(request, register_reference: str):
    """Appoint the reviewing senior manager."""
    case = _case(register_reference)
    form = workspace_forms.AppointForm(request.POST)
    if not form.is_valid():
        return _back(request, case, error=ValidationError("Choose a senior manager."))
    try:
        formal_case_appoint(
            case=case, manager=form.cleaned_data["senior_manager"], actor=request.user
        )
    except ValidationError as exc:
        return _back(request, case, error=exc)
    return _back(request, case, "Senior manager appointed.")


@require_POST
@reviewers_only
def formal_final_proposition(request, register_reference: str):
    """Send the final proposition letter, and the deadlock letter with it."""
    case = _case(register_reference)
    try:
        final_proposition_send(case=case, actor=request.user)
    except ValidationError as exc:
        return _back(request, case, error=exc)
    return _back(request, case, "Final proposition and deadlock letter sent to the customer.")


@require_POST
@reviewers_only
def formal_deadlock(request, register_reference: str):
    """Issue a deadlock letter on the customer's request (COP-17)."""
    case = _case(register_reference)
    form = workspace_forms.DeadlockForm(request.POST)
    if not form.is_valid():
        return _back(request, case, error=ValidationError("Say why we can do no more."))
    try:
        deadlock_letter_issue(
            complaint=case.complaint, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        return _back(request, case, error=exc)
    return _back(request, case, "Deadlock letter sent to the customer.")


@require_POST
@reviewers_only
def formal_adr_referral(request, register_reference: str):
    """Record the customer's referral to the ADR scheme."""
    case = _case(register_reference)
    form = workspace_forms.ReferralForm(request.POST)
    if not form.is_valid():
        return _back(request, case, error=ValidationError("Give the referral date."))
    try:
        adr_referral_record(complaint=case.complaint, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        return _back(request, case, error=exc)
    return _back(request, case, "ADR referral recorded.")


@require_POST
@reviewers_only
def formal_adr_decision(request, register_reference: str):
    """Record the scheme's decision and the customer's acceptance."""
    case = _case(register_reference)
    referral = get_object_or_404(AdrReferral, complaint=case.complaint)
    form = workspace_forms.DecisionForm(request.POST)
    if not form.is_valid():
        return _back(request, case, error=ValidationError(list(form.errors.values())[0]))
    try:
        adr_decision_record(referral=referral, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        return _back(request, case, error=exc)
    return _back(request, case, "ADR decision recorded.")


@require_POST
@reviewers_only
def formal_adr_remedy_done(request, register_reference: str):
    """Record that the company carried out the ADR remedy."""
    case = _case(register_reference)
    referral = get_object_or_404(AdrReferral, complaint=case.complaint)
    form = workspace_forms.RemedyDoneForm(request.POST)
    if not form.is_valid():
        return _back(request, case, error=ValidationError("Say what was done."))
    try:
        adr_remedy_complete(referral=referral, actor=request.user, note=form.cleaned_data["note"])
    except ValidationError as exc:
        return _back(request, case, error=exc)
    return _back(request, case, "Remedy recorded as done.")


@require_POST
@reviewers_only
def formal_case_file_request(request, register_reference: str):
    """Record the ADR scheme's request for our case file: its date, reference and deadline."""
    case = _case(register_reference)
    referral = AdrReferral.objects.filter(complaint=case.complaint).first()
    if referral is None:
        return _back(
            request,
            case,
            error=ValidationError("Record the customer's referral to the scheme first."),
        )
    form = workspace_forms.CaseFileRequestForm(request.POST)
    if not form.is_valid():
        return _back(
            request,
            case,
            error=ValidationError(
                [f"{form.fields[f].label}: {' '.join(e)}" for f, e in form.errors.items()]
            ),
        )
    try:
        case_file_request_record(referral=referral, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        return _back(request, case, error=exc)
    return _back(request, case, "The scheme's request for the case file is recorded.")


@require_POST
@reviewers_only
def formal_case_file(request, register_reference: str):
    """Have the ombudsman's case file built; then follow its progress."""
    case = _case(register_reference)
    bundle = case_file_produce(case=case, actor=request.user)
    messages.success(
        request, f"Case file version {bundle.version} is being built; it is kept on the case."
    )
    return redirect("complaints:bundle-progress", bundle.pk)
