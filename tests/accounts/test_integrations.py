"""Integrations and their API keys (issue 14 item 2): hashed, shown once, scoped, revocable."""

import hashlib
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.integrations import (
    api_key_authenticate,
    api_key_issue,
    api_key_revoke,
    integration_create,
)
from accounts.models import ApiKey, Integration, User
from accounts.roles import Role, user_department, user_roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm():
    return integration_create(name="Salesforce CRM", role=Role.ACCOUNTS_AGENT)


def test_an_integration_acts_as_a_staff_user_of_its_role_who_cannot_sign_in(crm):
    assert user_roles(crm.user) == {Role.ACCOUNTS_AGENT}
    assert user_department(crm.user) == "accounts"  # scoped exactly as a person would be
    assert str(crm.user) == "Salesforce CRM (API)"  # the name its writes carry in the history
    assert not crm.user.has_usable_password()
    assert not crm.user.check_password("")


def test_the_integration_user_cannot_sign_in_to_the_desk(client, crm):
    response = client.post(
        reverse("admin:login"), {"username": crm.user.email, "password": ""}, follow=True
    )
    assert "_auth_user_id" not in client.session
    assert response.status_code == 200


def test_a_key_is_shown_once_and_only_its_hash_is_kept(crm):
    issued = api_key_issue(integration=crm, scopes=["write", "read"])

    stored = ApiKey.objects.get()
    assert issued.plaintext.startswith(f"rdk_{stored.prefix}_")
    secret = issued.plaintext[len(f"rdk_{stored.prefix}_") :]
    assert secret not in str(ApiKey.objects.values().get())
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.scopes == ["read", "write"]
    assert api_key_authenticate(issued.plaintext) == stored


@pytest.mark.parametrize(
    "tamper",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),  # wrong secret
        lambda key: "rdk_000000000000_" + key[17:],  # unknown prefix
        lambda key: key[:-2],  # malformed
        lambda key: "",
        lambda key: f"Bearer {key}",
    ],
)
def test_a_wrong_or_malformed_key_is_refused(crm, tamper):
    issued = api_key_issue(integration=crm, scopes=["read"])

    assert api_key_authenticate(tamper(issued.plaintext)) is None


def test_a_revoked_key_stops_at_once_and_revoking_twice_keeps_the_first(crm):
    issued = api_key_issue(integration=crm, scopes=["read"])

    assert api_key_revoke(key=issued.key) is True
    first = issued.key.revoked_at
    assert api_key_revoke(key=issued.key) is False

    assert issued.key.revoked_at == first
    assert api_key_authenticate(issued.plaintext) is None


def test_a_key_expires_at_its_time_and_records_when_it_was_last_used(crm):
    with time_machine.travel(datetime(2027, 1, 4, 9, 0, tzinfo=UTC), tick=False):
        issued = api_key_issue(
            integration=crm, scopes=["read"], expires_at=datetime(2027, 2, 1, tzinfo=UTC)
        )
        assert ApiKey.objects.get().last_used_at is None
        assert api_key_authenticate(issued.plaintext) is not None
        assert ApiKey.objects.get().last_used_at == datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2027, 2, 1, tzinfo=UTC), tick=False):
        assert api_key_authenticate(issued.plaintext) is None


def test_a_deactivated_integration_user_stops_every_key(crm):
    issued = api_key_issue(integration=crm, scopes=["read"])
    User.objects.filter(pk=crm.user.pk).update(is_active=False)

    assert api_key_authenticate(issued.plaintext) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scopes": []}, "at least one scope"),
        ({"scopes": ["admin"]}, "Unknown scope 'admin'"),
        ({"scopes": ["read"], "expires_at": datetime(2020, 1, 1, tzinfo=UTC)}, "future"),
    ],
)
def test_bad_key_requests_are_refused_with_a_clear_message(crm, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        api_key_issue(integration=crm, **kwargs)
    assert not ApiKey.objects.exists()


def test_an_integration_needs_a_staff_role_and_a_new_name(crm):
    with pytest.raises(ValidationError, match="not a staff role"):
        integration_create(name="Portal", role=Role.CUSTOMER)
    with pytest.raises(ValidationError, match="already exists"):
        integration_create(name="salesforce crm", role=Role.SUPPORT_AGENT)
    assert Integration.objects.count() == 1


def test_the_command_creates_lists_and_revokes(capsys):
    call_command(
        "api_key", "create", "Billing", "--role", "accounts_agent", "--scope", "read",
        "--expires", "2099-12-31",
    )  # fmt: skip
    out = capsys.readouterr().out
    plaintext = out.strip().splitlines()[-1]
    assert api_key_authenticate(plaintext).integration.name == "Billing"

    call_command("api_key", "list")
    listed = capsys.readouterr().out
    assert "Billing" in listed and "works" in listed and plaintext not in listed

    call_command("api_key", "revoke", plaintext[:16])
    assert "Revoked" in capsys.readouterr().out
    assert api_key_authenticate(plaintext) is None


def test_the_command_explains_what_is_wrong():
    with pytest.raises(CommandError, match="give --role"):
        call_command("api_key", "create", "Nobody", "--scope", "read")
    with pytest.raises(CommandError, match="not a date"):
        call_command("api_key", "create", "X", "--role", "support_agent", "--expires", "soon")
    with pytest.raises(CommandError, match="No key with prefix"):
        call_command("api_key", "revoke", "abcdef123456")
    assert not Integration.objects.exists()


@pytest.fixture
def admin_client(client):
    client.force_login(User.objects.create_superuser("root@example.com", "pw", name="Root"))
    return client


def test_in_the_admin_a_key_is_issued_shown_once_and_revoked(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_integration_add"),
        {"name": "Telephony", "acting_role": "support_agent", "keys-TOTAL_FORMS": "0",
         "keys-INITIAL_FORMS": "0"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    integration = Integration.objects.get(name="Telephony")
    assert user_roles(integration.user) == {Role.SUPPORT_AGENT}

    response = admin_client.post(
        reverse("admin:accounts_apikey_add"),
        {"integration": integration.pk, "key_scopes": ["read", "write"], "label": "prod"},
        follow=True,
    )
    shown = [str(m) for m in response.context["messages"]]
    plaintext = next(m.split(": ")[-1] for m in shown if "shown this once" in m)
    assert api_key_authenticate(plaintext).integration == integration
    key = ApiKey.objects.get()
    page = admin_client.get(reverse("admin:accounts_apikey_change", args=[key.pk]))
    assert plaintext not in page.content.decode()

    admin_client.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert api_key_authenticate(plaintext) is None


def test_the_admin_refuses_an_expiry_in_the_past(admin_client, crm):
    response = admin_client.post(
        reverse("admin:accounts_apikey_add"),
        {"integration": crm.pk, "key_scopes": ["read"], "expires_at_0": "2020-01-01",
         "expires_at_1": "10:00"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "The expiry must be in the future." in response.content.decode()
    assert not ApiKey.objects.exists()
