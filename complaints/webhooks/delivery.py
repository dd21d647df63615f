"""Delivering webhooks: claimed with a lease, signed afresh each attempt, retried with backoff."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from complaints.models import StaffAlert, WebhookDelivery, WebhookSubscription
from complaints.webhooks.signing import webhook_headers
from complaints.webhooks.targets import webhook_url_check

logger = logging.getLogger(__name__)

# How long one worker holds a delivery before another may take it over (a crashed
# worker's lease expires). Longer than the HTTP timeout; no task uses a countdown.
LEASE_SECONDS = 120


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer, not an instruction: never follow it to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def webhook_backoff(attempts: int) -> timedelta:
    """Return the wait after a failed attempt: 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _due(now: datetime) -> Q:
    return Q(
        delivered_at__isnull=True,
        failed_at__isnull=True,
        next_attempt_at__lte=now,
        subscription__active=True,
    ) & (Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))


def webhook_due_ids(*, now: datetime, limit: int = 500) -> list[int]:
    """Return deliveries due by `now`, oldest first, including those whose lease expired."""
    return list(
        WebhookDelivery.objects.filter(_due(now))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def _post(url: str, body: bytes, headers: dict) -> int:
    """POST `body` and return the status code; raise on a timeout or a refused connection."""
    # The scheme was checked (http or https only) by webhook_url_check just before.
    request = urllib.request.Request(  # noqa: S310
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "Redress-Webhooks/1", **headers},
    )
    try:
        with _opener.open(request, timeout=settings.REDRESS_WEBHOOK_TIMEOUT_SECONDS) as response:
            response.read(65536)
            return response.status
    except urllib.error.HTTPError as exc:  # any non-2xx, including an unfollowed redirect
        exc.close()
        return exc.code


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> str | None:
    """Make one attempt at a due delivery; return "delivered", "retry", "failed" or None.

    None means it was not ours to send (done, not due, or leased by another worker).
    At least once: the same webhook-id every attempt, a fresh timestamp and signature.
    """
    now = now or timezone.now()
    claimed = WebhookDelivery.objects.filter(_due(now), pk=delivery_id).update(
        claimed_until=now + timedelta(seconds=LEASE_SECONDS), attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    delivery = WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)
    subscription = delivery.subscription
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    code, error = None, ""
    try:
        webhook_url_check(subscription.url)  # again now: the name may resolve elsewhere today
        headers = webhook_headers(
            secret=subscription.secret, webhook_id=delivery.webhook_id, at=now, body=body
        )
        code = _post(subscription.url, body, headers)
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except ValidationError as exc:
        error = "Refused target: " + "; ".join(exc.messages)
    except Exception as exc:  # noqa: BLE001 - timeouts, refused connections, TLS: all retried
        error = f"{type(exc).__name__}: {exc}"
    return _record(delivery, now=now, code=code, error=error[:2000])


def _record(delivery: WebhookDelivery, *, now: datetime, code: int | None, error: str) -> str:
    with transaction.atomic():
        ours = WebhookDelivery.objects.filter(pk=delivery.pk, claimed_until=delivery.claimed_until)
        subscriptions = WebhookSubscription.objects.filter(pk=delivery.subscription_id)
        if not error:
            ours.update(claimed_until=None, delivered_at=now, last_status_code=code, last_error="")
            subscriptions.update(consecutive_failures=0)
            return "delivered"
        final = delivery.attempts >= settings.REDRESS_WEBHOOK_MAX_ATTEMPTS
        ours.update(
            claimed_until=None,
            last_status_code=code,
            last_error=error,
            next_attempt_at=now + webhook_backoff(delivery.attempts),
            failed_at=now if final else None,
        )
        subscriptions.update(consecutive_failures=F("consecutive_failures") + 1)
        logger.warning(
            "webhook %s attempt %s to %s failed: %s",
            delivery.webhook_id,
            delivery.attempts,
            delivery.subscription.url,
            error,
        )
        _disable_if_failing(delivery, now=now, error=error)
        return "failed" if final else "retry"


def _disable_if_failing(delivery: WebhookDelivery, *, now: datetime, error: str) -> None:
    subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
    limit = settings.REDRESS_WEBHOOK_DISABLE_AFTER
    if not subscription.active or subscription.consecutive_failures < limit:
        return
    reason = (
        f"Disabled after {subscription.consecutive_failures} failed deliveries in a row "
        f"(last: {error})."
    )[:300]
    subscription.active = False
    subscription.disabled_at = now
    subscription.disabled_reason = reason
    subscription.save(update_fields=["active", "disabled_at", "disabled_reason"])
    logger.error("webhook subscription %s: %s", subscription.pk, reason)
    if delivery.complaint_id:
        # Managers' alert list, as the deadline jobs raise theirs (at most one per breach).
        StaffAlert.objects.get_or_create(
            complaint_id=delivery.complaint_id,
            kind="webhook_disabled",
            deadline_at=now,
            audience=StaffAlert.Audience.MANAGERS,
            defaults={
                "department": delivery.complaint.department,
                "message": f"Webhook to {subscription.url} for {subscription.integration} "
                f"disabled: {reason}"[:300],
            },
        )


def webhooks_dispatch(*, now: datetime | None = None) -> list[tuple[WebhookDelivery, str]]:
    """Attempt every due delivery once; return each with what happened."""
    now = now or timezone.now()
    done = []
    for delivery_id in webhook_due_ids(now=now):
        outcome = webhook_deliver(delivery_id=delivery_id, now=now)
        if outcome is not None:
            done.append((WebhookDelivery.objects.get(pk=delivery_id), outcome))
    return done


@transaction.atomic
def webhook_send_again(*, delivery: WebhookDelivery, actor) -> bool:
    """Queue a delivery to be sent again now, with the same webhook-id."""
    return bool(
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now(),
            attempts=0,
            delivered_at=None,
            failed_at=None,
            claimed_until=None,
        )
    )
