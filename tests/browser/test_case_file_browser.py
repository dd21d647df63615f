"""The ombudsman's case file in a real browser (issue 16 item 5, COP-18): the formal case
page's new parts, the progress page (no JavaScript: it reloads itself) and the download.

Screenshots go to artifacts/screenshots/; the CSP watch fails the test on any violation.
"""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from playwright.sync_api import expect

from complaints.bundles import bundle_build
from complaints.models import Bundle
from complaints.services.desk import complaint_escalate
from escalation.models import FormalCase
from escalation.services import adr_referral_record
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.browser.journeys import rows_aligned, staff_sign_in
from tests.browser.test_portal_browser import axe_problems
from tests.complaints.factories import complaint_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")
OURS = ("#case-file", ".case-file-request", ".case-files", "#bundle-progress", "#id_due_on")


def test_a_senior_manager_records_the_request_and_downloads_the_case_file(
    page, screenshot, axe_path, axe_report
):
    director = StaffUserFactory(role="technical_director", name="Tess Director")
    with time_machine.travel(datetime(2026, 10, 5, 10, 0, tzinfo=LONDON), tick=False):
        complaint = complaint_make(
            customer=CustomerFactory(name="Grace Hopper"), subject="Line drops nightly"
        )
        complaint_escalate(
            complaint=complaint, actor=None, requested="technical_director", reason="Again."
        )
    case = FormalCase.objects.get(complaint=complaint)
    adr_referral_record(
        complaint=complaint, actor=director, referred_at=datetime(2026, 11, 2, 9, 0, tzinfo=LONDON),
        scheme_reference="OS-123456",
    )  # fmt: skip
    staff_sign_in(page, director)
    page.goto(reverse("escalation:formal-detail", args=[case.register_reference]))

    section = page.locator(".case-file-request")
    expect(section).to_contain_text("Record the scheme's request for our case file")
    page.get_by_label("The scheme asked on").fill(date.today().isoformat())
    page.get_by_label("Their reference for the request").fill("OS-CF-778")
    page.get_by_label("Their deadline").fill("2001-01-01")  # before the request: refused
    page.get_by_role("button", name="Record the request").click()
    expect(page.locator(".messagelist")).to_contain_text("cannot be before its request")
    page.get_by_label("Their reference for the request").fill("OS-CF-778")
    page.get_by_label("The scheme asked on").fill(date.today().isoformat())
    page.get_by_label("Their deadline").fill(
        date.today().replace(year=date.today().year + 1).isoformat()
    )
    page.get_by_role("button", name="Record the request").click()
    expect(page.locator(".messagelist")).to_contain_text("request for the case file is recorded")
    expect(page.locator("#case-file + .desk-summary")).to_contain_text("OS-CF-778")
    expect(page.locator("#case-file + .desk-summary")).to_contain_text("Not yet due")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert rows_aligned(page, "#case-file + .desk-summary") == [], width
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#case-file").scroll_into_view_if_needed()
    screenshot(page, "case-file-request")

    # Produce: the progress page says it is waiting and reloads itself (no script).
    page.get_by_role("button", name="Produce the case file (ZIP)").click()
    expect(page.locator(".messagelist")).to_contain_text("Case file version 1 is being built")
    expect(page.locator("[role=status]")).to_contain_text("Waiting for a worker to start")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    assert page.locator("script:not([src])").count() == 0
    problems = axe_problems(page, axe_path, "case file progress", axe_report)
    # Asked to, it reloads itself (no script) until the file is ready.
    page.get_by_role("link", name="Reload this page every 3 seconds until it is ready").click()
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(1)
    expect(page.get_by_role("link", name="Stop reloading")).to_be_visible()
    screenshot(page, "case-file-progress")

    bundle_build(Bundle.objects.get(complaint=complaint).pk)  # what the worker does
    page.reload()
    expect(page.locator(".desk-banner")).to_contain_text("Ready")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    screenshot(page, "case-file-ready")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    path = download.value.path()
    assert download.value.suggested_filename == f"{case.register_reference}-case-file-v1.zip"
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("case.json"))
        assert data["adr_referral"]["case_file_reference"] == "OS-CF-778"
        assert "case-summary.pdf" in archive.namelist()

    # Back on the case: the version, met, and the history naming who produced and downloaded.
    page.get_by_role("link", name=f"Back to {case.register_reference}").click()
    expect(page.locator(".case-files")).to_contain_text("Download version 1")
    expect(page.locator("#case-file + .desk-summary")).to_contain_text("Met")
    expect(page.locator(".timeline")).to_contain_text("version 1: downloaded")
    page.locator(".case-files").scroll_into_view_if_needed()
    screenshot(page, "case-file-on-the-case")
    screenshot(page, "case-file-on-the-case", mobile=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    found = axe_problems(page, axe_path, "formal case with its case file", axe_report)
    problems += [p for p in found if any(selector in p for selector in OURS)]
    assert problems == []
