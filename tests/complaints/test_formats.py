"""Letters and updates in the format a customer's recorded needs ask for (issue 15 item 2).

Through every channel a complaint arrives on (portal, email, phone, letter) and every
notice the jobs send, with each format: the large-print PDF is read back, plain text
goes in the email body with no attachment, "by phone with a written copy" puts a call
in the staff queue and sends the copy, and each notice still goes exactly once.
"""

from datetime import datetime, timedelta
from io import BytesIO, StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.models import CommunicationFormat, NeedKind
from accounts.needs import needs_record, needs_withdraw
from complaints.letters import LARGE_PRINT_POINTS
from complaints.models import (
    CaseEvent,
    Complaint,
    DeliveryState,
    Notice,
    NoticeKind,
    OutboxMessage,
)
from complaints.services.enforcement import deadlines_sweep
from complaints.services.outbox import outbox_deliver, outbox_due_ids
from complaints.services.responses import complaint_progress_update, complaint_respond
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_form_data, complaint_make
from tests.complaints.test_letter_layouts import text_runs

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
EMAIL_DAY = datetime(2026, 12, 2, 10, 30, tzinfo=LONDON)  # when the corpus email arrives
EMAILS = Path(__file__).parent / "emails"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ADDRESS = "12 Station Road\nKeynsham\nBS31 1AA"

STANDARD = CommunicationFormat.STANDARD
LARGE_PRINT = CommunicationFormat.LARGE_PRINT
EMAIL_TEXT = CommunicationFormat.EMAIL_TEXT
PHONE_WITH_COPY = CommunicationFormat.PHONE_WITH_COPY
FORMATS = [STANDARD, LARGE_PRINT, EMAIL_TEXT, PHONE_WITH_COPY]
NEED_FOR = {
    STANDARD: NeedKind.BEREAVEMENT,
    LARGE_PRINT: NeedKind.SIGHT,
    EMAIL_TEXT: NeedKind.SIGHT,  # a screen reader reads the email, not a PDF
    PHONE_WITH_COPY: NeedKind.LITERACY,
}


def customer_with(fmt: str, *, kinds=(), call_times: str = "", **fields):
    """A confirmed portal customer, agreed contact by email, whose needs ask for `fmt`."""
    fields.setdefault("postal_address", ADDRESS)
    customer = CustomerFactory(confirmed=True, **fields)
    needs_record(
        customer=customer,
        actor=StaffUserFactory(),
        consent_how="phone",
        kinds=[NEED_FOR[fmt], *kinds],
        communication_format=fmt,
        call_times=call_times,
    )
    return customer


def deliver(at: datetime) -> None:
    """Deliver everything due in the outbox as the clock reads `at` (twice: once only)."""
    with time_machine.travel(at, tick=False):
        for _ in range(2):
            for pk in outbox_due_ids(now=at):
                outbox_deliver(message_id=pk)


def sweep(at: datetime) -> list[str]:
    with time_machine.travel(at, tick=False):
        lines = [str(a) for a in deadlines_sweep()]
    deliver(at)
    return lines


def emails_of(notice: Notice) -> list:
    """The emails sent for `notice` (by their Message-ID: two updates share a subject)."""
    mine = f"<notice-{notice.pk}-"
    return [m for m in mail.outbox if m.extra_headers["Message-ID"].startswith(mine)]


def assert_sent_in(notice: Notice, fmt: str) -> None:
    """The notice went in `fmt`: its deliveries, its letter, and its email if any."""
    customer = notice.complaint.customer
    assert notice.communication_format == fmt
    deliveries = dict(notice.deliveries.values_list("channel", "state"))
    letter = notice.letter
    runs = text_runs(letter.file.read())
    sizes = [size for _, size, _ in runs]
    assert letter.customer_visible  # kept on the case, downloadable by the customer
    if fmt == LARGE_PRINT:
        assert deliveries == {"post": DeliveryState.TO_POST}
        post = notice.deliveries.get(channel="post")
        assert post.letter_id == letter.pk  # staff print the large-print PDF
        assert post.recipient == f"{customer.name}\n{ADDRESS}"
        assert letter.original_name.endswith("-large-print.pdf")
        assert min(sizes) >= LARGE_PRINT_POINTS
        assert emails_of(notice) == []
        return
    assert max(sizes) <= 12  # the standard layout
    if fmt == PHONE_WITH_COPY:
        assert deliveries == {"phone": DeliveryState.TO_CALL, "email": DeliveryState.SENT}
        assert notice.deliveries.get(channel="phone").recipient == customer.phone
    else:
        assert deliveries == {"email": DeliveryState.SENT}
    [email] = emails_of(notice)
    assert email.to == [customer.email]
    if fmt == EMAIL_TEXT:
        assert email.attachments == []
        assert notice.body in email.body
        assert f"Our reference: {notice.complaint.reference}" in email.body
        assert notice.subject in email.body and "soVision IT Ltd" in email.body
    else:
        assert [a[0] for a in email.attachments] == [letter.original_name]
        assert email.body == notice.body


def respond_and_auto_close(complaint: Complaint, fmt: str, at: datetime) -> None:
    """Our response (COP-09), then the auto-close notice the sweep sends (COP-10)."""
    with time_machine.travel(at, tick=False):
        complaint_respond(
            complaint=complaint,
            actor=StaffUserFactory(),
            findings="The line card at the exchange was faulty.",
            fault_found=True,
            remedy_done="We replaced it.",
        )
    deliver(at)
    assert_sent_in(Notice.objects.get(complaint=complaint, kind=NoticeKind.RESPONSE), fmt)
    complaint.refresh_from_db()
    lines = sweep(complaint.auto_close_at)
    assert any("auto-closed" in line for line in lines)
    notice = Notice.objects.get(complaint=complaint, kind=NoticeKind.AUTO_CLOSED)
    assert_sent_in(notice, fmt)
    # Exactly once: later sweeps and outbox runs send nothing more.
    before = (Notice.objects.count(), OutboxMessage.objects.count(), len(mail.outbox))
    sweep(complaint.auto_close_at + timedelta(days=1))
    assert (Notice.objects.count(), OutboxMessage.objects.count(), len(mail.outbox)) == before


# --- Every channel a complaint arrives on -------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_on_the_portal(fmt):
    customer = customer_with(fmt)
    client = Client()
    client.force_login(customer.user)
    with time_machine.travel(MONDAY, tick=False):
        form = complaint_form_data(name=customer.name, email=customer.email)
        assert client.post(reverse("complaints:complain"), form).status_code == 302
    deliver(MONDAY)
    complaint = Complaint.objects.get(customer=customer)
    assert_sent_in(Notice.objects.get(complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT), fmt)
    respond_and_auto_close(complaint, fmt, MONDAY + timedelta(days=1))


@pytest.mark.parametrize("fmt", FORMATS)
def test_by_email(fmt):
    """The corpus email from Zoë, a known customer, read by the ingest_email command."""
    customer = customer_with(fmt, email="zoe.bronte@example.org")
    with time_machine.travel(EMAIL_DAY, tick=False):
        raw = (EMAILS / "01-plain-utf8.eml").read_bytes()
        call_command("ingest_email", stdin=BytesIO(raw), stdout=StringIO())
    deliver(EMAIL_DAY)
    complaint = Complaint.objects.get(customer=customer)
    assert complaint.agreed_contact_method == "email"
    assert_sent_in(Notice.objects.get(complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT), fmt)
    respond_and_auto_close(complaint, fmt, EMAIL_DAY + timedelta(days=1))


@pytest.mark.parametrize("fmt", FORMATS)
def test_by_phone(fmt):
    customer = customer_with(fmt, account_reference="ACC-PHONE")
    client = Client()
    client.force_login(StaffUserFactory(role="support_agent"))
    with time_machine.travel(MONDAY, tick=False):
        response = client.post(
            reverse("admin:complaints_complaint_log_call"),
            {
                "account_reference": "ACC-PHONE",
                "department": "technical_support",
                "subject": "Broadband drops",
                "description": "Drops every evening.",
                "called_at": "2026-11-23T09:50",
                "resolved": "no",
                "promised_at": "2026-11-24T12:00",
                "contact_method": "email",
            },
        )
    assert response.status_code == 302
    complaint = Complaint.objects.get(customer=customer)
    respond_and_auto_close(complaint, fmt, MONDAY + timedelta(hours=2))


@pytest.mark.parametrize("fmt", FORMATS)
def test_by_letter(fmt):
    customer = customer_with(fmt, account_reference="ACC-LETTER")
    client = Client()
    client.force_login(StaffUserFactory(role="support_agent"))
    with time_machine.travel(MONDAY, tick=False):
        response = client.post(
            reverse("admin:complaints_complaint_log_letter"),
            {
                "account_reference": "ACC-LETTER",
                "name": customer.name,
                "email": customer.email,
                "postal_address": ADDRESS,
                "department": "technical_support",
                "subject": "Router never arrived",
                "description": "I ordered a router in October.",
                "received_at": "2026-11-23T09:00",
                "scan": SimpleUploadedFile("scan.png", PNG, content_type="image/png"),
            },
        )
    assert response.status_code == 302
    complaint = Complaint.objects.get(customer=customer)
    respond_and_auto_close(complaint, fmt, MONDAY + timedelta(hours=2))


# --- Every notice the jobs send ------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_adr_letter_and_ombudsman_warning_from_the_sweep(fmt):
    """COP-16 and COP-18 letters go in the customer's format, once each."""
    customer = customer_with(fmt)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
    deliver(MONDAY)
    lines = sweep(complaint.adr_eligible_at)
    assert any("ADR letter" in line for line in lines)
    assert_sent_in(Notice.objects.get(complaint=complaint, kind=NoticeKind.ADR_LETTER), fmt)
    complaint.refresh_from_db()
    sweep(complaint.osc_warning_at)
    assert_sent_in(Notice.objects.get(complaint=complaint, kind=NoticeKind.OSC_WARNING), fmt)
    before = (Notice.objects.count(), OutboxMessage.objects.count(), len(mail.outbox))
    sweep(complaint.osc_warning_at + timedelta(days=3))
    assert (Notice.objects.count(), OutboxMessage.objects.count(), len(mail.outbox)) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_progress_update(fmt):
    """COP-13 updates (the sweep reminds staff; staff send them) go in the format too."""
    customer = customer_with(fmt)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_progress_update(
            complaint=complaint, actor=StaffUserFactory(), text="The engineer comes on Friday."
        )
    deliver(MONDAY)
    notice = Notice.objects.get(complaint=complaint, kind=NoticeKind.PROGRESS_UPDATE)
    assert "The engineer comes on Friday." in notice.body
    assert_sent_in(notice, fmt)


def test_the_history_says_which_format_a_notice_went_in():
    customer = customer_with(LARGE_PRINT)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_progress_update(complaint=complaint, actor=None, text="Still looking.")
    event = complaint.events.filter(kind=CaseEvent.Kind.NOTICE).get()
    assert event.reason == (
        "Progress update (COP-13): queued by letter by post (large-print letters, from "
        "recorded needs)."
    )
    assert event.extra["format"] == LARGE_PRINT


# --- "Please call, don't write" -------------------------------------------------------------


def test_call_dont_write_puts_a_call_in_the_queue_but_the_adr_letter_still_goes_in_writing():
    """A call only, except the letters the Code requires in writing (COP-16)."""
    customer = customer_with(
        STANDARD, kinds=[NeedKind.CALL_DONT_WRITE, NeedKind.CALL_TIME], call_times="after 2pm"
    )
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_progress_update(complaint=complaint, actor=None, text="Still looking.")
    deliver(MONDAY)
    update = Notice.objects.get(complaint=complaint, kind=NoticeKind.PROGRESS_UPDATE)
    assert dict(update.deliveries.values_list("channel", "state")) == {"phone": "to_call"}
    assert emails_of(update) == []
    sweep(complaint.adr_eligible_at)
    adr = Notice.objects.get(complaint=complaint, kind=NoticeKind.ADR_LETTER)
    assert dict(adr.deliveries.values_list("channel", "state")) == {
        "phone": "to_call",
        "email": "sent",
    }


def test_needs_recorded_after_a_letter_apply_to_the_next_one_only():
    """The format is decided when a notice is sent, and recorded on it."""
    customer = CustomerFactory(confirmed=True, postal_address=ADDRESS)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_progress_update(complaint=complaint, actor=None, text="First.")
    needs_record(
        customer=customer,
        actor=StaffUserFactory(),
        consent_how="letter",
        kinds=[NeedKind.SIGHT],
        communication_format=LARGE_PRINT,
    )
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        complaint_progress_update(complaint=complaint, actor=None, text="Second.")
    deliver(MONDAY + timedelta(days=2))
    first, second = Notice.objects.filter(kind=NoticeKind.PROGRESS_UPDATE).order_by("pk")
    assert first.communication_format == STANDARD and second.communication_format == LARGE_PRINT
    assert_sent_in(first, STANDARD)
    assert_sent_in(second, LARGE_PRINT)


# --- The staff "to post" and "to call" queues ----------------------------------------------


def test_the_post_queue_shows_large_print_and_links_the_large_print_pdf():
    customer = customer_with(LARGE_PRINT)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
    deliver(MONDAY)
    sweep(complaint.adr_eligible_at)
    post = OutboxMessage.objects.get(channel="post", notice__kind=NoticeKind.ADR_LETTER)
    client = Client()
    client.force_login(StaffUserFactory(role="support_agent"))
    url = reverse("admin:complaints_outboxmessage_changelist")
    page = client.get(url, {"state__exact": "to_post"}).content.decode()
    assert '<strong class="format-large-print">LARGE PRINT</strong>' in page
    pdf_url = reverse("complaints:staff-attachment-download", args=[post.letter_id])
    assert pdf_url in page
    printed = b"".join(client.get(pdf_url).streaming_content)
    assert min(size for _, size, _ in text_runs(printed)) >= LARGE_PRINT_POINTS
    only_large = client.get(
        url, {"state__exact": "to_post", "notice__communication_format__exact": LARGE_PRINT}
    ).content.decode()
    assert complaint.reference in only_large
    none_standard = client.get(
        url, {"state__exact": "to_post", "notice__communication_format__exact": STANDARD}
    ).content.decode()
    assert complaint.reference not in none_standard


def test_the_call_queue_shows_when_to_call_and_the_needs_to_staff_who_may_read_them():
    customer = customer_with(
        PHONE_WITH_COPY, kinds=[NeedKind.CALL_TIME], call_times="weekdays after 2pm"
    )
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_progress_update(complaint=complaint, actor=None, text="Still looking.")
    url = reverse("admin:complaints_outboxmessage_changelist")
    agent = Client()
    agent.force_login(StaffUserFactory(role="support_agent"))
    page = agent.get(url, {"state__exact": "to_call"}).content.decode()
    assert "Call weekdays after 2pm." in page
    assert "By phone, with a written copy" in page
    assert "Needs: reading or writing, call times" in page  # the staff-only badge
    # Needs withdrawn: the queue no longer shows them (read live, never copied).
    needs_withdraw(customer=customer, actor=StaffUserFactory())
    page = agent.get(url, {"state__exact": "to_call"}).content.decode()
    assert "after 2pm" not in page and "Needs:" not in page
    assert complaint.reference in page  # the call is still to be made


def test_the_queues_read_needs_in_a_fixed_number_of_queries():
    """The format and call columns add no query per row (the needs come in the join)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agent = Client()
    agent.force_login(StaffUserFactory(role="support_agent"))
    url = reverse("admin:complaints_outboxmessage_changelist")

    def add(n: int) -> None:
        for i in range(n):
            fmt = [PHONE_WITH_COPY, LARGE_PRINT][i % 2]
            customer = customer_with(fmt, kinds=[NeedKind.CALL_TIME], call_times="after 2pm")
            with time_machine.travel(MONDAY, tick=False):
                complaint = complaint_make(customer=customer)
                complaint_progress_update(complaint=complaint, actor=None, text="Update.")
        deliver(MONDAY)

    def queries(state: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert agent.get(url, {"state__exact": state}).status_code == 200
        return len(captured)

    add(2)
    few = (queries("to_call"), queries("to_post"))
    add(6)
    assert OutboxMessage.objects.filter(state="to_call").count() == 4
    assert (queries("to_call"), queries("to_post")) == few


# --- Large print on the portal, for letters sent before the customer asked ---------------


def _pdf_of(response) -> bytes:
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content)


def test_the_portal_offers_large_print_of_every_letter_once_the_customer_asks_for_it():
    customer = CustomerFactory(confirmed=True, postal_address=ADDRESS)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_progress_update(complaint=complaint, actor=None, text="The engineer is booked.")
    standard = Notice.objects.get(kind=NoticeKind.PROGRESS_UPDATE)
    client = Client()
    client.force_login(customer.user)
    detail = reverse("complaints:complaint-detail", args=[complaint.reference])
    file_url = reverse("complaints:complaint-file", args=[complaint.reference, standard.letter_id])
    assert "in large print" not in client.get(detail).content.decode()  # not asked for

    needs_record(
        customer=customer,
        actor=customer.user,
        by_customer=True,
        consent_how="portal",
        kinds=[NeedKind.SIGHT],
        communication_format=LARGE_PRINT,
    )
    with time_machine.travel(MONDAY + timedelta(days=3), tick=False):
        complaint_progress_update(complaint=complaint, actor=None, text="Fixed on Friday.")
        page = client.get(detail).content.decode()
        assert page.count("download in large print") == 1  # the later one is large print
        assert f'href="{file_url}?print=large"' in page
        copy = client.get(file_url, {"print": "large"})
    assert 'filename="' in copy["Content-Disposition"]
    assert "-large-print.pdf" in copy["Content-Disposition"]
    runs = text_runs(_pdf_of(copy))
    assert min(size for _, size, _ in runs) >= LARGE_PRINT_POINTS
    words = " ".join(t for t, _, _ in runs)
    assert "The engineer is booked." in words
    assert "Monday 23 November 2026" in words  # the date it was first sent
    # The letter kept on the case is still the one that was sent.
    assert max(size for _, size, _ in text_runs(_pdf_of(client.get(file_url)))) <= 12


def test_a_large_print_copy_is_only_of_our_own_letters_on_the_customers_own_cases():
    customer = customer_with(LARGE_PRINT)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_progress_update(complaint=complaint, actor=None, text="Update.")
    large = Notice.objects.get(kind=NoticeKind.PROGRESS_UPDATE).letter
    client = Client()
    client.force_login(customer.user)
    url = reverse("complaints:complaint-file", args=[complaint.reference, large.pk])
    assert client.get(url, {"print": "large"}).status_code == 404  # already large print
    other = CustomerFactory(confirmed=True)
    stranger = Client()
    stranger.force_login(other.user)
    assert stranger.get(url, {"print": "large"}).status_code == 404


def test_an_integration_downloads_a_large_print_copy_of_a_letter():
    """API parity: the same copy through the attachment download, with print=large."""
    from rest_framework.test import APIClient

    from accounts.integrations import api_key_issue, integration_create
    from accounts.roles import Role

    customer = CustomerFactory(postal_address=ADDRESS)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_progress_update(complaint=complaint, actor=None, text="Booked.")
    letter = Notice.objects.get(kind=NoticeKind.PROGRESS_UPDATE).letter
    issued = api_key_issue(
        integration=integration_create(name="CRM", role=Role.SUPPORT_AGENT), scopes=["read"]
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    url = reverse("api:attachment-download", kwargs={"pk": letter.pk})
    runs = text_runs(_pdf_of(api.get(url, {"print": "large"})))
    assert min(size for _, size, _ in runs) >= LARGE_PRINT_POINTS
    scan = complaint.attachments.create(
        kind="report", original_name="r.pdf", content_type="application/pdf", size=1
    )
    missing = api.get(
        reverse("api:attachment-download", kwargs={"pk": scan.pk}), {"print": "large"}
    )
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"


# --- The formal procedure's letters (COP-15, COP-17) ---------------------------------------


@pytest.mark.parametrize("fmt", [LARGE_PRINT, EMAIL_TEXT, PHONE_WITH_COPY])
def test_the_formal_complaint_final_proposition_and_deadlock_letters(fmt):
    from complaints.services.desk import complaint_escalate
    from escalation.models import FormalCase
    from escalation.services import final_proposition_send, formal_review_save

    customer = customer_with(fmt)
    director = StaffUserFactory(role="technical_director")
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_escalate(
            complaint=complaint, actor=None, requested="technical_director", reason="Again."
        )
        case = FormalCase.objects.get(complaint=complaint)
        formal_review_save(
            case=case, actor=director, further_investigation="Line test.",
            findings="A faulty card.", proposed_action="Replace it.",
        )  # fmt: skip
        final_proposition_send(case=case, actor=director)
    deliver(MONDAY)
    for kind in (NoticeKind.FORMAL_OPENED, NoticeKind.FINAL_PROPOSITION, NoticeKind.DEADLOCK):
        assert_sent_in(Notice.objects.get(complaint=complaint, kind=kind), fmt)
    complaint.refresh_from_db()
    # The referral clock runs from when the deadlock letter reaches the customer: a
    # large-print letter goes by post, so it counts from its postal delivery (COP-18).
    by_post = complaint.deadlock_letter_received_at > MONDAY
    assert by_post == (fmt == LARGE_PRINT)
