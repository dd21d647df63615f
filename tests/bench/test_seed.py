"""bench/seed.py: realistic complaints with histories, seeded in bulk, stay sound."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import Customer, User
from bench.seed import seed_check, seed_realistic
from complaints.domain.lifecycle import Status
from complaints.models import CaseEvent, Complaint, Correspondence, DeadlineAlarm
from complaints.services.references import complaint_reference_next

pytestmark = pytest.mark.django_db
TOTAL = 300
# A fixed "now" keeps the seed the same from run to run (a Thursday, no bank holiday near).
NOW = datetime(2026, 3, 12, 12, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def seeded():
    return seed_realistic(TOTAL, batch=120, now=NOW)


def test_counts_match_the_tables(seeded):
    assert seeded.complaints == TOTAL == Complaint.objects.count()
    assert seeded.rows["complaints_complaint"] == TOTAL
    assert seeded.rows["complaints_caseevent"] == CaseEvent.objects.count()
    assert seeded.rows["complaints_correspondence"] == Correspondence.objects.count()
    assert seeded.rows["complaints_deadlinealarm"] == DeadlineAlarm.objects.count()
    assert seeded.customers == Customer.objects.count()
    assert TOTAL / 5 < seeded.customers < TOTAL / 2  # about one customer per 3 complaints
    assert Customer.objects.filter(complaints__isnull=True).count() == 0
    assert User.objects.filter(is_staff=True).count() == seeded.staff
    assert seeded.events_per_complaint > 8
    assert sum(seeded.statuses.values()) == TOTAL


def test_every_status_is_present_and_most_complaints_are_closed(seeded):
    assert set(seeded.statuses) == {s.value for s in Status}
    closed = seeded.statuses["closed"] + seeded.statuses["resolved_at_first_contact"]
    assert closed > TOTAL / 2
    assert Complaint.objects.filter(assignee__isnull=False).exists()


def test_histories_deadlines_and_alarms_are_what_the_services_would_store(seeded):
    assert seed_check(seeded, sample=None) == []
    out = StringIO()
    call_command("verify_history", stdout=out)
    assert out.getvalue().strip() == (
        f"OK: {seeded.rows['complaints_caseevent']} events in {TOTAL} complaints verified"
    )
    assert not DeadlineAlarm.objects.filter(due_at__lte=NOW).exists()


def test_new_complaints_continue_the_reference_sequences(seeded):
    reference = complaint_reference_next(year=2026)
    assert not Complaint.objects.filter(reference=reference).exists()
    assert Complaint.objects.filter(reference__startswith="CMP-2026-").exists()
    last = Complaint.objects.filter(reference__startswith="CMP-2026-").order_by("-reference")
    assert reference > last.first().reference


def test_a_seeded_customer_sees_their_complaints_on_the_portal(seeded, client):
    customer = (
        Customer.objects.filter(user__isnull=False, email_confirmed_at__isnull=False)
        .filter(complaints__status=Status.RESPONDED)
        .first()
    )
    client.force_login(customer.user)
    response = client.get(reverse("complaints:my-complaints"))
    assert response.status_code == 200
    complaint = customer.complaints.filter(status=Status.RESPONDED).first()
    assert complaint.reference in response.content.decode()
    detail = client.get(reverse("complaints:complaint-detail", args=[complaint.reference]))
    assert detail.status_code == 200
    assert "Our response to your complaint" in detail.content.decode()


def test_staff_see_the_seeded_complaints_in_the_admin(seeded, client):
    manager = User.objects.get(email="richard.moss@staff.seed.bench.invalid")
    client.force_login(manager)
    url = reverse("admin:complaints_complaint_changelist")
    for query in ("", "?queue=open", "?queue=overdue", "?queue=formal"):
        assert client.get(url + query).status_code == 200
    complaint = Complaint.objects.filter(status=Status.FORMAL).first()
    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert page.status_code == 200
    assert complaint.formal_case.register_reference in page.content.decode()
