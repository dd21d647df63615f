"""The ombudsman's case file through the API (issue 16 item 5, COP-18): parity with the page.

A senior manager's key with the formal scope records the scheme's request, produces the
case file and downloads it, through the same services as the formal case page.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.roles import Role
from complaints.bundles import bundle_build
from complaints.models import Bundle, CaseEvent
from complaints.services.desk import complaint_escalate
from escalation.models import FormalCase
from escalation.services import adr_referral_record
from tests.accounts.factories import StaffUserFactory
from tests.api.test_complaints import problem
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def formal_case():
    with time_machine.travel(datetime(2026, 10, 5, 10, 0, tzinfo=LONDON), tick=False):
        complaint = complaint_make()
        complaint_escalate(complaint=complaint, actor=None, requested="not_specified", reason="No")
    return FormalCase.objects.get(complaint=complaint)


@pytest.fixture
def manager(api_client):
    return api_client(Role.SENIOR_MANAGER, scopes=["read", "write", "formal"], name="OS portal")


def test_record_the_request_produce_and_download_the_case_file(manager, formal_case):
    ref = formal_case.register_reference
    url = f"/api/v1/formal-cases/{ref}"
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=LONDON), tick=False):
        # No referral yet: the request has nothing to be recorded on.
        body = {
            "requested_on": "2026-11-16",
            "case_file_reference": "OS-CF-1",
            "due_on": "2026-11-30",
        }
        assert (
            "referral first"
            in problem(manager.post(f"{url}/case-file-request/", body, format="json"), 409)[
                "detail"
            ]
        )
        adr_referral_record(
            complaint=formal_case.complaint, actor=StaffUserFactory(role="senior_manager"),
            referred_at=datetime(2026, 11, 2, 9, 0, tzinfo=LONDON), scheme_reference="OS-1",
        )  # fmt: skip
        bad = manager.post(
            f"{url}/case-file-request/", {**body, "due_on": "2026-11-01"}, format="json"
        )
        assert "before its request" in problem(bad, 400)["detail"] + json.dumps(
            problem(bad, 400).get("errors", {})
        )
        recorded = manager.post(f"{url}/case-file-request/", body, format="json")
        assert recorded.status_code == 200, recorded.content
        referral = recorded.json()["adr_referral"]
        assert referral["case_file_reference"] == "OS-CF-1"
        assert referral["case_file_requested_on"] == "2026-11-16"
        assert referral["case_file_due_at"] == "2026-11-30T17:00:00Z"

        produced = manager.post(f"{url}/case-file/", {}, format="json")
        assert produced.status_code == 200, produced.content
        [queued] = produced.json()["case_files"]
        assert (queued["version"], queued["state"], queued["download"]) == (1, "queued", None)
        # Asked again while it waits: the same case file, not a second one.
        again = manager.post(f"{url}/case-file/", {}, format="json").json()["case_files"]
        assert [f["version"] for f in again] == [1]
        download = f"{url}/case-files/1/"
        assert problem(manager.get(download), 409)["title"] == "Case file not ready"

        bundle_build(Bundle.objects.get(complaint=formal_case.complaint).pk)
        [ready] = manager.get(f"{url}/").json()["case_files"]
        assert ready["state"] == "ready" and ready["download"] == download
        response = manager.get(download)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/zip"
        assert f"{ref}-case-file-v1.zip" in response["Content-Disposition"]
        data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == ready["sha256"]
    case_json = json.loads(zipfile.ZipFile(BytesIO(data)).read("case.json"))
    assert case_json["adr_referral"]["case_file_reference"] == "OS-CF-1"
    events = CaseEvent.objects.filter(complaint=formal_case.complaint, kind="bundle")
    assert [(e.extra["event"], e.actor_label) for e in events] == [
        ("requested", "OS portal (API)"),
        ("ready", "OS portal (API)"),
        ("downloaded", "OS portal (API)"),
    ]
    assert problem(manager.get(f"{url}/case-files/2/"), 404)


def test_only_a_senior_managers_key_with_the_formal_scope(api_client, support, formal_case):
    ref = formal_case.register_reference
    reader = api_client(Role.SENIOR_MANAGER, scopes=["read", "write"], name="Reader")
    assert (
        "formal"
        in problem(reader.post(f"/api/v1/formal-cases/{ref}/case-file/", {}, format="json"), 403)[
            "detail"
        ]
    )
    agent = api_client(Role.SUPPORT_AGENT, scopes=["read", "write", "formal"], name="Agent CRM")
    problem(agent.post(f"/api/v1/formal-cases/{ref}/case-file/", {}, format="json"), 403)
    assert not Bundle.objects.exists()
    accounts = api_client(Role.ACCOUNTS_AGENT, scopes=["read", "write", "formal"], name="Billing")
    problem(accounts.get(f"/api/v1/formal-cases/{ref}/case-files/1/"), 404)
