"""A case's timeline: every source in one list, oldest first, in one query (COP-08)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from complaints.models import Complaint
from complaints.selectors import complaint_timeline
from complaints.services.desk import (
    complaint_attachment_add,
    complaint_note_add,
    complaint_third_party_log,
)
from complaints.services.responses import complaint_customer_reply
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
PDF = b"%PDF-1.4\n%%EOF\n"


def _case_with_one_of_each_at_the_same_moment():
    """Filed on Monday; then a reply, a file, a note and third-party mail all at 11:00."""
    agent = StaffUserFactory(role="support_agent", name="Sam Agent")
    with time_machine.travel(datetime(2026, 3, 9, 9, 30, tzinfo=LONDON), tick=False):
        complaint = complaint_make()
    with time_machine.travel(datetime(2026, 3, 9, 11, 0, tzinfo=LONDON), tick=False):
        complaint_customer_reply(complaint=complaint, body="Still down.", channel="email")
        complaint_attachment_add(
            complaint=complaint,
            actor=agent,
            upload=SimpleUploadedFile("line.pdf", PDF, content_type="application/pdf"),
            customer_visible=False,
            max_bytes=10_000,
        )
        complaint_note_add(complaint=complaint, actor=agent, body="Noise on the line.")
        complaint_third_party_log(
            complaint=complaint, actor=agent, third_party_name="Openreach",
            direction="out", body="Please test the line.",
        )  # fmt: skip
    return Complaint.objects.select_related("customer").get(pk=complaint.pk)


def test_staff_see_every_source_oldest_first_in_one_query(django_assert_num_queries):
    complaint = _case_with_one_of_each_at_the_same_moment()
    with django_assert_num_queries(1):
        timeline = complaint_timeline(complaint)
    moments = [e.at for e in timeline]
    assert moments == sorted(moments)
    eleven = [e for e in timeline if e.at.astimezone(LONDON).hour == 11]
    # At the same moment: the message, the file, the note, the third party, then the
    # history lines those made, in that order.
    kinds = [e.kind for e in eleven]
    assert kinds[:4] == ["correspondence", "attachment", "note", "third_party"]
    assert set(kinds[4:]) == {"event"}
    message, upload, note, third_party = eleven[:4]
    assert (message.who, message.title, message.text) == (
        "customer", "From the customer (email)", "Still down.",
    )  # fmt: skip
    assert (upload.who, upload.title, upload.text) == (
        "Sam Agent", "Technical report: line.pdf", "application/pdf, 15 bytes",
    )  # fmt: skip
    assert upload.attachment_id is not None and not upload.customer_visible
    assert (note.who, note.title, note.text) == ("Sam Agent", "Internal note", "Noise on the line.")
    assert third_party.title == "Third party: to Openreach"
    assert any(e.title.startswith("Status: ") for e in timeline if e.kind == "event")


def test_the_customer_sees_only_what_is_theirs_to_see(django_assert_num_queries):
    complaint = _case_with_one_of_each_at_the_same_moment()
    with django_assert_num_queries(1):
        timeline = complaint_timeline(complaint, customer_view=True)
    assert [e.kind for e in timeline] == ["correspondence"] * len(timeline)
    assert "Still down." in [e.text for e in timeline]
    assert all(e.customer_visible for e in timeline)
