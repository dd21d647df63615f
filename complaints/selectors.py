"""Read-side queries for complaints."""

from __future__ import annotations

from complaints.models import Heartbeat

HEARTBEAT_NAME = "beat"


def heartbeat_latest() -> Heartbeat | None:
    """Return the latest heartbeat written by the beat job, if any."""
    return Heartbeat.objects.filter(name=HEARTBEAT_NAME).first()
