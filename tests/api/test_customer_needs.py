"""A customer's recorded needs through the API (issue 15 items 1 and 3; Ofcom GC C5).

The same rules as the portal and the desk: consent and how it was given, the Code's
update interval as the floor, withdrawal that deletes the details. The needs are on
their own route only: never in the customer record an integration reads.
"""

from __future__ import annotations

import pytest

from accounts.models import CustomerNeeds, CustomerNeedsEvent
from complaints.models import CaseEvent
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.api.test_complaints import problem
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db

BODY = {
    "kinds": ["hearing", "call_dont_write"],
    "details": "Uses a textphone.",
    "communication_format": "phone_with_copy",
    "consent_how": "phone",
}


def url(customer) -> str:
    return f"/api/v1/customers/{customer.pk}/needs/"


def test_an_integration_records_reads_corrects_and_withdraws_needs(support):
    """Issue 15 item 1: the API does what staff do, under the same rules."""
    customer = CustomerFactory()
    complaint = complaint_make(customer=customer)
    contact = StaffUserFactory(email="dana@sovision.com")
    assert problem(support.get(url(customer)), 404)["title"] == "No needs recorded"

    created = support.put(
        url(customer),
        {**BODY, "named_contact": "Dana@sovision.com", "update_interval_working_days": 4},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["badge"] == "Needs: hearing, call, don't write · phone + written copy"
    assert body["recorded_by"] == str(support.integration.user)
    assert body["named_contact"] == "dana@sovision.com" and body["consent_how"] == "phone"
    assert CustomerNeeds.objects.get(customer=customer).named_contact == contact
    complaint.refresh_from_db()
    assert complaint.agreed_update_working_days == 4

    changed = support.put(url(customer), {**BODY, "kinds": ["hearing"]}, format="json")
    assert changed.status_code == 200 and changed.json()["kinds"] == ["hearing"]
    assert changed.json()["update_interval_working_days"] is None  # PUT replaces it all
    assert support.get(url(customer)).json()["details"] == "Uses a textphone."

    # The customer record an integration reads never carries the needs.
    assert (
        "Uses a textphone" not in support.get(f"/api/v1/customers/{customer.pk}/").content.decode()
    )

    assert support.delete(url(customer)).status_code == 204
    assert not CustomerNeeds.objects.filter(customer=customer).exists()
    assert problem(support.delete(url(customer)), 404)
    kinds = CustomerNeedsEvent.objects.filter(customer=customer).values_list("kind", flat=True)
    assert list(kinds) == ["recorded", "changed", "withdrawn"]
    history = " ".join(
        CaseEvent.objects.filter(complaint=complaint).values_list("reason", flat=True)
    )
    assert "textphone" not in history


def test_consent_must_be_stated_and_the_codes_interval_is_the_floor(support):
    """Ofcom GC C5 consent; COP-13's 2 working days cannot be shortened (issue 15 item 3)."""
    customer = CustomerFactory()
    no_consent = {k: v for k, v in BODY.items() if k != "consent_how"}
    assert (
        "consent_how"
        in problem(support.put(url(customer), no_consent, format="json"), 400)["errors"]
    )
    portal = support.put(url(customer), {**BODY, "consent_how": "portal"}, format="json")
    assert "consent_how" in problem(portal, 400)["errors"]
    short = support.put(url(customer), {**BODY, "update_interval_working_days": 1}, format="json")
    assert "at least every 2 working days" in problem(short, 400)["detail"]
    stranger = support.put(url(customer), {**BODY, "named_contact": "nobody@x.com"}, format="json")
    assert "named_contact" in problem(stranger, 400)["errors"]
    machine = {**BODY, "named_contact": support.integration.user.email}
    assert (
        "named_contact"
        in problem(support.put(url(customer), machine, format="json"), 400)["errors"]
    )  # an integration's own user is not a person to call
    unknown = support.put(url(customer), {**BODY, "kinds": ["astrology"]}, format="json")
    assert "kinds" in problem(unknown, 400)["errors"]
    assert not CustomerNeeds.objects.exists()


def test_a_read_only_key_reads_but_cannot_record(api_client):
    reader = api_client(scopes=("read",))
    customer = CustomerFactory()
    assert problem(reader.put(url(customer), BODY, format="json"), 403)
    assert not CustomerNeeds.objects.exists()
