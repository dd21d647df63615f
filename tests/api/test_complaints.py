"""Complaints through the API: filed on any channel with the desk's rules, read with their
clocks, moved only by the desk's actions, under If-Match and Idempotency-Key (issue 14)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from accounts.roles import Role
from complaints.models import CaseEvent, Complaint, Department
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db

# Wednesday 2 December 2026, 10:00 in London (GMT): a working day.
WEDNESDAY = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(WEDNESDAY, tick=False) as traveller:
        yield traveller


def png(name="scan.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "red").save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = name
    return buffer


def call(**overrides) -> dict:
    return {
        "channel": "phone",
        "name": "Ann Example",
        "email": "ann@example.com",
        "department": "technical_support",
        "subject": "Line down",
        "description": "No dial tone since Monday.",
        "called_at": "2026-12-02T09:30:00Z",
        "resolved": False,
        "promised_at": "2026-12-03T12:00:00Z",
        "contact_method": "phone",
        **overrides,
    }


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# --- Filing -----------------------------------------------------------------------------------


def test_a_call_logged_through_the_api_is_the_desks_call_with_the_integration_as_actor(
    support, frozen
):
    response = support.post("/api/v1/complaints/", call(), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    complaint = Complaint.objects.get(reference=body["reference"])
    assert response["Location"].endswith(f"/api/v1/complaints/{complaint.reference}/")
    assert response["ETag"] == f'"{complaint.version}"'
    assert body["channel"] == "phone" and body["visible_to_you"] is True
    # COP-07: first made when the customer called, not when it was typed up.
    assert complaint.first_made_at == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    # COP-04: the promised call-back is tracked as on the desk.
    assert complaint.phone_promised_response_at == datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    actors = set(
        CaseEvent.objects.filter(complaint=complaint).values_list("actor_label", flat=True)
    )
    assert actors == {"Support CRM (API)"}


def test_a_letter_needs_its_scan_and_keeps_it(support, frozen):
    fields = {
        "channel": "letter",
        "name": "Bob Writer",
        "postal_address": "1 High St, Bath",
        "department": "accounts",
        "subject": "Wrong bill",
        "description": "Charged twice in November.",
        "received_at": "2026-12-01T09:00:00Z",
        "no_contact_given": "true",
    }
    missing = support.post("/api/v1/complaints/", fields, format="multipart")
    assert problem(missing, 400)["errors"]["scan"]

    filed = support.post("/api/v1/complaints/", {**fields, "scan": png()}, format="multipart")
    assert filed.status_code == 201, filed.content
    complaint = Complaint.objects.get(reference=filed.json()["reference"])
    assert complaint.attachments.get().kind == "letter_scan"
    # Filed for Accounts by a technical-support key: saved, and it says so, not a 404.
    assert filed.json()["department"] == "accounts"
    assert filed.json()["visible_to_you"] is False
    assert support.get(filed["Location"]).status_code == 404


def test_a_complaint_made_by_email_elsewhere_is_logged_with_when_it_was_made(support, frozen):
    response = support.post(
        "/api/v1/complaints/",
        {
            "channel": "email",
            "name": "Cara Mail",
            "email": "cara@example.com",
            "department": "technical_support",
            "subject": "Slow broadband",
            "description": "Speeds under 2 Mbps.",
            "first_made_at": "2026-12-01T16:00:00+00:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    complaint = Complaint.objects.get(reference=response.json()["reference"])
    assert complaint.channel == "email"
    # COP-12: two working days from Tuesday 16:00 is Thursday 17:00.
    assert complaint.response_due_at == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


def test_a_time_with_an_offset_is_the_moment_it_names_and_an_impossible_offset_is_refused(
    support, frozen
):
    """ISO 8601 offsets are kept as the moment they name; one no time zone has (schemathesis
    sent +21:25, which PostgreSQL cannot store) is a 400 naming the field, not a 500."""
    email = {
        "channel": "email",
        "name": "Cara Mail",
        "email": "cara@example.com",
        "department": "technical_support",
        "subject": "Slow broadband",
        "description": "Speeds under 2 Mbps.",
    }
    bad = support.post(
        "/api/v1/complaints/", {**email, "first_made_at": "2026-12-01T16:00:00+21:25"},
        format="json",
    )  # fmt: skip
    assert "offset" in " ".join(problem(bad, 400)["errors"]["first_made_at"])
    assert not Complaint.objects.exists()
    good = support.post(
        "/api/v1/complaints/", {**email, "first_made_at": "2026-12-01T21:30:00+05:30"},
        format="json",
    )  # fmt: skip
    assert good.status_code == 201, good.content
    complaint = Complaint.objects.get(reference=good.json()["reference"])
    assert complaint.first_made_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"promised_at": None}, "promised_at", "promised"),
        ({"called_at": "2026-12-09T09:00:00Z"}, "called_at", "future"),
        ({"department": "sales"}, "department", "valid choice"),
        ({"description": ""}, "description", "required"),
        ({"description": "x" * 20_001}, "description", "20000"),
        ({"channel": "fax"}, "channel", "Choose a channel"),
        ({"called_at": "last tuesday"}, "called_at", "valid date"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_saves_nothing(
    support, frozen, change, field, words
):
    response = support.post("/api/v1/complaints/", call(**change), format="json")

    body = problem(response, 400)
    assert field in body["errors"], body
    assert words.lower() in " ".join(body["errors"][field]).lower()
    assert not Complaint.objects.exists()


def test_a_role_that_may_not_log_complaints_is_refused(api_client, frozen):
    # Every staff role may log complaints today; a key without write may not.
    reader = api_client(Role.SUPPORT_AGENT, scopes=["read"])
    response = reader.post("/api/v1/complaints/", call(), format="json")
    assert "write scope" in problem(response, 403)["detail"]


# --- Idempotency ------------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_files_one_complaint(support, frozen):
    first = support.post("/api/v1/complaints/", call(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = support.post("/api/v1/complaints/", call(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Complaint.objects.count() == 1
    acknowledgements = len(mail.outbox)
    support.post("/api/v1/complaints/", call(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert len(mail.outbox) == acknowledgements  # no second notice either


def test_the_same_idempotency_key_with_another_body_is_a_422(support, frozen):
    support.post("/api/v1/complaints/", call(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = support.post(
        "/api/v1/complaints/", call(subject="Other"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert "different request" in problem(other, 422)["detail"]
    assert Complaint.objects.count() == 1


def test_a_failed_create_does_not_use_up_its_idempotency_key(support, frozen):
    bad = support.post(
        "/api/v1/complaints/", call(promised_at=None), format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    problem(bad, 400)
    good = support.post(
        "/api/v1/complaints/", call(promised_at=None, resolved=True, what_was_done="Reset it"),
        format="json", HTTP_IDEMPOTENCY_KEY="k-3",
    )  # fmt: skip
    assert good.status_code == 201


def test_idempotency_keys_belong_to_one_integration(support, api_client, frozen):
    other = api_client(Role.SUPPORT_AGENT, name="Telephony")
    support.post("/api/v1/complaints/", call(), format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    theirs = other.post("/api/v1/complaints/", call(), format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert Complaint.objects.count() == 2


def test_an_idempotency_key_is_forgotten_after_a_day(support, frozen):
    support.post("/api/v1/complaints/", call(), format="json", HTTP_IDEMPOTENCY_KEY="k-5")
    frozen.shift(timedelta(hours=25))
    later = support.post(
        "/api/v1/complaints/",
        call(called_at="2026-12-03T10:00:00Z", promised_at="2026-12-04T10:00:00Z"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-5",
    )
    assert later.status_code == 201 and "Idempotent-Replayed" not in later
    assert Complaint.objects.count() == 2


# --- Reading ----------------------------------------------------------------------------------


def test_a_complaint_is_read_with_every_clock_its_rule_and_its_working(support, frozen):
    complaint = complaint_make(first_made_at=WEDNESDAY)

    response = support.get(f"/api/v1/complaints/{complaint.reference}/")

    assert response.status_code == 200
    assert response["ETag"] == f'"{complaint.version}"'
    body = response.json()
    clocks = {c["rule"]: c for c in body["clocks"]}
    assert set(clocks) == {
        "response_due", "resolution_target", "progress_update", "auto_close",
        "adr_eligible", "osc_deadline", "osc_warning",
    }  # fmt: skip
    # COP-12: two working days from Wednesday 10:00 is Friday 17:00 (UK time, GMT here).
    assert clocks["response_due"]["due_at"] == "2026-12-04T17:00:00Z"
    assert "COP-12" in clocks["response_due"]["explanation"]
    assert clocks["response_due"]["passed"] is False
    assert clocks["auto_close"]["due_at"] is None  # not running until we respond (COP-10)
    assert clocks["adr_eligible"]["due_at"] == "2027-01-27T10:00:00Z"  # 8 weeks (COP-16)
    assert body["deadlines"]["response_due_at"] == "2026-12-04T17:00:00Z"
    assert body["timeline"][0]["title"].startswith("Status:")


def test_lowercase_references_are_found(support, frozen):
    complaint = complaint_make()
    assert support.get(f"/api/v1/complaints/{complaint.reference.lower()}/").status_code == 200


def test_the_list_is_the_keys_queue_with_the_desks_filters(support, accounts, frozen):
    technical = complaint_make(department=Department.TECHNICAL_SUPPORT, account_reference="SV-1")
    complaint_make(department=Department.ACCOUNTS)
    frozen.shift(timedelta(days=7))  # technical's response (Friday 17:00) is now overdue
    fresh = complaint_make(department=Department.TECHNICAL_SUPPORT, channel="email")

    def refs(client, query=""):
        response = client.get(f"/api/v1/complaints/{query}")
        assert response.status_code == 200, response.content
        return [c["reference"] for c in response.json()["results"]]

    assert refs(support) == [fresh.reference, technical.reference]  # newest first; own queue
    assert refs(accounts) != refs(support) and len(refs(accounts)) == 1
    assert refs(support, "?overdue=true") == [technical.reference]
    assert refs(support, "?channel=email") == [fresh.reference]
    assert refs(support, "?account_reference=sv-1") == [technical.reference]
    assert refs(support, "?status=logged,acknowledged") == [fresh.reference, technical.reference]
    assert refs(support, "?status=closed") == []
    assert refs(support, "?due_before=2026-12-05T00:00:00Z") == [technical.reference]
    assert refs(support, "?updated_since=2026-12-08T00:00:00Z") == [fresh.reference]
    assert (
        "department" in problem(support.get("/api/v1/complaints/?department=sales"), 400)["errors"]
    )
    assert (
        "due_before" in problem(support.get("/api/v1/complaints/?due_before=soon"), 400)["errors"]
    )


def test_the_list_pages_by_cursor_without_repeats_or_gaps(support, frozen):
    made = {complaint_make().reference for _ in range(7)}
    seen, url = [], "/api/v1/complaints/?page_size=3"
    while url:
        body = support.get(url).json()
        seen += [c["reference"] for c in body["results"]]
        url = body["next"]
    assert len(seen) == 7 and set(seen) == made


def test_list_and_read_run_the_same_number_of_queries_with_few_or_many_rows(support, frozen):
    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert support.get(url).status_code == 200
        return len(queries)

    first = complaint_make()
    support.get("/api/v1/complaints/")  # the key's last-used time is written once a minute
    few = count("/api/v1/complaints/"), count(f"/api/v1/complaints/{first.reference}/")
    for _ in range(12):
        complaint_make()
    many = count("/api/v1/complaints/"), count(f"/api/v1/complaints/{first.reference}/")
    assert few == many


# --- The desk's actions -----------------------------------------------------------------------


def read(client, complaint):
    response = client.get(f"/api/v1/complaints/{complaint.reference}/")
    return response.json(), response["ETag"]


def test_an_action_runs_the_desks_service_under_if_match(support, frozen):
    complaint = complaint_make()
    _, etag = read(support, complaint)

    response = support.post(
        f"/api/v1/complaints/{complaint.reference}/response/",
        {
            "findings": "A fault at the exchange.",
            "fault_found": True,
            "remedy_done": "Repaired the exchange card.",
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "responded"
    assert response["ETag"] != etag
    event = CaseEvent.objects.filter(complaint=complaint, to_status="responded").get()
    assert event.actor_label == "Support CRM (API)"


def test_a_stale_if_match_is_a_412_naming_who_changed_it_and_saves_nothing(support, frozen):
    complaint = complaint_make()
    _, etag = read(support, complaint)
    support.post(
        f"/api/v1/complaints/{complaint.reference}/acknowledge/", {"reason": ""},
        format="json", HTTP_IF_MATCH=etag,
    )  # fmt: skip

    stale = support.post(
        f"/api/v1/complaints/{complaint.reference}/response/",
        {"findings": "Fixed.", "fault_found": False},
        format="json",
        HTTP_IF_MATCH=etag,
    )

    assert "Support CRM (API)" in problem(stale, 412)["detail"]
    complaint.refresh_from_db()
    assert complaint.status == "acknowledged"


def test_an_update_without_if_match_is_a_428(support, frozen):
    complaint = complaint_make()
    response = support.post(
        f"/api/v1/complaints/{complaint.reference}/acknowledge/", {"reason": ""}, format="json"
    )
    assert "If-Match" in problem(response, 428)["detail"]
    complaint.refresh_from_db()
    assert complaint.status == "logged"


def test_a_move_the_lifecycle_forbids_is_a_409_naming_the_current_status(support, frozen):
    complaint = complaint_make()
    _, etag = read(support, complaint)
    response = support.post(
        f"/api/v1/complaints/{complaint.reference}/reopen/", {"reason": "x"},
        format="json", HTTP_IF_MATCH=etag,
    )  # fmt: skip
    body = problem(response, 409)
    assert body["current_status"] == "logged"
    assert "Logged" in body["detail"]


def test_assign_by_email_and_a_note_need_no_version(support, frozen):
    from tests.accounts.factories import StaffUserFactory

    agent = StaffUserFactory(role=Role.SUPPORT_AGENT, email="dev@sovision.example")
    complaint = complaint_make()
    _, etag = read(support, complaint)
    assigned = support.post(
        f"/api/v1/complaints/{complaint.reference}/assign/", {"assignee": "DEV@sovision.example"},
        format="json", HTTP_IF_MATCH=etag,
    )  # fmt: skip
    assert assigned.json()["assignee"]["email"] == "dev@sovision.example"
    unknown = support.post(
        f"/api/v1/complaints/{complaint.reference}/assign/", {"assignee": "nobody@x.example"},
        format="json", HTTP_IF_MATCH=assigned["ETag"],
    )  # fmt: skip
    assert "nobody@x.example" in problem(unknown, 400)["errors"]["assignee"][0]
    noted = support.post(
        f"/api/v1/complaints/{complaint.reference}/notes/", {"body": "Customer rang again."},
        format="json",
    )  # fmt: skip
    assert noted.status_code == 200
    assert complaint.notes.get().author == support.integration.user
    assert agent.pk


def test_a_formal_case_is_the_senior_managers_through_the_api_too(support, api_client, frozen):
    complaint = complaint_make()
    manager = api_client(Role.SENIOR_MANAGER, scopes=["read", "write"], name="Manager tool")
    _, etag = read(support, complaint)
    escalated = support.post(
        f"/api/v1/complaints/{complaint.reference}/escalate/",
        {"requested": "not_specified", "reason": "Still unhappy."},
        format="json", HTTP_IF_MATCH=etag,
    )  # fmt: skip
    assert escalated.json()["status"] == "formal"
    assert escalated.json()["formal_reference"].startswith("FCR-")

    respond = {"text": "We are still looking into it."}
    refused = support.post(
        f"/api/v1/complaints/{complaint.reference}/progress-update/", respond,
        format="json", HTTP_IF_MATCH=escalated["ETag"],
    )  # fmt: skip
    assert "COP-15" in problem(refused, 403)["detail"]
    # A manager's role is not enough without the formal scope...
    no_scope = manager.post(
        f"/api/v1/complaints/{complaint.reference}/progress-update/", respond,
        format="json", HTTP_IF_MATCH=escalated["ETag"],
    )  # fmt: skip
    assert "formal scope" in problem(no_scope, 403)["detail"]
    # ...but adding a note is open to the department (additive).
    noted = support.post(
        f"/api/v1/complaints/{complaint.reference}/notes/", {"body": "Called."}, format="json"
    )
    assert noted.status_code == 200


# --- Errors are problem details ---------------------------------------------------------------


def test_unknown_complaints_and_bad_json_are_problem_details(support):
    problem(support.get("/api/v1/complaints/CMP-2026-999999/"), 404)
    bad = support.generic(
        "POST", "/api/v1/complaints/", "{not json", content_type="application/json"
    )
    problem(bad, 400)
    problem(support.delete("/api/v1/complaints/"), 405)


def test_idempotency_records_older_than_a_day_are_forgotten(support, frozen):
    from accounts.models import IdempotencyRecord

    for n in range(3):
        support.post("/api/v1/complaints/", call(), format="json", HTTP_IDEMPOTENCY_KEY=f"old-{n}")
    frozen.shift(timedelta(hours=25))
    support.post(
        "/api/v1/complaints/",
        call(called_at="2026-12-03T10:00:00Z", promised_at="2026-12-04T10:00:00Z"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="new",
    )
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
