"""The satisfaction question through its signed link, in a real browser, with axe.

Issue 16 item 4: answered by keyboard without JavaScript and without signing in, once.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from complaints.models import SatisfactionResponse
from tests.browser.test_portal_browser import axe_problems
from tests.complaints.test_satisfaction import _auto_closed, _url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_question_is_answered_once_without_javascript(new_page, axe_path, screenshot,
                                                          axe_report, live_server):  # fmt: skip
    complaint = _auto_closed()
    url = live_server.url + _url(complaint)
    page = new_page(java_script_enabled=False)
    problems: list[str] = []
    report: list[str] = []

    def check(name: str) -> None:
        scripted = new_page()
        scripted.goto(page.url if page.url != "about:blank" else url)
        problems.extend(axe_problems(scripted, axe_path, name, report))
        screenshot(page, name)
        scripted.set_viewport_size({"width": 390, "height": 844})
        problems.extend(axe_problems(scripted, axe_path, f"{name} (390px)", report))
        scripted.context.close()

    page.goto(url)
    expect(page.get_by_role("heading", name="How satisfied are you?", level=1)).to_be_visible()
    check("satisfaction-question")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_text("There is a problem")).to_be_visible()
    page.get_by_label("4 – satisfied").focus()
    page.keyboard.press("Space")
    page.get_by_label("Anything you would like to tell us (optional)").fill("Sorted quickly.")
    page.get_by_role("button", name="Send my answer").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert SatisfactionResponse.objects.get().score == 4
    page.goto(url)
    expect(page.get_by_role("heading", name="You have already answered")).to_be_visible()
    check("satisfaction-answered")
    page.goto(live_server.url + "/satisfaction/not-a-real-link/")
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
    check("satisfaction-bad-link")

    axe_report.append(f"satisfaction pages: {len(problems)} serious or critical violations")
    axe_report.extend(report)
    assert not problems, "Serious or critical accessibility violations:\n" + "\n".join(problems)
