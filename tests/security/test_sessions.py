"""Sessions: a new key at sign-in (no fixation), gone at sign-out, secure cookies in production."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.accounts.factories import CustomerFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a long passphrase 42"


@pytest.fixture
def customer():
    customer = CustomerFactory(with_user=True)
    customer.email_confirmed_at = customer.created_at
    customer.save()
    customer.user.set_password(PASSWORD)
    customer.user.save()
    return customer


def test_signing_in_rotates_the_session_and_signing_out_ends_it(customer):
    client = Client()
    client.get(reverse("complaints:complain"))  # an anonymous session with a CSRF token
    before = client.cookies.get(settings.SESSION_COOKIE_NAME)
    before_key = before.value if before else None
    response = client.post(
        reverse("accounts:login"), {"username": customer.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    after_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after_key and after_key != before_key
    assert client.get(reverse("complaints:my-complaints")).status_code == 200

    stolen = Client()
    stolen.cookies[settings.SESSION_COOKIE_NAME] = after_key
    assert stolen.get(reverse("complaints:my-complaints")).status_code == 200
    client.post(reverse("accounts:logout"))
    # The old session key is worthless after sign-out, even to someone who copied it.
    assert stolen.get(reverse("complaints:my-complaints")).status_code == 302


def test_changing_the_password_keeps_this_session_and_ends_others(customer):
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.post(
            reverse("accounts:login"), {"username": customer.user.email, "password": PASSWORD}
        )
    here.post(
        reverse("accounts:password"),
        {"old_password": PASSWORD, "new_password1": "another long one 77",
         "new_password2": "another long one 77"},
    )  # fmt: skip
    assert here.get(reverse("complaints:my-complaints")).status_code == 200
    assert elsewhere.get(reverse("complaints:my-complaints")).status_code == 302
