"""Making, enabling and listing webhook subscriptions."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from complaints.models import WebhookEvent, WebhookSubscription
from complaints.webhooks.signing import webhook_secret_new
from complaints.webhooks.targets import webhook_url_check


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: WebhookSubscription
    secret: str  # shown once to whoever made it


@transaction.atomic
def webhook_subscription_create(
    *, integration, url: str, event_types: list[str], lead_hours: int = 24, by=None
) -> CreatedSubscription:
    """Check the target, generate the signing secret and store the subscription."""
    webhook_url_check(url)
    unknown = sorted(set(event_types) - set(WebhookEvent.values))
    if unknown or not event_types:
        raise ValidationError(
            {
                "event_types": f"Unknown event types: {', '.join(unknown)}"
                if unknown
                else "Choose at least one event type."
            }
        )
    secret = webhook_secret_new()
    subscription = WebhookSubscription.objects.create(
        integration=integration,
        url=url,
        secret=secret,
        event_types=sorted(set(event_types)),
        lead_hours=lead_hours,
        created_by=by,
    )
    return CreatedSubscription(subscription=subscription, secret=secret)


@transaction.atomic
def webhook_subscription_enable(*, subscription: WebhookSubscription, actor) -> bool:
    """Turn a disabled subscription on again, its failure count cleared; False if it was on."""
    webhook_url_check(subscription.url)
    return bool(
        WebhookSubscription.objects.filter(pk=subscription.pk, active=False).update(
            active=True, disabled_at=None, disabled_reason="", consecutive_failures=0
        )
    )
