"""A representative on the portal, in a real browser (issue 15 item 4; Ofcom GC C5).

The representative signs in with their own account and sees only the complaint they are
authorised on, with the banner saying whom they act for; the pages pass axe-core; a
read-only authority offers no actions; without JavaScript it all still works; and staff
record a representative (with the authority file) on the desk.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Representative
from accounts.representatives import representative_record
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.browser.journeys import staff_sign_in
from tests.browser.test_portal_browser import axe_problems, sign_in
from tests.complaints.factories import complaint_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n" + b"0" * 64


def _authorised(customer, login, complaint, *, act_on_case=True):
    return representative_record(
        customer=customer,
        actor=StaffUserFactory(),
        user=login,
        name=login.name,
        relationship="carer",
        email=login.email,
        authority_seen="form signed by the customer",
        act_on_case=act_on_case,
        all_complaints=False,
        complaints=[complaint],
    )


def test_a_representative_signs_in_and_sees_only_the_authorised_case(
    page, axe_path, screenshot, axe_report
):
    customer = CustomerFactory(confirmed=True, name="Edith Jones", email="edith@example.com")
    covered = complaint_make(customer=customer, subject="Landline crackles")
    complaint_make(customer=customer, subject="A private billing matter")
    carer = CustomerFactory(confirmed=True, name="Carl Carer", email="carl@example.com")
    _authorised(customer, carer.user, covered)

    sign_in(page, carer)
    expect(page.get_by_role("link", name=covered.reference)).to_be_visible()
    expect(page.get_by_text("A private billing matter")).to_have_count(0)
    report: list[str] = []
    problems = axe_problems(page, axe_path, "representative-my-complaints", report)
    page.get_by_role("link", name=covered.reference).click()
    expect(page.get_by_role("heading", name="Landline crackles", level=1)).to_be_visible()
    expect(page.get_by_role("note")).to_contain_text(
        "You are seeing this complaint as the representative of Edith Jones (carer)."
    )
    expect(page.get_by_role("note")).to_contain_text("You may act on it for them.")
    problems += axe_problems(page, axe_path, "representative-complaint-detail", report)
    screenshot(page, "representative-complaint-detail")
    screenshot(page, "representative-complaint-detail", mobile=True)

    page.get_by_role("link", name="Reply to us").click()
    page.get_by_label("Your message").fill("Writing for Edith: it crackles at night too.")
    problems += axe_problems(page, axe_path, "representative-reply", report)
    page.get_by_role("button", name="Send your reply").click()
    expect(page.get_by_text("Writing for Edith: it crackles at night too.")).to_be_visible()
    axe_report.extend(report)
    assert not problems, "\n".join(problems)


def test_a_read_only_representative_without_javascript_is_offered_no_actions(
    new_page, axe_path, axe_report
):
    customer = CustomerFactory(confirmed=True, name="Edith Jones", email="edith2@example.com")
    covered = complaint_make(customer=customer, subject="Landline crackles")
    reader = CustomerFactory(confirmed=True, name="Rhea Reader", email="rhea@example.com")
    _authorised(customer, reader.user, covered, act_on_case=False)
    page = new_page(java_script_enabled=False)
    sign_in(page, reader)
    page.get_by_role("link", name=covered.reference).click()
    expect(page.get_by_role("note")).to_contain_text("You may read it, but not act on it")
    expect(page.get_by_role("link", name="Reply to us")).to_have_count(0)
    expect(page.get_by_role("link", name="I am still not satisfied")).to_have_count(0)


def test_staff_record_a_representative_with_the_authority_file(page, screenshot, tmp_path):
    agent = StaffUserFactory(role="support_agent", name="Tom Tech", email="tom-reps@example.com")
    customer = CustomerFactory(name="Ada Lovelace")
    complaint_make(customer=customer)
    staff_sign_in(page, agent)
    page.goto(reverse("admin:accounts_customer_change", args=[customer.pk]))
    page.get_by_role("link", name="Record someone acting for the customer").click()
    page.get_by_label("Their name").fill("Paul Attorney")
    page.get_by_label("Relationship to the customer").select_option(
        label="Power of attorney or deputy"
    )
    page.get_by_label("How they want our letters").select_option(label="Email")
    page.get_by_role("button", name="Record the representative").click()
    expect(page.locator("#id_email_error")).to_contain_text("give an email address")
    expect(page.locator("#id_authority_seen_error")).to_be_visible()
    page.get_by_label("Email address").fill("paul@example.org")
    page.get_by_label("Authority seen").fill("lasting power of attorney")
    upload = tmp_path / "lpa.pdf"
    upload.write_bytes(PDF)
    page.get_by_label("The authority (PDF or image, optional)").set_input_files(str(upload))
    screenshot(page, "desk-representative-form")
    page.get_by_role("button", name="Record the representative").click()
    expect(page.get_by_text("representative Paul Attorney recorded")).to_be_visible()
    rep = Representative.objects.get()
    assert rep.authority_document_name == "lpa.pdf" and rep.recorded_by == agent
