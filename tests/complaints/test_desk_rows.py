"""The staff queue's rows are made once per column (complaints.admin_base.changelist_rows),
and must be exactly the rows Django's admin would have made: same cells, same escaping, same
links back to the list with its filters."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.admin.templatetags.admin_list import results
from django.test import Client
from django.urls import reverse

from accounts.models import User
from complaints.admin_base import changelist_rows
from complaints.domain.lifecycle import Status
from complaints.models import AlarmKind, Department, StaffAlert
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
HOSTILE = '<script>alert("x")</script> & \u202eevil'


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def desk(frozen):
    """A queue with every kind of cell: hostile names, no assignee, overdue, formal, closed."""
    manager = StaffUserFactory(role="senior_manager")
    agent = StaffUserFactory(role="support_agent", name=HOSTILE)
    complaint_make(customer=CustomerFactory(name=HOSTILE), department=Department.ACCOUNTS)
    assigned = complaint_make(first_made_at=NOW - timedelta(days=1))
    assigned.assignee = agent
    assigned.save(update_fields=["assignee"])
    overdue = complaint_make(first_made_at=NOW - timedelta(days=9))
    formal = complaint_make()
    complaint_transition(complaint=formal, to=Status.FORMAL, actor=None, reason="Not happy.")
    closed = complaint_make()
    complaint_transition(
        complaint=closed, to=Status.RESOLVED_AT_FIRST_CONTACT, actor=None, reason="Sorted."
    )
    for complaint in (overdue, formal):
        StaffAlert.objects.create(
            complaint=complaint,
            kind=AlarmKind.RESPONSE_OVERDUE,
            deadline_at=NOW,
            audience="department",
            department=complaint.department,
            recipient=agent if complaint is formal else None,
            message=HOSTILE,
        )
    frozen.move_to(NOW + timedelta(days=3))
    client = Client()
    client.force_login(manager)
    return client, manager


def both(client, url: str, query: dict) -> tuple[list[list[str]], list[list[str]], object]:
    response = client.get(url, query)
    assert response.status_code == 200
    cl = response.context["cl"]
    calls = []
    real = cl.url_for_result
    cl.url_for_result = lambda result: calls.append(result) or real(result)
    fast = [[str(cell) for cell in row] for row in changelist_rows(cl)]
    fast_calls = len(calls)
    cl.url_for_result = real
    admin = [[str(cell) for cell in row] for row in results(cl)]
    return fast, admin, fast_calls


QUERIES = [
    {},
    {"queue": "open"},
    {"queue": "unassigned", "o": "-2.1"},
    {"status": "formal", "department": "technical_support"},
    {"q": "Example & <b>", "o": "7"},
    {"q": HOSTILE},
    {"queue": "closed", "p": "1"},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()))
def test_the_queue_rows_are_the_admins_rows(desk, query):
    client, _ = desk
    fast, admin, url_reversals = both(
        client, reverse("admin:complaints_complaint_changelist"), query
    )
    assert fast == admin
    if fast:  # one change URL reversed for the page, not one a row
        assert url_reversals == 1


@pytest.mark.parametrize("name", ["complaints_staffalert", "complaints_caseevent"])
def test_other_lists_with_dates_methods_and_action_boxes_come_out_the_same(desk, name):
    """The rows are the admin's for any list: dates, foreign keys, methods, check boxes."""
    client, _ = desk
    fast, admin, _ = both(client, reverse(f"admin:{name}_changelist"), {"o": "-1"})
    assert fast and fast == admin


def test_the_queue_page_shows_the_rows_escaped_with_links_that_keep_the_filters(desk):
    client, _ = desk
    url = reverse("admin:complaints_complaint_changelist")
    page = client.get(url, {"queue": "open"}).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; \u202eevil" in page
    assert "_changelist_filters=queue%3Dopen" in page
    assert 'class="field-clock"' in page
    assert User.objects.filter(name=HOSTILE).exists()


def test_the_queue_reads_only_the_columns_it_shows(desk):
    """A complaint's description and a customer's address can be long; the queue shows
    neither, so it never reads them (ComplaintAdmin.list_only)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, _ = desk
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:complaints_complaint_changelist"))
    assert response.status_code == 200 and response.context["cl"].result_list
    rows = [
        q["sql"] for q in ctx.captured_queries if '"complaints_complaint"."reference"' in q["sql"]
    ]
    assert rows, "the rows' query"
    assert all('"description"' not in sql and '"postal_address"' not in sql for sql in rows)
