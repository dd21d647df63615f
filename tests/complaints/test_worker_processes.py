"""A real Celery worker and beat, as separate processes, run the heartbeat job.

Runs on whatever broker the suite is configured with: the filesystem broker by default,
Redis when CELERY_BROKER_URL is set (as in CI).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from complaints.models import Heartbeat

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "celery", "-A", "config", *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_real_worker_and_beat_record_heartbeats(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(),
        "REDRESS_VAR_DIR": str(tmp_path),  # a broker folder and beat schedule of its own
        "REDRESS_HEARTBEAT_SECONDS": "1",
    }
    worker = _start(
        [
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "1",
            "--hostname",
            f"t{uuid.uuid4().hex}@%h",
        ],
        env,
        tmp_path / "worker.log",
    )
    beat = _start(
        ["beat", "--loglevel", "INFO", "--schedule", str(tmp_path / "beat-schedule")],
        env,
        tmp_path / "beat.log",
    )
    try:
        deadline = time.monotonic() + 90  # waiting for processes to start, not for a clock
        beats = 0
        while time.monotonic() < deadline and beats < 2:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert beat.poll() is None, (tmp_path / "beat.log").read_text()
            time.sleep(0.5)
            row = Heartbeat.objects.filter(name="beat").first()
            beats = row.count if row else 0
    finally:
        _stop(beat)
        _stop(worker)
    logs = (tmp_path / "worker.log").read_text() + (tmp_path / "beat.log").read_text()
    assert beats >= 2, logs
    assert "worker and beat are running" in (tmp_path / "worker.log").read_text()
