"""Every periodic job in one place, with why it runs as often as it does."""

from django.conf import settings


def beat_schedule() -> dict:
    """Return Celery beat's schedule, built from settings."""
    return {
        # Proves that beat is ticking and a worker is consuming: each run stores the time
        # it ran, shown at /healthz. Every minute by default, so a stall shows quickly.
        "heartbeat": {
            "task": "complaints.tasks.heartbeat",
            "schedule": settings.REDRESS_HEARTBEAT_SECONDS,
        },
    }
