"""Recorded needs in a real browser (issue 15 item 1; Ofcom GC C5).

The customer's page works by keyboard without JavaScript; staff see the badge at the top
of the case; the customer never sees it. (The queue's badge, at 1280 and 1024 px, is in
test_agent_journey's clock test.)
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import CustomerNeeds
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.browser.journeys import staff_sign_in
from tests.browser.test_portal_browser import sign_in
from tests.complaints.factories import complaint_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_records_corrects_and_withdraws_needs_without_javascript(new_page, screenshot):
    customer = CustomerFactory(confirmed=True, email="nojs-needs@example.com")
    complaint = complaint_make(customer=customer)
    page = new_page(java_script_enabled=False)
    sign_in(page, customer)
    page.get_by_role("link", name="Your details").click()
    page.get_by_role("link", name="tell us about your needs and how we should contact you").click()
    expect(
        page.get_by_role("heading", name="Your needs and how we contact you", level=1)
    ).to_be_visible()

    page.get_by_label("Hearing loss or deafness").check()
    page.get_by_label("Plain text in the email itself, no attachments").check()
    page.get_by_label("Anything else that would help (optional)").fill("I use a hearing aid.")
    page.get_by_label("I agree to you keeping this information").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save your needs").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Thank you. We have saved your needs")).to_be_visible()
    expect(page.locator("dd", has_text="I use a hearing aid.")).to_be_visible()
    screenshot(page, "needs-no-javascript-held")

    # Correct: the form comes back filled in with what is held.
    expect(page.get_by_label("Hearing loss or deafness")).to_be_checked()
    page.get_by_label("Sight loss or blindness").check()
    page.get_by_label("I agree to you keeping this information").check()
    page.get_by_role("button", name="Save your needs").click()
    assert CustomerNeeds.objects.get(customer=customer).kinds == ["hearing", "sight"]

    # The customer's own complaint page never shows the staff badge.
    page.goto(reverse("complaints:complaint-detail", args=[complaint.reference]))
    expect(page.locator(".needs-badge")).to_have_count(0)
    expect(page.get_by_text("Needs:")).to_have_count(0)

    page.goto(reverse("accounts:needs"))
    page.get_by_role("link", name="Ask us to delete your needs").click()
    page.get_by_role("button", name="Delete my needs").click()
    expect(page.get_by_text("We have deleted your needs.")).to_be_visible()
    expect(page.get_by_text("We do not hold any needs for you")).to_be_visible()
    assert not CustomerNeeds.objects.filter(customer=customer).exists()


def test_staff_record_needs_from_a_call_and_see_the_badge_on_the_case(page, screenshot):
    agent = StaffUserFactory(role="support_agent", name="Tom Tech", email="tom-needs@example.com")
    customer = CustomerFactory(name="Ada Lovelace")
    complaint = complaint_make(customer=customer)
    staff_sign_in(page, agent)
    page.goto(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    page.get_by_role("link", name="Record needs told to us by phone, letter or email").click()
    page.get_by_label("Sight loss or blindness").check()
    page.get_by_label("Letters and updates").select_option(label="Large-print letters")
    page.get_by_label("Progress updates every (working days)").fill("1")
    page.get_by_label("How the customer agreed").select_option(label="By phone")
    page.get_by_role("button", name="Save needs").click()
    expect(page.locator("#id_update_interval_working_days_error")).to_contain_text(
        "at least every 2 working days under the Code"
    )
    screenshot(page, "desk-needs-too-short")
    page.get_by_label("Progress updates every (working days)").fill("4")
    page.get_by_role("button", name="Save needs").click()

    expect(page.get_by_role("heading", name="Needs: sight · large print")).to_be_visible()
    expect(page.get_by_text("Progress updates every 4 working days, as agreed")).to_be_visible()
    screenshot(page, "desk-case-needs-badge")
