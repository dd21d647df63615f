"""The background bundle machinery shared by the ombudsman's case file and subject access.

Issue 16 item 5 (and issue 15 item 5): one bundle waits per subject and kind, a build is
safe to run twice, a failure leaves the reason and no file, progress is shown without
JavaScript, and a download is only for staff who may see the subject, and is recorded.
"""

import zipfile
from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from complaints import bundles
from complaints.bundles import bundle_build, bundle_request, bundles_sweep, register_builder
from complaints.models import Bundle, BundleKind, BundleState, CaseEvent, Department
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
KIND = BundleKind.SUBJECT_ACCESS  # any kind: the test registers its own builder


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path / "media"


@pytest.fixture
def builder():
    """Register a small builder for KIND for one test, then put back what was there."""
    saved = dict(bundles._REGISTRY)
    calls = []

    def build(bundle, archive, progress):
        calls.append(bundle.pk)
        progress(0, 2)
        archive.writestr("one.txt", f"complaint {bundle.complaint.reference}")
        progress(1, 2)
        archive.writestr("folder/two.txt", "second")
        progress(2, 2)

    register_builder(KIND, build)
    yield calls
    bundles._REGISTRY.clear()
    bundles._REGISTRY.update(saved)


def _history(complaint):
    return list(
        CaseEvent.objects.filter(complaint=complaint, kind=CaseEvent.Kind.BUNDLE).order_by("seq")
    )


def test_a_second_request_while_one_waits_is_the_same_bundle(builder):
    complaint = complaint_make()
    manager = StaffUserFactory(role="senior_manager")
    first = bundle_request(kind=KIND, complaint=complaint, actor=manager)
    again = bundle_request(kind=KIND, complaint=complaint, actor=manager)
    assert again.pk == first.pk
    assert Bundle.objects.count() == 1
    assert [e.reason for e in _history(complaint)] == [f"{KIND.label}, version 1: requested."]
    assert _history(complaint)[0].actor == manager


def test_build_writes_the_zip_with_its_hash_and_a_new_request_makes_version_two(builder, media):
    complaint = complaint_make()
    manager = StaffUserFactory(role="senior_manager")
    first = bundle_request(kind=KIND, complaint=complaint, actor=manager)
    built = bundle_build(first.pk)
    assert built.state == BundleState.READY
    assert (built.progress_done, built.progress_total) == (2, 2)
    with built.file.open("rb") as handle:
        data = handle.read()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == built.sha256 and len(data) == built.size
    with zipfile.ZipFile(BytesIO(data)) as archive:
        assert archive.read("one.txt").decode() == f"complaint {complaint.reference}"
        assert archive.namelist() == ["one.txt", "folder/two.txt"]
    ready = _history(complaint)[-1]
    assert ready.extra["sha256"] == built.sha256 and ready.extra["event"] == "ready"

    # Running the build again changes nothing: one build, one "ready" in the history.
    assert bundle_build(first.pk).sha256 == built.sha256
    assert builder == [first.pk]
    assert [e.extra["event"] for e in _history(complaint)] == ["requested", "ready"]

    second = bundle_request(kind=KIND, complaint=complaint, actor=manager)
    assert second.pk != first.pk and second.version == 2
    bundle_build(second.pk)
    assert list(Bundle.objects.filter(complaint=complaint).values_list("version", "state")) == [
        (2, "ready"),
        (1, "ready"),
    ]  # both kept


def test_a_failing_builder_leaves_the_reason_and_no_file(media):
    saved = dict(bundles._REGISTRY)

    def broken(bundle, archive, progress):
        archive.writestr("half.txt", "x" * 1000)
        raise ValueError("attachment 7 is unreadable")

    register_builder(KIND, broken)
    try:
        complaint = complaint_make()
        bundle = bundle_request(kind=KIND, complaint=complaint, actor=StaffUserFactory())
        failed = bundle_build(bundle.pk)
        # A new request after a failure makes a new version.
        assert bundle_request(kind=KIND, complaint=complaint, actor=None).version == 2
    finally:
        bundles._REGISTRY.clear()
        bundles._REGISTRY.update(saved)
    assert failed.state == BundleState.FAILED
    assert failed.error == "ValueError: attachment 7 is unreadable"
    assert not failed.file and failed.sha256 == ""
    stored = media / "bundles"
    assert not stored.exists() or not any(p.is_file() for p in stored.rglob("*"))
    failure = [e for e in _history(complaint) if e.extra["event"] == "failed"]
    assert failure[0].reason.endswith("failed: ValueError: attachment 7 is unreadable")


def test_a_build_claimed_by_a_dead_worker_is_taken_over_after_the_time_limit(builder, settings):
    settings.CELERY_TASK_TIME_LIMIT = 300
    complaint = complaint_make()
    start = datetime(2026, 12, 7, 10, 0, tzinfo=LONDON)
    with time_machine.travel(start, tick=False):
        bundle = bundle_request(kind=KIND, complaint=complaint, actor=None)
        # A worker claimed it and died (SIGKILL): the row says building, nothing was written.
        Bundle.objects.filter(pk=bundle.pk).update(state=BundleState.BUILDING, started_at=start)
        assert bundle_build(bundle.pk).state == BundleState.BUILDING  # another may be on it
        assert builder == []
    with time_machine.travel(start + timedelta(minutes=3), tick=False):
        assert bundles_sweep() == []  # still within the claim
    with time_machine.travel(start + timedelta(minutes=7), tick=False):
        assert bundles_sweep() == [f"bundle {bundle.pk} {KIND} v1: ready"]
        assert bundles_sweep() == []


def test_the_sweep_builds_a_bundle_whose_message_was_lost(builder):
    complaint = complaint_make()
    start = datetime(2026, 12, 7, 10, 0, tzinfo=LONDON)
    with time_machine.travel(start, tick=False):
        bundle = bundle_request(kind=KIND, complaint=complaint, actor=None)
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        assert bundles_sweep() == []  # a worker should have it by now
    with time_machine.travel(start + timedelta(hours=5), tick=False):
        assert bundles_sweep() == [f"bundle {bundle.pk} {KIND} v1: ready"]


def test_progress_page_reloads_without_script_and_download_is_recorded(builder, client):
    complaint = complaint_make(department=Department.TECHNICAL_SUPPORT)
    agent = StaffUserFactory(role="support_agent")
    bundle = bundle_request(kind=KIND, complaint=complaint, actor=agent)
    client.force_login(agent)
    page = client.get(reverse("complaints:bundle-progress", args=[bundle.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'http-equiv="refresh"' not in html  # only when asked for (WCAG 2.2.1)
    auto = client.get(reverse("complaints:bundle-progress", args=[bundle.pk]), {"auto": "1"})
    assert '<meta http-equiv="refresh" content="3">' in auto.content.decode()
    assert "Stop reloading" in auto.content.decode()
    assert "Waiting for a worker to start" in html
    assert "<script>" not in html and "style=" not in html
    assert client.get(reverse("complaints:bundle-download", args=[bundle.pk])).status_code == 404

    bundle_build(bundle.pk)
    html = client.get(reverse("complaints:bundle-progress", args=[bundle.pk])).content.decode()
    assert 'http-equiv="refresh"' not in html and "Ready" in html
    response = client.get(reverse("complaints:bundle-download", args=[bundle.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert f"{complaint.reference}-subject-access-v1.zip" in response["Content-Disposition"]
    assert zipfile.ZipFile(BytesIO(b"".join(response.streaming_content))).namelist()
    downloaded = _history(complaint)[-1]
    assert (downloaded.extra["event"], downloaded.actor) == ("downloaded", agent)


def test_staff_of_another_department_get_404(builder, client):
    complaint = complaint_make(department=Department.TECHNICAL_SUPPORT)
    bundle = bundle_request(kind=KIND, complaint=complaint, actor=None)
    bundle_build(bundle.pk)
    client.force_login(StaffUserFactory(role="accounts_agent"))
    for name in ("complaints:bundle-progress", "complaints:bundle-download"):
        assert client.get(reverse(name, args=[bundle.pk])).status_code == 404
    assert _history(complaint)[-1].extra["event"] == "ready"  # no download recorded


def test_a_request_is_queued_for_a_worker_only_once_it_is_committed(
    builder, django_capture_on_commit_callbacks
):
    """The task is sent after commit (a rolled-back request queues nothing), once."""
    heard = []

    def receiver(sender, *, bundle_id, **kwargs):
        heard.append(bundle_id)

    bundles.bundle_queued.connect(receiver, dispatch_uid="test-bundle-queued")
    try:
        complaint = complaint_make()
        with django_capture_on_commit_callbacks(execute=True):
            bundle = bundle_request(kind=KIND, complaint=complaint, actor=None)
            assert heard == []  # not before commit
            bundle_request(kind=KIND, complaint=complaint, actor=None)  # the same one
        assert heard == [bundle.pk]
    finally:
        bundles.bundle_queued.disconnect(dispatch_uid="test-bundle-queued")


def test_a_bundle_whose_builder_is_gone_fails_with_that_reason(builder):
    complaint = complaint_make()
    bundle = bundle_request(kind=KIND, complaint=complaint, actor=None)
    bundles._REGISTRY.pop(str(KIND))  # e.g. a worker without the app that builds it
    failed = bundle_build(bundle.pk)
    assert failed.state == BundleState.FAILED
    assert failed.error == f"No builder is registered for '{KIND}'." and not failed.file
