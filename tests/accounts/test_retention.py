"""UK GDPR retention: the anonymising sweep, the data export and erasure requests."""

import json
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.retention import (
    customer_data_export,
    erasure_request,
    retention_due,
    retention_sweep,
)
from accounts.roles import Role
from complaints.domain.lifecycle import Status
from complaints.domain.wording import date_words
from complaints.models import (
    Attachment,
    CaseEvent,
    CaseNote,
    ClosureReason,
    Complaint,
    Correspondence,
    InboundEmail,
    Notice,
    OutboxMessage,
    Remedy,
    SatisfactionResponse,
    ThirdPartyCorrespondence,
)
from complaints.services.desk import complaint_note_add, complaint_third_party_log
from complaints.services.remedies import remedy_record
from complaints.services.responses import complaint_respond
from complaints.services.satisfaction import satisfaction_record
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

LONDON = ZoneInfo("Europe/London")
pytestmark = pytest.mark.django_db

CLOSED = datetime(2019, 3, 1, 12, 0, tzinfo=LONDON)
SIX_YEARS_AND_A_DAY = datetime(2025, 3, 2, 12, 0, tzinfo=LONDON)
REMOVED = "[removed under the retention policy on 2025-03-02]"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REDRESS_RETENTION_YEARS = 6


@pytest.fixture
def agent():
    return StaffUserFactory(role="support_agent")


def portal_customer():
    customer = CustomerFactory(with_user=True)
    customer.email_confirmed_at = customer.created_at
    customer.save()
    return customer


def closed_complaint(*, customer, agent, at=CLOSED, full=False):
    """Log a complaint at `at` and close it then; `full` adds every kind of record."""
    with time_machine.travel(at - timedelta(hours=2), tick=False):
        complaint = complaint_make(customer=customer, subject="Line dead at 12 Acacia Avenue")
    with time_machine.travel(at - timedelta(hours=1), tick=False):
        if full:
            complaint_note_add(complaint=complaint, actor=agent, body="Customer is J. Smith.")
            complaint_third_party_log(
                complaint=complaint,
                actor=agent,
                third_party_name="Openreach",
                direction="out",
                body="Please check the line of J. Smith.",
            )
            Correspondence.objects.create(
                complaint=complaint,
                direction="in",
                channel="email",
                subject="My line",
                body="From J. Smith, 12 Acacia Avenue",
                customer_visible=False,
            )
            upload = Attachment(
                complaint=complaint,
                kind=Attachment.Kind.CUSTOMER_UPLOAD,
                original_name="photo.png",
                content_type="image/png",
                size=4,
                customer_visible=True,
            )
            upload.file.save("photo.png", ContentFile(b"\x89PNG"), save=False)
            upload.save()
            email = InboundEmail(
                message_id=f"<{complaint.pk}@example.com>",
                sender="J. Smith <j.smith@example.com>",
                subject="My line",
                state=InboundEmail.State.THREADED,
                complaint=complaint,
            )
            email.raw.save("m.eml", ContentFile(b"From: j.smith@example.com\r\n\r\nHi"), save=False)
            email.save()
    with time_machine.travel(at, tick=False):
        if full:
            complaint_respond(
                complaint=complaint, actor=agent, findings="Fixed.", fault_found=False
            )
            complaint_transition(
                complaint=complaint,
                to=Status.CLOSED,
                actor=agent,
                reason="Customer happy.",
                closure_reason=ClosureReason.CUSTOMER_SATISFIED,
            )
            remedy_record(
                complaint=complaint, actor=agent, kind="goodwill", amount=Decimal("25.00"),
                approved_by=StaffUserFactory(role=Role.SENIOR_MANAGER),
                note="Paid to J. Smith's account at 12 Acacia Avenue.",
            )  # fmt: skip
            satisfaction_record(
                complaint=complaint, score=2, comment="J. Smith here: slow.", via="portal"
            )
        else:
            complaint_transition(
                complaint=complaint,
                to=Status.RESOLVED_AT_FIRST_CONTACT,
                actor=agent,
                reason="Sorted on the call.",
            )
    complaint.refresh_from_db()
    return complaint


# --- The sweep ---------------------------------------------------------------------------


def test_sweep_anonymises_a_customer_closed_six_years_and_a_day_ago(
    agent, django_capture_on_commit_callbacks
):
    customer = portal_customer()
    complaint = closed_complaint(customer=customer, agent=agent, full=True)
    files = [a.file.name for a in complaint.attachments.all()]
    files += [e.raw.name for e in complaint.inbound_emails.all()]
    assert len(files) == 3  # the upload, the response letter, the raw email
    assert all(default_storage.exists(name) for name in files)
    events_before = list(complaint.events.values_list("pk", flat=True))

    with time_machine.travel(SIX_YEARS_AND_A_DAY, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            lines = retention_sweep()

    assert lines == [f"customer #{customer.pk} anonymised (last complaint closed 2019-03-01)"]
    customer.refresh_from_db()
    assert customer.name == f"Anonymised customer #{customer.pk}"
    assert customer.email == customer.phone == customer.postal_address == ""
    assert customer.account_reference == customer.contract_reference == ""
    assert customer.anonymised_at is not None
    user = customer.user
    user.refresh_from_db()
    assert user.email == f"anonymised-{customer.pk}@invalid"
    assert user.name == ""
    assert not user.is_active and not user.has_usable_password()

    complaint.refresh_from_db()
    assert complaint.subject == complaint.description == REMOVED
    assert complaint.status == Status.CLOSED  # the case itself is unchanged
    for message in Correspondence.objects.filter(complaint=complaint):
        assert message.subject == message.body == REMOVED
    assert {n.body for n in CaseNote.objects.filter(complaint=complaint)} == {REMOVED}
    third = ThirdPartyCorrespondence.objects.get(complaint=complaint)
    assert third.body == REMOVED and third.third_party_name == "Openreach"
    notice = Notice.objects.get(complaint=complaint)
    assert notice.subject == notice.body == REMOVED
    assert {m.recipient for m in OutboxMessage.objects.filter(notice=notice)} == {REMOVED}
    email = InboundEmail.objects.get(complaint=complaint)
    assert email.sender == email.subject == REMOVED
    answer = SatisfactionResponse.objects.get(complaint=complaint)
    assert (answer.score, answer.comment) == (2, REMOVED)  # the score still counts
    remedy = Remedy.objects.get(complaint=complaint)
    assert (remedy.amount, remedy.note) == (Decimal("25.00"), REMOVED)

    # The rows stay (files on a case are never deleted); the stored content is gone.
    assert complaint.attachments.count() == 2
    assert not any(default_storage.exists(name) for name in files)

    events = list(complaint.events.all())
    assert [e.pk for e in events[:-1]] == events_before  # the history is kept
    note = events[-1]
    assert note.kind == CaseEvent.Kind.NOTE and note.actor is None
    assert note.reason.startswith("Personal data anonymised:")
    assert sorted(note.extra["files_deleted"]) == sorted(files)


def test_sweep_leaves_customers_whose_records_must_still_be_kept(agent):
    recent = CustomerFactory()
    closed_complaint(customer=recent, agent=agent, at=datetime(2019, 3, 3, 12, 0, tzinfo=LONDON))
    with_open = CustomerFactory()
    closed_complaint(customer=with_open, agent=agent)
    with time_machine.travel(CLOSED, tick=False):
        complaint_make(customer=with_open)
    ombudsman = CustomerFactory()
    referable = closed_complaint(customer=ombudsman, agent=agent)
    # E.g. a deadlock letter received late: the ombudsman window is still open.
    Complaint.objects.filter(pk=referable.pk).update(
        osc_deadline_at=SIX_YEARS_AND_A_DAY + timedelta(days=30)
    )
    due = CustomerFactory()
    closed_complaint(customer=due, agent=agent)

    with time_machine.travel(SIX_YEARS_AND_A_DAY, tick=False):
        assert list(retention_due(now=SIX_YEARS_AND_A_DAY)) == [due]
        retention_sweep()

    for kept in (recent, with_open, ombudsman):
        kept.refresh_from_db()
        assert kept.anonymised_at is None
        assert not kept.name.startswith("Anonymised")
    due.refresh_from_db()
    assert due.anonymised_at is not None


def test_sweep_is_idempotent(agent):
    customer = CustomerFactory()
    complaint = closed_complaint(customer=customer, agent=agent)

    with time_machine.travel(SIX_YEARS_AND_A_DAY, tick=False):
        assert len(retention_sweep()) == 1
        events = complaint.events.count()
        assert retention_sweep() == []
    with time_machine.travel(SIX_YEARS_AND_A_DAY + timedelta(days=1), tick=False):
        assert retention_sweep() == []

    assert complaint.events.count() == events


def test_retention_period_comes_from_the_setting(agent, settings):
    settings.REDRESS_RETENTION_YEARS = 7
    customer = CustomerFactory()
    closed_complaint(customer=customer, agent=agent)

    with time_machine.travel(SIX_YEARS_AND_A_DAY, tick=False):
        assert retention_sweep() == []


# --- The export --------------------------------------------------------------------------


def test_export_holds_the_customers_complaints_and_no_one_elses(agent):
    customer = portal_customer()
    mine = closed_complaint(customer=customer, agent=agent, full=True)
    theirs = closed_complaint(customer=CustomerFactory(), agent=agent, full=True)

    data = customer_data_export(customer=customer)

    text = json.dumps(data)  # JSON-serialisable as it is
    assert mine.reference in text and theirs.reference not in text
    assert data["profile"]["email"] == customer.email
    (complaint,) = data["complaints"]
    assert complaint["reference"] == mine.reference
    assert complaint["dates"]["closed_at"] == mine.closed_at.isoformat()
    assert complaint["clocks"]["osc_deadline_at"] == mine.osc_deadline_at.isoformat()
    assert [m["subject"] for m in complaint["correspondence"]] == [
        f"Our response to your complaint {mine.reference}"
    ]
    assert complaint["notices"][0]["body"]
    assert {f["file_name"] for f in complaint["files"]} == {
        "photo.png",
        f"{mine.reference}-response.pdf",
    }
    internal = complaint["internal"]
    assert [n["note"] for n in internal["case_notes"]] == ["Customer is J. Smith."]
    assert [m["subject"] for m in internal["correspondence_not_shown_on_the_portal"]] == ["My line"]
    assert internal["third_party_correspondence"][0]["third_party"] == "Openreach"
    # What was paid to them, and what they told us, are theirs too.
    assert [(r["remedy"], r["amount_gbp"]) for r in complaint["remedies"]] == [
        ("Goodwill payment", "25.00")
    ]
    assert complaint["satisfaction_answer"]["comment"] == "J. Smith here: slow."


# --- Erasure requests --------------------------------------------------------------------


def test_erasure_is_refused_while_the_ombudsman_window_is_open_then_granted(agent):
    customer = portal_customer()
    complaint = closed_complaint(customer=customer, agent=agent)
    deadline = date_words(complaint.osc_deadline_at, LONDON)

    with time_machine.travel(CLOSED + timedelta(days=30), tick=False):
        outcome = erasure_request(customer=customer, actor=customer.user)

    assert not outcome.granted
    assert outcome.message == (
        f"We must keep your complaint records until {deadline} because you can still refer "
        f"complaint {complaint.reference} to the ombudsman."
    )
    customer.refresh_from_db()
    assert customer.anonymised_at is None
    refused = complaint.events.last()
    assert refused.reason.startswith("Erasure requested by the customer: refused.")
    assert refused.actor == customer.user

    with time_machine.travel(complaint.osc_deadline_at + timedelta(minutes=1), tick=False):
        outcome = erasure_request(customer=customer, actor=customer.user)

    assert outcome.granted
    customer.refresh_from_db()
    assert customer.anonymised_at is not None
    assert customer.name == f"Anonymised customer #{customer.pk}"
    granted = complaint.events.last()
    assert "erasure requested by the customer: granted" in granted.reason
    assert granted.actor_label == f"anonymised-{customer.pk}@invalid"  # not their name
    complaint.refresh_from_db()
    assert complaint.subject.startswith("[removed at the customer's request on ")


def test_erasure_is_refused_while_a_complaint_is_open():
    customer = portal_customer()
    complaint = complaint_make(customer=customer)

    outcome = erasure_request(customer=customer, actor=customer.user)

    assert not outcome.granted
    assert f"while complaint {complaint.reference} is still open" in outcome.message
    customer.refresh_from_db()
    assert customer.anonymised_at is None


# --- The portal pages --------------------------------------------------------------------


def test_export_page_shows_on_get_and_downloads_on_post(client, agent):
    customer = portal_customer()
    complaint = closed_complaint(customer=customer, agent=agent)
    other = portal_customer()
    closed_complaint(customer=other, agent=agent)
    client.force_login(customer.user)
    url = reverse("accounts:privacy_export")
    events = CaseEvent.objects.count()

    page = client.get(url)
    assert page.status_code == 200
    assert b"Download your data" in page.content

    response = client.post(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    data = json.loads(response.content)
    assert [c["reference"] for c in data["complaints"]] == [complaint.reference]
    assert data["profile"]["email"] == customer.email
    assert CaseEvent.objects.count() == events

    # Another customer gets their own data: there is no id to change in the URL.
    client.force_login(other.user)
    data = json.loads(client.post(url).content)
    assert data["profile"]["email"] == other.email
    assert complaint.reference not in json.dumps(data)


def test_details_page_links_to_the_privacy_pages(client):
    customer = portal_customer()
    client.force_login(customer.user)

    page = client.get(reverse("accounts:details")).content.decode()

    assert reverse("accounts:privacy_export") in page
    assert reverse("accounts:privacy_erase") in page


@pytest.mark.parametrize("name", ["accounts:privacy_export", "accounts:privacy_erase"])
def test_privacy_pages_send_anonymous_visitors_to_log_in(client, name):
    for method in (client.get, client.post):
        response = method(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_erase_page_explains_on_get_and_acts_on_post(client, agent):
    customer = portal_customer()
    complaint = closed_complaint(customer=customer, agent=agent)
    client.force_login(customer.user)
    url = reverse("accounts:privacy_erase")

    events = complaint.events.count()
    with time_machine.travel(CLOSED + timedelta(days=30), tick=False):
        page = client.get(url)
        assert page.status_code == 200 and b"Erase my data" in page.content
        assert complaint.events.count() == events  # GET changed nothing

        refused = client.post(url)
    assert complaint.events.count() == events + 1  # the request and its refusal
    assert refused.status_code == 200
    assert date_words(complaint.osc_deadline_at, LONDON) in refused.content.decode()
    assert complaint.reference in refused.content.decode()

    with time_machine.travel(complaint.osc_deadline_at + timedelta(days=1), tick=False):
        granted = client.post(url)
    assert granted.status_code == 200
    assert b"Your personal data has been removed" in granted.content
    customer.refresh_from_db()
    assert customer.anonymised_at is not None
    # Signed out, and the login no longer works.
    assert client.get(reverse("accounts:details")).status_code == 302
    customer.user.refresh_from_db()
    assert not customer.user.is_active


def test_staff_are_sent_away_from_the_privacy_pages(client, agent):
    client.force_login(agent)
    for name in ("accounts:privacy_export", "accounts:privacy_erase"):
        assert client.post(reverse(name)).status_code == 302
