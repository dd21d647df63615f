"""Staff view of complaints and their history. The full triage desk is built on top later.

Nothing here deletes: complaints and their history are kept for good.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.needs import needs_badge, needs_of
from accounts.roles import user_department
from complaints import clocks
from complaints.admin_base import (
    CappedCountPaginator,
    ColumnsChangeList,
    LongListAdminMixin,
    ReadOnlyAdminMixin,
)
from complaints.desk_actions import (
    ACTIONS,
    LOGGER_MAY_ADD_FOR,
    desk_action_run,
    logger_actions,
)
from complaints.domain.lifecycle import OPEN_STATUSES, IllegalTransition, Status
from complaints.domain.wording import moment_words
from complaints.forms import LogCallForm, LogLetterForm, form_errors_add
from complaints.models import (
    CaseEvent,
    Category,
    Complaint,
    Heartbeat,
    Product,
    RecurringProblemAlert,
    RootCause,
    StaffAlert,
)
from complaints.selectors import (
    complaint_representatives_banner,
    complaint_timeline,
    complaints_due_by,
    complaints_overdue,
    complaints_root_cause_missing,
    complaints_search,
    complaints_visible_to,
    customer_needs_banner,
    rows_visible_to,
)
from complaints.services.channels import (
    complaint_log_call,
    complaint_log_letter,
    customer_find_or_create,
)
from complaints.services.desk import ComplaintChanged
from complaints.services.remedies import with_voidable_remedy


class VisibleComplaintsMixin:
    """Show only rows of complaints the member of staff may see (department queues)."""

    complaint_path = "complaint"

    def get_queryset(self, request):
        return rows_visible_to(super().get_queryset(request), request.user, self.complaint_path)


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


class StaffAlertInline(ReadOnlyInline):
    model = StaffAlert
    fields = readonly_fields = ("created_at", "kind", "audience", "recipient", "message", "seen_at")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("recipient")


class QueueFilter(admin.SimpleListFilter):
    """The desk's work queues (COP-04, COP-12, COP-13, COP-15)."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            ("mine", "Assigned to me"),
            ("unassigned", "Unassigned"),
            ("due_today", "Due today"),
            ("overdue", "Overdue"),
            ("awaiting", "Awaiting third party"),
            ("to_match", "Customer to match"),
            ("cause_missing", "Root cause missing"),
            ("formal", "Formal"),
            ("open", "All open"),
            ("closed", "Closed"),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        open_statuses = [s.value for s in OPEN_STATUSES]
        value = self.value()
        if value == "mine":
            return queryset.filter(assignee=request.user)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True, status__in=open_statuses)
        if value == "due_today":
            end_of_day = timezone.localtime(now).replace(hour=23, minute=59, second=59)
            return complaints_due_by(queryset, end_of_day)
        if value == "overdue":
            return complaints_overdue(queryset, now=now)
        if value == "awaiting":
            return queryset.filter(status=Status.AWAITING_THIRD_PARTY)
        if value == "to_match":
            return queryset.exclude(customer_to_match="")
        if value == "cause_missing":
            return complaints_root_cause_missing(queryset)
        if value == "formal":
            return queryset.filter(formal_at__isnull=False)
        if value == "open":
            return queryset.filter(status__in=open_statuses)
        if value == "closed":
            return queryset.exclude(status__in=open_statuses)
        return queryset


def _working_span(seconds: int) -> str:
    day = 8 * 3600  # an office day (09:00-17:00)
    days, rest = divmod(abs(seconds), day)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if not days and (minutes or not hours):
        parts.append(f"{minutes}m")
    return " ".join(parts)


# What the case page shows of a complaint's relations, read with it in one query.
CASE_PAGE_RELATED = (
    "customer__needs__named_contact",
    "assignee",
    "logged_by",
    "category",
    "product",
    "root_cause",
    "root_cause_recorded_by",
    "formal_case__senior_manager",
)


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):
    """The triage desk: queues with clock badges, the case page, its timeline and actions."""

    # The clock is the point of the queue: right after the reference, so it is on screen
    # at 1024 px and up (desk.css lets the long columns wrap instead).
    list_display = (
        "reference",
        "clock",
        "customer_cell",
        "status",
        "department",
        "channel",
        "assignee",
    )
    list_filter = (QueueFilter, "status", "department", "channel")
    # Shows the search box; the search itself is complaints_search (get_search_results).
    search_fields = (
        "reference",
        "customer__name",
        "customer__account_reference",
        "customer__email",
        "customer__phone",
    )
    search_help_text = (
        "A reference (CMP-… or FCR-…), an account reference, email address or telephone "
        "number, or part of the customer's name."
    )
    # The customer's recorded needs come in the same query, for the staff-only badge.
    list_select_related = ("customer", "assignee", "customer__needs")
    # The columns the rows show (and the clock reads), and no more (ColumnsChangeList).
    list_only = (
        "reference",
        "subject",
        "department",
        "channel",
        "status",
        "next_due_at",
        "next_due_kind",
        "customer__name",
        "customer__account_reference",
        "customer__needs__kinds",
        "customer__needs__communication_format",
        "assignee__name",
        "assignee__email",
    )
    list_per_page = 25
    show_full_result_count = False
    paginator = CappedCountPaginator
    change_form_template = "admin/complaints/complaint/change_form.html"
    change_list_template = "admin/complaints/complaint/change_list.html"
    inlines = [StaffAlertInline]
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
                    "awaiting_third_party_name",
                    "policy_key",
                )
            },
        ),
        (
            "Category and root cause",
            {
                "fields": (
                    "category",
                    "product",
                    "root_cause",
                    "company_at_fault",
                    "root_cause_recorded_at",
                    "root_cause_recorded_by",
                )
            },
        ),
        (
            "Facts",
            {
                "classes": ("collapse",),
                "fields": (
                    "first_made_at",
                    "logged_at",
                    "logged_by",
                    "acknowledged_at",
                    "first_responded_at",
                    "responded_at",
                    "resolution_awaiting_action",
                    "resolution_actioned_at",
                    "resolved_at",
                    "resolution_target_met",
                    "last_customer_reply_at",
                    "last_progress_update_at",
                    "phone_promised_response_at",
                    "response_overdue_at",
                    "formal_at",
                    "adr_letter_sent_at",
                    "deadlock_letter_received_at",
                    "closed_at",
                    "closure_reason",
                    "contracted_response_working_days",
                    "version",
                ),
            },
        ),
    )

    def get_queryset(self, request):
        return complaints_visible_to(request.user).select_related("customer", "assignee")

    def get_object(self, request, object_id, from_field=None):
        """The case for its page, read once per request with everything the page shows.

        The people and codes named in its fields, the formal case, the customer's needs and
        whether a remedy may be voided come in the same query, so the case page costs the
        same few queries whatever the case holds (ModelAdmin.get_object, one query).
        """
        key = (str(object_id), from_field)
        cached = getattr(request, "_redress_case", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        complaints = with_voidable_remedy(
            self.get_queryset(request).select_related(*CASE_PAGE_RELATED)
        )
        field = Complaint._meta.pk if from_field is None else Complaint._meta.get_field(from_field)
        try:
            complaint = complaints.get(**{field.name: field.to_python(object_id)})
        except (Complaint.DoesNotExist, ValidationError, ValueError):
            complaint = None
        request._redress_case = (key, complaint)
        return complaint

    def get_changelist(self, request, **kwargs):
        return ColumnsChangeList

    def get_search_results(self, request, queryset, search_term):
        # One rule for the desk's search box, which reads indexes (complaints_search).
        return complaints_search(queryset, search_term), False

    def get_readonly_fields(self, request, obj=None):
        # Every change goes through an action (a service) so it is checked and recorded.
        return [f.name for f in Complaint._meta.fields]

    @admin.display(description="customer", ordering="customer__name")
    def customer_cell(self, obj):
        """The name, with the account reference and any needs badge under it.

        Narrow enough to leave the clock room: the badge wraps under the name (issue 15).
        """
        customer = obj.customer
        badge = needs_badge(needs_of(customer))
        return format_html(
            "{}{}{}",
            customer.name,
            format_html('<span class="account">{}</span>', customer.account_reference)
            if customer.account_reference
            else "",
            format_html('<span class="needs-badge">{}</span>', badge) if badge else "",
        )

    @admin.display(description="clock", ordering="next_due_at")
    def clock(self, obj):
        if not obj.next_due_at:
            return "—"
        seconds = clocks.calendar().working_seconds_between(timezone.now(), obj.next_due_at)
        what = obj.next_due_kind or "due"
        if seconds > 0:
            return format_html(
                '<span class="clock clock-due">{} due in {}</span>', what, _working_span(seconds)
            )
        if obj.next_due_at > timezone.now():  # due, but outside office hours until then
            return format_html('<span class="clock clock-due">{} due next</span>', what)
        since = (
            f"by {_working_span(seconds)}"
            if seconds
            else f"since {timezone.localtime(obj.next_due_at):%a %H:%M}"
        )
        return format_html(
            '<span class="clock clock-overdue"><strong>{} overdue {}</strong></span>', what, since
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- The case page ---------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        complaint = self.get_object(request, object_id)
        extra = extra_context or {}
        if complaint is not None:
            actions = [a for a in ACTIONS.values() if a.allowed(complaint, request.user)]
            extra.update(
                timeline=complaint_timeline(complaint),
                clocks=complaint_clock_lines(complaint),
                desk_actions=actions,
                formal_banner=formal_banner(complaint, request.user, actions),
                needs_banner=customer_needs_banner(complaint, request.user),
                representatives_banner=complaint_representatives_banner(complaint, request.user),
                # Every field is read-only: changes go through the actions above.
                show_save=False,
                show_save_and_continue=False,
                show_save_and_add_another=False,
            )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("log-call/", wrap(self.log_call_view), name="complaints_complaint_log_call"),
            path("log-letter/", wrap(self.log_letter_view), name="complaints_complaint_log_letter"),
            path(
                "logged/<str:reference>/",
                wrap(self.logged_view),
                name="complaints_complaint_logged",
            ),
            path(
                "<path:object_id>/act/<slug:action>/",
                wrap(self.action_view),
                name="complaints_complaint_action",
            ),
            *super().get_urls(),
        ]

    def _page(self, request, template, **context):
        return TemplateResponse(
            request,
            template,
            {**self.admin_site.each_context(request), "opts": self.model._meta, **context},
        )

    def action_view(self, request, object_id, action):
        desk_action = ACTIONS.get(action)
        if desk_action is None:
            raise Http404("No such action.")
        complaint = self.get_queryset(request).filter(pk=object_id).first()
        case_url = complaint and reverse("admin:complaints_complaint_change", args=[complaint.pk])
        if complaint is None:
            # Someone who logged a case for another department may still add to it.
            logged = get_object_or_404(Complaint, pk=object_id, logged_by=request.user)
            if desk_action not in logger_actions(logged, request.user):
                raise Http404("No such complaint.")
            complaint = logged
            case_url = reverse("admin:complaints_complaint_logged", args=[logged.reference])
        if not request.user.has_perm(desk_action.permission):
            raise PermissionDenied
        if desk_action.available(complaint) and not desk_action.allowed(complaint, request.user):
            raise PermissionDenied("Only senior managers act on a formal complaint.")
        if not desk_action.available(complaint):
            messages.error(
                request,
                f"{desk_action.label} is not possible while the case is "
                f"'{complaint.get_status_display()}'.",
            )
            return redirect(case_url)
        form = desk_action.form(
            request.POST or None,
            request.FILES or None,
            initial={"version": complaint.version, **desk_action.initial(complaint)},
        )
        if request.method == "POST" and form.is_valid():
            try:
                desk_action_run(
                    desk_action, complaint=complaint, user=request.user, data=form.cleaned_data
                )
            except ComplaintChanged as exc:
                data = request.POST.copy()
                data["version"] = Complaint.objects.get(pk=complaint.pk).version
                form = desk_action.form(data, request.FILES or None)
                form.is_valid()
                form.add_error(None, str(exc))
            except (ValidationError, IllegalTransition) as exc:
                form_errors_add(form, exc)
            else:
                messages.success(request, f"{complaint.reference}: {desk_action.done}")
                return redirect(case_url)
        return self._page(
            request,
            "admin/complaints/complaint/action_form.html",
            title=f"{desk_action.label}: {complaint.reference}",
            complaint=complaint,
            form=form,
            action=desk_action,
            case_url=case_url,
        )

    def logged_view(self, request, reference):
        """The confirmation after logging a call or a letter (issue: never an error page)."""
        complaint = get_object_or_404(
            Complaint.objects.select_related("assignee", "customer"), reference=reference
        )
        can_open = self.get_queryset(request).filter(pk=complaint.pk).exists()
        if not can_open and complaint.logged_by_id != request.user.pk:
            raise Http404("No such complaint.")
        return self._page(
            request,
            "admin/complaints/complaint/logged.html",
            title=f"Logged {complaint.reference}",
            complaint=complaint,
            summary=logged_summary(complaint, request.user, can_open=can_open),
        )

    def log_call_view(self, request):
        return self._log_view(request, LogCallForm, "call")

    def log_letter_view(self, request):
        return self._log_view(request, LogLetterForm, "letter")

    def _log_view(self, request, form_class, kind):
        if not request.user.has_perm("complaints.add_complaint"):
            raise PermissionDenied
        initial = {"department": user_department(request.user) or "technical_support"}
        initial["called_at" if kind == "call" else "received_at"] = timezone.localtime().strftime(
            "%Y-%m-%dT%H:%M"
        )
        form = form_class(request.POST or None, request.FILES or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    customer = customer_find_or_create(
                        account_reference=data["account_reference"],
                        name=data["name"],
                        email=data["email"],
                        phone=data["phone"],
                        postal_address=data["postal_address"],
                    )
                    common = dict(
                        actor=request.user,
                        customer=customer,
                        department=data["department"],
                        subject=data["subject"],
                        description=data["description"],
                    )
                    if kind == "call":
                        complaint = complaint_log_call(
                            **common,
                            called_at=data["called_at"],
                            resolved=data["resolved"],
                            what_was_done=data["what_was_done"],
                            promised_at=data["promised_at"],
                            contact_method=data["contact_method"],
                        )
                    else:
                        complaint = complaint_log_letter(
                            **common,
                            received_at=data["received_at"],
                            scan=data["scan"],
                            no_contact_given=data["no_contact_given"],
                        )
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                return redirect("admin:complaints_complaint_logged", complaint.reference)
        return self._page(
            request,
            "admin/complaints/complaint/log_form.html",
            title="Log a phone call" if kind == "call" else "Log a letter",
            form=form,
        )


def logged_summary(complaint, user, *, can_open: bool) -> dict:
    """What the member of staff who just logged a complaint is told: where it went, who has it.

    A complaint logged for another department is saved in that department's queue, which
    the person who logged it may not be able to open; they must still see that it is safe.
    """
    department = complaint.get_department_display()
    if complaint.assignee_id:
        owner = f"{complaint.assignee.name or complaint.assignee.email} ({department})"
    else:
        owner = f"The {department} queue: not assigned to anyone yet"
    return {
        "department": department,
        "owner": owner,
        "response_due": moment_words(complaint.response_due_at, timezone.get_default_timezone()),
        "promised": complaint.phone_promised_response_at
        and moment_words(complaint.phone_promised_response_at, timezone.get_default_timezone()),
        "can_open": can_open,
        "still": logger_actions(complaint, user) if not can_open else [],
        "add_days": LOGGER_MAY_ADD_FOR.days,
    }


def formal_banner(complaint, user, actions) -> dict | None:
    """What a member of staff who is not a reviewer is told at the top of a formal case.

    Once a complaint is formal, a senior manager owns it (COP-15): the department can add
    to the record but no longer decides. Without this, an agent just finds the response
    action gone and no word of why.
    """
    if not complaint.formal_at or user.has_perm("complaints.review_formal"):
        return None
    case = getattr(complaint, "formal_case", None)  # read with the complaint (get_object)
    manager = case.senior_manager if case and case.senior_manager_id else None
    who = f"{manager.name or manager.email}, senior manager," if manager else "A senior manager"
    reference = f" ({case.register_reference})" if case else ""
    if case and case.final_proposition_sent_at:
        owner = (
            f"{who} reviewed it and sent the final proposition on "
            f"{timezone.localtime(case.final_proposition_sent_at):%-d %B %Y}."
        )
    elif manager:
        owner = f"{who} now owns it and is reviewing it."
    else:
        owner = "A senior manager is being appointed to review it."
    return {
        "heading": f"Formal complaint{reference}: a senior manager owns this case",
        "owner": owner,
        "still": [a.label.lower() for a in actions],
        "theirs": "Responses to the customer, the final proposition and any deadlock letter "
        "are for the senior manager. Tell them through an internal note if you learn "
        "something they should know.",
    }


def complaint_clock_lines(complaint) -> list[tuple[str, str]]:
    """Return the case's clocks for the case page, in plain words."""
    tz = clocks.calendar().tz
    rows = [("First made", complaint.first_made_at)]
    if complaint.first_responded_at:
        rows.append(("Responded", complaint.first_responded_at))
    else:
        rows.append(("Response due (COP-12)", complaint.response_due_at))
    if complaint.phone_promised_response_at:
        rows.append(("Promised call-back (COP-04)", complaint.phone_promised_response_at))
    if complaint.progress_update_due_at:
        rows.append(("Next progress update due (COP-13)", complaint.progress_update_due_at))
    rows.append(("Resolution target (COP-14)", complaint.resolution_target_at))
    if complaint.auto_close_at:
        rows.append(("Closes if no reply (COP-10)", complaint.auto_close_at))
    rows.append(("ADR from (COP-16)", complaint.adr_eligible_at))
    rows.append(("Ombudsman deadline (COP-18)", complaint.osc_deadline_at))
    return [(label, moment_words(value, tz)) for label, value in rows]


@admin.register(CaseEvent)
class CaseEventAdmin(
    LongListAdminMixin, ReadOnlyAdminMixin, VisibleComplaintsMixin, admin.ModelAdmin
):
    """Every case's history, newest recorded first (a case's own is on its page)."""

    count_noun = "case events"  # "More than 1,000 case events", not "… case history"

    list_display = ("at", "complaint", "kind", "from_status", "to_status", "actor_label", "reason")
    list_filter = ("kind",)
    search_fields = ("complaint__reference",)  # shows the box; rows_for_reference searches
    list_select_related = ("complaint",)


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "beat_at", "count")


@admin.register(StaffAlert)
class StaffAlertAdmin(
    LongListAdminMixin, ReadOnlyAdminMixin, VisibleComplaintsMixin, admin.ModelAdmin
):
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
    search_fields = ("complaint__reference",)  # shows the box; rows_for_reference searches
    list_select_related = ("complaint", "recipient")
    actions = ["mark_seen"]

    @admin.action(description="Mark selected alerts as seen")
    def mark_seen(self, request, queryset):
        count = queryset.filter(seen_at__isnull=True).update(seen_at=timezone.now())
        self.message_user(request, f"{count} alert(s) marked as seen.")


@admin.register(RecurringProblemAlert)
class RecurringProblemAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Bursts of a recurring root cause, or category and product (issue 16 item 2): for
    managers to read; raised and ended only by the recurring-problems job, never deleted."""

    list_display = ("raised_at", "kind", "key", "burst_started_at", "message", "ended_at")
    list_filter = ("kind", ("ended_at", admin.EmptyFieldListFilter))
    search_fields = ("key",)
    ordering = ("-pk",)
    list_per_page = 50
    show_full_result_count = False
    readonly_fields = (
        "kind", "key", "burst_started_at", "raised_at", "last_seen_at", "ended_at",
        "references", "message",
    )  # fmt: skip


# Register the other staff lists (each module imports from this one).
from complaints import admin_inbound, admin_outbox  # noqa: E402, F401
from complaints.webhooks import admin as webhooks_admin  # noqa: E402, F401 - registers webhooks


class CaseCodeAdmin(admin.ModelAdmin):
    """Categories, products and root causes: added and renamed here, switched off rather
    than deleted, so every complaint keeps the code it was given (issue 16)."""

    list_display = ("name", "code", "active", "ordering")
    list_editable = ("active", "ordering")
    search_fields = ("name", "code")

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


admin.site.register(Category, CaseCodeAdmin)
admin.site.register(Product, CaseCodeAdmin)
admin.site.register(RootCause, CaseCodeAdmin)
