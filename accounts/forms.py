"""Portal account forms: sign up, contact details, needs."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation

from accounts import needs_rules
from accounts.models import (
    CommunicationFormat,
    ContactMethod,
    Customer,
    CustomerType,
    NeedKind,
    User,
)
from complaints.domain.notices import contact_details_missing


class ContactDetailsChecked:
    """For a form with a contact method, phone, postal address and customer type.

    The employee count only for a business; and the details the chosen contact method
    needs (complaints.domain.notices.contact_details_missing), each error on its field.
    """

    def clean(self):
        data = super().clean()
        if data.get("customer_type") != CustomerType.BUSINESS:
            data["employee_count"] = None
        missing = contact_details_missing(
            data.get("preferred_contact_method", ""),
            phone=data.get("phone", ""),
            postal_address=data.get("postal_address", ""),
        )
        for field, message in missing.items():
            self.add_error(field, message)
        return data


class SignupForm(forms.Form):
    name = forms.CharField(label="Your full name", max_length=200)
    email = forms.EmailField(
        label="Email address",
        help_text="We will send a link to this address to confirm it is yours.",
    )
    password1 = forms.CharField(
        label="Create a password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters. Avoid common words and your name.",
    )
    password2 = forms.CharField(
        label="Type the password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    ALREADY = (
        "There is already an account with this email address. Sign in, or reset your password."
    )

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(self.ALREADY)
        return email

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords do not match.")
        elif p1:
            user = User(email=data.get("email", ""), name=data.get("name", ""))
            try:
                password_validation.validate_password(p1, user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ContactDetailsForm(ContactDetailsChecked, forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "name",
            "phone",
            "postal_address",
            "preferred_contact_method",
            "customer_type",
            "employee_count",
        ]
        labels = {
            "name": "Your full name",
            "phone": "Telephone number",
            "postal_address": "Postal address",
            "preferred_contact_method": "How should we contact you?",
            "customer_type": "Are you a person or a business?",
            "employee_count": "If a business: how many people does it employ?",
        }
        help_texts = {
            "customer_type": "People and small businesses (fewer than 10 employees) can take "
            "an unresolved complaint to an independent ombudsman after 8 weeks.",
            "employee_count": "",
        }
        widgets = {
            "preferred_contact_method": forms.RadioSelect,
            "customer_type": forms.RadioSelect,
            "postal_address": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["preferred_contact_method"].choices = ContactMethod.choices
        self.fields["customer_type"].choices = CustomerType.choices


class NeedsForm(forms.Form):
    """The customer's own record of their needs, on the portal (issue 15; Ofcom GC C5)."""

    kinds = forms.MultipleChoiceField(
        label="What should we know about?",
        help_text="Choose all that apply.",
        # In the customer's own voice where staff's words would read oddly to them.
        choices=[
            (k, "English is not my first language" if k == NeedKind.LANGUAGE else label)
            for k, label in NeedKind.choices
        ],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    details = forms.CharField(
        label="Anything else that would help (optional)",
        help_text="For example: “I use a hearing aid, so a phone call is hard”.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        required=False,
    )
    call_times = forms.CharField(
        label="When is a good time to call? (optional)",
        help_text="For example: “weekdays after 2pm”.",
        max_length=200,
        required=False,
    )
    communication_format = forms.ChoiceField(
        label="How should we send you letters and updates?",
        choices=CommunicationFormat.choices,
        initial=CommunicationFormat.STANDARD,
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label="I agree to you keeping this information so that you can help me. I can change "
        "it or ask you to delete it at any time.",
        error_messages={
            "required": "Tick the box to agree to us keeping this information, or leave "
            "this page without saving."
        },
    )

    def clean(self):
        data = super().clean()
        needs_problems_add(self, data)
        return data

    @classmethod
    def initial_from(cls, needs) -> dict:
        if needs is None:
            return {}
        return {
            "kinds": needs.kinds,
            "details": needs.details,
            "call_times": needs.call_times,
            "communication_format": needs.communication_format,
        }


def needs_problems_add(form, data: dict) -> None:
    """Show the needs rules' problems with the form's own, all at once (not one by one)."""
    if "kinds" not in data:
        return  # the field's own error is shown
    problems = needs_rules.needs_problems(
        kinds=data.get("kinds") or [],
        known=set(NeedKind.values),
        details=data.get("details", ""),
        call_times=data.get("call_times", ""),
    )
    for field, message in problems.items():
        if field not in form.errors:
            form.add_error(field, message)
