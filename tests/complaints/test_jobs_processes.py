"""The deadline jobs run by a real Celery worker and beat: each job done once, never lost.

Complaints are logged as first made weeks or months ago, so their deadlines have already
passed when the processes start; the tests wait for processes, never for a clock (no
time travel across processes). Runs on the suite's database and broker: SQLite and the
filesystem broker by default, PostgreSQL and Redis when DATABASE_URL and
CELERY_BROKER_URL are set.
"""

from __future__ import annotations

import re
import time
import warnings
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.models import ContactMethod
from complaints.models import (
    AlarmKind,
    Attachment,
    CaseEvent,
    Complaint,
    Correspondence,
    DeadlineAlarm,
    DeliveryChannel,
    DeliveryState,
    Heartbeat,
    Notice,
    NoticeKind,
    OutboxMessage,
    StaffAlert,
)
from complaints.selectors import HEARTBEAT_NAME
from tests.complaints.factories import complaint_make
from tests.complaints.processes import CeleryProcesses

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

# Each clock event's reason starts with the job that wrote it (complaints.services.enforcement).
CLOCK_REASONS = {
    "Response overdue (COP-12)": AlarmKind.RESPONSE_OVERDUE,
    "Phone promise missed (COP-04)": AlarmKind.PHONE_PROMISE,
    "Progress update due (COP-13)": AlarmKind.PROGRESS_UPDATE,
    "Resolution target (COP-14)": AlarmKind.RESOLUTION_TARGET,
    "ADR point (COP-16)": AlarmKind.ADR_LETTER,
    "Ombudsman deadline warning (COP-18)": AlarmKind.OSC_WARNING,
    "Ombudsman referral window closed": AlarmKind.OSC_CLOSED,
}
# The alerts of an overdue response with nobody assigned: COP-12 (department and
# managers) and COP-13 (the department queue, as nobody has the complaint).
OVERDUE_ALERTS = {
    (AlarmKind.RESPONSE_OVERDUE, StaffAlert.Audience.DEPARTMENT),
    (AlarmKind.RESPONSE_OVERDUE, StaffAlert.Audience.MANAGERS),
    (AlarmKind.PROGRESS_UPDATE, StaffAlert.Audience.DEPARTMENT),
}
DELIVERED = {
    DeliveryChannel.EMAIL: DeliveryState.SENT,
    DeliveryChannel.PORTAL: DeliveryState.SENT,
    DeliveryChannel.POST: DeliveryState.TO_POST,
    DeliveryChannel.PHONE: DeliveryState.TO_CALL,
}
ADR = NoticeKind.ADR_LETTER
OSC = NoticeKind.OSC_WARNING
# name: (customer fields, first made this many weeks ago, notices, channels of each).
# 10 weeks: response overdue, progress update, resolution target missed, ADR point.
# 36 weeks: also the ombudsman warning (9 months less 4 weeks); 43: the window closed too.
CASES = {
    "email": ({}, 10, {ADR}, ("email",)),
    "post": ({"preferred_contact_method": ContactMethod.POST}, 10, {ADR}, ("post",)),
    "portal": (
        {"preferred_contact_method": ContactMethod.PORTAL, "with_user": True},
        10,
        {ADR},
        ("portal",),
    ),
    "phone": ({"preferred_contact_method": ContactMethod.PHONE}, 10, {ADR}, ("phone", "email")),
    "large business": ({"business_large": True}, 10, set(), ()),
    "osc warning": ({}, 36, {ADR, OSC}, ("email",)),
    "osc closed": ({}, 43, {ADR, OSC}, ("email",)),
}
MESSAGE_ID = re.compile(rb"^Message-ID: (<notice-[^>]+>)", re.MULTILINE | re.IGNORECASE)


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "REDRESS_SWEEP_SECONDS": "1",
        "REDRESS_OUTBOX_SECONDS": "1",
        "REDRESS_HEARTBEAT_SECONDS": "1",
        "REDRESS_TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "REDRESS_TEST_EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }


def _due_alarms():
    return DeadlineAlarm.objects.filter(due_at__lte=timezone.now())


def _unsent(exclude=()):
    return OutboxMessage.objects.filter(
        state__in=[DeliveryState.PENDING, DeliveryState.SENDING]
    ).exclude(pk__in=list(exclude))


def _all_done(stuck=()) -> bool:
    """No alarm is due and nothing waits in the outbox (but `stuck`: a killed sender's)."""
    return not _due_alarms().exists() and not _unsent(stuck).exists()


def _state() -> dict:
    """What is left to do, for a timeout's message."""
    return {
        "due alarms": Counter(_due_alarms().values_list("kind", flat=True)),
        "outbox": Counter(OutboxMessage.objects.values_list("state", flat=True)),
        "notices": Notice.objects.count(),
        "heartbeats": _beats(),
    }


def _beats() -> int:
    row = Heartbeat.objects.filter(name=HEARTBEAT_NAME).first()
    return row.count if row else 0


def _more_beats(celery: CeleryProcesses, n: int) -> None:
    """Let `n` more heartbeats pass: jobs scheduled meanwhile have had their chance to run."""
    start = _beats()
    celery.wait_until(lambda: _beats() >= start + n, f"{n} more heartbeats", state=_state)


def _mail_ids(mail_dir: Path) -> Counter:
    """Count the notice Message-IDs in the files the filebased email backend wrote."""
    found = Counter()
    for path in mail_dir.glob("*.log") if mail_dir.exists() else ():
        found.update(m.decode() for m in MESSAGE_ID.findall(path.read_bytes()))
    return found


def _clock_events() -> Counter:
    """Count the clock events per (complaint, job), and fail on a reason of no known job."""
    found = Counter()
    for complaint_id, reason in CaseEvent.objects.filter(kind=CaseEvent.Kind.CLOCK).values_list(
        "complaint_id", "reason"
    ):
        kinds = [kind for prefix, kind in CLOCK_REASONS.items() if reason.startswith(prefix)]
        assert len(kinds) == 1, f"clock event of no known job: {reason!r}"
        found[complaint_id, kinds[0]] += 1
    return found


def _make_cases(*, extra: int = 0) -> dict[str, tuple[Complaint, tuple]]:
    """Log one complaint per case of CASES; return them by name, with their case.

    `extra` more email customers, first made 10 to 30 weeks ago, make a sweep last longer.
    """
    cases = dict(CASES)
    for i in range(extra):
        cases[f"extra {i}"] = ({}, 10 + 20 * i / extra, {ADR}, ("email",))
    now = timezone.now()
    made = {}
    for name, case in cases.items():
        fields, weeks, _, _ = case
        made[name] = (complaint_make(first_made_at=now - timedelta(weeks=weeks), **fields), case)
    return made


def _due_jobs() -> set[tuple[int, str]]:
    return set(_due_alarms().values_list("complaint_id", "kind"))


def _assert_each_job_once(cases, due_jobs, tmp_path: Path, celery: CeleryProcesses) -> None:
    """Every due job ran once: one notice, delivery, alert, history row and email each."""
    logs = celery.output()
    ids = {name: complaint.pk for name, (complaint, _) in cases.items()}
    # The jobs the fixture was meant to make due, so the checks below are about something.
    for name, pk in ids.items():
        kinds = {kind for cid, kind in due_jobs if cid == pk}
        assert {
            AlarmKind.RESPONSE_OVERDUE,
            AlarmKind.PROGRESS_UPDATE,
            AlarmKind.RESOLUTION_TARGET,
            AlarmKind.ADR_LETTER,
        } <= kinds, name
    assert not _due_alarms().exists(), logs

    # One history row per job per complaint: no job ran twice, none was skipped.
    assert _clock_events() == Counter(dict.fromkeys(due_jobs, 1)), logs

    # Exactly one notice per complaint and kind, and the ones expected.
    notices = Counter(Notice.objects.values_list("complaint_id", "kind"))
    expected_notices = {
        (ids[name], kind) for name, (_, (_, _, kinds, _)) in cases.items() for kind in kinds
    }
    assert notices == Counter(dict.fromkeys(expected_notices, 1)), logs

    # One outbox message per notice and channel, each delivered as its channel is.
    messages = list(OutboxMessage.objects.select_related("notice"))
    expected_messages = {
        (ids[name], kind, channel)
        for name, (_, (_, _, kinds, channels)) in cases.items()
        for kind in kinds
        for channel in channels
    }
    got = Counter((m.notice.complaint_id, m.notice.kind, m.channel) for m in messages)
    assert got == Counter(dict.fromkeys(expected_messages, 1)), logs
    for m in messages:
        assert m.state == DELIVERED[m.channel], (m, m.last_error, logs)
        assert (m.letter_id is not None) == (m.channel == DeliveryChannel.POST), m
    # Each delivery's history row written once (a phone call waits for staff: none yet).
    delivered = Counter(
        e["outbox_id"]
        for e in CaseEvent.objects.filter(kind=CaseEvent.Kind.NOTICE).values_list(
            "extra", flat=True
        )
        if "outbox_id" in e
    )
    assert delivered == Counter(
        {m.pk: 1 for m in messages if m.channel != DeliveryChannel.PHONE}
    ), logs

    # Portal messages and letters written once, with the letter's PDF on disk.
    portal = Counter(
        Correspondence.objects.filter(direction="out", channel="portal").values_list(
            "complaint_id", flat=True
        )
    )
    assert portal == Counter(
        m.notice.complaint_id for m in messages if m.channel == DeliveryChannel.PORTAL
    ), logs
    # Every letter PDF belongs to a notice (where each notice is printed) or to a posted
    # message, and none was printed twice.
    letters = list(Attachment.objects.filter(kind=Attachment.Kind.LETTER_SENT))
    posted = [m.letter_id for m in messages if m.channel == DeliveryChannel.POST]
    assert len(set(posted)) == len(posted), posted
    printed = {getattr(n, "letter_id", None) for n in Notice.objects.all()} - {None}
    assert sorted(a.pk for a in letters) == sorted(printed | set(posted)), logs
    for letter in letters:
        pdf = tmp_path / "media" / letter.file.name
        assert pdf.read_bytes().startswith(b"%PDF"), letter

    # Staff alerted once per breach and audience: COP-12 to department and managers.
    alerts = Counter(StaffAlert.objects.values_list("complaint_id", "kind", "audience"))
    expected_alerts = {
        (pk, kind, audience) for pk in ids.values() for kind, audience in OVERDUE_ALERTS
    }
    assert alerts == Counter(dict.fromkeys(expected_alerts, 1)), logs

    # One email per email delivery: each Message-ID in the mail folder exactly once.
    emails = {m.message_id for m in messages if m.channel == DeliveryChannel.EMAIL}
    assert all(emails), emails
    assert _mail_ids(tmp_path / "mail") == Counter(dict.fromkeys(emails, 1)), logs


def test_worker_and_beat_run_every_job_once(tmp_path):
    cases = _make_cases()
    due_jobs = _due_jobs()
    with CeleryProcesses(tmp_path, **_env(tmp_path)) as celery:
        celery.worker()
        celery.beat()
        celery.wait_until(
            _all_done, "every due alarm fired and every notice delivered", state=_state
        )
        _more_beats(celery, 3)  # further sweeps find nothing left to do
    _assert_each_job_once(cases, due_jobs, tmp_path, celery)


SUCCEEDED = re.compile(
    r"^\[(?P<at>[\d-]+ [\d:]+,\d+): INFO/(?P<process>[\w-]+)\] "
    r"Task complaints\.tasks\.enforce_deadlines\[[\w-]+\] succeeded in (?P<took>[\d.e-]+)s",
    re.MULTILINE,
)


def _overlapping_sweeps(worker_log: str) -> list[tuple[str, str]]:
    """Return pairs of sweeps that ran at the same time in different pool processes."""
    runs = []
    for m in SUCCEEDED.finditer(worker_log):
        end = datetime.strptime(m["at"], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        runs.append((end - float(m["took"]), end, m["process"], m[0]))
    return [
        (a[3], b[3])
        for i, a in enumerate(runs)
        for b in runs[i + 1 :]
        if a[2] != b[2] and a[0] < b[1] and b[0] < a[1]
    ]


def test_two_beats_make_no_duplicates(tmp_path):
    cases = _make_cases(extra=200)  # so that one sweep takes a while
    due_jobs = _due_jobs()
    with CeleryProcesses(tmp_path, **_env(tmp_path)) as celery:
        celery.beat("beat-1")
        celery.beat("beat-2")
        # Both beats have queued a sweep before the worker starts: its two pool processes
        # then sweep the same due alarms at the same time.
        celery.wait_until(
            lambda: all(
                "Sending due task enforce-deadlines" in celery.logs[name].read_text()
                for name in ("beat-1", "beat-2")
            ),
            "both beats to send a sweep",
            interval=0.1,
        )
        celery.worker(concurrency=2)
        celery.wait_until(
            _all_done, "every due alarm fired and every notice delivered", state=_state
        )
        _more_beats(celery, 6)  # two beats: about three seconds of doubled sweeps
    for name in ("beat-1", "beat-2"):
        text = celery.logs[name].read_text()
        assert text.count("Sending due task enforce-deadlines") >= 2, celery.output()
    _assert_each_job_once(cases, due_jobs, tmp_path, celery)
    if not _overlapping_sweeps(celery.logs["worker"].read_text()):
        # Timing decides whether the two sweeps overlapped this time; the guarantees above
        # hold either way, so this is reported rather than failed.
        warnings.warn("the two beats' sweeps did not overlap in this run", stacklevel=1)


def _make_many(n: int) -> list[Complaint]:
    """Log `n` complaints whose first-made times spread over 9 to 30 weeks ago.

    Spread out, their due alarms interleave (one complaint's ADR point falls between
    others' response deadlines), so notices are written all through a sweep.
    """
    now = timezone.now()
    span = timedelta(weeks=21)
    return [complaint_make(first_made_at=now - timedelta(weeks=9) - span * i / n) for i in range(n)]


def test_worker_killed_mid_sweep_still_one_notice_per_event(tmp_path):
    complaints = _make_many(200)
    ids = {c.pk for c in complaints}
    due_jobs = _due_jobs()
    assert len(due_jobs) == 4 * len(ids)  # response, progress, resolution, ADR point
    expected = len(ids)  # one ADR letter each: consumers with an email address
    with CeleryProcesses(tmp_path, **_env(tmp_path)) as celery:
        celery.worker("worker-1")
        celery.beat()
        # Kill once the sweep has written a quarter of the notices, polling often to catch it
        # midway.
        celery.wait_until(
            lambda: Notice.objects.count() >= expected // 4,
            "a quarter of the notices",
            interval=0.05,
            state=_state,
        )
        celery.kill("worker-1")  # SIGKILL its process group: no warm shutdown, no cleanup
        at_kill = Notice.objects.count()
        due_at_kill = _due_alarms().count()
        stuck = set(
            OutboxMessage.objects.filter(state=DeliveryState.SENDING).values_list("pk", flat=True)
        )
        print(f"killed mid-sweep: {at_kill} of {expected} notices, {due_at_kill} alarms due")
        assert 0 < at_kill < expected, (at_kill, celery.output())
        assert 0 < due_at_kill < len(due_jobs), (due_at_kill, celery.output())
        time.sleep(1)  # a sweep or two from beat queue up while no worker runs
        celery.worker("worker-2")
        celery.wait_until(
            lambda: _all_done(stuck),
            "the new worker to finish the sweep and the outbox",
            state=_state,
        )
        _more_beats(celery, 3)
    logs = celery.output()

    # Nothing lost, nothing twice: one ADR letter per complaint, for its ADR point.
    notices = Counter(Notice.objects.values_list("complaint_id", "kind", "deadline_at"))
    assert set(notices.values()) == {1}, logs
    assert sum(notices.values()) == expected, (at_kill, logs)
    adr_points = dict(Complaint.objects.filter(pk__in=ids).values_list("pk", "adr_eligible_at"))
    assert set(notices) == {(pk, ADR, at) for pk, at in adr_points.items()}, logs
    assert not _due_alarms().filter(complaint_id__in=ids).exists(), logs
    assert _clock_events() == Counter(dict.fromkeys(due_jobs, 1)), (at_kill, logs)
    alerts = Counter(StaffAlert.objects.values_list("complaint_id", "kind", "audience"))
    assert alerts == Counter(
        {(pk, kind, audience): 1 for pk in ids for kind, audience in OVERDUE_ALERTS}
    ), logs

    # Every notice delivered once; an email could go twice only if its sender was killed
    # between handing it to the mail server and marking it sent (then: same Message-ID).
    messages = list(OutboxMessage.objects.all())
    assert len(messages) == expected, logs
    assert all(m.state == DeliveryState.SENT for m in messages if m.pk not in stuck), logs
    mail = _mail_ids(tmp_path / "mail")
    for m in messages:
        if m.pk not in stuck:
            assert mail[m.message_id] == 1, (m.message_id, mail[m.message_id], logs)
    assert sum(mail.values()) <= len(messages) + len(stuck), logs
