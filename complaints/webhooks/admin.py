"""The admin for webhook subscriptions and their delivery log (imported by complaints.admin)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from complaints.admin_base import CappedCountPaginator
from complaints.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from complaints.webhooks.delivery import webhook_send_again
from complaints.webhooks.subscriptions import (
    webhook_subscription_create,
    webhook_subscription_enable,
)
from complaints.webhooks.targets import webhook_url_check


class WebhookSubscriptionAddForm(forms.ModelForm):
    """A new subscription: its integration, target and events; the secret is ours to make."""

    chosen_events = forms.MultipleChoiceField(
        label="Event types", choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )

    url = forms.URLField(label="Endpoint URL", max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookSubscription
        fields = ("integration", "url", "lead_hours")

    def clean_url(self):
        url = self.cleaned_data["url"]
        webhook_url_check(url)
        return url


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = (
        "integration",
        "url",
        "active",
        "consecutive_failures",
        "disabled_at",
        "disabled_reason",
        "created_at",
    )
    list_filter = ("active",)
    readonly_fields = (
        "integration",
        "url",
        "event_types",
        "lead_hours",
        "active",
        "disabled_at",
        "disabled_reason",
        "consecutive_failures",
        "created_at",
        "created_by",
    )
    actions = ("enable",)

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = WebhookSubscriptionAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        made = webhook_subscription_create(
            integration=form.cleaned_data["integration"],
            url=form.cleaned_data["url"],
            event_types=form.cleaned_data["chosen_events"],
            lead_hours=form.cleaned_data["lead_hours"],
            by=request.user,
        )
        obj.pk = made.subscription.pk
        obj._state.adding = False
        messages.warning(
            request,
            f"The signing secret, shown this once (copy it now into the receiver): {made.secret}",
        )

    @admin.action(description="Enable the selected subscriptions again", permissions=["change"])
    def enable(self, request, queryset):
        done = 0
        for subscription in queryset:
            try:
                done += webhook_subscription_enable(subscription=subscription, actor=request.user)
            except ValidationError as exc:
                self.message_user(
                    request, f"{subscription.url}: {'; '.join(exc.messages)}", messages.ERROR
                )
        self.message_user(request, f"{done} subscription(s) enabled.")

    def has_delete_permission(self, request, obj=None):
        return False  # the delivery log stays; a subscription is disabled instead


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Every webhook delivery, newest first: response codes, attempts and errors."""

    list_display = (
        "created_at",
        "webhook_id",
        "event_type",
        "subscription",
        "complaint",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
        "delivered_at",
        "failed_at",
    )
    list_filter = (
        "event_type",
        ("delivered_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("webhook_id", "complaint__reference")
    list_select_related = ("subscription__integration", "complaint")
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 50
    actions = ("send_again",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description="Send again now (same webhook-id)", permissions=["change"])
    def send_again(self, request, queryset):
        done = sum(webhook_send_again(delivery=d, actor=request.user) for d in queryset)
        self.message_user(request, f"{done} delivery(ies) queued to be sent again.")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        pass  # read-only: every field is shown read-only and nothing is saved
