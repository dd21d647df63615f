"""Subject access requests (UK GDPR art. 15): intake, extension, response, refusal, alerts.

The only writer of SubjectAccessRequest. Every change locks the request, checks the rule in
complaints.domain.sar, saves and writes a SubjectAccessEvent (who, when, why) in the same
transaction; emails to the customer go after commit, each once (SubjectAccessEvent.notice
is unique per request).

History: a request is not a complaint, so it cannot join a complaint's hash-chained
CaseEvent history (whose rows belong to one complaint and chain through its head). It has
an append-only table of its own, refused updates and deletes by its model and queryset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    Customer,
    SubjectAccessAlert,
    SubjectAccessEvent,
    SubjectAccessRequest,
)
from complaints import clocks
from complaints.domain.sar import (
    SarRuleError,
    sar_due_on,
    sar_extended_due_on,
    sar_extension_check,
    sar_received_on,
    sar_warn_on,
    sar_warning_horizon,
)
from complaints.services.references import reference_next_number

logger = logging.getLogger(__name__)

SAR = SubjectAccessRequest
Event = SubjectAccessEvent
OPEN_STATES = (SAR.State.OPEN, SAR.State.EXTENDED)

__all__ = ["SarRuleError"]


def sar_reference_next(*, year: int) -> str:
    """Return the next request reference for `year`, e.g. SAR-2026-0001."""
    return f"SAR-{year}-{reference_next_number(scope=f'SAR-{year}'):04d}"


def sar_warning_working_days() -> int:
    """How many working days before the due date the data-protection lead is warned."""
    return int(getattr(settings, "REDRESS_SAR_WARNING_WORKING_DAYS", 5))


def sar_warn_date(sar: SubjectAccessRequest) -> date:
    """Return the date the due-soon alert is raised for the request's current due date."""
    return sar_warn_on(sar.current_due_on, sar_warning_working_days(), clocks.calendar())


def _words(d: date) -> str:
    return f"{d:%A} {d.day} {d:%B %Y}"


def _portal_link() -> str:
    """Where the customer follows their requests: our website's "Your data" page."""
    site = settings.REDRESS_COMPANY["website"].rstrip("/")
    return f"{site}{reverse('accounts:sar-list')}"


def _tell_customer(sar: SubjectAccessRequest, *, notice: str, subject: str, body: str, actor):
    """Record that the customer is told, and email them after commit (once per notice)."""
    try:
        with transaction.atomic():
            Event.objects.record(
                request=sar,
                kind=Event.Kind.CUSTOMER_TOLD,
                actor=actor,
                reason=(
                    f"Customer told by email: {subject}."
                    if sar.customer.email
                    else f"No email address: write to the customer by post: {subject}."
                ),
                notice=notice,
                # No address here: the history outlives an erasure, the customer record not.
                extra={"emailed": bool(sar.customer.email), "body": body},
            )
    except IntegrityError:
        return  # told already
    address = sar.customer.email
    if not address:
        return  # no email address: staff write to them (the history shows the text)
    company = settings.REDRESS_COMPANY["name"]
    full = f"Dear {sar.customer.name},\n\n{body}\n\n{company}"
    transaction.on_commit(
        lambda: send_mail(
            f"{subject} ({sar.reference})", full, None, [address], fail_silently=True
        )  # fmt: skip
    )


def _locked(sar: SubjectAccessRequest) -> SubjectAccessRequest:
    return SAR.objects.select_for_update(of=("self",)).select_related("customer").get(pk=sar.pk)


def _must_be_open(sar: SubjectAccessRequest, doing: str) -> None:
    if not sar.is_open:
        raise SarRuleError(
            f"{sar.reference} is already {sar.get_state_display().lower()}, so it cannot be "
            f"{doing}."
        )


@dataclass(frozen=True)
class SarOpened:
    """What sar_open did: the request, and whether it is new (False: one was already open)."""

    request: SubjectAccessRequest
    created: bool


@transaction.atomic
def sar_open(
    *,
    customer: Customer,
    channel: str,
    actor,
    received_at: datetime | None = None,
    details: str = "",
    inbound_email=None,
    now: datetime | None = None,
) -> SarOpened:
    """Log a request for everything we hold about `customer`; its clock starts at receipt.

    Asking again while a request is open is the same request (its clock stands): the
    history records it and the open request is returned.
    """
    now = now or timezone.now()
    received_at = received_at or now
    if channel not in SAR.Channel.values:
        raise SarRuleError(f"Unknown channel {channel!r}: use one of {', '.join(SAR.Channel)}.")
    if received_at > now:
        raise SarRuleError("The date received cannot be in the future.")
    if customer.anonymised_at is not None:
        raise SarRuleError("This customer's personal data has been erased: we hold none to give.")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if inbound_email is not None:
        already = SAR.objects.filter(inbound_email=inbound_email).first()
        if already is not None:
            return SarOpened(already, False)
    existing = SAR.objects.filter(customer=customer, state__in=OPEN_STATES).first()
    if existing is not None:
        Event.objects.record(
            request=existing,
            kind=Event.Kind.ASKED_AGAIN,
            actor=actor,
            at=now,
            reason=(
                f"Asked again by {SAR.Channel(channel).label.lower()} on "
                f"{_words(sar_received_on(received_at, clocks.calendar()))}; the request is "
                f"still open, so its clock stands."
            ),
            extra={"channel": channel, "details": details[:2000]},
        )
        return SarOpened(existing, False)
    calendar = clocks.calendar()
    received_on = sar_received_on(received_at, calendar)
    due_on = sar_due_on(received_on, calendar)
    sar = SAR.objects.create(
        reference=sar_reference_next(year=received_on.year),
        customer=customer,
        channel=channel,
        received_at=received_at,
        details=details,
        due_on=due_on,
        current_due_on=due_on,
        inbound_email=inbound_email,
        logged_by=actor if getattr(actor, "is_staff", False) else None,
        created_at=now,
    )
    Event.objects.record(
        request=sar,
        kind=Event.Kind.RECEIVED,
        actor=actor,
        at=now,
        reason=(
            f"Received by {SAR.Channel(channel).label.lower()} on {_words(received_on)}; "
            f"due by {_words(due_on)} (one month, UK GDPR art. 12(3))."
        ),
        extra={"received_on": received_on.isoformat(), "due_on": due_on.isoformat()},
    )
    _tell_customer(
        sar,
        notice="received",
        subject="We have your request for your personal data",
        body=(
            f"We received your request for a copy of the personal data we hold about you on "
            f"{_words(received_on)}. Its reference is {sar.reference}. We will send it by "
            f"{_words(due_on)}. You can follow it at {_portal_link()}."
        ),
        actor=actor,
    )
    return SarOpened(sar, True)


@transaction.atomic
def sar_extend(
    *,
    sar: SubjectAccessRequest,
    months: int,
    reason: str,
    actor,
    told_at: datetime | None = None,
    now: datetime | None = None,
) -> SubjectAccessRequest:
    """Extend the request once by one or two months, telling the customer why (art. 12(3))."""
    now = now or timezone.now()
    told_at = told_at or now
    sar = _locked(sar)
    _must_be_open(sar, "extended")
    calendar = clocks.calendar()
    received_on = sar_received_on(sar.received_at, calendar)
    sar_extension_check(
        received_on=received_on,
        due_on=sar.due_on,
        told_on=sar_received_on(told_at, calendar),
        months=months,
        already_extended=sar.extended_due_on is not None,
        reason=reason,
    )
    sar.extended_due_on = sar_extended_due_on(received_on, months, calendar)
    sar.current_due_on = sar.extended_due_on
    sar.extension_reason = reason.strip()
    sar.extension_told_at = told_at
    sar.state = SAR.State.EXTENDED
    sar.save()
    Event.objects.record(
        request=sar,
        kind=Event.Kind.EXTENDED,
        actor=actor,
        at=now,
        reason=(
            f"Extended by {months} month(s) to {_words(sar.extended_due_on)} "
            f"(was {_words(sar.due_on)}): {sar.extension_reason}"
        ),
        extra={"months": months, "extended_due_on": sar.extended_due_on.isoformat()},
    )
    _tell_customer(
        sar,
        notice="extended",
        subject="We need more time to answer your request for your data",
        body=(
            f"We need more time to answer your request {sar.reference}, as the law allows "
            f"for a complex request. We will now send it by {_words(sar.extended_due_on)}. "
            f"Why: {sar.extension_reason}"
        ),
        actor=actor,
    )
    return sar


@transaction.atomic
def sar_handler_set(*, sar: SubjectAccessRequest, handler, actor) -> SubjectAccessRequest:
    """Make `handler` the member of staff who answers the request."""
    sar = _locked(sar)
    if sar.handled_by_id == getattr(handler, "pk", None):
        return sar
    sar.handled_by = handler
    sar.save(update_fields=["handled_by"])
    Event.objects.record(
        request=sar,
        kind=Event.Kind.HANDLER,
        actor=actor,
        reason=f"Handled by {handler or 'nobody'}.",
    )
    return sar


def sar_response_prepare(*, sar: SubjectAccessRequest, actor):
    """Start building the response (a ZIP of everything we hold) in the background."""
    from complaints.bundles import bundle_request
    from complaints.models import BundleKind

    with transaction.atomic():
        sar = _locked(sar)
        _must_be_open(sar, "prepared")
        bundle = bundle_request(kind=BundleKind.SUBJECT_ACCESS, customer=sar.customer, actor=actor)
        if sar.bundle_id != bundle.pk:
            sar.bundle = bundle
            if sar.handled_by_id is None and getattr(actor, "is_staff", False):
                sar.handled_by = actor
            sar.save(update_fields=["bundle", "handled_by"])
            Event.objects.record(
                request=sar,
                kind=Event.Kind.RESPONSE_REQUESTED,
                actor=actor,
                reason=f"Response being prepared (bundle version {bundle.version}).",
                extra={"bundle_id": bundle.pk, "version": bundle.version},
            )
    return bundle


@transaction.atomic
def sar_fulfil(
    *, sar: SubjectAccessRequest, actor, now: datetime | None = None
) -> SubjectAccessRequest:
    """Send the prepared response: the customer is told and may download it on the portal."""
    from complaints.models import BundleState

    now = now or timezone.now()
    sar = _locked(sar)
    _must_be_open(sar, "answered")
    if sar.bundle_id is None or sar.bundle.state != BundleState.READY:
        raise SarRuleError("Prepare the response first and wait until it is ready; then send it.")
    sar.state = SAR.State.FULFILLED
    sar.closed_at = now
    if sar.handled_by_id is None and getattr(actor, "is_staff", False):
        sar.handled_by = actor
    sar.save()
    on_time = sar_received_on(now, clocks.calendar()) <= sar.current_due_on
    Event.objects.record(
        request=sar,
        kind=Event.Kind.FULFILLED,
        actor=actor,
        at=now,
        reason=(
            f"Answered {'in time' if on_time else 'late'}: due {_words(sar.current_due_on)}; "
            f"the response (SHA-256 {sar.bundle.sha256}) is on the portal."
        ),
        extra={"on_time": on_time, "bundle_id": sar.bundle_id, "sha256": sar.bundle.sha256},
    )
    _tell_customer(
        sar,
        notice="fulfilled",
        subject="Your personal data is ready",
        body=(
            f"The copy of the personal data we hold about you ({sar.reference}) is ready. "
            f"Sign in to download it: {_portal_link()}. If you cannot use the portal, reply "
            "and we will send it another way."
        ),
        actor=actor,
    )
    return sar


@transaction.atomic
def sar_refuse(
    *, sar: SubjectAccessRequest, reason: str, actor, now: datetime | None = None
) -> SubjectAccessRequest:
    """Refuse the request with the reason the customer is given (e.g. manifestly unfounded)."""
    now = now or timezone.now()
    if not reason.strip():
        raise SarRuleError("Give the reason for refusing: the customer must be told it.")
    sar = _locked(sar)
    _must_be_open(sar, "refused")
    sar.state = SAR.State.REFUSED
    sar.refusal_reason = reason.strip()
    sar.closed_at = now
    sar.save()
    Event.objects.record(
        request=sar, kind=Event.Kind.REFUSED, actor=actor, at=now, reason=f"Refused: {reason}"
    )
    _tell_customer(
        sar,
        notice="refused",
        subject="We cannot answer your request for your data",
        body=(
            f"We are not able to answer your request {sar.reference}. Why: "
            f"{sar.refusal_reason}\n\nYou can complain to the Information Commissioner's "
            "Office (ico.org.uk, 0303 123 1113) or ask a court to enforce your right."
        ),
        actor=actor,
    )
    return sar


def sar_bundle_event(bundle, event: str, actor) -> None:
    """Write a response bundle's progress in the history of the requests it answers."""
    from complaints.bundles import DOWNLOADED, FAILED, READY

    kinds = {
        READY: Event.Kind.RESPONSE_READY,
        FAILED: Event.Kind.RESPONSE_FAILED,
        DOWNLOADED: Event.Kind.DOWNLOADED,
    }
    if event not in kinds:
        return  # "requested" is written by sar_response_prepare, which knows the request
    words = {
        READY: f"Response ready ({bundle.size} bytes, SHA-256 {bundle.sha256}).",
        FAILED: f"Response failed to build: {bundle.error}",
        DOWNLOADED: "Response downloaded.",
    }
    for sar in SAR.objects.filter(bundle=bundle):
        Event.objects.record(
            request=sar,
            kind=kinds[event],
            actor=actor,
            reason=words[event],
            extra={"bundle_id": bundle.pk, "version": bundle.version},
        )


def _alert_text(sar: SubjectAccessRequest, kind: str) -> str:
    due = _words(sar.current_due_on)
    if kind == SubjectAccessAlert.Kind.OVERDUE:
        return f"Subject access request {sar.reference} is overdue: it was due by {due}."
    return f"Subject access request {sar.reference} is due by {due}."


def _alert_raise(sar: SubjectAccessRequest, kind: str, now: datetime) -> bool:
    """Raise one alert for the request's current due date; False if it was raised before."""
    try:
        with transaction.atomic():
            alert = SubjectAccessAlert.objects.create(
                request=sar,
                kind=kind,
                due_on=sar.current_due_on,
                message=_alert_text(sar, kind),
                created_at=now,
            )
            Event.objects.record(
                request=sar, kind=Event.Kind.ALERT, actor=None, at=now, reason=alert.message,
                extra={"alert": kind, "due_on": sar.current_due_on.isoformat()},
            )  # fmt: skip
    except IntegrityError:
        return False
    address = getattr(settings, "REDRESS_DATA_PROTECTION_EMAIL", "")
    if address:
        message = alert.message
        transaction.on_commit(
            lambda: send_mail(
                f"Subject access: {message}", message, None, [address], fail_silently=True
            )  # fmt: skip
        )
    return True


def sar_alerts_sweep(*, now: datetime | None = None) -> list[str]:
    """Alert the data-protection lead and managers before a request is due and once overdue.

    Driven by the stored due dates (an indexed range over open requests), each alert once
    per request, kind and due date (a database constraint): running twice, or after days
    of downtime, raises what one run on time would have. An extension moves the due date,
    so its alerts come again for the new date.
    """
    now = now or timezone.now()
    calendar = clocks.calendar()
    today = sar_received_on(now, calendar)
    horizon = sar_warning_horizon(today, sar_warning_working_days(), calendar)
    due = (
        SAR.objects.filter(state__in=OPEN_STATES, current_due_on__lte=horizon)
        .select_related("customer")
        .order_by("current_due_on", "pk")
    )
    lines = []
    for sar in due.iterator(chunk_size=200):
        kinds = [SubjectAccessAlert.Kind.DUE_SOON]
        if today > sar.current_due_on:
            kinds.append(SubjectAccessAlert.Kind.OVERDUE)
        for kind in kinds:
            if _alert_raise(sar, kind, now):
                lines.append(f"{sar.reference}: {SubjectAccessAlert.Kind(kind).label.lower()}")
    return lines


def sar_customer_can_download(user, sar: SubjectAccessRequest) -> bool:
    """The customer whose request it is, once it is answered, may download its response."""
    return bool(
        user.is_authenticated
        and sar.state == SAR.State.FULFILLED
        and sar.bundle_id is not None
        and sar.customer.user_id == user.pk
        and user.is_active
    )


def sar_bundle_can_view(user, bundle) -> bool:
    """Staff who answer requests may see a response; its customer, once it is sent to them.

    Agents may log requests but not open the answers: a response holds every department's
    complaints about the customer, more than one department's queue shows.
    """
    if user.is_active and user.is_staff:
        return user.has_perm("accounts.change_subjectaccessrequest")
    sars = SAR.objects.filter(bundle=bundle, state=SAR.State.FULFILLED).select_related("customer")
    return any(sar_customer_can_download(user, sar) for sar in sars)


def sar_bundle_filename(bundle) -> str:
    """The name the response is saved under: the request's reference."""
    sar = SAR.objects.filter(bundle=bundle).order_by("-pk").first()
    stem = sar.reference if sar else f"customer-{bundle.customer_id}"
    return f"{stem}-your-data-v{bundle.version}.zip"


def sar_open_from_email(*, inbound_email, actor) -> SarOpened:
    """Mark an inbound email as a subject access request from the customer who sent it."""
    from email.utils import parseaddr

    customer = None
    if inbound_email.complaint_id is not None:
        customer = inbound_email.complaint.customer
    else:
        address = parseaddr(inbound_email.sender)[1].strip().lower()
        matches = list(Customer.objects.filter(email__iexact=address)[:2]) if address else []
        if len(matches) > 1:
            raise SarRuleError(
                f"More than one customer has the address {address}: log the request from "
                "the right customer's record instead."
            )
        customer = matches[0] if matches else None
    if customer is None:
        raise SarRuleError(
            "No customer has this sender's address: add the customer, then log the request "
            "by hand as received by email."
        )
    return sar_open(
        customer=customer,
        channel=SAR.Channel.EMAIL,
        actor=actor,
        received_at=inbound_email.received_at,
        details=f"Email: {inbound_email.subject}"[:2000],
        inbound_email=inbound_email,
    )
