"""A real Celery worker builds the ombudsman's case file queued on commit (issue 16 item 5).

Runs on the suite's database and broker (SQLite and the filesystem broker by default).
"""

import json
import zipfile
from pathlib import Path

import pytest
from django.conf import settings

from complaints.models import Bundle, BundleState
from complaints.services.desk import complaint_escalate
from config.celery import app
from escalation.services import case_file_produce
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make
from tests.complaints.processes import CeleryProcesses


@pytest.fixture
def shared_broker(tmp_path):
    """Send this process's tasks to the folder broker the test's worker reads."""
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        yield  # Redis: both already share it
        return
    saved = app.conf.broker_transport_options
    folders = {
        name: str(tmp_path / "broker" / sub)
        for name, sub in (
            ("data_folder_in", "queue"),
            ("data_folder_out", "queue"),
            ("processed_folder", "processed"),
            ("control_folder", "control"),
        )
    }
    for folder in set(folders.values()):
        Path(folder).mkdir(parents=True, exist_ok=True)
    app.conf.broker_transport_options = {**saved, **folders}
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_transport_options = saved
        app._pool = None
        app.amqp._producer_pool = None


@pytest.mark.processes
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_builds_the_case_file_requested_on_the_page(
    tmp_path, settings, shared_broker
):
    settings.MEDIA_ROOT = tmp_path / "media"
    director = StaffUserFactory(role="technical_director")
    complaint = complaint_escalate(
        complaint=complaint_make(), actor=None, requested="technical_director", reason="No."
    )
    with CeleryProcesses(tmp_path, DJANGO_MEDIA_ROOT=str(settings.MEDIA_ROOT)) as celery:
        celery.worker()
        bundle = case_file_produce(case=complaint.formal_case, actor=director)  # commits

        def ready():
            return Bundle.objects.filter(pk=bundle.pk, state=BundleState.READY).first()

        built = celery.wait_until(
            ready,
            "the worker built the case file",
            state=lambda: Bundle.objects.filter(pk=bundle.pk).values("state", "error").first(),
        )
    with built.file.open("rb") as handle, zipfile.ZipFile(handle) as archive:
        data = json.loads(archive.read("case.json"))
    assert data["complaint"]["reference"] == complaint.reference
    assert "bundle" in celery.logs["worker"].read_text(), celery.output()
