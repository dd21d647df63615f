"""Glue between settings, stored complaints and the pure clock rules in complaints.domain.

Every stored deadline on a Complaint is computed here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings

from complaints.domain import deadlines
from complaints.domain.calendar import OfficeCalendar, office_calendar
from complaints.domain.lifecycle import OPEN_STATUSES, Status


def _parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@lru_cache(maxsize=4)
def _calendar(country: str, subdiv: str, tz: str, opens: str, closes: str) -> OfficeCalendar:
    return office_calendar(
        country=country,
        subdiv=subdiv,
        tz=tz,
        opens=_parse_clock(opens),
        closes=_parse_clock(closes),
    )


def calendar() -> OfficeCalendar:
    """Return the office calendar configured in settings (region, hours, time zone)."""
    return _calendar(
        settings.REDRESS_HOLIDAY_COUNTRY,
        settings.REDRESS_HOLIDAY_SUBDIVISION,
        settings.TIME_ZONE,
        settings.REDRESS_OFFICE_OPENS,
        settings.REDRESS_OFFICE_CLOSES,
    )


def policy_for_new_complaint(first_made_at: datetime) -> deadlines.Policy:
    """Return the policy in force, under the configured set, when a complaint was first made."""
    return deadlines.policy_for(
        first_made_at, policy_set=settings.REDRESS_POLICY_SET, tz=ZoneInfo(settings.TIME_ZONE)
    )


@dataclass(frozen=True)
class StoredClocks:
    """The deadlines stored on a complaint, as of its current facts."""

    response_due_at: datetime
    resolution_target_at: datetime
    progress_update_due_at: datetime | None
    auto_close_at: datetime | None
    adr_eligible_at: datetime
    osc_deadline_at: datetime
    osc_warning_at: datetime
    next_due_at: datetime | None
    next_due_kind: str

    def as_fields(self) -> dict[str, datetime | None]:
        return dict(self.__dict__)


def clocks_compute(complaint) -> StoredClocks:
    """Compute every stored deadline of `complaint` from its facts and its own policy."""
    cal = calendar()
    policy = deadlines.policy_by_key(complaint.policy_key)
    first_made = complaint.first_made_at
    status = Status(complaint.status)

    response_due = deadlines.response_due(
        first_made,
        calendar=cal,
        policy=policy,
        contracted_working_days=complaint.contracted_response_working_days,
    )

    # COP-13: updates are due while a third party is awaited, or while the response is
    # late; every 2 working days from the later of that moment and the last update.
    progress_due = None
    progress_from = None
    if status == Status.AWAITING_THIRD_PARTY and complaint.awaiting_third_party_since:
        progress_from = complaint.awaiting_third_party_since
    elif complaint.first_responded_at is None and status not in (
        Status.CLOSED,
        Status.RESOLVED_AT_FIRST_CONTACT,
    ):
        progress_from = response_due
    if progress_from is not None:
        if complaint.last_progress_update_at and complaint.last_progress_update_at > progress_from:
            progress_from = complaint.last_progress_update_at
        progress_due = deadlines.progress_update_due(
            progress_from,
            calendar=cal,
            policy=policy,
            agreed_working_days=complaint.agreed_update_working_days,
        )

    # COP-10: the customer's 10 working days run from the later of our response and the
    # resolution being actioned; a proposed resolution not yet actioned holds the clock.
    auto_close = None
    replied = bool(
        complaint.last_customer_reply_at
        and complaint.responded_at
        and complaint.last_customer_reply_at >= complaint.responded_at
    )
    if (
        status == Status.RESPONDED
        and complaint.responded_at
        and not complaint.resolution_awaiting_action
        and not replied
    ):
        auto_close = deadlines.auto_close_at(
            complaint.responded_at,
            complaint.resolution_actioned_at,
            calendar=cal,
            policy=policy,
        )

    osc = deadlines.osc_deadline(
        first_made, complaint.deadlock_letter_received_at, calendar=cal, policy=policy
    )
    # The queue badge shows the company's earliest pending duty (COP-04, COP-12, COP-13).
    pending = []
    if status in OPEN_STATUSES:
        if complaint.first_responded_at is None:
            pending.append((response_due, "response"))
        if complaint.phone_promised_response_at:
            pending.append((complaint.phone_promised_response_at, "call-back"))
        if progress_due:
            pending.append((progress_due, "update"))
    next_due_at, next_due_kind = min(pending, key=lambda p: p[0]) if pending else (None, "")
    return StoredClocks(
        next_due_at=next_due_at,
        next_due_kind=next_due_kind,
        response_due_at=response_due,
        resolution_target_at=deadlines.resolution_target(first_made, calendar=cal, policy=policy),
        progress_update_due_at=progress_due,
        auto_close_at=auto_close,
        adr_eligible_at=deadlines.adr_eligible_at(first_made, calendar=cal, policy=policy),
        osc_deadline_at=osc,
        osc_warning_at=deadlines.osc_warning_at(osc, calendar=cal, policy=policy),
    )


def clocks_apply(complaint) -> list[str]:
    """Set the stored deadlines on `complaint` (unsaved) and return the changed field names."""
    changed = []
    for field, value in clocks_compute(complaint).as_fields().items():
        if getattr(complaint, field) != value:
            setattr(complaint, field, value)
            changed.append(field)
    return changed


def resolution_record(complaint, *, at: datetime) -> None:
    """Note that the complaint was put right at `at`; before the target, that meets it (COP-14)."""
    complaint.resolved_at = at
    if complaint.resolution_target_met is None and at <= complaint.resolution_target_at:
        complaint.resolution_target_met = True


def alarms_for(complaint) -> dict[str, datetime]:
    """Return the deadline jobs still to run for `complaint`, by kind, with when each is due.

    A job drops out once the fact it records is set (e.g. response_overdue_at), so a
    complaint's alarms are a pure function of its stored state.
    """
    from complaints.models import AlarmKind

    status = Status(complaint.status)
    alarms: dict[str, datetime] = {}
    if (
        status in OPEN_STATUSES
        and complaint.first_responded_at is None
        and complaint.response_overdue_at is None
    ):
        alarms[AlarmKind.RESPONSE_OVERDUE] = complaint.response_due_at
    promised = complaint.phone_promised_response_at
    if status in OPEN_STATUSES and promised and complaint.phone_promise_missed_for != promised:
        alarms[AlarmKind.PHONE_PROMISE] = promised
    progress = complaint.progress_update_due_at
    if progress and complaint.progress_reminded_for != progress:
        alarms[AlarmKind.PROGRESS_UPDATE] = progress
    if complaint.resolution_target_met is None:
        alarms[AlarmKind.RESOLUTION_TARGET] = complaint.resolution_target_at
    if complaint.auto_close_at:
        alarms[AlarmKind.AUTO_CLOSE] = complaint.auto_close_at
    if complaint.adr_checked_at is None:
        alarms[AlarmKind.ADR_LETTER] = complaint.adr_eligible_at
    if complaint.osc_warning_done_for != complaint.osc_warning_at:
        alarms[AlarmKind.OSC_WARNING] = complaint.osc_warning_at
    if complaint.osc_window_closed_for != complaint.osc_deadline_at:
        alarms[AlarmKind.OSC_CLOSED] = complaint.osc_deadline_at
    # COP-18: the ADR scheme's deadline for our case file, until a case file is ready.
    case_file_due = complaint.case_file_due_at
    if case_file_due and complaint.case_file_ready_at is None:
        if complaint.case_file_warned_for != case_file_due:
            alarms[AlarmKind.CASE_FILE_WARNING] = case_file_warning(case_file_due)
        if complaint.case_file_overdue_for != case_file_due:
            alarms[AlarmKind.CASE_FILE_OVERDUE] = case_file_due
    return alarms


def case_file_warning(due_at: datetime) -> datetime:
    """When the senior managers are reminded of the ombudsman's case file deadline."""
    from complaints.domain.case_file import case_file_warning_at

    return case_file_warning_at(
        due_at, calendar=calendar(), working_days=settings.REDRESS_CASE_FILE_WARNING_WORKING_DAYS
    )


def alarms_sync(complaint, *, existing: dict | None = None) -> None:
    """Make the stored DeadlineAlarm rows of a saved complaint match alarms_for().

    `existing` (kind -> DeadlineAlarm, as already loaded by the caller) saves a query; it
    is kept up to date in place.
    """
    from complaints.models import DeadlineAlarm

    wanted = alarms_for(complaint)
    if existing is None:
        existing = {a.kind: a for a in DeadlineAlarm.objects.filter(complaint=complaint)}
    stale = [kind for kind in existing if kind not in wanted]
    if stale:
        DeadlineAlarm.objects.filter(pk__in=[existing.pop(kind).pk for kind in stale]).delete()
    new = []
    for kind, due in wanted.items():
        alarm = existing.get(kind)
        if alarm is None:
            new.append(DeadlineAlarm(complaint=complaint, kind=kind, due_at=due))
        elif alarm.due_at != due:
            DeadlineAlarm.objects.filter(pk=alarm.pk).update(due_at=due)
            alarm.due_at = due
    # One INSERT for a new complaint's six alarms. Primary keys come back on PostgreSQL
    # and SQLite (RETURNING), so `existing` stays usable by the caller.
    for alarm in DeadlineAlarm.objects.bulk_create(new):
        existing[alarm.kind] = alarm


def alarms_track(complaint, existing: dict) -> None:
    """alarms_sync() in memory only: make `existing` (kind -> DeadlineAlarm) match alarms_for().

    A dropped kind leaves the dict, a moved one has its due_at changed in place, a new one
    is added unsaved (no pk). alarms_write() later stores the difference in a few statements.
    """
    from complaints.models import DeadlineAlarm

    wanted = alarms_for(complaint)
    for kind in [k for k in existing if k not in wanted]:
        del existing[kind]
    for kind, due in wanted.items():
        alarm = existing.get(kind)
        if alarm is None:
            existing[kind] = DeadlineAlarm(complaint=complaint, kind=kind, due_at=due)
        else:
            alarm.due_at = due


class AlarmsMoved(Exception):
    """The stored alarms were not the ones an in-memory plan started from."""


def alarms_write(complaint, stored: dict, existing: dict) -> None:
    """Store what alarms_track() did to `existing`, given `stored` ({pk: due_at} as read).

    Raises AlarmsMoved (roll back and start again from fresh rows) if a row to delete or
    move is no longer there. One DELETE for the alarms fired, the rare moves and new alarms
    after it.
    """
    from complaints.models import DeadlineAlarm

    kept = {a.pk: a for a in existing.values() if a.pk is not None}
    gone = [pk for pk in stored if pk not in kept]
    if gone and DeadlineAlarm.objects.filter(pk__in=gone).delete()[0] != len(gone):
        raise AlarmsMoved(complaint.pk)
    for pk, alarm in kept.items():
        if alarm.due_at != stored[pk]:
            if not DeadlineAlarm.objects.filter(pk=pk).update(due_at=alarm.due_at):
                raise AlarmsMoved(complaint.pk)
    new = [a for a in existing.values() if a.pk is None]
    if new:
        for alarm in DeadlineAlarm.objects.bulk_create(new):
            existing[alarm.kind] = alarm


def clocks_save(complaint, *, bump_version: bool = True, alarms: dict | None = None) -> list[str]:
    """Recompute the stored deadlines, save the complaint and re-arm its deadline jobs.

    Callers hold the complaint's row lock (select_for_update) inside a transaction. The
    version (which staff forms check, so nobody overwrites a change they have not seen)
    moves on unless `bump_version` is False: a deadline job's bookkeeping is no such
    change. Returns the names of the deadlines that changed.
    """
    changed = clocks_apply(complaint)
    if bump_version:
        complaint.version += 1
    complaint.save()
    alarms_sync(complaint, existing=alarms)
    return changed


@dataclass(frozen=True)
class ExplainedClock:
    """One clock of a complaint: its rule, the stored moment it falls due, and how."""

    rule: str
    due_at: datetime | None
    explanation: str


def complaint_clocks_explained(complaint) -> list[ExplainedClock]:
    """Return every clock of `complaint` with a plain-English line saying how it was worked out.

    The same lines for `manage.py clocks --complaint` and the API's complaint read.
    """
    cal = calendar()
    policy = deadlines.policy_by_key(complaint.policy_key)
    contracted = complaint.contracted_response_working_days

    def local(value):
        return value.astimezone(cal.tz).strftime("%a %d %b %Y %H:%M") if value else "-"

    lines = [
        (
            "response_due",
            deadlines.explain(
                "response_due",
                complaint.first_made_at,
                calendar=cal,
                policy=policy,
                contracted_working_days=contracted,
            ),
        ),
        (
            "resolution_target",
            deadlines.explain(
                "resolution_target", complaint.first_made_at, calendar=cal, policy=policy
            ),
        ),
    ]
    if complaint.progress_update_due_at:
        interval = deadlines.progress_update_interval(policy, complaint.agreed_update_working_days)
        interval_why = (
            "COP-13"
            if interval == policy.progress_update_working_days
            else "as agreed with the customer because of their needs; COP-13's is "
            f"{policy.progress_update_working_days}"
        )
        lines.append(
            (
                "progress_update",
                "next progress update to the customer due "
                f"{local(complaint.progress_update_due_at)} "
                f"(every {interval} working days, {interval_why})",
            )
        )
    if complaint.auto_close_at:
        lines.append(
            (
                "auto_close",
                deadlines.explain(
                    "auto_close",
                    complaint.responded_at,
                    complaint.resolution_actioned_at,
                    calendar=cal,
                    policy=policy,
                ),
            )
        )
    else:
        lines.append(
            (
                "auto_close",
                "not running: it starts when our response is sent and any resolution "
                "is actioned (COP-10)",
            )
        )
    lines.append(
        (
            "adr_eligible",
            deadlines.explain("adr_eligible", complaint.first_made_at, calendar=cal, policy=policy),
        )
    )
    lines.append(
        (
            "osc_deadline",
            deadlines.explain(
                "osc_deadline",
                complaint.first_made_at,
                complaint.deadlock_letter_received_at,
                calendar=cal,
                policy=policy,
            ),
        )
    )
    lines.append(
        (
            "osc_warning",
            f"customer warned {local(complaint.osc_warning_at)}, "
            f"{policy.osc_warning_days} days before the referral deadline (COP-18)",
        )
    )
    if complaint.case_file_due_at:
        lines.append(
            (
                "case_file_due",
                f"our case file is due to the ADR scheme {local(complaint.case_file_due_at)}, "
                "close of business on the day it gave (COP-18); senior managers reminded "
                f"{local(case_file_warning(complaint.case_file_due_at))}",
            )
        )
    due = {
        "case_file_due": complaint.case_file_due_at,
        "response_due": complaint.response_due_at,
        "resolution_target": complaint.resolution_target_at,
        "progress_update": complaint.progress_update_due_at,
        "auto_close": complaint.auto_close_at,
        "adr_eligible": complaint.adr_eligible_at,
        "osc_deadline": complaint.osc_deadline_at,
        "osc_warning": complaint.osc_warning_at,
    }
    return [ExplainedClock(rule, due[rule], text) for rule, text in lines]
