"""The complaints register and the compliance dashboard: figures, exports and who may see them."""

import csv
import io
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import include, path, reverse

from accounts.models import Customer
from complaints.domain.lifecycle import Status
from complaints.models import ClosureReason, Complaint, Department, Notice, NoticeKind
from complaints.services.enforcement import complaint_alarms_fire
from complaints.services.notices import notice_send
from complaints.services.responses import complaint_customer_reply, complaint_respond
from complaints.services.transitions import complaint_transition
from config import urls as project_urls
from escalation.charts import bar_chart
from escalation.figures import figures_rebuild
from escalation.models import AdrReferral, FormalCase, Requested
from escalation.reports import (
    NOT_REFERRED,
    RegisterFilters,
    dashboard_default_range,
    dashboard_figures,
    dashboard_month_totals,
    dashboard_now,
    register_rows,
)
from escalation.views_reports import csv_cell
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

# Use the project's URLs, adding the reports at /staff/reports/ until config/urls.py does.
urlpatterns = list(project_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "reports" for p in urlpatterns):
    urlpatterns.insert(0, path("staff/reports/", include("escalation.urls_reports")))

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

LONDON = ZoneInfo("Europe/London")
TECH, ACCOUNTS, SECRETARY = (
    Department.TECHNICAL_SUPPORT,
    Department.ACCOUNTS,
    Department.COMPANY_SECRETARY,
)
# When the dashboard is looked at: Wednesday 10 June 2026, midday.
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=LONDON)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@contextmanager
def moment(*args):
    """Run the block at the given London wall-clock time, with the clock stopped."""
    with time_machine.travel(at(*args), tick=False):
        yield


def respond(complaint, *args):
    with moment(*args):
        complaint_respond(
            complaint=complaint, actor=None, findings="Checked the line.", fault_found=False
        )


def move(complaint, to, *args, closure_reason=""):
    with moment(*args):
        complaint_transition(
            complaint=complaint,
            to=to,
            actor=None,
            reason="Test step.",
            closure_reason=closure_reason,
        )


def formal_case(complaint, number, *, opened_at, senior_manager=None, **fields):
    """Write the register row the lead's formal_case_open service writes in real use."""
    return FormalCase.objects.create(
        complaint=complaint,
        register_reference=f"FCR-2026-{number:04d}",
        requested=fields.pop("requested", Requested.TECHNICAL_DIRECTOR),
        senior_manager=senior_manager,
        opened_at=opened_at,
        reason="Still not satisfied.",
        **fields,
    )


def referral(complaint, *, referred_at, decision, recorder, **fields):
    return AdrReferral.objects.create(
        complaint=complaint,
        referred_at=referred_at,
        decision=decision,
        recorded_by=recorder,
        **fields,
    )


@pytest.fixture
def dataset():
    """Nine complaints from December 2025 to May 2026, each chosen to test one rule.

    UK bank holidays on the way: Good Friday 3 Apr and Easter Monday 6 Apr, 4 May 2026.
    Response due (COP-12) is 17:00 on the 2nd working day after day 0; the resolution target
    (COP-14) 17:00 on the 10th.
    """
    sm1 = StaffUserFactory(role="senior_manager", name="Sam Manager")
    sm2 = StaffUserFactory(role="senior_manager", name="Tara Director")
    recorder = StaffUserFactory(role="administrator")
    c = {}

    # Z1 (tech): Wed 31 Dec 2025 23:30, outside every range asked for below. Never answered.
    with moment(2025, 12, 31, 23, 30):
        c["Z1"] = complaint_make(department=TECH)

    # --- January ---
    # A1 (tech): Mon 5 Jan 10:00, due Wed 7 Jan 17:00. Acknowledged, answered Tue 6 Jan
    # (within; target met), auto-closed as deemed resolved Wed 21 Jan 00:00 (COP-10).
    with moment(2026, 1, 5, 10, 0):
        c["A1"] = complaint_make(department=TECH)
    assert c["A1"].response_due_at == at(2026, 1, 7, 17, 0)
    move(c["A1"], Status.ACKNOWLEDGED, 2026, 1, 5, 10, 30)
    respond(c["A1"], 2026, 1, 6, 11, 0)
    move(
        c["A1"],
        Status.CLOSED,
        2026,
        1,
        21,
        0,
        0,
        closure_reason=ClosureReason.DEEMED_RESOLVED,
    )

    # A2 (tech): Thu 15 Jan 09:30, due Mon 19 Jan 17:00; answered late Wed 21 Jan 10:00,
    # which still meets the target (Thu 29 Jan 17:00). Formal Mon 2 Feb (FCR-2026-0001, Sam),
    # final proposition and deadlock letter Mon 16 Mar, referred to ADR Wed 1 Apr: upheld.
    with moment(2026, 1, 15, 9, 30):
        c["A2"] = complaint_make(department=TECH, name="Alice Able")
    assert c["A2"].response_due_at == at(2026, 1, 19, 17, 0)
    respond(c["A2"], 2026, 1, 21, 10, 0)
    move(c["A2"], Status.FORMAL, 2026, 2, 2, 10, 0)
    formal_case(
        c["A2"],
        1,
        opened_at=at(2026, 2, 2, 10, 0),
        senior_manager=sm1,
        outcome=FormalCase.Outcome.FINAL_PROPOSITION,
        final_proposition_sent_at=at(2026, 3, 16, 11, 0),
    )
    with moment(2026, 3, 16, 11, 0):
        notice_send(complaint=c["A2"], kind=NoticeKind.DEADLOCK, deadline_at=at(2026, 3, 16, 11))
    move(
        c["A2"],
        Status.CLOSED,
        2026,
        3,
        16,
        11,
        5,
        closure_reason=ClosureReason.FINAL_PROPOSITION,
    )
    referral(
        c["A2"],
        referred_at=at(2026, 4, 1, 9, 0),
        decision=AdrReferral.Decision.UPHELD,
        recorder=recorder,
        scheme_reference="OS-1",
    )

    # A3 (accounts): Tue 20 Jan 14:00, due Thu 22 Jan 17:00. Acknowledged, never answered.
    # The deadline job records the target (Tue 3 Feb 17:00) as missed; ADR letter Tue 17 Mar.
    with moment(2026, 1, 20, 14, 0):
        c["A3"] = complaint_make(department=ACCOUNTS)
    assert c["A3"].response_due_at == at(2026, 1, 22, 17, 0)
    assert c["A3"].resolution_target_at == at(2026, 2, 3, 17, 0)
    move(c["A3"], Status.ACKNOWLEDGED, 2026, 1, 20, 15, 0)
    with moment(2026, 2, 4, 9, 0):
        complaint_alarms_fire(complaint_id=c["A3"].pk, now=at(2026, 2, 4, 9, 0))
    with moment(2026, 3, 17, 10, 0):
        c["A3"].refresh_from_db()
        notice_send(
            complaint=c["A3"], kind=NoticeKind.ADR_LETTER, deadline_at=c["A3"].adr_eligible_at
        )

    # --- February ---
    # B1 (accounts): Mon 2 Feb 10:00, resolved at first contact 10:20 (within; target met).
    # Formal Tue 12 May (FCR-2026-0003, nobody appointed), referred Wed 20 May: not accepted.
    # Its customer's name is a spreadsheet formula.
    with moment(2026, 2, 2, 10, 0):
        c["B1"] = complaint_make(department=ACCOUNTS, name='=HYPERLINK("http://x.test")')
    move(c["B1"], Status.RESOLVED_AT_FIRST_CONTACT, 2026, 2, 2, 10, 20)
    move(c["B1"], Status.FORMAL, 2026, 5, 12, 9, 0)
    formal_case(c["B1"], 3, opened_at=at(2026, 5, 12, 9, 0), requested=Requested.COMPANY_SECRETARY)
    referral(
        c["B1"],
        referred_at=at(2026, 5, 20, 9, 0),
        decision=AdrReferral.Decision.NOT_ACCEPTED_FOR_REVIEW,
        recorder=recorder,
        scheme_reference="-1+2",
    )

    # B2 (tech): Fri 27 Feb 16:00, due Tue 3 Mar 17:00; answered Mon 2 Mar 09:00 (within;
    # target met). Left waiting for the customer's reply: open, nothing overdue.
    with moment(2026, 2, 27, 16, 0):
        c["B2"] = complaint_make(department=TECH)
    assert c["B2"].response_due_at == at(2026, 3, 3, 17, 0)
    respond(c["B2"], 2026, 3, 2, 9, 0)

    # --- March ---
    # C1 (tech): Mon 9 Mar 11:00, due Wed 11 Mar 17:00. Acknowledged, never answered; the
    # target (Mon 23 Mar) passes with no job run, so it is not recorded. Formal Fri 20 Mar
    # (FCR-2026-0002, Tara), still under review.
    with moment(2026, 3, 9, 11, 0):
        c["C1"] = complaint_make(department=TECH)
    move(c["C1"], Status.ACKNOWLEDGED, 2026, 3, 9, 11, 30)
    move(c["C1"], Status.FORMAL, 2026, 3, 20, 15, 0)
    formal_case(c["C1"], 2, opened_at=at(2026, 3, 20, 15, 0), senior_manager=sm2)

    # --- April ---
    # D1 (accounts): Wed 1 Apr 09:00; Easter makes it due Tue 7 Apr 17:00 (Thu 2, Tue 7).
    # Answered Tue 7 Apr 16:00 (within; target met). Auto-closed Wed 22 Apr 00:00, then the
    # customer replied Thu 23 Apr and it reopened: no longer counted as auto-closed.
    with moment(2026, 4, 1, 9, 0):
        c["D1"] = complaint_make(department=ACCOUNTS)
    assert c["D1"].response_due_at == at(2026, 4, 7, 17, 0)
    respond(c["D1"], 2026, 4, 7, 16, 0)
    move(
        c["D1"],
        Status.CLOSED,
        2026,
        4,
        22,
        0,
        0,
        closure_reason=ClosureReason.DEEMED_RESOLVED,
    )
    with moment(2026, 4, 23, 10, 0):
        complaint_customer_reply(complaint=c["D1"], body="It is broken again.", channel="email")

    # --- May ---
    # E1 (tech): Fri 1 May 00:30 BST, which is Thu 30 Apr 23:30 UTC: a May complaint in
    # London. Day 0 is Fri 1 May; 4 May is a bank holiday: due Wed 6 May 17:00. Answered
    # Fri 1 May 10:00 (within; target met).
    with moment(2026, 5, 1, 0, 30):
        c["E1"] = complaint_make(department=TECH)
    assert c["E1"].response_due_at == at(2026, 5, 6, 17, 0)
    respond(c["E1"], 2026, 5, 1, 10, 0)

    for complaint in c.values():
        complaint.refresh_from_db()
    return {"complaints": c, "sm1": sm1, "sm2": sm2}


def figures(rows, month, department):
    (row,) = [r for r in rows if r.month == month and r.department == department]
    return row


def counts(row) -> dict:
    return {
        "received": row.received,
        "acknowledged": row.acknowledged,
        "responded": (row.responded_within_2_working_days, row.response_measured),
        "resolved": (row.resolved_within_10, row.resolution_measured),
        "auto_closed": row.auto_closed,
        "formal": row.escalated_to_formal,
        "adr_letters": row.adr_letters_sent,
        "deadlocks": row.deadlocks,
        "referrals": row.adr_referrals,
        "outcomes": {d: n for d, n in row.adr_outcome_counts if n},
    }


ZERO = {
    "received": 0,
    "acknowledged": 0,
    "responded": (0, 0),
    "resolved": (0, 0),
    "auto_closed": 0,
    "formal": 0,
    "adr_letters": 0,
    "deadlocks": 0,
    "referrals": 0,
    "outcomes": {},
}

# Worked out by hand from the dataset's comments; (within, measured) pairs.
EXPECTED = {
    # Jan tech: A1 (ack, within, met, auto-closed 21 Jan), A2 (late, met).
    (date(2026, 1, 1), TECH): {
        **ZERO,
        "received": 2,
        "acknowledged": 1,
        "responded": (1, 2),
        "resolved": (2, 2),
        "auto_closed": 1,
    },
    # Jan accounts: A3 (ack, never answered but due: measured and missed; target missed).
    (date(2026, 1, 1), ACCOUNTS): {
        **ZERO,
        "received": 1,
        "acknowledged": 1,
        "responded": (0, 1),
        "resolved": (0, 1),
    },
    # Feb tech: B2 (within, met); A2 escalated 2 Feb.
    (date(2026, 2, 1), TECH): {**ZERO, "received": 1, "responded": (1, 1), "resolved": (1, 1)}
    | {"formal": 1},
    # Feb accounts: B1 (resolved at first contact: within, met; not acknowledged).
    (date(2026, 2, 1), ACCOUNTS): {**ZERO, "received": 1, "responded": (1, 1), "resolved": (1, 1)},
    # Mar tech: C1 (ack, due and missed, target not recorded; formal 20 Mar); A2's deadlock.
    (date(2026, 3, 1), TECH): {
        **ZERO,
        "received": 1,
        "acknowledged": 1,
        "responded": (0, 1),
        "formal": 1,
        "deadlocks": 1,
    },
    # Mar accounts: A3's ADR letter on 17 Mar.
    (date(2026, 3, 1), ACCOUNTS): {**ZERO, "adr_letters": 1},
    # Apr tech: A2 referred 1 Apr, upheld.
    (date(2026, 4, 1), TECH): {**ZERO, "referrals": 1, "outcomes": {"upheld": 1}},
    # Apr accounts: D1 (within, met; auto-closed then reopened, so not counted).
    (date(2026, 4, 1), ACCOUNTS): {**ZERO, "received": 1, "responded": (1, 1), "resolved": (1, 1)},
    # May tech: E1, first made 00:30 BST on 1 May (April in UTC).
    (date(2026, 5, 1), TECH): {**ZERO, "received": 1, "responded": (1, 1), "resolved": (1, 1)},
    # May accounts: B1 escalated 12 May, referred 20 May, not accepted by the scheme.
    (date(2026, 5, 1), ACCOUNTS): {
        **ZERO,
        "formal": 1,
        "referrals": 1,
        "outcomes": {"not_accepted": 1},
    },
}
MONTHS = [date(2026, m, 1) for m in range(1, 6)]


def test_dashboard_figures_match_the_hand_count(dataset):
    with time_machine.travel(NOW, tick=False):
        rows = dashboard_figures(start=date(2026, 1, 1), end=date(2026, 5, 31), department=None)
    # Five months by three departments, in that order; nothing from December (Z1).
    assert [(r.month, r.department) for r in rows] == [
        (m, d) for m in MONTHS for d in (TECH, ACCOUNTS, SECRETARY)
    ]
    for row in rows:
        assert counts(row) == EXPECTED.get((row.month, row.department), ZERO), (
            row.month,
            row.department,
        )

    jan = figures(rows, date(2026, 1, 1), TECH)
    assert jan.responded_within_2_working_days_pct == 50.0
    assert jan.resolved_within_10_pct == 100.0
    assert figures(rows, date(2026, 1, 1), SECRETARY).responded_within_2_working_days_pct is None

    totals = {t.month: t for t in dashboard_month_totals(rows)}
    # January: 3 received, 1 of 3 answered in time (33.3%), 2 of 3 targets met (66.7%).
    assert counts(totals[date(2026, 1, 1)]) == {
        **ZERO,
        "received": 3,
        "acknowledged": 2,
        "responded": (1, 3),
        "resolved": (2, 3),
        "auto_closed": 1,
    }
    assert totals[date(2026, 1, 1)].responded_within_2_working_days_pct == 33.3
    assert totals[date(2026, 1, 1)].resolved_within_10_pct == 66.7
    # March: nobody's target recorded, so no percentage rather than 0%.
    assert totals[date(2026, 3, 1)].resolved_within_10_pct is None
    assert totals[date(2026, 3, 1)].responded_within_2_working_days_pct == 0.0


def test_a_response_not_yet_due_is_not_counted_either_way(dataset):
    # Suppose E1 had not been answered. On Fri 1 May 09:00 its response is not yet due
    # (Wed 6 May 17:00): not measured. On Thu 7 May it is due and missed: measured, missed.
    e1 = dataset["complaints"]["E1"]
    Complaint.objects.filter(pk=e1.pk).update(first_responded_at=None)
    figures_rebuild()  # a bulk update bypasses the kept figures: recount, as the command does
    rows = dashboard_figures(
        start=date(2026, 5, 1), end=date(2026, 5, 31), department=TECH, now=at(2026, 5, 1, 9, 0)
    )
    assert counts(rows[0])["responded"] == (0, 0)
    rows = dashboard_figures(
        start=date(2026, 5, 1), end=date(2026, 5, 31), department=TECH, now=at(2026, 5, 7, 9, 0)
    )
    assert counts(rows[0])["responded"] == (0, 1)


def test_dashboard_figures_for_one_department(dataset):
    rows = dashboard_figures(
        start=date(2026, 1, 1), end=date(2026, 5, 31), department=ACCOUNTS, now=NOW
    )
    assert [(r.month, r.department) for r in rows] == [(m, ACCOUNTS) for m in MONTHS]
    for row in rows:
        assert counts(row) == EXPECTED.get((row.month, ACCOUNTS), ZERO)


def test_open_and_overdue_now(dataset):
    # Tech open: Z1 (logged, response due Mon 5 Jan: overdue), B2 and E1 (answered,
    # awaiting the customer), C1 (formal, never answered: overdue). A1, A2 closed.
    # Accounts open: A3 (never answered: overdue), B1 (formal after answering at first
    # contact), D1 (reopened after an answer). Company Secretary: none.
    now = dashboard_now(department=None, now=NOW)
    assert [(n.department, n.open_now, n.overdue_now) for n in now] == [
        (TECH, 4, 2),
        (ACCOUNTS, 3, 1),
        (SECRETARY, 0, 0),
    ]
    assert [(n.open_now, n.overdue_now) for n in dashboard_now(department=TECH, now=NOW)] == [
        (4, 2)
    ]


def test_default_range_is_the_last_twelve_months():
    assert dashboard_default_range(today=date(2026, 6, 10)) == (date(2025, 7, 1), date(2026, 6, 10))
    assert dashboard_default_range(today=date(2026, 12, 31)) == (
        date(2026, 1, 1),
        date(2026, 12, 31),
    )
    assert dashboard_default_range(today=date(2026, 1, 5)) == (date(2025, 2, 1), date(2026, 1, 5))


# --- Pages -----------------------------------------------------------------------------


def login(client, role):
    user = StaffUserFactory(role=role)
    client.force_login(user)
    return user


def test_dashboard_page_shows_the_table_charts_and_now(client, dataset):
    login(client, "senior_manager")
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    # Default range: July 2025 to 10 June 2026.
    assert "1 Jul 2025 to 10 Jun 2026" in body
    assert body.count('role="img"') == 2
    assert '<title id="chart-received-title">' in body
    # The chart's description carries the same numbers as the table's total rows.
    assert "Jan 2026: 3; Feb 2026: 2; Mar 2026: 1; Apr 2026: 1; May 2026: 1" in body
    assert "Jan 2026: 33.3%; Feb 2026: 100%; Mar 2026: 0%" in body
    charts = body[body.index('<div class="report-charts">') : body.index("Month by month")]
    assert (
        charts.count("<svg") == 2
        and "<script" not in charts
        and "http" not in charts.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    text = " ".join(body.split())
    # The January total row: 1 of 3 answered in time, 2 of 3 targets met.
    assert "1 of 3 (33.3%)" in text and "2 of 3 (66.7%)" in text


def test_dashboard_csv_export(client, dataset):
    login(client, "technical_director")
    with time_machine.travel(NOW, tick=False):
        response = client.get(
            reverse("reports:dashboard"),
            {"start": "2026-01-01", "end": "2026-03-31", "department": ACCOUNTS, "format": "csv"},
        )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="complaints-dashboard-accounts-20260101-20260331.csv"'
    )
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0][:7] == [
        "Month",
        "Department",
        "Received",
        "Acknowledged",
        "First response measured",
        "Responded within 2 working days",
        "% responded within 2 working days",
    ]
    assert [line[:10] for line in lines[1:]] == [
        ["2026-01", "Accounts", "1", "1", "1", "0", "0.0", "1", "0", "0.0"],
        ["2026-02", "Accounts", "1", "0", "1", "1", "100.0", "1", "1", "100.0"],
        ["2026-03", "Accounts", "0", "0", "0", "0", "", "0", "0", ""],
    ]
    assert lines[3][12] == "1"  # A3's ADR letter in March


def test_dashboard_rejects_a_backwards_range_and_shows_the_default(client):
    login(client, "senior_manager")
    with time_machine.travel(NOW, tick=False):
        response = client.get(
            reverse("reports:dashboard"), {"start": "2026-05-01", "end": "2026-01-01"}
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose a date on or after" in body
    assert "1 Jul 2025 to 10 Jun 2026" in body


def test_register_lists_filters_and_links(client, dataset):
    login(client, "company_secretary")
    url = reverse("reports:register")
    body = client.get(url).content.decode()
    for ref in ("FCR-2026-0001", "FCR-2026-0002", "FCR-2026-0003"):
        assert ref in body
    assert "Not appointed" in body and "Not referred" in body
    assert "=HYPERLINK(&quot;http://x.test&quot;)" in body  # escaped on the page

    def refs(**params):
        page = client.get(url, params).content.decode()
        return {r for r in ("FCR-2026-0001", "FCR-2026-0002", "FCR-2026-0003") if r in page}

    assert refs(outcome="final_proposition") == {"FCR-2026-0001"}
    assert refs(outcome="open") == {"FCR-2026-0002", "FCR-2026-0003"}
    assert refs(senior_manager=dataset["sm2"].pk) == {"FCR-2026-0002"}
    assert refs(adr="upheld") == {"FCR-2026-0001"}
    assert refs(adr="not_accepted") == {"FCR-2026-0003"}
    assert refs(adr=NOT_REFERRED) == {"FCR-2026-0002"}
    assert refs(opened_from="2026-03-01", opened_to="2026-03-31") == {"FCR-2026-0002"}
    assert refs(opened_to="2026-02-02") == {"FCR-2026-0001"}
    assert refs(q="0003") == {"FCR-2026-0003"}
    c1 = dataset["complaints"]["C1"].reference
    assert refs(q=c1.lower()) == {"FCR-2026-0002"}


def test_register_rows_selector(dataset):
    def refs(**filters):
        return [c.register_reference for c in register_rows(filters=RegisterFilters(**filters))]

    # Newest first.
    assert refs() == ["FCR-2026-0003", "FCR-2026-0002", "FCR-2026-0001"]
    assert refs(adr_decision=NOT_REFERRED, senior_manager_id=dataset["sm2"].pk) == ["FCR-2026-0002"]
    assert refs(senior_manager_id=dataset["sm1"].pk, outcome="open") == []


def test_register_csv_export_guards_against_formulas(client, dataset):
    login(client, "senior_manager")
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("reports:register"), {"format": "csv", "adr": "not_accepted"})
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == 'attachment; filename="complaints-register-20260610.csv"'
    )
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    b1 = dataset["complaints"]["B1"]
    assert lines == [
        [
            "Register reference",
            "Complaint reference",
            "Customer",
            "Opened",
            "Customer asked for",
            "Senior manager",
            "Outcome",
            "Final proposition sent",
            "ADR status",
            "Referred to ADR",
            "Scheme reference",
        ],
        [
            "FCR-2026-0003",
            b1.reference,
            '\'=HYPERLINK("http://x.test")',
            "2026-05-12 09:00",
            "Company Secretary",
            "",
            "Under review",
            "",
            "Not accepted for review by the scheme",
            "2026-05-20",
            "'-1+2",
        ],
    ]


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_that_would_run_as_formulas_are_quoted(value):
    assert csv_cell(value) == "'" + value


def test_csv_cells_otherwise_unchanged():
    assert [csv_cell(v) for v in ("FCR-2026-0001", 3, None, "a=b")] == [
        "FCR-2026-0001",
        "3",
        "",
        "a=b",
    ]


def test_register_pages_fifty_at_a_time(client):
    login(client, "senior_manager")
    _bulk(51, formal_every=1)
    url = reverse("reports:register")
    first = client.get(url).content.decode()
    assert "51 formal complaints" in first
    assert first.count('<th scope="row">') == 50
    assert "Page 1 of 2" in first
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count('<th scope="row">') == 1


# --- Query counts ----------------------------------------------------------------------


def _bulk(n: int, *, formal_every: int = 5):
    """Insert n complaints over five months and two departments the fast way.

    Every `formal_every`-th is also formal, referred to ADR and sent an ADR letter.
    """
    with moment(2026, 1, 5, 10, 0):
        template = complaint_make()
    start = Complaint.objects.count()
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Customer {start + i}") for i in range(n)]
    )
    rows = []
    for i, customer in enumerate(customers):
        row = Complaint(
            **{
                f.attname: getattr(template, f.attname)
                for f in Complaint._meta.concrete_fields
                if f.attname not in ("id", "reference", "customer_id")
            }
        )
        row.reference = f"BULK-{start + i:06d}"
        row.customer = customer
        row.department = (TECH, ACCOUNTS)[i % 2]
        row.first_made_at = row.logged_at = template.first_made_at + timedelta(days=30 * (i % 5))
        row.first_responded_at = row.first_made_at + timedelta(hours=i % 72)
        row.resolution_target_met = bool(i % 3)
        if i % formal_every == 0:
            row.formal_at = row.first_made_at + timedelta(days=20)
        rows.append(row)
    created = Complaint.objects.bulk_create(rows, batch_size=500)
    formal = [r for r in created if r.formal_at]
    recorder = StaffUserFactory(role="administrator")
    FormalCase.objects.bulk_create(
        [
            FormalCase(
                complaint=r,
                register_reference=f"FCR-2026-{r.pk:04d}",
                requested=Requested.NOT_SPECIFIED,
                opened_at=r.formal_at,
                reason="Bulk.",
                senior_manager=recorder,
            )
            for r in formal
        ]
    )
    AdrReferral.objects.bulk_create(
        [
            AdrReferral(
                complaint=r,
                referred_at=r.formal_at + timedelta(days=10),
                decision=AdrReferral.Decision.values[r.pk % 5],
                recorded_by=recorder,
            )
            for r in formal
        ]
    )
    Notice.objects.bulk_create(
        [
            Notice(
                complaint=r,
                kind=NoticeKind.ADR_LETTER,
                deadline_at=r.formal_at,
                created_at=r.formal_at,
                contact_method="email",
                subject="ADR",
                body="ADR",
            )
            for r in formal
        ]
    )


def _queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as queries:
        with time_machine.travel(NOW, tick=False):
            response = client.get(url, params or {})
        assert response.status_code == 200
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    return len(queries.captured_queries)


@pytest.mark.parametrize("params", [{}, {"format": "csv"}, {"department": TECH}])
def test_dashboard_query_count_does_not_grow_with_complaints(client, params):
    login(client, "senior_manager")
    url = reverse("reports:dashboard")
    _bulk(10)
    _queries(client, url, params)  # warm the session and permission caches
    few = _queries(client, url, params)
    _bulk(200)
    many = _queries(client, url, params)
    assert many == few
    # Session, user and two permission queries; the kept figures per month and department;
    # the responses not yet due (once, by every dimension); what is open now; the kept
    # remedies and answers; the two code tables and the kept figures by category and root
    # cause (issue 16). The CSV leaves out the last three.
    assert few <= 11


@pytest.mark.parametrize("params", [{}, {"format": "csv"}, {"adr": "upheld", "q": "FCR"}])
def test_register_query_count_does_not_grow_with_cases(client, params):
    login(client, "senior_manager")
    url = reverse("reports:register")
    _bulk(10, formal_every=1)
    _queries(client, url, params)
    few = _queries(client, url, params)
    _bulk(200, formal_every=1)
    many = _queries(client, url, params)
    assert many == few
    # Session, user and two permission queries; the page adds the count, the page of
    # rows and, for the filter, the reviewers' roles, the ids of reviewers and appointed
    # managers (one UNION), then those people.
    assert few <= 9


# --- Who may see the reports -----------------------------------------------------------

ROLES = [
    # role, register, dashboard
    ("support_agent", 403, 403),
    ("accounts_agent", 403, 403),
    ("senior_manager", 200, 200),
    ("technical_director", 200, 200),
    ("company_secretary", 200, 403),
    ("administrator", 200, 200),
]


@pytest.mark.parametrize("role,register,dashboard", ROLES)
@pytest.mark.parametrize("csv_format", [False, True])
def test_who_may_see_the_reports(client, role, register, dashboard, csv_format):
    login(client, role)
    params = {"format": "csv"} if csv_format else {}
    assert client.get(reverse("reports:register"), params).status_code == register
    assert client.get(reverse("reports:dashboard"), params).status_code == dashboard


@pytest.mark.parametrize("name", ["reports:register", "reports:dashboard"])
def test_anonymous_and_customers_are_sent_to_the_staff_login(client, name):
    response = client.get(reverse(name), {"format": "csv"})
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    customer = CustomerFactory(with_user=True)
    client.force_login(customer.user)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("name", ["reports:register", "reports:dashboard"])
def test_reports_refuse_post(client, name):
    login(client, "senior_manager")
    assert client.post(reverse(name)).status_code == 405


# --- Charts ----------------------------------------------------------------------------


def test_bar_chart_is_accessible_and_escaped():
    svg = str(
        bar_chart(
            chart_id="c1",
            title="Received <per> month",
            description="Jan: 3; Feb: none.",
            bars=[("Jan", 3), ("<Feb>", None)],
        )
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Received &lt;per&gt; month</title>' in svg
    assert '<desc id="c1-desc">Jan: 3; Feb: none.</desc>' in svg
    assert "<title>Jan: 3</title>" in svg
    assert "&lt;Feb&gt;" in svg and "<Feb>" not in svg
    assert svg.count("<rect") == 1  # no bar for no data
