"""Customers can file while the broker (Redis) is down: nothing is lost, notices go later."""

import pytest
from django.core import mail
from django.urls import reverse

from complaints.models import Complaint, DeliveryState, OutboxMessage
from complaints.services.outbox import outbox_deliver, outbox_due_ids
from config.celery import app

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def broker_down():
    """Point Celery at a Redis that is not there, as if ours had just stopped."""
    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    app.conf.broker_url = DEAD_REDIS
    app.conf.broker_transport_options = {}
    app.conf.broker_connection_timeout = 0.5
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        app._pool = None
        app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_complaints_filed_while_redis_is_down_are_saved_and_notified_later(client, broker_down):
    references = []
    for i in range(3):
        response = client.post(
            reverse("complaints:complain"),
            {"token": f"brokerdown{i:06d}", "name": "Dana", "email": f"dana{i}@example.com",
             "about": "accounts", "subject": "Bill", "description": "Charged twice.",
             "preferred_contact_method": "email", "customer_type": "consumer"},
        )  # fmt: skip
        assert response.status_code == 302  # the customer is not shown an error
        references.append(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    assert sorted(Complaint.objects.values_list("reference", flat=True)) == sorted(references)
    waiting = OutboxMessage.objects.filter(state=DeliveryState.PENDING)
    acknowledgements = lambda: [m for m in mail.outbox if "received your complaint" in m.subject]  # noqa: E731
    assert waiting.count() == 3 and acknowledgements() == []

    # Redis is back (here: the outbox sweep needs no broker): every notice goes out once.
    from django.utils import timezone

    for pk in outbox_due_ids(now=timezone.now()):
        outbox_deliver(message_id=pk)
    assert OutboxMessage.objects.filter(state=DeliveryState.SENT).count() == 3
    assert sorted(m.to[0] for m in acknowledgements()) == [f"dana{i}@example.com" for i in range(3)]
