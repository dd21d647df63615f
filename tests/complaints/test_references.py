"""Complaint references: unique and human-friendly, even when many are logged at once (COP-01)."""

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from complaints.models import Complaint
from complaints.services.references import complaint_reference_next
from tests.accounts.factories import CustomerFactory
from tests.complaints.factories import complaint_make

LONDON = ZoneInfo("Europe/London")


@pytest.mark.django_db
def test_references_count_up_per_year():
    assert complaint_reference_next(year=2026) == "CMP-2026-000001"
    assert complaint_reference_next(year=2026) == "CMP-2026-000002"
    assert complaint_reference_next(year=2027) == "CMP-2027-000001"


@pytest.mark.django_db
def test_reference_year_is_the_local_year_of_logging():
    # 23:30 on 31 December in London is still 2026 locally even in UTC terms; the
    # new year starts at local midnight.
    with time_machine.travel(datetime(2026, 12, 31, 23, 59, tzinfo=LONDON), tick=False):
        assert complaint_make().reference.startswith("CMP-2026-")
    with time_machine.travel(datetime(2027, 1, 1, 0, 1, tzinfo=LONDON), tick=False):
        assert complaint_make().reference == "CMP-2027-000001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_logging_never_shares_a_reference():
    """Many sessions logging at once each get their own reference (row lock on the counter)."""
    customers = [CustomerFactory() for _ in range(12)]
    barrier = threading.Barrier(len(customers))
    errors: list[BaseException] = []

    def log(customer):
        try:
            barrier.wait(timeout=10)
            complaint_make(customer=customer)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=log, args=(c,)) for c in customers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    references = list(Complaint.objects.values_list("reference", flat=True))
    assert len(references) == len(customers)
    assert len(set(references)) == len(customers)
    numbers = sorted(int(r.rsplit("-", 1)[1]) for r in references)
    assert numbers == list(range(1, len(customers) + 1))  # no gaps, no repeats
