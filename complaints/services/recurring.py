"""Recurring problems (issue 16 item 2): alert managers once per burst of one cause.

A key is a root cause (counted by when it was recorded, `root_cause_recorded_at`) or a
category and product (counted by when the complaint was first made, `first_made_at`).
When at least REDRESS_RECURRING_THRESHOLD (N) cases of one key fall within the last
REDRESS_RECURRING_WINDOW_WORKING_DAYS (M) working days, one RecurringProblemAlert is
stored, listing the cases, and the managers get one StaffAlert (the deadline jobs' alert
list, audience "managers") on the case that reached N. The alert stays open while the
count stays at N or more; the first run that counts fewer ends it, and only then can the
same key raise a new alert (the rule: complaints/domain/recurring.py). Two runs, or a
run after days of downtime, raise nothing twice (a partial unique constraint allows one
open burst per key). Helps managers spot a systemic problem behind complaints (Ofcom GC
C4: complaints handled effectively; no COP rule asks for this, it is issue 16).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from complaints import clocks
from complaints.domain.recurring import END, KEEP, RAISE, burst_started_at, burst_step, window_start
from complaints.models import Complaint, RecurringProblemAlert, StaffAlert

Kind = RecurringProblemAlert.Kind
STAFF_ALERT_KIND = "recurring_problem"


@dataclass
class _Group:
    kind: str
    key: str
    name: str
    # (when it counted, reference, complaint id, department), in time order once sorted.
    cases: list[tuple[datetime, str, int, str]] = field(default_factory=list)


def recurring_threshold() -> int:
    return max(1, int(settings.REDRESS_RECURRING_THRESHOLD))


def recurring_window_working_days() -> int:
    return max(1, int(settings.REDRESS_RECURRING_WINDOW_WORKING_DAYS))


def _groups(start: datetime, now: datetime) -> dict[tuple[str, str], _Group]:
    """Read the window's cases in two indexed range queries, grouped by key."""
    groups: dict[tuple[str, str], _Group] = {}

    def add(kind, key, name, row):
        group = groups.get((kind, key))
        if group is None:
            group = groups[(kind, key)] = _Group(kind, key, name)
        group.cases.append(row)

    causes = Complaint.objects.filter(
        root_cause_recorded_at__gte=start,
        root_cause_recorded_at__lte=now,
        root_cause__isnull=False,
    ).values_list(
        "root_cause__code", "root_cause__name", "root_cause_recorded_at", "reference", "pk",
        "department",
    )  # fmt: skip
    for code, name, at, reference, pk, department in causes.iterator(chunk_size=2000):
        add(Kind.ROOT_CAUSE, code, name, (at, reference, pk, department))
    made = Complaint.objects.filter(
        first_made_at__gte=start, first_made_at__lte=now, category__isnull=False
    ).values_list(
        "category__code", "category__name", "product__code", "product__name", "first_made_at",
        "reference", "pk", "department",
    )  # fmt: skip
    for c_code, c_name, p_code, p_name, at, reference, pk, department in made.iterator(
        chunk_size=2000
    ):
        key = f"{c_code}/{p_code or ''}"
        name = f"{c_name}, {p_name}" if p_name else f"{c_name}, no product"
        add(Kind.CATEGORY_PRODUCT, key, name, (at, reference, pk, department))
    for group in groups.values():
        group.cases.sort()
    return groups


def _message(group: _Group, days: int) -> str:
    what = "root cause" if group.kind == Kind.ROOT_CAUSE else "category and product"
    refs = [reference for _, reference, _, _ in group.cases]
    head = (
        f"Recurring problem, {what} {group.name}: {len(refs)} complaints in {days} working days: "
    )
    shown = []
    for i, reference in enumerate(refs):
        rest = len(refs) - i
        more = f" and {rest - 1} more" if rest > 1 else ""
        if len(head) + len(", ".join([*shown, reference])) + len(more) > 300:
            return head + ", ".join(shown) + f" and {rest} more"
        shown.append(reference)
    return head + ", ".join(shown)


def _raise(group: _Group, started_at: datetime, now: datetime, days: int) -> bool:
    """Store the burst's alert and alert the managers; False if another run raised it."""
    message = _message(group, days)
    trigger = next(case for case in group.cases if case[0] == started_at)
    try:
        with transaction.atomic():
            RecurringProblemAlert.objects.create(
                kind=group.kind,
                key=group.key,
                burst_started_at=started_at,
                raised_at=now,
                last_seen_at=now,
                references=[reference for _, reference, _, _ in group.cases],
                message=message,
            )
            StaffAlert.objects.bulk_create(
                [
                    StaffAlert(
                        complaint_id=trigger[2],
                        kind=STAFF_ALERT_KIND,
                        deadline_at=started_at,
                        audience=StaffAlert.Audience.MANAGERS,
                        department=trigger[3],
                        message=message,
                        created_at=now,
                    )
                ],
                ignore_conflicts=True,
            )
    except IntegrityError:
        return False
    return True


def recurring_problems_check(*, now: datetime | None = None, dry_run: bool = False) -> list[str]:
    """Raise one alert per new burst, keep open ones counted, end those below N.

    Returns one line per alert raised or ended ("would ..." on a dry run, which changes
    nothing). Queries: two range reads of the window, one of the open alerts, a few per
    alert raised, and two updates — none per complaint.
    """
    now = now or timezone.now()
    days = recurring_window_working_days()
    threshold = recurring_threshold()
    start = window_start(now, days, clocks.calendar())
    groups = _groups(start, now)
    open_alerts = {
        (a.kind, a.key): a for a in RecurringProblemAlert.objects.filter(ended_at__isnull=True)
    }
    lines, keep, end = [], [], []
    for kind_key in sorted(set(groups) | set(open_alerts)):
        group = groups.get(kind_key)
        started = burst_started_at(
            [c[0] for c in group.cases] if group else [], start=start, threshold=threshold
        )
        step = burst_step(open_alert=kind_key in open_alerts, started_at=started)
        if step == RAISE:
            if dry_run:
                lines.append(f"would alert managers: {_message(group, days)}")
            elif _raise(group, started, now, days):
                lines.append(f"alerted managers: {_message(group, days)}")
        elif step == KEEP:
            keep.append(open_alerts[kind_key].pk)
        elif step == END:
            alert = open_alerts[kind_key]
            end.append(alert.pk)
            verb = "would end" if dry_run else "ended"
            lines.append(f"{verb}: fewer than {threshold} in the window now ({alert.message[:80]})")
    if not dry_run:
        if keep:
            RecurringProblemAlert.objects.filter(pk__in=keep).update(last_seen_at=now)
        if end:
            RecurringProblemAlert.objects.filter(pk__in=end, ended_at__isnull=True).update(
                ended_at=now
            )
    return lines
