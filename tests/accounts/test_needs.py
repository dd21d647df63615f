"""Recorded needs through the service (issue 15 items 1 and 3; Ofcom GC C5).

Consent and who recorded it, correction, withdrawal that leaves no details behind, and
extra time: an agreed longer update interval moves only the progress-update clock, and
the named contact gets the reminders. The Code's other clocks never move.
"""

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from accounts.models import (
    CommunicationFormat,
    ConsentHow,
    CustomerNeeds,
    CustomerNeedsEvent,
    NeedKind,
)
from accounts.needs import (
    communication_format,
    needs_due_for_review,
    needs_record,
    needs_review,
    needs_withdraw,
)
from complaints.domain.lifecycle import Status
from complaints.models import AlarmKind, CaseEvent, ClosureReason, Complaint, StaffAlert
from complaints.services.enforcement import deadlines_sweep
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
SECRET = "Hearing aid; husband died in October"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def record_by_phone(customer, agent, **kwargs):
    kwargs.setdefault("kinds", [NeedKind.HEARING, NeedKind.BEREAVEMENT])
    kwargs.setdefault("details", SECRET)
    return needs_record(customer=customer, actor=agent, consent_how=ConsentHow.PHONE, **kwargs)


def all_history_text(customer) -> str:
    """Everything the append-only history and the customer-level record hold, as text."""
    events = CaseEvent.objects.filter(complaint__customer=customer)
    rows = [(e.reason, json.dumps(e.extra), e.actor_label) for e in events]
    rows += list(
        CustomerNeedsEvent.objects.filter(customer=customer).values_list(
            "kind", "consent_how", "by_customer"
        )
    )
    return json.dumps(rows, default=str)


def test_staff_record_needs_told_by_phone_with_who_when_and_a_review_date():
    """Issue 15 item 1: staff record from a phone call, with consent, who, when, review."""
    agent = StaffUserFactory()
    customer = CustomerFactory()
    needs = record_by_phone(customer, agent, call_times="after 2pm", kinds=["hearing", "call_time"])
    assert needs.recorded_by == agent and needs.consent_how == ConsentHow.PHONE
    assert needs.consent_given_at == MONDAY and needs.recorded_at == MONDAY
    assert needs.review_on == date(2027, 11, 23)  # REDRESS_NEEDS_REVIEW_MONTHS = 12
    event = CustomerNeedsEvent.objects.get(customer=customer)
    assert (event.kind, event.actor, event.consent_how) == ("recorded", agent, "phone")


def test_staff_record_needs_told_by_letter_and_correct_them():
    agent = StaffUserFactory()
    customer = CustomerFactory()
    needs_record(customer=customer, actor=agent, consent_how=ConsentHow.LETTER, kinds=["sight"])
    needs_record(
        customer=customer,
        actor=agent,
        consent_how=ConsentHow.LETTER,
        kinds=["sight"],
        communication_format=CommunicationFormat.LARGE_PRINT,
    )
    assert communication_format(customer) == CommunicationFormat.LARGE_PRINT
    kinds = list(
        CustomerNeedsEvent.objects.filter(customer=customer).values_list("kind", flat=True)
    )
    assert kinds == ["recorded", "changed"]


def test_staff_must_say_how_the_customer_agreed():
    """Ofcom GC C5: needs are recorded only with the customer's consent, and how is kept."""
    agent = StaffUserFactory()
    customer = CustomerFactory()
    for how in ("", ConsentHow.PORTAL):
        with pytest.raises(ValidationError) as exc:
            needs_record(customer=customer, actor=agent, consent_how=how, kinds=["hearing"])
        assert "consent_how" in exc.value.message_dict
    assert not CustomerNeeds.objects.exists()


def test_only_the_customer_records_on_the_portal_and_not_for_someone_else():
    owner = CustomerFactory(confirmed=True)
    other = CustomerFactory(confirmed=True)
    with pytest.raises(PermissionError):
        needs_record(
            customer=owner,
            actor=other.user,
            consent_how=ConsentHow.PORTAL,
            kinds=["hearing"],
            by_customer=True,
        )
    needs = needs_record(
        customer=owner,
        actor=owner.user,
        consent_how=ConsentHow.PORTAL,
        kinds=["hearing"],
        by_customer=True,
    )
    assert needs.recorded_by is None and needs.consent_how == "portal"


def test_no_record_means_the_standard_format():
    assert communication_format(CustomerFactory()) == CommunicationFormat.STANDARD


def test_withdrawal_deletes_the_details_and_the_history_says_only_recorded_and_withdrawn():
    """Issue 15 item 1: consent withdrawn, the details go; history holds no needs text."""
    agent = StaffUserFactory()
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    closed = complaint_make(customer=customer)
    complaint_transition(
        complaint=closed,
        to=Status.RESOLVED_AT_FIRST_CONTACT,
        actor=agent,
        reason="Sorted on the call.",
        closure_reason=ClosureReason.RESOLVED_AT_FIRST_CONTACT,
    )
    record_by_phone(
        customer, agent, call_times="Tuesdays after 2pm", kinds=["hearing", "call_time"]
    )
    assert needs_withdraw(customer=customer, actor=customer.user, by_customer=True)

    assert not CustomerNeeds.objects.filter(customer=customer).exists()
    assert communication_format(customer) == CommunicationFormat.STANDARD
    history = all_history_text(customer)
    for secret in (SECRET, "Hearing aid", "Tuesdays", "hearing", "Hearing loss", "bereavement"):
        assert secret not in history
    reasons = list(
        CaseEvent.objects.filter(complaint=complaint, kind=CaseEvent.Kind.NEEDS)
        .order_by("seq")
        .values_list("reason", flat=True)
    )
    assert reasons == [
        "The customer's needs were recorded, with the customer's consent given by phone.",
        "The customer's recorded needs were withdrawn and their details deleted by the "
        "customer on the portal.",
    ]
    # A closed complaint's history is not written to.
    assert not CaseEvent.objects.filter(complaint=closed, kind=CaseEvent.Kind.NEEDS).exists()
    kinds = CustomerNeedsEvent.objects.filter(customer=customer).values_list("kind", flat=True)
    assert list(kinds) == ["recorded", "withdrawn"]
    assert needs_withdraw(customer=customer, actor=agent) is False  # nothing left


def test_reviews_come_due_and_a_review_sets_the_next_date():
    agent = StaffUserFactory()
    customer = CustomerFactory()
    record_by_phone(customer, agent, review_on=date(2026, 12, 1))
    assert not needs_due_for_review(date(2026, 11, 30)).exists()
    assert list(needs_due_for_review(date(2026, 12, 1))) == [customer.needs]
    with time_machine.travel(datetime(2026, 12, 2, 9, 0, tzinfo=LONDON), tick=False):
        needs_review(customer=customer, actor=agent)
    customer.needs.refresh_from_db()
    assert customer.needs.review_on == date(2027, 12, 2)
    with pytest.raises(ValidationError):
        record_by_phone(customer, agent, review_on=date(2026, 11, 1))


# --- Item 3: extra time where fair -------------------------------------------------------

CLOCKS_THAT_NEVER_MOVE = (
    "response_due_at",
    "resolution_target_at",
    "adr_eligible_at",
    "osc_deadline_at",
    "osc_warning_at",
)


def test_an_interval_below_the_codes_is_refused_and_nothing_is_saved():
    """COP-13's 2 working days are the floor: 1 is refused with a clear message."""
    agent = StaffUserFactory()
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        record_by_phone(customer, agent, update_interval_working_days=1)
    assert (
        "at least every 2 working days" in exc.value.message_dict["update_interval_working_days"][0]
    )
    assert not CustomerNeeds.objects.exists()
    assert not CustomerNeedsEvent.objects.exists()


def test_a_longer_interval_moves_only_the_progress_update_clock_of_open_complaints():
    """Issue 15 item 3: response, ADR and ombudsman dates never move; COP-13's lengthens."""
    agent = StaffUserFactory()
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    complaint_transition(
        complaint=complaint, to=Status.AWAITING_THIRD_PARTY, actor=agent, reason="Openreach."
    )
    complaint.refresh_from_db()
    before = {f: getattr(complaint, f) for f in CLOCKS_THAT_NEVER_MOVE}
    assert complaint.progress_update_due_at == datetime(2026, 11, 25, 17, 0, tzinfo=LONDON)

    record_by_phone(customer, agent, update_interval_working_days=5)
    complaint.refresh_from_db()
    assert complaint.agreed_update_working_days == 5
    assert complaint.progress_update_due_at == datetime(2026, 11, 30, 17, 0, tzinfo=LONDON)
    assert {f: getattr(complaint, f) for f in CLOCKS_THAT_NEVER_MOVE} == before
    alarm = complaint.alarms.get(kind=AlarmKind.PROGRESS_UPDATE)
    assert alarm.due_at == complaint.progress_update_due_at

    # A complaint made later gets the agreed interval too; withdrawal restores the Code's.
    later = complaint_make(customer=customer)
    assert later.agreed_update_working_days == 5
    needs_withdraw(customer=customer, actor=agent)
    complaint.refresh_from_db()
    assert complaint.agreed_update_working_days is None
    assert complaint.progress_update_due_at == datetime(2026, 11, 25, 17, 0, tzinfo=LONDON)
    assert {f: getattr(complaint, f) for f in CLOCKS_THAT_NEVER_MOVE} == before


def test_the_sweep_reminds_the_named_contact_at_the_agreed_interval_only():
    """Issue 15 item 3: the named contact gets the progress-update reminder, on the new date."""
    agent, contact = StaffUserFactory(), StaffUserFactory(name="Dana Contact")
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    Complaint.objects.filter(pk=complaint.pk).update(assignee=agent)
    complaint_transition(
        complaint=complaint, to=Status.AWAITING_THIRD_PARTY, actor=agent, reason="Openreach."
    )
    record_by_phone(customer, agent, update_interval_working_days=5, named_contact=contact)
    complaint.refresh_from_db()
    response_due = complaint.response_due_at

    with time_machine.travel(datetime(2026, 11, 25, 17, 0, tzinfo=LONDON), tick=False):
        lines = [str(a) for a in deadlines_sweep()]
    assert not any("progress update" in line for line in lines)  # the Code's date passed

    with time_machine.travel(datetime(2026, 11, 30, 17, 0, tzinfo=LONDON), tick=False):
        lines = [str(a) for a in deadlines_sweep()]
        assert deadlines_sweep() == []  # running twice = running once
    assert (
        f"{complaint.reference} progress update due: reminded Dana Contact "
        "(the customer's named contact)"
    ) in lines
    alert = StaffAlert.objects.get(kind=AlarmKind.PROGRESS_UPDATE)
    assert alert.recipient == contact
    complaint.refresh_from_db()
    assert complaint.response_due_at == response_due


def test_the_response_clock_is_the_codes_whatever_the_agreed_interval():
    """COP-12: a customer with extra time still gets the response in 2 working days."""
    agent = StaffUserFactory()
    customer = CustomerFactory()
    plain = complaint_make(customer=CustomerFactory())
    record_by_phone(customer, agent, update_interval_working_days=10)
    with_needs = complaint_make(customer=customer)
    assert with_needs.response_due_at == plain.response_due_at
    assert with_needs.adr_eligible_at == plain.adr_eligible_at
    assert with_needs.osc_deadline_at == plain.osc_deadline_at
    assert with_needs.resolution_target_at == plain.resolution_target_at
    assert with_needs.first_made_at - plain.first_made_at == timedelta(0)


def test_the_customers_data_export_holds_their_needs_and_anonymising_deletes_them():
    """UK GDPR: needs are the customer's data (export) and go when the rest goes."""
    from accounts.retention import customer_anonymise, customer_data_export

    agent = StaffUserFactory()
    customer = CustomerFactory()
    complaint_make(customer=customer)
    record_by_phone(customer, agent)
    exported = customer_data_export(customer=customer)["needs"]
    assert exported["details"] == SECRET and exported["consent_how"] == "By phone"
    customer_anonymise(customer=customer, actor=agent, reason="Asked for erasure.")
    assert not CustomerNeeds.objects.filter(customer=customer).exists()
    assert customer_data_export(customer=customer)["needs"] is None
    assert SECRET not in all_history_text(customer)


def test_the_needs_history_is_append_only_and_never_sent_to_webhooks():
    """Issue 15: the record outlives the needs; it is never rewritten nor sent out."""
    from complaints.webhooks.events import event_types_for

    agent = StaffUserFactory()
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    record_by_phone(customer, agent)
    event = CustomerNeedsEvent.objects.get(customer=customer)
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        CustomerNeedsEvent.objects.filter(customer=customer).update(kind="withdrawn")
    with pytest.raises(PermissionError):
        CustomerNeedsEvent.objects.filter(customer=customer).delete()
    case_event = CaseEvent.objects.get(complaint=complaint, kind=CaseEvent.Kind.NEEDS)
    assert event_types_for(case_event) == []


def test_the_clock_explanation_names_the_agreed_interval():
    """Issue 15 item 3: `manage.py clocks` and the API say why updates are further apart."""
    from complaints.clocks import complaint_clocks_explained

    agent = StaffUserFactory()
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    record_by_phone(customer, agent, update_interval_working_days=5)
    complaint.refresh_from_db()
    lines = {c.rule: c.explanation for c in complaint_clocks_explained(complaint)}
    assert (
        "every 5 working days, as agreed with the customer because of their needs"
        in (lines["progress_update"])
    )
    assert "COP-13's is 2" in lines["progress_update"]
