"""Subject access requests through the API, under the desk's rules (issue 15 item 5)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import SubjectAccessEvent, SubjectAccessRequest
from accounts.roles import Role
from tests.accounts.factories import CustomerFactory

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
URL = "/api/v1/subject-access-requests/"


def test_a_crm_logs_a_letter_and_reads_its_clock(support):
    customer = CustomerFactory()
    with time_machine.travel(datetime(2026, 2, 3, 10, tzinfo=LONDON), tick=False):
        created = support.post(URL, {"customer": customer.pk, "channel": "letter",
                                     "received_at": "2026-01-31T09:00:00Z",
                                     "details": "Letter asking for everything."},
                               format="json")  # fmt: skip
        assert created.status_code == 201, created.content
        body = created.json()
        # Received Saturday 31 January 2026: due Monday 2 March (28 February is a Saturday).
        assert (body["channel"], body["due_on"], body["state"]) == ("letter", "2026-03-02", "open")
        assert created["Location"].endswith(f"{URL}{body['reference']}/")

        again = support.post(URL, {"customer": customer.pk, "channel": "phone"}, format="json")
        assert again.status_code == 200 and again.json()["reference"] == body["reference"]
    sar = SubjectAccessRequest.objects.get()
    assert sar.events.filter(kind=SubjectAccessEvent.Kind.ASKED_AGAIN).count() == 1

    read = support.get(f"{URL}{body['reference'].lower()}/")
    assert read.status_code == 200 and read.json()["due_on"] == "2026-03-02"
    listed = support.get(URL, {"customer": customer.pk})
    assert [r["reference"] for r in listed.json()] == [body["reference"]]


def test_bad_input_gets_a_clear_problem_and_saves_nothing(support):
    customer = CustomerFactory()
    portal = support.post(URL, {"customer": customer.pk, "channel": "portal"}, format="json")
    assert portal.status_code == 400 and "channel" in portal.json()["errors"]
    future = support.post(URL, {"customer": customer.pk, "channel": "email",
                                "received_at": "2999-01-01T00:00:00Z"}, format="json")  # fmt: skip
    assert future.status_code == 400 and "future" in str(future.json())
    unknown = support.post(URL, {"customer": 999999, "channel": "email"}, format="json")
    assert unknown.status_code == 400
    assert not SubjectAccessRequest.objects.exists()


def test_only_a_handler_may_extend_and_never_after_the_first_month(support, api_client):
    customer = CustomerFactory()
    with time_machine.travel(datetime(2026, 7, 10, 10, tzinfo=LONDON), tick=False):
        ref = support.post(URL, {"customer": customer.pk, "channel": "letter"},
                           format="json").json()["reference"]  # fmt: skip
    lead = api_client(Role.COMPANY_SECRETARY)
    body = {"months": 1, "reason": "Records on three accounts."}
    assert support.post(f"{URL}{ref}/extend/", body, format="json").status_code == 403
    with time_machine.travel(datetime(2026, 8, 11, 9, tzinfo=LONDON), tick=False):
        late = lead.post(f"{URL}{ref}/extend/", body, format="json")
    assert late.status_code == 409 and "Too late to extend" in late.json()["detail"]
    with time_machine.travel(datetime(2026, 8, 10, 9, tzinfo=LONDON), tick=False):
        ok = lead.post(f"{URL}{ref}/extend/", body, format="json")
    assert ok.status_code == 200 and ok.json()["extended_due_on"] == "2026-09-10"
    send = lead.post(f"{URL}{ref}/send/", {}, format="json")
    assert send.status_code == 409 and "Prepare the response first" in send.json()["detail"]
