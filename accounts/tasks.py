"""Celery tasks of accounts: thin wrappers over one service each. Schedules: config/schedule.py."""

import logging

from celery import shared_task

from accounts.retention import retention_sweep as retention_sweep_run

logger = logging.getLogger(__name__)


@shared_task(name="accounts.tasks.retention_sweep", ignore_result=True)
def retention_sweep():
    """Anonymise customers whose retention period has ended (UK GDPR); safe to run twice."""
    for line in retention_sweep_run():
        logger.info("%s", line)


@shared_task(name="accounts.tasks.sar_alerts_sweep", ignore_result=True)
def sar_alerts_sweep():
    """Alert before a subject access request is due and when it is overdue; each alert once."""
    from accounts.sar import sar_alerts_sweep as sar_alerts_sweep_run

    for line in sar_alerts_sweep_run():
        logger.info("%s", line)


@shared_task(name="accounts.tasks.representatives_expire", ignore_result=True)
def representatives_expire():
    """Record in each case's history the representatives' authorities that have ended."""
    from accounts.representatives import representatives_expire as run

    done = run()
    if done:
        logger.info("%s representatives' authorities recorded as expired", done)
