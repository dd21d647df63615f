"""Customers, letters and files, and formal cases through the API (issue 14)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.models import Customer
from accounts.roles import Role
from complaints.models import Attachment, Department
from complaints.services.desk import complaint_escalate
from escalation.models import FormalCase
from tests.accounts.factories import CustomerFactory
from tests.api.test_complaints import png, problem
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db


# --- Customers --------------------------------------------------------------------------------


def test_find_a_customer_by_account_reference_or_email(support):
    customer = CustomerFactory(account_reference="SV-2001", email="dee@example.com")
    CustomerFactory(account_reference="SV-2002")

    by_reference = support.get("/api/v1/customers/?account_reference=sv-2001").json()
    by_email = support.get("/api/v1/customers/?email=DEE@example.com").json()

    assert [c["id"] for c in by_reference] == [customer.pk] == [c["id"] for c in by_email]
    assert "account_reference or email" in problem(support.get("/api/v1/customers/"), 400)["detail"]


def test_create_a_customer_and_change_their_details_and_preferences(support):
    created = support.post(
        "/api/v1/customers/",
        {"name": "Eve Business", "account_reference": "SV-3001", "customer_type": "business",
         "employee_count": 8, "preferred_contact_method": "phone", "phone": "0117 000 0000"},
        format="json",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created["Location"].endswith(f"/api/v1/customers/{pk}/")

    changed = support.patch(
        f"/api/v1/customers/{pk}/",
        {"preferred_contact_method": "email", "email": "eve@example.com"},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    customer = Customer.objects.get(pk=pk)
    assert customer.preferred_contact_method == "email" and customer.email == "eve@example.com"
    assert customer.employee_count == 8  # untouched fields are kept


def test_bad_customer_details_are_refused_with_the_field_named(support):
    CustomerFactory(account_reference="SV-4001")
    taken = support.post(
        "/api/v1/customers/", {"name": "Dup", "account_reference": "SV-4001"}, format="json"
    )
    assert "account reference belongs to another customer" in problem(taken, 400)["detail"]
    nameless = support.post("/api/v1/customers/", {"email": "x@example.com"}, format="json")
    assert "name" in problem(nameless, 400)["errors"]
    consumer = CustomerFactory(customer_type="consumer")
    odd = support.patch(
        f"/api/v1/customers/{consumer.pk}/", {"contracted_response_working_days": 0}, format="json"
    )
    assert "contracted_response_working_days" in problem(odd, 400)["errors"]


def test_a_portal_customers_sign_in_address_is_theirs_to_change(support):
    customer = CustomerFactory(with_user=True, email="fay@example.com")
    response = support.patch(
        f"/api/v1/customers/{customer.pk}/", {"email": "other@example.com"}, format="json"
    )
    assert "portal" in problem(response, 400)["errors"]["email"][0]
    customer.refresh_from_db()
    assert customer.email == "fay@example.com"


def test_a_new_email_address_is_not_a_confirmed_one(support):
    customer = CustomerFactory(email="gil@example.com")
    Customer.objects.filter(pk=customer.pk).update(email_confirmed_at=customer.created_at)
    support.patch(f"/api/v1/customers/{customer.pk}/", {"email": "new@example.com"}, format="json")
    customer.refresh_from_db()
    assert customer.email_confirmed_at is None


# --- Letters and files ------------------------------------------------------------------------


def _file(complaint, kind="technical_report", name="report.png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    attachment = Attachment(
        complaint=complaint, kind=kind, original_name=name, content_type="image/png",
        size=12, customer_visible=kind == "letter_sent",
    )  # fmt: skip
    attachment.file.save(name, SimpleUploadedFile(name, png().read()), save=False)
    attachment.save()
    return attachment


def test_files_and_letters_are_listed_and_downloaded_for_cases_the_key_may_see(support, accounts):
    complaint = complaint_make(department=Department.TECHNICAL_SUPPORT)
    report = _file(complaint)
    letter = _file(complaint, kind="letter_sent", name="acknowledgement.png")

    files = support.get(f"/api/v1/complaints/{complaint.reference}/attachments/").json()
    letters = support.get(f"/api/v1/complaints/{complaint.reference}/letters/").json()
    assert [f["id"] for f in files] == [report.pk, letter.pk]
    assert [f["id"] for f in letters] == [letter.pk]

    download = support.get(files[0]["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")
    assert 'filename="report.png"' in download["Content-Disposition"]
    # Another department's key cannot fetch it by number.
    problem(accounts.get(reverse("api:attachment-download", kwargs={"pk": report.pk})), 404)


def test_a_technical_report_is_attached_with_the_desks_file_checks(support):
    complaint = complaint_make()
    url = f"/api/v1/complaints/{complaint.reference}/attachments/add/"
    fake = png()
    fake = type(fake)(b"MZ\x90\x00 not an image at all")
    fake.name = "report.png"
    refused = support.post(url, {"file": fake}, format="multipart")
    assert "file" in problem(refused, 400)["errors"]
    added = support.post(
        url, {"file": png("report.png"), "customer_visible": "false"}, format="multipart"
    )
    assert added.status_code == 200, added.content
    assert complaint.attachments.get().kind == "technical_report"


# --- Formal cases -----------------------------------------------------------------------------


@pytest.fixture
def formal_case():
    complaint = complaint_make()
    complaint_escalate(complaint=complaint, actor=None, requested="not_specified", reason="Unhappy")
    return FormalCase.objects.get(complaint=complaint)


def test_a_senior_managers_key_reviews_and_sends_the_final_proposition(api_client, formal_case):
    manager = api_client(
        Role.SENIOR_MANAGER, scopes=["read", "write", "formal"], name="Review tool"
    )
    ref = formal_case.register_reference
    read = manager.get(f"/api/v1/formal-cases/{ref}/")
    assert read.json()["outcome"] == "open"

    saved = manager.post(
        f"/api/v1/formal-cases/{ref}/review/",
        {"findings": "We were slow.", "proposed_action": "A £20 credit."},
        format="json",
        HTTP_IF_MATCH=read["ETag"],
    )
    assert saved.status_code == 200, saved.content
    sent = manager.post(f"/api/v1/formal-cases/{ref}/final-proposition/", {}, format="json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["final_proposition_sent_at"]

    # COP-15: what the customer was told cannot change afterwards.
    later = manager.post(
        f"/api/v1/formal-cases/{ref}/review/",
        {"findings": "Changed.", "proposed_action": "", "further_investigation": ""},
        format="json", HTTP_IF_MATCH=sent["ETag"],
    )  # fmt: skip
    assert "final proposition was sent" in problem(later, 409)["detail"]
    letters = manager.get(f"/api/v1/complaints/{formal_case.complaint.reference}/letters/").json()
    assert len(letters) >= 2  # the final proposition and the deadlock letter


def test_a_stale_review_is_a_412(api_client, formal_case):
    manager = api_client(
        Role.SENIOR_MANAGER, scopes=["read", "write", "formal"], name="Review tool"
    )
    ref = formal_case.register_reference
    body = {"findings": "a", "proposed_action": "b", "further_investigation": ""}
    etag = manager.get(f"/api/v1/formal-cases/{ref}/")["ETag"]
    assert (
        manager.post(
            f"/api/v1/formal-cases/{ref}/review/", body, format="json", HTTP_IF_MATCH=etag
        ).status_code
        == 200
    )
    problem(
        manager.post(
            f"/api/v1/formal-cases/{ref}/review/", body, format="json", HTTP_IF_MATCH=etag
        ),
        412,
    )


def test_adr_is_recorded_and_read_back(api_client, formal_case):
    manager = api_client(
        Role.SENIOR_MANAGER, scopes=["read", "write", "formal"], name="Review tool"
    )
    ref = formal_case.register_reference
    early = manager.post(
        f"/api/v1/formal-cases/{ref}/adr-decision/",
        {"decision": "upheld", "decided_at": "2026-12-01T10:00:00Z", "customer_accepted": True},
        format="json",
    )
    assert "referral first" in problem(early, 409)["detail"]
    referred = manager.post(
        f"/api/v1/formal-cases/{ref}/adr-referral/",
        {"referred_at": "2026-12-01T10:00:00Z", "scheme_reference": "OS-123"},
        format="json",
    )
    assert referred.status_code == 200, referred.content
    assert referred.json()["adr_referral"]["scheme_reference"] == "OS-123"


def test_a_support_key_reads_the_formal_case_but_cannot_act_on_it(support, formal_case):
    ref = formal_case.register_reference
    assert support.get(f"/api/v1/formal-cases/{ref}/").status_code == 200
    assert [
        c["register_reference"] for c in support.get("/api/v1/formal-cases/").json()["results"]
    ] == [ref]


# --- Rate limits ------------------------------------------------------------------------------


RATES = {"api_key": "3/min", "api_address": "5/min"}


def _rates(**rates):
    from django.conf import settings

    return override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**RATES, **rates}}
    )


def test_a_key_over_its_rate_gets_429_with_retry_after_and_others_carry_on(api_client):
    first, second = api_client(name="One"), api_client(name="Two")
    with _rates(api_address="100/min"):
        codes = [first.get("/api/v1/complaints/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = first.get("/api/v1/complaints/")
        body = problem(limited, 429)
        assert 0 < int(limited["Retry-After"]) <= 60
        assert "Try again in" in body["detail"]
        assert second.get("/api/v1/complaints/").status_code == 200


def test_one_address_is_limited_across_keys_and_a_forged_forwarded_for_does_not_help(api_client):
    keys = [api_client(name=f"K{i}") for i in range(3)]
    with _rates(api_key="100/min"):
        codes = [
            k.get("/api/v1/complaints/", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
            for i, k in enumerate(keys * 2)
        ]
    assert codes == [200] * 5 + [429]
