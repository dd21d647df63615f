"""Fixtures for the API: integrations of each staff role, and clients holding their keys."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.integrations import api_key_issue, integration_create
from accounts.roles import Role


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    """Make a client holding a new key for an integration of `role` with `scopes`."""

    made = {}

    def make(role: Role = Role.SUPPORT_AGENT, scopes=("read", "write"), name: str | None = None):
        name = name or f"{role.value} CRM {len(made) + 1}"
        integration = integration_create(name=name, role=role)
        issued = api_key_issue(integration=integration, scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
        client.integration, client.key, client.plaintext = integration, issued.key, issued.plaintext
        made[name] = client
        return client

    return make


@pytest.fixture
def support(api_client):
    """A technical-support CRM key that may read and write."""
    return api_client(Role.SUPPORT_AGENT, name="Support CRM")


@pytest.fixture
def accounts(api_client):
    """An accounts-department billing system's key that may read and write."""
    return api_client(Role.ACCOUNTS_AGENT, name="Billing system")
