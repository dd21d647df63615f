"""The one optional question after a complaint closes (issue 16 item 4; COP-10, COP-15)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import signing
from django.urls import reverse

from complaints.domain.lifecycle import Status
from complaints.models import CaseEvent, Notice, NoticeKind, SatisfactionResponse
from complaints.services.enforcement import deadlines_sweep
from complaints.services.responses import complaint_respond
from complaints.services.satisfaction import SALT, satisfaction_link, satisfaction_token
from complaints.services.transitions import complaint_transition
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)


def _auto_closed(**customer_fields):
    """A complaint responded to and closed as deemed resolved by the job (COP-10)."""
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(**customer_fields)
    with time_machine.travel(MONDAY + timedelta(hours=2), tick=False):
        complaint_respond(
            complaint=complaint, actor=None, findings="Firmware.", fault_found=True,
            remedy_done="Updated it.",
        )  # fmt: skip
    with time_machine.travel(datetime(2026, 12, 11, 9, 0, tzinfo=LONDON), tick=False):
        deadlines_sweep()
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED
    return complaint


def _url(complaint):
    return reverse("complaints:satisfaction", args=[satisfaction_token(complaint)])


def test_the_closing_notice_carries_the_link_exactly_once_and_no_other_notice_does():
    complaint = _auto_closed()
    link = satisfaction_link(complaint).rsplit(":", 1)[0]  # the token's timestamp varies
    closing = Notice.objects.get(complaint=complaint, kind=NoticeKind.AUTO_CLOSED)
    assert closing.body.count("/satisfaction/") == 1
    assert link.split("/satisfaction/")[0] in closing.body
    others = Notice.objects.filter(complaint=complaint).exclude(kind=NoticeKind.AUTO_CLOSED)
    assert others.exists() and not any("/satisfaction/" in n.body for n in others)


def test_a_valid_link_asks_once_and_a_second_answer_changes_nothing(client):
    complaint = _auto_closed()
    url = _url(complaint)
    page = client.get(url)
    assert page.status_code == 200 and "How satisfied are you?" in page.content.decode()
    assert client.post(url, {"score": ""}).status_code == 200  # the error, nothing saved
    assert not SatisfactionResponse.objects.exists()
    response = client.post(url, {"score": "4", "comment": "Quick   and polite."})
    assert "Thank you" in response.content.decode()
    answer = SatisfactionResponse.objects.get()
    assert (answer.score, answer.comment, answer.via) == (4, "Quick and polite.", "link")
    assert complaint.events.filter(kind=CaseEvent.Kind.SATISFACTION).count() == 1
    again = client.post(url, {"score": "1", "comment": "Changed my mind."})
    assert "already answered" in again.content.decode()
    assert SatisfactionResponse.objects.get().score == 4
    assert complaint.events.filter(kind=CaseEvent.Kind.SATISFACTION).count() == 1


def test_a_comment_over_500_characters_is_refused(client):
    complaint = _auto_closed()
    response = client.post(_url(complaint), {"score": "3", "comment": "x" * 501})
    assert "500 characters" in response.content.decode()
    assert not SatisfactionResponse.objects.exists()


def test_a_tampered_link_is_refused_plainly(client):
    complaint = _auto_closed()
    token = satisfaction_token(complaint)
    other = complaint_make()
    forged = signing.dumps({"c": other.pk, "u": other.customer_id}, salt="another salt")
    for bad in (token[:-2] + "xx", forged):
        response = client.post(reverse("complaints:satisfaction", args=[bad]), {"score": "5"})
        assert response.status_code == 400 and "not valid" in response.content.decode()
    assert not SatisfactionResponse.objects.exists()


def test_an_expired_link_says_so(client, settings):
    complaint = _auto_closed()
    url = _url(complaint)
    with time_machine.travel(timezone_now_plus(settings.REDRESS_SATISFACTION_LINK_DAYS + 1)):
        response = client.post(url, {"score": "5"})
    assert response.status_code == 400 and "expired" in response.content.decode()
    assert not SatisfactionResponse.objects.exists()


def timezone_now_plus(days: int) -> datetime:
    from django.utils import timezone

    return timezone.now() + timedelta(days=days)


def test_a_link_naming_another_customers_complaint_is_refused(client):
    """A token signed for customer A's complaint but naming customer B is not a link of ours."""
    complaint = _auto_closed()
    other = complaint_make()
    mixed = signing.dumps({"c": complaint.pk, "u": other.customer_id}, salt=SALT)
    response = client.get(reverse("complaints:satisfaction", args=[mixed]))
    assert response.status_code == 400


def test_a_reopened_complaint_waits(client):
    complaint = _auto_closed()
    complaint_transition(complaint=complaint, to=Status.INVESTIGATING, actor=None, reason="Reply.")
    response = client.post(_url(complaint), {"score": "2"})
    assert "open again" in response.content.decode()
    assert not SatisfactionResponse.objects.exists()


def test_the_customers_own_page_asks_the_question_once_closed_and_thanks_after(client):
    """On the portal too (issue 16 item 4): a closed complaint's page offers the same signed
    question until it is answered, then thanks; an open complaint's page asks nothing."""
    complaint = _auto_closed(confirmed=True)
    client.force_login(complaint.customer.user)
    detail = reverse("complaints:complaint-detail", args=[complaint.reference])
    page = client.get(detail).content.decode()
    assert "How did we do?" in page
    link = page.split('href="/satisfaction/')[1].split('"')[0]
    answered = client.post(f"/satisfaction/{link}", {"score": "5"})
    assert "Thank you" in answered.content.decode()
    assert SatisfactionResponse.objects.get(complaint=complaint).score == 5
    page = client.get(detail).content.decode()
    assert "How did we do?" not in page and "5 out of 5" in page

    with time_machine.travel(MONDAY, tick=False):
        still_open = complaint_make(customer=complaint.customer)
    page = client.get(reverse("complaints:complaint-detail", args=[still_open.reference]))
    assert "How did we do?" not in page.content.decode()


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("customer_satisfied", "Thank you for letting us know that the matter is resolved."),
        ("withdrawn", "As you asked, we have withdrawn your complaint and closed it."),
    ],
)
def test_a_staff_close_tells_the_customer_once_per_closing_and_asks_the_question(
    reason, words, django_capture_on_commit_callbacks
):
    """Closed at the customer's word: the same closing letter and question as an auto-close."""
    from accounts.roles import Role
    from complaints.models import RootCause
    from complaints.services.causes import complaint_root_cause_record
    from complaints.services.portal import portal_reply
    from complaints.services.transitions import complaint_close
    from tests.accounts.factories import StaffUserFactory

    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make()
        complaint_respond(
            complaint=complaint, actor=None, findings="Firmware.", fault_found=True,
            remedy_done="Updated it.",
        )  # fmt: skip
        complaint_root_cause_record(
            complaint=complaint, actor=agent, company_at_fault=True, reason="Firmware.",
            root_cause=RootCause.objects.get(code="supplier_fault"),
        )  # fmt: skip
    with time_machine.travel(MONDAY + timedelta(days=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            complaint_close(complaint=complaint, actor=agent, closure_reason=reason, reason="")
    closing = Notice.objects.get(complaint=complaint, kind=NoticeKind.CLOSED)
    assert words in closing.body and closing.body.count("/satisfaction/") == 1
    assert closing.letter is not None and closing.deliveries.count() == 1

    # Reopened by a reply, then closed again: a second letter for the second closing.
    with time_machine.travel(MONDAY + timedelta(days=2), tick=False):
        portal_reply(complaint=complaint, user=complaint.customer.user, body="It broke again.")
        complaint.refresh_from_db()
        complaint_respond(
            complaint=complaint, actor=agent, findings="Replaced it.", fault_found=True,
            remedy_done="New router.",
        )  # fmt: skip
        complaint_close(complaint=complaint, actor=agent, closure_reason=reason, reason="")
    assert Notice.objects.filter(complaint=complaint, kind=NoticeKind.CLOSED).count() == 2
