"""`manage.py enforce_deadlines` says what really happened (issue 13 item 7).

A sweep queues notices; the same run then delivers them, and each line says which:
queued, sent, printed for the post, or failed and why. A dry run says "would" and
changes nothing. The clock ticks (time-machine, tick=True), as it does in real life,
so what a sweep queues is queued after the run began.
"""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from complaints.models import (
    CaseEvent,
    DeadlineAlarm,
    DeliveryChannel,
    DeliveryState,
    Notice,
    NoticeKind,
    OutboxMessage,
)
from tests.accounts.factories import CustomerFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
ADR_POINT = MONDAY + timedelta(weeks=8)  # Mon 18 Jan 2027 10:00


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Letters (PDFs) go to a folder of this test's own, so that it can be looked at."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def logged(**customer_fields):
    with time_machine.travel(MONDAY, tick=False):
        return complaint_make(customer=CustomerFactory(**customer_fields))


def run(*args, at=ADR_POINT) -> list[str]:
    with time_machine.travel(at, tick=True):
        out = StringIO()
        call_command("enforce_deadlines", *args, stdout=out)
    return out.getvalue().splitlines()


def adr_deliveries(complaint):
    return OutboxMessage.objects.filter(
        notice__complaint=complaint, notice__kind=NoticeKind.ADR_LETTER
    )


def test_a_letter_the_sweep_queues_is_sent_in_the_same_run_and_the_lines_say_so():
    complaint = logged()
    ref = complaint.reference

    lines = run()

    assert lines == [
        f"{ref} response overdue: alerted technical support and managers",
        f"{ref} progress update due: reminded technical support",
        f"{ref} resolution target missed",
        f"{ref} ADR letter queued by email",
        f"{ref} Your right to ADR (COP-16) by email: sent",
    ]
    (message,) = adr_deliveries(complaint)
    assert message.state == DeliveryState.SENT and message.sent_at is not None
    (email,) = mail.outbox
    assert email.subject == f"Your complaint {ref}: your right to an independent review (ADR)"
    assert email.to == [complaint.customer.email]

    # A second run finds nothing to do and sends nothing again.
    assert run(at=ADR_POINT + timedelta(minutes=1)) == []
    assert len(mail.outbox) == 1


def test_a_failed_email_says_failed_why_and_when_it_is_tried_again(settings):
    settings.EMAIL_BACKEND = "tests.complaints.mail_backends.DownBackend"
    complaint = logged()
    ref = complaint.reference

    lines = run()

    assert f"{ref} ADR letter queued by email" in lines
    (line,) = [line for line in lines if line.startswith(f"{ref} Your right to ADR")]
    (message,) = adr_deliveries(complaint)
    assert message.state == DeliveryState.PENDING and message.attempts == 1
    assert message.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert line == (
        f"{ref} Your right to ADR (COP-16) by email: failed (SMTPServerDisconnected: "
        "Connection unexpectedly closed); will try again Mon 18 Jan 2027 10:01"
    )
    assert not any(line.endswith(": sent") for line in lines)
    assert mail.outbox == []


def test_the_last_failed_attempt_says_it_is_left_for_staff(settings):
    settings.EMAIL_BACKEND = "tests.complaints.mail_backends.DownBackend"
    settings.REDRESS_OUTBOX_MAX_ATTEMPTS = 1
    complaint = logged()

    lines = run()

    (message,) = adr_deliveries(complaint)
    assert message.state == DeliveryState.FAILED
    assert (
        f"{complaint.reference} Your right to ADR (COP-16) by email: failed "
        "(SMTPServerDisconnected: Connection unexpectedly closed) after 1 attempt; "
        "left for staff in the outbox"
    ) in lines


def test_a_letter_by_post_says_it_is_printed_and_waiting_to_be_posted():
    complaint = logged(preferred_contact_method="post", postal_address="1 High St\nBath")
    ref = complaint.reference

    lines = run()

    assert f"{ref} ADR letter queued by post" in lines
    assert f"{ref} Your right to ADR (COP-16) by letter by post: printed, waiting to be posted" in (
        lines
    )
    (message,) = adr_deliveries(complaint)
    assert message.state == DeliveryState.TO_POST and message.letter_id is not None
    assert mail.outbox == []


def test_a_phone_customer_is_queued_for_a_call_and_sent_the_written_copy():
    complaint = logged(preferred_contact_method="phone")
    ref = complaint.reference

    lines = run()

    assert f"{ref} ADR letter queued by a call from staff and email" in lines
    assert f"{ref} Your right to ADR (COP-16) by email: sent" in lines
    states = dict(adr_deliveries(complaint).values_list("channel", "state"))
    assert states == {
        DeliveryChannel.PHONE: DeliveryState.TO_CALL,
        DeliveryChannel.EMAIL: DeliveryState.SENT,
    }


def test_no_deliver_queues_and_says_queued_only():
    complaint = logged()
    ref = complaint.reference

    lines = run("--no-deliver")

    assert f"{ref} ADR letter queued by email" in lines
    assert not any(": sent" in line for line in lines)
    assert adr_deliveries(complaint).get().state == DeliveryState.PENDING
    assert mail.outbox == []


def _state(media):
    return (
        sorted(Notice.objects.values_list("kind", "deadline_at")),
        sorted(OutboxMessage.objects.values_list("pk", "state", "attempts")),
        CaseEvent.objects.count(),
        sorted(DeadlineAlarm.objects.values_list("kind", "due_at")),
        sorted(p.name for p in media.rglob("*") if p.is_file()),
    )


def test_a_dry_run_says_would_for_every_line_and_changes_nothing(media):
    complaint = logged()
    ref = complaint.reference
    before = _state(media)

    lines = run("--dry-run")

    assert lines == [
        f"{ref} response overdue: would alert technical support and managers",
        f"{ref} progress update due: would remind technical support",
        f"{ref} resolution target missed: would record it",
        f"{ref} would queue the ADR letter by email",
        f"{ref} Your right to ADR (COP-16) by email: would send",
    ]
    assert _state(media) == before  # no rows, no history, no PDF letter left behind
    assert mail.outbox == []

    # The real run then does what the dry run said it would.
    assert run() == [
        f"{ref} response overdue: alerted technical support and managers",
        f"{ref} progress update due: reminded technical support",
        f"{ref} resolution target missed",
        f"{ref} ADR letter queued by email",
        f"{ref} Your right to ADR (COP-16) by email: sent",
    ]
