"""Portal forms, in plain English, checked on the server; the services do the work."""

from __future__ import annotations

import uuid

from django import forms
from django.conf import settings

from accounts.forms import ContactDetailsChecked
from accounts.models import ContactMethod, CustomerType
from complaints.models import Department
from complaints.uploads import EXTENSIONS

MAX_MB = settings.REDRESS_MAX_ATTACHMENT_BYTES // 1_048_576
ACCEPT = ",".join(sorted(set(EXTENSIONS.values()) | {".jpeg", ".tiff"}))
FILES_HINT = (
    f"Up to {settings.REDRESS_PORTAL_MAX_FILES} files: PDF documents or photos "
    f"(PNG, JPEG, TIFF or GIF), each no bigger than {MAX_MB} MB."
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file input that takes several files; each is checked by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        if len(files) > settings.REDRESS_PORTAL_MAX_FILES:
            raise forms.ValidationError(
                f"Choose at most {settings.REDRESS_PORTAL_MAX_FILES} files."
            )
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


ABOUT_CHOICES = [
    (Department.TECHNICAL_SUPPORT, "A technical problem with your service"),
    (Department.ACCOUNTS, "Your account, a bill or a payment"),
    (Department.COMPANY_SECRETARY, "How we handled a complaint under this Code"),
]
CONTACT_CHOICES = [
    (ContactMethod.EMAIL, "Email"),
    (ContactMethod.PHONE, "Telephone"),
    (ContactMethod.POST, "Post"),
    (ContactMethod.PORTAL, "A message on this website"),
]
TYPE_CHOICES = [
    (CustomerType.CONSUMER, "A person (a consumer)"),
    (CustomerType.BUSINESS, "A business or organisation"),
    (CustomerType.UNKNOWN, "I would rather not say"),
]


class ComplaintForm(ContactDetailsChecked, forms.Form):
    """Make a complaint, signed in or not."""

    token = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(label="Your full name", max_length=200)
    email = forms.EmailField(
        label="Email address",
        help_text="We will send your complaint reference here. If you do not have an "
        "account, we will ask you to confirm this address before you can follow the "
        "complaint online.",
    )
    phone = forms.CharField(label="Telephone number (optional)", required=False, max_length=40)
    account_reference = forms.CharField(
        label="Account reference (optional)",
        required=False,
        max_length=40,
        help_text="It is on your invoices, for example ACC-1001.",
    )
    about = forms.ChoiceField(
        label="What is your complaint about?", choices=ABOUT_CHOICES, widget=forms.RadioSelect
    )
    subject = forms.CharField(
        label="Summary",
        max_length=200,
        help_text="A few words, for example “Internet keeps dropping”.",
    )
    description = forms.CharField(
        label="Tell us what went wrong",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Include dates, what you have tried, and what you would like us to do.",
    )
    files = MultipleFileField(label="Attach files (optional)", help_text=FILES_HINT)
    preferred_contact_method = forms.ChoiceField(
        label="How should we contact you about this complaint?",
        choices=CONTACT_CHOICES,
        widget=forms.RadioSelect,
        initial=ContactMethod.EMAIL,
    )
    postal_address = forms.CharField(
        label="Postal address (if you choose post)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "street-address"}),
        help_text="Include the postcode. We only need it to send you letters by post.",
    )
    customer_type = forms.ChoiceField(
        label="Are you complaining as a person or as a business?",
        choices=TYPE_CHOICES,
        widget=forms.RadioSelect,
        help_text="We ask because people and small businesses (fewer than 10 employees) can "
        "take an unresolved complaint to an independent ombudsman after 8 weeks.",
    )
    employee_count = forms.IntegerField(
        label="If a business: how many people does it employ? (optional)",
        required=False,
        min_value=0,
        max_value=10_000_000,
    )

    # Until it is filled in, the form is the same for everyone but its token: its blank
    # fields are rendered once per process ({% form_fields %}, complaints/templatetags).
    render_blank_fields_once = True

    def __init__(self, *args, signed_in_customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["token"].initial = uuid.uuid4().hex
        if signed_in_customer is not None:
            # The signed-in customer's own details are used; they change them on their
            # account page.
            for field in ("name", "email"):
                self.fields[field].required = False
                self.fields[field].disabled = True
            self.fields["name"].initial = signed_in_customer.name
            self.fields["email"].initial = signed_in_customer.email
            self.fields["phone"].initial = signed_in_customer.phone
            self.fields["account_reference"].initial = signed_in_customer.account_reference
            self.fields[
                "preferred_contact_method"
            ].initial = signed_in_customer.preferred_contact_method
            self.fields["customer_type"].initial = signed_in_customer.customer_type
            if signed_in_customer.postal_address.strip():
                # The address on file is used, as the name and email are: it changes on
                # the account page, so what is typed here can never silently go unused.
                self.fields["postal_address"].disabled = True
                self.fields["postal_address"].initial = signed_in_customer.postal_address
            self.fields["employee_count"].initial = signed_in_customer.employee_count

    def clean_token(self):
        token = self.cleaned_data["token"]
        if not (8 <= len(token) <= 64 and token.isalnum()):
            raise forms.ValidationError("The form was damaged in transit. Please try again.")
        return token


class ReplyForm(forms.Form):
    body = forms.CharField(
        label="Your message", max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    files = MultipleFileField(label="Attach files (optional)", help_text=FILES_HINT)


class EscalateForm(forms.Form):
    requested = forms.ChoiceField(
        label="Who would you like to review your complaint?",
        choices=[
            ("technical_director", "Our Technical Director"),
            ("company_secretary", "Our Company Secretary"),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="Why are you still not satisfied?",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class DeadlockForm(forms.Form):
    reason = forms.CharField(
        label="Anything you would like to add (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(label="Email address")


class SatisfactionForm(forms.Form):
    """The one optional question after a complaint closes (issue 16 item 4)."""

    score = forms.TypedChoiceField(
        label="How satisfied are you with how we handled your complaint?",
        choices=[],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how satisfied you are, from 1 to 5."},
    )
    comment = forms.CharField(
        label="Anything you would like to tell us (optional)",
        required=False,
        max_length=500,
        help_text="One line, up to 500 characters.",
        error_messages={"max_length": "Keep it to 500 characters or fewer."},
    )

    def __init__(self, *args, **kwargs):
        from complaints.services.satisfaction import SCORES

        super().__init__(*args, **kwargs)
        self.fields["score"].choices = list(SCORES.items())
