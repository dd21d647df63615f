"""Webhooks to a real receiver process on 127.0.0.1: down for a while, then a worker restart.

The receiver is an http.server in a subprocess writing what it receives to a file; every
request is checked with standardwebhooks' own verifier. Sweeps are run in-process (with
the clock moved by time-machine) or by a real Celery worker and beat.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts.integrations import integration_create
from accounts.roles import Role
from complaints.domain.lifecycle import Status
from complaints.models import WebhookDelivery
from complaints.services.transitions import complaint_transition
from complaints.webhooks.delivery import webhooks_dispatch
from complaints.webhooks.subscriptions import webhook_subscription_create
from tests.complaints.factories import complaint_make
from tests.complaints.processes import CeleryProcesses

RECEIVER = Path(__file__).with_name("webhook_receiver.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """The receiver subprocess; start() and stop() it as the test needs."""

    def __init__(self, tmp_path: Path):
        self.port = _free_port()
        self.file = tmp_path / "received.jsonl"
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self):
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, str(RECEIVER), str(self.port), str(self.file)]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # waiting for a process, not for a deadline
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the receiver did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def received(self) -> list[dict]:
        if not self.file.exists():
            return []
        return [json.loads(line) for line in self.file.read_text().splitlines()]


@pytest.fixture
def receiver(tmp_path):
    r = Receiver(tmp_path)
    yield r
    r.stop()


def _subscribe(url: str, events: list[str]):
    integration = integration_create(name="CRM", role=Role.SENIOR_MANAGER)
    return webhook_subscription_create(integration=integration, url=url, event_types=events)


def _verified(request: dict, secret: str) -> dict:
    """Return the payload of a received request after checking its signature."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    return Webhook(secret).verify(request["body"], headers) | {"_id": headers["webhook-id"]}


@pytest.mark.django_db
def test_receiver_down_then_up_gets_each_event_once_with_the_same_id(receiver, settings):
    settings.REDRESS_WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    made = _subscribe(receiver.url, ["complaint.created", "complaint.status_changed"])
    complaint = complaint_make()
    complaint_transition(
        complaint=complaint, to=Status.ACKNOWLEDGED, actor=None, reason="Acknowledged."
    )
    rows = {r.webhook_id: r.event_type for r in WebhookDelivery.objects.all()}
    assert sorted(rows.values()) == ["complaint.created", "complaint.status_changed"]

    now = timezone.now()
    assert [o for _d, o in webhooks_dispatch(now=now)] == ["retry", "retry"]  # receiver down
    assert all(
        "Connection" in r.last_error or "refused" in r.last_error.lower()
        for r in WebhookDelivery.objects.all()
    )
    assert webhooks_dispatch(now=now + timedelta(seconds=30)) == []  # waiting out backoff
    receiver.start()
    later = now + timedelta(minutes=1)
    with time_machine.travel(later, tick=False):  # the receiver checks timestamps against now
        assert [o for _d, o in webhooks_dispatch(now=later)] == ["delivered", "delivered"]
        got = [_verified(r, made.secret) for r in receiver.received()]
    assert webhooks_dispatch(now=later + timedelta(hours=2)) == []
    assert {g["_id"]: g["type"] for g in got} == rows
    assert all(g["data"]["reference"] == complaint.reference for g in got)
    assert {r.attempts for r in WebhookDelivery.objects.all()} == {2}


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_worker_and_beat_deliver_each_event_once_across_a_worker_restart(receiver, tmp_path):
    made = _subscribe_allowed(receiver.url)
    env = {
        "REDRESS_WEBHOOK_SECONDS": "1",
        "REDRESS_SWEEP_SECONDS": "3600",
        "REDRESS_OUTBOX_SECONDS": "3600",
        "REDRESS_HEARTBEAT_SECONDS": "3600",
        "REDRESS_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    }
    first = complaint_make()  # queued before any process runs, receiver down
    with CeleryProcesses(tmp_path, **env) as celery:
        celery.worker("worker")
        celery.beat()

        def attempted():
            return WebhookDelivery.objects.filter(attempts__gte=1).exists()

        celery.wait_until(attempted, "a first attempt while the receiver is down")
        assert not WebhookDelivery.objects.filter(delivered_at__isnull=False).exists()
        celery.stop("worker")
        receiver.start()
        # The failed row is still due (a minute's backoff); move it to now, as a sweep
        # a minute later would find it, so the test waits for processes, not the clock.
        WebhookDelivery.objects.filter(delivered_at__isnull=True).update(
            next_attempt_at=timezone.now()
        )
        second = complaint_make()  # changed while no worker runs
        celery.worker("worker-again")

        def all_delivered():
            return not WebhookDelivery.objects.filter(delivered_at__isnull=True).exists()

        celery.wait_until(all_delivered, "every webhook delivered after the restart")
        time.sleep(3)  # a few more beats (1 s each): nothing is sent again
    received = [_verified(r, made.secret) for r in receiver.received()]
    ids = Counter(g["_id"] for g in received)
    rows = {r.webhook_id: r for r in WebhookDelivery.objects.all()}
    assert set(ids) == set(rows) and set(ids.values()) == {1}, ids
    assert sorted(g["data"]["reference"] for g in received) == sorted(
        [first.reference, second.reference]
    )
    assert (
        rows[next(g["_id"] for g in received if g["data"]["reference"] == first.reference)].attempts
        >= 2
    )


def _subscribe_allowed(url):
    from django.test import override_settings

    with override_settings(REDRESS_WEBHOOK_ALLOW_PRIVATE_TARGETS=True):
        return _subscribe(url, ["complaint.created"])
