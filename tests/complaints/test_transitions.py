"""Intake and transition services: references, stored clocks and history (COP-01, COP-07)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from complaints.clocks import calendar
from complaints.domain import deadlines
from complaints.domain.lifecycle import IllegalTransition, Status
from complaints.models import CaseEvent, ClosureReason, Complaint
from complaints.services.intake import complaint_first_made_change
from complaints.services.transitions import complaint_transition
from complaints.signals import complaint_status_changed
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

LONDON = ZoneInfo("Europe/London")
pytestmark = pytest.mark.django_db


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def agent():
    return StaffUserFactory(role="support_agent")


@time_machine.travel(london(2026, 12, 24, 12, 0), tick=False)
def test_log_stores_reference_policy_and_every_clock():
    """COP-01/COP-12: a logged complaint has a reference and its deadlines stored."""
    complaint = complaint_make()

    assert complaint.reference == "CMP-2026-000001"
    assert complaint.status == Status.LOGGED
    assert complaint.policy_key == deadlines.CODE_2016.key
    local = complaint.response_due_at.astimezone(LONDON)
    assert local == london(2026, 12, 30, 17, 0)  # Christmas and the Boxing Day substitute skipped
    assert complaint.resolution_target_at.astimezone(LONDON) == london(2027, 1, 12, 17, 0)
    assert complaint.adr_eligible_at.astimezone(LONDON) == london(2027, 2, 18, 12, 0)
    assert complaint.osc_deadline_at.astimezone(LONDON) == london(2027, 9, 24, 12, 0)
    assert complaint.auto_close_at is None
    # The response is not late yet, so the first progress update falls after response_due.
    assert complaint.progress_update_due_at > complaint.response_due_at

    (event,) = complaint.events.all()
    assert event.kind == CaseEvent.Kind.LOGGED
    assert event.to_status == Status.LOGGED
    assert event.actor is None and event.actor_label == "system"


@time_machine.travel(london(2026, 11, 23, 10, 0), tick=False)
def test_log_uses_first_made_at_not_the_time_staff_typed_it(agent):
    """COP-07: clocks count from when the customer first told us."""
    complaint = complaint_make(first_made_at=london(2026, 11, 20, 16, 0), actor=agent)

    assert complaint.response_due_at.astimezone(LONDON) == london(2026, 11, 24, 17, 0)
    assert complaint.logged_by == agent
    assert complaint.events.get().actor == agent


@time_machine.travel(london(2026, 11, 23, 10, 0), tick=False)
def test_contracted_shorter_response_time_sets_the_deadline():
    """COP-03: a contracted 1-working-day response replaces the Code's 2."""
    complaint = complaint_make(customer=CustomerFactory(contracted_response_working_days=1))

    assert complaint.contracted_response_working_days == 1
    assert complaint.response_due_at.astimezone(LONDON) == london(2026, 11, 24, 17, 0)


@time_machine.travel(london(2026, 11, 23, 10, 0), tick=False)
def test_log_rejects_bad_input_and_saves_nothing():
    """Bad input gets a clear message per field and leaves no half-made complaint."""
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as excinfo:
        complaint_make(
            customer=customer,
            subject="  ",
            department="sales",
            first_made_at=london(2026, 11, 24, 10, 0),
        )

    errors = excinfo.value.message_dict
    assert "cannot be in the future" in errors["first_made_at"][0]
    assert "Choose a department" in errors["department"][0]
    assert "what the complaint is about" in errors["subject"][0]
    assert not Complaint.objects.exists()
    assert not CaseEvent.objects.exists()


@time_machine.travel(london(2026, 11, 23, 10, 0), tick=False)
def test_transition_writes_status_and_history_with_who_when_why(agent):
    complaint = complaint_make()

    complaint_transition(
        complaint=complaint, to=Status.ACKNOWLEDGED, actor=agent, reason="Called the customer."
    )

    complaint.refresh_from_db()
    assert complaint.status == Status.ACKNOWLEDGED
    assert complaint.acknowledged_at is not None
    assert complaint.version == 2
    event = complaint.events.latest("pk")
    assert (event.from_status, event.to_status) == (Status.LOGGED, Status.ACKNOWLEDGED)
    assert event.actor == agent
    assert event.reason == "Called the customer."
    assert event.at == complaint.acknowledged_at


@time_machine.travel(london(2026, 11, 23, 10, 0), tick=False)
def test_illegal_transition_names_current_status_and_changes_nothing(agent):
    complaint = complaint_make()

    with pytest.raises(IllegalTransition, match="'Logged' cannot move to 'Closed'"):
        complaint_transition(
            complaint=complaint,
            to=Status.CLOSED,
            actor=agent,
            reason="Trying to skip the response.",
            closure_reason=ClosureReason.CUSTOMER_SATISFIED,
        )

    complaint.refresh_from_db()
    assert complaint.status == Status.LOGGED
    assert complaint.events.count() == 1


@time_machine.travel(london(2026, 11, 23, 10, 0), tick=False)
def test_transition_needs_a_reason_and_a_closure_reason(agent):
    complaint = complaint_make()
    with pytest.raises(ValueError, match="Give a reason"):
        complaint_transition(complaint=complaint, to=Status.INVESTIGATING, actor=agent, reason=" ")
    complaint_transition(complaint=complaint, to=Status.RESPONDED, actor=agent, reason="Answered.")
    with pytest.raises(ValueError, match="closure reason"):
        complaint_transition(complaint=complaint, to=Status.CLOSED, actor=agent, reason="Done.")
    assert Complaint.objects.get().status == Status.RESPONDED


@time_machine.travel(london(2026, 11, 23, 10, 0), tick=False)
def test_history_row_and_status_change_are_one_transaction(agent, monkeypatch):
    """If the history row cannot be written, the status does not change either."""
    complaint = complaint_make()

    def broken_record(**kwargs):
        raise RuntimeError("history store unavailable")

    monkeypatch.setattr(CaseEvent.objects, "record", broken_record)
    with pytest.raises(RuntimeError):
        complaint_transition(
            complaint=complaint, to=Status.INVESTIGATING, actor=agent, reason="Looking."
        )

    assert Complaint.objects.get().status == Status.LOGGED


@time_machine.travel(london(2026, 11, 23, 10, 0), tick=False)
def test_same_status_is_a_no_op_without_history(agent):
    complaint = complaint_make()
    complaint_transition(complaint=complaint, to=Status.INVESTIGATING, actor=agent, reason="a")
    complaint_transition(complaint=complaint, to=Status.INVESTIGATING, actor=agent, reason="b")
    assert complaint.events.filter(kind=CaseEvent.Kind.STATUS_CHANGED).count() == 1


def test_responding_starts_the_auto_close_clock_unless_a_resolution_awaits_action(agent):
    """COP-10: 10 working days of the customer's time from our response."""
    with time_machine.travel(london(2026, 11, 23, 10, 0), tick=False):
        complaint = complaint_make()
    with time_machine.travel(london(2026, 11, 25, 14, 0), tick=False):
        complaint_transition(
            complaint=complaint, to=Status.RESPONDED, actor=agent, reason="Fixed the router."
        )
    complaint.refresh_from_db()
    assert complaint.auto_close_at.astimezone(LONDON) == london(2026, 12, 10, 0, 0)
    assert complaint.progress_update_due_at is None  # responded in time: no updates due

    with time_machine.travel(london(2026, 11, 26, 9, 0), tick=False):
        complaint_transition(
            complaint=complaint, to=Status.INVESTIGATING, actor=None, reason="Customer replied."
        )
    complaint.refresh_from_db()
    assert complaint.auto_close_at is None


def test_reopen_and_formal_escalation_keep_first_made_at_and_its_clocks(agent):
    """deadlines.md: nothing resets the clocks; escalation keeps the ADR clock (COP-16)."""
    with time_machine.travel(london(2026, 11, 23, 10, 0), tick=False):
        complaint = complaint_make()
        complaint_transition(complaint=complaint, to=Status.RESPONDED, actor=agent, reason="r")
    before = {
        f: getattr(complaint, f)
        for f in ("first_made_at", "response_due_at", "adr_eligible_at", "osc_deadline_at")
    }
    with time_machine.travel(london(2026, 12, 11, 10, 0), tick=False):
        complaint_transition(
            complaint=complaint,
            to=Status.CLOSED,
            actor=None,
            reason="No reply in 10 working days.",
            closure_reason=ClosureReason.DEEMED_RESOLVED,
        )
        assert complaint.closed_at is not None
        complaint_transition(
            complaint=complaint, to=Status.INVESTIGATING, actor=None, reason="Customer wrote back."
        )
        assert complaint.closed_at is None and complaint.closure_reason == ""
        assert complaint.events.latest("pk").extra["reopened"] is True
        complaint_transition(
            complaint=complaint, to=Status.FORMAL, actor=None, reason="Still not satisfied."
        )

    complaint.refresh_from_db()
    assert complaint.status == Status.FORMAL
    assert {f: getattr(complaint, f) for f in before} == before


def test_switching_policy_never_moves_an_open_complaints_deadlines(agent, settings):
    """deadlines.md: a complaint is judged by the policy in force when it was first made."""
    settings.REDRESS_POLICY_SET = "code"
    with time_machine.travel(london(2026, 5, 1, 10, 0), tick=False):
        under_code = complaint_make()
    settings.REDRESS_POLICY_SET = "regulator-2026"
    with time_machine.travel(london(2026, 5, 2, 10, 0), tick=False):
        complaint_transition(complaint=under_code, to=Status.INVESTIGATING, actor=agent, reason="x")
        under_regulator = complaint_make()

    under_code.refresh_from_db()
    assert under_code.policy_key == deadlines.CODE_2016.key
    assert under_code.adr_eligible_at.astimezone(LONDON) == london(2026, 6, 26, 10, 0)  # 8 weeks
    assert under_regulator.policy_key == deadlines.REGULATOR_2026.key
    assert under_regulator.adr_eligible_at.astimezone(LONDON) == london(
        2026, 6, 13, 10, 0
    )  # 6 weeks


def test_status_changed_is_sent_only_after_commit(agent, django_capture_on_commit_callbacks):
    with time_machine.travel(london(2026, 11, 23, 10, 0), tick=False):
        complaint = complaint_make()
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    complaint_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            complaint_transition(
                complaint=complaint, to=Status.INVESTIGATING, actor=agent, reason="x"
            )
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        complaint_status_changed.disconnect(receiver)
    assert received[0]["to_status"] == Status.INVESTIGATING
    assert received[0]["complaint_id"] == complaint.pk


def test_first_made_correction_needs_a_reason_and_moves_the_clocks(agent):
    """COP-07: changing first_made_at later needs a reason and is recorded."""
    with time_machine.travel(london(2026, 11, 25, 10, 0), tick=False):
        complaint = complaint_make()
        with pytest.raises(ValidationError):
            complaint_first_made_change(
                complaint=complaint,
                first_made_at=london(2026, 11, 23, 10, 0),
                actor=agent,
                reason="",
            )
        complaint_first_made_change(
            complaint=complaint,
            first_made_at=london(2026, 11, 23, 10, 0),
            actor=agent,
            reason="Customer first rang on Monday; the call note was found.",
        )
    complaint.refresh_from_db()
    assert complaint.response_due_at.astimezone(LONDON) == london(2026, 11, 25, 17, 0)
    event = complaint.events.get(kind=CaseEvent.Kind.FIRST_MADE_CHANGED)
    assert event.actor == agent
    assert "response_due_at" in event.extra["clocks_changed"]


@time_machine.travel(london(2026, 11, 23, 10, 0), tick=False)
def test_complaints_and_history_cannot_be_deleted_or_rewritten():
    complaint = complaint_make()
    event = complaint.events.get()
    with pytest.raises(PermissionError):
        complaint.delete()
    with pytest.raises(PermissionError):
        Complaint.objects.all().delete()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CaseEvent.objects.all().update(reason="rewritten")
    event.reason = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    assert Complaint.objects.count() == 1
    assert CaseEvent.objects.get().reason != "rewritten"


def test_calendar_comes_from_settings(settings):
    settings.REDRESS_OFFICE_CLOSES = "16:00"
    cal = calendar()
    assert cal.closes.hour == 16
