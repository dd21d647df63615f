"""Remedies given on a complaint (issue 16 item 3; COP-09 the remedy, COP-18 the ADR's)."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from complaints.models import CaseEvent, Remedy, RemedyKind
from complaints.services.desk import complaint_escalate
from complaints.services.remedies import remedy_record, remedy_void
from escalation.models import AdrReferral
from escalation.services import adr_decision_record, adr_referral_record
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def people():
    return StaffUserFactory(role=Role.SUPPORT_AGENT), StaffUserFactory(role=Role.SENIOR_MANAGER)


def test_a_goodwill_payment_records_pounds_and_pence_the_approver_and_a_history_row(people):
    agent, manager = people
    complaint = complaint_make()
    remedy = remedy_record(
        complaint=complaint, actor=agent, kind="goodwill", amount="25.50", approved_by=manager
    )
    assert remedy.amount == Decimal("25.50") and remedy.approved_by == manager
    event = complaint.events.filter(kind=CaseEvent.Kind.REMEDY).get()
    assert "Goodwill payment of £25.50" in event.reason and event.actor == agent
    assert event.extra["amount"] == "25.50"


@pytest.mark.parametrize(
    "amount, message",
    [
        (None, "Give the amount"),
        ("0", "more than £0.00"),
        ("-5", "more than £0.00"),
        ("1.005", "two decimal places"),
        ("lots", "pounds and pence"),
        ("100000000", "too large"),
    ],
)
def test_money_remedies_need_a_positive_amount_in_pounds_and_pence(people, amount, message):
    agent, manager = people
    with pytest.raises(ValidationError) as exc:
        remedy_record(
            complaint=complaint_make(), actor=agent, kind="refund", amount=amount,
            approved_by=manager,
        )  # fmt: skip
    assert message in str(exc.value.message_dict["amount"])
    assert not Remedy.objects.exists()


def test_an_apology_has_no_amount(people):
    agent, _ = people
    complaint = complaint_make()
    with pytest.raises(ValidationError) as exc:
        remedy_record(complaint=complaint, actor=agent, kind="apology", amount="5")
    assert "Only a credit" in str(exc.value.message_dict["amount"])
    remedy = remedy_record(complaint=complaint, actor=agent, kind="apology", note="Said sorry.")
    assert remedy.amount is None and remedy.approved_by is None


@pytest.mark.parametrize("kind", ["credit", "goodwill", "refund", "compensation"])
def test_a_payment_needs_a_manager_who_may_approve_it(people, kind):
    agent, manager = people
    complaint = complaint_make()
    for approver in (None, agent):
        with pytest.raises(ValidationError) as exc:
            remedy_record(
                complaint=complaint, actor=agent, kind=kind, amount="10", approved_by=approver
            )
        assert "approved_by" in exc.value.message_dict
    remedy_record(complaint=complaint, actor=agent, kind=kind, amount="10", approved_by=manager)


def test_the_database_refuses_a_payment_without_amount_or_approver():
    complaint = complaint_make()
    with pytest.raises(IntegrityError), transaction.atomic():
        Remedy.objects.create(complaint=complaint, kind="refund", amount=Decimal("5"))


def test_a_remedy_is_voided_with_a_reason_never_deleted(people):
    agent, manager = people
    remedy = remedy_record(
        complaint=complaint_make(), actor=agent, kind="credit", amount="9.99", approved_by=manager
    )
    with pytest.raises(ValidationError):
        remedy_void(remedy=remedy, actor=agent, reason=" ")
    remedy_void(remedy=remedy, actor=agent, reason="Recorded on the wrong case.")
    remedy.refresh_from_db()
    assert remedy.voided_by == agent and Remedy.objects.live().count() == 0
    with pytest.raises(ValidationError):
        remedy_void(remedy=remedy, actor=agent, reason="Again.")
    with pytest.raises(PermissionError):
        remedy.delete()
    with pytest.raises(PermissionError):
        Remedy.objects.all().delete()
    assert "Remedy voided" in remedy.complaint.events.order_by("-seq").first().reason


def test_the_future_is_refused(people):
    agent, _ = people
    with pytest.raises(ValidationError):
        remedy_record(
            complaint=complaint_make(), actor=agent, kind="apology",
            given_at=timezone.now() + timedelta(days=1),
        )  # fmt: skip


def _referred(manager):
    complaint = complaint_make()
    complaint_escalate(complaint=complaint, actor=manager, requested="not_specified", reason="x")
    return adr_referral_record(
        complaint=complaint, actor=manager, referred_at=timezone.now() - timedelta(days=30)
    )


def test_an_accepted_adr_remedy_counts_as_one_remedy_kept_in_step_with_the_decision(people):
    """COP-18: the scheme's remedy, once accepted, is among the remedies given."""
    _, manager = people
    referral = _referred(manager)
    decided = timezone.now() - timedelta(days=1)
    due = timezone.now() + timedelta(days=20)
    adr_decision_record(
        referral=referral, actor=manager, decision=AdrReferral.Decision.UPHELD,
        decided_at=decided, customer_accepted=True, remedy="Pay £50.", remedy_due_at=due,
    )  # fmt: skip
    live = Remedy.objects.live().get()
    assert live.kind == RemedyKind.ADR and live.note == "Pay £50." and live.given_at == decided
    # The same decision again changes nothing; another remedy replaces it; not accepted voids.
    adr_decision_record(
        referral=referral, actor=manager, decision=AdrReferral.Decision.UPHELD,
        decided_at=decided, customer_accepted=True, remedy="Pay £50.", remedy_due_at=due,
    )  # fmt: skip
    assert Remedy.objects.count() == 1
    adr_decision_record(
        referral=referral, actor=manager, decision=AdrReferral.Decision.PARTLY_UPHELD,
        decided_at=decided, customer_accepted=True, remedy="Pay £30.", remedy_due_at=due,
    )  # fmt: skip
    assert list(Remedy.objects.live().values_list("note", flat=True)) == ["Pay £30."]
    adr_decision_record(
        referral=referral, actor=manager, decision=AdrReferral.Decision.UPHELD,
        decided_at=decided, customer_accepted=False,
    )  # fmt: skip
    assert Remedy.objects.live().count() == 0 and Remedy.objects.count() == 2
    with pytest.raises(ValidationError):
        remedy_record(complaint=referral.complaint, actor=manager, kind="adr")


def test_the_desk_records_a_remedy_and_the_api_lists_it(client, people):
    agent, manager = people
    complaint = complaint_make()
    client.force_login(agent)
    url = reverse("admin:complaints_complaint_action", args=[complaint.pk, "remedy"])
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "compensation", "amount": "12.34", "note": ""})
    assert response.status_code == 200 and "Name the manager" in response.content.decode()
    response = client.post(
        url, {"kind": "compensation", "amount": "12.34", "approved_by": manager.email}
    )
    assert response.status_code == 302
    assert Remedy.objects.get().amount == Decimal("12.34")
