"""Users (staff and customers log in by email) and the customer records complaints belong to."""

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    """Create users identified by email address."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """Someone who logs in: a customer on the portal or a member of staff in the desk."""

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Whether the user can log in to the staff desk."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]

    def __str__(self):
        return self.name or self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name.split(" ")[0] if self.name else self.email


class ContactMethod(models.TextChoices):
    """How the customer agreed to be contacted (COP-04, COP-13)."""

    EMAIL = "email", _("Email")
    PHONE = "phone", _("Telephone")
    POST = "post", _("Post")
    PORTAL = "portal", _("Portal message")


class CustomerType(models.TextChoices):
    """Consumer or business: decides ADR eligibility with the employee count (COP-16)."""

    UNKNOWN = "unknown", _("Not yet known")
    CONSUMER = "consumer", _("Consumer")
    BUSINESS = "business", _("Business")


class Customer(models.Model):
    """A customer of the company, with or without a portal login (COP-03, COP-16)."""

    user = models.OneToOneField(
        User,
        verbose_name=_("portal login"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="customer",
    )
    name = models.CharField(_("name"), max_length=200)
    account_reference = models.CharField(
        _("account reference"), max_length=40, blank=True, db_index=True
    )
    email = models.EmailField(_("email address"), blank=True, db_index=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True, db_index=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    preferred_contact_method = models.CharField(
        _("preferred contact method"),
        max_length=10,
        choices=ContactMethod.choices,
        default=ContactMethod.EMAIL,
    )
    customer_type = models.CharField(
        _("consumer or business"),
        max_length=10,
        choices=CustomerType.choices,
        default=CustomerType.UNKNOWN,
        help_text=_("With the number of employees, decides the right to ADR (COP-16)."),
    )
    employee_count = models.PositiveIntegerField(
        _("number of employees"),
        null=True,
        blank=True,
        help_text=_("For businesses. Leave empty if not known."),
    )
    contract_reference = models.CharField(_("contract reference"), max_length=60, blank=True)
    contracted_response_working_days = models.PositiveSmallIntegerField(
        _("contracted response time (working days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text=_(
            "From the customer's contract (COP-03). Used instead of the Code's response "
            "time when it is shorter."
        ),
    )
    email_confirmed_at = models.DateTimeField(
        _("email address confirmed"),
        null=True,
        blank=True,
        help_text=_("When the customer proved they read this address (portal access)."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    anonymised_at = models.DateTimeField(
        _("personal data anonymised"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the retention job or an erasure request removed the personal data."),
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "pk"]
        # The customer list reads in this order, a page at a time (a third of a million at 1M).
        indexes = [models.Index(fields=["name", "id"], name="customer_name_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["account_reference"],
                condition=~models.Q(account_reference=""),
                name="customer_account_reference_unique",
                violation_error_message=_("This account reference belongs to another customer."),
            ),
            models.CheckConstraint(
                condition=models.Q(employee_count__isnull=True)
                | models.Q(customer_type="business"),
                name="customer_employees_only_for_business",
                violation_error_message=_("Only a business has a number of employees."),
            ),
        ]

    def __str__(self):
        if self.account_reference:
            return f"{self.name} ({self.account_reference})"
        return self.name

    def clean(self):
        super().clean()
        # COP-16: the employee count only matters, and is only kept, for a business.
        if self.employee_count is not None and self.customer_type != CustomerType.BUSINESS:
            raise ValidationError(
                {
                    "employee_count": _(
                        "Only a business has a number of employees: mark the customer as "
                        "a business or leave this empty."
                    )
                }
            )


class ApiScope(models.TextChoices):
    """What an API key may do (issue 14): read, write, and the senior managers' formal work."""

    READ = "read", _("Read complaints, customers, letters and formal cases")
    WRITE = "write", _("File complaints and take the desk's actions")
    FORMAL = "formal", _("Senior managers' actions on formal cases")


class Integration(models.Model):
    """A system that reaches Redress through the API (a CRM, billing, telephony).

    It acts through its own staff user, which holds the integration's role: department
    scoping and permissions apply to it exactly as to a person with that role, and every
    write it makes is in the case history under its name. That user has no usable password
    and cannot sign in to the desk.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    user = models.OneToOneField(
        User,
        verbose_name=_("acting staff user"),
        on_delete=models.PROTECT,
        related_name="integration",
        editable=False,
    )
    role = models.CharField(_("acting staff role"), max_length=30, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("integration")
        verbose_name_plural = _("integrations")
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApiKey(models.Model):
    """One key of an integration: stored as a SHA-256 of its secret, shown once when issued.

    A key is ``rdk_<prefix>_<secret>``; the prefix finds the row, the secret is compared
    by its hash. Keys are revoked, never deleted, so the record of who used the API stays.
    """

    integration = models.ForeignKey(
        Integration, verbose_name=_("integration"), on_delete=models.PROTECT, related_name="keys"
    )
    label = models.CharField(_("label"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(_("hash of the secret"), max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        User,
        verbose_name=_("revoked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self):
        return f"rdk_{self.prefix}_… ({self.integration})"

    def usable_at(self, now) -> bool:
        """Whether the key works at `now`: not revoked, not expired."""
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class IdempotencyRecord(models.Model):
    """The first answer to a create sent with an ``Idempotency-Key`` (issue 14).

    The same integration sending the same key and body again gets this answer back; the
    same key with another body is refused. Written in the create's own transaction, so a
    create that failed leaves no record and may be sent again.
    """

    integration = models.ForeignKey(
        Integration, verbose_name=_("integration"), on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    request_hash = models.CharField(_("request digest"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True)
    body = models.JSONField(_("response"), null=True)
    location = models.CharField(_("location"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "key"], name="idempotency_integration_key_unique"
            )
        ]

    def __str__(self):
        return f"{self.integration} {self.key}"


class SubjectAccessRequest(models.Model):
    """A request for everything we hold about a customer (UK GDPR art. 15), with its clock.

    A case of its own kind, with its own reference (SAR-2026-0001) and history. Written only
    by accounts.sar; the dates come from complaints.domain.sar.
    """

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Portal (asked for a copy of their data)")
        LETTER = "letter", _("Letter")
        EMAIL = "email", _("Email (marked by staff)")
        PHONE = "phone", _("Telephone (a request made aloud)")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        EXTENDED = "extended", _("Open, extended")
        FULFILLED = "fulfilled", _("Answered")
        REFUSED = "refused", _("Refused, with the reason")

    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="subject_access_requests",
    )
    channel = models.CharField(_("received by"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("received"))
    details = models.TextField(_("what was asked"), blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.OPEN, editable=False
    )
    due_on = models.DateField(_("due (one month)"), editable=False)
    extended_due_on = models.DateField(
        _("due after the extension"), null=True, blank=True, editable=False
    )
    current_due_on = models.DateField(_("due"), editable=False)
    extension_reason = models.TextField(_("why it was extended"), blank=True, editable=False)
    extension_told_at = models.DateTimeField(
        _("customer told of the extension"), null=True, blank=True, editable=False
    )
    closed_at = models.DateTimeField(
        _("answered or refused"), null=True, blank=True, editable=False
    )
    refusal_reason = models.TextField(_("why it was refused"), blank=True, editable=False)
    bundle = models.ForeignKey(
        "complaints.Bundle",
        verbose_name=_("the response (ZIP)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    inbound_email = models.ForeignKey(
        "complaints.InboundEmail",
        verbose_name=_("from the email"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    logged_by = models.ForeignKey(
        User,
        verbose_name=_("logged by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    handled_by = models.ForeignKey(
        User,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("logged"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("subject access request")
        verbose_name_plural = _("subject access requests")
        ordering = ["-received_at", "-pk"]
        constraints = [
            # Asking again while a request is open is the same request: its clock stands.
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(state__in=["open", "extended"]),
                name="sar_one_open_per_customer",
            ),
            models.UniqueConstraint(
                fields=["inbound_email"],
                condition=models.Q(inbound_email__isnull=False),
                name="sar_once_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(extended_due_on__isnull=True)
                | models.Q(extended_due_on__gt=models.F("due_on")),
                name="sar_extension_is_later",
            ),
        ]
        indexes = [
            # The sweep: open requests by due date.
            models.Index(
                fields=["current_due_on", "id"],
                condition=models.Q(state__in=["open", "extended"]),
                name="sar_open_due_idx",
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.state in (self.State.OPEN, self.State.EXTENDED)


class AppendOnlyQuerySet(models.QuerySet):
    """History rows are written once: bulk update and delete are refused."""

    def update(self, **kwargs):
        raise PermissionError("History is append-only: rows cannot be changed.")

    def delete(self):
        raise PermissionError("History is append-only: rows cannot be deleted.")


class SubjectAccessEventManager(models.Manager.from_queryset(AppendOnlyQuerySet)):
    """Write a request's history through record()."""

    def record(self, *, request, kind, actor, reason, at=None, extra=None, notice=""):
        """Append one row to the request's history (in the caller's transaction)."""
        return self.create(
            request=request,
            kind=kind,
            actor=actor if getattr(actor, "pk", None) else None,
            reason=reason,
            at=at or timezone.now(),
            extra=extra or {},
            notice=notice,
        )


class SubjectAccessEvent(models.Model):
    """One change to a subject access request: what, who, when and why (append-only)."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        ASKED_AGAIN = "asked_again", _("Asked again while open")
        EXTENDED = "extended", _("Extended")
        RESPONSE_REQUESTED = "response_requested", _("Response being prepared")
        RESPONSE_READY = "response_ready", _("Response ready")
        RESPONSE_FAILED = "response_failed", _("Response failed to build")
        FULFILLED = "fulfilled", _("Answered")
        REFUSED = "refused", _("Refused")
        HANDLER = "handler", _("Handler changed")
        CUSTOMER_TOLD = "customer_told", _("Customer told")
        DOWNLOADED = "downloaded", _("Response downloaded")
        ALERT = "alert", _("Alert raised")

    request = models.ForeignKey(
        SubjectAccessRequest,
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    kind = models.CharField(_("what happened"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        User,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("when"), default=timezone.now)
    reason = models.TextField(_("what and why"))
    extra = models.JSONField(_("details"), default=dict, blank=True)
    notice = models.CharField(
        _("customer told of"),
        max_length=20,
        blank=True,
        help_text=_("Set on the row that told the customer; each notice is sent once."),
    )

    objects = SubjectAccessEventManager()

    class Meta:
        verbose_name = _("subject access request event")
        verbose_name_plural = _("subject access request history")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["request", "at"], name="sar_event_request_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "notice"],
                condition=~models.Q(notice=""),
                name="sar_notice_once",
            ),
        ]

    def __str__(self):
        return f"{self.request_id} {self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("History is append-only: rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("History is append-only: rows cannot be deleted.")


class SubjectAccessAlert(models.Model):
    """An alert to the data-protection lead and managers: at most one per request, kind and date."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("Due soon")
        OVERDUE = "overdue", _("Overdue")

    request = models.ForeignKey(
        SubjectAccessRequest,
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    due_on = models.DateField(_("for the due date"))
    message = models.CharField(_("message"), max_length=300)
    created_at = models.DateTimeField(_("raised"), default=timezone.now)

    class Meta:
        verbose_name = _("subject access alert")
        verbose_name_plural = _("subject access alerts")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "kind", "due_on"], name="sar_alert_once_per_due_date"
            ),
        ]

    def __str__(self):
        return self.message


class NeedKind(models.TextChoices):
    """The short list of needs staff pick from (issue 15; Ofcom "Treating vulnerable customers")."""

    HEARING = "hearing", _("Hearing loss or deafness")
    SIGHT = "sight", _("Sight loss or blindness")
    SPEECH = "speech", _("Speech difficulty")
    ILLNESS = "illness", _("Long-term illness or disability")
    MENTAL_HEALTH = "mental_health", _("Mental health condition")
    BEREAVEMENT = "bereavement", _("Bereavement")
    LITERACY = "literacy", _("Difficulty reading or writing")
    LANGUAGE = "language", _("English is not their first language")
    FINANCIAL = "financial", _("Financial difficulty")
    CALL_DONT_WRITE = "call_dont_write", _("Please call, don't write")
    CALL_TIME = "call_time", _("A time of day to call")
    OTHER = "other", _("Something else")


class CommunicationFormat(models.TextChoices):
    """The format the customer's notices take because of a recorded need (issue 15 item 2)."""

    STANDARD = "standard", _("As agreed for the complaint (no special format)")
    LARGE_PRINT = "large_print", _("Large-print letters")
    EMAIL_TEXT = "email_text", _("Plain text in the email itself, no attachments")
    PHONE_WITH_COPY = "phone_with_copy", _("By phone, with a written copy")


class ConsentHow(models.TextChoices):
    """How the customer agreed to their needs being recorded (Ofcom GC C5)."""

    PORTAL = "portal", _("On the portal, by the customer")
    PHONE = "phone", _("By phone")
    LETTER = "letter", _("By letter")
    EMAIL = "email", _("By email")
    IN_PERSON = "in_person", _("In person")


class CustomerNeeds(models.Model):
    """A customer's recorded needs; the row exists only while their consent stands (issue 15).

    Withdrawing consent deletes the row. The history (``CustomerNeedsEvent`` and the
    complaints' ``CaseEvent`` rows) says only that needs were recorded, changed or
    withdrawn, never what they were.
    """

    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="needs"
    )
    kinds = models.JSONField(
        _("needs"), default=list, blank=True, help_text=_("From the short list.")
    )
    details = models.TextField(
        _("details"),
        blank=True,
        help_text=_('In the customer\'s words, for example "calls after 2pm; hearing aid".'),
    )
    communication_format = models.CharField(
        _("how we send letters and updates"),
        max_length=20,
        choices=CommunicationFormat.choices,
        default=CommunicationFormat.STANDARD,
    )
    call_times = models.CharField(
        _("times to call"),
        max_length=200,
        blank=True,
        help_text=_('For example "weekdays after 2pm".'),
    )
    update_interval_working_days = models.PositiveSmallIntegerField(
        _("progress updates every (working days)"),
        null=True,
        blank=True,
        help_text=_(
            "Agreed with the customer because of their needs. Leave empty for the Code's "
            "interval; never fewer working days than the Code's (COP-13)."
        ),
    )
    named_contact = models.ForeignKey(
        User,
        verbose_name=_("named contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="named_contact_for",
        limit_choices_to={"is_staff": True},
        help_text=_("A member of staff shown as the contact on the customer's cases."),
    )
    consent_given_at = models.DateTimeField(_("consent given"))
    consent_how = models.CharField(
        _("how consent was given"), max_length=10, choices=ConsentHow.choices
    )
    recorded_by = models.ForeignKey(
        User,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the customer recorded their needs on the portal."),
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), default=timezone.now)
    review_on = models.DateField(_("review on"), db_index=True)

    class Meta:
        verbose_name = _("customer needs")
        verbose_name_plural = _("customer needs")
        ordering = ["review_on", "pk"]

    def __str__(self):
        return f"Needs of {self.customer}"

    def kind_labels(self) -> list[str]:
        """Return the recorded needs in words, in the short list's order."""
        labels = dict(NeedKind.choices)
        return [str(labels.get(k, k)) for k in self.kinds]


class CustomerNeedsEventKind(models.TextChoices):
    """What happened to a customer's recorded needs (no details are ever kept here)."""

    RECORDED = "recorded", _("Needs recorded")
    CHANGED = "changed", _("Needs changed")
    REVIEWED = "reviewed", _("Needs reviewed")
    WITHDRAWN = "withdrawn", _("Needs withdrawn")


class CustomerNeedsEventQuerySet(models.QuerySet):
    """The record of needs events is append-only: bulk update and delete are refused."""

    def update(self, **kwargs):
        raise PermissionError("The record of customers' needs events is append-only.")

    def delete(self):
        raise PermissionError("The record of customers' needs events is append-only.")


class CustomerNeedsEvent(models.Model):
    """The customer-level record that needs were recorded, changed or withdrawn (issue 15).

    Append-only and content-free: it outlives the needs themselves, so it holds who did
    what and when and how consent was given, never the needs or their details.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("what happened"), max_length=10, choices=CustomerNeedsEventKind)
    actor = models.ForeignKey(
        User,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty when the customer did it on the portal."),
    )
    by_customer = models.BooleanField(_("by the customer"), default=False)
    consent_how = models.CharField(
        _("how consent was given"), max_length=10, choices=ConsentHow.choices, blank=True
    )
    at = models.DateTimeField(_("when"), default=timezone.now)

    objects = CustomerNeedsEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer needs event")
        verbose_name_plural = _("customer needs events")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["customer", "at"], name="needs_event_customer_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.customer} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The record of customers' needs events is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The record of customers' needs events is append-only.")


class RepresentativeRelationship(models.TextChoices):
    """Who acts for the customer (Ofcom GC C5; the Code's "someone acting for the customer")."""

    FAMILY = "family", _("Family member")
    CARER = "carer", _("Carer")
    POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney or deputy")
    BUSINESS_STAFF = "business_staff", _("A member of the business's staff")
    MP_OFFICE = "mp_office", _("An MP's office")
    ADVISER = "adviser", _("An adviser (for example Citizens Advice)")
    OTHER = "other", _("Someone else")


class Representative(models.Model):
    """Someone the customer lets act for them, with the authority staff saw (issue 15 item 4).

    Written only by accounts.representatives, which also answers whether the authority is
    in force now, who receives a notice, and who may see or act on a complaint. The row is
    never deleted while the customer's data is held: withdrawing or expiring it ends the
    access at once and the history keeps that it was given.
    """

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="representatives",
    )
    name = models.CharField(_("name"), max_length=200)
    relationship = models.CharField(
        _("relationship to the customer"), max_length=20, choices=RepresentativeRelationship
    )
    organisation = models.CharField(
        _("organisation"),
        max_length=200,
        blank=True,
        help_text=_("For example the MP's office or the business they work for."),
    )
    email = models.EmailField(_("email address"), blank=True)
    phone = models.CharField(_("telephone"), max_length=40, blank=True)
    postal_address = models.TextField(_("postal address"), blank=True)
    contact_method = models.CharField(
        _("how they want letters"),
        max_length=10,
        choices=ContactMethod.choices,
        default=ContactMethod.EMAIL,
    )
    user = models.ForeignKey(
        User,
        verbose_name=_("portal login"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="representing",
        limit_choices_to={"is_staff": False},
        help_text=_("Their own portal account, if they have one: they see the cases here."),
    )
    authority_seen = models.CharField(
        _("authority seen"),
        max_length=200,
        help_text=_(
            'What showed they may act, for example "letter signed by the customer" or '
            '"lasting power of attorney".'
        ),
    )
    authority_document = models.FileField(
        _("authority document"), upload_to="representatives/%Y/%m/", blank=True
    )
    authority_document_name = models.CharField(_("file name"), max_length=200, blank=True)
    authority_document_type = models.CharField(_("file type"), max_length=100, blank=True)
    receive_letters = models.BooleanField(_("receives our letters and updates"), default=True)
    act_on_case = models.BooleanField(
        _("may act on the complaint"),
        default=True,
        help_text=_("Reply, ask for a senior review or a deadlock letter."),
    )
    copy_customer = models.BooleanField(
        _("copy letters to the customer"),
        default=True,
        help_text=_(
            "Untick only if the customer asked that letters go to the representative only."
        ),
    )
    all_complaints = models.BooleanField(
        _("for all the customer's complaints"),
        default=True,
        help_text=_("Untick to limit the authority to the complaints named below."),
    )
    complaints = models.ManyToManyField(
        "complaints.Complaint",
        verbose_name=_("for these complaints only"),
        blank=True,
        related_name="+",
    )
    starts_at = models.DateTimeField(_("from"), default=timezone.now)
    ends_at = models.DateTimeField(
        _("until"), null=True, blank=True, help_text=_("Empty when it has no end date.")
    )
    expiry_recorded_at = models.DateTimeField(
        _("expiry recorded"), null=True, blank=True, editable=False
    )
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        User,
        verbose_name=_("withdrawn by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    withdrawal_reason = models.TextField(_("why it was withdrawn"), blank=True, editable=False)
    recorded_by = models.ForeignKey(
        User,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("representative")
        verbose_name_plural = _("representatives")
        ordering = ["-recorded_at", "-pk"]
        indexes = [
            models.Index(fields=["customer", "withdrawn_at"], name="rep_customer_idx"),
            models.Index(fields=["user", "withdrawn_at"], name="rep_user_idx"),
            # The expiry job: authorities with an end date not yet recorded as expired.
            models.Index(
                fields=["ends_at", "id"],
                condition=models.Q(
                    ends_at__isnull=False,
                    expiry_recorded_at__isnull=True,
                    withdrawn_at__isnull=True,
                ),
                name="rep_expiry_due_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="rep_ends_after_it_starts",
                violation_error_message=_("The end date must be after the start."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.get_relationship_display().lower()}) for {self.customer}"
