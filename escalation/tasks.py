"""Celery tasks of the formal procedure: thin wrappers over one service each."""

import logging

from celery import shared_task

from escalation.services import adr_remedies_chase

logger = logging.getLogger(__name__)


@shared_task(name="escalation.tasks.adr_remedies_chase", ignore_result=True)
def adr_remedies_chase_task():
    """Chase ADR remedies the company accepted and has not yet carried out (COP-18)."""
    for line in adr_remedies_chase():
        logger.info("%s", line)
