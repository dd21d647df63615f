"""Notices to customers: written once per complaint, kind and deadline, delivered via the outbox."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import CommunicationFormat, NeedKind
from accounts.needs import UNREAD, communication_format, needs_of
from accounts.representatives import Recipients, describe, letter_recipients
from complaints.domain.notices import Delivery, letter_in_large_print, notice_delivery
from complaints.domain.wording import moment_words
from complaints.letters import letter_pdf
from complaints.models import (
    Attachment,
    CaseEvent,
    Complaint,
    DeliveryChannel,
    DeliveryState,
    Department,
    Notice,
    NoticeKind,
    OutboxMessage,
    history_batch_holds,
)
from complaints.services.satisfaction import CLOSING_NOTICES, satisfaction_link
from complaints.signals import outbox_message_queued
from complaints.transactions import atomic_step

SUBJECTS = {
    NoticeKind.ACKNOWLEDGEMENT: "We have received your complaint {ref}",
    NoticeKind.RESPONSE: "Our response to your complaint {ref}",
    NoticeKind.PROGRESS_UPDATE: "Your complaint {ref}: progress update",
    NoticeKind.AUTO_CLOSED: "Your complaint {ref} has been closed",
    NoticeKind.CLOSED: "Your complaint {ref} has been closed",
    NoticeKind.ADR_LETTER: "Your complaint {ref}: your right to an independent review (ADR)",
    NoticeKind.OSC_WARNING: "Your complaint {ref}: four weeks left to refer it to the ombudsman",
    NoticeKind.FORMAL_OPENED: "Your complaint {ref} is now a formal complaint",
    NoticeKind.FINAL_PROPOSITION: "Your complaint {ref}: our final proposition",
    NoticeKind.DEADLOCK: "Your complaint {ref}: deadlock letter",
}


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def notice_context(complaint: Complaint, **extra) -> dict:
    """Return what every notice template may use: the case, the company, the key dates."""
    tz = _tz()
    company = settings.REDRESS_COMPANY
    contact_email = (
        company["accounts_email"]
        if complaint.department == Department.ACCOUNTS
        else company["support_email"]
    )
    return {
        "complaint": complaint,
        "customer": complaint.customer,
        "company": company,
        "adr_scheme": settings.REDRESS_ADR_SCHEME,
        "contact_email": contact_email,
        "first_made_on": moment_words(complaint.first_made_at, tz),
        "osc_deadline": moment_words(complaint.osc_deadline_at, tz),
        "response_due": moment_words(complaint.response_due_at, tz),
        "adr_eligible": moment_words(complaint.adr_eligible_at, tz),
        "immediate_action": settings.REDRESS_IMMEDIATE_ACTION.get(complaint.department, ""),
        "responded_on": moment_words(complaint.responded_at, tz) if complaint.responded_at else "",
        **extra,
    }


def _recipient(channel: str, complaint: Complaint) -> str:
    customer = complaint.customer
    if channel == DeliveryChannel.EMAIL:
        return customer.email
    if channel == DeliveryChannel.POST:
        return f"{customer.name}\n{customer.postal_address}"
    if channel == DeliveryChannel.PHONE:
        return customer.phone
    return customer.user.email if customer.user_id else ""


def _representative_recipient(channel: str, rep) -> str:
    if channel == DeliveryChannel.EMAIL:
        return rep.email
    if channel == DeliveryChannel.POST:
        return f"{rep.name}\n{rep.postal_address}"
    if channel == DeliveryChannel.PHONE:
        return rep.phone
    return rep.user.email if rep.user_id else ""


def representative_delivery_for(rep, kind: str) -> Delivery:
    """Return how notice `kind` reaches a representative: the way they asked for (GC C5).

    The same rule as the customer's (complaints.domain.notices), on the representative's
    own contact details; the customer's recorded needs are the customer's, not theirs.
    """
    return notice_delivery(
        kind,
        rep.contact_method,
        has_email=bool(rep.email),
        has_postal_address=bool(rep.postal_address.strip()),
        has_portal_login=bool(rep.user_id),
        has_phone=bool(rep.phone.strip()),
    )


def delivery_for(complaint: Complaint, kind: str, needs=UNREAD) -> Delivery:
    """Return how notice `kind` reaches the complaint's customer: agreed method and needs.

    `needs` is the customer's needs row as the caller just read it (needs_read): then the
    format comes from it too, instead of a second read.
    """
    customer = complaint.customer
    if needs is UNREAD:
        needs, format_ = needs_of(customer), communication_format(customer)
    else:
        format_ = (needs.communication_format if needs else "") or CommunicationFormat.STANDARD
    kinds = (needs.kinds or []) if needs else []
    return notice_delivery(
        kind,
        complaint.agreed_contact_method,
        communication_format=format_,
        call_dont_write=NeedKind.CALL_DONT_WRITE in kinds,
        has_email=bool(customer.email),
        has_postal_address=bool(customer.postal_address.strip()),
        has_portal_login=bool(customer.user_id),
        has_phone=bool(customer.phone.strip()),
    )


@atomic_step
def notice_send(
    *,
    complaint: Complaint,
    kind: str,
    deadline_at: datetime,
    actor=None,
    needs=UNREAD,
    recipients: Recipients | None = None,
    **context,
) -> Notice | None:
    """Write the notice `kind` about `deadline_at` and queue its deliveries, at most once.

    Goes by the complaint's agreed contact method (COP-04, COP-13), unless the customer's
    recorded needs ask for another format or channel, which wins (issue 15 item 2). Returns
    None when the same notice already exists (the database's unique constraint decides).
    Delivery happens after commit, from the outbox, with retries. `needs` and `recipients`
    are what the caller already read in this transaction (needs_read, letter_recipients),
    saving their queries.
    """
    delivery = delivery_for(complaint, kind, needs)
    # Issue 15 item 4 (GC C5): a representative receiving letters gets each notice too,
    # and the customer is copied unless they asked for letters to the representative only.
    recipients = recipients or letter_recipients(complaint)
    channels = delivery.channels if recipients.customer else ()
    rep_deliveries = []
    for rep in recipients.representatives:
        rep_channels = tuple(
            # A portal message is on the case itself, which the customer also sees: once.
            c
            for c in representative_delivery_for(rep, kind).channels
            if not (c == DeliveryChannel.PORTAL and DeliveryChannel.PORTAL in channels)
        )
        rep_deliveries += [(rep, c) for c in rep_channels]
    if not channels and not rep_deliveries:
        channels = delivery.channels  # nobody else to tell: the customer
    if kind in CLOSING_NOTICES:
        # Issue 16 item 4: a closing notice asks the one optional question, once.
        context.setdefault("satisfaction_url", satisfaction_link(complaint))
    body = render_to_string(f"notices/{kind}.txt", notice_context(complaint, **context)).strip()
    notice = Notice(
        complaint=complaint,
        kind=kind,
        deadline_at=deadline_at,
        contact_method=complaint.agreed_contact_method,
        communication_format=delivery.format,
        subject=SUBJECTS[kind].format(ref=complaint.reference),
        body=body,
    )
    # Every notice is also a letter: a PDF kept on the case (in large print when the
    # customer asked for it), attached to the email unless they asked for plain text,
    # posted when it goes by post, and downloadable by staff and the customer.
    if history_batch_holds(complaint):
        # A complaint created in this transaction has no notices yet: nothing to guard,
        # so the letter is made first and the notice written once, with it.
        notice.letter = letter_make(notice)
        notice.save(force_insert=True)
    else:
        try:
            with transaction.atomic():
                notice.save(force_insert=True)
        except IntegrityError:
            return None
        notice.letter = letter_make(notice)
        notice.save(update_fields=["letter"])
    messages = [
        OutboxMessage.objects.create(
            notice=notice,
            channel=channel,
            recipient=_recipient(channel, complaint),
            state=DeliveryState.TO_CALL
            if channel == DeliveryChannel.PHONE
            else DeliveryState.PENDING,
        )
        for channel in channels
    ]
    rep_messages = [
        OutboxMessage.objects.create(
            notice=notice,
            channel=channel,
            recipient=_representative_recipient(channel, rep),
            representative=rep,
            state=DeliveryState.TO_CALL
            if channel == DeliveryChannel.PHONE
            else DeliveryState.PENDING,
        )
        for rep, channel in rep_deliveries
    ]
    to_reps = "".join(
        f"; to {describe(rep)} by "
        + ", ".join(DeliveryChannel(c).label.lower() for r, c in rep_deliveries if r.pk == rep.pk)
        for rep in {r.pk: r for r, _c in rep_deliveries}.values()
    )
    CaseEvent.objects.record(
        complaint=complaint,
        kind=CaseEvent.Kind.NOTICE,
        actor=actor,
        reason=f"{notice.get_kind_display()}: queued "
        + (
            "by " + ", ".join(DeliveryChannel(m.channel).label.lower() for m in messages)
            if messages
            else "for the representative only, as the customer asked"
        )
        + to_reps
        + (
            ""
            if delivery.format == CommunicationFormat.STANDARD
            else f" ({CommunicationFormat(delivery.format).label.lower()}, from recorded needs)"
        )
        + ".",
        extra={
            "notice_id": notice.pk,
            "channels": list(channels),
            "format": delivery.format,
            **(
                {"representatives": [[r.pk, c] for r, c in rep_deliveries]}
                if rep_deliveries
                else {}
            ),
        },
    )
    for message in [*messages, *rep_messages]:
        if message.state == DeliveryState.PENDING:
            transaction.on_commit(
                lambda pk=message.pk: outbox_message_queued.send(
                    sender=OutboxMessage, message_id=pk
                ),
                robust=True,
            )
    return notice


def letter_reference(complaint: Complaint) -> str:
    """Return a letter's "Our reference": the complaint's, with its register reference once
    it is a formal complaint (COP-15)."""
    from escalation.models import FormalCase

    if complaint.formal_at is None and history_batch_holds(complaint):
        return complaint.reference  # created in this transaction, never escalated
    register = (
        FormalCase.objects.filter(complaint=complaint)
        .values_list("register_reference", flat=True)
        .first()
    )
    return (
        f"{complaint.reference} (formal complaint {register})" if register else complaint.reference
    )


def _notice_pdf(
    notice, *, large_print: bool, dated: datetime | None = None, representative=None
) -> bytes:
    complaint = notice.complaint
    if representative is not None:
        return letter_pdf(
            recipient=f"{representative.name}\n{representative.postal_address}",
            reference=letter_reference(complaint),
            subject=notice.subject,
            body=representative_preface(representative, complaint) + notice.body,
            large_print=False,
            dated=dated,
        )
    return letter_pdf(
        recipient=f"{complaint.customer.name}\n{complaint.customer.postal_address}",
        reference=letter_reference(complaint),
        subject=notice.subject,
        body=notice.body,
        large_print=large_print,
        dated=dated,
    )


def representative_preface(rep, complaint: Complaint) -> str:
    """Return the first lines of a notice sent to a representative: whom it is about."""
    return (
        f"We are writing to you as {complaint.customer.name}'s representative "
        f"({rep.get_relationship_display().lower()}), about their complaint "
        f"{complaint.reference}.\n\n"
    )


def letter_make(notice, *, now: datetime | None = None, representative=None) -> Attachment:
    """Print a notice as a PDF letter kept on the case, visible to its customer.

    In the large-print layout when the notice went in large print (issue 15 item 2).
    A representative's copy (issue 15 item 4) is addressed to them.
    """
    complaint = notice.complaint
    large_print = representative is None and letter_in_large_print(notice.communication_format)
    pdf = _notice_pdf(notice, large_print=large_print, representative=representative)
    name = f"{complaint.reference}-{notice.kind.replace('_', '-')}"
    if representative is not None:
        name += f"-representative-{representative.pk}"
    letter = Attachment(
        complaint=complaint,
        kind=Attachment.Kind.LETTER_SENT,
        original_name=f"{name}-large-print.pdf" if large_print else f"{name}.pdf",
        content_type="application/pdf",
        size=len(pdf),
        customer_visible=True,
        at=now or timezone.now(),
    )
    letter.file.save(letter.original_name, ContentFile(pdf), save=False)
    letter.save()
    return letter


def letter_large_print_copy(attachment: Attachment) -> tuple[str, bytes] | None:
    """Return (file name, PDF) of a large-print copy of a letter we sent, or None.

    For a customer who asked for large print after the letter went (issue 15 item 2): the
    same text, reference and date, in the large-print layout. Made on request and not
    kept: the letter on the case stays the one that was sent. None for a file that is not
    one of our letters, or a letter already in large print.
    """
    notice = Notice.objects.filter(letter=attachment).select_related("complaint__customer").first()
    if notice is None or letter_in_large_print(notice.communication_format):
        return None
    pdf = _notice_pdf(notice, large_print=True, dated=notice.created_at)
    return attachment.original_name.removesuffix(".pdf") + "-large-print.pdf", pdf


def letters_with_large_print_copy(complaint: Complaint) -> set[int]:
    """Return the ids of the complaint's letters a large-print copy can be made of."""
    return set(
        Notice.objects.filter(complaint=complaint, letter__isnull=False)
        .exclude(communication_format=CommunicationFormat.LARGE_PRINT)
        .values_list("letter_id", flat=True)
    )
