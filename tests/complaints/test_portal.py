"""The customer portal: filing, confirming, following, replying, escalating (COP-05, 10, 11, 17)."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import Customer, User
from complaints.domain.lifecycle import Status
from complaints.models import (
    Attachment,
    CaseNote,
    Complaint,
    DeliveryChannel,
    Notice,
    NoticeKind,
    OutboxMessage,
    StaffAlert,
)
from complaints.services.desk import complaint_note_add
from complaints.services.responses import complaint_respond
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_form_data as form_data
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 24, 12, 0, tzinfo=LONDON)
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def confirmation_link() -> str:
    message = next(m for m in mail.outbox if m.subject == "Confirm your email address")
    return re.search(r"http://testserver(/confirm/[^/\s]+/)", message.body).group(1)


def signed_in(customer) -> Client:
    client = Client()
    client.force_login(customer.user)
    return client


# --- Public pages (COP-02, COP-20) ------------------------------------------------------


@pytest.mark.parametrize("name", ["home", "code", "next", "complain"])
def test_public_pages_show_the_companys_details_from_settings(client, settings, name):
    settings.REDRESS_COMPANY = {**settings.REDRESS_COMPANY, "phone": "0800 000 1234"}
    page = client.get(reverse(f"complaints:{name}"))
    assert page.status_code == 200
    assert "0800 000 1234" in page.content.decode()


def test_the_code_itself_is_published(client):
    body = client.get(reverse("complaints:code")).content.decode()
    assert "Customer Complaints Code of Practice" in body
    assert "within 10 working days" in body


# --- Filing (COP-01, COP-05) ---------------------------------------------------------------


def test_a_new_customer_files_confirms_and_then_sees_the_complaint(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("complaints:complain"), form_data())
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("complaints:complaint-sent", args=[complaint.reference])

    sent = client.get(response["Location"]).content.decode()
    assert complaint.reference in sent
    assert "We will reply by <strong>Wednesday 30 December 2026 at 5pm</strong>" in sent
    assert "technical support team will review" in sent  # the immediate action (COP-05)

    assert complaint.channel == "portal" and complaint.status == Status.ACKNOWLEDGED
    assert complaint.customer.email == "priya@example.com"
    ack = Notice.objects.get(complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT)
    assert "Wednesday 30 December 2026 at 5pm" in ack.body and complaint.reference in ack.body

    # Not visible until the email address is confirmed.
    assert client.get(reverse("complaints:my-complaints")).status_code == 302
    link = confirmation_link()
    assert client.get(link).status_code == 200  # a page with a button: GET changes nothing
    assert not Customer.objects.get().email_confirmed_at
    response = client.post(link)
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.email_confirmed_at and customer.user.email == "priya@example.com"
    listing = client.get(reverse("complaints:my-complaints")).content.decode()
    assert complaint.reference in listing


def test_the_confirmation_link_expires(client, frozen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("complaints:complain"), form_data())
    frozen.shift(timedelta(days=4))
    page = client.post(confirmation_link()).content.decode()
    assert "This link has expired" in page
    assert not Customer.objects.get().email_confirmed_at
    tampered = client.post(confirmation_link()[:-3] + "xx/").content.decode()
    assert "not valid" in tampered


def test_sending_the_same_form_twice_files_one_complaint(client):
    first = client.post(reverse("complaints:complain"), form_data())
    second = client.post(reverse("complaints:complain"), form_data())
    complaint = Complaint.objects.get()
    assert complaint.portal_token == form_data()["token"]
    assert first["Location"] == second["Location"]


def test_bad_input_gets_clear_messages_and_saves_nothing(client):
    response = client.post(
        reverse("complaints:complain"),
        form_data(name="", email="not-an-email", description="", preferred_contact_method="phone"),
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in body
    assert 'href="#id_name"' in body and 'href="#id_email"' in body
    assert "Enter a telephone number" in body
    assert 'aria-invalid="true"' in body
    assert "Broadband drops every evening" in body  # what was typed is kept
    assert not Complaint.objects.exists() and not Customer.objects.exists()


def test_attachments_are_checked_by_content_and_limited_to_five(client):
    files = [SimpleUploadedFile(f"f{i}.pdf", PDF) for i in range(6)]
    response = client.post(reverse("complaints:complain"), {**form_data(), "files": files})
    assert "at most 5" in response.content.decode()
    fake = SimpleUploadedFile("photo.png", b"<svg onload=alert(1)>")
    response = client.post(reverse("complaints:complain"), {**form_data(), "files": [fake]})
    assert "not one we accept" in response.content.decode()
    assert not Complaint.objects.exists() and not Attachment.objects.exists()

    good = [SimpleUploadedFile("bill.pdf", PDF), SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n0")]
    client.post(reverse("complaints:complain"), {**form_data(), "files": good})
    assert sorted(
        Attachment.objects.filter(kind="customer_upload").values_list("original_name", flat=True)
    ) == [
        "bill.pdf",
        "x.png",
    ]


def test_a_signed_in_customer_files_under_their_own_record(django_capture_on_commit_callbacks):
    customer = CustomerFactory(confirmed=True, email="sam@example.com", name="Sam Smith")
    client = signed_in(customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("complaints:complain"),
            form_data(name="Someone Else", email="x@evil.test"),
        )
    complaint = Complaint.objects.get()
    assert complaint.customer == customer
    assert not any(m.subject == "Confirm your email address" for m in mail.outbox)
    sent = client.get(response["Location"]).content.decode()
    assert reverse("complaints:complaint-detail", args=[complaint.reference]) in sent


def test_choosing_post_asks_for_the_postal_address_and_keeps_what_was_typed(client):
    """A complaint answered by post needs somewhere to post it (COP-05 acknowledgement)."""
    response = client.post(
        reverse("complaints:complain"), form_data(preferred_contact_method="post")
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'href="#id_postal_address"' in body
    assert "Enter your postal address, or choose another way to contact you." in body
    assert "Broadband drops every evening" in body
    assert not Complaint.objects.exists() and not Customer.objects.exists()


def test_the_postal_address_given_on_the_form_is_where_the_letters_go(
    client, django_capture_on_commit_callbacks
):
    address = "12 Mill Road\nKeynsham\nBS31 1AA"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("complaints:complain"),
            form_data(preferred_contact_method="post", postal_address=address),
        )
    complaint = Complaint.objects.get()
    assert complaint.customer.postal_address == address
    delivery = OutboxMessage.objects.get(notice__complaint=complaint)
    assert delivery.channel == DeliveryChannel.POST
    assert delivery.recipient == f"Priya Patel\n{address}"


def test_a_signed_in_customer_posts_to_the_address_on_file_not_one_typed_over_it():
    """The address on file changes on the account page only, like the name and email."""
    customer = CustomerFactory(
        confirmed=True, email="sam@example.com", postal_address="1 High St\nBath BA1 1AA"
    )
    client = signed_in(customer)
    form = client.get(reverse("complaints:complain")).content.decode()
    assert "1 High St" in form and re.search(
        r'<textarea[^>]*name="postal_address"[^>]*disabled', form
    )
    client.post(
        reverse("complaints:complain"),
        form_data(preferred_contact_method="post", postal_address="Somewhere else"),
    )
    customer.refresh_from_db()
    assert Complaint.objects.get().customer == customer
    assert customer.postal_address == "1 High St\nBath BA1 1AA"

    # Without one on file, what they type is recorded.
    other = CustomerFactory(confirmed=True, email="kim@example.com", postal_address="")
    signed_in(other).post(
        reverse("complaints:complain"),
        form_data(token="f" * 32, preferred_contact_method="post", postal_address="2 Low St\nBath"),
    )
    other.refresh_from_db()
    assert other.postal_address == "2 Low St\nBath"


# --- Following a complaint -----------------------------------------------------------------------


def test_the_detail_page_shows_clocks_in_words_and_never_internal_notes():
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer, subject="<script>alert(1)</script>")
    agent = StaffUserFactory()
    complaint_note_add(complaint=complaint, actor=agent, body="Customer sounds difficult")
    body = (
        signed_in(customer)
        .get(reverse("complaints:complaint-detail", args=[complaint.reference]))
        .content.decode()
    )
    assert "We will reply by Wednesday 30 December 2026 at 5pm." in body
    assert "We aim to resolve your complaint by" in body
    assert "If your complaint is not resolved by Thursday 18 February 2027 at midday" in body
    assert "Customer sounds difficult" not in body
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
    assert CaseNote.objects.count() == 1


def test_after_our_response_the_page_says_when_it_will_close():
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    complaint_respond(
        complaint=complaint, actor=None, findings="Faulty router.", fault_found=True,
        remedy_done="Sent a new one.",
    )  # fmt: skip
    body = (
        signed_in(customer)
        .get(reverse("complaints:complaint-detail", args=[complaint.reference]))
        .content.decode()
    )
    assert "If we do not hear from you by the end of" in body
    assert "Faulty router." in body


def test_a_reply_stops_auto_close_and_a_reply_after_closure_reopens():
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    complaint_respond(complaint=complaint, actor=None, findings="Fixed.", fault_found=False)
    client = signed_in(customer)
    url = reverse("complaints:complaint-reply", args=[complaint.reference])
    response = client.post(url, {"body": "Still broken."})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.INVESTIGATING and complaint.auto_close_at is None

    complaint_transition(complaint=complaint, to=Status.RESPONDED, actor=None, reason="r")
    complaint_transition(
        complaint=complaint, to=Status.CLOSED, actor=None, reason="c", closure_reason="withdrawn"
    )
    detail = client.get(reverse("complaints:complaint-detail", args=[complaint.reference]))
    assert "We closed it on " in detail.content.decode()
    file = SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n0000")
    client.post(url, {"body": "It broke again.", "files": [file]})
    complaint.refresh_from_db()
    assert complaint.status == Status.INVESTIGATING
    assert complaint.first_made_at == NOW
    assert Attachment.objects.get(kind="customer_upload").customer_visible


def test_still_not_satisfied_makes_it_formal_with_the_person_asked_for():
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    client = signed_in(customer)
    url = reverse("complaints:complaint-escalate", args=[complaint.reference])
    assert "There is a problem" in client.post(url, {"reason": "No"}).content.decode()
    client.post(url, {"requested": "company_secretary", "reason": "Nobody called me back."})
    complaint.refresh_from_db()
    assert complaint.status == Status.FORMAL
    assert complaint.events.get(to_status="formal").extra["requested"] == "company_secretary"
    assert complaint.adr_eligible_at == NOW + timedelta(weeks=8)  # the clock is not reset
    # COP-15: a register reference of its own, and the customer is told it.
    case = complaint.formal_case
    assert re.fullmatch(r"FCR-2026-\d{4}", case.register_reference)
    told = Notice.objects.get(complaint=complaint, kind=NoticeKind.FORMAL_OPENED).body
    assert case.register_reference in told and complaint.reference in told


def test_asking_for_a_deadlock_letter_alerts_the_managers_once():
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    client = signed_in(customer)
    url = reverse("complaints:complaint-deadlock", args=[complaint.reference])
    client.post(url, {"reason": "You said you can do no more."})
    client.post(url, {"reason": "again"})
    complaint.refresh_from_db()
    assert complaint.deadlock_requested_at == NOW
    assert StaffAlert.objects.filter(kind="deadlock_request", audience="managers").count() == 1


def test_letters_and_files_download_only_when_visible_to_the_customer():
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    shown = Attachment.objects.create(
        complaint=complaint, kind="letter_sent", file=SimpleUploadedFile("l.pdf", PDF),
        original_name="letter.pdf", content_type="application/pdf", size=len(PDF),
        customer_visible=True,
    )  # fmt: skip
    hidden = Attachment.objects.create(
        complaint=complaint, kind="technical_report", file=SimpleUploadedFile("r.pdf", PDF),
        original_name="report.pdf", content_type="application/pdf", size=len(PDF),
    )  # fmt: skip
    client = signed_in(customer)
    ok = client.get(reverse("complaints:complaint-file", args=[complaint.reference, shown.pk]))
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == PDF
    no = client.get(reverse("complaints:complaint-file", args=[complaint.reference, hidden.pk]))
    assert no.status_code == 404


# --- Security: customers reach only their own complaints ----------------------------------------

PORTAL_CASE_URLS = [
    ("complaints:complaint-detail", {}),
    ("complaints:complaint-reply", {}),
    ("complaints:complaint-escalate", {}),
    ("complaints:complaint-deadlock", {}),
    ("complaints:complaint-file", {"pk": True}),
]


def test_every_case_url_of_the_portal_is_in_this_matrix():
    from complaints.urls import urlpatterns

    names = {f"complaints:{p.name}" for p in urlpatterns if "<str:reference>" in str(p.pattern)}
    names.discard("complaints:complaint-sent")  # guarded by a signed cookie, tested below
    assert names == {name for name, _ in PORTAL_CASE_URLS}


@pytest.mark.parametrize("name, extra", PORTAL_CASE_URLS, ids=[n for n, _ in PORTAL_CASE_URLS])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_customer_gets_404_and_changes_nothing(name, extra, method):
    alice, bob = CustomerFactory(confirmed=True), CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=alice)
    letter = Attachment.objects.create(
        complaint=complaint, kind="letter_sent", file=SimpleUploadedFile("l.pdf", PDF),
        original_name="letter.pdf", content_type="application/pdf", size=len(PDF),
        customer_visible=True,
    )  # fmt: skip
    kwargs = {"reference": complaint.reference, **({"pk": letter.pk} if extra else {})}
    url = reverse(name, kwargs=kwargs)
    before = (complaint.events.count(), Complaint.objects.get().status)
    data = {"body": "x", "requested": "company_secretary", "reason": "x"}
    response = getattr(signed_in(bob), method)(url, data)
    assert response.status_code in (404, 405)
    anonymous = getattr(Client(), method)(url, data)
    assert anonymous.status_code in (302, 405)
    if anonymous.status_code == 302:
        assert anonymous["Location"].startswith(reverse("accounts:login"))
    assert (complaint.events.count(), Complaint.objects.get().status) == before
    assert getattr(signed_in(alice), "get")(url).status_code == 200


def test_the_sent_page_is_only_for_the_browser_that_sent_it(client):
    client.post(reverse("complaints:complain"), form_data())
    complaint = Complaint.objects.get()
    url = reverse("complaints:complaint-sent", args=[complaint.reference])
    assert client.get(url).status_code == 200
    assert Client().get(url).status_code == 404


def test_filing_anonymously_writes_no_session_and_the_sent_cookie_cannot_be_forged(client):
    from django.contrib.sessions.models import Session

    from complaints.portal.filed import FILED_COOKIE

    other = complaint_make()
    response = client.post(reverse("complaints:complain"), form_data())
    assert Session.objects.count() == 0 and "sessionid" not in response.cookies
    cookie = response.cookies[FILED_COOKIE]
    assert cookie["httponly"] and cookie["path"] == reverse("complaints:complain")
    # Someone who edits the cookie to name another person's complaint sees nothing of it.
    value, signature = cookie.value.rsplit(":", 1)
    stranger = Client()
    stranger.cookies[FILED_COOKIE] = f"{value}:{'A' * len(signature)}"
    own = Complaint.objects.exclude(pk=other.pk).get()
    assert (
        stranger.get(reverse("complaints:complaint-sent", args=[own.reference])).status_code == 404
    )
    client.cookies[FILED_COOKIE] = f"{value}x:{signature}"
    assert client.get(reverse("complaints:complaint-sent", args=[own.reference])).status_code == 404
    assert (
        client.get(reverse("complaints:complaint-sent", args=[other.reference])).status_code == 404
    )


def test_the_sent_page_lasts_an_hour(client, frozen):
    client.post(reverse("complaints:complain"), form_data())
    url = reverse("complaints:complaint-sent", args=[Complaint.objects.get().reference])
    frozen.shift(timedelta(minutes=59))
    assert client.get(url).status_code == 200
    frozen.shift(timedelta(minutes=2))
    assert client.get(url).status_code == 404


def test_a_signed_in_customers_sent_page_goes_when_they_sign_out():
    customer, other = CustomerFactory(confirmed=True), CustomerFactory(confirmed=True)
    client = signed_in(customer)
    client.post(reverse("complaints:complain"), form_data(email=customer.email))
    url = reverse("complaints:complaint-sent", args=[Complaint.objects.get().reference])
    assert client.get(url).status_code == 200
    client.post(reverse("accounts:logout"))
    assert client.get(url).status_code == 404  # the cookie stays, but it was theirs
    client.force_login(other.user)
    assert client.get(url).status_code == 404


def test_an_unconfirmed_login_sees_no_complaints_even_with_the_same_email():
    victim = CustomerFactory(confirmed=True, email="victim@example.com")
    complaint_make(customer=victim)
    squatter = User.objects.create_user("someone@example.com", "pw-long-enough-1")
    client = Client()
    client.force_login(squatter)
    page = client.get(reverse("complaints:my-complaints")).content.decode()
    assert "Confirm your email address" in page


def test_csrf_is_enforced_on_portal_forms():
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse("complaints:complain"), form_data()).status_code == 403


def test_logout_is_a_post_only_action():
    customer = CustomerFactory(confirmed=True)
    client = signed_in(customer)
    assert client.get(reverse("accounts:logout")).status_code == 405
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("complaints:my-complaints")).status_code == 302


def test_login_redirects_only_to_our_own_pages(settings):
    customer = CustomerFactory(confirmed=True)
    customer.user.set_password("correct horse battery")
    customer.user.save()
    response = Client().post(
        reverse("accounts:login"),
        {"username": customer.user.email, "password": "correct horse battery",
         "next": "https://evil.example/steal"},
    )  # fmt: skip
    assert response.status_code == 302 and "evil.example" not in response["Location"]


def test_login_is_throttled_and_a_forged_forwarded_for_does_not_reset_it():
    customer = CustomerFactory(confirmed=True)
    customer.user.set_password("correct horse battery")
    customer.user.save()
    url = reverse("accounts:login")
    for i in range(5):
        Client(HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").post(
            url, {"username": customer.user.email, "password": f"guess{i}"}
        )
    response = Client(HTTP_X_FORWARDED_FOR="10.9.9.9").post(
        url, {"username": customer.user.email, "password": "correct horse battery"}
    )
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()


# --- Accounts -------------------------------------------------------------------------


def test_sign_up_then_confirm_links_earlier_complaints(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("complaints:complain"), form_data())
    other = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = other.post(
            reverse("accounts:signup"),
            {"name": "Priya Patel", "email": "priya@example.com",
             "password1": "a long passphrase 42", "password2": "a long passphrase 42"},
        )  # fmt: skip
    assert response.status_code == 302
    assert (
        "Confirm your email address"
        in other.get(reverse("complaints:my-complaints")).content.decode()
    )
    other.post(_last_link())
    listing = other.get(reverse("complaints:my-complaints")).content.decode()
    assert Complaint.objects.get().reference in listing
    assert Customer.objects.count() == 1


def _last_link() -> str:
    message = [m for m in mail.outbox if m.subject == "Confirm your email address"][-1]
    return re.search(r"http://testserver(/confirm/[^/\s]+/)", message.body).group(1)


def test_customers_change_their_contact_details_and_preferred_method():
    customer = CustomerFactory(confirmed=True)
    client = signed_in(customer)
    url = reverse("accounts:details")
    response = client.post(
        url,
        {"name": "New Name", "phone": "0117 123", "postal_address": "1 Road",
         "preferred_contact_method": "post", "customer_type": "business", "employee_count": "9"},
    )  # fmt: skip
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.preferred_contact_method, customer.employee_count) == (
        "New Name", "post", 9,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("method", "field", "message"),
    [
        ("post", "postal_address", "Enter your postal address"),
        ("phone", "phone", "Enter a telephone"),
    ],
)
def test_a_contact_method_we_could_not_use_is_refused_and_nothing_changes(method, field, message):
    customer = CustomerFactory(confirmed=True, name="Old Name", phone="", postal_address="")
    response = signed_in(customer).post(
        reverse("accounts:details"),
        {"name": "New Name", "phone": "", "postal_address": "",
         "preferred_contact_method": method, "customer_type": "consumer"},
    )  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200 and f'href="#id_{field}"' in body and message in body
    customer.refresh_from_db()
    assert (customer.name, customer.preferred_contact_method) == ("Old Name", "email")


def test_password_reset_by_email(client):
    customer = CustomerFactory(confirmed=True)
    client.post(reverse("accounts:password_reset"), {"email": customer.user.email})
    body = mail.outbox[-1].body
    path = re.search(r"http://testserver(/account/reset/\S+/)", body).group(1)
    page = client.get(path, follow=True)
    assert "Choose a new password" in page.content.decode()
    client.post(
        page.redirect_chain[-1][0],
        {"new_password1": "another long phrase 7", "new_password2": "another long phrase 7"},
    )
    customer.user.refresh_from_db()
    assert customer.user.check_password("another long phrase 7")


def test_a_missing_page_keeps_the_site_around_it(client, settings):
    settings.DEBUG = False
    response = client.get("/my/CMP-2026-999999/")
    assert response.status_code in (302, 404)
    page = Client().get("/no-such-page/")
    assert page.status_code == 404
    body = page.content.decode()
    assert "Page not found" in body and reverse("complaints:home") in body


def test_a_file_removed_under_the_retention_policy_is_a_404_not_an_error():
    from django.core.files.storage import default_storage

    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    gone = Attachment.objects.create(
        complaint=complaint, kind="letter_sent", file=SimpleUploadedFile("l.pdf", PDF),
        original_name="letter.pdf", content_type="application/pdf", size=len(PDF),
        customer_visible=True,
    )  # fmt: skip
    default_storage.delete(gone.file.name)
    url = reverse("complaints:complaint-file", args=[complaint.reference, gone.pk])
    assert signed_in(customer).get(url).status_code == 404


def test_a_customer_with_many_complaints_reads_them_a_page_at_a_time():
    """A business with dozens of complaints gets pages of 25, newest first, and only its own."""
    from complaints.portal.views import MY_COMPLAINTS_PER_PAGE

    customer = CustomerFactory(confirmed=True, email="busy@example.com")
    made = [
        complaint_make(customer=customer, first_made_at=NOW - timedelta(days=40 - i))
        for i in range(MY_COMPLAINTS_PER_PAGE + 5)
    ]
    complaint_make(customer=CustomerFactory(confirmed=True, email="other@example.com"))
    client = signed_in(customer)
    url = reverse("complaints:my-complaints")

    first = client.get(url).content.decode()
    assert made[-1].reference in first and made[5].reference in first
    assert made[4].reference not in first
    for complaint in made[5:]:  # each row links to its complaint's page
        detail = reverse("complaints:complaint-detail", args=[complaint.reference])
        assert f'<a href="{detail}">{complaint.reference}</a>' in first
    assert "Page 1 of 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
    assert f"Showing 1 to {MY_COMPLAINTS_PER_PAGE} of {len(made)} complaints" in first

    second = client.get(url, {"page": 2}).content.decode()
    assert [r for r in (c.reference for c in made) if r in second] == [
        c.reference for c in made[:5]
    ]
    assert "Page 2 of 2" in second and 'rel="prev"' in second
    # A page number that is not one shows a page rather than an error.
    assert "Page 1 of 2" in client.get(url, {"page": "abc"}).content.decode()
    assert "Page 2 of 2" in client.get(url, {"page": 99}).content.decode()


def test_a_formal_complaint_shows_its_register_reference_and_reviewer():
    """COP-15: the customer sees their formal complaint's reference and who reviews it,
    read with the complaint (no extra queries for a formal case)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from escalation.services import formal_case_appoint, formal_case_open

    customer = CustomerFactory(confirmed=True, email="formal@example.com")
    plain, formal = complaint_make(customer=customer), complaint_make(customer=customer)
    case = formal_case_open(
        complaint=formal, actor=None, requested="not_specified", reason="Not happy."
    )
    manager = StaffUserFactory(role="senior_manager", name="Dana <Reviewer>")
    formal_case_appoint(case=case, manager=manager, actor=manager)
    client = signed_in(customer)

    def visit(complaint):
        url = reverse("complaints:complaint-detail", args=[complaint.reference])
        with CaptureQueriesContext(connection) as ctx:
            page = client.get(url).content.decode()
        return page, len(ctx.captured_queries)

    page, formal_queries = visit(formal)
    register = case.register_reference
    assert f"Formal complaint reference <strong>{register}</strong>" in page
    assert "reviewed by Dana &lt;Reviewer&gt;" in page
    plain_page, plain_queries = visit(plain)
    assert "Formal complaint reference" not in plain_page
    assert formal_queries == plain_queries
