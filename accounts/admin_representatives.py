"""The desk's side of representatives (issue 15 item 4; Ofcom GC C5).

Staff record someone acting for the customer — who they are, their relationship, the
authority seen (a file, checked by complaints.uploads) and what they may do — from the
customer's page, and withdraw it with a reason. Nothing here edits a record directly:
every write is accounts.representatives, which puts it in each affected case's history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import (
    ContactMethod,
    Customer,
    Representative,
    RepresentativeRelationship,
    User,
)
from accounts.representatives import (
    FIELDS,
    authority_state,
    representative_problems,
    representative_record,
    representative_withdraw,
    scope_words,
)
from complaints.admin_base import CappedCountPaginator
from complaints.fields import MomentField
from complaints.models import Complaint


class RepresentativeForm(forms.Form):
    """Who acts for the customer, the authority seen, and what they may do."""

    name = forms.CharField(label="Their name", max_length=200)
    relationship = forms.ChoiceField(
        label="Relationship to the customer", choices=RepresentativeRelationship.choices
    )
    organisation = forms.CharField(
        label="Organisation (optional)",
        max_length=200,
        required=False,
        help_text="For example the MP's office or the business they work for.",
    )
    email = forms.EmailField(label="Email address", required=False)
    phone = forms.CharField(label="Telephone", max_length=40, required=False)
    postal_address = forms.CharField(
        label="Postal address", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    contact_method = forms.ChoiceField(
        label="How they want our letters", choices=ContactMethod.choices
    )
    user_email = forms.EmailField(
        label="Their portal login (optional)",
        required=False,
        help_text="The email address of their own portal account: they then see, on the "
        "portal, only the complaints this authority is for.",
    )
    authority_seen = forms.CharField(
        label="Authority seen",
        max_length=200,
        help_text='For example "letter signed by the customer", "lasting power of attorney".',
    )
    authority_document = forms.FileField(
        label="The authority (PDF or image, optional)", required=False
    )
    receive_letters = forms.BooleanField(
        label="Receives our letters and updates", required=False, initial=True
    )
    act_on_case = forms.BooleanField(
        label="May act on the complaint (reply, ask for a senior review or a deadlock letter)",
        required=False,
        initial=True,
    )
    copy_customer = forms.BooleanField(
        label="Copy letters to the customer",
        required=False,
        initial=True,
        help_text="Untick only if the customer asked that letters go to the representative only.",
    )
    all_complaints = forms.BooleanField(
        label="For all the customer's complaints", required=False, initial=True
    )
    complaints = forms.ModelMultipleChoiceField(
        label="Or only these complaints",
        queryset=Complaint.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    starts_at = MomentField(
        label="From (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty for now.",
    )
    ends_at = MomentField(
        label="Until (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="The authority ends then, on its own. Empty when it has no end date.",
    )

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["complaints"].queryset = Complaint.objects.filter(customer=customer).only(
            "pk", "reference", "subject"
        )
        self.fields["complaints"].label_from_instance = lambda c: f"{c.reference}: {c.subject}"

    def clean(self):
        data = super().clean()
        # Every problem at once: the rules' own checks on what the form let through.
        problems = representative_problems(
            customer=self.customer,
            data={k: v for k, v in data.items() if k in FIELDS},
            complaints=list(data.get("complaints") or ()),
            user=data.get("user_email"),
            starts_at=data.get("starts_at") or timezone.now(),
            ends_at=data.get("ends_at"),
        )
        for field, message in problems.items():
            field = "user_email" if field == "user" else field
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        return data

    def clean_authority_document(self):
        from django.conf import settings

        from complaints.uploads import upload_check

        upload = self.cleaned_data.get("authority_document")
        if upload:
            upload_check(upload, max_bytes=settings.REDRESS_MAX_ATTACHMENT_BYTES)
        return upload

    def clean_user_email(self):
        email = self.cleaned_data["user_email"]
        if not email:
            return None
        user = User.objects.filter(email__iexact=email, is_staff=False).first()
        if user is None:
            raise ValidationError(
                "No portal account has this address: ask them to sign up first, or leave it empty."
            )
        return user


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why the authority is withdrawn",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text='For example "the customer asked us by phone".',
    )


def _page(model_admin, request, template, **context):
    return TemplateResponse(
        request,
        template,
        {**model_admin.admin_site.each_context(request), "opts": Customer._meta, **context},
    )


def representative_add_view(model_admin, request, object_id):
    """Record someone acting for the customer, with the authority seen (GC C5)."""
    if not request.user.has_perm("accounts.add_representative"):
        raise PermissionDenied
    customer = get_object_or_404(model_admin.get_queryset(request), pk=object_id)
    form = RepresentativeForm(request.POST or None, request.FILES or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            representative_record(
                customer=customer,
                actor=request.user,
                user=data.pop("user_email"),
                document=data.pop("authority_document"),
                complaints=data.pop("complaints"),
                starts_at=data.pop("starts_at"),
                ends_at=data.pop("ends_at"),
                **data,
            )
        except ValidationError as exc:
            from complaints.forms import form_errors_add

            if hasattr(exc, "error_dict") and "user" in exc.error_dict:
                exc.error_dict["user_email"] = exc.error_dict.pop("user")
            form_errors_add(form, exc)
        else:
            messages.success(request, f"{customer}: representative {data['name']} recorded.")
            return redirect("admin:accounts_customer_change", customer.pk)
    return _page(
        model_admin,
        request,
        "admin/accounts/customer/representative_form.html",
        title=f"Record a representative: {customer}",
        customer=customer,
        form=form,
    )


def representative_withdraw_view(model_admin, request, object_id, rep_id):
    """Withdraw an authority at once, with the reason (asks first)."""
    if not request.user.has_perm("accounts.change_representative"):
        raise PermissionDenied
    customer = get_object_or_404(model_admin.get_queryset(request), pk=object_id)
    rep = get_object_or_404(Representative, pk=rep_id, customer=customer)
    form = WithdrawForm(request.POST or None)
    if rep.withdrawn_at is not None:
        messages.info(request, f"{rep.name}'s authority was already withdrawn.")
        return redirect("admin:accounts_customer_change", customer.pk)
    if request.method == "POST" and form.is_valid():
        representative_withdraw(rep=rep, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"{rep.name} may no longer act for {customer}.")
        return redirect("admin:accounts_customer_change", customer.pk)
    return _page(
        model_admin,
        request,
        "admin/accounts/customer/representative_withdraw.html",
        title=f"Withdraw {rep.name}'s authority: {customer}",
        customer=customer,
        rep=rep,
        form=form,
    )


def representative_document_view(model_admin, request, object_id, rep_id):
    """Download the authority document staff saw."""
    if not request.user.has_perm("accounts.view_representative"):
        raise PermissionDenied
    customer = get_object_or_404(model_admin.get_queryset(request), pk=object_id)
    rep = get_object_or_404(Representative, pk=rep_id, customer=customer)
    if not rep.authority_document:
        raise Http404("No document was kept.")
    try:
        handle = rep.authority_document.open("rb")
    except FileNotFoundError:
        raise Http404("This file is no longer held.") from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=rep.authority_document_name or "authority",
        content_type=rep.authority_document_type or "application/octet-stream",
    )


def representative_urls(model_admin):
    wrap = model_admin.admin_site.admin_view
    return [
        path(
            "<path:object_id>/representatives/add/",
            wrap(lambda r, object_id: representative_add_view(model_admin, r, object_id)),
            name="accounts_customer_representative_add",
        ),
        path(
            "<path:object_id>/representatives/<int:rep_id>/withdraw/",
            wrap(
                lambda r, object_id, rep_id: representative_withdraw_view(
                    model_admin, r, object_id, rep_id
                )
            ),
            name="accounts_customer_representative_withdraw",
        ),
        path(
            "<path:object_id>/representatives/<int:rep_id>/document/",
            wrap(
                lambda r, object_id, rep_id: representative_document_view(
                    model_admin, r, object_id, rep_id
                )
            ),
            name="accounts_customer_representative_document",
        ),
    ]


def representatives_summary_html(customer: Customer) -> str:
    """The customer page's block: each representative, their authority's state, links."""
    now = timezone.now()
    reps = list(
        Representative.objects.filter(customer=customer)
        .prefetch_related("complaints")
        .order_by("-recorded_at", "-pk")
    )
    rows = []
    for rep in reps:
        state = authority_state(rep, now)
        scope = (
            "all complaints"
            if rep.all_complaints
            else ", ".join(c.reference for c in rep.complaints.all())
        )
        links = []
        if rep.authority_document:
            links.append(
                format_html(
                    '<a href="{}">authority document</a>',
                    reverse(
                        "admin:accounts_customer_representative_document",
                        args=[customer.pk, rep.pk],
                    ),
                )
            )
        if rep.withdrawn_at is None:
            links.append(
                format_html(
                    '<a href="{}">Withdraw</a>',
                    reverse(
                        "admin:accounts_customer_representative_withdraw",
                        args=[customer.pk, rep.pk],
                    ),
                )
            )
        rows.append(
            (
                rep.name,
                rep.get_relationship_display().lower(),
                state,
                scope_words(rep),
                scope,
                format_html_join(" · ", "{}", ((link,) for link in links)),
            )
        )
    listed = format_html_join(
        "",
        '<li><strong>{}</strong> ({}): <span class="rep-state">{}</span>; may {}; for {}. {}</li>',
        rows,
    )
    add = format_html(
        '<a href="{}">Record someone acting for the customer</a>',
        reverse("admin:accounts_customer_representative_add", args=[customer.pk]),
    )
    if not rows:
        return format_html("None recorded. {}", add)
    return format_html('<ul class="representatives">{}</ul>{}', listed, add)


@admin.register(Representative)
class RepresentativeAdmin(admin.ModelAdmin):
    """Every representative, newest first; recorded and withdrawn from the customer's page."""

    list_display = ("name", "relationship", "customer", "state", "recorded_at", "ends_at")
    list_filter = ("relationship",)
    list_select_related = ("customer",)
    search_fields = ("name", "email", "customer__name", "customer__account_reference")
    ordering = ("-recorded_at", "-pk")
    list_per_page = 50
    paginator = CappedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # from the customer's page, through accounts.representatives

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="authority")
    def state(self, obj):
        return authority_state(obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rep = get_object_or_404(Representative, pk=object_id)
        return redirect("admin:accounts_customer_change", rep.customer_id)
