"""Complaints, their append-only history, correspondence, notes and attachments."""

from __future__ import annotations

import json
from contextvars import ContextVar

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import CommunicationFormat, ContactMethod
from complaints.domain.lifecycle import Status
from complaints.transactions import step

STATUS_CHOICES = [(s.value, s.label) for s in Status]


class Channel(models.TextChoices):
    """How the complaint first reached us (COP-02)."""

    PHONE = "phone", _("Telephone")
    EMAIL = "email", _("Email")
    LETTER = "letter", _("Letter")
    PORTAL = "portal", _("Portal")


class Department(models.TextChoices):
    """Who owns the complaint (COP-02; COP-19 for complaints about the Code)."""

    TECHNICAL_SUPPORT = "technical_support", _("Technical support")
    ACCOUNTS = "accounts", _("Accounts")
    COMPANY_SECRETARY = "company_secretary", _("Company Secretary (complaints about the Code)")


class ClosureReason(models.TextChoices):
    """Why a complaint was closed."""

    DEEMED_RESOLVED = "deemed_resolved", _("Deemed resolved: no reply within the time allowed")
    CUSTOMER_SATISFIED = "customer_satisfied", _("Customer confirmed it is resolved")
    RESOLVED_AT_FIRST_CONTACT = "resolved_at_first_contact", _("Resolved at first contact")
    WITHDRAWN = "withdrawn", _("Withdrawn by the customer")
    FINAL_PROPOSITION = "final_proposition", _("Final proposition sent after formal review")


HISTORY_HEAD_FIELDS = frozenset({"history_count", "history_head"})


class CaseCode(models.Model):
    """A code staff pick from, kept in the admin: never deleted, switched off instead."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active codes are offered to staff.")
    )
    ordering = models.PositiveSmallIntegerField(_("order"), default=100)

    class Meta:
        abstract = True
        ordering = ["ordering", "name"]

    def __str__(self):
        return self.name


class Category(CaseCode):
    """What a complaint is about (fault, billing, contract...), set at triage (issue 16)."""

    class Meta(CaseCode.Meta):
        verbose_name = _("category")
        verbose_name_plural = _("categories")


class Product(CaseCode):
    """The product or service a complaint is about (broadband, mobile...)."""

    class Meta(CaseCode.Meta):
        verbose_name = _("product")
        verbose_name_plural = _("products")


class RootCause(CaseCode):
    """Why it went wrong, recorded before a complaint can be closed by staff (issue 16)."""

    class Meta(CaseCode.Meta):
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")


class ComplaintQuerySet(models.QuerySet):
    """Complaints are never hard-deleted: bulk delete is refused."""

    def delete(self):
        raise PermissionError("Complaints are never deleted; close them instead.")

    def open(self):
        from complaints.domain.lifecycle import OPEN_STATUSES

        return self.filter(status__in=[s.value for s in OPEN_STATUSES])


class Complaint(models.Model):
    """A customer's expression of dissatisfaction that expects a direct response (COP-01)."""

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        "accounts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="complaints",
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    # The customer's type (consumer or business), kept equal to the customer's by
    # escalation.figures (on logging, on a change of customer or of the customer's type) so
    # the monthly figures can be kept per customer type without a join (issue 16 item 6).
    customer_type = models.CharField(
        _("customer type"), max_length=10, default="unknown", editable=False
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"))
    # Written only by complaints.services.transitions.complaint_transition.
    status = models.CharField(
        _("status"), max_length=30, choices=STATUS_CHOICES, default=Status.LOGGED.value
    )
    agreed_contact_method = models.CharField(
        _("agreed contact method"),
        max_length=10,
        choices=ContactMethod.choices,
        help_text=_("Used for every notice to the customer (COP-04, COP-13)."),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_complaints",
    )
    policy_key = models.CharField(
        _("policy"),
        max_length=40,
        editable=False,
        help_text=_("The policy in force when the complaint was first made decides its clocks."),
    )
    contracted_response_working_days = models.PositiveSmallIntegerField(
        _("contracted response time (working days)"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Copied from the customer's contract when logged (COP-03)."),
    )
    agreed_update_working_days = models.PositiveSmallIntegerField(
        _("agreed progress-update interval (working days)"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "From the customer's recorded needs: longer than the Code's, never "
            "shorter (COP-13). Empty for the Code's interval."
        ),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    # Facts the clocks start from.
    first_made_at = models.DateTimeField(
        _("first made"), help_text=_("When the customer first told us (COP-07).")
    )
    logged_at = models.DateTimeField(_("logged"), default=timezone.now, editable=False)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    awaiting_third_party_since = models.DateTimeField(
        _("awaiting third party since"), null=True, blank=True
    )
    awaiting_third_party_name = models.CharField(
        _("awaiting third party"), max_length=200, blank=True
    )
    last_progress_update_at = models.DateTimeField(_("last progress update"), null=True, blank=True)
    phone_promised_response_at = models.DateTimeField(
        _("promised next response (phone)"),
        null=True,
        blank=True,
        help_text=_("The time the agent promised on an unresolved call (COP-04)."),
    )
    first_responded_at = models.DateTimeField(_("first response sent"), null=True, blank=True)
    responded_at = models.DateTimeField(_("latest response sent"), null=True, blank=True)
    resolution_awaiting_action = models.BooleanField(
        _("resolution proposed, not yet actioned"),
        default=False,
        help_text=_("While set, the auto-close clock waits for the resolution (COP-10)."),
    )
    resolution_actioned_at = models.DateTimeField(_("resolution actioned"), null=True, blank=True)
    last_customer_reply_at = models.DateTimeField(_("last customer reply"), null=True, blank=True)
    formal_at = models.DateTimeField(_("escalated to formal"), null=True, blank=True)
    deadlock_requested_at = models.DateTimeField(
        _("deadlock letter requested"), null=True, blank=True, help_text=_("COP-17.")
    )
    deadlock_letter_received_at = models.DateTimeField(
        _("deadlock letter received"), null=True, blank=True
    )
    resolved_at = models.DateTimeField(
        _("resolved"),
        null=True,
        blank=True,
        help_text=_(
            "When it was last put right: closed, or responded with nothing awaiting action."
        ),
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closure_reason = models.CharField(
        _("closure reason"), max_length=30, choices=ClosureReason.choices, blank=True
    )

    # Stored deadlines (complaints.clocks computes them; jobs select on them).
    response_due_at = models.DateTimeField(_("response due"))
    resolution_target_at = models.DateTimeField(_("resolution target"))
    progress_update_due_at = models.DateTimeField(_("progress update due"), null=True, blank=True)
    auto_close_at = models.DateTimeField(_("closes if no reply"), null=True, blank=True)
    adr_eligible_at = models.DateTimeField(_("ADR eligible from"))
    osc_deadline_at = models.DateTimeField(_("ombudsman referral deadline"))
    osc_warning_at = models.DateTimeField(_("ombudsman deadline warning"))
    # The earliest pending duty of the company, for the staff queues' clock badge.
    next_due_at = models.DateTimeField(_("next due"), null=True, blank=True)
    next_due_kind = models.CharField(_("next due for"), max_length=20, blank=True)

    # What the deadline jobs found and did (each set once, by complaints.services.enforcement).
    response_overdue_at = models.DateTimeField(
        _("response overdue since"), null=True, blank=True, help_text=_("COP-12 breach flagged.")
    )
    phone_promise_missed_for = models.DateTimeField(
        _("missed phone promise"),
        null=True,
        blank=True,
        help_text=_("The promised response time that passed without contact (COP-04)."),
    )
    progress_reminded_for = models.DateTimeField(
        _("progress reminder sent for"),
        null=True,
        blank=True,
        help_text=_("The update due time the assignee was last reminded of (COP-13)."),
    )
    resolution_target_met = models.BooleanField(
        _("resolution target met"), null=True, blank=True, help_text=_("COP-14.")
    )
    adr_checked_at = models.DateTimeField(
        _("ADR point reached"), null=True, blank=True, help_text=_("COP-16 check done.")
    )
    adr_letter_sent_at = models.DateTimeField(_("ADR letter sent"), null=True, blank=True)
    osc_warning_done_for = models.DateTimeField(
        _("ombudsman warning handled for"),
        null=True,
        blank=True,
        help_text=_("The warning time handled (warned, or no warning needed) (COP-18)."),
    )
    osc_window_closed_for = models.DateTimeField(
        _("ombudsman window closed at"),
        null=True,
        blank=True,
        help_text=_("The referral deadline that has passed (COP-18)."),
    )
    # The ADR scheme's request for our case file (recorded on the ADR referral, which
    # keeps the request date and their reference): the deadline is a stored clock here,
    # like every clock the sweep reads, written by escalation.services only.
    case_file_due_at = models.DateTimeField(
        _("case file due to the ombudsman"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The ADR scheme's deadline for our case file (COP-18)."),
    )
    case_file_ready_at = models.DateTimeField(
        _("case file produced"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the first case file after the scheme's request was ready."),
    )
    case_file_warned_for = models.DateTimeField(
        _("case file reminder sent for"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The case file deadline the senior managers were reminded of."),
    )
    case_file_overdue_for = models.DateTimeField(
        _("case file overdue alert sent for"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The case file deadline that passed without a case file."),
    )

    stated_account_reference = models.CharField(
        _("account reference given"),
        max_length=40,
        blank=True,
        help_text=_("The account reference the complainant typed or gave, kept as given."),
    )
    category = models.ForeignKey(
        Category,
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("What the complaint is about, set at triage."),
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    root_cause = models.ForeignKey(
        RootCause,
        verbose_name=_("root cause"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Needed before staff can close the case."),
    )
    company_at_fault = models.BooleanField(
        _("company at fault"), null=True, blank=True, help_text=_("Empty until answered.")
    )
    root_cause_recorded_at = models.DateTimeField(_("root cause recorded"), null=True, blank=True)
    root_cause_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("root cause recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    customer_to_match = models.CharField(
        _("customer to match"),
        max_length=200,
        blank=True,
        help_text=_(
            "Why staff must check which customer this complaint belongs to; empty once matched."
        ),
    )

    # The portal form's one-use token (complaints.services.portal): the form sent twice (a
    # double click, a resend) files once, because the second complaint with the same token
    # breaks complaint_portal_token_uniq and its whole filing rolls back. NULL (no token)
    # for every other channel, so the unique index holds the portal's complaints only.
    portal_token = models.CharField(  # noqa: DJ001 - NULL is "no form", kept out of the index
        _("portal form token"), max_length=64, null=True, blank=True, editable=False
    )

    # The head of the history's hash chain, written only by CaseEvent.objects.record in the
    # transaction of each event: verify_history compares the chain with it, so a cut tail
    # (or a whole history gone) shows. Never saved by Complaint.save().
    history_count = models.PositiveIntegerField(
        _("events in the history"),
        default=0,
        editable=False,
        help_text=_("The position (seq) of the last event recorded."),
    )
    history_head = models.CharField(
        _("last event's hash"),
        max_length=64,
        blank=True,
        default="",
        editable=False,
        help_text=_("The hash of the last event recorded; empty before the first."),
    )

    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-first_made_at", "-pk"]
        permissions = [
            ("view_all_departments", "Can see complaints of every department"),
            ("review_formal", "Can review formal complaints"),
            # Issue 16 item 3: credits, goodwill payments, refunds and compensation.
            ("approve_remedy", "Can approve a remedy that costs money"),
        ]
        indexes = [
            models.Index(fields=["department", "status"], name="complaint_queue_idx"),
            models.Index(fields=["assignee", "status"], name="complaint_assignee_idx"),
            # "Assigned to me", newest first, without sorting a whole career of cases.
            models.Index(fields=["assignee", "-first_made_at"], name="complaint_mine_idx"),
            # The ADR scheme's case file deadlines due soon (webhook warnings), a few rows.
            models.Index(
                fields=["case_file_due_at"],
                condition=models.Q(case_file_due_at__isnull=False),
                name="complaint_case_file_due_idx",
            ),
            models.Index(fields=["status"], name="complaint_status_idx"),
            # Queue views sort and filter on these; the jobs use DeadlineAlarm.due_at.
            models.Index(fields=["response_due_at"], name="complaint_response_due_idx"),
            models.Index(fields=["first_made_at"], name="complaint_first_made_idx"),
            # A customer's own complaints, newest first (the portal's "Your complaints").
            models.Index(fields=["customer", "-first_made_at"], name="complaint_customer_idx"),
            models.Index(fields=["department", "next_due_at"], name="complaint_next_due_idx"),
            # The dashboard's "overdue now" (open, next duty past) counted from the index
            # alone: the status is read from it too, not from every overdue row.
            models.Index(
                fields=["department", "next_due_at", "status"], name="complaint_overdue_idx"
            ),
            # The desk's Formal queue, newest first: recent complaints are rarely formal yet,
            # so walking complaint_first_made_idx would pass over most of the table.
            models.Index(
                fields=["-first_made_at"],
                condition=models.Q(formal_at__isnull=False),
                name="complaint_formal_made_idx",
            ),
            # The desk's "Customer to match" queue: few rows, newest first.
            models.Index(
                fields=["department", "-first_made_at"],
                condition=~models.Q(customer_to_match=""),
                name="complaint_to_match_idx",
            ),
            # The compliance dashboard's monthly counts.
            models.Index(
                fields=["formal_at"],
                condition=models.Q(formal_at__isnull=False),
                name="complaint_formal_at_idx",
            ),
            # The API's "updated since": a CRM asking every few minutes what changed.
            models.Index(fields=["updated_at"], name="complaint_updated_idx"),
            # The desk's "Root cause missing" queue: closed cases with no root cause, per
            # department, newest closed first (few rows: most cases have one).
            models.Index(
                fields=["department", "-closed_at"],
                condition=models.Q(root_cause__isnull=True, closed_at__isnull=False),
                name="complaint_cause_missing_idx",
            ),
            # Recurring problems: one root cause over a window of recent recordings.
            models.Index(
                fields=["root_cause", "root_cause_recorded_at"], name="complaint_cause_at_idx"
            ),
            # The recurring-problems job reads every root cause recorded in its window.
            models.Index(fields=["root_cause_recorded_at"], name="complaint_cause_recorded_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in Status]),
                name="complaint_status_valid",
            ),
            models.UniqueConstraint(
                fields=["portal_token"],
                condition=models.Q(portal_token__isnull=False),
                name="complaint_portal_token_uniq",
            ),
            models.CheckConstraint(
                condition=models.Q(logged_at__gte=models.F("first_made_at")),
                name="complaint_first_made_not_after_logged",
                violation_error_message=_("A complaint cannot be first made after it was logged."),
            ),
        ]

    def __str__(self):
        return f"{self.reference}: {self.subject}"

    def save(self, **kwargs):
        """Save the complaint; never its history head, which record() alone writes.

        Except for the complaint of an open HistoryBatch (created in this transaction, so
        the head held on this very instance is the head): a whole save of it writes the
        head too, and the batch then need not move the head with an UPDATE of its own.
        """
        batch = _HISTORY_BATCH.get()
        own = batch is not None and batch.complaint is self
        if not self._state.adding and not kwargs.get("force_insert"):
            # A copy loaded before an event was recorded elsewhere must not put back the
            # head it read: an UPDATE of the other columns only.
            names = kwargs.get("update_fields")
            whole = names is None
            if names is None:
                deferred = self.get_deferred_fields()
                names = [
                    f.name
                    for f in self._meta.concrete_fields
                    if not f.primary_key and f.attname not in deferred
                ]
            kwargs["update_fields"] = [
                n for n in names if (own and whole) or n not in HISTORY_HEAD_FIELDS
            ]
        super().save(**kwargs)
        if own and HISTORY_HEAD_FIELDS <= set(kwargs.get("update_fields") or ()):
            batch.head_saved = (self.history_count, self.history_head)

    def delete(self, *args, **kwargs):
        raise PermissionError("Complaints are never deleted; close them instead.")

    @property
    def status_enum(self) -> Status:
        return Status(self.status)

    @property
    def osc_window_closed(self) -> bool:
        """Whether the ombudsman referral deadline has passed (COP-18)."""
        return self.osc_window_closed_for is not None and (
            self.osc_window_closed_for == self.osc_deadline_at
        )


class CaseEventQuerySet(models.QuerySet):
    """The history is append-only: bulk update and delete are refused."""

    def update(self, **kwargs):
        raise PermissionError("Case history is append-only.")

    def delete(self):
        raise PermissionError("Case history is append-only.")


class CaseEventManager(models.Manager.from_queryset(CaseEventQuerySet)):
    """Write history rows through one method, like admin's LogEntry."""

    def record(
        self,
        *,
        complaint: Complaint,
        kind: str,
        actor,
        reason: str = "",
        from_status: str = "",
        to_status: str = "",
        at=None,
        extra: dict | None = None,
    ) -> CaseEvent:
        """Append one history row for `complaint`, chained to the one before it."""
        at = at or timezone.now()
        if timezone.is_naive(at):
            at = timezone.make_aware(at)
        fields = {
            "kind": kind,
            "actor": actor,
            "reason": reason,
            "from_status": from_status,
            "to_status": to_status,
            "extra": extra,
        }
        batch = _HISTORY_BATCH.get()
        if batch is not None and batch.holds(complaint):
            return batch.append(complaint, self._event_chained(batch.complaint, at=at, **fields))
        with step():
            # One writer at a time per complaint, so two events never claim the same place
            # in the chain (the unique (complaint, seq) constraint is the backstop). The
            # chain goes on from the head stored on the complaint, not from the last row
            # found: rows cut from the end leave a gap before the new event, never a seam.
            count, prev_hash = (
                Complaint.objects.select_for_update(of=("self",))
                .filter(pk=complaint.pk)
                .order_by()
                .values_list("history_count", "history_head")
                .get()
            )
            complaint.history_count, complaint.history_head = count, prev_hash
            event = self._event_chained(complaint, at=at, **fields)
            event.save(force_insert=True)
            Complaint.objects.filter(pk=complaint.pk).update(
                history_count=event.seq, history_head=event.hash
            )
            # The webhook outbox, in the same transaction as the change it reports.
            from complaints.webhooks.events import webhooks_enqueue_for_event

            webhooks_enqueue_for_event(event)
        complaint.history_count, complaint.history_head = event.seq, event.hash
        return event

    def _event_chained(self, complaint: Complaint, *, at, **fields) -> CaseEvent:
        """Build the next event after the head held on `complaint`, with its hash."""
        (event,) = self.chained(
            complaint=complaint,
            count=complaint.history_count,
            head=complaint.history_head,
            entries=[{**fields, "at": at}],
        )
        return event

    def chained(self, *, complaint: Complaint, count: int, head: str, entries) -> list[CaseEvent]:
        """Build (unsaved) the events `entries` describe, chained on from (count, head).

        Each entry holds record()'s keywords. The caller writes them (record(), or the
        deadline sweep's one INSERT for a complaint's events, issue 17) in a transaction
        that holds the complaint's row and has checked that (count, head) is its stored head.
        """
        from complaints.services.history import event_hash

        events = []
        for n, entry in enumerate(entries, start=1):
            at = entry.get("at") or timezone.now()
            if timezone.is_naive(at):
                at = timezone.make_aware(at)
            actor = entry.get("actor")
            event = self.model(
                complaint=complaint,
                seq=count + n,
                prev_hash=head,
                kind=entry["kind"],
                actor=actor,
                actor_label=str(actor) if actor is not None else "system",
                reason=entry.get("reason", ""),
                from_status=entry.get("from_status", ""),
                to_status=entry.get("to_status", ""),
                at=at,
                # Stored as JSON: hash what will be read back (string keys, lists).
                extra=json.loads(json.dumps(entry.get("extra") or {})),
            )
            event.hash = head = event_hash(event)
            events.append(event)
        return events


class HistoryBatch:
    """The events of a complaint created in this transaction, written in one INSERT.

    Inside `with HistoryBatch():` the first complaint created (complaint_log calls
    history_batch_adopt just after its INSERT) is the batch's: record() for it
    chains each event in memory (no one else can see a row not yet committed, so the head
    held on the instance is the head) and the block's end writes them all, moves the head
    once and queues their webhooks with one read of the subscriptions. The events, their
    order, hashes and webhook payloads are those recorded one by one; only the round trips
    go. The block must end inside the transaction that created the complaint.
    """

    def __init__(self):
        self.complaint: Complaint | None = None
        self.events: list[CaseEvent] = []
        self.webhooks: list[list] = []
        # (count, head) as a whole save of the batch's complaint last wrote them.
        self.head_saved: tuple[int, str] | None = None

    def holds(self, complaint: Complaint) -> bool:
        return self.complaint is not None and self.complaint.pk == complaint.pk

    def append(self, complaint: Complaint, event: CaseEvent) -> CaseEvent:
        """Add `event`, chained after the batch's head, as recorded on `complaint`."""
        from complaints.webhooks.events import webhook_plans_for_event

        event.complaint = complaint
        self.events.append(event)
        # The payloads are those record() would queue now (the case as it is at this event).
        self.webhooks.append(webhook_plans_for_event(event))
        for held in {id(c): c for c in (self.complaint, complaint)}.values():
            held.history_count, held.history_head = event.seq, event.hash
        return event

    def __enter__(self) -> HistoryBatch:
        if not transaction.get_connection().in_atomic_block:
            raise transaction.TransactionManagementError("A history batch needs a transaction.")
        self._token = _HISTORY_BATCH.set(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        _HISTORY_BATCH.reset(self._token)
        if exc_type is None and self.events:
            self.write()

    def write(self) -> None:
        from complaints.webhooks.events import webhooks_write_planned

        CaseEvent.objects.bulk_create(self.events)  # primary keys come back (RETURNING)
        last = self.events[-1]
        if self.head_saved != (last.seq, last.hash):  # not written with the row since
            Complaint.objects.filter(pk=self.complaint.pk).update(
                history_count=last.seq, history_head=last.hash
            )
        webhooks_write_planned(list(zip(self.events, self.webhooks, strict=True)))


_HISTORY_BATCH: ContextVar[HistoryBatch | None] = ContextVar("history_batch", default=None)


def history_batch_holds(complaint: Complaint) -> bool:
    """Whether `complaint` was created in this transaction, inside a HistoryBatch."""
    batch = _HISTORY_BATCH.get()
    return batch is not None and batch.holds(complaint)


def history_batch_owns(complaint: Complaint) -> bool:
    """Whether `complaint` is the very instance an open HistoryBatch holds (created in this
    transaction): its fields, history head included, are the row as stored."""
    batch = _HISTORY_BATCH.get()
    return batch is not None and batch.complaint is complaint


def history_batch_adopt(complaint: Complaint) -> None:
    """Give a just-inserted complaint, with no history yet, to the open batch (if any)."""
    batch = _HISTORY_BATCH.get()
    if batch is not None and batch.complaint is None and complaint.history_count == 0:
        batch.complaint = complaint


class CaseEvent(models.Model):
    """One entry in a complaint's append-only history: who, when, from, to and why."""

    class Kind(models.TextChoices):
        LOGGED = "logged", _("Logged")
        STATUS_CHANGED = "status_changed", _("Status changed")
        FIRST_MADE_CHANGED = "first_made_changed", _("First-made time corrected")
        ASSIGNED = "assigned", _("Assigned")
        NOTE = "note", _("Note added")
        CORRESPONDENCE = "correspondence", _("Correspondence")
        NOTICE = "notice", _("Notice sent")
        CLOCK = "clock", _("Clock event")
        CUSTOMER_MATCHED = "customer_matched", _("Customer matched")
        BUNDLE = "bundle", _("Bundle of documents (case file, data export)")
        NEEDS = "needs", _("Customer's needs")
        REPRESENTATIVE = "representative", _("Representative's authority")
        CATEGORISED = "categorised", _("Category and product set")
        ROOT_CAUSE = "root_cause", _("Root cause recorded")
        REMEDY = "remedy", _("Remedy given")
        SATISFACTION = "satisfaction", _("Customer's satisfaction answer")

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the system acted (a deadline job)."),
    )
    actor_label = models.CharField(_("by (name)"), max_length=200)
    from_status = models.CharField(_("from"), max_length=30, blank=True)
    to_status = models.CharField(_("to"), max_length=30, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)
    extra = models.JSONField(_("details"), default=dict, blank=True)
    seq = models.PositiveIntegerField(
        _("position"), editable=False, help_text=_("Place in the complaint's history, from 1.")
    )
    prev_hash = models.CharField(
        _("previous hash"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("The hash of the event before; empty for the first."),
    )
    hash = models.CharField(
        _("hash"),
        max_length=64,
        editable=False,
        help_text=_("SHA-256 of this event's content and previous hash (services.history)."),
    )

    objects = CaseEventManager()

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case history")
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["complaint", "at"], name="caseevent_complaint_at_idx"),
            # The history list filtered by kind, newest first (a kind can be rare among 16M).
            models.Index(fields=["kind", "id"], name="caseevent_kind_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "seq"], name="caseevent_one_per_seq"),
        ]

    def __str__(self):
        if self.to_status:
            return f"{self.complaint_id}: {self.from_status or '-'} -> {self.to_status}"
        return f"{self.complaint_id}: {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Case history is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Case history is append-only.")


class Direction(models.TextChoices):
    INBOUND = "in", _("From the customer")
    OUTBOUND = "out", _("To the customer")


class Correspondence(models.Model):
    """A message to or from the customer, on any channel."""

    complaint = models.ForeignKey(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        related_name="correspondence",
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))
    customer_visible = models.BooleanField(_("visible to the customer"), default=True)
    message_id = models.CharField(_("email Message-ID"), max_length=255, blank=True, db_index=True)
    at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("correspondence")
        verbose_name_plural = _("correspondence")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["complaint", "at"], name="corresp_complaint_at_idx")]

    def __str__(self):
        return (
            f"{self.get_direction_display()} {self.get_channel_display()} {self.at:%Y-%m-%d %H:%M}"
        )


class CaseNote(models.Model):
    """An internal, attributed note of facts found (COP-08). Never shown to the customer."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    body = models.TextField(_("note"))
    at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["complaint", "at"], name="casenote_complaint_at_idx")]

    def __str__(self):
        return f"Note by {self.author} at {self.at:%Y-%m-%d %H:%M}"


class ThirdPartyCorrespondence(models.Model):
    """Correspondence with a supplier or other third party about the complaint (COP-08)."""

    complaint = models.ForeignKey(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        related_name="third_party_correspondence",
    )
    third_party_name = models.CharField(_("third party"), max_length=200)
    direction = models.CharField(
        _("direction"),
        max_length=3,
        choices=[("in", _("From the third party")), ("out", _("To the third party"))],
    )
    body = models.TextField(_("message"))
    at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("third-party correspondence")
        verbose_name_plural = _("third-party correspondence")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["complaint", "at"], name="thirdparty_complaint_at_idx")]

    def __str__(self):
        return f"{self.third_party_name} {self.at:%Y-%m-%d %H:%M}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Store uploads under the complaint's id with a random name; the original is kept apart."""
    import uuid

    return f"complaints/{instance.complaint_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file on the case: technical report, letter scan or customer upload (COP-06, COP-08)."""

    class Kind(models.TextChoices):
        TECHNICAL_REPORT = "technical_report", _("Technical report")
        LETTER_SCAN = "letter_scan", _("Scanned letter")
        CUSTOMER_UPLOAD = "customer_upload", _("Customer's file")
        EMAIL_ATTACHMENT = "email_attachment", _("Email attachment")
        LETTER_SENT = "letter_sent", _("Letter sent")
        FULL_TEXT = "full_text", _("Whole text of a long message")

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="attachments"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    customer_visible = models.BooleanField(_("visible to the customer"), default=False)
    at = models.DateTimeField(_("when"), default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["complaint", "at"], name="attachment_complaint_at_idx")]

    def __str__(self):
        return self.original_name

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Files on a case are kept as they were received or sent.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Files on a case are never deleted.")


class ReferenceCounter(models.Model):
    """The last number handed out in one reference sequence (e.g. complaints of 2026)."""

    scope = models.CharField(_("sequence"), max_length=40, unique=True)
    last_value = models.PositiveBigIntegerField(_("last number issued"), default=0)

    class Meta:
        db_table = "complaints_referencecounter"  # named in services/references.py's SQL
        verbose_name = _("reference counter")
        verbose_name_plural = _("reference counters")
        ordering = ["scope"]

    def __str__(self):
        return f"{self.scope}: {self.last_value}"


class Heartbeat(models.Model):
    """The last time a periodic job ran: proves beat and a worker are alive."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    beat_at = models.DateTimeField(_("last beat"))
    count = models.PositiveBigIntegerField(_("beats"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class AlarmKind(models.TextChoices):
    """The deadline jobs, one per clock of the Code that makes the system act."""

    RESPONSE_OVERDUE = "response_overdue", _("Response overdue (COP-12)")
    PHONE_PROMISE = "phone_promise", _("Phone promise missed (COP-04)")
    PROGRESS_UPDATE = "progress_update", _("Progress update due (COP-13)")
    RESOLUTION_TARGET = "resolution_target", _("Resolution target (COP-14)")
    AUTO_CLOSE = "auto_close", _("Auto-close (COP-10)")
    ADR_LETTER = "adr_letter", _("ADR point (COP-16)")
    OSC_WARNING = "osc_warning", _("Ombudsman deadline warning (COP-18)")
    OSC_CLOSED = "osc_closed", _("Ombudsman window closes (COP-18)")
    CASE_FILE_WARNING = "case_file_warning", _("Ombudsman's case file due soon (COP-18)")
    CASE_FILE_OVERDUE = "case_file_overdue", _("Ombudsman's case file overdue (COP-18)")


class DeadlineAlarm(models.Model):
    """A pending job for one clock of one complaint: the sweep fires those due by now.

    Derived from the complaint's stored deadlines and facts by complaints.clocks; a fired
    alarm is removed in the same transaction as the action it caused, so the sweep's
    work grows with what is due, never with the number of complaints.
    """

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="alarms"
    )
    kind = models.CharField(_("job"), max_length=30, choices=AlarmKind.choices)
    due_at = models.DateTimeField(_("due"))

    class Meta:
        verbose_name = _("deadline alarm")
        verbose_name_plural = _("deadline alarms")
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["complaint", "kind"], name="alarm_one_per_kind"),
        ]
        indexes = [models.Index(fields=["due_at", "id"], name="alarm_due_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} at {self.due_at:%Y-%m-%d %H:%M}"


class NoticeKind(models.TextChoices):
    """Written notices to the customer."""

    ACKNOWLEDGEMENT = "acknowledgement", _("Acknowledgement (COP-05)")
    RESPONSE = "response", _("Our response (COP-09)")
    AUTO_CLOSED = "auto_closed", _("Complaint closed: how to reopen or escalate (COP-10)")
    CLOSED = "closed", _("Complaint closed as resolved or withdrawn: how to reopen or escalate")
    ADR_LETTER = "adr_letter", _("Your right to ADR (COP-16)")
    OSC_WARNING = "osc_warning", _("Ombudsman referral deadline approaching (COP-18)")
    PROGRESS_UPDATE = "progress_update", _("Progress update (COP-13)")
    FORMAL_OPENED = "formal_opened", _("Formal complaint: register reference and reviewer (COP-15)")
    FINAL_PROPOSITION = "final_proposition", _("Final proposition (COP-15)")
    DEADLOCK = "deadlock", _("Deadlock letter (COP-17)")


class Notice(models.Model):
    """A notice to the customer: at most one per complaint, kind and deadline."""

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="notices"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=NoticeKind.choices)
    deadline_at = models.DateTimeField(
        _("for the deadline"), help_text=_("The deadline or event time the notice is about.")
    )
    contact_method = models.CharField(
        _("agreed contact method"), max_length=10, choices=ContactMethod.choices
    )
    communication_format = models.CharField(
        _("format"),
        max_length=20,
        choices=CommunicationFormat.choices,
        default=CommunicationFormat.STANDARD,
        help_text=_("The format the customer's recorded needs asked for when it was sent."),
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    letter = models.OneToOneField(
        "Attachment",
        verbose_name=_("letter (PDF)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notice",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "kind", "deadline_at"], name="notice_once_per_deadline"
            ),
        ]
        indexes = [models.Index(fields=["kind", "created_at"], name="notice_kind_created_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.complaint_id}"


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Portal message")
    POST = "post", _("Letter by post")
    PHONE = "phone", _("Telephone call by staff")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    TO_POST = "to_post", _("Printed, waiting to be posted")
    TO_CALL = "to_call", _("Waiting for staff to call")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed: needs staff attention")


class OutboxMessage(models.Model):
    """One delivery of a notice on one channel, written with the notice, sent after commit."""

    notice = models.ForeignKey(
        Notice, verbose_name=_("notice"), on_delete=models.PROTECT, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=DeliveryChannel.choices)
    recipient = models.CharField(_("to"), max_length=500, blank=True)
    state = models.CharField(
        _("delivery state"),
        max_length=10,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    message_id = models.CharField(_("email Message-ID"), max_length=255, blank=True)
    letter = models.ForeignKey(
        Attachment,
        verbose_name=_("letter (PDF)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted or called by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    representative = models.ForeignKey(
        "accounts.Representative",
        verbose_name=_("to the representative"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty for the customer's own copy."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outbox")
        ordering = ["created_at", "pk"]
        constraints = [
            # Each notice once per channel to the customer, and once per channel to each
            # representative who receives letters.
            models.UniqueConstraint(
                fields=["notice", "channel"],
                condition=models.Q(representative__isnull=True),
                name="outbox_once_per_channel",
            ),
            models.UniqueConstraint(
                fields=["notice", "channel", "representative"],
                condition=models.Q(representative__isnull=False),
                name="outbox_once_per_channel_per_representative",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state__in=["pending", "sending"]),
                name="outbox_due_idx",
            ),
            models.Index(fields=["state", "created_at"], name="outbox_state_idx"),
        ]

    def __str__(self):
        return (
            f"{self.get_channel_display()} to {self.recipient or '-'} ({self.get_state_display()})"
        )


class StaffAlert(models.Model):
    """An alert to a department queue, the managers or an assignee: at most one per breach."""

    class Audience(models.TextChoices):
        DEPARTMENT = "department", _("Department queue")
        MANAGERS = "managers", _("Managers")
        ASSIGNEE = "assignee", _("Assigned member of staff")

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="alerts"
    )
    kind = models.CharField(
        _("kind"),
        max_length=30,
        choices=[
            *AlarmKind.choices,
            ("deadlock_request", _("Deadlock letter requested (COP-17)")),
            ("formal_unappointed", _("Formal complaint needs a senior manager (COP-15)")),
            ("adr_remedy", _("ADR remedy overdue (COP-18)")),
            ("webhook_disabled", _("Webhook subscription disabled after failures")),
            ("recurring_problem", _("Recurring problem")),
        ],
    )
    deadline_at = models.DateTimeField(_("for the deadline"))
    audience = models.CharField(_("to"), max_length=12, choices=Audience.choices)
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("member of staff"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="alerts",
    )
    message = models.CharField(_("message"), max_length=300)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    seen_at = models.DateTimeField(_("seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff alert")
        verbose_name_plural = _("staff alerts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "kind", "deadline_at", "audience"],
                name="alert_once_per_breach",
            ),
        ]
        indexes = [
            models.Index(fields=["audience", "department", "seen_at"], name="alert_queue_idx"),
        ]

    def __str__(self):
        return self.message


class RecurringProblemAlert(models.Model):
    """One burst of a recurring problem: N cases of one root cause, or of one category and
    product, within M working days (issue 16 item 2). Raised once per burst; `ended_at` is
    set by the first run that counts fewer than N, after which a new burst may be raised.
    """

    class Kind(models.TextChoices):
        ROOT_CAUSE = "root_cause", _("Root cause")
        CATEGORY_PRODUCT = "category_product", _("Category and product")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The root cause's code, or "category/product" (product empty when none was set).
    key = models.CharField(_("codes"), max_length=81)
    burst_started_at = models.DateTimeField(_("burst started"))
    raised_at = models.DateTimeField(_("raised"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last counted"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    references = models.JSONField(_("complaints"), default=list)
    message = models.CharField(_("message"), max_length=300)

    class Meta:
        verbose_name = _("recurring-problem alert")
        verbose_name_plural = _("recurring-problem alerts")
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key", "burst_started_at"], name="recurring_once_per_burst"
            ),
            models.UniqueConstraint(
                fields=["kind", "key"],
                condition=models.Q(ended_at__isnull=True),
                name="recurring_one_open_burst",
            ),
        ]

    def __str__(self):
        return self.message


class InboundEmail(models.Model):
    """An email that reached a complaints mailbox, kept raw, and what was done (COP-05)."""

    class State(models.TextChoices):
        CREATED = "created", _("Created a complaint")
        THREADED = "threaded", _("Added to a complaint")
        IGNORED = "ignored", _("Ignored (auto-reply, bounce, list mail, duplicate, our own)")
        QUARANTINED = "quarantined", _("Quarantined for staff review")
        RELEASED = "released", _("Released by staff onto the complaint")
        REJECTED = "rejected", _("Rejected by staff")
        DEAD_LETTER = "dead_letter", _("Could not be read: kept raw")

    message_id = models.CharField(
        _("Message-ID"),
        max_length=255,
        help_text=_("The message's own Message-ID, or a hash of its bytes when it has none."),
    )
    mailbox = models.EmailField(_("mailbox"), blank=True)
    sender = models.CharField(_("from"), max_length=500, blank=True)
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    state = models.CharField(_("outcome"), max_length=12, choices=State.choices)
    reason = models.CharField(_("why"), max_length=500, blank=True)
    complaint = models.ForeignKey(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inbound_emails",
    )
    raw = models.FileField(_("raw message"), upload_to="inbound/%Y/%m/")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound email")
        verbose_name_plural = _("inbound emails")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["message_id"], name="inbound_email_once"),
        ]
        indexes = [models.Index(fields=["state", "received_at"], name="inbound_state_idx")]

    def __str__(self):
        return f"{self.sender}: {self.subject} ({self.get_state_display()})"


class WebhookEvent(models.TextChoices):
    """What a webhook subscription can ask to be told about."""

    COMPLAINT_CREATED = "complaint.created", _("Complaint created")
    COMPLAINT_STATUS_CHANGED = "complaint.status_changed", _("Complaint status changed")
    COMPLAINT_DEADLINE_APPROACHING = (
        "complaint.deadline_approaching",
        _("A deadline is approaching"),
    )
    COMPLAINT_DEADLINE_MISSED = "complaint.deadline_missed", _("A deadline was missed")
    NOTICE_SENT = "notice.sent", _("Notice sent to the customer")
    LETTER_ISSUED = "letter.issued", _("Letter (PDF) issued")
    FORMAL_OPENED = "formal.opened", _("Formal complaint opened")
    ADR_RECORDED = "adr.recorded", _("ADR referral or decision recorded")


class WebhookSubscription(models.Model):
    """An integration's endpoint, told of the events it chose, signed with its own secret."""

    integration = models.ForeignKey(
        "accounts.Integration",
        verbose_name=_("integration"),
        on_delete=models.PROTECT,
        related_name="webhook_subscriptions",
    )
    url = models.URLField(_("endpoint URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        editable=False,
        help_text=_(
            "whsec_<base64>, generated by us and shown once when the subscription is made."
        ),
    )
    event_types = models.JSONField(_("event types"), default=list)
    lead_hours = models.PositiveIntegerField(
        _("deadline warning lead time (hours)"),
        default=24,
        help_text=_("complaint.deadline_approaching is sent this many hours before each deadline."),
    )
    active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["active"], name="webhook_sub_active_idx")]

    def __str__(self):
        return f"{self.integration} -> {self.url}"


class WebhookDelivery(models.Model):
    """One event for one subscription: the webhook outbox, never deleted."""

    webhook_id = models.CharField(_("webhook-id"), max_length=40, unique=True, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription,
        verbose_name=_("subscription"),
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    event_type = models.CharField(_("event type"), max_length=40, choices=WebhookEvent.choices)
    event_key = models.CharField(
        _("event key"),
        max_length=200,
        help_text=_(
            "What makes the event itself unique (a history row, or a clock and its due time)."
        ),
    )
    payload = models.JSONField(_("payload"))
    complaint = models.ForeignKey(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="webhook_deliveries",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now, null=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(
        _("last response code"), null=True, blank=True
    )
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    failed_at = models.DateTimeField(_("gave up"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event_key"], name="webhook_once_per_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(delivered_at__isnull=True, failed_at__isnull=True),
                name="webhook_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.webhook_id} {self.event_type}"


class BundleKind(models.TextChoices):
    """What a bundle of documents is for; each kind has its builder (complaints.bundles)."""

    OMBUDSMAN_CASE_FILE = "ombudsman_case_file", _("Case file for the ombudsman (COP-18)")
    SUBJECT_ACCESS = "subject_access", _("Subject access request response (UK GDPR)")


class BundleState(models.TextChoices):
    QUEUED = "queued", _("Waiting to be built")
    BUILDING = "building", _("Being built")
    READY = "ready", _("Ready to download")
    FAILED = "failed", _("Failed")


BUNDLE_ACTIVE_STATES = (BundleState.QUEUED, BundleState.BUILDING)


def bundle_path(instance: Bundle, filename: str) -> str:
    """Store a bundle's ZIP under a random name; its download name is worked out apart."""
    import uuid

    return f"bundles/{instance.kind}/{uuid.uuid4().hex}.zip"


class Bundle(models.Model):
    """A ZIP of documents about one complaint or customer, built in the background.

    Made by complaints.bundles.bundle_request and bundle_build only. Bundles are kept: a
    second request after one is ready makes a new version beside it.
    """

    kind = models.CharField(_("kind"), max_length=30, choices=BundleKind.choices)
    complaint = models.ForeignKey(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bundles",
    )
    customer = models.ForeignKey(
        "accounts.Customer",
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bundles",
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=BundleState.choices, default=BundleState.QUEUED
    )
    progress_done = models.PositiveIntegerField(_("items done"), default=0)
    progress_total = models.PositiveIntegerField(_("items in all"), default=0)
    file = models.FileField(_("ZIP file"), upload_to=bundle_path, blank=True)
    sha256 = models.CharField(_("SHA-256 of the ZIP"), max_length=64, blank=True)
    size = models.PositiveBigIntegerField(_("size in bytes"), null=True, blank=True)
    error = models.TextField(_("why it failed"), blank=True)
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("bundle")
        verbose_name_plural = _("bundles")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One bundle waiting or being built per subject and kind (bundle_request).
            models.UniqueConstraint(
                fields=["kind", "complaint"],
                condition=models.Q(state__in=["queued", "building"], complaint__isnull=False),
                name="bundle_one_active_per_complaint",
            ),
            models.UniqueConstraint(
                fields=["kind", "customer"],
                condition=models.Q(
                    state__in=["queued", "building"],
                    complaint__isnull=True,
                    customer__isnull=False,
                ),
                name="bundle_one_active_per_customer",
            ),
            models.UniqueConstraint(
                fields=["kind", "complaint", "version"],
                condition=models.Q(complaint__isnull=False),
                name="bundle_version_per_complaint",
            ),
            models.UniqueConstraint(
                fields=["kind", "customer", "version"],
                condition=models.Q(complaint__isnull=True, customer__isnull=False),
                name="bundle_version_per_customer",
            ),
        ]
        indexes = [
            models.Index(fields=["complaint", "kind", "-version"], name="bundle_complaint_idx"),
            models.Index(fields=["customer", "kind", "-version"], name="bundle_customer_idx"),
            # The sweep: bundles still waiting or being built, oldest first.
            models.Index(
                fields=["created_at"],
                condition=models.Q(state__in=["queued", "building"]),
                name="bundle_active_idx",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} v{self.version} ({self.get_state_display()})"

    def delete(self, *args, **kwargs):
        raise PermissionError("Bundles are kept; a new request makes a new version.")


# --- Remedies and satisfaction (issue 16 items 3 and 4) ---------------------------------


class RemedyKind(models.TextChoices):
    """What was given to put a complaint right (COP-09: the remedy; COP-18: the scheme's)."""

    APOLOGY = "apology", _("Apology")
    EXPLANATION = "explanation", _("Explanation")
    SERVICE_FIX = "service_fix", _("Service fix")
    CREDIT = "credit", _("Credit on the account")
    GOODWILL = "goodwill", _("Goodwill payment")
    REFUND = "refund", _("Refund")
    COMPENSATION = "compensation", _("Compensation")
    ADR = "adr", _("Remedy decided by the ADR scheme (accepted)")


# Kinds that cost money: each has an amount in pounds and pence and a named approver.
MONEY_REMEDY_KINDS: frozenset[str] = frozenset(
    {RemedyKind.CREDIT, RemedyKind.GOODWILL, RemedyKind.REFUND, RemedyKind.COMPENSATION}
)


class RemedyQuerySet(models.QuerySet):
    """Remedies are never deleted: a mistake is voided, with its reason, and stays listed."""

    def delete(self):
        raise PermissionError("Remedies are never deleted; void one instead.")

    def live(self):
        return self.filter(voided_at__isnull=True)


class Remedy(models.Model):
    """One remedy given on a complaint: what, how much (money kinds), who approved it, when.

    Written only by complaints.services.remedies. Never deleted: a correction voids the
    row (who, when, why) and, if need be, records a new one.
    """

    complaint = models.ForeignKey(
        Complaint, verbose_name=_("complaint"), on_delete=models.PROTECT, related_name="remedies"
    )
    kind = models.CharField(_("remedy"), max_length=20, choices=RemedyKind.choices)
    amount = models.DecimalField(
        _("amount (£)"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Pounds and pence; only for a credit, goodwill payment, refund or compensation."
        ),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    given_at = models.DateTimeField(_("given"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    void_reason = models.TextField(_("why it was voided"), blank=True)

    objects = RemedyQuerySet.as_manager()

    class Meta:
        verbose_name = _("remedy")
        verbose_name_plural = _("remedies")
        ordering = ["given_at", "pk"]
        indexes = [
            # The dashboard: live remedies given in a range of months.
            models.Index(
                fields=["given_at"],
                condition=models.Q(voided_at__isnull=True),
                name="remedy_given_idx",
            ),
            models.Index(fields=["complaint", "given_at"], name="remedy_complaint_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        kind__in=sorted(MONEY_REMEDY_KINDS),
                        amount__gt=0,
                        approved_by__isnull=False,
                    )
                    | (
                        ~models.Q(kind__in=sorted(MONEY_REMEDY_KINDS))
                        & models.Q(amount__isnull=True)
                    )
                ),
                name="remedy_money_has_amount_and_approver",
            ),
            models.CheckConstraint(
                condition=models.Q(voided_at__isnull=True) | ~models.Q(void_reason=""),
                name="remedy_void_has_reason",
            ),
            # One live ADR remedy per complaint: the decision as it stands (COP-18).
            models.UniqueConstraint(
                fields=["complaint"],
                condition=models.Q(kind="adr", voided_at__isnull=True),
                name="remedy_one_live_adr",
            ),
        ]

    def __str__(self):
        text = self.get_kind_display()
        if self.amount is not None:
            text += f" £{self.amount:,.2f}"
        return f"{text} on {self.complaint_id}"

    def delete(self, *args, **kwargs):
        raise PermissionError("Remedies are never deleted; void one instead.")


class SatisfactionResponse(models.Model):
    """The customer's one answer to "how satisfied are you?" after the case closed (issue 16).

    One per complaint, ever (a database constraint): answerable once.
    """

    class Via(models.TextChoices):
        LINK = "link", _("Signed link in the closing notice")
        PORTAL = "portal", _("Portal, signed in")

    complaint = models.OneToOneField(
        Complaint,
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        related_name="satisfaction",
    )
    score = models.PositiveSmallIntegerField(
        _("how satisfied (1 to 5)"), help_text=_("1 very dissatisfied, 5 very satisfied.")
    )
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    answered_at = models.DateTimeField(_("answered"), default=timezone.now)
    via = models.CharField(_("answered through"), max_length=10, choices=Via.choices)

    class Meta:
        verbose_name = _("satisfaction answer")
        verbose_name_plural = _("satisfaction answers")
        ordering = ["-answered_at", "-pk"]
        indexes = [models.Index(fields=["answered_at"], name="satisfaction_answered_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="satisfaction_score_1_to_5"
            ),
        ]

    def __str__(self):
        return f"{self.score}/5 for {self.complaint_id}"

    def delete(self, *args, **kwargs):
        raise PermissionError("Satisfaction answers are kept with their complaint.")
