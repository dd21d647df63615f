"""`make run`'s demo data: one working login per role, loaded twice without harm."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from accounts.roles import Role, user_roles
from complaints.management.commands.demo_data import DEMO_PASSWORD, DEMO_USERS
from complaints.models import Complaint

pytestmark = pytest.mark.django_db


def test_demo_data_gives_one_login_per_role_and_is_idempotent(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_data", stdout=out)
    call_command("demo_data", stdout=StringIO())
    printed = out.getvalue()
    assert DEMO_PASSWORD in printed
    from accounts.models import User

    for role, email, _ in DEMO_USERS:
        assert email in printed
        assert user_roles(User.objects.get(email=email)) == {role}
    assert Complaint.objects.count() == 3

    customer = Client()
    customer.post(
        reverse("accounts:login"), {"username": "customer@example.com", "password": DEMO_PASSWORD}
    )
    page = customer.get(reverse("complaints:my-complaints")).content.decode()
    assert len(set(re.findall(r"CMP-\d{4}-\d{6}", page))) == 3
    agent = Client()
    agent.post(
        reverse("admin:login"), {"username": "support@example.com", "password": DEMO_PASSWORD}
    )
    assert agent.get(reverse("admin:complaints_complaint_changelist")).status_code == 200
    assert Role.CUSTOMER in user_roles(User.objects.get(email="customer@example.com"))


def test_demo_data_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_data", stdout=StringIO())
