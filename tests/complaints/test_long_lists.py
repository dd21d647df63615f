"""The desk's long lists (every case's history, alerts, the outbox) at a million complaints:
read a page at a time, newest first, counted only to 1,000, searched by reference.

At 1M complaints the history holds about 16M rows; listing it oldest first and counting it
all took 20 s (bench/README.md). These tests check what staff see; the timings are in bench/.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from complaints.models import CaseEvent, OutboxMessage
from complaints.selectors import is_reference, rows_for_reference
from complaints.services.notices import notice_send
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
HISTORY = reverse("admin:complaints_caseevent_changelist")
OUTBOX = reverse("admin:complaints_outboxmessage_changelist")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def manager() -> Client:
    client = Client()
    client.force_login(StaffUserFactory(role="senior_manager"))
    return client


def history_add(complaint, count: int) -> None:
    """`count` more history rows for `complaint`, the fast way (the chain is tested elsewhere)."""
    last = complaint.events.order_by("-seq").first()
    CaseEvent.objects.bulk_create(
        CaseEvent(
            complaint=complaint,
            kind=CaseEvent.Kind.NOTE,
            actor_label="system",
            reason=f"Event {i}",
            at=NOW + timedelta(seconds=i),
            seq=last.seq + 1 + i,
            hash=f"{i:064x}",
        )
        for i in range(count)
    )


def test_the_history_reads_newest_first_fifty_a_page_and_counts_only_to_1000(manager):
    complaint = complaint_make()
    history_add(complaint, 1050)
    page = manager.get(HISTORY)
    rows = list(page.context["cl"].result_list)
    assert [r.reason for r in rows[:2]] == ["Event 1049", "Event 1048"]
    assert len(rows) == 50
    assert "More than 1,000 case events: choose a filter or search" in page.text
    second = manager.get(HISTORY, {"p": 2}).context["cl"].result_list
    assert second[0].reason == "Event 999"


def test_the_history_of_one_case_by_its_reference_or_its_formal_reference(manager):
    from escalation.services import formal_case_open

    mine, other = complaint_make(), complaint_make()
    case = formal_case_open(
        complaint=mine, actor=None, requested="not_specified", reason="Not happy."
    )
    for term in (mine.reference, f"  {mine.reference.lower()} ", case.register_reference.lower()):
        listed = {
            e.complaint_id for e in manager.get(HISTORY, {"q": term}).context["cl"].result_list
        }
        assert listed == {mine.pk}, term
    assert other.events.exists()


def test_text_that_is_not_a_reference_finds_nothing_and_says_what_to_search_for(manager):
    complaint_make(subject="Broadband")
    page = manager.get(HISTORY, {"q": "<b>Broadband</b>"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == []
    text = page.text
    assert "“&lt;b&gt;Broadband&lt;/b&gt;” is not a reference" in text
    assert "complaint reference (CMP-…)" in text


def test_the_outbox_reads_newest_first_but_a_work_queue_oldest_first(manager, frozen):
    """Letters to post and calls to make are worked through in the order they were queued."""
    first, second = complaint_make(), complaint_make()
    for complaint in (first, second):
        notice_send(complaint=complaint, kind="adr_letter", deadline_at=NOW)
        frozen.shift(timedelta(minutes=5))
    state = OutboxMessage.objects.order_by("pk").first().state
    newest = [m.notice.complaint for m in manager.get(OUTBOX).context["cl"].result_list]
    queue = manager.get(OUTBOX, {"state__exact": state}).context["cl"].result_list
    assert newest[0] == second
    assert [m.notice.complaint for m in queue][0] == first


def test_a_reference_is_a_whole_cmp_or_fcr_reference():
    assert is_reference("CMP-2026-000123") and is_reference(" fcr-2026-0042 ")
    assert not is_reference("CMP-2026") and not is_reference("CMP-2026-1 and more")
    assert not is_reference("Broadband")


def test_rows_for_reference_follows_the_path_to_the_complaint():
    mine, other = complaint_make(), complaint_make()
    notice_send(complaint=mine, kind="adr_letter", deadline_at=NOW)
    notice_send(complaint=other, kind="adr_letter", deadline_at=NOW)
    outbox = OutboxMessage.objects.all()
    found = rows_for_reference(outbox, "notice__complaint", mine.reference)
    assert {m.notice.complaint_id for m in found} == {mine.pk}
    assert rows_for_reference(outbox, "notice__complaint", "  ").count() == outbox.count()
    assert not rows_for_reference(outbox, "notice__complaint", "hello").exists()
