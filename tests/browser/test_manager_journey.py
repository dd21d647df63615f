"""The senior manager's journey in a real browser: a formal case from the list to the final
proposition, then the closed review and a later note (COP-15, COP-17; issue 12 items 3-5).

Screenshots at 1280 px and 390 px go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.urls import reverse
from playwright.sync_api import expect
from pypdf import PdfReader

from complaints.services.desk import complaint_escalate
from escalation.models import FormalCase
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.browser.journeys import rows_aligned, staff_sign_in
from tests.complaints.factories import complaint_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def formal_case_for(director) -> FormalCase:
    customer = CustomerFactory(name="Grace Hopper", email="grace@example.com")
    complaint = complaint_make(customer=customer, subject="Line drops every night at 7pm")
    complaint_escalate(
        complaint=complaint,
        actor=None,
        requested="technical_director",
        reason="It dropped again last night, after your engineer said it was fixed.",
    )
    case = FormalCase.objects.get(complaint=complaint)
    assert case.senior_manager == director
    return case


def test_a_senior_manager_reviews_and_sends_the_final_proposition(page, screenshot):
    director = StaffUserFactory(
        role="technical_director", name="Tess Director", email="tess@example.com"
    )
    case = formal_case_for(director)
    staff_sign_in(page, director)

    # The list of formal complaints, mine first.
    page.goto(reverse("escalation:formal-list"))
    page.get_by_role("link", name=case.register_reference).first.click()
    expect(page.locator("h1")).to_contain_text(case.register_reference)
    assert rows_aligned(page, ".desk-summary") == []
    screenshot(page, "formal-case-open")

    # Sending too early is refused with a message on the page; nothing is lost.
    page.get_by_role("button", name="Send final proposition (and deadlock letter)").click()
    expect(page.locator(".messagelist")).to_contain_text("Record the review")

    page.get_by_label("Further investigation").fill("Line test over five days.")
    page.get_by_label("Findings").fill("An intermittent fault in the exchange card.")
    page.get_by_label("Proposed further action").fill(
        "Replace the card and credit one month's line rental."
    )
    page.get_by_role("button", name="Save review").click()
    expect(page.locator(".messagelist")).to_contain_text("Review saved.")
    page.get_by_role("button", name="Send final proposition (and deadlock letter)").click()
    expect(page.locator(".messagelist")).to_contain_text("Final proposition and deadlock letter")

    # Now read-only: what the customer was told, aligned at 1280 and 390 px.
    expect(page.locator(".desk-banner")).to_contain_text("Final proposition sent")
    expect(page.get_by_role("button", name="Save review")).to_have_count(0)
    expect(page.get_by_label("Findings")).to_have_count(0)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert rows_aligned(page, ".desk-summary") == [], width
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "formal-case-final-proposition")
    screenshot(page, "formal-case-final-proposition", mobile=True)

    # A later note, kept apart from the review.
    page.get_by_label("Note").fill("The customer rang: the card swap is booked for Friday.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator(".messagelist")).to_contain_text("Note added to the case history.")
    expect(page.locator(".timeline")).to_contain_text("the card swap is booked for Friday")
    expect(page.locator(".desk-summary").nth(1)).to_contain_text(
        "An intermittent fault in the exchange card."
    )

    # The final proposition letter, as the customer gets it.
    link = page.get_by_role("link", name=re.compile("final-proposition"))
    response = page.request.get(link.get_attribute("href"))
    assert response.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(BytesIO(response.body())).pages)
    text = re.sub(r"\s+", " ", text)
    assert f"(formal complaint {case.register_reference})" in text
    assert "An intermittent fault in the exchange card." in text
    assert "Yours sincerely, Tess Director Technical Director" in text
