"""Which history rows are which webhook events, and writing them to the webhook outbox.

Every change of a complaint's state writes a CaseEvent through CaseEvent.objects.record;
that calls webhooks_enqueue_for_event inside the same transaction, so a change that rolls
back leaves no delivery, and a committed change always has its deliveries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from complaints.models import (
    CaseEvent,
    Complaint,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)
from complaints.webhooks.signing import webhook_id_new

# The clocks a complaint.deadline_approaching can be about: the stored, indexed deadline
# column, the rule's name (as complaint_clocks_explained names it), and when it no longer
# applies (the duty was done). COP-12 response, COP-14 resolution target, COP-16 ADR letter,
# COP-18 ombudsman referral deadline and the ADR scheme's deadline for our case file.
APPROACHING_CLOCKS = (
    ("response_due", "response_due_at", Q(responded_at__isnull=True, closed_at__isnull=True)),
    (
        "resolution_target",
        "resolution_target_at",
        Q(resolved_at__isnull=True, closed_at__isnull=True),
    ),
    ("adr_eligible", "adr_eligible_at", Q(adr_letter_sent_at__isnull=True, closed_at__isnull=True)),
    (
        "osc_deadline",
        "osc_deadline_at",
        Q(adr_letter_sent_at__isnull=False) | Q(deadlock_letter_received_at__isnull=False),
    ),
    # The ADR scheme's deadline for our case file (issue 16 item 5), until one is ready.
    ("case_file_due", "case_file_due_at", Q(case_file_ready_at__isnull=True)),
)

# A missed duty (the deadline jobs' alarm kind) and the clock it belongs to.
_MISSED_RULE = {
    "response_overdue": "response_due",
    "phone_promise": "phone_promise",
    "resolution_target": "resolution_target",
    "case_file_overdue": "case_file_due",
}


def event_types_for(event: CaseEvent) -> list[str]:
    """Return the webhook event types a history row stands for (often none)."""
    extra = event.extra or {}
    kind = event.kind
    if kind == CaseEvent.Kind.LOGGED:
        return [WebhookEvent.COMPLAINT_CREATED]
    if kind == CaseEvent.Kind.STATUS_CHANGED:
        return [WebhookEvent.COMPLAINT_STATUS_CHANGED]
    if kind == CaseEvent.Kind.NOTICE:
        if "channels" in extra:  # notices.notice_send: the notice and its PDF letter made
            return [WebhookEvent.LETTER_ISSUED]
        if extra.get("delivery_state") == "sent":  # outbox: delivered to the customer
            return [WebhookEvent.NOTICE_SENT]
        return []
    if kind == CaseEvent.Kind.ASSIGNED and "register_reference" in extra:
        return [WebhookEvent.FORMAL_OPENED]
    if kind == CaseEvent.Kind.CORRESPONDENCE and extra.get("adr"):
        return [WebhookEvent.ADR_RECORDED]
    if kind == CaseEvent.Kind.CLOCK and (extra.get("missed") or extra.get("met") is False):
        return [WebhookEvent.COMPLAINT_DEADLINE_MISSED]
    return []


def webhook_subscriptions_active() -> list[WebhookSubscription]:
    """The active subscriptions, read once by a caller writing many events (the sweep)."""
    return list(
        WebhookSubscription.objects.filter(active=True).only("pk", "event_types", "lead_hours")
    )


def _subscriptions_for(
    event_type: str, active: list[WebhookSubscription] | None = None
) -> list[WebhookSubscription]:
    if active is None:
        active = webhook_subscriptions_active()
    return [s for s in active if event_type in s.event_types]


def _clock(complaint: Complaint, rule: str, due_at: datetime | None) -> dict:
    """Return the clock `rule` with its ISO due time and plain-English working."""
    from complaints.clocks import complaint_clocks_explained

    explanation = next(
        (c.explanation for c in complaint_clocks_explained(complaint) if c.rule == rule), ""
    )
    return {
        "rule": rule,
        "due_at": due_at.isoformat() if due_at else None,
        "explanation": explanation,
    }


def _api_base() -> str:
    # A deployment may set REDRESS_WEBHOOK_API_BASE (https://redress.example) for absolute
    # URLs; otherwise the path alone, relative to the API's host.
    return getattr(settings, "REDRESS_WEBHOOK_API_BASE", "").rstrip("/")


def webhook_payload(
    *, event_type: str, complaint: Complaint, at: datetime, clock: dict | None = None, **data
) -> dict:
    """Return the JSON body of an event about `complaint`."""
    return {
        "type": event_type,
        "timestamp": at.isoformat(),
        "data": {
            "reference": complaint.reference,
            "status": complaint.status,
            "department": complaint.department,
            **({"clock": clock} if clock else {}),
            **data,
            "url": f"{_api_base()}/api/v1/complaints/{complaint.reference}/",
        },
    }


def _write(*, subscriptions, event_type: str, event_key: str, complaint, payload, at) -> int:
    rows = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook_id=webhook_id_new(),
                subscription=s,
                event_type=event_type,
                event_key=event_key,
                payload=payload,
                complaint=complaint,
                created_at=at,
                next_attempt_at=at,
            )
            for s in subscriptions
        ],
        ignore_conflicts=True,  # the same event for the same subscription is one row
    )
    return len(rows)


def _payload_for(event: CaseEvent, event_type: str) -> dict:
    """Return the payload of `event_type` for `event`: the complaint as it is now."""
    complaint = event.complaint
    extra = event.extra or {}
    data = {"reason": event.reason}
    clock = None
    if event_type == WebhookEvent.COMPLAINT_STATUS_CHANGED:
        data |= {"from_status": event.from_status, "to_status": event.to_status}
    elif event_type == WebhookEvent.COMPLAINT_DEADLINE_MISSED:
        alarm = extra.get("missed") or "resolution_target"
        rule = _MISSED_RULE.get(alarm, alarm)
        due = datetime.fromisoformat(extra["due_at"]) if extra.get("due_at") else None
        clock = _clock(complaint, rule, due)
    elif event_type == WebhookEvent.FORMAL_OPENED:
        data["register_reference"] = extra.get("register_reference")
    elif event_type in (WebhookEvent.NOTICE_SENT, WebhookEvent.LETTER_ISSUED):
        data["notice_id"] = extra.get("notice_id")
    return webhook_payload(
        event_type=event_type, complaint=complaint, at=event.at, clock=clock, **data
    )


def _deliveries_write(event: CaseEvent, event_type: str, subscriptions, payload: dict) -> None:
    _write(
        subscriptions=subscriptions,
        event_type=event_type,
        event_key=f"event:{event.pk}",
        complaint=event.complaint,
        payload=payload,
        at=event.at,
    )


def webhooks_enqueue_for_event(
    event: CaseEvent, *, active: list[WebhookSubscription] | None = None
) -> None:
    """Write one delivery per active subscription wanting what `event` stands for.

    `active` is the list of active subscriptions when the caller has read it already
    (webhook_subscriptions_active), to save the query per event.
    """
    for event_type in event_types_for(event):
        subscriptions = _subscriptions_for(event_type, active)
        if subscriptions:
            _deliveries_write(event, event_type, subscriptions, _payload_for(event, event_type))


def webhook_plans_for_event(event: CaseEvent) -> list[tuple[str, dict]]:
    """Return (event type, payload) for each webhook event `event` stands for, as of now."""
    return [(t, _payload_for(event, t)) for t in event_types_for(event)]


def webhooks_write_planned(planned: list[tuple[CaseEvent, list[tuple[str, dict]]]]) -> None:
    """Write the deliveries planned for saved events, reading the subscriptions once.

    For a batch of events (models.HistoryBatch): the same rows as webhooks_enqueue_for_event
    on each, with one query for the subscriptions instead of one an event.
    """
    if not any(plans for _event, plans in planned):
        return
    active = webhook_subscriptions_active()
    for event, plans in planned:
        for event_type, payload in plans:
            subscriptions = _subscriptions_for(event_type, active)
            if subscriptions:
                _deliveries_write(event, event_type, subscriptions, payload)


def webhooks_deadlines_approaching(*, now: datetime | None = None) -> int:
    """Queue complaint.deadline_approaching for every clock within a subscription's lead time.

    Selects by the stored deadline columns; the event key is the clock and its due time,
    so running again (or after downtime) writes nothing new, and a moved deadline warns
    again. Returns the number of rows written.
    """
    now = now or timezone.now()
    subscriptions = _subscriptions_for(WebhookEvent.COMPLAINT_DEADLINE_APPROACHING)
    written = 0
    for subscription in subscriptions:
        horizon = now + timedelta(hours=subscription.lead_hours)
        for rule, column, pending in APPROACHING_CLOCKS:
            complaints = Complaint.objects.filter(
                pending, **{f"{column}__gt": now, f"{column}__lte": horizon}
            ).order_by(column, "pk")
            for complaint in complaints.iterator(chunk_size=500):
                due = getattr(complaint, column)
                key = f"approaching:{rule}:{due.isoformat()}:{complaint.pk}"
                if WebhookDelivery.objects.filter(
                    subscription=subscription, event_key=key
                ).exists():
                    continue
                written += _write(
                    subscriptions=[subscription],
                    event_type=WebhookEvent.COMPLAINT_DEADLINE_APPROACHING,
                    event_key=key,
                    complaint=complaint,
                    payload=webhook_payload(
                        event_type=WebhookEvent.COMPLAINT_DEADLINE_APPROACHING,
                        complaint=complaint,
                        at=now,
                        clock=_clock(complaint, rule, due),
                    ),
                    at=now,
                )
    return written
