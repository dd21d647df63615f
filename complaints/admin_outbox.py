"""Staff view of notices on their way out: the "to post" and "to call" queues, failed emails.

Each row shows the format the customer's recorded needs asked for (large print is
printed from the large-print PDF), and a call shows when to call and what the customer
needs, read live so that withdrawn needs vanish (issue 15 item 2).
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import CommunicationFormat
from accounts.needs import needs_badge, needs_of
from complaints.admin import VisibleComplaintsMixin
from complaints.admin_base import LongListAdminMixin, ReadOnlyAdminMixin
from complaints.domain.notices import email_attaches_letter, letter_in_large_print
from complaints.models import DeliveryChannel, OutboxMessage
from complaints.services.outbox import outbox_mark_done, outbox_retry


class FormatFilter(admin.ChoicesFieldListFilter):
    """The outbox by the format the customer's needs asked for: large print to print."""

    title = "format"


def outbox_format_words(message: OutboxMessage):
    """Return what staff see of the format one delivery takes ("LARGE PRINT" to print)."""
    fmt = message.notice.communication_format
    if fmt == CommunicationFormat.STANDARD:
        return "Standard"
    if message.channel == DeliveryChannel.POST and letter_in_large_print(fmt):
        return format_html('<strong class="format-large-print">{}</strong>', "LARGE PRINT")
    if message.channel == DeliveryChannel.EMAIL and not email_attaches_letter(fmt):
        return "Plain text in the email, no attachment"
    return CommunicationFormat(fmt).label


@admin.register(OutboxMessage)
class OutboxMessageAdmin(
    LongListAdminMixin, ReadOnlyAdminMixin, VisibleComplaintsMixin, admin.ModelAdmin
):
    """Notices on their way out: the "to post" and "to call" queues, and failed emails."""

    complaint_path = "notice__complaint"

    list_display = (
        "created_at",
        "reference",
        "notice_kind",
        "channel",
        "format_cell",
        "recipient",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "letter_link",
    )
    list_filter = ("state", "channel", ("notice__communication_format", FormatFilter))
    search_fields = ("notice__complaint__reference",)  # rows_for_reference searches
    # The customer's needs (one-to-one) come in the same query: the call column reads them.
    list_select_related = ("notice__complaint__customer__needs", "letter")
    actions = ["retry", "mark_done"]

    class Media:
        css = {"all": ("css/outbox.css",)}

    def get_list_display(self, request):
        # The "to call" queue: when to call and what the customer needs, for staff who may
        # see recorded needs (issue 15 item 2). Read live, so withdrawn needs vanish.
        columns = list(super().get_list_display(request))
        if request.user.has_perm("accounts.view_customerneeds"):
            columns.insert(columns.index("recipient") + 1, "call_details")
        return columns

    def get_ordering(self, request):
        # A work queue (letters to post, calls to make, failed emails) reads oldest first,
        # along its (state, created) index; the whole outbox reads newest first.
        if "state__exact" in request.GET:
            return ("created_at", "pk")
        return super().get_ordering(request)

    @admin.display(description="complaint", ordering="notice__complaint__reference")
    def reference(self, obj):
        return obj.notice.complaint.reference

    @admin.display(description="notice")
    def notice_kind(self, obj):
        return obj.notice.get_kind_display()

    @admin.display(description="format", ordering="notice__communication_format")
    def format_cell(self, obj):
        return outbox_format_words(obj)

    @admin.display(description="when to call / needs")
    def call_details(self, obj):
        if obj.channel != DeliveryChannel.PHONE:
            return "-"
        needs = needs_of(obj.notice.complaint.customer)
        if needs is None:
            return "-"
        return format_html(
            '{}<span class="needs-summary">{}</span>',
            f"Call {needs.call_times}. " if needs.call_times else "",
            needs_badge(needs),
        )

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
