"""After the final proposition: a closed review, later notes apart, signed letters (COP-15, 17).

Issue 12 items 3 to 5: the formal case's summary is one label/value row per fact, the
review is read-only once the customer has been told it, a stale save is refused without
losing what was typed, and the letters carry the register reference and the reviewer's name
and title.
"""

import re
from datetime import datetime
from html.parser import HTMLParser
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from complaints.models import CaseNote, Notice, NoticeKind
from complaints.services.desk import complaint_escalate
from escalation.models import FormalCase
from escalation.services import final_proposition_send, formal_review_save
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
SENT = datetime(2026, 12, 2, 11, 0, tzinfo=LONDON)


def letter_text(complaint, kind) -> str:
    notice = Notice.objects.get(complaint=complaint, kind=kind)
    with notice.letter.file.open("rb") as f:
        text = " ".join(page.extract_text() for page in PdfReader(BytesIO(f.read())).pages)
    return re.sub(r"\s+", " ", text)


def formal_case(requested="technical_director") -> FormalCase:
    customer = CustomerFactory(name="Grace Hopper", email="grace@example.com")
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=LONDON), tick=False):
        complaint = complaint_make(customer=customer, subject="Line drops nightly")
        complaint_escalate(complaint=complaint, actor=None, requested=requested, reason="Again.")
    return FormalCase.objects.get(complaint=complaint)


@pytest.fixture
def director():
    return StaffUserFactory(role="technical_director", name="Tess Director")


@pytest.fixture
def proposed(director):
    """A formal case whose final proposition was sent by its reviewer."""
    case = formal_case()
    with time_machine.travel(SENT, tick=False):
        formal_review_save(
            case=case, actor=director, further_investigation="Line test over 5 days.",
            findings="A fault in the exchange card.", proposed_action="Replace the card.",
        )  # fmt: skip
        final_proposition_send(case=case, actor=director)
    case.refresh_from_db()
    return case


def desk(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class SummaryRows(HTMLParser):
    """Collect, for each row of each .desk-summary list, the tags it holds directly."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.stack: list[str] = []
        self.in_summary = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "dl" and "desk-summary" in classes:
            self.in_summary = len(self.stack) + 1
        elif self.in_summary:
            depth = len(self.stack) - self.in_summary
            if tag == "div" and depth == 0:
                self.rows.append([])
            elif tag in ("dt", "dd") and depth == 1:
                self.rows[-1].append(tag)
            elif tag in ("dt", "dd") and depth == 0:
                self.rows.append(["loose " + tag])
        self.stack.append(tag)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop() == tag:
                break
        if tag == "dl" and len(self.stack) < self.in_summary:
            self.in_summary = 0


def test_every_fact_of_the_summary_is_one_label_and_one_value_in_its_own_row(proposed):
    """A missing value can never pull the next label beside the wrong value (item 3)."""
    page = desk(proposed.senior_manager).get(
        reverse("escalation:formal-detail", args=[proposed.register_reference])
    )
    html = page.content.decode()
    assert 'class="facts"' not in html
    parser = SummaryRows()
    parser.feed(html)
    labels = re.findall(r"<dt>([^<]+)</dt>", html)
    for label in ("Final proposition sent", "ADR from", "Ombudsman deadline", "Findings"):
        assert label in labels
    assert len(parser.rows) == len(labels) >= 15
    assert all(row == ["dt", "dd"] for row in parser.rows), parser.rows


def test_the_review_is_read_only_once_the_final_proposition_is_sent(proposed):
    """What the customer was told is shown, not offered for editing (item 4)."""
    html = (
        desk(proposed.senior_manager)
        .get(reverse("escalation:formal-detail", args=[proposed.register_reference]))
        .content.decode()
    )
    assert "Final proposition sent Wed 2 Dec 2026 11:00" in html
    assert "A fault in the exchange card." in html
    assert 'name="findings"' not in html and "Save review" not in html
    assert 'name="body"' in html  # a later note still can be added


def test_a_save_after_the_final_proposition_is_refused_and_keeps_what_was_typed(proposed):
    """A review open in another tab cannot rewrite what was sent (item 4)."""
    client = desk(proposed.senior_manager)
    url = reverse("escalation:formal-detail", args=[proposed.register_reference])
    page = client.post(
        url,
        {"version": proposed.version - 1, "further_investigation": "Line test over 5 days.",
         "findings": "Actually it was the router.", "proposed_action": "Replace the card."},
    )  # fmt: skip
    html = page.content.decode()
    assert page.status_code == 200
    assert "The final proposition was sent on 02 Dec 2026 at 11:00" in html
    assert "Nothing was saved" in html
    # The typed change is in the note box, ready to be kept as a note.
    assert "Findings: Actually it was the router.</textarea>" in html
    proposed.refresh_from_db()
    assert proposed.findings == "A fault in the exchange card."


def test_the_service_refuses_a_closed_review_whatever_version_it_is_given(proposed):
    from escalation.services import ReviewClosed

    with pytest.raises(ReviewClosed, match="can no longer change"):
        formal_review_save(
            case=proposed, actor=proposed.senior_manager, further_investigation="",
            findings="Changed.", proposed_action="Changed.", expected_version=proposed.version,
        )  # fmt: skip


def test_a_later_note_is_recorded_apart_from_the_review(proposed):
    client = desk(proposed.senior_manager)
    response = client.post(
        reverse("escalation:formal-note", args=[proposed.register_reference]),
        {"body": "Customer rang: the card swap is booked for Friday."},
        follow=True,
    )
    assert "Note added to the case history." in response.content.decode()
    note = CaseNote.objects.get(complaint=proposed.complaint)
    assert note.body == "Customer rang: the card swap is booked for Friday."
    assert note.author == proposed.senior_manager
    assert proposed.complaint.events.filter(reason="Internal note added.").count() == 1
    proposed.refresh_from_db()
    assert proposed.findings == "A fault in the exchange card."
    empty = client.post(
        reverse("escalation:formal-note", args=[proposed.register_reference]),
        {"body": ""},
        follow=True,
    )
    assert "This field is required." in empty.content.decode()
    assert CaseNote.objects.count() == 1


def test_agents_cannot_add_notes_to_formal_cases(proposed):
    agent = StaffUserFactory(role="support_agent")
    response = desk(agent).post(
        reverse("escalation:formal-note", args=[proposed.register_reference]), {"body": "x"}
    )
    assert response.status_code == 403
    assert not CaseNote.objects.exists()


def test_the_letters_carry_the_register_reference_and_are_signed_by_the_reviewer(proposed):
    """Item 5: FCR beside CMP, and the reviewer's name and title under "Yours sincerely"."""
    complaint = proposed.complaint
    both = f"{complaint.reference} (formal complaint {proposed.register_reference})"
    for kind in (NoticeKind.FINAL_PROPOSITION, NoticeKind.DEADLOCK):
        text = letter_text(complaint, kind)
        assert f"Our reference: {both}" in text
        assert proposed.register_reference in text.split("Dear Grace Hopper", 1)[1]
        assert "Yours sincerely, Tess Director Technical Director" in text
        body = Notice.objects.get(complaint=complaint, kind=kind).body
        company = settings.REDRESS_COMPANY["name"]
        assert body.endswith(f"Yours sincerely,\n\nTess Director\nTechnical Director\n{company}")


def test_a_reviewer_signs_with_the_title_they_hold_not_the_one_asked_for(director):
    """Asked for the Technical Director, but none is free: a senior manager signs as such."""
    director.is_active = False
    director.save()
    manager = StaffUserFactory(role="senior_manager", name="Sid Manager")
    case = formal_case(requested="technical_director")
    assert case.senior_manager == manager
    with time_machine.travel(SENT, tick=False):
        formal_review_save(
            case=case, actor=manager, further_investigation="", findings="Found.",
            proposed_action="Fix.",
        )  # fmt: skip
        final_proposition_send(case=case, actor=manager)
    body = Notice.objects.get(complaint=case.complaint, kind=NoticeKind.FINAL_PROPOSITION).body
    assert "Sid Manager, a senior manager has reviewed" in body
    assert "Sid Manager\nSenior Manager\n" in body
    assert "Technical Director" not in body
