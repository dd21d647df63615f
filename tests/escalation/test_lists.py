"""The formal complaints list and the register, a page at a time (COP-15).

Open formal cases run to tens of thousands, so both pages show 25 or 50 rows with plain
links to the next and previous page; the register's CSV export still has every row.
"""

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Customer
from complaints.models import Complaint
from escalation.models import FormalCase, Requested
from escalation.reports import register_senior_managers
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=LONDON)
FIRST_OPENED = datetime(2026, 1, 5, 10, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def formal_cases(n: int, *, senior_manager=None, outcome=FormalCase.Outcome.OPEN, first=1):
    """Make `n` formal cases the fast way, opened an hour apart: FCR-2026-{first} is oldest.

    Returns their register references, newest first (the order both pages list them in).
    """
    template = complaint_make()
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Customer {first + i}") for i in range(n)]
    )
    complaints = Complaint.objects.bulk_create(
        [
            Complaint(
                **{
                    f.attname: getattr(template, f.attname)
                    for f in Complaint._meta.concrete_fields
                    if f.attname not in ("id", "reference", "customer_id")
                },
                reference=f"LIST-{first + i:06d}",
                customer=customer,
            )
            for i, customer in enumerate(customers)
        ]
    )
    FormalCase.objects.bulk_create(
        [
            FormalCase(
                complaint=complaint,
                register_reference=f"FCR-2026-{first + i:04d}",
                requested=Requested.NOT_SPECIFIED,
                senior_manager=senior_manager,
                opened_at=FIRST_OPENED + timedelta(hours=first + i),
                outcome=outcome,
                reason="Still not satisfied.",
            )
            for i, complaint in enumerate(complaints)
        ]
    )
    return [f"FCR-2026-{first + i:04d}" for i in reversed(range(n))]


def signed_in(client, role="senior_manager"):
    user = StaffUserFactory(role=role)
    client.force_login(user)
    return user


def section(body: str, heading: str) -> str:
    """Return the part of the page from the heading up to the next heading."""
    start = body.index(heading)
    end = body.find("<h2", start + 1)
    return body[start : end if end != -1 else len(body)]


def shown(html: str) -> list[str]:
    """Return the register references linked in `html`, in order."""
    return re.findall(r">(FCR-2026-\d{4})</a>", html)


def nav(html: str) -> str:
    match = re.search(r'<nav class="pagination".*?</nav>', html, re.S)
    return match.group(0) if match else ""


def hrefs(html: str, rel: str) -> str:
    match = re.search(rf'<a href="([^"]*)" rel="{rel}"', html)
    return match.group(1).replace("&amp;", "&") if match else ""


# --- The formal complaints list ----------------------------------------------------------


def test_formal_list_pages_each_list_separately_newest_first(client):
    me = signed_in(client)
    colleague = StaffUserFactory(role="senior_manager")
    mine = formal_cases(27, senior_manager=me, first=1)
    others = formal_cases(20, senior_manager=colleague, first=100) + formal_cases(10, first=200)
    others.sort(reverse=True)  # unappointed cases are newer: opened at hour 200 onwards
    closed = formal_cases(3, outcome=FormalCase.Outcome.FINAL_PROPOSITION, first=300)
    url = reverse("escalation:formal-list")

    body = client.get(url).content.decode()
    mine_part = section(body, "Assigned to me")
    others_part = section(body, "All other open formal complaints")
    assert shown(mine_part) == mine[:25]
    assert shown(others_part) == others[:25]
    assert shown(section(body, "Recently closed")) == closed
    assert "Showing 1 to 25 of 27 formal complaints assigned to you." in mine_part
    assert 'aria-label="Pages of formal complaints assigned to me"' in mine_part
    assert '<span aria-current="page">Page 1 of 2</span>' in nav(mine_part)
    assert 'rel="prev"' not in nav(mine_part)
    assert hrefs(mine_part, "next") == "?mine_page=2#mine"
    assert "Showing 1 to 25 of 30 other open formal complaints." in others_part
    assert hrefs(others_part, "next") == "?page=2#others"

    # Turning the second list's page keeps the first list where it was, and back again.
    body = client.get(url + "?mine_page=2").content.decode()
    assert shown(section(body, "Assigned to me")) == mine[25:]
    others_part = section(body, "All other open formal complaints")
    assert hrefs(others_part, "next") == "?mine_page=2&page=2#others"
    body = client.get(url + "?mine_page=2&page=2").content.decode()
    mine_part = section(body, "Assigned to me")
    others_part = section(body, "All other open formal complaints")
    assert shown(mine_part) == mine[25:]
    assert shown(others_part) == others[25:]
    assert '<span aria-current="page">Page 2 of 2</span>' in nav(others_part)
    assert hrefs(others_part, "prev") == "?mine_page=2&page=1#others"
    assert 'rel="next"' not in nav(others_part)
    assert hrefs(mine_part, "prev") == "?mine_page=1&page=2#mine"


def test_formal_list_shows_no_page_links_when_everything_fits(client):
    signed_in(client)
    formal_cases(3)
    body = client.get(reverse("escalation:formal-list")).content.decode()
    assert "<nav" not in body.split("Assigned to me", 1)[1]


def test_formal_list_out_of_range_page_shows_the_last_page(client):
    signed_in(client)
    refs = formal_cases(30)
    body = client.get(reverse("escalation:formal-list"), {"page": "99"}).content.decode()
    assert shown(section(body, "All other open formal complaints")) == refs[25:]
    body = client.get(reverse("escalation:formal-list"), {"page": "x"}).content.decode()
    assert shown(section(body, "All other open formal complaints")) == refs[:25]


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries.captured_queries)


def test_formal_list_query_count_is_the_same_for_a_few_cases_or_many_pages(client):
    me = signed_in(client)
    formal_cases(2, senior_manager=me, first=1)
    formal_cases(2, first=100)
    url = reverse("escalation:formal-list")
    _count_queries(client, url)  # warm the session and permission caches
    few = _count_queries(client, url)
    formal_cases(60, senior_manager=me, first=1000)
    formal_cases(60, first=2000)
    formal_cases(30, outcome=FormalCase.Outcome.FINAL_PROPOSITION, first=3000)
    assert _count_queries(client, url) == few
    assert _count_queries(client, url + "?page=3&mine_page=2") == few


# --- The register --------------------------------------------------------------------------


def test_register_paging_keeps_the_filters_and_links_both_ways(client):
    signed_in(client, "company_secretary")
    open_refs = formal_cases(60, first=1)
    formal_cases(5, outcome=FormalCase.Outcome.FINAL_PROPOSITION, first=100)
    url = reverse("reports:register")

    first = client.get(url, {"outcome": "open"}).content.decode()
    assert "60 formal complaints." in first
    assert shown(first) == open_refs[:50]
    pages = nav(first)
    assert 'aria-label="Pages of the complaints register"' in pages
    assert "Showing 1 to 50 of 60 formal complaints." in pages
    assert '<span aria-current="page">Page 1 of 2</span>' in pages
    assert hrefs(pages, "next") == "?outcome=open&page=2"

    second = client.get(url + hrefs(pages, "next")).content.decode()
    assert shown(second) == open_refs[50:]
    assert hrefs(nav(second), "prev") == "?outcome=open&page=1"
    assert 'rel="next"' not in nav(second)
    # The export link keeps the filters and drops the page.
    assert 'href="?outcome=open&amp;format=csv"' in second


def test_register_csv_exports_every_matching_row_whichever_page_is_shown(client):
    signed_in(client)
    open_refs = formal_cases(120, first=1)
    formal_cases(5, outcome=FormalCase.Outcome.FINAL_PROPOSITION, first=500)
    response = client.get(
        reverse("reports:register"), {"outcome": "open", "page": "2", "format": "csv"}
    )
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0][0] == "Register reference"
    assert [line[0] for line in lines[1:]] == open_refs  # all 120, newest first


def test_register_filter_offers_reviewers_and_everyone_ever_appointed():
    reviewer = StaffUserFactory(role="senior_manager", name="Rita Reviewer")
    director = StaffUserFactory(role="technical_director", name="Dev Director")
    StaffUserFactory(role="support_agent", name="Sam Support")
    former = StaffUserFactory(role="support_agent", name="Fay Former")  # no longer a reviewer
    formal_cases(2, senior_manager=former)
    people = {user.name for user in register_senior_managers()}
    assert {reviewer.name, director.name, former.name} <= people
    assert "Sam Support" not in people
    assert [u.name for u in register_senior_managers()] == sorted(people)
