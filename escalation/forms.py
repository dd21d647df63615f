"""Forms of the senior managers' review workspace."""

from django import forms
from django.contrib.auth import get_user_model

from complaints.fields import MomentField
from complaints.forms import DATETIME_FORMATS, DATETIME_INPUT, TEXT_LIMIT
from escalation.models import AdrReferral


class ReviewForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    further_investigation = forms.CharField(
        label="Further investigation",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    findings = forms.CharField(
        label="Findings",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    proposed_action = forms.CharField(
        label="Proposed further action",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the company will do. Sent as the final proposition (COP-15).",
    )


class AppointForm(forms.Form):
    senior_manager = forms.ModelChoiceField(
        label="Reviewing senior manager",
        # Reviewers found from the role memberships (a handful of rows), then read by key:
        # joining every user to their groups took 0.3 s on SQLite at 235,000 users.
        queryset=get_user_model().objects.filter(
            is_active=True,
            is_staff=True,
            pk__in=get_user_model()
            .groups.through.objects.filter(group__permissions__codename="review_formal")
            .values("user_id"),
        ),
    )


class DeadlockForm(forms.Form):
    reason = forms.CharField(
        label="Why we can do no more (goes in the letter)",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReferralForm(forms.Form):
    referred_at = MomentField(
        label="Referred to the scheme on", widget=DATETIME_INPUT, input_formats=DATETIME_FORMATS
    )
    scheme_reference = forms.CharField(label="Scheme's case reference", required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="The scheme's decision",
        choices=[c for c in AdrReferral.Decision.choices if c[0] != AdrReferral.Decision.PENDING],
    )
    decided_at = MomentField(
        label="Decision date", widget=DATETIME_INPUT, input_formats=DATETIME_FORMATS
    )
    customer_accepted = forms.NullBooleanField(
        label="Did the customer accept it?",
        widget=forms.Select(
            choices=[("unknown", "Not yet known"), ("true", "Yes"), ("false", "No")]
        ),
    )
    remedy = forms.CharField(
        label="Remedy the company must carry out",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    remedy_due_at = MomentField(
        label="Remedy due by",
        required=False,
        widget=DATETIME_INPUT,
        input_formats=DATETIME_FORMATS,
    )


class RemedyDoneForm(forms.Form):
    note = forms.CharField(
        label="What was done", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )


class FormalNoteForm(forms.Form):
    body = forms.CharField(
        label="Note",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Internal, never shown to the customer; kept apart from the review sent.",
    )


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class CaseFileRequestForm(forms.Form):
    """The ADR scheme's request for our case file (COP-18)."""

    requested_on = forms.DateField(label="The scheme asked on", widget=DATE_INPUT)
    case_file_reference = forms.CharField(label="Their reference for the request", max_length=60)
    due_on = forms.DateField(
        label="Their deadline",
        widget=DATE_INPUT,
        help_text="Due by close of business that day. We remind you before it, and alert "
        "the managers if it passes with no case file.",
    )
