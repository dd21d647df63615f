"""Staff view of inbound email: what each message did, and review of the quarantined ones.

Read-only: the only changes are the two review actions, through the inbound services.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from complaints.admin_base import ReadOnlyAdminMixin
from complaints.models import InboundEmail
from complaints.services.inbound import inbound_email_reject, inbound_email_release


@admin.register(InboundEmail)
class InboundEmailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("received_at", "state", "sender", "subject", "complaint_link", "reason")
    list_filter = ("state", "mailbox")
    search_fields = ("sender", "subject", "message_id")
    list_select_related = ("complaint",)
    readonly_fields = (
        "received_at",
        "state",
        "reason",
        "mailbox",
        "sender",
        "subject",
        "message_id",
        "complaint",
        "raw_link",
        "reviewed_by",
        "reviewed_at",
    )
    fields = readonly_fields
    actions = ["release", "reject", "mark_subject_access"]
    show_full_result_count = False

    @admin.display(description="complaint", ordering="complaint__reference")
    def complaint_link(self, obj):
        if obj.complaint_id is None:
            return "-"
        url = reverse("admin:complaints_complaint_change", args=[obj.complaint_id])
        return format_html('<a href="{}">{}</a>', url, obj.complaint.reference)

    @admin.display(description="raw message")
    def raw_link(self, obj):
        if not obj.pk or not obj.raw:
            return "-"
        url = reverse("admin:complaints_inboundemail_raw", args=[obj.pk])
        return format_html('<a href="{}">Download .eml</a>', url)

    @admin.action(
        description="Release onto the complaint as the customer's reply", permissions=["review"]
    )
    def release(self, request, queryset):
        self._review(request, queryset, inbound_email_release, "released onto its complaint")

    @admin.action(description="Reject", permissions=["review"])
    def reject(self, request, queryset):
        self._review(request, queryset, inbound_email_reject, "rejected")

    @admin.action(
        description="Mark as a subject access request (everything we hold)",
        permissions=["log_sar"],
    )
    def mark_subject_access(self, request, queryset):
        from accounts.sar import SarRuleError, sar_open_from_email

        for inbound in queryset.select_related("complaint__customer"):
            try:
                opened = sar_open_from_email(inbound_email=inbound, actor=request.user)
            except SarRuleError as exc:
                self.message_user(request, f"{inbound}: {exc}", messages.ERROR)
                continue
            sar = opened.request
            url = reverse("admin:accounts_subjectaccessrequest_change", args=[sar.pk])
            words = (
                "logged, due by {}" if opened.created else "already open (due by {}); noted"
            ).format(f"{sar.current_due_on:%A} {sar.current_due_on.day} {sar.current_due_on:%B %Y}")
            self.message_user(
                request,
                format_html('<a href="{}">{}</a> {}.', url, sar.reference, words),
                messages.SUCCESS,
            )

    def has_log_sar_permission(self, request):
        return request.user.has_perm("accounts.add_subjectaccessrequest")

    def _review(self, request, queryset, service, done: str) -> None:
        count = 0
        for inbound in queryset:
            try:
                service(inbound=inbound, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{inbound}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                count += 1
        if count:
            self.message_user(request, f"{count} email(s) {done}.", messages.SUCCESS)

    def has_review_permission(self, request):
        return request.user.has_perm("complaints.change_inboundemail")

    def get_urls(self):
        raw = self.admin_site.admin_view(self.raw_view)
        return [
            path("<int:pk>/raw/", raw, name="complaints_inboundemail_raw"),
            *super().get_urls(),
        ]

    def raw_view(self, request, pk: int):
        """Let staff who may view inbound email download one exactly as it arrived."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        inbound = get_object_or_404(InboundEmail, pk=pk)
        return FileResponse(
            inbound.raw.open("rb"),
            as_attachment=True,
            filename=f"inbound-{inbound.pk}.eml",
            content_type="message/rfc822",
        )
