"""The API's reference page in Chromium: Swagger UI from our own static files, under the
site's Content-Security-Policy, listing the operations, and trying one with a key (issue 14)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.integrations import api_key_issue, integration_create
from accounts.roles import Role
from tests.complaints.factories import complaint_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_reference_lists_the_operations_and_loads_nothing_from_elsewhere(page, live_server):
    requested = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto("/api/v1/docs/")

    expect(page.get_by_text("Redress API").first).to_be_visible()
    expect(
        page.locator(".opblock-summary-path", has_text="/api/v1/complaints/").first
    ).to_be_visible()
    expect(page.get_by_text("complaint actions").first).to_be_visible()
    others = [url for url in requested if not url.startswith(live_server.url)]
    assert not others, others  # the CSP watch (conftest) also fails on any violation


def test_a_key_can_read_a_complaint_from_the_reference(page, live_server):
    complaint = complaint_make()
    integration = integration_create(name="Docs reader", role=Role.SUPPORT_AGENT)
    key = api_key_issue(integration=integration, scopes=["read"]).plaintext

    response = page.request.get(
        f"{live_server.url}/api/v1/complaints/{complaint.reference}/",
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status == 200
    assert response.json()["clocks"][0]["rule"] == "response_due"
