"""Formal complaints (COP-11, COP-15) and referrals to the ADR scheme (COP-16 to COP-18)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Requested(models.TextChoices):
    """Whom the customer asked for when still dissatisfied (COP-15)."""

    TECHNICAL_DIRECTOR = "technical_director", _("Technical Director")
    COMPANY_SECRETARY = "company_secretary", _("Company Secretary")
    NOT_SPECIFIED = "not_specified", _("Not specified")


class FormalCase(models.Model):
    """A complaint logged under the formal procedure, with its register reference (COP-15)."""

    class Outcome(models.TextChoices):
        OPEN = "open", _("Under review")
        FINAL_PROPOSITION = "final_proposition", _("Final proposition sent")

    complaint = models.OneToOneField(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        related_name="formal_case",
    )
    register_reference = models.CharField(
        _("complaints register reference"), max_length=20, unique=True, editable=False
    )
    requested = models.CharField(_("customer asked for"), max_length=20, choices=Requested.choices)
    senior_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewing senior manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="formal_cases",
        help_text=_("Appointed when the case is escalated; managers can reappoint."),
    )
    opened_at = models.DateTimeField(_("escalated"), default=timezone.now)
    reason = models.TextField(_("why the customer is still dissatisfied"))
    further_investigation = models.TextField(_("further investigation"), blank=True)
    findings = models.TextField(_("review findings"), blank=True)
    proposed_action = models.TextField(_("proposed further action"), blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.OPEN
    )
    final_proposition_sent_at = models.DateTimeField(
        _("final proposition sent"), null=True, blank=True
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("formal complaint")
        verbose_name_plural = _("complaints register")
        ordering = ["-opened_at", "-pk"]
        indexes = [
            # A manager's open cases, newest first (the formal list's "assigned to me").
            models.Index(
                fields=["senior_manager", "outcome", "-opened_at", "-id"],
                name="formal_manager_idx",
            ),
            models.Index(fields=["outcome", "opened_at"], name="formal_outcome_idx"),
            # The register and the recently closed, newest first, a page at a time.
            models.Index(fields=["-opened_at", "-id"], name="formal_opened_idx"),
        ]

    def __str__(self):
        return f"{self.register_reference} ({self.complaint_id})"


class AdrReferral(models.Model):
    """The customer's referral to the ADR scheme and what came of it (COP-18).

    The company always abides by a decision the customer accepts: its remedy is tracked
    until done, and a job chases it when it is late.
    """

    class Decision(models.TextChoices):
        PENDING = "pending", _("Awaiting the scheme's decision")
        UPHELD = "upheld", _("Upheld: the company must put things right")
        PARTLY_UPHELD = "partly_upheld", _("Partly upheld")
        NOT_UPHELD = "not_upheld", _("Not upheld")
        NOT_ACCEPTED_FOR_REVIEW = "not_accepted", _("Not accepted for review by the scheme")

    complaint = models.OneToOneField(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.PROTECT,
        related_name="adr_referral",
    )
    referred_at = models.DateTimeField(_("referred to the scheme"))
    scheme_reference = models.CharField(_("scheme's case reference"), max_length=60, blank=True)
    decision = models.CharField(
        _("decision"), max_length=20, choices=Decision.choices, default=Decision.PENDING
    )
    decided_at = models.DateTimeField(_("decision date"), null=True, blank=True)
    customer_accepted = models.BooleanField(
        _("customer accepted the decision"), null=True, blank=True
    )
    remedy = models.TextField(_("remedy the company must carry out"), blank=True)
    remedy_due_at = models.DateTimeField(_("remedy due by"), null=True, blank=True)
    remedy_completed_at = models.DateTimeField(_("remedy completed"), null=True, blank=True)
    remedy_chased_at = models.DateTimeField(_("last chased"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The scheme's request for our case file; its deadline is the complaint's stored
    # clock case_file_due_at (escalation.services.case_file_request_record).
    case_file_requested_on = models.DateField(
        _("scheme asked for the case file on"), null=True, blank=True
    )
    case_file_reference = models.CharField(
        _("scheme's reference for the request"), max_length=60, blank=True
    )

    class Meta:
        verbose_name = _("ADR referral")
        verbose_name_plural = _("ADR referrals")
        ordering = ["-referred_at", "-pk"]
        indexes = [
            models.Index(fields=["referred_at"], name="adr_referred_idx"),
            models.Index(
                fields=["remedy_due_at"],
                condition=models.Q(remedy_completed_at__isnull=True, remedy_due_at__isnull=False),
                name="adr_remedy_due_idx",
            ),
        ]

    def __str__(self):
        return f"ADR referral for {self.complaint_id} ({self.get_decision_display()})"


class MonthlyFigure(models.Model):
    """The compliance figures for one London calendar month and one combination of
    department, channel, customer type, category and root cause (issue 16 items 1, 3, 4, 6;
    COP-07, COP-10 to COP-18).

    Kept up to date by escalation.figures in the same transaction as every change to a
    counted fact, rebuilt from scratch by `manage.py rebuild_figures`. Cohort counters
    (received ... resolved_within_10) count complaints first made in the month; the others
    count what happened in the month. A new dimension is one more key column (and one more
    entry in figures.DIMENSIONS); a new measure one more counter column (figures.MEASURES).
    """

    month = models.DateField(_("month"))  # the first day of the month
    department = models.CharField(_("department"), max_length=20)
    channel = models.CharField(_("channel"), max_length=10)
    customer_type = models.CharField(_("customer type"), max_length=10)
    # The complaint's category and root cause as they stand now: the primary key of the
    # complaints.Category or complaints.RootCause row, 0 while none is recorded (a plain
    # number, not a foreign key, so that 0 can stand for "none" in the unique key).
    category = models.PositiveIntegerField(_("category"), default=0)
    root_cause = models.PositiveIntegerField(_("root cause"), default=0)
    # Cohort: complaints first made in the month.
    received = models.IntegerField(default=0)
    acknowledged = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    responded_within_2_working_days = models.IntegerField(default=0)
    resolution_measured = models.IntegerField(default=0)
    resolved_within_10 = models.IntegerField(default=0)
    # Of the month's complaints, those open now (not closed: closed_at not set), for the
    # dashboard's "open now" without counting every open complaint on each view.
    open = models.IntegerField(default=0)
    # Events in the month.
    auto_closed = models.IntegerField(default=0)
    escalated_to_formal = models.IntegerField(default=0)
    adr_letters_sent = models.IntegerField(default=0)
    deadlocks = models.IntegerField(default=0)
    adr_referrals = models.IntegerField(default=0)
    adr_pending = models.IntegerField(default=0)
    adr_upheld = models.IntegerField(default=0)
    adr_partly_upheld = models.IntegerField(default=0)
    adr_not_upheld = models.IntegerField(default=0)
    adr_not_accepted = models.IntegerField(default=0)
    adr_remedies_completed = models.IntegerField(default=0)
    # Remedies given in the month and not voided (issue 16 item 3), ADR remedies included.
    remedies = models.IntegerField(default=0)
    remedy_payments = models.IntegerField(default=0)  # credits, goodwill, refunds, compensation
    remedy_pence = models.BigIntegerField(default=0)  # what those payments came to, in pence
    remedies_adr = models.IntegerField(default=0)
    # Satisfaction answers given in the month (issue 16 item 4): how many, the sum of their
    # scores (1 to 5), and how many of each score.
    satisfaction_answers = models.IntegerField(default=0)
    satisfaction_score_total = models.IntegerField(default=0)
    satisfaction_1 = models.IntegerField(default=0)
    satisfaction_2 = models.IntegerField(default=0)
    satisfaction_3 = models.IntegerField(default=0)
    satisfaction_4 = models.IntegerField(default=0)
    satisfaction_5 = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("monthly figure")
        verbose_name_plural = _("monthly figures")
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "month",
                    "department",
                    "channel",
                    "customer_type",
                    "category",
                    "root_cause",
                ],
                name="monthly_figure_dims_key",
            )
        ]
        indexes = [
            # The dashboard's "open now": the rows with complaints still open, summed per
            # department from the index alone (most old months have none left open).
            models.Index(
                fields=["department", "open"],
                condition=models.Q(open__gt=0),
                name="monthly_figure_open_idx",
            )
        ]

    def __str__(self):
        return (
            f"{self.month:%Y-%m} {self.department} {self.channel} {self.customer_type} "
            f"category {self.category} root cause {self.root_cause}"
        )


class PendingResponse(models.Model):
    """The complaints whose first response has not been sent, counted per response deadline
    (COP-12) and per the MonthlyFigure key (the London month first made, department,
    channel, customer type, category, root cause).

    Kept by escalation.figures with the monthly figures, in the same transactions. The one
    figure that depends on the moment it is read, the first responses not yet due, is the
    sum of the rows whose deadline is still ahead: a few rows (a few deadlines ahead, times
    the combinations of the key), found by the deadline's index, however many complaints
    are stored or waiting.
    """

    response_due_at = models.DateTimeField(_("response due"))
    month = models.DateField(_("month"))  # the first day of the month first made
    department = models.CharField(_("department"), max_length=20)
    channel = models.CharField(_("channel"), max_length=10)
    customer_type = models.CharField(_("customer type"), max_length=10)
    category = models.PositiveIntegerField(_("category"), default=0)
    root_cause = models.PositiveIntegerField(_("root cause"), default=0)
    unanswered = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("pending response count")
        verbose_name_plural = _("pending response counts")
        constraints = [
            # Deadline first: the reports read the rows whose deadline is still ahead.
            models.UniqueConstraint(
                fields=[
                    "response_due_at",
                    "month",
                    "department",
                    "channel",
                    "customer_type",
                    "category",
                    "root_cause",
                ],
                name="pending_response_key",
            )
        ]

    def __str__(self):
        return f"{self.response_due_at:%Y-%m-%d %H:%M} {self.month:%Y-%m} {self.department}"
