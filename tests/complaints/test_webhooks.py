"""Signed webhooks: targets, one row per event per subscription, backoff, disabling, admin."""

import json
import socket
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from accounts.integrations import integration_create
from accounts.roles import Role
from complaints.domain.lifecycle import Status
from complaints.models import StaffAlert, WebhookDelivery, WebhookEvent, WebhookSubscription
from complaints.services.enforcement import deadlines_sweep
from complaints.services.transitions import complaint_transition
from complaints.webhooks import delivery as delivery_module
from complaints.webhooks.delivery import (
    webhook_deliver,
    webhook_due_ids,
    webhook_send_again,
    webhooks_dispatch,
)
from complaints.webhooks.events import webhooks_deadlines_approaching
from complaints.webhooks.signing import webhook_headers
from complaints.webhooks.subscriptions import (
    webhook_subscription_create,
    webhook_subscription_enable,
)
from complaints.webhooks.targets import webhook_url_check
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)  # response due Wed 25 Nov 17:00
PUBLIC = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443))]


def _resolves_to(address):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return mock.patch(
        "complaints.webhooks.targets.socket.getaddrinfo",
        return_value=[(family, socket.SOCK_STREAM, 6, "", (address, 443))],
    )


@pytest.fixture
def integration():
    return integration_create(name="CRM", role=Role.SENIOR_MANAGER)


@pytest.fixture
def subscribe(integration):
    def make(events=tuple(WebhookEvent.values), url="https://hooks.example.com/in", **kwargs):
        with _resolves_to("93.184.215.14"):
            return webhook_subscription_create(
                integration=integration, url=url, event_types=list(events), **kwargs
            )

    return make


def test_signature_verifies_with_standardwebhooks():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"type":"complaint.created"}'
    at = datetime.now(tz=LONDON)
    headers = webhook_headers(secret=secret, webhook_id="msg_1", at=at, body=body)
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == {"type": "complaint.created"}
    with pytest.raises(Exception):  # noqa: B017 - any verification error
        Webhook(secret).verify(body + b" ", headers)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.5",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "224.0.0.1",
        "0.0.0.0",
        "240.0.0.1",
        "100.64.0.1",
        "::ffff:127.0.0.1",
    ],
)
def test_private_loopback_link_local_targets_are_refused(address):
    with _resolves_to(address), pytest.raises(ValidationError, match="resolves to"):
        webhook_url_check("https://hooks.example.com/in")


def test_url_rules(settings):
    with _resolves_to("93.184.215.14"):
        webhook_url_check("http://hooks.example.com/in")  # http allowed outside production
        with pytest.raises(ValidationError, match="user name"):
            webhook_url_check("https://user:pw@hooks.example.com/in")
        with pytest.raises(ValidationError):
            webhook_url_check("ftp://hooks.example.com/in")
        settings.REDRESS_WEBHOOK_REQUIRE_HTTPS = True  # as in production.py
        with pytest.raises(ValidationError, match="https"):
            webhook_url_check("http://hooks.example.com/in")
        webhook_url_check("https://hooks.example.com/in")
    settings.REDRESS_WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    webhook_url_check("https://127.0.0.1:9/in")  # allowed by the setting


def test_subscription_secret_is_ours_in_standard_form(subscribe):
    made = subscribe()
    assert made.secret.startswith("whsec_") and made.subscription.secret == made.secret
    assert len(made.secret) > 40
    with pytest.raises(ValidationError):
        subscribe(events=["complaint.exploded"])


def test_one_row_per_event_per_subscription_with_the_payload(subscribe):
    first = subscribe().subscription
    second = subscribe(events=["complaint.status_changed"]).subscription
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make()
        complaint_transition(
            complaint=complaint, to=Status.ACKNOWLEDGED, actor=None, reason="Acknowledged."
        )
    rows = WebhookDelivery.objects.order_by("pk")
    by_sub = sorted((r.subscription_id, r.event_type) for r in rows)
    assert (first.pk, "complaint.created") in by_sub
    assert by_sub.count((first.pk, "complaint.status_changed")) == 1
    assert by_sub.count((second.pk, "complaint.status_changed")) == 1
    assert (second.pk, "complaint.created") not in by_sub
    changed = rows.get(subscription=second)
    assert changed.webhook_id.startswith("msg_")
    data = changed.payload["data"]
    assert changed.payload["type"] == "complaint.status_changed"
    assert data["reference"] == complaint.reference and data["status"] == "acknowledged"
    assert data["to_status"] == "acknowledged" and data["department"] == "technical_support"
    assert data["url"] == f"/api/v1/complaints/{complaint.reference}/"
    datetime.fromisoformat(changed.payload["timestamp"])


def test_a_rolled_back_change_leaves_no_delivery(subscribe):
    subscribe()
    with pytest.raises(RuntimeError), transaction.atomic():
        complaint_make()
        assert WebhookDelivery.objects.exists()  # written in the change's transaction
        raise RuntimeError("roll back")
    assert not WebhookDelivery.objects.exists()


def test_no_subscriptions_no_rows_and_no_query_for_plain_events():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from complaints.models import CaseEvent

    complaint = complaint_make()
    assert not WebhookDelivery.objects.exists()
    with CaptureQueriesContext(connection) as note:
        CaseEvent.objects.record(
            complaint=complaint, kind=CaseEvent.Kind.NOTE, actor=None, reason="A note."
        )
    assert not [q for q in note.captured_queries if "webhook" in q["sql"]]


def test_deadline_missed_once_even_swept_again_or_late(subscribe):
    sub = subscribe(events=["complaint.deadline_missed"]).subscription
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make()
    deadlines_sweep(now=datetime(2026, 11, 26, 9, 0, tzinfo=LONDON))  # after downtime
    deadlines_sweep(now=datetime(2026, 11, 26, 9, 1, tzinfo=LONDON))
    deadlines_sweep(now=datetime(2026, 11, 27, 9, 0, tzinfo=LONDON))
    missed = WebhookDelivery.objects.filter(subscription=sub)
    assert missed.count() == 1 and missed.get().complaint == complaint
    clock = missed.get().payload["data"]["clock"]
    assert clock["rule"] == "response_due"
    assert datetime.fromisoformat(clock["due_at"]) == datetime(2026, 11, 25, 17, 0, tzinfo=LONDON)
    assert clock["explanation"]


def test_deadline_approaching_idempotent_and_warns_again_when_moved(subscribe):
    sub = subscribe(events=["complaint.deadline_approaching"], lead_hours=24).subscription
    with time_machine.travel(MONDAY, tick=False):
        complaint = complaint_make()
    # Response due Wed 17:00: not within 24 h on Monday, within it on Tuesday evening.
    assert webhooks_deadlines_approaching(now=MONDAY) == 0
    tuesday = datetime(2026, 11, 24, 18, 0, tzinfo=LONDON)
    assert webhooks_deadlines_approaching(now=tuesday) == 1
    assert webhooks_deadlines_approaching(now=tuesday) == 0
    assert webhooks_deadlines_approaching(now=tuesday + timedelta(hours=5)) == 0
    row = WebhookDelivery.objects.get(subscription=sub)
    assert row.payload["data"]["clock"]["rule"] == "response_due"
    assert row.complaint == complaint
    # The deadline moves: warned again, once.
    complaint.response_due_at += timedelta(minutes=30)
    complaint.save(update_fields=["response_due_at"])
    assert webhooks_deadlines_approaching(now=tuesday) == 1
    assert webhooks_deadlines_approaching(now=tuesday) == 0


def _delivery(subscribe, **settings_kwargs):
    subscribe(events=["complaint.created"])
    with time_machine.travel(MONDAY, tick=False):
        complaint_make()
    return WebhookDelivery.objects.get()


class _Response:
    def __init__(self, status):
        self.status = status

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n):
        return b""


def test_backoff_then_give_up_same_webhook_id(subscribe, settings):
    settings.REDRESS_WEBHOOK_MAX_ATTEMPTS = 3
    row = _delivery(subscribe)
    bodies = []

    def down(request, timeout):
        bodies.append(dict(request.header_items()))
        raise ConnectionRefusedError("refused")

    with (
        _resolves_to("93.184.215.14"),
        mock.patch.object(delivery_module._opener, "open", side_effect=down),
    ):
        assert webhook_deliver(delivery_id=row.pk, now=MONDAY) == "retry"
        row.refresh_from_db()
        assert row.attempts == 1 and "ConnectionRefusedError" in row.last_error
        assert row.next_attempt_at == MONDAY + timedelta(minutes=1)
        assert webhook_due_ids(now=MONDAY + timedelta(seconds=59)) == []
        assert webhook_deliver(delivery_id=row.pk, now=MONDAY + timedelta(minutes=1)) == "retry"
        row.refresh_from_db()
        assert row.next_attempt_at == MONDAY + timedelta(minutes=3)  # 2 minutes later
        assert webhook_deliver(delivery_id=row.pk, now=MONDAY + timedelta(minutes=3)) == "failed"
    row.refresh_from_db()
    assert row.failed_at == MONDAY + timedelta(minutes=3) and row.delivered_at is None
    assert webhook_due_ids(now=MONDAY + timedelta(days=1)) == []
    ids = {h["Webhook-id"] for h in bodies}
    stamps = [h["Webhook-timestamp"] for h in bodies]
    assert ids == {row.webhook_id} and len(set(stamps)) == 3  # fresh timestamp each time

    # Send again: due now, same webhook-id, delivered this time.
    webhook_send_again(delivery=row, actor=None)
    with (
        _resolves_to("93.184.215.14"),
        mock.patch.object(delivery_module._opener, "open", return_value=_Response(204)),
    ):
        done = webhooks_dispatch()
    assert [(d.webhook_id, outcome) for d, outcome in done] == [(row.webhook_id, "delivered")]
    row.refresh_from_db()
    assert row.last_status_code == 204 and row.delivered_at and row.last_error == ""


def test_non_2xx_and_redirects_are_failures_with_the_code(subscribe):
    import urllib.error

    row = _delivery(subscribe)

    def redirect(request, timeout):
        raise urllib.error.HTTPError(request.full_url, 302, "Found", {}, None)

    with (
        _resolves_to("93.184.215.14"),
        mock.patch.object(delivery_module._opener, "open", side_effect=redirect),
    ):
        assert webhook_deliver(delivery_id=row.pk, now=MONDAY) == "retry"
    row.refresh_from_db()
    assert row.last_status_code == 302 and row.last_error == "HTTP 302"


def test_never_follows_redirects():
    handler = delivery_module._NoRedirects()
    assert handler.redirect_request(None, None, 301, "", {}, "http://127.0.0.1/") is None


def test_target_checked_again_at_delivery(subscribe):
    row = _delivery(subscribe)
    with _resolves_to("10.1.2.3"), mock.patch.object(delivery_module._opener, "open") as opened:
        assert webhook_deliver(delivery_id=row.pk, now=MONDAY) == "retry"
    opened.assert_not_called()
    row.refresh_from_db()
    assert "Refused target" in row.last_error


def test_a_leased_row_is_not_sent_twice(subscribe):
    row = _delivery(subscribe)
    WebhookDelivery.objects.filter(pk=row.pk).update(claimed_until=MONDAY + timedelta(minutes=2))
    assert webhook_deliver(delivery_id=row.pk, now=MONDAY) is None
    assert webhook_due_ids(now=MONDAY + timedelta(minutes=3)) == [row.pk]  # lease expired


def test_disabled_after_repeated_failures_with_a_manager_alert(subscribe, settings):
    settings.REDRESS_WEBHOOK_DISABLE_AFTER = 3
    made = subscribe(events=["complaint.created"])
    with time_machine.travel(MONDAY, tick=False):
        complaints = [complaint_make() for _ in range(4)]
    with (
        _resolves_to("93.184.215.14"),
        mock.patch.object(delivery_module._opener, "open", side_effect=TimeoutError("timed out")),
    ):
        done = webhooks_dispatch(now=MONDAY)
    assert [o for _d, o in done] == ["retry", "retry", "retry"]  # the fourth waits: disabled
    sub = WebhookSubscription.objects.get(pk=made.subscription.pk)
    assert not sub.active and sub.disabled_at == MONDAY and "3 failed" in sub.disabled_reason
    alert = StaffAlert.objects.get(kind="webhook_disabled")
    assert alert.audience == StaffAlert.Audience.MANAGERS and sub.url in alert.message
    assert alert.complaint in complaints
    assert webhook_due_ids(now=MONDAY + timedelta(days=1)) == []
    # Enabled again: counting starts afresh and the waiting rows go.
    with _resolves_to("93.184.215.14"):
        assert webhook_subscription_enable(subscription=sub, actor=None)
    sub.refresh_from_db()
    assert sub.active and sub.consecutive_failures == 0 and sub.disabled_reason == ""
    assert len(webhook_due_ids(now=MONDAY + timedelta(days=1))) == 4


def test_admin_add_shows_secret_once_send_again_and_no_delete(subscribe):
    admin_user = StaffUserFactory(role="administrator")
    admin_user.is_superuser = True
    admin_user.save()
    client = Client()
    client.force_login(admin_user)
    from accounts.models import Integration

    integration = Integration.objects.get()
    with _resolves_to("93.184.215.14"):
        response = client.post(
            reverse("admin:complaints_webhooksubscription_add"),
            {
                "integration": integration.pk,
                "url": "https://hooks.example.com/admin",
                "lead_hours": 24,
                "chosen_events": ["complaint.created", "notice.sent"],
            },
            follow=True,
        )
    sub = WebhookSubscription.objects.get(url="https://hooks.example.com/admin")
    assert sub.secret in response.content.decode()
    assert sub.event_types == ["complaint.created", "notice.sent"]
    page = client.get(reverse("admin:complaints_webhooksubscription_change", args=[sub.pk]))
    assert sub.secret not in page.content.decode()  # shown once only

    with time_machine.travel(MONDAY, tick=False):
        complaint_make()
    row = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=row.pk).update(failed_at=MONDAY, attempts=10)
    log = client.get(reverse("admin:complaints_webhookdelivery_changelist"))
    assert log.status_code == 200 and row.webhook_id in log.content.decode()
    client.post(
        reverse("admin:complaints_webhookdelivery_changelist"),
        {"action": "send_again", "_selected_action": [row.pk]},
    )
    row.refresh_from_db()
    assert row.failed_at is None and row.attempts == 0
    detail = client.get(reverse("admin:complaints_webhookdelivery_change", args=[row.pk]))
    assert detail.status_code == 200
    for name in ("webhooksubscription", "webhookdelivery"):
        url = reverse(f"admin:complaints_{name}_delete", args=[sub.pk if "sub" in name else row.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
    assert WebhookDelivery.objects.filter(pk=row.pk).exists()


def test_deliver_webhooks_command_prints_one_line_per_delivery(subscribe, capsys):
    row = _delivery(subscribe)
    with (
        _resolves_to("93.184.215.14"),
        mock.patch.object(delivery_module._opener, "open", return_value=_Response(200)),
    ):
        call_command("deliver_webhooks")
    out = capsys.readouterr().out
    assert f"{row.webhook_id} complaint.created to https://hooks.example.com/in: delivered" in out
    json.dumps(row.payload)
