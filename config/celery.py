"""The Celery app. Broker from CELERY_BROKER_URL: Redis in production, the filesystem by default."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("redress")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _prepare_filesystem_broker(sender, **kwargs):
    """Create the filesystem broker's folders, which kombu expects to exist."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_finalize.connect
def _install_beat_schedule(sender, **kwargs):
    """Install every periodic job; the schedule lives in one place, config/schedule.py."""
    from config.schedule import beat_schedule

    sender.conf.beat_schedule = beat_schedule()
