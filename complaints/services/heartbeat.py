"""The heartbeat: proof that beat schedules and a worker runs jobs."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from complaints.models import Heartbeat
from complaints.selectors import HEARTBEAT_NAME


@transaction.atomic
def heartbeat_record(*, name: str = HEARTBEAT_NAME) -> Heartbeat:
    """Store the time of this beat and count it."""
    now = timezone.now()
    updated = Heartbeat.objects.filter(name=name).update(beat_at=now, count=F("count") + 1)
    if not updated:
        Heartbeat.objects.get_or_create(name=name, defaults={"beat_at": now, "count": 1})
    return Heartbeat.objects.get(name=name)
