"""Delivering queued notices: claimed once, retried with backoff, failures shown to staff."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from complaints.domain.notices import email_attaches_letter
from complaints.letters import letter_text
from complaints.models import (
    CaseEvent,
    Correspondence,
    DeliveryChannel,
    DeliveryState,
    OutboxMessage,
)
from complaints.services.notices import letter_make, letter_reference, representative_preface

logger = logging.getLogger(__name__)

# How long one worker may hold a message before another may try it (a crashed worker's
# claim expires). Well under the Redis visibility timeout; no task uses a countdown.
CLAIM_SECONDS = 300


class ClaimLost(Exception):
    """The worker held a message past its claim and another worker has taken it over."""


def _backoff(attempts: int) -> timedelta:
    """Return the wait before the next attempt: 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _message_id(message: OutboxMessage) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
    return f"<notice-{message.notice_id}-{message.pk}@{domain}>"


def outbox_due_ids(*, now: datetime, limit: int = 500) -> list[int]:
    """Return messages waiting to be sent, and those whose sender's claim has expired."""
    return list(
        OutboxMessage.objects.filter(
            Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            | Q(state=DeliveryState.SENDING, claimed_until__lt=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _claim(message_id: int, now: datetime) -> bool:
    """Take the message for this worker; False if another has it or it is done."""
    return bool(
        OutboxMessage.objects.filter(
            Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
            | Q(state=DeliveryState.SENDING, claimed_until__lt=now),
            pk=message_id,
        ).update(
            state=DeliveryState.SENDING,
            claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
            attempts=F("attempts") + 1,
        )
    )


def outbox_deliver(*, message_id: int, now: datetime | None = None) -> str | None:
    """Deliver one outbox message if it is due; return its new state, or None if not ours.

    Portal messages and letters are written in one transaction with the state change, so
    they happen exactly once. Email is handed to the mail server and then marked sent; a
    crash in between can resend it after the claim expires, with the same Message-ID so
    the copy can be recognised.
    """
    now = now or timezone.now()
    if not _claim(message_id, now):
        return None
    message = OutboxMessage.objects.select_related(
        "notice__complaint__customer", "representative"
    ).get(pk=message_id)
    notice = message.notice
    complaint = notice.complaint
    rep = message.representative  # a representative's copy (issue 15 item 4)
    preface = representative_preface(rep, complaint) if rep is not None else ""
    try:
        if message.channel == DeliveryChannel.EMAIL:
            message.message_id = message.message_id or _message_id(message)
            headers = {"Message-ID": message.message_id}
            # Thread under the customer's first email, so replies come back to the case.
            first_email = (
                Correspondence.objects.filter(complaint=complaint, direction="in")
                .exclude(message_id="")
                .order_by("at", "pk")
                .values_list("message_id", flat=True)
                .first()
            )
            if first_email:
                headers |= {"In-Reply-To": first_email, "References": first_email}
            company = settings.REDRESS_COMPANY
            department_mailbox = (
                company["accounts_email"]
                if complaint.department == "accounts"
                else company["support_email"]
            )
            # A customer who asked for plain text gets the whole letter in the email's
            # body and no attachment (issue 15 item 2); the PDF stays on the case.
            text_only = not email_attaches_letter(notice.communication_format)
            email = EmailMessage(
                subject=notice.subject,
                body=letter_text(
                    reference=letter_reference(complaint),
                    subject=notice.subject,
                    body=preface + notice.body,
                )
                if text_only
                else preface + notice.body,
                to=[message.recipient],
                reply_to=[department_mailbox],
                headers=headers,
            )
            if notice.letter_id and not text_only:
                with notice.letter.file.open("rb") as pdf:
                    email.attach(notice.letter.original_name, pdf.read(), "application/pdf")
            email.send()
            with transaction.atomic():
                _finish(message, DeliveryState.SENT, now)
        elif message.channel == DeliveryChannel.PORTAL:
            with transaction.atomic():
                Correspondence.objects.create(
                    complaint=complaint,
                    direction="out",
                    channel="portal",
                    subject=notice.subject,
                    body=notice.body,
                    customer_visible=True,
                    at=now,
                )
                _finish(message, DeliveryState.SENT, now)
        elif message.channel == DeliveryChannel.POST:
            with transaction.atomic():
                message.letter = (
                    letter_make(notice, now=now, representative=rep)
                    if rep is not None
                    else notice.letter or letter_make(notice, now=now)
                )
                _finish(message, DeliveryState.TO_POST, now)
        else:
            with transaction.atomic():
                _finish(message, DeliveryState.TO_CALL, now)
    except ClaimLost:
        logger.warning(
            "outbox message %s: claim expired mid-delivery; left to its new sender", message_id
        )
        return None
    except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
        _failed(message, exc, now)
        return OutboxMessage.objects.get(pk=message_id).state
    return message.state


def _finish(message: OutboxMessage, state: str, now: datetime) -> None:
    finished = OutboxMessage.objects.filter(
        pk=message.pk, state=DeliveryState.SENDING, claimed_until=message.claimed_until
    ).update(
        state=state,
        claimed_until=None,
        last_error="",
        sent_at=now if state == DeliveryState.SENT else None,
        message_id=message.message_id,
        letter=message.letter,
    )
    if not finished:
        # Our claim expired and another worker took the message: undo what we wrote.
        raise ClaimLost(message.pk)
    message.state = state
    verb = {
        DeliveryState.SENT: "sent",
        DeliveryState.TO_POST: "printed and put in the post queue",
        DeliveryState.TO_CALL: "waiting for staff to call",
    }[state]
    CaseEvent.objects.record(
        complaint=message.notice.complaint,
        kind=CaseEvent.Kind.NOTICE,
        actor=None,
        reason=f"{message.notice.get_kind_display()} by {message.get_channel_display().lower()}"
        + (
            f" to the representative {message.representative.name}"
            if message.representative_id
            else ""
        )
        + f": {verb}.",
        at=now,
        extra={"notice_id": message.notice_id, "outbox_id": message.pk, "delivery_state": state},
    )


def _failed(message: OutboxMessage, exc: Exception, now: datetime) -> None:
    attempts = OutboxMessage.objects.get(pk=message.pk).attempts
    final = attempts >= settings.REDRESS_OUTBOX_MAX_ATTEMPTS
    logger.warning("outbox message %s attempt %s failed: %s", message.pk, attempts, exc)
    with transaction.atomic():
        still_ours = OutboxMessage.objects.filter(
            pk=message.pk, state=DeliveryState.SENDING, claimed_until=message.claimed_until
        )
        if not still_ours.update(
            state=DeliveryState.FAILED if final else DeliveryState.PENDING,
            claimed_until=None,
            next_attempt_at=now + _backoff(attempts),
            last_error=f"{type(exc).__name__}: {exc}"[:2000],
        ):
            return  # another worker has it now
        if final:
            CaseEvent.objects.record(
                complaint=message.notice.complaint,
                kind=CaseEvent.Kind.NOTICE,
                actor=None,
                reason=f"{message.notice.get_kind_display()} by "
                f"{message.get_channel_display().lower()} FAILED after {attempts} attempts: "
                f"{type(exc).__name__}. Staff must act.",
                at=now,
                extra={"notice_id": message.notice_id, "outbox_id": message.pk},
            )


@transaction.atomic
def outbox_retry(*, message: OutboxMessage, actor) -> bool:
    """Put a failed message back in the queue for another round of attempts."""
    return bool(
        OutboxMessage.objects.filter(pk=message.pk, state=DeliveryState.FAILED).update(
            state=DeliveryState.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
    )


@transaction.atomic
def outbox_mark_done(*, message: OutboxMessage, actor) -> bool:
    """Record that staff posted the letter or made the call."""
    done = OutboxMessage.objects.filter(
        pk=message.pk, state__in=[DeliveryState.TO_POST, DeliveryState.TO_CALL]
    ).update(state=DeliveryState.SENT, sent_at=timezone.now(), sent_by=actor)
    if done:
        message.refresh_from_db()
        CaseEvent.objects.record(
            complaint=message.notice.complaint,
            kind=CaseEvent.Kind.NOTICE,
            actor=actor,
            reason=f"{message.notice.get_kind_display()}: "
            + ("letter posted." if message.channel == DeliveryChannel.POST else "customer called."),
            extra={
                "notice_id": message.notice_id,
                "outbox_id": message.pk,
                "delivery_state": DeliveryState.SENT.value,
            },
        )
    return bool(done)
