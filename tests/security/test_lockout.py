"""Nobody can lock a named person out by guessing at their password (issue 13 item 6).

Failed logins are counted per account and client address together (5), and per address
across accounts (50, higher). The client address is REMOTE_ADDR in the test client, as
behind no proxy of ours (REDRESS_TRUSTED_PROXIES = 0).
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.accounts.factories import DEMO_PASSWORD, CustomerUserFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"  # address A
ELSEWHERE = "198.51.100.20"  # address B: the real user at home, or on the office network
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

# The staff desk's sign-in and the customer portal's, each with whom it signs in.
LOGINS = {
    "staff desk": ("admin:login", StaffUserFactory),
    "customer portal": ("accounts:login", CustomerUserFactory),
}


@pytest.fixture(params=list(LOGINS))
def login(request):
    """(the sign-in page's URL, a factory for someone who signs in there)."""
    name, factory = LOGINS[request.param]
    return reverse(name), factory


def sign_in(url, email, password, *, address, at=T0):
    """Post the sign-in form from `address`; return (response, whether it signed in)."""
    client = Client(REMOTE_ADDR=address)
    with time_machine.travel(at, tick=False):
        response = client.post(url, {"username": email, "password": password})
        # Read the session at the same moment: one saved on `at` has ended two weeks later.
        return response, "_auth_user_id" in client.session


def guess(url, email, times, *, address=ATTACKER, at=T0):
    for n in range(times):
        response, signed_in = sign_in(url, email, f"wrong guess {n}", address=address, at=at)
        assert not signed_in


def test_wrong_passwords_from_one_address_do_not_stop_the_user_signing_in_elsewhere(login):
    url, factory = login
    victim = factory()
    guess(url, victim.email, 5)
    guess(url, victim.email.upper(), 5)  # the same account, typed differently

    response, signed_in = sign_in(url, victim.email, DEMO_PASSWORD, address=ELSEWHERE)
    assert signed_in and response.status_code == 302


def test_the_guessing_address_is_paused_for_that_account_then_let_go(login):
    url, factory = login
    victim, bystander = factory(), factory()
    guess(url, victim.email, 4)
    response, signed_in = sign_in(url, victim.email, DEMO_PASSWORD, address=ATTACKER)
    assert signed_in  # four wrong passwords are not enough
    guess(url, victim.email, 5)

    # Even the right password is refused from there now, with the page saying why.
    response, signed_in = sign_in(url, victim.email, DEMO_PASSWORD, address=ATTACKER)
    assert not signed_in and response.status_code == 429
    page = response.content.decode()
    assert "Too many attempts" in page and "paused for 15 minutes" in page
    assert reverse("accounts:password_reset") in page
    # Other accounts from the same address are not paused.
    assert sign_in(url, bystander.email, DEMO_PASSWORD, address=ATTACKER)[1]

    later = T0 + timedelta(minutes=16)
    assert sign_in(url, victim.email, DEMO_PASSWORD, address=ATTACKER, at=later)[1]


def test_one_address_guessing_at_many_accounts_is_paused_for_every_account(login):
    url, factory = login
    people = [factory() for _ in range(13)]
    # 48 wrong passwords from one address (an office's shared address, say), 4 each for
    # 12 accounts, pause nobody: the per-address limit is far above the per-account one.
    for person in people[:12]:
        guess(url, person.email, 4)
    assert sign_in(url, people[12].email, DEMO_PASSWORD, address=ATTACKER)[1]

    guess(url, "nobody-1@example.com", 1)
    guess(url, "nobody-2@example.com", 1)  # the 50th from this address
    response, signed_in = sign_in(url, people[12].email, DEMO_PASSWORD, address=ATTACKER)
    assert not signed_in and response.status_code == 429
    assert "from your network, for several accounts" in response.content.decode()
    # Everyone elsewhere signs in as usual.
    assert sign_in(url, people[0].email, DEMO_PASSWORD, address=ELSEWHERE)[1]


def test_the_address_limit_is_a_setting(login, settings):
    settings.REDRESS_LOGIN_ADDRESS_FAILURE_LIMIT = 3
    url, factory = login
    person = factory()
    for n in range(3):
        guess(url, f"nobody-{n}@example.com", 1)
    assert sign_in(url, person.email, DEMO_PASSWORD, address=ATTACKER)[0].status_code == 429


@pytest.mark.parametrize("who", list(LOGINS))
def test_a_password_reset_works_while_the_account_is_under_attack(who):
    url, factory = reverse(LOGINS[who][0]), LOGINS[who][1]
    victim = factory()
    guess(url, victim.email, 5)
    for n in range(45):  # and the attacker's address is paused for every account
        guess(url, f"sprayed-{n}@example.com", 1)
    assert sign_in(url, victim.email, DEMO_PASSWORD, address=ATTACKER)[0].status_code == 429

    # The reset is asked for from the attacked address itself, and the link opened elsewhere.
    with time_machine.travel(T0, tick=False):
        Client(REMOTE_ADDR=ATTACKER).post(
            reverse("accounts:password_reset"), {"email": victim.email}
        )
        assert [m.to for m in mail.outbox] == [[victim.email]]
        path = re.search(r"http://testserver(/account/reset/\S+/)", mail.outbox[0].body)[1]
        client = Client(REMOTE_ADDR=ELSEWHERE)
        form = client.get(path, follow=True)
        assert "Choose a new password" in form.content.decode()
        done = client.post(
            form.redirect_chain[-1][0],
            {"new_password1": "a fresh long phrase 9", "new_password2": "a fresh long phrase 9"},
        )
    assert done.status_code == 302
    victim.refresh_from_db()
    assert victim.check_password("a fresh long phrase 9")
    assert sign_in(url, victim.email, "a fresh long phrase 9", address=ELSEWHERE)[1]
