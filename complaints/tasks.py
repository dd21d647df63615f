"""Celery tasks: thin wrappers that call one service each. Schedules: config/schedule.py."""

import json
import logging

from celery import shared_task
from django.utils import timezone

from complaints.bundles import bundle_build, bundles_sweep
from complaints.inbound.imap import imap_poll_from_settings
from complaints.services.enforcement import deadlines_sweep, sweep_seconds_budget
from complaints.services.heartbeat import heartbeat_record
from complaints.services.history_checkpoint import history_checkpoint_write
from complaints.services.outbox import outbox_deliver, outbox_due_ids
from complaints.services.recurring import recurring_problems_check
from complaints.webhooks.delivery import webhooks_dispatch
from complaints.webhooks.events import webhooks_deadlines_approaching

logger = logging.getLogger(__name__)


@shared_task(name="complaints.tasks.heartbeat", ignore_result=True)
def heartbeat():
    """Record that beat scheduled and a worker ran this job."""
    beat = heartbeat_record()
    logger.info("heartbeat #%s at %s: worker and beat are running", beat.count, beat.beat_at)


@shared_task(name="complaints.tasks.enforce_deadlines", ignore_result=True)
def enforce_deadlines():
    """Fire every deadline alarm due by now (safe to run twice, or after downtime)."""
    for action in deadlines_sweep(max_seconds=sweep_seconds_budget()):
        logger.info("%s", action)


@shared_task(name="complaints.tasks.outbox_dispatch", ignore_result=True)
def outbox_dispatch():
    """Deliver every queued notice that is due, including retries and expired claims."""
    for message_id in outbox_due_ids(now=timezone.now()):
        outbox_deliver(message_id=message_id)


@shared_task(name="complaints.tasks.outbox_deliver", ignore_result=True)
def outbox_deliver_one(message_id: int):
    """Deliver one notice straight after the transaction that queued it commits."""
    outbox_deliver(message_id=message_id)


@shared_task(name="complaints.tasks.webhooks_dispatch", ignore_result=True)
def webhooks_dispatch_task():
    """Queue deadline warnings now within lead time, then attempt every due webhook once."""
    webhooks_deadlines_approaching()
    for delivery, outcome in webhooks_dispatch():
        logger.info("webhook %s %s: %s", delivery.webhook_id, delivery.event_type, outcome)


@shared_task(name="complaints.tasks.imap_poll", ignore_result=True)
def imap_poll():
    """File unread mail from the complaints IMAP mailbox (COP-05); nothing when unset."""
    for result in imap_poll_from_settings():
        logger.info("%s", result)


@shared_task(name="complaints.tasks.history_checkpoint", ignore_result=True)
def history_checkpoint():
    """Append today's checkpoint of every case's history head (once a day; later runs skip)."""
    checkpoint = history_checkpoint_write(now=timezone.now())
    if checkpoint.written:
        logger.info("history checkpoint %s", json.dumps(checkpoint.record, sort_keys=True))


@shared_task(name="complaints.tasks.bundle_build", ignore_result=True)
def bundle_build_task(bundle_id: int):
    """Build one requested bundle (a case file, a data export); safe to run twice."""
    bundle = bundle_build(bundle_id)
    if bundle is not None:
        logger.info("bundle %s %s v%s: %s", bundle.pk, bundle.kind, bundle.version, bundle.state)


@shared_task(name="complaints.tasks.bundles_sweep", ignore_result=True)
def bundles_sweep_task():
    """Build bundles left queued (broker down) or claimed by a worker that died."""
    for line in bundles_sweep():
        logger.info("%s", line)


def bundle_enqueue(sender, *, bundle_id: int, **kwargs):
    """Ask a worker to build a newly requested bundle; the bundles sweep is the fallback."""
    bundle_build_task.delay(bundle_id)


def outbox_enqueue(sender, *, message_id: int, **kwargs):
    """Ask a worker to deliver a newly queued message now; the outbox sweep is the fallback."""
    outbox_deliver_one.delay(message_id)


@shared_task(name="complaints.tasks.recurring_problems", ignore_result=True)
def recurring_problems():
    """Alert managers once per burst of a recurring root cause or category and product."""
    for line in recurring_problems_check():
        logger.info("%s", line)
