"""Staff view of complaints and their history. The full triage desk is built on top later.

Nothing here deletes: complaints and their history are kept for good.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from complaints.models import (
    Attachment,
    CaseEvent,
    CaseNote,
    Complaint,
    Correspondence,
    Heartbeat,
    Notice,
    OutboxMessage,
    StaffAlert,
    ThirdPartyCorrespondence,
)
from complaints.services.outbox import outbox_mark_done, outbox_retry


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = readonly_fields = ("at", "actor_label", "kind", "from_status", "to_status", "reason")
    verbose_name_plural = "History"


class CorrespondenceInline(ReadOnlyInline):
    model = Correspondence
    fields = readonly_fields = ("at", "direction", "channel", "subject", "body", "customer_visible")


class CaseNoteInline(ReadOnlyInline):
    model = CaseNote
    fields = readonly_fields = ("at", "author", "body")


class ThirdPartyInline(ReadOnlyInline):
    model = ThirdPartyCorrespondence
    fields = readonly_fields = ("at", "third_party_name", "direction", "body")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = readonly_fields = ("at", "kind", "original_name", "content_type", "size")


class NoticeInline(ReadOnlyInline):
    model = Notice
    fields = readonly_fields = ("created_at", "kind", "deadline_at", "contact_method", "subject")


class StaffAlertInline(ReadOnlyInline):
    model = StaffAlert
    fields = readonly_fields = ("created_at", "kind", "audience", "recipient", "message", "seen_at")


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    list_display = (
        "reference",
        "customer",
        "department",
        "channel",
        "status",
        "assignee",
        "first_made_at",
        "response_due_at",
    )
    list_filter = ("status", "department", "channel")
    search_fields = (
        "reference",
        "customer__name",
        "customer__account_reference",
        "customer__email",
        "customer__phone",
    )
    list_select_related = ("customer", "assignee")
    date_hierarchy = "first_made_at"
    show_full_result_count = False
    inlines = [
        NoticeInline,
        StaffAlertInline,
        CorrespondenceInline,
        CaseNoteInline,
        ThirdPartyInline,
        AttachmentInline,
        CaseEventInline,
    ]
    fieldsets = (
        (None, {"fields": ("reference", "customer", "subject", "description", "status")}),
        (
            "Routing",
            {
                "fields": (
                    "channel",
                    "department",
                    "assignee",
                    "agreed_contact_method",
                    "policy_key",
                )
            },
        ),
        (
            "Clocks",
            {
                "fields": (
                    "first_made_at",
                    "response_due_at",
                    "progress_update_due_at",
                    "resolution_target_at",
                    "auto_close_at",
                    "adr_eligible_at",
                    "osc_warning_at",
                    "osc_deadline_at",
                )
            },
        ),
        (
            "Facts",
            {
                "classes": ("collapse",),
                "fields": (
                    "logged_at",
                    "logged_by",
                    "acknowledged_at",
                    "awaiting_third_party_since",
                    "last_progress_update_at",
                    "phone_promised_response_at",
                    "first_responded_at",
                    "responded_at",
                    "resolution_awaiting_action",
                    "resolution_actioned_at",
                    "last_customer_reply_at",
                    "formal_at",
                    "deadlock_letter_received_at",
                    "closed_at",
                    "closure_reason",
                    "contracted_response_working_days",
                    "version",
                ),
            },
        ),
    )

    def get_readonly_fields(self, request, obj=None):
        # Changes go through the services (a later issue adds the actions); the page shows.
        return [f.name for f in Complaint._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(CaseEvent)
class CaseEventAdmin(admin.ModelAdmin):
    list_display = ("at", "complaint", "kind", "from_status", "to_status", "actor_label", "reason")
    list_filter = ("kind",)
    search_fields = ("complaint__reference", "reason", "actor_label")
    list_select_related = ("complaint",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "beat_at", "count")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StaffAlert)
class StaffAlertAdmin(admin.ModelAdmin):
    """Breaches and reminders raised by the deadline jobs, per department queue and manager."""

    list_display = (
        "created_at",
        "complaint",
        "kind",
        "audience",
        "department",
        "recipient",
        "message",
        "seen_at",
    )
    list_filter = ("audience", "department", "kind", ("seen_at", admin.EmptyFieldListFilter))
    search_fields = ("complaint__reference", "message")
    list_select_related = ("complaint", "recipient")
    actions = ["mark_seen"]
    show_full_result_count = False

    @admin.action(description="Mark selected alerts as seen")
    def mark_seen(self, request, queryset):
        count = queryset.filter(seen_at__isnull=True).update(seen_at=timezone.now())
        self.message_user(request, f"{count} alert(s) marked as seen.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Notices on their way out: the "to post" and "to call" queues, and failed emails."""

    list_display = (
        "created_at",
        "reference",
        "notice_kind",
        "channel",
        "recipient",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "letter_link",
    )
    list_filter = ("state", "channel")
    search_fields = ("notice__complaint__reference", "recipient")
    list_select_related = ("notice__complaint", "letter")
    actions = ["retry", "mark_done"]
    show_full_result_count = False

    @admin.display(description="complaint", ordering="notice__complaint__reference")
    def reference(self, obj):
        return obj.notice.complaint.reference

    @admin.display(description="notice")
    def notice_kind(self, obj):
        return obj.notice.get_kind_display()

    @admin.display(description="letter")
    def letter_link(self, obj):
        if obj.letter_id:
            url = reverse("complaints:staff-attachment-download", args=[obj.letter_id])
            return format_html('<a href="{}">PDF</a>', url)
        return "-"

    @admin.action(description="Send failed messages again")
    def retry(self, request, queryset):
        count = sum(outbox_retry(message=m, actor=request.user) for m in queryset)
        self.message_user(request, f"{count} message(s) queued again.")

    @admin.action(description="Mark letters posted / calls made")
    def mark_done(self, request, queryset):
        count = sum(outbox_mark_done(message=m, actor=request.user) for m in queryset)
        self.message_user(request, f"{count} message(s) marked as done.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
