"""Public pages, the health check and the staff view of complaints."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from complaints.domain.lifecycle import Status
from complaints.services.heartbeat import heartbeat_record
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def test_home_shows_contact_details_from_settings(client, settings):
    """COP-02, COP-20: the ways to complain come from settings, not literals."""
    settings.REDRESS_COMPANY = {**settings.REDRESS_COMPANY, "phone": "0800 123 456"}
    response = client.get(reverse("complaints:home"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "0800 123 456" in body
    assert "support@sovision.com" in body and "accounts@sovisionit.com" in body
    assert '<html lang="en-GB">' in body


def test_healthz_reports_the_last_heartbeat(client):
    assert client.get(reverse("complaints:healthz")).json()["heartbeat_at"] is None
    heartbeat_record()
    heartbeat_record()
    data = client.get(reverse("complaints:healthz")).json()
    assert data["status"] == "ok"
    assert data["heartbeats"] == 2


def test_healthz_refuses_post(client):
    assert client.post(reverse("complaints:healthz")).status_code == 405


def test_staff_see_a_complaint_and_its_history_but_cannot_delete(client):
    agent = StaffUserFactory(role="support_agent")
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=LONDON), tick=False):
        complaint = complaint_make(subject="Router <b>keeps</b> rebooting")
        complaint_transition(
            complaint=complaint, to=Status.ACKNOWLEDGED, actor=agent, reason="Rang the customer."
        )
    client.force_login(agent)

    changelist = client.get(reverse("admin:complaints_complaint_changelist"))
    assert changelist.status_code == 200
    assert complaint.reference in changelist.content.decode()
    assert "delete_selected" not in changelist.content.decode()

    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Rang the customer." in body
    assert "Router &lt;b&gt;keeps&lt;/b&gt; rebooting" in body  # escaped
    delete = client.get(reverse("admin:complaints_complaint_delete", args=[complaint.pk]))
    assert delete.status_code == 403


def test_admin_needs_a_staff_login(client):
    response = client.get(reverse("admin:complaints_complaint_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
