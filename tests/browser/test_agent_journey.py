"""The technical-support agent's day in a real browser: the queue, a call and a letter for
Accounts, and a formal case (COP-04, COP-06, COP-12, COP-15).

Screenshots at 1280 px and 390 px (and the queue at 1024 px) go to artifacts/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.needs import needs_record
from complaints.models import CaseNote, Complaint
from complaints.services.desk import complaint_assign, complaint_escalate
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.browser.journeys import staff_sign_in
from tests.complaints.factories import complaint_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def agent_with_a_queue():
    agent = StaffUserFactory(role="support_agent", name="Tom Tech", email="tom@example.com")
    # Long names and the longest status are what pushed the clock off the screen.
    for n in range(6):
        customer = CustomerFactory(
            name=f"Bartholomew Featherstonehaugh-Smythe the {n}th",
            account_reference=f"ACC-LONG-REFERENCE-{n:04d}",
        )
        complaint = complaint_make(customer=customer, department="technical_support")
        complaint_assign(complaint=complaint, assignee=agent, actor=None)
        if n % 2 == 0:
            # Issue 15: the longest needs badge must not push the clock off either.
            needs_record(
                customer=customer,
                actor=agent,
                consent_how="phone",
                kinds=["hearing", "sight", "mental_health", "financial", "call_dont_write"],
                communication_format="phone_with_copy",
            )
    return agent


def test_the_queue_shows_the_clock_at_1280_and_1024(page, screenshot):
    """Issue 12 item 6: the clock is the point of the queue; no scrolling sideways for it."""
    staff_sign_in(page, agent_with_a_queue())
    page.goto(reverse("admin:complaints_complaint_changelist") + "?queue=open")
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 900})
        header = page.locator("#result_list th.column-clock")
        first_clock = page.locator("#result_list td.field-clock").first
        expect(first_clock).to_contain_text("due")
        for box in (header.bounding_box(), first_clock.bounding_box()):
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
        # Nor is any column pushed off the right-hand edge (nothing to scroll sideways to).
        table = page.locator("#result_list").bounding_box()
        assert table["x"] + table["width"] <= width + 1, (width, table)
        screenshot(page, f"queue-{width}")
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "queue", mobile=True)


def fill_customer(page, name: str) -> None:
    page.get_by_label("Customer's name").fill(name)
    page.get_by_label("Department").select_option(label="Accounts")


def test_a_call_and_a_letter_for_accounts_land_on_a_confirmation(page, screenshot):
    """Issue 12 item 2: the agent cannot open Accounts' cases, and is told where each went."""
    agent = agent_with_a_queue()
    staff_sign_in(page, agent)
    page.goto(reverse("admin:complaints_complaint_changelist"))
    page.get_by_role("link", name="Log a call").click()
    fill_customer(page, "Carla Caller")
    page.get_by_label("Telephone").fill("0117 000 2222")
    page.get_by_label("What it is about (a few words)").fill("Charged after cancelling")
    page.get_by_label("The complaint").fill("Cancelled in October, charged in November.")
    page.get_by_label("Time of the call").fill(local(timezone.now() - timedelta(minutes=10)))
    page.get_by_role("radio", name="No").check()
    page.get_by_label("If not: when we promised our next response").fill(
        local(timezone.now() + timedelta(days=1))
    )
    page.get_by_label("If not: how the customer wants to be contacted").select_option(
        label="Telephone"
    )
    page.get_by_role("button", name="Log the complaint").click()

    call = Complaint.objects.get(customer__name="Carla Caller")
    expect(page.get_by_role("heading", name=f"Complaint logged: {call.reference}")).to_be_visible()
    expect(page.get_by_text("Doesn’t exist")).to_have_count(0)
    summary = page.locator(".desk-summary")
    expect(summary).to_contain_text("Accounts")
    expect(summary).to_contain_text("The Accounts queue: not assigned to anyone yet")
    expect(page.get_by_text("you cannot open it")).to_be_visible()
    screenshot(page, "agent-call-logged")
    screenshot(page, "agent-call-logged", mobile=True)

    # What they may still do: add a note to what they logged, and come back here.
    page.get_by_role("link", name="Add internal note").click()
    page.get_by_label("Internal note").fill("She rang back: the charge was £29.99 on 3 November.")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.get_by_role("heading", name=f"Complaint logged: {call.reference}")).to_be_visible()
    expect(page.get_by_text(f"{call.reference}: Note added.")).to_be_visible()
    assert CaseNote.objects.get(complaint=call).author == agent

    page.get_by_role("link", name="another letter").click()
    fill_customer(page, "Lettice Writer")
    page.get_by_role("textbox", name="Email address").fill("lettice@example.com")
    page.get_by_label("Postal address").fill("3 Avon Row, Keynsham")
    page.get_by_label("What it is about (a few words)").fill("Bill doubled")
    page.get_by_label("The complaint").fill("My November bill is twice October's.")
    page.get_by_label("When the letter arrived").fill(local(timezone.now() - timedelta(hours=1)))
    page.get_by_label("Scan of the letter").set_input_files(
        files=[{"name": "letter.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.get_by_role("button", name="Log the complaint").click()
    letter = Complaint.objects.get(customer__name="Lettice Writer")
    expect(
        page.get_by_role("heading", name=f"Complaint logged: {letter.reference}")
    ).to_be_visible()
    expect(page.locator(".desk-summary")).to_contain_text("Accounts")
    screenshot(page, "agent-letter-logged")

    # Opening the Accounts case itself is still refused, as before.
    response = page.goto(reverse("admin:complaints_complaint_change", args=[letter.pk]))
    expect(page.get_by_text(letter.subject)).to_have_count(0)
    assert response.status in (200, 302, 404)


def test_an_agent_on_a_formal_case_sees_who_owns_it(page, screenshot):
    """Issue 12 item 7."""
    agent = agent_with_a_queue()
    manager = StaffUserFactory(role="senior_manager", name="Sarah Senior")
    complaint = complaint_make(department="technical_support")
    complaint_escalate(
        complaint=complaint, actor=None, requested="not_specified", reason="Still no service."
    )
    staff_sign_in(page, agent)
    page.goto(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    banner = page.get_by_role("region", name="Formal complaint")
    expect(banner).to_contain_text(f"{manager.name}, senior manager, now owns it")
    expect(banner).to_contain_text("You can still: add internal note")
    expect(page.locator(".desk-actions")).not_to_contain_text("Send response")
    screenshot(page, "agent-formal-case")
    screenshot(page, "agent-formal-case", mobile=True)
