"""Celery tasks: thin wrappers that call one service each."""

import logging

from celery import shared_task

from complaints.services.heartbeat import heartbeat_record

logger = logging.getLogger(__name__)


@shared_task(name="complaints.tasks.heartbeat", ignore_result=True)
def heartbeat():
    """Record that beat scheduled and a worker ran this job."""
    beat = heartbeat_record()
    logger.info("heartbeat #%s at %s: worker and beat are running", beat.count, beat.beat_at)
