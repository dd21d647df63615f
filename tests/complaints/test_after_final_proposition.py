"""After the final proposition: the customer's page shows it and what to do next (issue 12
item 8; COP-10, COP-15, COP-17, COP-18)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from complaints.domain.lifecycle import Status
from complaints.domain.wording import moment_words
from complaints.models import CaseEvent, ClosureReason, Correspondence
from complaints.services.desk import complaint_escalate
from complaints.services.responses import complaint_customer_reply, reply_reopens
from complaints.services.transitions import complaint_transition
from escalation.services import final_proposition_send, formal_review_save
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MADE = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
SENT = datetime(2026, 12, 14, 11, 0, tzinfo=LONDON)

FINDINGS = "An intermittent fault in the exchange card.\nIt was <b>not</b> your router."
ACTION = "We replace the card and credit £50.\nAn engineer calls on Friday."


def confirmed_customer(**fields):
    customer = CustomerFactory(with_user=True, **fields)
    customer.email_confirmed_at = MADE - timedelta(days=1)
    customer.save()
    return customer


def signed_in(customer) -> Client:
    client = Client()
    client.force_login(customer.user)
    return client


@pytest.fixture
def finished(request):
    """A formal complaint whose final proposition was sent, built through the services."""
    fields = getattr(request, "param", {})
    director = StaffUserFactory(
        role="technical_director", name="Tess Director", email="tess@example.com"
    )
    customer = confirmed_customer(name="Grace Hopper", email="grace@example.com", **fields)
    with time_machine.travel(MADE, tick=False):
        complaint = complaint_make(customer=customer, subject="Line drops every night")
    with time_machine.travel(MADE + timedelta(days=3), tick=False):
        complaint_escalate(
            complaint=complaint,
            actor=customer.user,
            requested="technical_director",
            reason="It dropped again after the engineer left.",
        )
    complaint.refresh_from_db()
    case = complaint.formal_case
    assert case.senior_manager == director
    with time_machine.travel(SENT - timedelta(hours=2), tick=False):
        formal_review_save(
            case=case,
            actor=director,
            further_investigation="Line test over five days.",
            findings=FINDINGS,
            proposed_action=ACTION,
        )
    with time_machine.travel(SENT, tick=False):
        final_proposition_send(case=case, actor=director)
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED
    assert complaint.closure_reason == ClosureReason.FINAL_PROPOSITION
    assert complaint.deadlock_letter_received_at is not None
    return complaint


@pytest.fixture
def now():
    with time_machine.travel(SENT + timedelta(days=2), tick=False) as traveller:
        yield traveller


def detail(client, complaint):
    return client.get(reverse("complaints:complaint-detail", args=[complaint.reference]))


def buttons(page: str) -> list[str]:
    """The words of every link and button that offers an action."""
    found = re.findall(r'<a class="button[^"]*"[^>]*>(.*?)</a>', page, re.S)
    found += re.findall(r"<button[^>]*>(.*?)</button>", page, re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", text).strip() for text in found]


def test_the_page_shows_the_final_proposition_and_the_ombudsman_by_the_stored_date(
    finished, now, settings
):
    settings.REDRESS_ADR_SCHEME = {
        **settings.REDRESS_ADR_SCHEME,
        "name": "Ombudsman Services: Communications",
        "website": "https://www.ombudsman-services.org/communications",
        "phone": "0330 440 1614",
    }
    complaint = finished
    page = detail(signed_in(complaint.customer), complaint).content.decode()

    assert "<h2>Our final proposition</h2>" in page
    assert complaint.formal_case.register_reference in page
    assert "Tess Director, Technical Director" in page
    assert "Monday 14 December 2026" in page  # the date it was sent
    # The review's own words, escaped, with their line breaks kept.
    assert "An intermittent fault in the exchange card.<br>It was &lt;b&gt;not&lt;/b&gt;" in page
    assert "We replace the card and credit £50.<br>An engineer calls on Friday." in page

    assert "<h2>What you can do next</h2>" in page
    assert "Ombudsman Services: Communications" in page
    assert 'href="https://www.ombudsman-services.org/communications"' in page
    assert "0330 440 1614" in page
    assert "free" in page and "independent" in page
    # The date comes from the stored clock, recomputed when the deadlock letter was sent.
    by = moment_words(complaint.osc_deadline_at, LONDON)
    assert f"by <strong>{by}</strong>" in page

    # Writing to us stays, but nothing offers to reopen the complaint.
    actions = buttons(page)
    assert "Write to us" in actions
    assert not [a for a in actions if "reopen" in a.lower()], actions
    assert "Reply and reopen" not in page
    assert "does not stop the ombudsman" in page and "does not reopen" in page
    assert "I am still not satisfied" not in actions
    assert "Ask for a deadlock letter" not in actions


def test_the_final_proposition_letter_is_still_on_the_page(finished, now):
    complaint = finished
    page = detail(signed_in(complaint.customer), complaint).content.decode()
    letter = complaint.attachments.get(original_name__endswith="-final-proposition.pdf")
    assert reverse("complaints:complaint-file", args=[complaint.reference, letter.pk]) in page


def test_the_ombudsman_date_is_read_from_the_complaint(finished, now):
    """The page shows the stored clock, whatever it says, not a date worked out again."""
    complaint = finished
    complaint.osc_deadline_at = datetime(2027, 9, 30, 17, 0, tzinfo=LONDON)
    complaint.save(update_fields=["osc_deadline_at"])
    page = detail(signed_in(complaint.customer), complaint).content.decode()
    assert "by <strong>Thursday 30 September 2027 at 5pm</strong>" in page


@pytest.mark.parametrize(
    "finished", [{"customer_type": "business", "employee_count": 60}], indirect=True
)
@pytest.mark.usefixtures("now")
def test_a_business_too_large_for_the_scheme_is_not_sent_to_it(finished):
    page = detail(signed_in(finished.customer), finished).content.decode()
    assert "<h2>Our final proposition</h2>" in page
    assert "cannot take complaints from businesses with more than" in page
    assert "by <strong>" not in page
    assert "Write to us" in buttons(page)


def test_a_reply_after_the_final_proposition_is_kept_and_does_not_reopen(finished, now):
    complaint = finished
    client = signed_in(complaint.customer)
    url = reverse("complaints:complaint-reply", args=[complaint.reference])

    form = client.get(url).content.decode()
    assert "<h1>Write to us</h1>" in form
    assert "reopen" not in " ".join(buttons(form)).lower()
    assert "does not reopen" in form

    events_before = complaint.events.count()
    response = client.post(url, {"body": "I accept the credit but want a new router too."})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED
    assert complaint.closure_reason == ClosureReason.FINAL_PROPOSITION
    kept = Correspondence.objects.get(complaint=complaint, direction="in")
    assert kept.body == "I accept the credit but want a new router too."
    assert complaint.last_customer_reply_at == SENT + timedelta(days=2)
    new = complaint.events.order_by("pk")[events_before:]
    assert [e.kind for e in new] == [CaseEvent.Kind.CORRESPONDENCE]
    assert "final proposition" in new[0].reason and "not reopened" in new[0].reason
    assert not complaint.events.filter(to_status=Status.INVESTIGATING).exists()

    page = client.get(response["Location"]).content.decode()
    assert "we have your message" in page
    assert "It does not reopen your complaint" in page
    assert "I accept the credit but want a new router too." in page


def test_an_email_after_the_final_proposition_does_not_reopen_either(finished, now):
    """One rule for every channel: the inbound email path calls the same service."""
    complaint = complaint_customer_reply(
        complaint=finished, body="Thanks, but no.", channel="email", message_id="<x@example>"
    )
    assert complaint.status == Status.CLOSED
    assert not reply_reopens(complaint)


def test_other_closed_complaints_still_reopen_on_a_reply(now):
    customer = confirmed_customer()
    complaint = complaint_make(customer=customer)
    complaint_transition(complaint=complaint, to=Status.RESPONDED, actor=None, reason="r")
    complaint_transition(
        complaint=complaint, to=Status.CLOSED, actor=None, reason="c", closure_reason="withdrawn"
    )
    assert reply_reopens(complaint)
    page = detail(signed_in(customer), complaint).content.decode()
    assert "Reply and reopen this complaint" in buttons(page)
    assert "Our final proposition" not in page
    signed_in(customer).post(
        reverse("complaints:complaint-reply", args=[complaint.reference]), {"body": "Again."}
    )
    complaint.refresh_from_db()
    assert complaint.status == Status.INVESTIGATING


def test_another_customer_gets_404_and_changes_nothing(finished, now):
    other = signed_in(confirmed_customer(email="sam@example.com"))
    assert detail(other, finished).status_code == 404
    url = reverse("complaints:complaint-reply", args=[finished.reference])
    assert other.post(url, {"body": "Not mine."}).status_code == 404
    assert not Correspondence.objects.filter(complaint=finished, direction="in").exists()
