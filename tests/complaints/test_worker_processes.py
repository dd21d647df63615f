"""A real Celery worker and beat, as separate processes, run the heartbeat job.

Runs on whatever broker the suite is configured with: the filesystem broker by default,
Redis when CELERY_BROKER_URL is set (as in CI).
"""

import pytest

from complaints.models import Heartbeat
from tests.complaints.processes import CeleryProcesses


def _beats() -> int:
    row = Heartbeat.objects.filter(name="beat").first()
    return row.count if row else 0


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_real_worker_and_beat_record_heartbeats(tmp_path):
    with CeleryProcesses(tmp_path, REDRESS_HEARTBEAT_SECONDS="1") as celery:
        celery.worker()
        celery.beat()
        # Waiting for processes to start, not for a clock.
        celery.wait_until(lambda: _beats() >= 2, "two heartbeats")
    assert "worker and beat are running" in celery.logs["worker"].read_text(), celery.output()
