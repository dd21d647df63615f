"""The same complaint form sent ten times at once files one complaint (double clicks, retries)."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from complaints.models import Complaint

FORM = {
    "token": "parallel0000000000000001",
    "name": "Pat Parallel",
    "email": "pat@example.com",
    "about": "technical_support",
    "subject": "Clicked send many times",
    "description": "The page was slow so I clicked again.",
    "preferred_contact_method": "email",
    "customer_type": "consumer",
}


@pytest.mark.django_db(transaction=True)
def test_ten_parallel_posts_of_one_form_file_one_complaint():
    barrier = threading.Barrier(10)
    results: list = []

    def send():
        try:
            barrier.wait(timeout=10)
            response = Client().post(reverse("complaints:complain"), FORM)
            results.append((response.status_code, response.get("Location")))
        except BaseException as exc:  # noqa: BLE001 - reported below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(r, tuple) for r in results), results
    assert [status for status, _ in results] == [302] * 10  # nobody sees an error
    complaint = Complaint.objects.get()
    assert complaint.portal_token == FORM["token"]
    assert {location for _, location in results} == {
        reverse("complaints:complaint-sent", args=[complaint.reference])
    }
