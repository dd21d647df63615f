"""Forms of the staff desk. They check input and hand it to one service each."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import ContactMethod
from complaints.fields import MomentField
from complaints.models import (
    Category,
    Channel,
    ClosureReason,
    Department,
    Product,
    RemedyKind,
    RootCause,
)
from complaints.services.desk import ESCALATION_REQUESTS
from complaints.services.remedies import remedy_approvers
from complaints.uploads import upload_check

# Every text a member of staff types has the same limit as every channel's (services.texts).
TEXT_LIMIT = settings.REDRESS_TEXT_LIMIT
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


def _when(label: str, *, required: bool = True, help_text: str = "") -> forms.DateTimeField:
    return MomentField(
        label=label,
        required=required,
        widget=DATETIME_INPUT,
        input_formats=DATETIME_FORMATS,
        help_text=help_text or "UK time, e.g. 24/12/2026 14:30.",
    )


def _one_file(form, name: str):
    """Refuse several files sent to a one-file field (a browser sends one; a script may not)."""
    if len(form.files.getlist(form.add_prefix(name))) > 1:
        raise forms.ValidationError("Choose one file only.")
    return _checked(form.cleaned_data[name])


def _checked(upload):
    """Refuse a file that is not what it claims, with the reason, before anything is saved."""
    try:
        upload_check(upload, max_bytes=settings.REDRESS_MAX_ATTACHMENT_BYTES)
    except ValidationError as exc:
        raise forms.ValidationError(exc.messages) from exc
    return upload


class VersionedForm(forms.Form):
    """Carries the version of the case the member of staff was looking at."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class ReasonForm(VersionedForm):
    reason = forms.CharField(
        label="Reason", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )


class OptionalReasonForm(VersionedForm):
    reason = forms.CharField(
        label="Note for the history (optional)",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AssignForm(VersionedForm):
    assignee = forms.ModelChoiceField(
        label="Assign to",
        queryset=get_user_model().objects.filter(is_staff=True, is_active=True).order_by("name"),
        required=False,
        empty_label="Nobody (back to the queue)",
    )


class CustomerMatchForm(VersionedForm):
    account_reference = forms.CharField(
        label="Account reference of the right customer",
        max_length=40,
        help_text="As given, to move the complaint to the holder of that reference; the "
        "current customer's reference, to keep it where it is.",
    )
    reason = forms.CharField(
        label="How you checked who made the complaint",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Internal note", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 5})
    )


class ProgressUpdateForm(VersionedForm):
    text = forms.CharField(
        label="Update for the customer",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Sent by the customer's agreed contact method (COP-13).",
    )


class AwaitThirdPartyForm(VersionedForm):
    third_party_name = forms.CharField(label="Third party", max_length=200)
    reason = forms.CharField(label="What we are waiting for", required=False)


class ThirdPartyForm(forms.Form):
    third_party_name = forms.CharField(label="Third party", max_length=200)
    direction = forms.ChoiceField(
        label="Direction", choices=[("in", "From the third party"), ("out", "To the third party")]
    )
    body = forms.CharField(
        label="Correspondence", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 6})
    )


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label="Technical report",
        help_text="PDF, PNG, JPEG, TIFF or GIF, at most "
        f"{settings.REDRESS_MAX_ATTACHMENT_BYTES // 1_048_576} MB.",
    )
    customer_visible = forms.BooleanField(label="The customer may see this file", required=False)

    def clean_file(self):
        return _one_file(self, "file")


class RespondForm(VersionedForm):
    findings = forms.CharField(
        label="What the investigation found",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    fault_found = forms.TypedChoiceField(
        label="Were we (or a supplier) at fault?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    remedy_done = forms.CharField(
        label="What has been done to put it right",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    resolution_proposed = forms.CharField(
        label="Resolution we propose (not yet done)",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The case will not close on its own until this is actioned (COP-10).",
    )


class ResolutionActionedForm(VersionedForm):
    note = forms.CharField(
        label="What was done", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 3})
    )


class EscalateForm(VersionedForm):
    requested = forms.ChoiceField(
        label="The customer asked for",
        choices=[
            (k, v[0].upper() + v[1:] if k != "not_specified" else "Nobody in particular")
            for k, v in ESCALATION_REQUESTS.items()
        ],
    )
    reason = forms.CharField(
        label="What the customer said",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CustomerContactForm(VersionedForm):
    channel = forms.ChoiceField(
        label="How the customer got in touch",
        choices=[
            (Channel.PHONE, "Telephone"),
            (Channel.LETTER, "Letter"),
            (Channel.EMAIL, "Email"),
        ],
    )
    body = forms.CharField(
        label="What the customer said",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class CategoriseForm(VersionedForm):
    category = forms.ModelChoiceField(
        label="What the complaint is about",
        queryset=Category.objects.filter(active=True),
        to_field_name="code",
    )
    product = forms.ModelChoiceField(
        label="Product or service",
        queryset=Product.objects.filter(active=True),
        to_field_name="code",
        required=False,
        empty_label="Not about one product",
    )
    reason = forms.CharField(
        label="Note for the history (optional)",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RootCauseForm(VersionedForm):
    root_cause = forms.ModelChoiceField(
        label="Root cause", queryset=RootCause.objects.filter(active=True), to_field_name="code"
    )
    company_at_fault = forms.TypedChoiceField(
        label="Was the company at fault?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Why (for the history)",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CloseForm(VersionedForm):
    closure_reason = forms.ChoiceField(
        label="Why it is closing",
        choices=[
            (ClosureReason.CUSTOMER_SATISFIED, ClosureReason.CUSTOMER_SATISFIED.label),
            (ClosureReason.WITHDRAWN, ClosureReason.WITHDRAWN.label),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Note for the history (optional)",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FirstMadeForm(VersionedForm):
    first_made_at = _when("When the customer first told us")
    reason = forms.CharField(
        label="Why it is being corrected",
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class CustomerFields(forms.Form):
    """Find the customer by account reference or email, or describe a new one."""

    account_reference = forms.CharField(label="Account reference", required=False, max_length=40)
    name = forms.CharField(label="Customer's name", required=False, max_length=200)
    email = forms.EmailField(label="Email address", required=False)
    phone = forms.CharField(label="Telephone", required=False, max_length=40)
    postal_address = forms.CharField(
        label="Postal address",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    department = forms.ChoiceField(label="Department", choices=Department.choices)
    subject = forms.CharField(label="What it is about (a few words)", max_length=200)
    description = forms.CharField(
        label="The complaint", max_length=TEXT_LIMIT, widget=forms.Textarea(attrs={"rows": 6})
    )


class LogCallForm(CustomerFields):
    called_at = _when("Time of the call")
    resolved = forms.TypedChoiceField(
        label="Was it resolved on the call?",
        choices=[("yes", "Yes"), ("no", "No")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    what_was_done = forms.CharField(
        label="If resolved: what was done",
        required=False,
        max_length=TEXT_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    promised_at = _when(
        "If not: when we promised our next response",
        required=False,
        help_text="The approximate time you gave the customer (COP-04).",
    )
    contact_method = forms.ChoiceField(
        label="If not: how the customer wants to be contacted",
        choices=[("", "Choose…"), *ContactMethod.choices],
        required=False,
    )

    def clean_called_at(self):
        value = self.cleaned_data["called_at"]
        if value > timezone.now():
            raise forms.ValidationError("The call cannot be in the future.")
        return value


class LogLetterForm(CustomerFields):
    received_at = _when("When the letter arrived")
    scan = forms.FileField(
        label="Scan of the letter",
        help_text="PDF, PNG, JPEG, TIFF or GIF, at most "
        f"{settings.REDRESS_MAX_ATTACHMENT_BYTES // 1_048_576} MB.",
    )
    no_contact_given = forms.BooleanField(
        label="The letter gives no phone number or email address",
        required=False,
        help_text="The Code asks letter writers for one (COP-06): record it above if given.",
    )

    def clean_scan(self):
        return _one_file(self, "scan")


def form_errors_add(form, exc) -> None:
    """Show a service's ValidationError on the form, on its field when the form has one."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    if isinstance(exc, DjangoValidationError) and hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    elif isinstance(exc, DjangoValidationError):
        form.add_error(None, exc.messages)
    else:
        form.add_error(None, str(exc))


class RemedyForm(forms.Form):
    """Record a remedy given (issue 16 item 3); money needs an amount and an approver."""

    kind = forms.ChoiceField(
        label="What was given",
        choices=[(k, label) for k, label in RemedyKind.choices if k != RemedyKind.ADR],
    )
    amount = forms.DecimalField(
        label="Amount (£)",
        required=False,
        max_digits=10,
        decimal_places=2,
        help_text="Pounds and pence, for a credit, goodwill payment, refund or compensation.",
    )
    approved_by = forms.ModelChoiceField(
        label="Approved by",
        queryset=remedy_approvers(),
        to_field_name="email",
        required=False,
        help_text="Needed for a credit, goodwill payment, refund or compensation.",
    )
    given_at = MomentField(label="Given at", required=False, help_text="Leave empty for now.")
    note = forms.CharField(label="Note", widget=forms.Textarea, required=False)


class RemedyVoidForm(forms.Form):
    """Void a remedy recorded by mistake; it stays on the case, marked void."""

    remedy = forms.IntegerField(label="Remedy number", min_value=1)
    reason = forms.CharField(label="Why it is void", widget=forms.Textarea)
