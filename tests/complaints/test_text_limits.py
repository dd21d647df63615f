"""Every channel has the same text limit, and no page grows with one field's length.

The portal refuses a description over REDRESS_TEXT_LIMIT characters; an email, a phone or
letter log, a reply and the staff forms must not do what the form refuses (COP-05, COP-08).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from complaints.models import Attachment, Complaint, Correspondence, InboundEmail
from complaints.services.inbound import email_ingest
from tests.accounts.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 2, 10, 30, tzinfo=LONDON)
# An email of the largest size the mailbox accepts, nearly all of it one text body.
BODY_CHARS = settings.REDRESS_MAX_EMAIL_BYTES - 4096
# Generous for a case page with a 20,000-character description shown twice and its history.
PAGE_BYTES_MAX = 400_000


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def email(body: str, *, message_id="<huge-1@example.com>", extra_headers="") -> bytes:
    return (
        "From: Huge Sender <huge@example.com>\nTo: support@sovision.com\n"
        f"Subject: My whole story\nDate: Wed, 2 Dec 2026 09:00:00 +0000\n"
        f"Message-ID: {message_id}\n{extra_headers}"
        "Content-Type: text/plain; charset=utf-8\n\n"
    ).encode() + body.encode()


def test_a_maximum_size_email_is_cut_on_the_case_and_kept_whole_as_a_file():
    limit = settings.REDRESS_TEXT_LIMIT
    body = ("All work and no play makes a broadband line drop. " * (BODY_CHARS // 50 + 1))[
        :BODY_CHARS
    ]
    raw = email(body)
    assert len(raw) <= settings.REDRESS_MAX_EMAIL_BYTES
    with time_machine.travel(NOW, tick=False):
        result = email_ingest(raw=raw)
    assert result.state == "created", str(result)
    complaint = Complaint.objects.get(reference=result.reference)

    assert complaint.description.startswith(body[:1000])
    assert len(complaint.description) < limit + 300
    assert f"[Cut at {limit:,} characters" in complaint.description
    assert "complaint-in-full.txt" in complaint.description
    whole = Attachment.objects.get(complaint=complaint, kind=Attachment.Kind.FULL_TEXT)
    with whole.file.open("rb") as f:
        assert f.read().decode("utf-8") == body.strip()
    assert whole.customer_visible
    correspondence = Correspondence.objects.get(complaint=complaint)
    assert len(correspondence.body) < limit + 300
    assert InboundEmail.objects.get().raw.size == len(raw)  # the raw message stays whole

    staff = Client()
    staff.force_login(StaffUserFactory(role="senior_manager"))
    page = staff.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert page.status_code == 200
    assert len(page.content) < PAGE_BYTES_MAX, len(page.content)


def test_a_long_emailed_reply_is_cut_and_kept_whole():
    limit = settings.REDRESS_TEXT_LIMIT
    with time_machine.travel(NOW, tick=False):
        first = email_ingest(raw=email("My line drops.", message_id="<first@example.com>"))
        long_reply = "Still broken. " * (limit // 7)
        result = email_ingest(
            raw=email(
                long_reply,
                message_id="<second@example.com>",
                extra_headers="In-Reply-To: <first@example.com>\n",
            )
        )
    assert result.state == "threaded" and result.reference == first.reference
    reply = Correspondence.objects.filter(complaint__reference=first.reference).latest("pk")
    assert len(reply.body) < limit + 300 and "[Cut at" in reply.body
    kept = Attachment.objects.get(kind=Attachment.Kind.FULL_TEXT)
    assert kept.size == len(long_reply.strip().encode())


def test_a_staff_form_refuses_more_than_the_limit_and_keeps_what_was_typed():
    agent = StaffUserFactory(role="support_agent")
    client = Client()
    client.force_login(agent)
    too_long = "x" * (settings.REDRESS_TEXT_LIMIT + 1)
    with time_machine.travel(NOW, tick=False):
        response = client.post(
            reverse("admin:complaints_complaint_log_call"),
            {
                "name": "Ravi Caller",
                "department": "technical_support",
                "subject": "Long call",
                "description": too_long,
                "called_at": "2026-12-02T09:40",
                "resolved": "yes",
                "what_was_done": "Listened.",
            },
        )
    assert response.status_code == 200
    assert "at most 20000 characters" in response.content.decode()
    assert not Complaint.objects.exists()
