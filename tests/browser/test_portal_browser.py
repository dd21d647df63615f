"""The customer portal in a real browser: the whole journey, accessibility, and no JavaScript.

Run with `make test` (or `.venv/bin/pytest tests/browser`). Each page visited is saved as a
full-page PNG under artifacts/screenshots/ (listed at the end of the run).
"""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from tests.accounts.factories import DEMO_PASSWORD, CustomerFactory
from tests.complaints.factories import complaint_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n%%EOF\n"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")


# --- Helpers ------------------------------------------------------------------------------


def sign_in(page, customer) -> None:
    page.goto(reverse("accounts:login"))
    page.get_by_label("Email address").fill(customer.user.email)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your complaints", level=1)).to_be_visible()


def fill_complaint(page, *, email: str = "priya@example.com") -> None:
    """Fill the complaint form by its labels, as a person reading it would."""
    page.get_by_label("Your full name").fill("Priya Patel")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Summary", exact=True).fill("Broadband drops every evening")
    page.get_by_label("Tell us what went wrong").fill("Since Monday the line drops at 7pm.")
    page.get_by_label("A technical problem with your service").check()
    page.get_by_label("A person (a consumer)").check()


def confirmation_path(email: str) -> str:
    message = next(
        m for m in mail.outbox if m.subject == "Confirm your email address" and email in m.to
    )
    return re.search(r"https?://[^/\s]+(/confirm/[^/\s]+/)", message.body).group(1)


def axe_problems(page, axe_path, name: str, report: list[str]) -> list[str]:
    """Run axe-core on the page; return its serious and critical violations, one line each."""
    # Evaluated by the browser, not added as a <script>: the page's policy would block that.
    page.evaluate(axe_path.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    problems, minor = [], []
    for violation in result["violations"]:
        targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
        line = (
            f"{name}: [{violation['impact']}] {violation['id']}: {violation['help']} -> {targets}"
        )
        (problems if violation["impact"] in BLOCKING else minor).append(line)
    report.append(
        f"{name}: {len(result['passes'])} rules passed, {len(problems)} serious/critical, "
        f"{len(minor)} moderate/minor, {len(result['incomplete'])} to review by hand"
    )
    report.extend(f"    {line}" for line in problems + minor)
    return problems


# --- 1. The whole journey ----------------------------------------------------------------------


def test_new_customer_end_to_end(page, new_page, screenshot):
    page.goto(reverse("complaints:home"))
    page.get_by_role("link", name="Make a complaint online").click()
    expect(page.get_by_role("heading", name="Make a complaint", level=1)).to_be_visible()
    fill_complaint(page)
    page.get_by_label("Attach files (optional)").set_input_files(
        files=[{"name": "bill.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Send your complaint").click()

    expect(page.get_by_role("heading", name="Complaint sent")).to_be_visible()
    reference = page.locator(".reference").inner_text().strip()
    assert re.fullmatch(r"CMP-\d{4}-\d{6}", reference), reference
    expect(page.get_by_text("We will reply by")).to_be_visible()
    screenshot(page, "journey-complaint-sent")

    # The confirmation email was sent by the live server, after its transaction committed.
    page.goto(confirmation_path("priya@example.com"))
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("heading", name="Your complaints", level=1)).to_be_visible()
    expect(page.get_by_text("Thank you: your email address is confirmed.")).to_be_visible()

    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name="Broadband drops every evening")).to_be_visible()
    expect(page.get_by_text("We will reply by")).to_be_visible()

    page.get_by_role("link", name="Reply to us").click()
    page.get_by_label("Your message").fill("It dropped again last night at 7pm.")
    page.get_by_role("button", name="Send your reply").click()
    expect(page.get_by_text("Thank you: we have your message.")).to_be_visible()

    page.get_by_role("link", name="I am still not satisfied").click()
    page.get_by_label("Our Company Secretary").check()
    page.get_by_label("Why are you still not satisfied?").fill("Nobody has called me back.")
    page.get_by_role("button", name="Ask for a review").click()
    expect(page.get_by_text("Your complaint is now a formal complaint.")).to_be_visible()
    expect(page.locator(".status")).to_have_text("A senior manager is reviewing your complaint")
    screenshot(page, "journey-detail-after-escalation")
    detail_path = reverse("complaints:complaint-detail", args=[reference])
    assert page.url.endswith(detail_path)

    # Someone else, signed in through the login form, cannot see it.
    other = new_page()
    sign_in(other, CustomerFactory(confirmed=True, email="sam@example.com"))
    response = other.goto(detail_path)
    assert response.status == 404
    expect(other.get_by_text("Broadband drops every evening")).to_have_count(0)
    expect(other.get_by_text(reference)).to_have_count(0)
    screenshot(other, "journey-other-customer-404")


# --- 2. Accessibility of every portal page -------------------------------------------------------


def test_every_portal_page_has_no_serious_accessibility_violations(
    page, axe_path, screenshot, axe_report
):
    problems: list[str] = []
    report: list[str] = []

    def check(name: str, *, mobile: bool = False) -> None:
        problems.extend(axe_problems(page, axe_path, name, report))
        screenshot(page, name)
        if mobile:
            page.set_viewport_size({"width": 390, "height": 844})
            problems.extend(axe_problems(page, axe_path, f"{name} (390px)", report))
            page.set_viewport_size({"width": 1280, "height": 900})
            screenshot(page, name, mobile=True)

    def visit(url: str, name: str, *, mobile: bool = False) -> None:
        response = page.goto(url)
        assert response.status == 200, f"{name}: {url} answered {response.status}"
        check(name, mobile=mobile)

    # Anyone.
    visit(reverse("complaints:home"), "home", mobile=True)
    visit(reverse("complaints:code"), "code-of-practice")
    visit(reverse("complaints:next"), "what-happens-next")
    visit(reverse("complaints:complain"), "complain", mobile=True)
    page.get_by_role("button", name="Send your complaint").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    check("complain-with-errors")
    fill_complaint(page, email="walker@example.com")
    page.get_by_role("button", name="Send your complaint").click()
    expect(page.get_by_role("heading", name="Complaint sent")).to_be_visible()
    check("complaint-sent")
    visit(reverse("complaints:confirm", args=["not-a-real-token"]), "confirm")
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_role("heading", name="This link did not work")).to_be_visible()
    check("confirm-link-did-not-work")
    visit(reverse("complaints:confirm-resend"), "confirm-resend")
    visit(reverse("accounts:signup"), "signup")
    visit(reverse("accounts:password_reset"), "password-reset")
    visit(reverse("accounts:login"), "login")

    # A signed-in customer with a complaint.
    customer = CustomerFactory(confirmed=True, email="casey@example.com")
    complaint = complaint_make(customer=customer, subject="Router keeps restarting")
    sign_in(page, customer)
    check("my-complaints")
    ref = complaint.reference
    visit(reverse("complaints:complaint-detail", args=[ref]), "complaint-detail", mobile=True)
    visit(reverse("complaints:complaint-reply", args=[ref]), "complaint-reply")
    visit(reverse("complaints:complaint-escalate", args=[ref]), "complaint-escalate")
    page.get_by_role("button", name="Ask for a review").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    check("complaint-escalate-with-errors")
    visit(reverse("complaints:complaint-deadlock", args=[ref]), "complaint-deadlock")
    visit(reverse("accounts:details"), "account-details")
    visit(reverse("accounts:password"), "account-password")
    # Issue 15: "Your needs and how we contact you", empty, with errors, held, withdrawing.
    visit(reverse("accounts:needs"), "needs", mobile=True)
    page.get_by_label("A time of day to call").check()
    page.get_by_role("button", name="Save your needs").click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    check("needs-with-errors")
    page.get_by_label("When is a good time to call? (optional)").fill("After 2pm")
    page.get_by_label("I agree to you keeping this information").check()
    page.get_by_role("button", name="Save your needs").click()
    expect(page.get_by_role("heading", name="What we hold about you")).to_be_visible()
    check("needs-held", mobile=True)
    visit(reverse("accounts:needs_withdraw"), "needs-withdraw")

    pages = sum(1 for line in report if not line.startswith(" "))
    axe_report.append(
        f"axe-core {page.evaluate('axe.version')} ({', '.join(AXE_TAGS)}): {pages} page states, "
        f"{len(problems)} serious or critical violations"
    )
    axe_report.extend(report)
    assert not problems, "Serious or critical accessibility violations:\n" + "\n".join(problems)


# --- 3. Keyboard and no JavaScript -------------------------------------------------------------


def test_the_complaint_form_works_by_keyboard_without_javascript(new_page, screenshot):
    page = new_page(java_script_enabled=False)
    page.goto(reverse("complaints:home"))
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    page.keyboard.press("Enter")
    # Following an in-page link updates the address a moment later: wait for it.
    expect(page).to_have_url(re.compile(r"#main$"))

    page.get_by_role("link", name="Make a complaint online").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Make a complaint", level=1)).to_be_visible()
    fill_complaint(page, email="nojs@example.com")
    page.get_by_role("button", name="Send your complaint").focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Complaint sent")).to_be_visible()
    expect(page.get_by_text("We will reply by")).to_be_visible()
    screenshot(page, "no-javascript-complaint-sent")
    assert any(m.subject == "Confirm your email address" for m in mail.outbox)
