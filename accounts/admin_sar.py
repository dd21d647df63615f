"""The staff desk's subject access requests: the list by due date, logging one, and answering.

Every change goes through accounts.sar; this module only shows forms and messages.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import SubjectAccessAlert, SubjectAccessEvent, SubjectAccessRequest
from accounts.sar import (
    SarRuleError,
    sar_extend,
    sar_fulfil,
    sar_open,
    sar_refuse,
    sar_response_prepare,
    sar_warn_date,
)
from complaints.fields import MomentField

SAR = SubjectAccessRequest
STAFF_CHANNELS = [c for c in SAR.Channel.choices if c[0] != SAR.Channel.PORTAL]


class SarLogForm(forms.ModelForm):
    """Log a request that came by letter, email or telephone."""

    channel = forms.ChoiceField(label="Received by", choices=STAFF_CHANNELS)
    received_at = MomentField(
        label="Received",
        initial=timezone.now,
        help_text="When it reached us: the one-month clock counts from this day.",
    )

    class Meta:
        model = SAR
        fields = ("customer", "channel", "received_at", "details")

    def clean_received_at(self):
        value = self.cleaned_data["received_at"]
        if value > timezone.now():
            raise forms.ValidationError("The date received cannot be in the future.")
        return value


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(
        label="Extend by", choices=[(1, "1 month"), (2, "2 months")], coerce=int
    )
    reason = forms.CharField(
        label="Why (the customer is told this)", widget=forms.Textarea(attrs={"rows": 3})
    )


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label="Why (the customer is told this)", widget=forms.Textarea(attrs={"rows": 3})
    )


class SubjectAccessEventInline(admin.TabularInline):
    model = SubjectAccessEvent
    fields = ("at", "kind", "actor", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "History"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SubjectAccessRequest)
class SubjectAccessRequestAdmin(admin.ModelAdmin):
    list_display = ("reference", "customer", "channel", "received_at", "state", "due", "handled_by")
    list_filter = ("state", "channel")
    search_fields = (
        "reference",
        "customer__name",
        "customer__email",
        "customer__account_reference",
    )
    list_select_related = ("customer", "handled_by")
    ordering = ("current_due_on", "pk")
    list_per_page = 50
    show_full_result_count = False
    autocomplete_fields = ("customer",)
    inlines = [SubjectAccessEventInline]
    change_form_template = "admin/accounts/subjectaccessrequest/change_form.html"
    readonly_fields = (
        "reference",
        "customer",
        "channel",
        "received_at",
        "details",
        "state",
        "due_on",
        "extended_due_on",
        "extension_reason",
        "extension_told_at",
        "warning",
        "response",
        "closed_at",
        "refusal_reason",
        "logged_by",
    )

    @admin.display(description="due", ordering="current_due_on")
    def due(self, obj):
        if obj.is_open and timezone.localdate() > obj.current_due_on:
            return format_html("<strong>overdue</strong> (was due {})", obj.current_due_on)
        return obj.current_due_on

    @admin.display(description="alert raised from")
    def warning(self, obj):
        return sar_warn_date(obj) if obj.is_open else "-"

    @admin.display(description="the response (ZIP)")
    def response(self, obj):
        if obj.bundle_id is None:
            return "Not prepared yet."
        url = reverse("complaints:bundle-progress", args=[obj.bundle_id])
        return format_html('<a href="{}">{}</a>', url, obj.bundle)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = SarLogForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("customer", "channel", "received_at", "details")
        return (*self.readonly_fields, "handled_by")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            from accounts.sar import sar_handler_set

            sar_handler_set(
                sar=obj, handler=form.cleaned_data.get("handled_by"), actor=request.user
            )
            return
        try:
            opened = sar_open(
                customer=form.cleaned_data["customer"],
                channel=form.cleaned_data["channel"],
                received_at=form.cleaned_data["received_at"],
                details=form.cleaned_data.get("details", ""),
                actor=request.user,
            )
        except SarRuleError as exc:
            # Checked again under the lock; nothing was saved.
            self.message_user(request, str(exc), messages.ERROR)
            raise _Refused from exc
        obj.pk = opened.request.pk
        obj.reference = opened.request.reference
        if not opened.created:
            self.message_user(
                request,
                f"{opened.request.reference} is already open for this customer: this request "
                "is recorded in its history and its clock stands.",
                messages.WARNING,
            )

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _Refused:
            return redirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None):
        return False  # requests and their history are kept

    def change_view(self, request, object_id, form_url="", extra_context=None):
        sar = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if sar is not None and sar.is_open and self.has_change_permission(request, sar):
            extra_context |= {
                "sar_actions": True,
                "extend_form": ExtendForm() if sar.extended_due_on is None else None,
                "refuse_form": RefuseForm(),
                "response_ready": sar.bundle_id is not None and sar.bundle.state == "ready",
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/act/<str:action>/", wrap(self.act_view), name="accounts_sar_act"),
            *super().get_urls(),
        ]

    def act_view(self, request, pk: int, action: str):
        return _act(self, request, pk, action)


class _Refused(Exception):
    pass


def _act(model_admin, request, pk: int, action: str):
    """Extend, prepare the response, send it, or refuse; then back to the request."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    sar = get_object_or_404(SAR, pk=pk)
    if not model_admin.has_change_permission(request, sar):
        raise PermissionDenied
    back = redirect(reverse("admin:accounts_subjectaccessrequest_change", args=[pk]))
    try:
        if action == "extend":
            form = ExtendForm(request.POST)
            if not form.is_valid():
                raise SarRuleError("Choose one or two months and give the reason.")
            sar_extend(sar=sar, months=form.cleaned_data["months"],
                       reason=form.cleaned_data["reason"], actor=request.user)  # fmt: skip
            done = "Extended; the customer has been told why and the new date."
        elif action == "prepare":
            bundle = sar_response_prepare(sar=sar, actor=request.user)
            return redirect(reverse("complaints:bundle-progress", args=[bundle.pk]))
        elif action == "send":
            sar_fulfil(sar=sar, actor=request.user)
            done = "Sent: the customer has been told and can download it on the portal."
        elif action == "refuse":
            form = RefuseForm(request.POST)
            if not form.is_valid():
                raise SarRuleError("Give the reason for refusing: the customer must be told it.")
            sar_refuse(sar=sar, reason=form.cleaned_data["reason"], actor=request.user)
            done = "Refused; the customer has been told why."
        else:
            raise SarRuleError(f"Unknown action {action!r}.")
    except SarRuleError as exc:
        model_admin.message_user(request, str(exc), messages.ERROR)
        return back
    model_admin.message_user(request, done, messages.SUCCESS)
    return back


@admin.register(SubjectAccessAlert)
class SubjectAccessAlertAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "message", "request_link")
    list_filter = ("kind",)
    search_fields = ("request__reference",)
    list_select_related = ("request",)
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="request")
    def request_link(self, obj):
        url = reverse("admin:accounts_subjectaccessrequest_change", args=[obj.request_id])
        return format_html('<a href="{}">{}</a>', url, obj.request.reference)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
