"""Staff two-factor sign-in (REDRESS_STAFF_2FA): a password alone no longer opens the desk."""

from io import StringIO
from time import time
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.accounts.factories import DEMO_PASSWORD, StaffUserFactory

pytestmark = pytest.mark.django_db


def _sign_in(client, user, otp_token=None):
    data = {"username": user.email, "password": DEMO_PASSWORD}
    if otp_token is not None:
        device = TOTPDevice.objects.get(user=user)
        data.update(otp_device=device.persistent_id, otp_token=otp_token)
    return client.post(reverse("admin:login"), data)


def test_with_two_factor_on_a_password_alone_is_not_enough(settings):
    settings.REDRESS_STAFF_2FA = True
    agent = StaffUserFactory(role="support_agent")
    out = StringIO()
    call_command("staff_totp", agent.email, stdout=out)
    link = out.getvalue().strip()
    assert link.startswith("otpauth://totp/")
    device = TOTPDevice.objects.get(user=agent)

    client = Client()
    _sign_in(client, agent)
    assert client.get(reverse("admin:complaints_complaint_changelist")).status_code == 302
    assert client.get(reverse("escalation:formal-list")).status_code == 302
    _sign_in(client, agent, otp_token="000000")
    assert client.get(reverse("admin:complaints_complaint_changelist")).status_code == 302

    # A wrong code slows the next try down (django-otp's throttle): try again a minute on.
    with time_machine.travel(time() + 60, tick=False):
        device.refresh_from_db()
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time()
        response = _sign_in(client, agent, otp_token=f"{totp.token():06d}")
        assert response.status_code == 302
        assert client.get(reverse("admin:complaints_complaint_changelist")).status_code == 200
        assert client.get(reverse("escalation:formal-list")).status_code == 403  # an agent
    assert parse_qs(urlparse(link).query)["secret"]


def test_with_two_factor_off_a_password_is_enough(settings):
    settings.REDRESS_STAFF_2FA = False
    agent = StaffUserFactory(role="support_agent")
    client = Client()
    _sign_in(client, agent)
    assert client.get(reverse("admin:complaints_complaint_changelist")).status_code == 200
