"""Notices to a representative acting for the customer (issue 15 item 4; Ofcom GC C5).

Through every channel a complaint arrives on (portal, email, phone, letter) and every
notice the jobs send: a representative who receives letters gets each notice, by the way
they asked for (email, post, phone), addressed to them and saying whom it is about; the
customer is copied unless they asked for letters to the representative only; and each
notice still goes exactly once to each. Withdrawn or expired authority stops the letters
at once.
"""

from datetime import timedelta
from io import BytesIO, StringIO

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from accounts.representatives import representative_record, representative_withdraw
from complaints.models import CaseEvent, Complaint, DeliveryState, Notice, NoticeKind, OutboxMessage
from complaints.services.responses import complaint_respond
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_form_data, complaint_make
from tests.complaints.test_formats import (
    ADDRESS,
    EMAIL_DAY,
    EMAILS,
    MONDAY,
    PNG,
    deliver,
    emails_of,
    sweep,
)

pytestmark = pytest.mark.django_db

REP_ADDRESS = "3 Mill Lane\nBath\nBA1 1AA"
# (how the representative wants letters, whether the customer is copied)
WAYS = [("email", True), ("email", False), ("post", True), ("phone", False)]


def represented(customer, *, contact_method="email", copy_customer=True, **extra):
    extra.setdefault("starts_at", MONDAY - timedelta(days=30))
    return representative_record(
        customer=customer,
        actor=StaffUserFactory(),
        name="Rita Carer",
        relationship="carer",
        email="rita.carer@example.org",
        phone="0117 900 5555",
        postal_address=REP_ADDRESS,
        contact_method=contact_method,
        authority_seen="letter signed by the customer",
        copy_customer=copy_customer,
        **extra,
    )


def assert_went_to_both(notice: Notice, rep, *, copy_customer: bool) -> None:
    """The notice reached the representative their way, and the customer unless told not."""
    customer = notice.complaint.customer
    mine = notice.deliveries.filter(representative__isnull=True)
    theirs = notice.deliveries.filter(representative=rep)
    if copy_customer:
        assert dict(mine.values_list("channel", "state")) == {"email": DeliveryState.SENT}
    else:
        assert not mine.exists()
    to_customer = [m for m in emails_of(notice) if m.to == [customer.email]]
    assert len(to_customer) == (1 if copy_customer else 0)
    if rep.contact_method == "email":
        assert dict(theirs.values_list("channel", "state")) == {"email": DeliveryState.SENT}
        [email] = [m for m in emails_of(notice) if m.to == [rep.email]]
        assert email.body.startswith(
            f"We are writing to you as {customer.name}'s representative (carer)"
        )
        assert notice.body in email.body
    elif rep.contact_method == "post":
        assert dict(theirs.values_list("channel", "state")) == {"post": DeliveryState.TO_POST}
        post = theirs.get()
        assert post.recipient == f"Rita Carer\n{REP_ADDRESS}"
        text = "".join(p.extract_text() for p in PdfReader(BytesIO(post.letter.file.read())).pages)
        assert "Rita Carer" in text and "representative" in text
        assert post.letter_id != notice.letter_id  # their own letter, addressed to them
    else:
        # A phone call to the representative, and their written copy by email.
        assert dict(theirs.values_list("channel", "state")) == {
            "phone": DeliveryState.TO_CALL,
            "email": DeliveryState.SENT,
        }
        assert theirs.get(channel="phone").recipient == rep.phone
    # The history says who it went to.
    event = CaseEvent.objects.filter(
        complaint=notice.complaint, kind=CaseEvent.Kind.NOTICE, extra__notice_id=notice.pk
    ).first()
    assert "to Rita Carer (carer) by" in event.reason
    if not copy_customer:
        assert "representative only, as the customer asked" in event.reason


def respond_and_auto_close(complaint, rep, copy_customer, at):
    with time_machine.travel(at, tick=False):
        complaint_respond(
            complaint=complaint,
            actor=StaffUserFactory(),
            findings="The line card was faulty.",
            fault_found=True,
            remedy_done="We replaced it.",
        )
    deliver(at)
    notice = Notice.objects.get(complaint=complaint, kind=NoticeKind.RESPONSE)
    assert_went_to_both(notice, rep, copy_customer=copy_customer)
    complaint.refresh_from_db()
    sweep(complaint.auto_close_at)
    notice = Notice.objects.get(complaint=complaint, kind=NoticeKind.AUTO_CLOSED)
    assert_went_to_both(notice, rep, copy_customer=copy_customer)
    before = (Notice.objects.count(), OutboxMessage.objects.count(), len(mail.outbox))
    sweep(complaint.auto_close_at + timedelta(days=1))
    assert (Notice.objects.count(), OutboxMessage.objects.count(), len(mail.outbox)) == before


# --- Every channel a complaint arrives on -------------------------------------------------


@pytest.mark.parametrize(("way", "copy_customer"), WAYS)
def test_on_the_portal(way, copy_customer):
    customer = CustomerFactory(confirmed=True, postal_address=ADDRESS)
    rep = represented(customer, contact_method=way, copy_customer=copy_customer)
    client = Client()
    client.force_login(customer.user)
    with time_machine.travel(MONDAY, tick=False):
        form = complaint_form_data(name=customer.name, email=customer.email)
        assert client.post(reverse("complaints:complain"), form).status_code == 302
    deliver(MONDAY)
    complaint = Complaint.objects.get(customer=customer)
    ack = Notice.objects.get(complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT)
    assert_went_to_both(ack, rep, copy_customer=copy_customer)
    respond_and_auto_close(complaint, rep, copy_customer, MONDAY + timedelta(days=1))


@pytest.mark.parametrize(("way", "copy_customer"), WAYS)
def test_on_the_portal_without_signing_in(way, copy_customer):
    """Found by the email typed in: the representative is read with the customer's record."""
    customer = CustomerFactory(postal_address=ADDRESS)
    rep = represented(customer, contact_method=way, copy_customer=copy_customer)
    with time_machine.travel(MONDAY, tick=False):
        form = complaint_form_data(name=customer.name, email=customer.email)
        assert Client().post(reverse("complaints:complain"), form).status_code == 302
    deliver(MONDAY)
    complaint = Complaint.objects.get(customer=customer)
    ack = Notice.objects.get(complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT)
    assert_went_to_both(ack, rep, copy_customer=copy_customer)


def test_on_the_portal_after_the_authority_was_withdrawn_only_the_customer_hears():
    customer = CustomerFactory(confirmed=True, postal_address=ADDRESS)
    rep = represented(customer, copy_customer=False)
    representative_withdraw(rep=rep, actor=StaffUserFactory(), reason="Ended.")
    client = Client()
    client.force_login(customer.user)
    with time_machine.travel(MONDAY, tick=False):
        form = complaint_form_data(name=customer.name, email=customer.email)
        assert client.post(reverse("complaints:complain"), form).status_code == 302
    deliver(MONDAY)
    ack = Notice.objects.get(complaint__customer=customer, kind=NoticeKind.ACKNOWLEDGEMENT)
    assert list(ack.deliveries.values_list("representative", "recipient")) == [
        (None, customer.email)
    ]


@pytest.mark.parametrize(("way", "copy_customer"), WAYS)
def test_by_email(way, copy_customer):
    customer = CustomerFactory(email="zoe.bronte@example.org", postal_address=ADDRESS)
    rep = represented(customer, contact_method=way, copy_customer=copy_customer)
    with time_machine.travel(EMAIL_DAY, tick=False):
        raw = (EMAILS / "01-plain-utf8.eml").read_bytes()
        call_command("ingest_email", stdin=BytesIO(raw), stdout=StringIO())
    deliver(EMAIL_DAY)
    complaint = Complaint.objects.get(customer=customer)
    ack = Notice.objects.get(complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT)
    assert_went_to_both(ack, rep, copy_customer=copy_customer)
    respond_and_auto_close(complaint, rep, copy_customer, EMAIL_DAY + timedelta(days=1))


@pytest.mark.parametrize(("way", "copy_customer"), WAYS)
def test_by_phone(way, copy_customer):
    customer = CustomerFactory(account_reference="ACC-PHONE", postal_address=ADDRESS)
    rep = represented(customer, contact_method=way, copy_customer=copy_customer)
    client = Client()
    client.force_login(StaffUserFactory(role="support_agent"))
    with time_machine.travel(MONDAY, tick=False):
        response = client.post(
            reverse("admin:complaints_complaint_log_call"),
            {
                "account_reference": "ACC-PHONE",
                "department": "technical_support",
                "subject": "Broadband drops",
                "description": "Her carer rang: it drops every evening.",
                "called_at": "2026-11-23T09:50",
                "resolved": "no",
                "promised_at": "2026-11-24T12:00",
                "contact_method": "email",
            },
        )
    assert response.status_code == 302
    complaint = Complaint.objects.get(customer=customer)
    respond_and_auto_close(complaint, rep, copy_customer, MONDAY + timedelta(hours=2))


@pytest.mark.parametrize(("way", "copy_customer"), WAYS)
def test_by_letter(way, copy_customer):
    customer = CustomerFactory(account_reference="ACC-LETTER", postal_address=ADDRESS)
    rep = represented(customer, contact_method=way, copy_customer=copy_customer)
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
                "description": "Written by her attorney.",
                "received_at": "2026-11-23T09:00",
                "scan": SimpleUploadedFile("scan.png", PNG, content_type="image/png"),
            },
        )
    assert response.status_code == 302
    complaint = Complaint.objects.get(customer=customer)
    respond_and_auto_close(complaint, rep, copy_customer, MONDAY + timedelta(hours=2))


# --- Every notice the jobs send ------------------------------------------------------------


@pytest.mark.parametrize(("way", "copy_customer"), WAYS)
def test_the_adr_letter_and_ombudsman_warning_from_the_sweep(way, copy_customer):
    """COP-16 and COP-18 letters reach the representative too, once each."""
    customer = CustomerFactory(postal_address=ADDRESS)
    rep = represented(customer, contact_method=way, copy_customer=copy_customer)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
    deliver(MONDAY)
    sweep(complaint.adr_eligible_at)
    notice = Notice.objects.get(complaint=complaint, kind=NoticeKind.ADR_LETTER)
    assert_went_to_both(notice, rep, copy_customer=copy_customer)
    complaint.refresh_from_db()
    sweep(complaint.osc_warning_at)
    notice = Notice.objects.get(complaint=complaint, kind=NoticeKind.OSC_WARNING)
    assert_went_to_both(notice, rep, copy_customer=copy_customer)
    before = (Notice.objects.count(), OutboxMessage.objects.count(), len(mail.outbox))
    sweep(complaint.osc_warning_at + timedelta(days=3))
    assert (Notice.objects.count(), OutboxMessage.objects.count(), len(mail.outbox)) == before


def respond(complaint, at=MONDAY):
    with time_machine.travel(at, tick=False):
        complaint_respond(
            complaint=complaint, actor=StaffUserFactory(), findings="Fixed.", fault_found=False
        )
    return Notice.objects.get(complaint=complaint, kind=NoticeKind.RESPONSE)


def test_a_representative_who_does_not_receive_letters_gets_none():
    customer = CustomerFactory(postal_address=ADDRESS)
    represented(customer, receive_letters=False, act_on_case=True, copy_customer=False)
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
    notice = respond(complaint)
    assert list(notice.deliveries.values_list("channel", "representative")) == [("email", None)]


def test_withdrawn_or_expired_authority_stops_the_letters_at_once():
    customer = CustomerFactory(postal_address=ADDRESS)
    withdrawn = represented(customer)
    expiring = represented(customer, ends_at=MONDAY + timedelta(hours=1))
    with time_machine.travel(MONDAY, tick=False):
        first = complaint_make(customer=customer)
        second = complaint_make(customer=customer)
    notice = respond(first)
    assert set(notice.deliveries.values_list("representative", flat=True)) == {
        None,
        withdrawn.pk,
        expiring.pk,
    }
    with time_machine.travel(MONDAY + timedelta(minutes=5), tick=False):
        representative_withdraw(
            rep=withdrawn, actor=StaffUserFactory(), reason="The customer asked us by phone."
        )
    # The end date has passed; the expiry job has not run yet: no letters all the same.
    notice = respond(second, at=MONDAY + timedelta(hours=2))
    assert list(notice.deliveries.values_list("representative", flat=True)) == [None]


def test_named_complaints_only():
    """Authority over one complaint: its notices go to the representative; others do not."""
    customer = CustomerFactory(postal_address=ADDRESS)
    with time_machine.travel(MONDAY, tick=False):
        covered = complaint_make(customer=customer)
        other = complaint_make(customer=customer)
    rep = represented(customer, all_complaints=False, complaints=[covered])
    assert respond(covered).deliveries.filter(representative=rep).exists()
    assert not respond(other).deliveries.filter(representative__isnull=False).exists()


def test_the_formal_complaint_letter_reaches_the_representative():
    """COP-15: the customer is told their complaint is formal; so is their representative."""
    from complaints.services.desk import complaint_escalate

    customer = CustomerFactory(postal_address=ADDRESS)
    rep = represented(customer, contact_method="post")
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make(customer=customer)
        complaint_escalate(
            complaint=complaint, actor=None, requested="company_secretary", reason="Not fixed."
        )
    deliver(MONDAY)
    notice = Notice.objects.get(complaint=complaint, kind=NoticeKind.FORMAL_OPENED)
    assert_went_to_both(notice, rep, copy_customer=True)
