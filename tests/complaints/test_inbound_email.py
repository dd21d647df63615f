"""Inbound email end to end: every corpus message, threading, quarantine, the command (COP-05)."""

import csv
import mailbox
import socketserver
import threading
from datetime import UTC, datetime, timedelta
from io import BytesIO, StringIO
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django.urls import reverse

import complaints.admin_inbound  # noqa: F401 - registered by complaints.admin once wired
from accounts.models import Customer
from complaints.domain.lifecycle import Status
from complaints.domain.wording import moment_words
from complaints.inbound import imap
from complaints.inbound.parsing import email_parse
from complaints.models import (
    AlarmKind,
    Attachment,
    CaseEvent,
    Channel,
    ClosureReason,
    Complaint,
    Correspondence,
    DeadlineAlarm,
    InboundEmail,
    Notice,
    NoticeKind,
    OutboxMessage,
    ReferenceCounter,
)
from complaints.services import inbound as inbound_service
from complaints.services.enforcement import deadlines_sweep
from complaints.services.inbound import (
    NO_SUBJECT,
    NO_TEXT,
    email_ingest,
    inbound_email_reject,
    inbound_email_release,
)
from complaints.services.outbox import outbox_deliver
from complaints.services.responses import complaint_respond
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
EMAILS = Path(__file__).parent / "emails"
with open(EMAILS / "expected.csv", newline="", encoding="utf-8") as _f:
    CORPUS = list(csv.DictReader(_f))

NOW = datetime(2026, 12, 2, 10, 30, tzinfo=LONDON)  # when the corpus arrives
ALICE_FIRST_EMAIL = "<CAH7mL2x9f0QwE1a+Kp3vZ@mail.gmail.com>"
ALICE_NOTICE = "<notice-7-12@sovisionit.com>"  # the Message-ID of our response to Alice


def raw_of(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


def ingest(raw: bytes, at: datetime = NOW, **kwargs):
    with time_machine.travel(at, tick=False):
        return email_ingest(raw=raw, **kwargs)


def reply(*, to_id: str, sender: str, subject: str = "Re: your email", body: str = "Still broken.",
          message_id: str = "<reply-1@example.com>") -> bytes:  # fmt: skip
    return (
        f"From: {sender}\nTo: support@sovision.com\nSubject: {subject}\n"
        f"Date: Wed, 2 Dec 2026 09:00:00 +0000\nMessage-ID: {message_id}\n"
        f"In-Reply-To: {to_id}\nReferences: {to_id}\n"
        f"Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    ).encode()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world():
    """Alice's open complaint (we responded) and Robert's closed one, as the corpus expects."""
    ReferenceCounter.objects.create(scope="CMP-2026", last_value=417)
    with time_machine.travel(datetime(2026, 11, 23, 9, 0, tzinfo=LONDON), tick=False):
        alice = CustomerFactory(name="Alice Hughes", email="alice.hughes@example.co.uk")
        a = complaint_make(customer=alice, channel=Channel.EMAIL, subject="Broadband drops")
        Correspondence.objects.create(
            complaint=a,
            direction="in",
            channel="email",
            body="It drops every evening.",
            message_id=ALICE_FIRST_EMAIL,
        )
        robert = CustomerFactory(name="Robert Evans", email="r.evans@evansplumbing.co.uk")
        b = complaint_make(customer=robert, channel=Channel.EMAIL, subject="Crackling line")
    with time_machine.travel(datetime(2026, 11, 24, 14, 0, tzinfo=LONDON), tick=False):
        for complaint in (a, b):
            complaint_respond(
                complaint=complaint,
                actor=None,
                findings="A faulty line card at the exchange.",
                fault_found=True,
                remedy_done="We replaced the line card.",
            )
    OutboxMessage.objects.filter(notice__complaint=a, channel="email").update(
        message_id=ALICE_NOTICE
    )
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=LONDON), tick=False):
        complaint_transition(
            complaint=b,
            to=Status.CLOSED,
            actor=None,
            reason="Deemed resolved: no reply (COP-10).",
            closure_reason=ClosureReason.DEEMED_RESOLVED,
        )
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.reference, b.reference) == ("CMP-2026-000418", "CMP-2026-000419")
    return SimpleNamespace(a=a, b=b)


def snapshot() -> dict:
    """Everything about every complaint that an email could change."""
    return {
        c.pk: (
            c.status,
            c.version,
            c.first_made_at,
            c.response_due_at,
            c.resolution_target_at,
            c.progress_update_due_at,
            c.auto_close_at,
            c.last_customer_reply_at,
            c.closed_at,
            c.correspondence.count(),
            c.events.count(),
            c.attachments.exclude(kind="letter_sent").count(),
            c.notices.count(),
            sorted(c.alarms.values_list("kind", "due_at")),
        )
        for c in Complaint.objects.order_by("pk")
    }


# --- Per-file checks beyond the outcome ----------------------------------------------------


def _created(record, complaint, parsed, world):
    if record.message_id.startswith("<sha256:"):
        assert complaint.correspondence.get().message_id == ""
    else:
        assert complaint.correspondence.get().message_id == parsed.message_id


def _check_01(complaint, **_):
    assert complaint.customer.name == "Zoë Brontë"
    assert complaint.customer.email == "zoe.bronte@example.org"
    assert complaint.first_made_at == datetime(2026, 12, 2, 9, 58, 12, tzinfo=UTC)  # COP-07
    assert "£12.50 for a day pass at the café" in complaint.description


def _check_02(complaint, **_):
    assert complaint.customer.name == "François Lefèvre"
    assert "£45.00" in complaint.description and "réparé" in complaint.description
    assert complaint.first_made_at == datetime(2026, 12, 1, 15, 20, 3, tzinfo=UTC)


def _check_05(complaint, **_):
    assert complaint.description.startswith("Dear Sir/Madam,\n\nThe engineer did not turn up")
    assert "<" not in complaint.description.replace("<https:", "").replace("<Design>", "")
    assert "alert(" not in complaint.description


def _check_07(complaint, **_):
    (eml,) = complaint.attachments.exclude(kind="letter_sent")
    assert eml.original_name == "Visit rescheduled.eml" and eml.content_type == "message/rfc822"
    assert b"rescheduled to 11 December" in eml.file.read()


def _check_08(complaint, **_):
    files = {a.original_name: a for a in complaint.attachments.exclude(kind="letter_sent")}
    assert set(files) == {"invoice-NOV-2026.pdf", "router-lights.jpg"}
    assert files["invoice-NOV-2026.pdf"].file.read().startswith(b"%PDF-")
    assert all(
        a.kind == Attachment.Kind.EMAIL_ATTACHMENT and a.customer_visible for a in files.values()
    )


def _check_09(complaint, **_):
    (attachment,) = complaint.attachments.exclude(kind="letter_sent")
    assert attachment.original_name == "passwd"
    assert ".." not in attachment.file.name and "etc" not in attachment.file.name
    assert attachment.file.read().startswith(b"root:x:0:0")


def _check_10(complaint, **_):
    (image,) = complaint.attachments.exclude(kind="letter_sent")
    assert image.original_name == "image001.png" and image.file.read().startswith(b"\x89PNG")


def _check_threaded_a(complaint, world, **_):
    assert complaint.pk == world.a.pk
    assert complaint.status == Status.INVESTIGATING  # COP-10: back to staff
    assert complaint.auto_close_at is None


def _check_13(record, world, **_):
    assert record.complaint == world.a
    assert not Customer.objects.filter(email__iexact="tom.hughes@example.co.uk").exists()


def _check_15(world, **_):
    world.b.refresh_from_db()
    assert world.b.status == Status.CLOSED  # an auto-reply never reopens (COP-10)


def _check_20(complaint, **_):
    assert complaint.first_made_at == NOW  # its Date (2019) is not believable


def _check_23(complaint, **_):
    assert complaint.subject == NO_SUBJECT and complaint.description == NO_TEXT
    assert [a.original_name for a in complaint.attachments.exclude(kind="letter_sent")] == [
        "Scan_0001.pdf"
    ]


def _check_24(complaint, record, **_):
    assert complaint.department == "accounts" and record.mailbox == "accounts@sovisionit.com"


def _check_25(complaint, record, **_):
    assert len(complaint.subject) == 200 and complaint.subject.endswith("…")
    assert complaint.subject.startswith("Complaint about repeated broadband outages")
    assert len(record.subject) > 200


def _check_26(complaint, **_):
    assert complaint.subject == "Router “Pro” keeps rebooting – third complaint"
    assert complaint.customer.name == "李伟 (Li Wei)"


def _check_27(complaint, world, **_):
    assert complaint.pk == world.b.pk
    assert complaint.status == Status.INVESTIGATING and complaint.closed_at is None
    assert complaint.first_made_at == world.b.first_made_at  # reopened, same clocks
    assert complaint.response_due_at == world.b.response_due_at
    assert complaint.events.filter(to_status=Status.INVESTIGATING).get().extra["reopened"]


def _check_28(complaint, **_):
    assert complaint.reference == "CMP-2026-000420"


CHECKS = {
    "01-plain-utf8.eml": _check_01,
    "02-latin1-quoted-printable.eml": _check_02,
    "05-html-only-outlook.eml": _check_05,
    "07-forwarded-message.eml": _check_07,
    "08-pdf-and-image-attachments.eml": _check_08,
    "09-path-traversal-attachment.eml": _check_09,
    "10-inline-image.eml": _check_10,
    "11-reply-in-reply-to-notice.eml": _check_threaded_a,
    "12-reply-subject-reference-only.eml": _check_threaded_a,
    "13-reply-from-different-sender.eml": _check_13,
    "15-microsoft-automatic-reply.eml": _check_15,
    "20-no-message-id.eml": _check_20,
    "23-attachment-only-empty-body.eml": _check_23,
    "24-accounts-mailbox.eml": _check_24,
    "25-very-long-subject.eml": _check_25,
    "26-encoded-word-subject.eml": _check_26,
    "27-reply-after-closed.eml": _check_27,
    "28-unknown-reference.eml": _check_28,
}


def test_the_corpus_has_every_kind_of_message():
    files = sorted(p.name for p in EMAILS.glob("*.eml"))
    assert len(files) >= 24 and files == sorted(row["file"] for row in CORPUS)


@pytest.mark.parametrize("row", CORPUS, ids=[row["file"] for row in CORPUS])
def test_corpus_message(world, row):
    raw = raw_of(row["file"])
    if row["after"]:
        ingest(raw_of(row["after"]))
    before, stored_before = snapshot(), InboundEmail.objects.count()
    old = set(Complaint.objects.values_list("pk", flat=True))

    result = ingest(raw)

    line, expected = str(result), row["expected"]
    if expected.endswith("…"):
        assert line.startswith(expected[:-1])
    else:
        assert line == expected
    if "duplicate" in line:
        assert InboundEmail.objects.count() == stored_before and snapshot() == before
        return
    record = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert record.raw.read() == raw  # kept byte for byte
    assert InboundEmail.objects.count() == stored_before + 1
    new = Complaint.objects.exclude(pk__in=old)
    complaint = None
    if result.state == "created":
        complaint = new.get()
        parsed = email_parse(raw)
        assert complaint.reference == result.reference and record.complaint == complaint
        assert complaint.channel == Channel.EMAIL and complaint.agreed_contact_method == "email"
        assert complaint.status == Status.ACKNOWLEDGED and complaint.acknowledged_at == NOW
        assert complaint.customer.email == parsed.from_address.lower()
        _created(record, complaint, parsed, world)
        notice = Notice.objects.get(complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT)
        assert list(notice.deliveries.values_list("channel", "state", "recipient")) == [
            ("email", "pending", complaint.customer.email)
        ]
        assert complaint.events.filter(reason="Acknowledged by email (COP-05)").exists()
    elif result.state == "threaded":
        assert not new.exists()
        complaint = Complaint.objects.get(reference=result.reference)
        assert record.complaint == complaint and complaint.last_customer_reply_at == NOW
        latest = complaint.correspondence.filter(direction="in").latest("pk")
        assert latest.message_id == email_parse(raw).message_id and latest.at == NOW
        assert latest.subject == email_parse(raw).subject
    else:
        assert not new.exists() and snapshot() == before  # nothing on any complaint changed
        assert record.state in ("ignored", "quarantined", "dead_letter")
    check = CHECKS.get(row["file"])
    if check:
        check(complaint=complaint, record=record, world=world)


# --- The rules one by one -----------------------------------------------------------------


def test_the_same_message_twice_is_processed_once():
    raw = raw_of("03-base64-body.eml")
    first, second = ingest(raw), ingest(raw, at=NOW + timedelta(hours=1))
    assert str(first) == "created CMP-2026-000001"
    assert str(second) == "ignored (duplicate of message already processed)"
    assert second.inbound_email_id == first.inbound_email_id
    assert (Complaint.objects.count(), InboundEmail.objects.count(), Notice.objects.count()) == (
        1,
        1,
        1,
    )


def test_two_copies_racing_are_settled_by_the_unique_constraint(monkeypatch, settings):
    """Both pass the early check; the second insert fails and changes nothing."""
    monkeypatch.setattr(inbound_service, "_already_stored", lambda key: False)
    raw = raw_of("20-no-message-id.eml")  # keyed by the hash of its bytes
    assert str(ingest(raw)) == "created CMP-2026-000001"
    assert str(ingest(raw)) == "ignored (duplicate of message already processed)"
    assert Complaint.objects.count() == 1 and InboundEmail.objects.count() == 1
    stored = list((Path(settings.MEDIA_ROOT) / "inbound").rglob("*.eml"))
    assert len(stored) == 1  # the loser's copy of the raw file was removed


def test_a_reply_from_someone_else_never_touches_the_case_until_staff_release_it(world):
    a = world.a
    before = snapshot()
    result = ingest(raw_of("13-reply-from-different-sender.eml"))
    assert result.state == "quarantined" and result.reference == "CMP-2026-000418"  # linked
    assert snapshot() == before  # deadlines, status, version, correspondence, alarms
    record = InboundEmail.objects.get(pk=result.inbound_email_id)

    agent = StaffUserFactory(role="support_agent")
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        inbound_email_release(inbound=record, actor=agent)
    record.refresh_from_db()
    assert record.state == "released" and record.reviewed_by == agent
    a.refresh_from_db()
    assert a.status == Status.INVESTIGATING
    assert a.last_customer_reply_at == NOW + timedelta(hours=2)
    reply_row = a.correspondence.filter(direction="in").latest("pk")
    assert "Alice's husband" in reply_row.body and reply_row.recorded_by == agent
    assert a.events.filter(reason__contains="released from quarantine", actor=agent).exists()
    with pytest.raises(Exception, match="Only a quarantined email"):
        inbound_email_release(inbound=record, actor=agent)


def test_staff_can_reject_held_and_unreadable_mail(world):
    held = InboundEmail.objects.get(
        pk=ingest(raw_of("13-reply-from-different-sender.eml")).inbound_email_id
    )
    dead = InboundEmail.objects.get(pk=ingest(raw_of("21-unknown-charset.eml")).inbound_email_id)
    before = snapshot()
    agent = StaffUserFactory(role="support_agent")
    for record in (held, dead):
        inbound_email_reject(inbound=record, actor=agent)
        record.refresh_from_db()
        assert record.state == "rejected" and record.reviewed_at is not None
    assert snapshot() == before


def test_the_acknowledgement_states_reference_immediate_action_and_due_date(settings):
    """COP-05: acknowledged by email, after commit, through the outbox."""
    result = ingest(raw_of("01-plain-utf8.eml"))
    complaint = Complaint.objects.get(reference=result.reference)
    message = OutboxMessage.objects.get(notice__complaint=complaint, channel="email")
    assert message.notice.kind == NoticeKind.ACKNOWLEDGEMENT and not mail.outbox

    assert outbox_deliver(message_id=message.pk, now=NOW) == "sent"
    (sent,) = mail.outbox
    body = sent.body
    assert complaint.reference in sent.subject and complaint.reference in body
    assert settings.REDRESS_IMMEDIATE_ACTION["technical_support"] in body
    due = moment_words(complaint.response_due_at, LONDON)
    assert due.startswith("Friday 4 December 2026") and due in body
    assert sent.to == ["zoe.bronte@example.org"]
    # Threads under the customer's email; replies go to the department's mailbox.
    assert sent.extra_headers["In-Reply-To"] == "<CAJx3n=7Qe1yV5pWfH2kLr0@mail.example.org>"
    assert sent.extra_headers["References"] == "<CAJx3n=7Qe1yV5pWfH2kLr0@mail.example.org>"
    assert sent.reply_to == ["support@sovision.com"]


def test_the_accounts_mailbox_acknowledges_with_the_accounts_action(settings):
    complaint = Complaint.objects.get(reference=ingest(raw_of("24-accounts-mailbox.eml")).reference)
    outbox_deliver(message_id=OutboxMessage.objects.get(notice__complaint=complaint).pk, now=NOW)
    (sent,) = mail.outbox
    assert settings.REDRESS_IMMEDIATE_ACTION["accounts"] in sent.body
    assert sent.reply_to == ["accounts@sovisionit.com"]


def test_the_mailbox_given_decides_the_department():
    result = ingest(raw_of("03-base64-body.eml"), mailbox="Accounts@SoVisionIT.com")
    assert Complaint.objects.get(reference=result.reference).department == "accounts"


def test_a_reply_to_an_acknowledgement_threads_by_its_message_id():
    first = ingest(raw_of("03-base64-body.eml"))
    message = OutboxMessage.objects.get(notice__complaint__reference=first.reference)
    outbox_deliver(message_id=message.pk, now=NOW)
    message.refresh_from_db()
    assert message.message_id.startswith("<notice-")

    answer = reply(to_id=message.message_id, sender="Priya Shah <PRIYA.SHAH@example.com>")
    result = ingest(answer, at=NOW + timedelta(hours=1))
    assert str(result) == f"threaded {first.reference}"  # no reference in the subject
    assert Complaint.objects.count() == 1


def test_a_reply_a_minute_before_auto_close_stops_it(world):
    """COP-10: any customer reply before the deadline stops the clock and goes back to staff."""
    a = world.a
    assert a.status == Status.RESPONDED and a.auto_close_at is not None
    minute_before = a.auto_close_at - timedelta(minutes=1)
    result = ingest(raw_of("11-reply-in-reply-to-notice.eml"), at=minute_before)
    assert str(result) == "threaded CMP-2026-000418"

    with time_machine.travel(a.auto_close_at, tick=False):
        lines = [str(x) for x in deadlines_sweep()]
    assert not any("CMP-2026-000418 auto-closed" in line for line in lines)
    a.refresh_from_db()
    assert a.status == Status.INVESTIGATING and a.auto_close_at is None
    assert not DeadlineAlarm.objects.filter(complaint=a, kind=AlarmKind.AUTO_CLOSE).exists()


def test_a_reply_after_auto_close_reopens_with_the_original_first_made_at():
    created = ingest(raw_of("01-plain-utf8.eml"))
    complaint = Complaint.objects.get(reference=created.reference)
    first_made = complaint.first_made_at
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        complaint_respond(complaint=complaint, actor=None, findings="Fixed.", fault_found=False)
    complaint.refresh_from_db()
    with time_machine.travel(complaint.auto_close_at, tick=False):
        deadlines_sweep()
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED
    ack = OutboxMessage.objects.filter(notice__complaint=complaint).first()
    outbox_deliver(message_id=ack.pk, now=NOW)
    ack.refresh_from_db()

    later = complaint.closed_at + timedelta(days=3)
    result = ingest(reply(to_id=ack.message_id, sender="zoe.bronte@example.org"), at=later)
    assert str(result) == f"threaded {complaint.reference}"
    complaint.refresh_from_db()
    assert complaint.status == Status.INVESTIGATING and complaint.first_made_at == first_made
    assert complaint.events.latest("pk").extra.get("reopened") is True


def test_attachments_over_the_limit_are_noted_not_kept(settings):
    settings.REDRESS_MAX_ATTACHMENT_BYTES = 1000  # the PDF is larger, the JPEG smaller
    complaint = Complaint.objects.get(
        reference=ingest(raw_of("08-pdf-and-image-attachments.eml")).reference
    )
    assert [a.original_name for a in complaint.attachments.exclude(kind="letter_sent")] == [
        "router-lights.jpg"
    ]
    note = complaint.events.get(reason__startswith="Email attachment invoice-NOV-2026.pdf")
    assert "larger than the 1000-byte limit" in note.reason


@pytest.mark.parametrize("name", ["21-unknown-charset.eml", "22-broken-mime-missing-boundary.eml"])
def test_a_dead_letter_keeps_the_raw_bytes_identical(name):
    raw = raw_of(name)
    result = ingest(raw)
    record = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert record.state == "dead_letter" and record.complaint is None
    assert record.raw.read() == raw
    assert str(result).startswith("quarantined (unreadable message kept raw: ")
    assert not Complaint.objects.exists()
    assert str(ingest(raw)) == "ignored (duplicate of message already processed)"


def test_a_message_too_large_is_a_dead_letter(settings):
    settings.REDRESS_MAX_EMAIL_BYTES = 500
    raw = raw_of("01-plain-utf8.eml")
    result = ingest(raw)
    assert str(result) == f"quarantined (message too large, kept raw: {len(raw)} bytes, limit 500)"
    assert InboundEmail.objects.get().state == "dead_letter" and not Complaint.objects.exists()


def test_a_message_without_a_usable_sender_is_held():
    raw = b"From: undisclosed-recipients:;\nSubject: help\nMessage-ID: <x@y>\n\nHelp me.\n"
    assert str(ingest(raw)) == "quarantined (no usable sender address)"
    assert not Complaint.objects.exists()


def test_a_message_our_rules_refuse_is_a_dead_letter_and_leaves_nothing_half_done():
    raw = b"From: Ann <ann@intranet>\nSubject: help\nMessage-ID: <v@intranet>\n\nHelp me.\n"
    result = ingest(raw)
    assert str(result).startswith("quarantined (could not be filed, kept raw: ")
    assert InboundEmail.objects.get().state == "dead_letter"
    assert not Customer.objects.exists() and not Complaint.objects.exists()


def test_an_existing_customer_is_found_by_email_whatever_its_case():
    older = CustomerFactory(email="priya.shah@example.com")
    newer = CustomerFactory(email="Priya.Shah@Example.com")
    result = ingest(raw_of("03-base64-body.eml"))
    assert Complaint.objects.get(reference=result.reference).customer == newer
    assert Customer.objects.count() == 2 and older.pk < newer.pk


# --- The command --------------------------------------------------------------------------


def run(*args, **options) -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("ingest_email", *args, stdout=out, **options)
    return out.getvalue()


def test_the_command_reads_one_message_from_standard_input():
    out = run(stdin=BytesIO(raw_of("01-plain-utf8.eml")))
    assert out == "created CMP-2026-000001\n"
    out = run(
        "--mailbox", "accounts@sovisionit.com", stdin=BytesIO(raw_of("24-accounts-mailbox.eml"))
    )
    assert out == "created CMP-2026-000002\n"
    assert run(stdin=BytesIO(raw_of("21-unknown-charset.eml"))).startswith("quarantined (")


@pytest.mark.parametrize(
    "args, options, words",
    [
        (["--maildir", "/nonexistent/Maildir"], {}, "is not a Maildir"),
        (["--mailbox", "sales@example.com"], {"stdin": BytesIO(b"x")}, "not a complaints mailbox"),
        ([], {"stdin": BytesIO(b"")}, "No message on standard input"),
    ],
)
def test_the_command_refuses_bad_input_with_status_2(args, options, words):
    with pytest.raises(CommandError, match=words) as error:
        run(*args, **options)
    assert error.value.returncode == 2


def test_the_command_files_a_maildir_and_a_rerun_is_safe(tmp_path):
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    names = [
        "01-plain-utf8.eml",
        "16-bounce-mailer-daemon.eml",
        "21-unknown-charset.eml",
        "24-accounts-mailbox.eml",
    ]
    for name in names:
        folder.add(raw_of(name))
    assert len(list((tmp_path / "Maildir" / "new").iterdir())) == 4

    lines = run("--maildir", str(tmp_path / "Maildir")).splitlines()
    assert lines[0] == "created CMP-2026-000001"
    assert lines[1] == "ignored (bounce: delivery failure report)"
    assert lines[2].startswith("quarantined (unreadable message kept raw: unknown character set")
    assert lines[3] == "created CMP-2026-000002"
    assert not list((tmp_path / "Maildir" / "new").iterdir())
    seen = sorted(p.name for p in (tmp_path / "Maildir" / "cur").iterdir())
    assert len(seen) == 4 and all(name.endswith(":2,S") for name in seen)

    again = run("--maildir", str(tmp_path / "Maildir")).splitlines()
    assert again == ["ignored (duplicate of message already processed)"] * 4
    assert Complaint.objects.count() == 2 and InboundEmail.objects.count() == 4


# --- Forged senders (issue 13 item 5) ------------------------------------------------------

OUR_MX = "mx1.sovision.com"
FORGED_DMARC = (
    f"{OUR_MX};\n\tdkim=none;\n\tspf=pass ({OUR_MX}: domain of bounce@mail.bulk-sender.test"
    " designates 198.51.100.7 as permitted sender) smtp.mailfrom=bounce@mail.bulk-sender.test;"
    '\n\tdmarc=fail reason="SPF not aligned (relaxed), No valid DKIM" header.from=example.co.uk'
    " (p=none dis=none)"
)
ALICE_PASSES = (
    f"{OUR_MX};\n\tdkim=pass header.d=example.co.uk header.s=20230601 header.b=Ab3/cD+e;"
    "\n\tspf=pass smtp.mailfrom=alice.hughes@example.co.uk;"
    "\n\tdmarc=pass (p=reject dis=none) header.from=example.co.uk"
)
SOFTFAIL = "spf=softfail smtp.mailfrom=alice.hughes@example.co.uk; dkim=none"
DKIM_PASS = "dkim=pass header.d=example.co.uk"
FORGED_REASON = (
    f"DMARC check failed at {OUR_MX}: the message may not be from alice.hughes@example.co.uk"
)


def as_alice(
    *,
    on_top: tuple[str, ...] = (),
    came_with: tuple[str, ...] = (),
    message_id: str = "<forged-1@mail.bulk-sender.test>",
    thread: bool = True,
) -> bytes:
    """A message From Alice's exact address: our server's headers on top, the sender's below."""
    answers = (
        f"In-Reply-To: {ALICE_NOTICE}\nReferences: {ALICE_FIRST_EMAIL} {ALICE_NOTICE}\n"
        if thread
        else ""
    )
    return (
        "Return-Path: <bounce@mail.bulk-sender.test>\nDelivered-To: support@sovision.com\n"
        + "".join(f"Authentication-Results: {value}\n" for value in on_top)
        + "Received: from mail.bulk-sender.test (mail.bulk-sender.test [198.51.100.7])\n"
        f"\tby {OUR_MX} (Postfix) with ESMTPS id 7C2D4E6F80\n"
        "\tfor <support@sovision.com>; Wed,  2 Dec 2026 10:20:11 +0000 (GMT)\n"
        + "".join(f"Authentication-Results: {value}\n" for value in came_with)
        + "From: Alice Hughes <alice.hughes@example.co.uk>\nTo: support@sovision.com\n"
        f"Subject: Re: Our response to your complaint\n{answers}"
        f"Date: Wed, 2 Dec 2026 10:20:05 +0000\nMessage-ID: {message_id}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        "It's all fixed now, please close my complaint. Send the refund to 12-34-56 87654321.\n"
    ).encode()


@pytest.fixture
def our_mx(settings):
    settings.REDRESS_MAIL_AUTHSERV_ID = OUR_MX


def test_a_forged_reply_failing_dmarc_is_held_with_the_reason_and_never_touches_the_case(
    world, our_mx
):
    before, complaints = snapshot(), Complaint.objects.count()
    result = ingest(as_alice(on_top=(FORGED_DMARC,)))
    assert str(result) == f"quarantined ({FORGED_REASON})"
    assert result.reference == "CMP-2026-000418"  # linked for staff, not threaded
    assert snapshot() == before and Complaint.objects.count() == complaints
    record = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert record.state == "quarantined" and record.reason == FORGED_REASON
    assert not world.a.correspondence.filter(body__contains="refund").exists()

    agent = StaffUserFactory(role="support_agent")  # staff checked with Alice: it was her
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        inbound_email_release(inbound=record, actor=agent)
    record.refresh_from_db()
    assert record.state == "released"
    assert world.a.correspondence.filter(body__contains="refund", recorded_by=agent).exists()
    assert world.a.events.filter(reason__contains=f"it was held: {FORGED_REASON}").exists()


def test_a_reply_passing_dmarc_is_threaded_as_before(world, our_mx):
    result = ingest(as_alice(on_top=(ALICE_PASSES,)))
    assert str(result) == "threaded CMP-2026-000418"
    assert world.a.correspondence.filter(body__contains="refund").exists()


@pytest.mark.parametrize(
    "on_top, came_with, outcome",
    [
        # A header only our server writes is believed; anyone else's says nothing.
        ((), ("mx.bulk-sender.test; dmarc=pass header.from=example.co.uk",), "threaded"),
        ((), (FORGED_DMARC.replace(OUR_MX, "mx.google.com"),), "threaded"),
        (("mx.relay.test; dmarc=pass header.from=example.co.uk", FORGED_DMARC), (), "held"),
        # Our authserv-id lower down came with the message: only the topmost one counts.
        ((FORGED_DMARC,), (ALICE_PASSES,), "held"),
        ((ALICE_PASSES,), (FORGED_DMARC,), "threaded"),
        # No DMARC verdict: SPF and DKIM decide.
        ((f"{OUR_MX}; dmarc=none header.from=example.co.uk; {SOFTFAIL}",), (), "held"),
        ((f"{OUR_MX}; spf=none smtp.mailfrom=example.co.uk; {DKIM_PASS}",), (), "threaded"),
        ((f"{OUR_MX}; none",), (), "threaded"),
    ],
    ids=["other-id-pass", "other-id-fail", "relay-pass-above-ours-fail", "lower-forged-pass",
         "lower-forged-fail", "spf-softfail-no-dkim", "dkim-pass-no-dmarc", "nothing-checked"],
)  # fmt: skip
def test_only_the_topmost_header_of_our_server_decides(world, our_mx, on_top, came_with, outcome):
    before = snapshot()
    result = ingest(as_alice(on_top=on_top, came_with=came_with))
    if outcome == "threaded":
        assert str(result) == "threaded CMP-2026-000418"
    else:
        assert result.state == "quarantined" and snapshot() == before
        assert result.reason.endswith("the message may not be from alice.hughes@example.co.uk")


def test_without_a_trusted_header_mail_is_filed_as_before(world, settings):
    settings.REDRESS_MAIL_AUTHSERV_ID = ""  # not configured: no header is trusted
    assert str(ingest(as_alice(on_top=(FORGED_DMARC,)))) == "threaded CMP-2026-000418"
    settings.REDRESS_MAIL_AUTHSERV_ID = OUR_MX  # configured, but our server wrote nothing
    result = ingest(as_alice(message_id="<forged-2@mail.bulk-sender.test>"))
    assert str(result) == "threaded CMP-2026-000418"


def test_a_forged_new_complaint_is_held_and_creates_nothing(our_mx):
    result = ingest(as_alice(on_top=(FORGED_DMARC,), thread=False))
    assert str(result) == f"quarantined ({FORGED_REASON})" and result.reference == ""
    assert not Complaint.objects.exists() and not Customer.objects.exists()
    assert not OutboxMessage.objects.exists() and not mail.outbox


def test_a_trusted_header_that_cannot_be_read_holds_the_message(world, our_mx):
    result = ingest(as_alice(on_top=(f"{OUR_MX}; dmarc",)))
    assert result.state == "quarantined"
    assert result.reason.startswith(f"the Authentication-Results header from {OUR_MX} could")


def test_the_command_holds_a_forged_reply_from_standard_input(world, our_mx):
    before = snapshot()
    assert run(stdin=BytesIO(as_alice(on_top=(FORGED_DMARC,)))) == (
        f"quarantined ({FORGED_REASON})\n"
    )
    assert snapshot() == before


# --- IMAP ---------------------------------------------------------------------------------


class _FakeIMAP(socketserver.StreamRequestHandler):
    """Just enough IMAP4rev1 for imaplib: LOGIN, SELECT, UID SEARCH/FETCH/STORE, LOGOUT."""

    def send(self, text: str | bytes):
        self.wfile.write(text if isinstance(text, bytes) else text.encode())

    def handle(self):
        store = self.server.store  # uid -> [raw bytes, set of flags]
        self.send("* OK IMAP4rev1 ready\r\n")
        while line := self.rfile.readline():
            tag, command, *args = line.decode().strip().split(" ")
            command = command.upper()
            if command == "UID":
                command, args = f"UID {args[0].upper()}", args[1:]
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1\r\n")
            elif command == "SELECT":
                self.send(f"* {len(store)} EXISTS\r\n* FLAGS (\\Seen)\r\n")
                self.send(f"{tag} OK [READ-WRITE] SELECT done\r\n")
                continue
            elif command == "UID SEARCH":
                unseen = " ".join(str(u) for u, (_r, f) in store.items() if "\\Seen" not in f)
                self.send(f"* SEARCH {unseen}\r\n".replace(" \r\n", "\r\n"))
            elif command == "UID FETCH":
                uid = int(args[0])
                raw = store[uid][0]
                self.send(f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}\r\n")
                self.send(raw + b")\r\n")
            elif command == "UID STORE":
                uid = int(args[0])
                store[uid][1].add("\\Seen")
                self.send(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))\r\n")
            elif command == "LOGOUT":
                self.send("* BYE\r\n")
                self.send(f"{tag} OK LOGOUT done\r\n")
                return
            self.send(f"{tag} OK {command} done\r\n")


@pytest.fixture
def imap_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeIMAP)
    server.daemon_threads = True
    server.store = {}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_imap_poll_files_unseen_mail_and_marks_it_seen_only_once_filed(
    imap_server, monkeypatch, settings
):
    store = imap_server.store
    store[1] = [raw_of("01-plain-utf8.eml").replace(b"\n", b"\r\n"), set()]
    store[2] = [raw_of("03-base64-body.eml").replace(b"\n", b"\r\n"), {"\\Seen"}]  # read
    store[3] = [raw_of("17-mailing-list.eml").replace(b"\n", b"\r\n"), set()]
    store[4] = [raw_of("24-accounts-mailbox.eml").replace(b"\n", b"\r\n"), set()]
    real_ingest = imap.email_ingest

    def database_down_for_the_bakery(*, raw, **kwargs):
        if b"morrisbakery" in raw:
            raise OperationalError("database is locked")
        return real_ingest(raw=raw, **kwargs)

    monkeypatch.setattr(imap, "email_ingest", database_down_for_the_bakery)
    settings.REDRESS_IMAP_HOST = "127.0.0.1"
    settings.REDRESS_IMAP_PORT = imap_server.server_address[1]
    settings.REDRESS_IMAP_SSL = False
    with time_machine.travel(NOW, tick=False):
        results = imap.imap_poll_from_settings()
    assert [str(r) for r in results] == [
        "created CMP-2026-000001",
        "ignored (mailing list message)",
    ]
    assert [("\\Seen" in f) for _r, f in store.values()] == [True, True, True, False]

    monkeypatch.setattr(imap, "email_ingest", real_ingest)  # the database is back
    with time_machine.travel(NOW, tick=False):
        assert [str(r) for r in imap.imap_poll_from_settings()] == ["created CMP-2026-000002"]
    assert all("\\Seen" in f for _r, f in store.values())


def test_imap_poll_from_settings_does_nothing_without_a_host(settings):
    settings.REDRESS_IMAP_HOST = ""
    assert imap.imap_poll_from_settings() == []


def test_imap_fetched_message_finds_the_body_in_a_fetch_response():
    data = [(b"1 (UID 1 BODY[] {5}", b"hello"), b")"]
    assert imap.fetched_message(data) == b"hello"
    assert imap.fetched_message([b"1 (FLAGS ())"]) is None


# --- Admin --------------------------------------------------------------------------------


def test_admin_lists_quarantined_mail_and_releases_it_onto_the_complaint(world, client):
    result = ingest(raw_of("13-reply-from-different-sender.eml"))
    admin_user = StaffUserFactory(role="administrator")
    client.force_login(admin_user)
    changelist = reverse("admin:complaints_inboundemail_changelist")
    page = client.get(changelist + "?state__exact=quarantined")
    assert page.status_code == 200 and "tom.hughes@example.co.uk" in page.content.decode()

    raw = client.get(reverse("admin:complaints_inboundemail_raw", args=[result.inbound_email_id]))
    assert b"".join(raw.streaming_content) == raw_of("13-reply-from-different-sender.eml")

    response = client.post(
        changelist, {"action": "release", "_selected_action": [result.inbound_email_id]}
    )
    assert response.status_code == 302
    record = InboundEmail.objects.get(pk=result.inbound_email_id)
    assert record.state == "released" and record.reviewed_by == admin_user
    world.a.refresh_from_db()
    assert world.a.status == Status.INVESTIGATING


def test_admin_shows_staff_why_a_forged_reply_is_held(world, our_mx, client):
    result = ingest(as_alice(on_top=(FORGED_DMARC,)))
    client.force_login(StaffUserFactory(role="administrator"))
    changelist = reverse("admin:complaints_inboundemail_changelist")
    page = client.get(changelist + "?state__exact=quarantined").content.decode()
    assert FORGED_REASON in page
    change = reverse("admin:complaints_inboundemail_change", args=[result.inbound_email_id])
    assert FORGED_REASON in client.get(change).content.decode()


def test_admin_inbound_email_is_read_only(client):
    ingest(raw_of("16-bounce-mailer-daemon.eml"))
    client.force_login(StaffUserFactory(role="administrator"))
    record = InboundEmail.objects.get()
    assert client.get(reverse("admin:complaints_inboundemail_add")).status_code == 403
    page = client.get(reverse("admin:complaints_inboundemail_change", args=[record.pk]))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert CaseEvent.objects.count() == 0
