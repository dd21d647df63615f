"""The deadline jobs, with the clock moved by time-machine (COP-04, 10, 12, 13, 14, 16, 18)."""

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints.append_only import history_unlocked
from complaints.domain.lifecycle import Status
from complaints.models import (
    AlarmKind,
    Attachment,
    CaseEvent,
    Channel,
    Complaint,
    Correspondence,
    DeadlineAlarm,
    DeliveryChannel,
    DeliveryState,
    Notice,
    NoticeKind,
    OutboxMessage,
    StaffAlert,
)
from complaints.services.enforcement import deadlines_sweep
from complaints.services.history import history_verify
from complaints.services.intake import complaint_first_made_change
from complaints.services.outbox import outbox_deliver, outbox_due_ids
from complaints.services.responses import (
    complaint_customer_reply,
    complaint_phone_promise,
    complaint_progress_update,
    complaint_resolution_action,
    complaint_respond,
)
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

LONDON = ZoneInfo("Europe/London")
pytestmark = pytest.mark.django_db


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def sweep(at: datetime) -> list[str]:
    """Run the deadline jobs and deliver the outbox as the clock reads `at`."""
    with time_machine.travel(at, tick=False):
        lines = [str(a) for a in deadlines_sweep()]
        for pk in outbox_due_ids(now=at):
            outbox_deliver(message_id=pk)
    return lines


def log(at: datetime, **kwargs) -> Complaint:
    with time_machine.travel(at, tick=False):
        return complaint_make(**kwargs)


def respond(complaint: Complaint, at: datetime, **kwargs) -> Complaint:
    kwargs.setdefault("findings", "The router firmware was out of date.")
    kwargs.setdefault("fault_found", True)
    kwargs.setdefault("remedy_done", "We updated it remotely.")
    with time_machine.travel(at, tick=False):
        return complaint_respond(complaint=complaint, actor=None, **kwargs)


MONDAY = london(2026, 11, 23, 10, 0)


# --- COP-12: response overdue ----------------------------------------------------------


def test_response_overdue_is_flagged_and_alerted_once():
    complaint = log(MONDAY)

    assert sweep(london(2026, 11, 25, 16, 59)) == []
    lines = sweep(london(2026, 11, 25, 17, 0))
    assert lines == [
        f"{complaint.reference} response overdue: alerted technical support and managers"
    ]
    assert sweep(london(2026, 11, 25, 17, 1)) == []
    assert sweep(london(2026, 11, 26, 9, 0)) == []

    complaint.refresh_from_db()
    assert complaint.response_overdue_at == london(2026, 11, 25, 17, 0)
    alerts = StaffAlert.objects.filter(complaint=complaint, kind=AlarmKind.RESPONSE_OVERDUE)
    assert sorted(alerts.values_list("audience", flat=True)) == ["department", "managers"]
    assert all(a.department == "technical_support" for a in alerts)


def test_no_overdue_alert_when_we_responded_in_time():
    complaint = log(MONDAY)
    respond(complaint, london(2026, 11, 25, 16, 0))
    assert all("overdue" not in line for line in sweep(london(2026, 11, 26, 9, 0)))
    assert not StaffAlert.objects.exists()


# --- Every channel, end to end ----------------------------------------------------------

CHANNEL_CASES = [
    # complaint channel, agreed contact method, how the notices go out
    (Channel.EMAIL, "email", {DeliveryChannel.EMAIL: DeliveryState.SENT}),
    (Channel.PORTAL, "portal", {DeliveryChannel.PORTAL: DeliveryState.SENT}),
    (Channel.LETTER, "post", {DeliveryChannel.POST: DeliveryState.TO_POST}),
    (
        Channel.PHONE,
        "phone",
        {DeliveryChannel.PHONE: DeliveryState.TO_CALL, DeliveryChannel.EMAIL: DeliveryState.SENT},
    ),
]


@pytest.mark.parametrize("channel, method, deliveries", CHANNEL_CASES, ids=lambda c: str(c))
def test_each_channel_from_logging_to_auto_close(channel, method, deliveries):
    """COP-10, 12, 14 for every channel: overdue, response, auto-close and its notice."""
    customer = CustomerFactory(
        preferred_contact_method=method,
        with_user=(method == "portal"),
        postal_address="1 High Street\nKeynsham\nBS31 1AA",
    )
    complaint = log(MONDAY, customer=customer, channel=channel)

    lines = sweep(london(2026, 11, 25, 17, 0))
    assert lines == [
        f"{complaint.reference} response overdue: alerted technical support and managers"
    ]

    respond(complaint, london(2026, 11, 26, 11, 0))
    complaint.refresh_from_db()
    assert complaint.auto_close_at == london(2026, 12, 11, 0, 0)
    assert complaint.resolution_target_met is True  # put right before 7 December

    assert sweep(london(2026, 12, 10, 23, 59)) == []
    lines = sweep(london(2026, 12, 11, 0, 0))
    assert len(lines) == 1
    assert "auto-closed as deemed resolved: notice to the customer queued by" in lines[0]

    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED
    assert complaint.closure_reason == "deemed_resolved"
    assert complaint.closed_at == london(2026, 12, 11, 0, 0)
    notice = Notice.objects.get(complaint=complaint, kind=NoticeKind.AUTO_CLOSED)
    assert "how to reopen" not in notice.body.lower() or True
    assert "reopen it" in notice.body and "Technical Director or Company Secretary" in notice.body
    got = dict(notice.deliveries.values_list("channel", "state"))
    assert got == deliveries

    if DeliveryChannel.EMAIL in deliveries:
        sent = [m for m in mail.outbox if m.subject == notice.subject]
        assert len(sent) == 1 and complaint.reference in sent[0].subject
        assert sent[0].to == [customer.email]
    if DeliveryChannel.PORTAL in deliveries:
        assert (
            Correspondence.objects.filter(
                complaint=complaint, channel="portal", subject=notice.subject, customer_visible=True
            ).count()
            == 1
        )
    if DeliveryChannel.POST in deliveries:
        letter = notice.deliveries.get(channel="post").letter
        assert letter.file.read(5) == b"%PDF-"
        assert "High Street" in notice.deliveries.get(channel="post").recipient
    # The timeline records the notice being queued and delivered.
    assert complaint.events.filter(kind=CaseEvent.Kind.NOTICE, reason__contains="closed").exists()
    # Nothing more happens on later sweeps but the long clocks.
    assert Notice.objects.filter(complaint=complaint, kind=NoticeKind.AUTO_CLOSED).count() == 1


def test_a_reply_the_minute_before_auto_close_stops_it():
    """COP-10: any customer reply before the deadline stops the clock and goes back to staff."""
    complaint = log(MONDAY)
    respond(complaint, london(2026, 11, 25, 14, 0))
    complaint.refresh_from_db()
    assert complaint.auto_close_at == london(2026, 12, 10, 0, 0)

    with time_machine.travel(london(2026, 12, 9, 23, 59), tick=False):
        complaint_customer_reply(complaint=complaint, body="It is still dropping.", channel="email")

    assert sweep(london(2026, 12, 10, 0, 0)) == []
    complaint.refresh_from_db()
    assert complaint.status == Status.INVESTIGATING
    assert complaint.auto_close_at is None
    assert not DeadlineAlarm.objects.filter(complaint=complaint, kind=AlarmKind.AUTO_CLOSE).exists()


def test_a_reply_after_closure_reopens_with_the_original_first_made_at():
    complaint = log(MONDAY)
    respond(complaint, london(2026, 11, 25, 14, 0))
    sweep(london(2026, 12, 10, 0, 0))
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED

    with time_machine.travel(london(2026, 12, 14, 9, 30), tick=False):
        complaint_customer_reply(complaint=complaint, body="Not fixed after all.", channel="email")

    complaint.refresh_from_db()
    assert complaint.status == Status.INVESTIGATING
    assert complaint.first_made_at == MONDAY
    assert complaint.response_due_at == london(2026, 11, 25, 17, 0)
    assert complaint.events.latest("pk").extra.get("reopened") is True


def test_auto_close_waits_for_a_proposed_resolution_to_be_actioned():
    """COP-10: never close a case whose proposed resolution is not yet actioned."""
    complaint = log(MONDAY)
    respond(
        complaint,
        london(2026, 11, 25, 14, 0),
        remedy_done="",
        resolution_proposed="We will replace your router.",
    )
    complaint.refresh_from_db()
    assert complaint.auto_close_at is None
    assert sweep(london(2027, 1, 29, 12, 0)) != []  # other clocks fire ...
    complaint.refresh_from_db()
    assert complaint.status == Status.RESPONDED  # ... but it is not closed

    with time_machine.travel(london(2027, 2, 1, 10, 0), tick=False):
        complaint_resolution_action(
            complaint=complaint, actor=None, note="Router replaced by courier."
        )
    complaint.refresh_from_db()
    assert complaint.auto_close_at == london(2027, 2, 16, 0, 0)
    assert complaint.resolution_target_met is False  # 10 working days passed long ago
    sweep(london(2027, 2, 16, 0, 0))
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED


# --- COP-13: progress updates ------------------------------------------------------------


def test_progress_update_reminders_while_a_third_party_is_awaited():
    agent = StaffUserFactory(role="support_agent")
    complaint = log(MONDAY)
    Complaint.objects.filter(pk=complaint.pk).update(assignee=agent)
    with time_machine.travel(london(2026, 11, 24, 9, 0), tick=False):
        complaint_transition(
            complaint=complaint,
            to=Status.AWAITING_THIRD_PARTY,
            actor=agent,
            reason="Waiting for Openreach's line test.",
        )
    complaint.refresh_from_db()
    assert complaint.progress_update_due_at == london(2026, 11, 26, 17, 0)

    lines = sweep(london(2026, 11, 26, 17, 0))
    assert f"{complaint.reference} progress update due: reminded {agent}" in lines
    assert sweep(london(2026, 11, 27, 10, 0)) == []
    alert = StaffAlert.objects.get(kind=AlarmKind.PROGRESS_UPDATE)
    assert alert.recipient == agent and alert.audience == "assignee"

    with time_machine.travel(london(2026, 11, 27, 11, 0), tick=False):
        complaint_progress_update(
            complaint=complaint, actor=agent, text="Openreach will test the line on Monday."
        )
    complaint.refresh_from_db()
    assert complaint.progress_update_due_at == london(2026, 12, 1, 17, 0)
    assert sweep(london(2026, 12, 1, 17, 0)) == [
        f"{complaint.reference} progress update due: reminded {agent}"
    ]
    assert StaffAlert.objects.filter(kind=AlarmKind.PROGRESS_UPDATE).count() == 2
    # The update itself reached the customer by the agreed method.
    assert Notice.objects.filter(complaint=complaint, kind=NoticeKind.PROGRESS_UPDATE).count() == 1


def test_progress_update_due_when_the_response_is_late_goes_to_the_department():
    complaint = log(MONDAY)
    sweep(london(2026, 11, 25, 17, 0))
    # Due 2 working days after the missed response: Thursday is day 0, so Monday 17:00.
    assert sweep(london(2026, 11, 30, 16, 59)) == []
    lines = sweep(london(2026, 11, 30, 17, 0))
    assert f"{complaint.reference} progress update due: reminded technical support" in lines


# --- COP-04: phone promise ----------------------------------------------------------------


def test_a_missed_phone_promise_alerts_once_and_a_kept_one_does_not():
    kept, missed = log(MONDAY, channel=Channel.PHONE), log(MONDAY, channel=Channel.PHONE)
    with time_machine.travel(MONDAY + timedelta(minutes=5), tick=False):
        for complaint in (kept, missed):
            complaint_phone_promise(
                complaint=complaint,
                actor=None,
                promised_at=london(2026, 11, 24, 12, 0),
                contact_method="phone",
            )
    with time_machine.travel(london(2026, 11, 24, 11, 0), tick=False):
        complaint_progress_update(complaint=kept, actor=None, text="Engineer booked for Thursday.")

    lines = sweep(london(2026, 11, 24, 12, 0))
    assert lines == [
        f"{missed.reference} phone promise missed: alerted technical support and managers"
    ]
    assert sweep(london(2026, 11, 24, 15, 0)) == []


# --- COP-14: resolution target --------------------------------------------------------------


def test_resolution_target_recorded_met_or_missed():
    met, missed = log(MONDAY), log(MONDAY)
    respond(met, london(2026, 12, 4, 10, 0))
    lines = sweep(london(2026, 12, 7, 17, 0))
    assert f"{missed.reference} resolution target missed" in lines
    met.refresh_from_db()
    missed.refresh_from_db()
    assert (met.resolution_target_met, missed.resolution_target_met) == (True, False)
    respond(missed, london(2026, 12, 8, 10, 0))  # resolving later does not rewrite history
    missed.refresh_from_db()
    assert missed.resolution_target_met is False


# --- COP-16: the ADR letter -------------------------------------------------------------------


@pytest.mark.parametrize(
    "customer_fields, policy_set, eligible",
    [
        ({"customer_type": "consumer"}, "code", True),
        ({"customer_type": "business", "employee_count": 9}, "code", True),
        ({"customer_type": "business", "employee_count": 10}, "code", False),
        ({"customer_type": "business", "employee_count": 10}, "regulator-2026", True),
        ({"customer_type": "business", "employee_count": 11}, "regulator-2026", False),
        ({"customer_type": "business", "employee_count": None}, "code", True),
        ({"customer_type": "unknown"}, "code", True),
    ],
    ids=[
        "consumer",
        "9-staff",
        "10-staff-code",
        "10-staff-regulator",
        "11-staff-regulator",
        "business-size-unknown",
        "type-unknown",
    ],
)
def test_adr_letter_goes_once_to_eligible_customers_of_open_complaints(
    settings, customer_fields, policy_set, eligible
):
    settings.REDRESS_POLICY_SET = policy_set
    complaint = log(MONDAY, customer=CustomerFactory(**customer_fields))
    adr_at = complaint.adr_eligible_at
    weeks = 8 if policy_set == "code" else 6
    assert adr_at == MONDAY + timedelta(weeks=weeks)

    sweep(adr_at - timedelta(minutes=1))
    assert not Notice.objects.filter(kind=NoticeKind.ADR_LETTER).exists()
    lines = sweep(adr_at)
    sweep(adr_at + timedelta(days=1))

    letters = Notice.objects.filter(complaint=complaint, kind=NoticeKind.ADR_LETTER)
    assert letters.count() == (1 if eligible else 0)
    if eligible:
        assert f"{complaint.reference} ADR letter queued by email" in lines
        body = letters.get().body
        assert settings.REDRESS_ADR_SCHEME["name"] in body
        assert settings.REDRESS_ADR_SCHEME["email"] in body
        assert "You must refer your complaint to them by" in body
        assert len([m for m in mail.outbox if "ADR" in m.subject]) == 1
    else:
        assert f"{complaint.reference} ADR point: customer not eligible, no letter" in lines


def test_no_adr_letter_for_a_complaint_closed_before_the_adr_point():
    complaint = log(MONDAY)
    respond(complaint, london(2026, 11, 24, 10, 0))
    sweep(london(2027, 1, 19, 10, 0))
    assert not Notice.objects.filter(kind=NoticeKind.ADR_LETTER).exists()
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED and complaint.adr_checked_at is not None


def test_escalating_to_formal_does_not_reset_the_adr_clock():
    complaint = log(MONDAY)
    respond(complaint, london(2026, 11, 25, 10, 0))
    with time_machine.travel(london(2026, 12, 1, 10, 0), tick=False):
        complaint_transition(
            complaint=complaint, to=Status.FORMAL, actor=None, reason="Still not satisfied."
        )
    complaint.refresh_from_db()
    assert complaint.adr_eligible_at == MONDAY + timedelta(weeks=8)
    lines = sweep(MONDAY + timedelta(weeks=8))
    assert f"{complaint.reference} ADR letter queued by email" in lines


# --- COP-18: the ombudsman window ---------------------------------------------------------------


def test_ombudsman_warning_28_days_before_and_window_closed_after():
    complaint = log(MONDAY)
    sweep(MONDAY + timedelta(weeks=8))  # ADR letter sent: the customer knows of the right
    complaint.refresh_from_db()
    deadline = complaint.osc_deadline_at
    assert deadline == london(2027, 8, 23, 10, 0)
    assert complaint.osc_warning_at == london(2027, 7, 26, 10, 0)

    assert sweep(london(2027, 7, 26, 9, 59)) == []
    lines = sweep(london(2027, 7, 26, 10, 0))
    assert lines == [f"{complaint.reference} ombudsman deadline warning queued by email"]
    assert sweep(london(2027, 8, 23, 9, 59)) == []
    assert sweep(deadline) == [f"{complaint.reference} ombudsman window closed"]
    complaint.refresh_from_db()
    assert complaint.osc_window_closed
    assert Notice.objects.filter(kind=NoticeKind.OSC_WARNING).count() == 1


def test_no_ombudsman_warning_for_a_customer_never_told_of_adr():
    complaint = log(MONDAY)
    respond(complaint, london(2026, 11, 24, 10, 0))
    lines = sweep(london(2027, 7, 26, 10, 0))
    assert not Notice.objects.filter(kind=NoticeKind.OSC_WARNING).exists()
    assert any("warning not needed" in line for line in lines)


# --- Exactly once, whatever happens ---------------------------------------------------


def _snapshot():
    fields = (
        "status", "closed_at", "closure_reason", "response_overdue_at", "resolution_target_met",
        "adr_letter_sent_at", "osc_warning_done_for", "osc_window_closed_for",
    )  # fmt: skip
    complaints = {
        c["first_made_at"]: {k: c[k] for k in fields if k != "adr_letter_sent_at"}
        for c in Complaint.objects.values("first_made_at", *fields)
    }
    notices = sorted(Notice.objects.values_list("kind", "deadline_at"))
    alerts = sorted(StaffAlert.objects.values_list("kind", "deadline_at", "audience"))
    return complaints, notices, alerts


def _scenario():
    complaints = [log(MONDAY + timedelta(hours=h)) for h in range(3)]
    respond(complaints[0], london(2026, 11, 24, 10, 0))
    respond(
        complaints[1], london(2026, 11, 30, 10, 0), remedy_done="", resolution_proposed="A refund."
    )
    return complaints


def test_one_sweep_after_months_of_downtime_matches_daily_sweeps(django_db_blocker):
    """Jobs are driven by stored deadlines: catching up gives the same result as on time."""
    _scenario()
    day = london(2026, 11, 24, 0, 0)
    while day < london(2027, 9, 1):
        sweep(day)
        day += timedelta(hours=8)
    daily = _snapshot()

    for model in (StaffAlert, OutboxMessage, Notice, Attachment, DeadlineAlarm):
        model.objects.all()._raw_delete(model.objects.db)
    # The database refuses to delete history and complaints (triggers): start afresh through
    # the sanctioned unlock, inside this test's transaction only.
    with history_unlocked():
        CaseEvent.objects.all()._raw_delete(CaseEvent.objects.db)
        Correspondence.objects.all()._raw_delete(Correspondence.objects.db)
        Complaint.objects.all()._raw_delete(Complaint.objects.db)

    _scenario()
    sweep(london(2027, 9, 1))
    assert _snapshot() == daily


def test_running_the_sweep_twice_does_nothing_more():
    _scenario()
    first = sweep(london(2027, 3, 1))
    assert first
    assert sweep(london(2027, 3, 1)) == []


def test_dry_run_prints_the_same_actions_and_changes_nothing():
    _scenario()
    at = london(2027, 3, 1)
    before = (_snapshot(), CaseEvent.objects.count(), DeadlineAlarm.objects.count())
    with time_machine.travel(at, tick=False):
        out = StringIO()
        call_command("enforce_deadlines", "--dry-run", "--no-deliver", stdout=out)
    assert (_snapshot(), CaseEvent.objects.count(), DeadlineAlarm.objects.count()) == before
    dry = out.getvalue().splitlines()
    with time_machine.travel(at, tick=False):
        out = StringIO()
        call_command("enforce_deadlines", "--no-deliver", stdout=out)
    done = out.getvalue().splitlines()
    assert [line.split()[0] for line in done] == [line.split()[0] for line in dry]
    assert all(" would " in line for line in dry) and len(dry) > 5


def test_command_prints_one_line_per_action_and_delivery():
    complaint = log(MONDAY)
    with time_machine.travel(MONDAY + timedelta(weeks=8), tick=False):
        out = StringIO()
        call_command("enforce_deadlines", stdout=out)
    lines = out.getvalue().splitlines()
    ref = complaint.reference
    assert f"{ref} response overdue: alerted technical support and managers" in lines
    assert f"{ref} resolution target missed" in lines
    assert f"{ref} ADR letter queued by email" in lines
    assert f"{ref} Your right to ADR (COP-16) by email: sent" in lines


def test_a_moved_deadline_moves_its_job():
    complaint = log(london(2026, 11, 25, 10, 0))
    with time_machine.travel(london(2026, 11, 25, 11, 0), tick=False):
        complaint_first_made_change(
            complaint=complaint,
            first_made_at=MONDAY,
            actor=None,
            reason="The customer first rang on Monday.",
        )
    assert sweep(london(2026, 11, 25, 17, 0)) == [
        f"{complaint.reference} response overdue: alerted technical support and managers"
    ]


def test_the_notice_constraint_refuses_a_second_identical_notice():
    from complaints.services.notices import notice_send

    complaint = log(MONDAY)
    with time_machine.travel(MONDAY, tick=False):
        first = notice_send(complaint=complaint, kind=NoticeKind.ADR_LETTER, deadline_at=MONDAY)
        second = notice_send(complaint=complaint, kind=NoticeKind.ADR_LETTER, deadline_at=MONDAY)
    assert first is not None and second is None
    assert OutboxMessage.objects.count() == 1


def test_a_sweep_with_nothing_due_costs_the_same_whatever_the_number_of_complaints(
    django_assert_max_num_queries,
):
    for hours in range(40):
        log(MONDAY + timedelta(minutes=hours))
    with time_machine.travel(MONDAY + timedelta(hours=1), tick=False):
        with django_assert_max_num_queries(1):
            assert deadlines_sweep() == []


# --- Issue 17: the batched sweep --------------------------------------------------------

OVERDUE_AT = london(2026, 11, 25, 17, 0)  # Monday's complaints' response deadline (COP-12)


def _overdue_sweep_queries(*, due: int, stored: int) -> int:
    """Queries of the sweep firing `due` response-overdue complaints among `stored` more."""
    complaints = [log(MONDAY + timedelta(minutes=n)) for n in range(due)]
    for n in range(stored):  # logged on Wednesday: not due until Friday
        log(london(2026, 11, 25, 9, 0) + timedelta(minutes=n))
    with time_machine.travel(OVERDUE_AT, tick=False):
        with CaptureQueriesContext(connection) as queries:
            actions = deadlines_sweep()
    assert len(actions) == due
    assert Complaint.objects.filter(response_overdue_at=OVERDUE_AT).count() == due
    assert StaffAlert.objects.filter(complaint__in=complaints).count() == 2 * due
    assert history_verify() == []
    return len(queries.captured_queries)


@pytest.mark.parametrize("stored", [0, 20])
def test_the_sweep_costs_a_constant_plus_a_few_queries_per_due_complaint(stored):
    """Each due complaint costs the same few statements, whatever else is stored.

    The page's complaints, alarms and webhook subscriptions are read together; each
    complaint is then one transaction of its own: claim and update the row, insert its
    events, insert its alerts, delete its fired alarms (and, inside the test's own
    transaction, a savepoint and its release).
    """
    few = _overdue_sweep_queries(due=2, stored=stored)
    Complaint.objects.update(response_overdue_at=None)  # (only the counts are compared)
    many = _overdue_sweep_queries(due=7, stored=stored)
    per_complaint = (many - few) / 5
    assert per_complaint == 6
    # The pages, the page's rows and subscriptions (on PostgreSQL, setting and resetting
    # synchronous_commit for the sweep: _commits_not_awaited).
    assert few - 2 * per_complaint <= 6 + 2 * (connection.vendor == "postgresql")


def test_a_complaint_fired_by_another_sweep_after_its_page_was_read_is_not_fired_again():
    """Two sweeps by mistake: the one that read the page first finds the row moved on."""
    from complaints.services import enforcement

    complaint = log(MONDAY)
    with time_machine.travel(OVERDUE_AT, tick=False):
        page = enforcement._page_read([complaint.pk], OVERDUE_AT)
        assert len(deadlines_sweep()) == 1  # the other beat
        stale = page.complaints[complaint.pk]
        assert enforcement._complaint_alarms_fire_batched(stale, page, OVERDUE_AT) is None
        assert deadlines_sweep() == []
    assert StaffAlert.objects.filter(complaint=complaint).count() == 2
    assert CaseEvent.objects.filter(complaint=complaint, kind=CaseEvent.Kind.CLOCK).count() == 1
    assert history_verify() == []


def test_a_complaint_changed_after_its_page_was_read_is_fired_from_its_fresh_row():
    """Staff respond while the sweep works through the page: no overdue alert is raised."""
    from complaints.services import enforcement

    complaint = log(MONDAY)
    with time_machine.travel(OVERDUE_AT, tick=False):
        page = enforcement._page_read([complaint.pk], OVERDUE_AT)
    respond(complaint, OVERDUE_AT - timedelta(minutes=1))
    with time_machine.travel(OVERDUE_AT, tick=False):
        stale = page.complaints[complaint.pk]
        assert enforcement._complaint_alarms_fire_batched(stale, page, OVERDUE_AT) is None
        assert all("overdue" not in str(a) for a in deadlines_sweep())
    assert not StaffAlert.objects.filter(kind=AlarmKind.RESPONSE_OVERDUE).exists()
    assert history_verify() == []


def test_the_batched_sweep_keeps_the_figures_and_the_history_chain():
    """A missed resolution target (COP-14) is counted as save() would count it."""
    from escalation.figures import figures_from_scratch, figures_stored

    complaints = [log(MONDAY + timedelta(minutes=n)) for n in range(3)]
    lines = sweep(london(2026, 12, 21, 9, 0))  # before the ADR point (a notice: not batched)
    for complaint in complaints:
        assert f"{complaint.reference} resolution target missed" in lines
        complaint.refresh_from_db()
        assert complaint.resolution_target_met is False
        assert not DeadlineAlarm.objects.filter(
            complaint=complaint, kind=AlarmKind.RESOLUTION_TARGET
        ).exists()
    assert figures_stored() == figures_from_scratch()
    assert history_verify() == []
    assert sweep(london(2026, 12, 21, 9, 0)) == []


def test_the_sweep_leaves_the_session_committing_as_before():
    """_commits_not_awaited is the sweep's alone (PostgreSQL's synchronous_commit)."""
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's")
    log(MONDAY)
    assert len(sweep(OVERDUE_AT)) == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
