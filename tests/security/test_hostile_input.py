"""Hostile text in every field: never a server error, always shown escaped (pages, emails, PDFs)."""

from base64 import b64encode
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from complaints.models import Complaint, Notice
from complaints.services.inbound import email_ingest
from complaints.services.outbox import outbox_deliver, outbox_due_ids
from tests.accounts.factories import CustomerFactory, StaffUserFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&'
RTL = "invoice\u202efdp.exe"
CRLF = "Subject line\r\nBcc: victim@example.com\r\n\r\nInjected"
HOSTILE = [XSS, RTL, CRLF, "x" * 1_000_000, "tab\there", "\u0000nul"]


def _form(**overrides):
    data = {
        "token": "hostile000000000000000001",
        "name": "Mallory",
        "email": "mallory@example.com",
        "about": "technical_support",
        "subject": "Subject",
        "description": "Description",
        "preferred_contact_method": "email",
        "customer_type": "consumer",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("field", ["name", "subject", "description", "phone", "account_reference"])
@pytest.mark.parametrize("payload", HOSTILE, ids=["xss", "rtl", "crlf", "1mb", "tab", "nul"])
def test_the_complaint_form_never_errors_on_hostile_text(client, field, payload):
    response = client.post(reverse("complaints:complain"), _form(**{field: payload}))
    assert response.status_code in (200, 302)
    if response.status_code == 200:  # refused with a message, nothing saved
        assert "There is a problem" in response.content.decode()
        assert not Complaint.objects.exists()
    body = response.content.decode()
    assert "<script>alert" not in body


def test_hostile_text_is_escaped_on_pages_in_emails_and_in_letters():
    customer = CustomerFactory(with_user=True, name=XSS, email="mallory@example.com")
    customer.email_confirmed_at = customer.created_at
    customer.save()
    client = Client()
    client.force_login(customer.user)
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=LONDON), tick=False):
        client.post(
            reverse("complaints:complain"),
            _form(subject=XSS[:200], description=f"{XSS}\n{RTL}\n{CRLF}"),
        )
        complaint = Complaint.objects.get()
        for pk in outbox_due_ids(now=datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)):
            outbox_deliver(message_id=pk)

    # Sessions last two weeks: the one saved on 23 November has ended by today's date.
    client.force_login(customer.user)
    page = client.get(reverse("complaints:complaint-detail", args=[complaint.reference]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<script>alert" not in html and "&lt;script&gt;" in html

    staff = Client()
    staff.force_login(StaffUserFactory(role="support_agent"))
    desk = staff.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert desk.status_code == 200 and "<script>alert" not in desk.content.decode()
    listing = staff.get(reverse("admin:complaints_complaint_changelist"))
    assert listing.status_code == 200 and "<script>alert" not in listing.content.decode()

    # Email: plain text (nothing to run), and no header injection from the subject.
    (sent,) = [m for m in mail.outbox if complaint.reference in m.subject]
    message = sent.message()
    assert message["Bcc"] is None and "\n" not in str(message["Subject"])
    # The letter prints the text as text.
    notice = Notice.objects.get(complaint=complaint)
    with notice.letter.file.open("rb") as f:
        text = " ".join(p.extract_text() for p in PdfReader(BytesIO(f.read())).pages)
    assert "<script>" in text  # shown literally, not interpreted as markup


@pytest.mark.parametrize("payload", [XSS, RTL, "\u0000nul", "x" * 300_000])
def test_hostile_email_is_filed_or_kept_raw_never_an_error(payload):
    raw = (
        "From: Mallory <mallory@example.com>\r\n"
        "To: support@sovision.com\r\n"
        f"Subject: =?utf-8?b?{b64encode(payload[:150].encode()).decode()}?=\r\n"
        "Message-ID: <hostile-1@example.com>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{payload}\r\n"
    ).encode()
    result = email_ingest(raw=raw)
    assert str(result).split(" ")[0] in ("created", "quarantined")
