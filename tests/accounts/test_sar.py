"""Subject access requests: intake by every channel, the clock, the alerts, the response.

Issue 15 item 5 (UK GDPR art. 12(3) and 15).
"""

import io
import json
import zipfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import SubjectAccessAlert, SubjectAccessEvent, SubjectAccessRequest
from accounts.roles import Role
from accounts.sar import (
    SarRuleError,
    sar_alerts_sweep,
    sar_extend,
    sar_fulfil,
    sar_open,
    sar_refuse,
    sar_response_prepare,
)
from complaints.bundles import bundle_build
from complaints.models import Attachment, BundleState, InboundEmail
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
SAR = SubjectAccessRequest
# Received Friday 10 July 2026: due Monday 10 August 2026.
RECEIVED = datetime(2026, 7, 10, 11, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def lead():
    """The Company Secretary, who answers subject access requests."""
    return StaffUserFactory(role=Role.COMPANY_SECRETARY)


def _customer():
    customer = CustomerFactory(with_user=True)
    customer.email_confirmed_at = customer.created_at
    customer.save()
    return customer


def _attach(complaint, kind, name, content, *, visible=True):
    a = Attachment(complaint=complaint, kind=kind, original_name=name, size=len(content),
                   content_type="application/octet-stream", customer_visible=visible)  # fmt: skip
    a.file.save(name, ContentFile(content), save=False)
    a.save()
    return a


# --- Intake ---------------------------------------------------------------------------


def test_the_portal_request_is_a_case_with_its_clock_shown(
    client, django_capture_on_commit_callbacks
):
    """The portal's "ask for everything we hold" opens a SAR and shows its due date."""
    customer = _customer()
    client.force_login(customer.user)
    page = client.get(reverse("accounts:privacy_export")).content.decode()
    assert "Ask for everything we hold about you" in page

    with time_machine.travel(RECEIVED, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:sar-request"))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:sar-list")
    sar = SAR.objects.get(customer=customer)
    assert sar.reference == "SAR-2026-0001"
    assert sar.channel == SAR.Channel.PORTAL
    assert sar.due_on == date(2026, 8, 10) and sar.current_due_on == sar.due_on
    assert [e.kind for e in sar.events.all()] == ["received", "customer_told"]
    assert len(mail.outbox) == 1 and "Monday 10 August 2026" in mail.outbox[0].body

    listing = client.get(reverse("accounts:sar-list")).content.decode()
    assert "SAR-2026-0001" in listing and "Monday 10 August 2026" in listing


def test_asking_again_while_open_keeps_the_first_clock(client, django_capture_on_commit_callbacks):
    customer = _customer()
    client.force_login(customer.user)
    with time_machine.travel(RECEIVED, tick=False):
        client.post(reverse("accounts:sar-request"))
    with time_machine.travel(datetime(2026, 7, 20, 9, tzinfo=LONDON), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:sar-request"), follow=True)
    assert SAR.objects.filter(customer=customer).count() == 1
    sar = SAR.objects.get(customer=customer)
    assert sar.due_on == date(2026, 8, 10)
    assert sar.events.filter(kind=SubjectAccessEvent.Kind.ASKED_AGAIN).count() == 1
    assert mail.outbox == []  # no second acknowledgement
    assert "already have a request" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_staff_log_a_letter_with_the_date_it_arrived(client, lead):
    customer = CustomerFactory()
    client.force_login(lead)
    with time_machine.travel(datetime(2026, 2, 3, 10, tzinfo=LONDON), tick=False):
        response = client.post(
            reverse("admin:accounts_subjectaccessrequest_add"),
            {"customer": customer.pk, "channel": "letter", "received_at": "2026-01-31 09:00:00",
             "details": "Letter asking for all my records."},
        )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    sar = SAR.objects.get(customer=customer)
    # Received Saturday 31 January: 28 February is a Saturday, so Monday 2 March.
    assert (sar.channel, sar.due_on, sar.logged_by) == ("letter", date(2026, 3, 2), lead)


def test_a_letter_dated_in_the_future_is_refused_and_nothing_saved(client, lead):
    client.force_login(lead)
    with time_machine.travel(datetime(2026, 2, 3, 10, tzinfo=LONDON), tick=False):
        response = client.post(
            reverse("admin:accounts_subjectaccessrequest_add"),
            {"customer": CustomerFactory().pk, "channel": "letter",
             "received_at": "2026-02-10 09:00:00"},
        )  # fmt: skip
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert not SAR.objects.exists()


def _inbound(sender, subject="Please send me all the data you hold on me"):
    email = InboundEmail(message_id=f"<{sender}-{subject[:5]}@x>", sender=sender,
                         subject=subject, state=InboundEmail.State.IGNORED,
                         received_at=RECEIVED)  # fmt: skip
    email.raw.save("m.eml", ContentFile(b"From: x\r\n\r\nhello"), save=False)
    email.save()
    return email


def test_staff_mark_an_inbound_email_as_a_request_once(client):
    customer = CustomerFactory(email="asker@example.com")
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    email = _inbound("Asker <ASKER@example.com>")
    client.force_login(agent)
    url = reverse("admin:complaints_inboundemail_changelist")
    form = {"action": "mark_subject_access", "_selected_action": [email.pk]}
    client.post(url, form)
    client.post(url, form)  # twice: still one request
    sar = SAR.objects.get(customer=customer)
    assert (sar.channel, sar.inbound_email, sar.received_at) == ("email", email, RECEIVED)
    assert sar.due_on == date(2026, 8, 10)


def test_an_email_from_an_unknown_sender_says_what_to_do(client):
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    email = _inbound("stranger@example.com")
    client.force_login(agent)
    response = client.post(
        reverse("admin:complaints_inboundemail_changelist"),
        {"action": "mark_subject_access", "_selected_action": [email.pk]},
        follow=True,
    )
    assert "No customer has this sender" in response.content.decode()
    assert not SAR.objects.exists()


# --- Extension ------------------------------------------------------------------------


def test_an_extension_within_the_month_moves_the_date_and_tells_the_customer(
    lead, django_capture_on_commit_callbacks
):
    sar = sar_open(customer=_customer(), channel="letter", actor=lead, received_at=RECEIVED,
                   now=RECEIVED).request  # fmt: skip
    with time_machine.travel(datetime(2026, 8, 10, 16, tzinfo=LONDON), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            sar = sar_extend(sar=sar, months=2, reason="Twelve years of records.", actor=lead)
    assert (sar.state, sar.extended_due_on, sar.current_due_on) == (
        "extended", date(2026, 10, 12), date(2026, 10, 12))  # fmt: skip
    # 10 August + 2 months is Saturday 10 October: the next working day.
    assert "Monday 12 October 2026" in mail.outbox[-1].body
    with pytest.raises(SarRuleError, match="extended once"):
        sar_extend(sar=sar, months=1, reason="Again.", actor=lead)


def test_an_extension_after_the_original_due_date_is_refused_from_the_desk(client, lead):
    sar = sar_open(customer=_customer(), channel="letter", actor=lead, received_at=RECEIVED,
                   now=RECEIVED).request  # fmt: skip
    client.force_login(lead)
    with time_machine.travel(datetime(2026, 8, 11, 9, tzinfo=LONDON), tick=False):
        response = client.post(
            reverse("admin:accounts_sar_act", args=[sar.pk, "extend"]),
            {"months": "2", "reason": "Complex."},
            follow=True,
        )
    assert "Too late to extend" in response.content.decode()
    sar.refresh_from_db()
    assert sar.extended_due_on is None and sar.state == "open"


def test_a_refusal_needs_a_reason_and_is_told(lead, django_capture_on_commit_callbacks):
    sar = sar_open(customer=_customer(), channel="letter", actor=lead).request
    with pytest.raises(SarRuleError, match="reason"):
        sar_refuse(sar=sar, reason=" ", actor=lead)
    with django_capture_on_commit_callbacks(execute=True):
        sar_refuse(sar=sar, reason="Manifestly excessive: the fifth this month.", actor=lead)
    sar.refresh_from_db()
    assert sar.state == "refused"
    assert "Information Commissioner" in mail.outbox[-1].body


# --- The sweep ------------------------------------------------------------------------


def _alerts():
    return sorted(SubjectAccessAlert.objects.values_list("request__reference", "kind", "due_on"))


def test_the_sweep_warns_once_then_alerts_overdue_once(settings, lead):
    settings.REDRESS_SAR_WARNING_WORKING_DAYS = 5
    settings.REDRESS_DATA_PROTECTION_EMAIL = "dpo@example.com"
    sar = sar_open(customer=CustomerFactory(), channel="letter", actor=lead,
                   received_at=RECEIVED, now=RECEIVED).request  # fmt: skip
    due = date(2026, 8, 10)
    # Monday 3 August is six working days before: nothing yet.
    with time_machine.travel(datetime(2026, 8, 2, 12, tzinfo=LONDON), tick=False):
        assert sar_alerts_sweep() == []
    # Monday 3 August is exactly five working days before Monday 10 August.
    with time_machine.travel(datetime(2026, 8, 3, 0, 30, tzinfo=LONDON), tick=False):
        assert sar_alerts_sweep() == [f"{sar.reference}: due soon"]
        assert sar_alerts_sweep() == []  # run twice: once
    # On the due date itself it is not yet overdue.
    with time_machine.travel(datetime(2026, 8, 10, 23, tzinfo=LONDON), tick=False):
        assert sar_alerts_sweep() == []
    with time_machine.travel(datetime(2026, 8, 11, 0, 5, tzinfo=LONDON), tick=False):
        assert sar_alerts_sweep() == [f"{sar.reference}: overdue"]
        assert sar_alerts_sweep() == []
    assert _alerts() == [(sar.reference, "due_soon", due), (sar.reference, "overdue", due)]
    assert sar.events.filter(kind="alert").count() == 2


def test_a_sweep_after_downtime_raises_what_sweeps_on_time_would_have(lead):
    on_time = sar_open(customer=CustomerFactory(), channel="letter", actor=lead,
                       received_at=RECEIVED, now=RECEIVED).request  # fmt: skip
    # Down from before the warning until a week after the due date: one run, both alerts.
    with time_machine.travel(datetime(2026, 8, 18, 9, tzinfo=LONDON), tick=False):
        lines = sar_alerts_sweep()
        assert sorted(lines) == sorted([f"{on_time.reference}: due soon",
                                        f"{on_time.reference}: overdue"])  # fmt: skip
        assert sar_alerts_sweep() == []


def test_an_extension_gives_the_new_date_its_own_alerts_and_answered_ones_none(lead):
    extended = sar_open(customer=CustomerFactory(), channel="letter", actor=lead,
                        received_at=RECEIVED, now=RECEIVED).request  # fmt: skip
    refused = sar_open(customer=CustomerFactory(), channel="letter", actor=lead,
                       received_at=RECEIVED, now=RECEIVED).request  # fmt: skip
    with time_machine.travel(datetime(2026, 8, 4, 9, tzinfo=LONDON), tick=False):
        sar_alerts_sweep()
        sar_extend(sar=extended, months=1, reason="Complex.", actor=lead)
        sar_refuse(sar=refused, reason="Excessive.", actor=lead)
    with time_machine.travel(datetime(2026, 9, 30, 9, tzinfo=LONDON), tick=False):
        assert sar_alerts_sweep() == [f"{extended.reference}: due soon",
                                      f"{extended.reference}: overdue"]  # fmt: skip
    kinds = {(ref, kind, due) for ref, kind, due in _alerts()}
    assert (extended.reference, "due_soon", date(2026, 9, 10)) in kinds
    assert not any(ref == refused.reference and due > date(2026, 8, 10) for ref, _, due in kinds)


# --- The response ---------------------------------------------------------------------


def _zip(bundle):
    with bundle.file.open("rb") as f:
        return zipfile.ZipFile(io.BytesIO(f.read()))


def test_the_response_holds_every_complaint_letter_and_file_and_nothing_of_others(
    client, lead, django_capture_on_commit_callbacks
):
    customer, other = _customer(), _customer()
    first = complaint_make(customer=customer, subject="Broadband drops")
    second = complaint_make(customer=customer, subject="Wrong bill")
    theirs = complaint_make(customer=other, subject="Someone else's router")
    letter = _attach(first, Attachment.Kind.LETTER_SENT, "acknowledgement.pdf", b"%PDF-1.4 one")
    upload = _attach(second, Attachment.Kind.CUSTOMER_UPLOAD, "../../bill photo.png", b"PNGDATA")
    report = _attach(first, Attachment.Kind.TECHNICAL_REPORT, "line test.txt", b"line ok",
                     visible=False)  # fmt: skip
    _attach(theirs, Attachment.Kind.CUSTOMER_UPLOAD, "secret.png", b"OTHER")
    sar = sar_open(customer=customer, channel="portal", actor=customer.user).request

    bundle = sar_response_prepare(sar=sar, actor=lead)
    bundle = bundle_build(bundle.pk)
    assert bundle.state == BundleState.READY, bundle.error
    assert (bundle.progress_done, bundle.progress_total) == (5, 5)
    archive = _zip(bundle)
    names = set(archive.namelist())
    assert {"data.json", "summary.txt", "manifest.json"} <= names
    assert f"complaints/{first.reference}/letters/{letter.pk}-acknowledgement.pdf" in names
    assert archive.read(f"complaints/{second.reference}/files/{upload.pk}-bill_photo.png") == (
        b"PNGDATA"
    )
    assert f"complaints/{first.reference}/files/{report.pk}-line_test.txt" in names
    assert not any(".." in n for n in names)
    data = json.loads(archive.read("data.json"))
    assert {c["reference"] for c in data["complaints"]} == {first.reference, second.reference}
    assert [r["reference"] for r in data["subject_access_requests"]] == [sar.reference]
    assert data["needs"] is None
    summary = archive.read("summary.txt").decode()
    assert first.reference in summary and "Wrong bill" in summary
    # In words for the customer; the codes stay in data.json for other services.
    assert f"Preferred contact method: {customer.get_preferred_contact_method_display()}" in summary
    assert data["profile"]["preferred_contact_method"] == customer.preferred_contact_method
    everything = b"".join(archive.read(n) for n in names)
    assert theirs.reference.encode() not in everything and b"OTHER" not in everything
    assert other.email.encode() not in everything

    # Not downloadable by the customer until it is sent.
    client.force_login(customer.user)
    download = reverse("accounts:sar-download", args=[sar.reference])
    assert client.get(download).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        sar_fulfil(sar=sar, actor=lead)
    assert "is ready" in mail.outbox[-1].body
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    sar.refresh_from_db()
    kinds = list(sar.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["fulfilled", "customer_told", "downloaded"]
    assert "response_ready" in kinds and "response_requested" in kinds

    # Another customer cannot have it, even knowing the reference.
    client.force_login(other.user)
    assert client.get(download).status_code == 404


def test_the_response_holds_the_recorded_needs_in_data_and_summary(lead):
    """Issue 15 items 1 and 5: what we hold includes the needs the customer told us about."""
    from accounts.needs import needs_record

    customer = _customer()
    complaint_make(customer=customer, subject="Broadband drops")
    needs_record(
        customer=customer,
        actor=lead,
        consent_how="phone",
        kinds=["hearing"],
        details="Uses a hearing aid; prefers calls after 2pm",
        call_times="weekdays after 2pm",
    )
    sar = sar_open(customer=customer, channel="letter", actor=lead).request

    bundle = bundle_build(sar_response_prepare(sar=sar, actor=lead).pk)

    archive = _zip(bundle)
    needs = json.loads(archive.read("data.json"))["needs"]
    assert needs["needs"] == ["Hearing loss or deafness"]
    assert needs["details"] == "Uses a hearing aid; prefers calls after 2pm"
    summary = archive.read("summary.txt").decode()
    assert "Needs: Hearing loss or deafness" in summary
    assert "Times to call: weekdays after 2pm" in summary


def test_a_response_cannot_be_sent_before_it_is_ready(lead):
    sar = sar_open(customer=CustomerFactory(), channel="letter", actor=lead).request
    with pytest.raises(SarRuleError, match="Prepare the response first"):
        sar_fulfil(sar=sar, actor=lead)
    sar_response_prepare(sar=sar, actor=lead)  # queued, not built
    with pytest.raises(SarRuleError, match="Prepare the response first"):
        sar_fulfil(sar=sar, actor=lead)


def test_an_agent_may_log_but_not_answer(client, lead):
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    sar = sar_open(customer=CustomerFactory(), channel="letter", actor=agent).request
    client.force_login(agent)
    assert (
        client.get(reverse("admin:accounts_subjectaccessrequest_change", args=[sar.pk])).status_code
        == 200
    )
    assert client.post(reverse("admin:accounts_sar_act", args=[sar.pk, "send"])).status_code == 403
    client.force_login(lead)
    page = client.get(reverse("admin:accounts_subjectaccessrequest_change", args=[sar.pk]))
    assert b"Prepare the response" in page.content
    bundle = bundle_build(sar_response_prepare(sar=sar, actor=lead).pk)
    progress = reverse("complaints:bundle-progress", args=[bundle.pk])
    download = reverse("complaints:bundle-download", args=[bundle.pk])
    assert client.get(progress).status_code == 200
    assert client.get(download).status_code == 200
    # The response holds every department's complaints: not for an agent's eyes.
    client.force_login(agent)
    assert client.get(progress).status_code == 404
    assert client.get(download).status_code == 404


def test_history_rows_cannot_be_changed_or_deleted(lead):
    sar = sar_open(customer=CustomerFactory(), channel="letter", actor=lead).request
    event = sar.events.first()
    event.reason = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        sar.events.all().delete()
    with pytest.raises(PermissionError):
        sar.events.update(reason="x")


def test_an_upload_named_like_a_path_stays_in_its_folder():
    """Unused import guard: SimpleUploadedFile names are cleaned like any other."""
    from accounts.sar_bundle import _safe_name

    assert _safe_name(SimpleUploadedFile("../../etc/passwd", b"").name) == "passwd"
    assert _safe_name("..\\..\\win.ini") == "win.ini"
    assert _safe_name("...") == "file"


def test_the_customer_page_offers_to_log_a_request_and_lists_theirs(client, lead):
    customer = CustomerFactory()
    sar_open(customer=customer, channel="letter", actor=lead)
    sar_open(customer=CustomerFactory(), channel="letter", actor=lead)
    client.force_login(lead)
    page = client.get(reverse("admin:accounts_customer_change", args=[customer.pk])).content
    add = f"{reverse('admin:accounts_subjectaccessrequest_add')}?customer={customer.pk}"
    listed = reverse("admin:accounts_subjectaccessrequest_changelist")
    assert add.encode() in page.replace(b"&amp;", b"&")
    form = client.get(add).content.decode()
    assert f'value="{customer.pk}" selected' in form
    theirs = client.get(listed, {"customer__id__exact": customer.pk})
    assert theirs.status_code == 200
    assert theirs.context["cl"].result_count == 1


def test_the_alerts_command_raises_each_alert_once(lead):
    from io import StringIO

    from django.core.management import call_command

    sar_open(customer=CustomerFactory(), channel="letter", actor=lead, received_at=RECEIVED,
             now=RECEIVED)  # fmt: skip
    out = StringIO()
    with time_machine.travel(datetime(2026, 9, 1, 9, tzinfo=LONDON), tick=False):
        call_command("sar_alerts", stdout=out)
        call_command("sar_alerts", stdout=out)
    assert out.getvalue().count("overdue") == 1
    assert "0 alert(s) raised." in out.getvalue()


def test_erasure_removes_what_was_asked_and_the_answer_but_keeps_the_dates(
    lead, django_capture_on_commit_callbacks
):
    """UK GDPR: the ZIP of everything we hold is personal data too; it goes with the rest."""
    from django.core.files.storage import default_storage

    from accounts.retention import customer_anonymise

    customer = _customer()
    sar = sar_open(customer=customer, channel="letter", actor=lead,
                   details="Letter from Flat 2, 10 High Street").request  # fmt: skip
    bundle = bundle_build(sar_response_prepare(sar=sar, actor=lead).pk)
    sar_fulfil(sar=sar, actor=lead)
    stored = bundle.file.name
    assert default_storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        customer_anonymise(customer=customer, actor=lead, reason="test.")
    sar.refresh_from_db()
    bundle.refresh_from_db()
    assert "High Street" not in sar.details and sar.state == "fulfilled"
    assert bundle.file.name == "" and not default_storage.exists(stored)
    assert not any(customer.name in e.reason for e in sar.events.all())
