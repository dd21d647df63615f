"""Delivering notices: a failed email is retried with backoff, then shown to staff."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from complaints.models import CaseEvent, DeliveryState, NoticeKind, OutboxMessage
from complaints.services.notices import notice_send
from complaints.services.outbox import outbox_deliver, outbox_due_ids, outbox_mark_done
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)


def _queue(**customer_fields):
    with time_machine.travel(T0, tick=False):
        complaint = complaint_make(customer=CustomerFactory(**customer_fields))
        notice_send(complaint=complaint, kind=NoticeKind.ADR_LETTER, deadline_at=T0)
    return complaint, OutboxMessage.objects.get()


def test_failed_email_is_retried_with_backoff_then_shown_to_staff(settings):
    settings.EMAIL_BACKEND = "tests.complaints.mail_backends.DownBackend"
    settings.REDRESS_OUTBOX_MAX_ATTEMPTS = 3
    complaint, message = _queue()

    assert outbox_deliver(message_id=message.pk, now=T0) == DeliveryState.PENDING
    message.refresh_from_db()
    assert message.attempts == 1 and "SMTPServerDisconnected" in message.last_error
    assert message.next_attempt_at == T0 + timedelta(minutes=1)
    assert outbox_due_ids(now=T0 + timedelta(seconds=59)) == []  # waits out its backoff
    assert outbox_due_ids(now=T0 + timedelta(minutes=1)) == [message.pk]

    outbox_deliver(message_id=message.pk, now=T0 + timedelta(minutes=1))
    message.refresh_from_db()
    assert message.next_attempt_at == T0 + timedelta(minutes=3)  # 2 minutes later
    assert outbox_deliver(message_id=message.pk, now=T0 + timedelta(minutes=3)) == "failed"
    assert complaint.events.filter(kind=CaseEvent.Kind.NOTICE, reason__contains="FAILED").exists()
    assert outbox_due_ids(now=T0 + timedelta(days=1)) == []

    # Staff see it in the outbox queue, fix the mail server and send it again.
    admin_user = StaffUserFactory(role="administrator")
    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    page = client.get(reverse("admin:complaints_outboxmessage_changelist") + "?state__exact=failed")
    assert complaint.reference in page.content.decode()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(
        reverse("admin:complaints_outboxmessage_changelist"),
        {"action": "retry", "_selected_action": [message.pk]},
    )
    assert response.status_code == 302
    assert outbox_deliver(message_id=message.pk) == DeliveryState.SENT
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"].startswith("<notice-")


def test_a_message_claimed_by_a_crashed_worker_is_taken_again_after_its_claim_expires():
    complaint, message = _queue()
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=DeliveryState.SENDING, claimed_until=T0 + timedelta(minutes=5), attempts=1
    )
    assert outbox_deliver(message_id=message.pk, now=T0 + timedelta(minutes=1)) is None
    assert outbox_due_ids(now=T0 + timedelta(minutes=6)) == [message.pk]
    assert outbox_deliver(message_id=message.pk, now=T0 + timedelta(minutes=6)) == "sent"
    assert outbox_deliver(message_id=message.pk, now=T0 + timedelta(minutes=7)) is None
    assert len(mail.outbox) == 1


def test_posted_letters_leave_the_to_post_queue_with_who_posted_them(client):
    complaint, message = _queue(preferred_contact_method="post", postal_address="2 Mill Lane")
    assert outbox_deliver(message_id=message.pk, now=T0) == DeliveryState.TO_POST
    message.refresh_from_db()
    clerk = StaffUserFactory(role="support_agent")
    client.force_login(clerk)
    pdf = client.get(reverse("complaints:staff-attachment-download", args=[message.letter_id]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF-")

    assert outbox_mark_done(message=message, actor=clerk)
    assert not outbox_mark_done(message=message, actor=clerk)
    message.refresh_from_db()
    assert message.state == DeliveryState.SENT and message.sent_by == clerk
    assert complaint.events.filter(reason__contains="letter posted").count() == 1


def test_letters_need_a_staff_login(client):
    complaint, message = _queue(preferred_contact_method="post", postal_address="2 Mill Lane")
    outbox_deliver(message_id=message.pk, now=T0)
    message.refresh_from_db()
    url = reverse("complaints:staff-attachment-download", args=[message.letter_id])
    assert client.get(url).status_code == 302
    client.force_login(complaint.customer.user or StaffUserFactory(role="customer"))
    assert client.get(url).status_code in (302, 403)


def test_hostile_text_in_a_letter_is_printed_not_interpreted():
    """reportlab parses markup: customer text must be escaped before it reaches it."""
    from complaints.letters import letter_pdf

    pdf = letter_pdf(
        recipient="<b>Mallory</b> & Co\x00",
        reference="CMP-2026-000001",
        subject="<font size=90>x</font>",
        body="<para>unclosed & <script>alert(1)</script>",
    )
    assert pdf.startswith(b"%PDF-")


def test_a_sender_whose_claim_expired_writes_nothing():
    """A worker stalled past its claim must not record (or write) a second delivery."""
    from complaints.services.outbox import ClaimLost, _claim, _finish

    complaint, message = _queue(preferred_contact_method="portal")
    assert _claim(message.pk, T0)
    stalled = OutboxMessage.objects.get(pk=message.pk)
    # Its claim runs out; another worker claims the message and delivers it.
    later = T0 + timedelta(minutes=6)
    assert outbox_deliver(message_id=message.pk, now=later) == DeliveryState.SENT
    with pytest.raises(ClaimLost):
        _finish(stalled, DeliveryState.SENT, later)
    delivered = complaint.events.filter(reason__contains="sent", kind=CaseEvent.Kind.NOTICE)
    assert delivered.count() == 1
