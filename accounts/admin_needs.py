"""The desk's side of recorded needs (issue 15 items 1 and 3; Ofcom GC C5).

Staff record, correct, review and withdraw a customer's needs from the customer's page
(reached from every case of theirs), saying how the customer agreed: by phone, by letter,
by email or in person. The "Needs due for review" list is the review queue. Every write
is accounts.needs; nothing here edits a record directly.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from accounts import needs_rules
from accounts.forms import needs_problems_add
from accounts.models import (
    CommunicationFormat,
    ConsentHow,
    Customer,
    CustomerNeeds,
    CustomerNeedsEvent,
    NeedKind,
    User,
)
from accounts.needs import (
    STAFF_CONSENT,
    needs_badge,
    needs_record,
    needs_review,
    needs_withdraw,
    review_date_default,
    update_interval_floor,
)
from complaints.admin_base import CappedCountPaginator, ReadOnlyAdminMixin


class StaffNeedsForm(forms.Form):
    """What staff record about a customer's needs, and how the customer agreed to it."""

    kinds = forms.MultipleChoiceField(
        label="Needs",
        choices=NeedKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    details = forms.CharField(
        label="Details",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
        help_text="In the customer's words. Only what helps us help them.",
    )
    call_times = forms.CharField(label="Times to call", max_length=200, required=False)
    communication_format = forms.ChoiceField(
        label="Letters and updates",
        choices=CommunicationFormat.choices,
        initial=CommunicationFormat.STANDARD,
    )
    update_interval_working_days = forms.IntegerField(
        label="Progress updates every (working days)",
        required=False,
        min_value=1,
        help_text="Only if agreed with the customer: longer than the Code's interval, never "
        "shorter (COP-13). Empty for the Code's.",
    )
    named_contact = forms.ModelChoiceField(
        label="Named contact",
        queryset=User.objects.filter(
            is_staff=True, is_active=True, integration__isnull=True
        ).order_by("name", "email"),
        required=False,
        help_text="Shown on the customer's cases; gets their progress-update reminders.",
    )
    review_on = forms.DateField(
        label="Review on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty for the usual date.",
    )
    consent_how = forms.ChoiceField(
        label="How the customer agreed",
        choices=[("", "---------")] + [(c, ConsentHow(c).label) for c in STAFF_CONSENT],
        help_text="Record needs only with the customer's agreement (Ofcom GC C5).",
        error_messages={
            "required": "Say how the customer agreed to us recording their needs: by "
            "phone, by letter, by email or in person. Without their agreement, record nothing."
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        floor = update_interval_floor()
        self.fields["update_interval_working_days"].help_text = (
            f"Only if agreed with the customer: {floor} working days or more (the Code's "
            f"interval, COP-13, is {floor}). Empty for the Code's."
        )
        self.fields[
            "review_on"
        ].help_text = f"Empty for {review_date_default():%-d %B %Y} on a new record."

    def clean(self):
        data = super().clean()
        needs_problems_add(self, data)
        problem = needs_rules.update_interval_problem(
            data.get("update_interval_working_days"), floor=update_interval_floor()
        )
        if problem and "update_interval_working_days" not in self.errors:
            self.add_error("update_interval_working_days", problem)
        return data

    @classmethod
    def initial_from(cls, needs: CustomerNeeds | None) -> dict:
        if needs is None:
            return {}
        return {
            "kinds": needs.kinds,
            "details": needs.details,
            "call_times": needs.call_times,
            "communication_format": needs.communication_format,
            "update_interval_working_days": needs.update_interval_working_days,
            "named_contact": needs.named_contact_id,
            "review_on": needs.review_on,
        }


def _back(request, customer) -> str:
    """Where to go after: the case the member of staff came from, or the customer's page."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("admin:accounts_customer_change", args=[customer.pk])


def _page(model_admin, request, template, **context):
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            **context,
        },
    )


def _customer(model_admin, request, object_id, permission: str) -> Customer:
    if not request.user.has_perm(permission):
        raise PermissionDenied
    return get_object_or_404(model_admin.get_queryset(request), pk=object_id)


def needs_record_view(model_admin, request, object_id):
    """Record or correct the customer's needs, with how they agreed (phone, letter, ...)."""
    customer = _customer(model_admin, request, object_id, "accounts.change_customerneeds")
    held = CustomerNeeds.objects.filter(customer=customer).first()
    form = StaffNeedsForm(request.POST or None, initial=StaffNeedsForm.initial_from(held))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            needs_record(
                customer=customer,
                actor=request.user,
                consent_how=data["consent_how"],
                kinds=data["kinds"],
                details=data["details"],
                call_times=data["call_times"],
                communication_format=data["communication_format"],
                update_interval_working_days=data["update_interval_working_days"],
                named_contact=data["named_contact"],
                review_on=data["review_on"],
            )
        except ValidationError as exc:
            from complaints.forms import form_errors_add

            form_errors_add(form, exc)
        else:
            messages.success(request, f"{customer}: needs saved.")
            return redirect(_back(request, customer))
    return _page(
        model_admin,
        request,
        "admin/accounts/customer/needs_form.html",
        title=f"{'Change' if held else 'Record'} needs: {customer}",
        customer=customer,
        held=held,
        form=form,
        back=_back(request, customer),
        next=request.POST.get("next") or request.GET.get("next") or "",
    )


def needs_withdraw_view(model_admin, request, object_id):
    """Delete the customer's needs when they withdraw consent (asks first)."""
    customer = _customer(model_admin, request, object_id, "accounts.delete_customerneeds")
    held = CustomerNeeds.objects.filter(customer=customer).first()
    if held is None:
        messages.info(request, f"{customer} has no recorded needs.")
        return redirect(_back(request, customer))
    if request.method == "POST":
        needs_withdraw(customer=customer, actor=request.user)
        messages.success(
            request, f"{customer}: needs deleted. The history keeps only that they were withdrawn."
        )
        return redirect(_back(request, customer))
    return _page(
        model_admin,
        request,
        "admin/accounts/customer/needs_withdraw.html",
        title=f"Withdraw needs: {customer}",
        customer=customer,
        back=_back(request, customer),
        next=request.GET.get("next") or "",
    )


def needs_review_view(model_admin, request, object_id):
    """Record that the needs were checked with the customer; the next review in a year."""
    customer = _customer(model_admin, request, object_id, "accounts.change_customerneeds")
    if request.method != "POST":
        return redirect(_back(request, customer))
    try:
        needs = needs_review(customer=customer, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"{customer}: needs reviewed; next review {needs.review_on:%-d %B %Y}."
        )
    return redirect(_back(request, customer))


def needs_summary_html(customer: Customer, *, next_url: str = "") -> str:
    """The customer page's needs block: the badge and links to record, change or withdraw."""
    held = CustomerNeeds.objects.filter(customer=customer).select_related("named_contact").first()
    suffix = "?" + urlencode({"next": next_url}) if next_url else ""
    record = reverse("admin:accounts_customer_needs", args=[customer.pk]) + suffix
    if held is None:
        return format_html('None recorded. <a href="{}">Record needs</a>', record)
    withdraw = reverse("admin:accounts_customer_needs_withdraw", args=[customer.pk]) + suffix
    return format_html(
        '<span class="needs-badge">{}</span> Review on {}. <a href="{}">Change</a> · '
        '<a href="{}">Withdraw</a>',
        needs_badge(held),
        f"{held.review_on:%-d %B %Y}",
        record,
        withdraw,
    )


class ReviewDueFilter(admin.SimpleListFilter):
    """The review queue: needs whose review date has come (review_on is indexed)."""

    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("due", "Due for review"), ("later", "Not yet due")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "due":
            return queryset.filter(review_on__lte=today)
        if self.value() == "later":
            return queryset.filter(review_on__gt=today)
        return queryset


@admin.register(CustomerNeeds)
class CustomerNeedsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customers with recorded needs, soonest review first; changed on the customer's page."""

    list_display = (
        "customer_link",
        "badge",
        "review_on",
        "recorded_by",
        "consent_how",
        "updated_at",
    )
    list_filter = (ReviewDueFilter, "communication_format", "consent_how")
    list_select_related = ("customer", "recorded_by")
    ordering = ("review_on", "pk")
    list_per_page = 50
    paginator = CappedCountPaginator
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("accounts.view_customerneeds")

    @admin.display(description="customer", ordering="customer__name")
    def customer_link(self, obj):
        url = reverse("admin:accounts_customer_change", args=[obj.customer_id])
        return format_html('<a href="{}">{}</a>', url, obj.customer)

    @admin.display(description="needs")
    def badge(self, obj):
        return needs_badge(obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Changes go through the customer's page (accounts.needs), never this form.
        needs = get_object_or_404(CustomerNeeds, pk=object_id)
        return redirect("admin:accounts_customer_needs", needs.customer_id)


@admin.register(CustomerNeedsEvent)
class CustomerNeedsEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """When needs were recorded, changed, reviewed and withdrawn: never what they were."""

    list_display = ("at", "customer", "kind", "actor", "by_customer", "consent_how")
    list_filter = ("kind",)
    list_select_related = ("customer", "actor")
    ordering = ("-at", "-pk")
    list_per_page = 50
    paginator = CappedCountPaginator
    show_full_result_count = False
