"""Letters in the format a customer needs, in a real browser (issue 15 item 2).

The portal's letters list offers large print to a customer who asked for it (checked
with axe-core); the staff "to post" and "to call" queues show the format and when to call.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import CommunicationFormat, NeedKind
from accounts.needs import needs_record
from complaints.letters import LARGE_PRINT_POINTS
from complaints.models import NoticeKind, OutboxMessage
from complaints.services.outbox import outbox_deliver, outbox_due_ids
from complaints.services.responses import complaint_progress_update
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.browser.journeys import staff_sign_in
from tests.browser.test_portal_browser import axe_problems, sign_in
from tests.complaints.factories import complaint_make
from tests.complaints.test_letter_layouts import text_runs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _deliver() -> None:
    for pk in outbox_due_ids(now=timezone.now() + timedelta(minutes=1)):
        outbox_deliver(message_id=pk, now=timezone.now() + timedelta(minutes=1))


def test_a_customer_who_asked_for_large_print_downloads_a_letter_in_large_print(
    page, axe_path, screenshot, axe_report
):
    customer = CustomerFactory(confirmed=True, email="lena@example.com", name="Lena Okafor")
    complaint = complaint_make(customer=customer, subject="Phone line crackles")
    complaint_progress_update(complaint=complaint, actor=None, text="An engineer is booked.")
    needs_record(
        customer=customer,
        actor=customer.user,
        by_customer=True,
        consent_how="portal",
        kinds=[NeedKind.SIGHT],
        communication_format=CommunicationFormat.LARGE_PRINT,
    )
    sign_in(page, customer)
    page.goto(reverse("complaints:complaint-detail", args=[complaint.reference]))
    link = page.get_by_role("link", name="download in large print").first
    expect(link).to_be_visible()
    report: list[str] = []
    problems = axe_problems(page, axe_path, "complaint-detail-large-print", report)
    screenshot(page, "complaint-detail-large-print", mobile=True)
    axe_report.extend(report)
    assert not problems, "\n".join(problems)
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith("-large-print.pdf")
    runs = text_runs(Path(download.value.path()).read_bytes())
    assert min(size for _, size, _ in runs) >= LARGE_PRINT_POINTS
    assert "An engineer is booked." in " ".join(t for t, _, _ in runs)


def test_staff_see_large_print_to_post_and_when_to_call(page, screenshot):
    large = CustomerFactory(name="Arthur Dent")
    needs_record(
        customer=large,
        actor=StaffUserFactory(),
        consent_how="phone",
        kinds=[NeedKind.SIGHT],
        communication_format=CommunicationFormat.LARGE_PRINT,
    )
    caller = CustomerFactory(name="Beth Ncube", phone="0117 900 1234")
    needs_record(
        customer=caller,
        actor=StaffUserFactory(),
        consent_how="letter",
        kinds=[NeedKind.HEARING, NeedKind.CALL_TIME],
        call_times="weekdays after 2pm",
        communication_format=CommunicationFormat.PHONE_WITH_COPY,
    )
    for customer in (large, caller):
        complaint = complaint_make(customer=customer)
        complaint_progress_update(complaint=complaint, actor=None, text="Still looking into it.")
    _deliver()
    staff_sign_in(page, StaffUserFactory(role="support_agent"))
    queue = reverse("admin:complaints_outboxmessage_changelist")

    page.goto(f"{queue}?state__exact=to_post")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".format-large-print")).to_have_text("LARGE PRINT")
    screenshot(page, "outbox-to-post-large-print")
    with page.expect_download() as download:
        row.get_by_role("link", name="PDF").click()
    runs = text_runs(Path(download.value.path()).read_bytes())
    assert min(size for _, size, _ in runs) >= LARGE_PRINT_POINTS

    page.goto(f"{queue}?state__exact=to_call")
    row = page.locator("#result_list tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td.field-call_details")).to_contain_text("Call weekdays after 2pm.")
    expect(row.locator("td.field-call_details")).to_contain_text("Needs: hearing")
    expect(row.locator("td.field-format_cell")).to_have_text("By phone, with a written copy")
    screenshot(page, "outbox-to-call-with-call-times")
    call = OutboxMessage.objects.get(state="to_call")
    assert call.notice.kind == NoticeKind.PROGRESS_UPDATE
    assert call.recipient == "0117 900 1234"
