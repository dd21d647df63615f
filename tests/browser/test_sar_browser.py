"""Subject access requests on the portal in a real browser, without JavaScript, with axe.

Issue 15 item 5: ask for everything we hold, see the date it is due, download the answer.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import SubjectAccessRequest
from accounts.roles import Role
from accounts.sar import sar_extend, sar_fulfil, sar_response_prepare
from complaints.bundles import bundle_build
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.browser.test_portal_browser import axe_problems, sign_in
from tests.complaints.factories import complaint_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ask_for_everything_see_the_date_and_download_it(new_page, axe_path, screenshot,
                                                         axe_report):  # fmt: skip
    page = new_page(java_script_enabled=False)
    customer = CustomerFactory(confirmed=True, email="sam@example.com")
    complaint = complaint_make(customer=customer, subject="Router keeps restarting")
    problems: list[str] = []
    report: list[str] = []

    def check(name: str) -> None:
        """axe needs script: the page, opened without it, is checked again in a scripted tab."""
        scripted = new_page(storage_state=page.context.storage_state())
        scripted.goto(page.url)
        problems.extend(axe_problems(scripted, axe_path, name, report))
        screenshot(page, name)
        scripted.set_viewport_size({"width": 390, "height": 844})
        problems.extend(axe_problems(scripted, axe_path, f"{name} (390px)", report))
        screenshot(scripted, name, mobile=True)
        scripted.context.close()

    sign_in(page, customer)
    page.goto(reverse("accounts:details"))
    page.get_by_role("link", name="Ask for or download your data").click()
    expect(
        page.get_by_role("heading", name="Everything we hold about you", level=1)
    ).to_be_visible()
    check("sar-ask")
    page.get_by_role("button", name="Ask for everything we hold about you").click()

    sar = SubjectAccessRequest.objects.get(customer=customer)
    due = f"{sar.due_on:%A} {sar.due_on.day} {sar.due_on:%B %Y}"
    expect(page.get_by_role("heading", name="Your requests for your data")).to_be_visible()
    expect(page.get_by_text(f"Its reference is {sar.reference}")).to_be_visible()
    expect(page.get_by_text(due)).to_be_visible()
    check("sar-list-open")

    # Back on the page: it says the request is open instead of offering a second one.
    page.goto(reverse("accounts:privacy_export"))
    expect(page.get_by_text(f"reference {sar.reference}")).to_be_visible()
    expect(page.get_by_role("button", name="Ask for everything we hold about you")).to_have_count(0)

    lead = StaffUserFactory(role=Role.COMPANY_SECRETARY)
    sar_extend(sar=sar, months=1, reason="Records in two systems.", actor=lead)
    page.goto(reverse("accounts:sar-list"))
    expect(page.get_by_text("Records in two systems.")).to_be_visible()
    check("sar-list-extended")

    bundle_build(sar_response_prepare(sar=sar, actor=lead).pk)
    sar_fulfil(sar=sar, actor=lead)
    page.goto(reverse("accounts:sar-list"))
    check("sar-list-answered")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download your data").click()
    download = info.value
    assert download.suggested_filename.startswith(sar.reference)
    with open(download.path(), "rb") as f:
        archive = zipfile.ZipFile(io.BytesIO(f.read()))
    data = json.loads(archive.read("data.json"))
    assert [c["reference"] for c in data["complaints"]] == [complaint.reference]

    axe_report.append(f"subject access pages: {len(problems)} serious or critical violations")
    axe_report.extend(report)
    assert not problems, "Serious or critical accessibility violations:\n" + "\n".join(problems)
