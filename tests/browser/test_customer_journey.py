"""The customer's journey in a real browser, from the public form to the final proposition:
file, confirm, follow, escalate, ask for a deadlock letter, then read the final proposition
and the way to the ombudsman on the page and download its letter (COP-05, 11, 15, 17, 18;
issue 12 items 8 and 9).

Screenshots at 1280 px and 390 px go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from complaints.domain.lifecycle import Status
from complaints.domain.wording import moment_words
from complaints.models import Complaint
from escalation.models import FormalCase
from escalation.services import final_proposition_send, formal_review_save
from tests.accounts.factories import StaffUserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "ada@example.com"
FINDINGS = "An intermittent fault in the exchange card.\nYour router was not at fault."
ACTION = "We replace the card and credit your account with £50."


def confirmation_path(email: str) -> str:
    """The path of the newest confirmation link sent to `email` (the live server's mail)."""
    message = [
        m for m in mail.outbox if m.subject == "Confirm your email address" and email in m.to
    ][-1]
    return re.search(r"https?://[^/\s]+(/confirm/[^/\s]+/)", message.body).group(1)


def both_widths(screenshot, page, name: str) -> None:
    """Save the page at 1280 px and at 390 px."""
    screenshot(page, name)
    screenshot(page, name, mobile=True)


def pdf_text(data: bytes) -> str:
    """The text of a PDF as a reader sees it, or "" when pypdf is not installed."""
    try:
        from pypdf import PdfReader
    except ImportError:  # requirements-dev.txt has it; the content checks then still run
        return ""
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def test_a_customer_from_the_form_to_the_final_proposition(page, new_page, screenshot):
    director = StaffUserFactory(
        role="technical_director", name="Tess Director", email="tess@example.com"
    )

    # 1. The public form, by its labels (COP-01, COP-05).
    page.goto(reverse("complaints:home"))
    page.get_by_role("link", name="Make a complaint online").click()
    page.get_by_label("Your full name").fill("Ada Lovelace")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Summary", exact=True).fill("Line drops every night at 7pm")
    page.get_by_label("Tell us what went wrong").fill("Every night since Monday, for an hour.")
    page.get_by_label("A technical problem with your service").check()
    page.get_by_label("A person (a consumer)").check()
    page.get_by_role("button", name="Send your complaint").click()
    expect(page.get_by_role("heading", name="Complaint sent")).to_be_visible()
    reference = page.locator(".reference").inner_text().strip()
    assert re.fullmatch(r"CMP-\d{4}-\d{6}", reference), reference
    both_widths(screenshot, page, "customer-complaint-sent")

    # 2. The link in the confirmation email (sent by the live server after commit).
    link = confirmation_path(EMAIL)
    page.goto(link)
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("heading", name="Your complaints", level=1)).to_be_visible()
    expect(page.get_by_text("Thank you: your email address is confirmed.")).to_be_visible()

    # The same link a second time, in another browser: it says so and signs nobody in.
    stranger = new_page()
    stranger.goto(link)
    stranger.get_by_role("button", name="Confirm my email address").click()
    expect(stranger.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    expect(stranger.get_by_text("This address is already confirmed.")).to_be_visible()
    both_widths(screenshot, stranger, "customer-link-used-twice")
    # No password was ever chosen: the address (not whoever holds the link) is sent one.
    chosen = [m.to for m in mail.outbox if m.subject.startswith("Choose a password")]
    assert chosen == [[EMAIL]]
    assert (
        stranger.goto(reverse("complaints:my-complaints"))
        .url.split("?")[0]
        .endswith(reverse("accounts:login"))
    )

    # 3. Follow the complaint.
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name="Line drops every night at 7pm")).to_be_visible()
    expect(page.get_by_text("We will reply by")).to_be_visible()

    # 4. Still not satisfied: a formal complaint, reviewed by the person asked for.
    page.get_by_role("link", name="I am still not satisfied").click()
    page.get_by_label("Our Technical Director").check()
    page.get_by_label("Why are you still not satisfied?").fill("It dropped again last night.")
    page.get_by_role("button", name="Ask for a review").click()
    expect(page.get_by_text("Your complaint is now a formal complaint.")).to_be_visible()
    expect(page.locator(".status")).to_have_text("A senior manager is reviewing your complaint")
    expect(page.get_by_text("reviewed by Tess Director")).to_be_visible()
    both_widths(screenshot, page, "customer-formal-complaint")

    # 5. Ask for a deadlock letter (COP-17).
    page.get_by_role("link", name="Ask for a deadlock letter").click()
    page.get_by_label("Anything you would like to add (optional)").fill("Nothing has changed.")
    both_widths(screenshot, page, "customer-deadlock-request")
    page.get_by_role("button", name="Ask for the letter").click()
    expect(page.get_by_text("We have your request.")).to_be_visible()
    expect(page.get_by_text("You asked for a deadlock letter on")).to_be_visible()

    # 6. The senior manager's side, through the services the formal case page calls.
    case = FormalCase.objects.get(complaint__reference=reference)
    assert case.senior_manager == director
    formal_review_save(
        case=case,
        actor=director,
        further_investigation="Line test over five days.",
        findings=FINDINGS,
        proposed_action=ACTION,
    )
    final_proposition_send(case=case, actor=director)
    complaint = Complaint.objects.get(reference=reference)
    assert complaint.status == Status.CLOSED and complaint.deadlock_letter_received_at

    # 7. The page shows the proposition itself and what the customer can do next.
    page.reload()
    expect(page.get_by_role("heading", name="Our final proposition")).to_be_visible()
    expect(page.get_by_text("An intermittent fault in the exchange card.")).to_be_visible()
    expect(page.get_by_text("Your router was not at fault.")).to_be_visible()
    expect(page.get_by_text(ACTION)).to_be_visible()
    expect(page.get_by_text(case.register_reference).first).to_be_visible()
    expect(page.get_by_role("heading", name="What you can do next")).to_be_visible()
    scheme = settings.REDRESS_ADR_SCHEME
    expect(page.get_by_role("heading", name="Take your complaint to the ombudsman")).to_be_visible()
    deadline = moment_words(complaint.osc_deadline_at, timezone.get_default_timezone())
    expect(page.locator("strong", has_text=deadline)).to_be_visible()
    expect(page.get_by_role("link", name=scheme["website"])).to_be_visible()
    expect(page.get_by_text(scheme["phone"])).to_be_visible()
    expect(page.get_by_role("link", name="Write to us")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("reopen", re.I))).to_have_count(0)
    expect(page.get_by_role("link", name="I am still not satisfied")).to_have_count(0)
    both_widths(screenshot, page, "customer-final-proposition")

    # 8. Download the final proposition letter: a PDF with the review's words in it.
    letter_link = page.get_by_role("link", name=re.compile(r"final-proposition\.pdf"))
    with page.expect_download() as download:
        letter_link.click()
    saved = download.value.path()
    with open(saved, "rb") as f:
        downloaded = f.read()
    assert downloaded.startswith(b"%PDF")
    response = page.request.get(letter_link.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body() == downloaded
    text = pdf_text(downloaded)
    if text:
        assert "An intermittent fault in the exchange card." in text
        assert case.register_reference in text and reference in text

    # 9. Writing to us keeps the message and reopens nothing.
    page.get_by_role("link", name="Write to us").click()
    expect(page.get_by_role("heading", name="Write to us", level=1)).to_be_visible()
    expect(page.get_by_text("does not reopen your complaint").first).to_be_visible()
    page.get_by_label("Your message").fill("I accept the credit, thank you.")
    both_widths(screenshot, page, "customer-write-to-us")
    page.get_by_role("button", name="Send your message").click()
    expect(page.get_by_text("It does not reopen your complaint")).to_be_visible()
    expect(page.get_by_text("I accept the credit, thank you.")).to_be_visible()
    expect(page.locator(".status")).to_have_text("Closed")
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED
    both_widths(screenshot, page, "customer-after-writing")
