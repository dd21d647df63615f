"""The ombudsman's case file (issue 16 item 5, COP-18).

The scheme's request is recorded on the ADR referral and its deadline is a clock the sweep
tracks (a reminder before it and an alert when it passes, once each); a senior manager
produces one ZIP, built in the background: a PDF summary, every letter and file, and a JSON
twin with the history's hashes. Each test reads the ZIP back as the ombudsman would.
"""

import hashlib
import json
import re
import zipfile
from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.integrations import integration_create
from complaints.bundles import bundle_build
from complaints.clocks import complaint_clocks_explained
from complaints.models import AlarmKind, Attachment, Bundle, BundleState, CaseEvent, StaffAlert
from complaints.services.desk import complaint_attachment_add, complaint_escalate
from complaints.services.enforcement import deadlines_sweep
from complaints.services.responses import complaint_respond
from escalation.models import AdrReferral
from escalation.services import (
    adr_referral_record,
    case_file_produce,
    case_file_request_record,
    final_proposition_send,
    formal_review_save,
)
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def at(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def case():
    """A formal complaint answered, reviewed, given its final proposition and referred."""
    director = StaffUserFactory(role="technical_director", name="Tess Director")
    agent = StaffUserFactory(role="support_agent", name="Sam Support")
    customer = CustomerFactory(name="Grace Hopper", email="grace@example.com")
    with time_machine.travel(at(2026, 10, 5, 10, 0), tick=False):
        complaint = complaint_make(customer=customer, subject="Line drops nightly")
    with time_machine.travel(at(2026, 10, 6, 11, 0), tick=False):
        complaint_attachment_add(
            complaint=complaint, actor=agent, kind=Attachment.Kind.TECHNICAL_REPORT,
            upload=SimpleUploadedFile("line test.png", PNG, content_type="image/png"),
            max_bytes=10_000_000,
        )  # fmt: skip
        # The same name again: kept apart in the ZIP as "line test (2).png".
        complaint_attachment_add(
            complaint=complaint, actor=agent, kind=Attachment.Kind.TECHNICAL_REPORT,
            upload=SimpleUploadedFile("line test.png", PNG + b"2", content_type="image/png"),
            max_bytes=10_000_000,
        )  # fmt: skip
        complaint_respond(
            complaint=complaint, actor=agent, findings="Noise at the cabinet.",
            fault_found=True, remedy_done="Re-jointed the cable.",
        )  # fmt: skip
    with time_machine.travel(at(2026, 10, 8, 9, 0), tick=False):
        complaint = complaint_escalate(
            complaint=complaint, actor=agent, requested="technical_director", reason="Still drops."
        )
        formal = complaint.formal_case
        formal = formal_review_save(
            case=formal, actor=director, further_investigation="Checked six weeks of logs.",
            findings="The fault recurred twice after the repair.",
            proposed_action="A new line and a credit of 30 pounds.",
            expected_version=formal.version,
        )  # fmt: skip
    with time_machine.travel(at(2026, 10, 9, 9, 0), tick=False):
        final_proposition_send(case=formal, actor=director)
    with time_machine.travel(at(2026, 11, 2, 9, 0), tick=False):
        referral = adr_referral_record(
            complaint=complaint, actor=director, referred_at=at(2026, 11, 2, 9, 0),
            scheme_reference="OS-123456",
        )  # fmt: skip
    complaint.refresh_from_db()
    return complaint, director, agent, referral


def _request(referral, director, *, on=date(2026, 11, 16), due=date(2026, 11, 30)):
    with time_machine.travel(at(on.year, on.month, on.day, 10, 0), tick=False):
        return case_file_request_record(
            referral=referral, actor=director, requested_on=on,
            case_file_reference="OS-CF-778", due_on=due,
        )  # fmt: skip


def _produce(complaint, director, when):
    with time_machine.travel(when, tick=False):
        bundle = case_file_produce(case=complaint.formal_case, actor=director)
        return bundle_build(bundle.pk)


def _zip(bundle) -> zipfile.ZipFile:
    with bundle.file.open("rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == bundle.sha256
    return zipfile.ZipFile(BytesIO(data))


def _pdf_text(archive) -> str:
    reader = PdfReader(BytesIO(archive.read("case-summary.pdf")))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def test_the_case_file_read_back_from_the_zip(case):
    complaint, director, agent, referral = case
    _request(referral, director)
    bundle = _produce(complaint, director, at(2026, 11, 20, 14, 0))
    assert bundle.state == BundleState.READY
    complaint.refresh_from_db()
    archive = _zip(bundle)
    names = archive.namelist()
    assert "case-summary.pdf" in names and "case.json" in names

    # The PDF: reference, register reference, each clock and whether it was met.
    text = _pdf_text(archive)
    fcr = complaint.formal_case.register_reference
    assert complaint.reference in text and fcr in text
    assert "OS-CF-778" in text and "Grace Hopper" in text
    for clock in complaint_clocks_explained(complaint):
        assert clock.rule.replace("_", " ") in text, clock.rule
    assert "response due" in text and re.search(r"response due .{0,60}\bmet\b", text)
    assert "case file due" in text
    assert "The fault recurred twice after the repair." in text  # the findings
    assert "A new line and a credit of 30 pounds." in text  # the final proposition

    # The JSON matches the case.
    data = json.loads(archive.read("case.json"))
    assert data["format"] == "redress.ombudsman-case-file/1"
    assert data["complaint"]["reference"] == complaint.reference
    assert data["complaint"]["register_reference"] == fcr
    assert data["customer"]["name"] == "Grace Hopper"
    assert data["adr_referral"]["case_file_reference"] == "OS-CF-778"
    assert data["adr_referral"]["scheme_reference"] == "OS-123456"
    assert data["formal_case"]["findings"] == "The fault recurred twice after the repair."
    clocks = {c["rule"]: c for c in data["clocks"]}
    assert set(clocks) == {c.rule for c in complaint_clocks_explained(complaint)}
    assert clocks["response_due"]["outcome"] == "met"
    assert clocks["case_file_due"]["outcome"] == "met"  # ready 20 Nov, due 30 Nov
    assert clocks["case_file_due"]["due_at"] == "2026-11-30T17:00:00+00:00"

    # The history's hash chain can be checked from the file alone.
    events = data["history"]["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    previous = ""
    for event in events:
        assert hashlib.sha256(event["canonical"].encode()).hexdigest() == event["hash"]
        assert event["prev_hash"] == previous == json.loads(event["canonical"])["prev_hash"]
        previous = event["hash"]
    assert data["history"]["head"] == previous
    stored = list(CaseEvent.objects.filter(complaint=complaint).order_by("seq"))
    assert [e.hash for e in stored[: len(events)]] == [e["hash"] for e in events]

    # Every letter and file, byte for byte, under its own name in its folder.
    attachments = list(complaint.attachments.all())
    assert len(data["files"]) == len(attachments) >= 5  # our report and the letters
    for attachment in attachments:
        entry = next(f for f in data["files"] if f["id"] == attachment.pk)
        with attachment.file.open("rb") as handle:
            original = hashlib.sha256(handle.read()).hexdigest()
        assert entry["sha256"] == original
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == original
        assert (
            entry["path"].rsplit("/", 1)[-1].startswith(attachment.original_name.rsplit(".", 1)[0])
        )
    assert "files/technical-reports/line test.png" in names
    assert "files/technical-reports/line test (2).png" in names
    assert any(n.startswith("letters/") and n.endswith(".pdf") for n in names)

    # The history says who produced it; the deadline was met, so its alarms are gone.
    complaint.refresh_from_db()
    assert complaint.case_file_ready_at == bundle.finished_at
    assert not complaint.alarms.filter(kind__startswith="case_file").exists()
    produced = CaseEvent.objects.filter(complaint=complaint, kind=CaseEvent.Kind.BUNDLE)
    assert [(e.extra["event"], e.actor) for e in produced] == [
        ("requested", director),
        ("ready", director),
    ]


def test_a_second_case_file_is_a_new_version_and_both_are_kept(case):
    complaint, director, agent, referral = case
    first = _produce(complaint, director, at(2026, 11, 20, 14, 0))
    second = _produce(complaint, director, at(2026, 11, 21, 9, 0))
    assert (first.version, second.version) == (1, 2)
    assert first.file.name != second.file.name
    assert Bundle.objects.filter(complaint=complaint, state="ready").count() == 2
    assert _zip(first).namelist() and _zip(second).namelist()


def test_the_deadline_reminds_once_and_alerts_once_when_missed(case, settings):
    """COP-18: the request's deadline is a clock: twice-run sweeps and downtime change nothing."""
    settings.REDRESS_CASE_FILE_WARNING_WORKING_DAYS = 2
    complaint, director, agent, referral = case
    _request(referral, director)  # due Mon 30 Nov 2026 at 5pm; reminder Thu 26 Nov 9am
    complaint.refresh_from_db()
    assert complaint.case_file_due_at == at(2026, 11, 30, 17, 0)
    warning = complaint.alarms.get(kind=AlarmKind.CASE_FILE_WARNING)
    assert warning.due_at == at(2026, 11, 26, 9, 0)

    def alerts(kind):
        return list(
            StaffAlert.objects.filter(complaint=complaint, kind=kind).values_list(
                "audience", "recipient"
            )
        )

    deadlines_sweep(now=at(2026, 11, 26, 8, 59))
    assert alerts(AlarmKind.CASE_FILE_WARNING) == []
    lines = [str(a) for a in deadlines_sweep(now=at(2026, 11, 26, 9, 0))]
    assert any("ombudsman's case file due soon: alerted" in line for line in lines)
    deadlines_sweep(now=at(2026, 11, 26, 9, 1))  # run again: nothing new
    assert sorted(alerts(AlarmKind.CASE_FILE_WARNING)) == sorted(
        [("assignee", director.pk), ("managers", None)]
    )
    # Days of downtime: the first sweep after the deadline alerts once; the next, nothing.
    deadlines_sweep(now=at(2026, 12, 3, 12, 0))
    deadlines_sweep(now=at(2026, 12, 3, 12, 1))
    assert len(alerts(AlarmKind.CASE_FILE_OVERDUE)) == 2
    assert len(alerts(AlarmKind.CASE_FILE_WARNING)) == 2
    complaint.refresh_from_db()
    assert complaint.case_file_overdue_for == at(2026, 11, 30, 17, 0)
    missed = CaseEvent.objects.filter(complaint=complaint, extra__missed="case_file_overdue")
    assert missed.count() == 1

    # A case file made late is recorded as missed in the file itself.
    bundle = _produce(complaint, director, at(2026, 12, 3, 14, 0))
    clocks = {c["rule"]: c for c in json.loads(_zip(bundle).read("case.json"))["clocks"]}
    assert clocks["case_file_due"]["outcome"] == "missed"


def test_downtime_through_both_moments_gives_what_sweeps_on_time_give(case):
    complaint, director, agent, referral = case
    _request(referral, director)
    deadlines_sweep(now=at(2026, 12, 10, 9, 0))  # the first sweep in two weeks
    deadlines_sweep(now=at(2026, 12, 10, 9, 0))
    kinds = sorted(
        StaffAlert.objects.filter(complaint=complaint, kind__startswith="case_file").values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["case_file_overdue"] * 2 + ["case_file_warning"] * 2


def test_a_case_file_ready_in_time_stops_the_alerts(case):
    complaint, director, agent, referral = case
    _request(referral, director)
    _produce(complaint, director, at(2026, 11, 17, 10, 0))
    deadlines_sweep(now=at(2026, 12, 10, 9, 0))
    assert not StaffAlert.objects.filter(complaint=complaint, kind__startswith="case_file")
    # The scheme asks again later: a case file from before that request does not count.
    _request(referral, director, on=date(2026, 12, 14), due=date(2026, 12, 21))
    complaint.refresh_from_db()
    assert complaint.case_file_ready_at is None
    assert complaint.alarms.filter(kind=AlarmKind.CASE_FILE_OVERDUE).exists()


def test_the_request_refuses_bad_dates_and_keeps_what_was_saved(case):
    from django.core.exceptions import ValidationError

    complaint, director, agent, referral = case
    _request(referral, director)
    with pytest.raises(ValidationError) as refused:
        _request(referral, director, on=date(2026, 11, 20), due=date(2026, 11, 19))
    assert "cannot be before its request" in str(refused.value)
    referral.refresh_from_db()
    complaint.refresh_from_db()
    assert referral.case_file_requested_on == date(2026, 11, 16)
    assert complaint.case_file_due_at == at(2026, 11, 30, 17, 0)


def test_clocks_command_shows_the_case_file_deadline(case, capsys):
    complaint, director, agent, referral = case
    _request(referral, director)
    call_command("clocks", "--complaint", complaint.reference)
    out = capsys.readouterr().out
    assert "case_file_due" in out and "Mon 30 Nov 2026 17:00" in out


def test_a_failed_build_says_why_and_keeps_no_file(case, monkeypatch, client):
    from escalation import casefile

    complaint, director, agent, referral = case

    def broken(data):
        raise RuntimeError("the PDF could not be drawn")

    monkeypatch.setattr(casefile, "case_file_pdf", broken)
    bundle = _produce(complaint, director, at(2026, 11, 20, 14, 0))
    assert bundle.state == BundleState.FAILED and not bundle.file and not bundle.sha256
    assert bundle.error == "RuntimeError: the PDF could not be drawn"
    client.force_login(director)
    page = client.get(reverse("complaints:bundle-progress", args=[bundle.pk])).content.decode()
    assert "the PDF could not be drawn" in page
    assert client.get(reverse("complaints:bundle-download", args=[bundle.pk])).status_code == 404


def test_who_may_see_and_produce_the_case_file(case):
    """Staff who may see the case; never another department's agent, never the customer."""
    complaint, director, agent, referral = case
    bundle = _produce(complaint, director, at(2026, 11, 20, 14, 0))
    download = reverse("complaints:bundle-download", args=[bundle.pk])
    other_department = Client()
    other_department.force_login(StaffUserFactory(role="accounts_agent"))
    assert other_department.get(download).status_code == 404
    assert (
        other_department.get(reverse("complaints:bundle-progress", args=[bundle.pk])).status_code
        == 404
    )

    customer = CustomerFactory(with_user=True, confirmed=True)
    complaint.customer.user = customer.user  # the customer's own login sees no case file
    portal = Client()
    portal.force_login(customer.user)
    response = portal.get(download)
    assert response.status_code == 302 and "login" in response["Location"]
    assert (
        portal.get(
            reverse("complaints:complaint-file", args=[complaint.reference, bundle.pk])
        ).status_code
        == 404
    )

    # Producing one is for senior managers only (COP-15); the department can only download.
    agent_client = Client()
    agent_client.force_login(agent)
    fcr = complaint.formal_case.register_reference
    assert agent_client.post(reverse("escalation:formal-case-file", args=[fcr])).status_code == 403
    assert agent_client.get(download).status_code == 200
    assert Bundle.objects.filter(complaint=complaint).count() == 1
    downloads = CaseEvent.objects.filter(complaint=complaint, extra__event="downloaded")
    assert [e.actor for e in downloads] == [agent]


def test_the_formal_page_records_the_request_and_produces_the_case_file(case, client):
    complaint, director, agent, referral = case
    fcr = complaint.formal_case.register_reference
    client.force_login(director)
    with time_machine.travel(at(2026, 11, 16, 10, 0), tick=False):
        response = client.post(
            reverse("escalation:formal-case-file-request", args=[fcr]),
            {
                "requested_on": "2026-11-16",
                "case_file_reference": "OS-CF-9",
                "due_on": "2026-11-10",
            },
        )
        page = client.get(response["Location"]).content.decode()
        assert "cannot be before its request" in page
        client.post(
            reverse("escalation:formal-case-file-request", args=[fcr]),
            {
                "requested_on": "2026-11-16",
                "case_file_reference": "OS-CF-9",
                "due_on": "2026-11-30",
            },
        )
        page = client.get(reverse("escalation:formal-detail", args=[fcr])).content.decode()
        assert "OS-CF-9" in page and "Mon 30 Nov 2026 17:00" in page and "Not yet due" in page
        response = client.post(reverse("escalation:formal-case-file", args=[fcr]))
        bundle = Bundle.objects.get(complaint=complaint)
        assert response["Location"] == reverse("complaints:bundle-progress", args=[bundle.pk])
        bundle_build(bundle.pk)
        page = client.get(reverse("escalation:formal-detail", args=[fcr])).content.decode()
        assert "Download version 1" in page and "Met" in page
    referral = AdrReferral.objects.get(pk=referral.pk)
    assert referral.case_file_reference == "OS-CF-9"


def test_hostile_text_and_file_names_are_printed_not_interpreted(case):
    """Markup, control characters and path tricks in what people wrote never break the ZIP."""
    complaint, director, agent, referral = case
    with time_machine.travel(at(2026, 11, 19, 9, 0), tick=False):
        complaint_attachment_add(
            complaint=complaint, actor=agent, kind=Attachment.Kind.TECHNICAL_REPORT,
            upload=SimpleUploadedFile("..\\..\\evil\u202egnp.png", PNG, content_type="image/png"),
            max_bytes=10_000_000,
        )  # fmt: skip
    from complaints.services.desk import complaint_note_add

    with time_machine.travel(at(2026, 11, 19, 9, 5), tick=False):
        complaint_note_add(
            complaint=complaint, actor=agent, body='<script>alert(1)</script> <b>bold & "x"'
        )
    bundle = _produce(complaint, director, at(2026, 11, 20, 14, 0))
    assert bundle.state == BundleState.READY, bundle.error
    archive = _zip(bundle)
    for name in archive.namelist():
        assert ".." not in name.split("/") and "\\" not in name and not name.startswith("/")
    assert "<script>alert(1)</script>" in _pdf_text(archive)
    notes = [e for e in json.loads(archive.read("case.json"))["timeline"] if e["kind"] == "note"]
    assert notes[-1]["text"].startswith("<script>alert(1)</script>")


def test_integrations_hear_of_the_case_file_deadline_before_it_and_when_missed(case):
    """Webhooks: deadline_approaching within the lead time, once; deadline_missed at it."""
    from unittest import mock

    from accounts.roles import Role
    from complaints.models import WebhookDelivery
    from complaints.webhooks.events import webhooks_deadlines_approaching
    from complaints.webhooks.subscriptions import webhook_subscription_create

    complaint, director, agent, referral = case
    with mock.patch(  # DNS only: the target's address is checked when subscribing
        "complaints.webhooks.targets.socket.getaddrinfo",
        return_value=[(2, 1, 6, "", ("93.184.215.14", 443))],
    ):
        webhook_subscription_create(
            integration=integration_create(name="OS tracker", role=Role.SENIOR_MANAGER),
            url="https://hooks.example.com/in",
            event_types=["complaint.deadline_approaching", "complaint.deadline_missed"],
            lead_hours=24,
        )
    _request(referral, director)  # due Mon 30 Nov 2026 17:00
    assert webhooks_deadlines_approaching(now=at(2026, 11, 29, 16, 0)) == 0
    assert webhooks_deadlines_approaching(now=at(2026, 11, 29, 18, 0)) == 1
    assert webhooks_deadlines_approaching(now=at(2026, 11, 29, 19, 0)) == 0
    deadlines_sweep(now=at(2026, 12, 1, 9, 0))
    rows = {d.event_type: d.payload["data"]["clock"] for d in WebhookDelivery.objects.all()}
    assert rows["complaint.deadline_approaching"]["rule"] == "case_file_due"
    assert rows["complaint.deadline_missed"]["rule"] == "case_file_due"
    assert "due to the ADR scheme" in rows["complaint.deadline_missed"]["explanation"]
