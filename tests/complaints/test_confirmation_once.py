"""A confirmation link confirms once: used again (or for a confirmed address) it says so and
sends the person to sign in, confirming and recording nothing (issue 12 item 9)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Customer, User
from complaints.models import CaseEvent
from tests.accounts.factories import DEMO_PASSWORD

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 24, 12, 0, tzinfo=LONDON)
SIGN_IN = f"{reverse('accounts:login')}?next={reverse('complaints:my-complaints')}"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def complain(client, django_capture_on_commit_callbacks, *, token="a" * 32):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("complaints:complain"),
            {"token": token, "name": "Priya Patel", "email": "priya@example.com",
             "about": "technical_support", "subject": "Broadband drops every evening",
             "description": "Since Monday the line drops at 7pm.",
             "preferred_contact_method": "email", "customer_type": "consumer"},
        )  # fmt: skip


def links() -> list[str]:
    return [
        re.search(r"http://testserver(/confirm/[^/\s]+/)", m.body).group(1)
        for m in mail.outbox
        if m.subject == "Confirm your email address"
    ]


def state() -> tuple:
    """Everything a confirmation writes: the customer, the login and their history."""
    customer = Customer.objects.get(email="priya@example.com")
    user = User.objects.get(email="priya@example.com")
    return (
        customer.email_confirmed_at,
        customer.user_id,
        user.last_login,
        list(user.groups.values_list("name", flat=True)),
        User.objects.count(),
        Customer.objects.count(),
        CaseEvent.objects.count(),
    )


def test_a_used_link_says_already_confirmed_and_sends_to_sign_in(
    client, frozen, django_capture_on_commit_callbacks
):
    complain(client, django_capture_on_commit_callbacks)
    (link,) = links()
    assert client.post(link)["Location"] == reverse("complaints:my-complaints")
    before = state()

    # Someone else opens the same link later (a forwarded email, a shared computer).
    frozen.shift(3600)
    stranger = Client()
    response = stranger.post(link)
    assert response.status_code == 302
    assert response["Location"] == SIGN_IN
    assert SESSION_KEY not in stranger.session  # the link signs nobody in a second time
    assert state() == before  # nothing confirmed or recorded again
    page = stranger.get(response["Location"]).content.decode()
    assert "This address is already confirmed" in page
    assert "<h1>Sign in</h1>" in page


def test_the_customer_signed_in_already_goes_to_their_complaints(
    client, django_capture_on_commit_callbacks
):
    complain(client, django_capture_on_commit_callbacks)
    (link,) = links()
    client.post(link)
    before = state()
    response = client.post(link, follow=True)
    assert response.redirect_chain == [(reverse("complaints:my-complaints"), 302)]
    assert "This address is already confirmed" in response.content.decode()
    assert state() == before


def test_a_new_link_for_a_confirmed_address_does_not_confirm_again(
    client, frozen, django_capture_on_commit_callbacks
):
    """A second complaint made without signing in mails a link; the address is confirmed."""
    complain(client, django_capture_on_commit_callbacks)
    client.post(links()[0])
    user = User.objects.get(email="priya@example.com")
    user.set_password(DEMO_PASSWORD)
    user.save()
    before = state()
    frozen.shift(3600)
    stranger = Client()
    complain(stranger, django_capture_on_commit_callbacks, token="b" * 32)
    second = links()[-1]
    assert second != links()[0]
    response = stranger.post(second)
    assert response["Location"] == SIGN_IN
    assert SESSION_KEY not in stranger.session
    assert state()[:5] == before[:5]  # the new complaint wrote its own history, no more
    assert "This address is already confirmed" in stranger.get(SIGN_IN).content.decode()


def test_a_customer_without_a_password_is_sent_a_link_to_choose_one(
    client, django_capture_on_commit_callbacks
):
    """Who came in by the link alone has no password: signing in needs one, so we send it."""
    complain(client, django_capture_on_commit_callbacks)
    (link,) = links()
    client.post(link)
    user = User.objects.get(email="priya@example.com")
    assert not user.has_usable_password()
    mail.outbox.clear()

    stranger = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = stranger.post(link)
    assert response["Location"] == SIGN_IN and SESSION_KEY not in stranger.session
    page = stranger.get(SIGN_IN).content.decode()
    assert "This address is already confirmed" in page
    assert "emailed you a link to choose a password" in page
    (sent,) = mail.outbox
    assert sent.to == ["priya@example.com"]  # to the address, never to whoever has the link
    path = re.search(r"http://testserver(/account/reset/\S+/)", sent.body).group(1)

    owner = Client()
    form = owner.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()
    owner.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another long phrase 7", "new_password2": "another long phrase 7"},
    )
    user.refresh_from_db()
    assert user.check_password("another long phrase 7")


def test_the_first_use_still_confirms_and_signs_in(client, django_capture_on_commit_callbacks):
    complain(client, django_capture_on_commit_callbacks)
    response = client.post(links()[0], follow=True)
    assert "Thank you: your email address is confirmed." in response.content.decode()
    assert Customer.objects.get().email_confirmed_at == NOW
    assert SESSION_KEY in client.session
