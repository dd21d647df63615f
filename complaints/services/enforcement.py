"""The deadline jobs: fire every alarm due by now, each exactly once (COP-04, 10, 12-14, 16, 18).

A sweep selects DeadlineAlarm rows by their indexed due time ("everything due by now not
yet done"), so a missed run is caught up by the next, and a second beat or worker finds
nothing left to do. Each complaint's due alarms are handled in one transaction of its own,
holding the complaint's row: the actions, their history rows, alerts, notice and outbox
rows, and the removal of the alarms commit together or not at all.

A page of due complaints is read together (issue 17). A complaint whose due jobs only raise
alerts and record history is fired from that read: its jobs run in memory, then its
transaction claims the row only if nobody changed it since (_claim) and writes everything
in four statements. Any other complaint, and any claimed by someone else first, is fired by
complaint_alarms_fire, which locks the row and reads it afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, router, transaction
from django.db.models import signals
from django.utils import timezone

from complaints.clocks import (
    AlarmsMoved,
    alarms_for,
    alarms_sync,
    alarms_track,
    alarms_write,
    clocks_apply,
    clocks_save,
)
from complaints.domain import deadlines
from complaints.domain.lifecycle import CLOSED_STATUSES, Status
from complaints.models import (
    AlarmKind,
    CaseEvent,
    ClosureReason,
    Complaint,
    DeadlineAlarm,
    DeliveryChannel,
    DeliveryState,
    Notice,
    NoticeKind,
    StaffAlert,
)
from complaints.services.customer_needs import named_contact_for, named_contacts_for
from complaints.services.notices import notice_send
from complaints.services.transitions import complaint_transition
from complaints.webhooks.events import webhook_subscriptions_active, webhooks_enqueue_for_event


@dataclass(frozen=True)
class SweepAction:
    """One thing a sweep did (or, in a dry run, would do) to one complaint.

    `text` says what was done, `would` the same as a dry run says it. A sweep only ever
    *queues* a notice (the outbox delivers it); `deliveries` lists each delivery it queued
    for the outbox to send, as (label, channel), e.g. ("Your right to ADR (COP-16) by
    email", "email"), so that a dry run can say what the deliveries would do.
    """

    reference: str
    kind: str
    text: str
    would: str = ""
    dry_run: bool = False
    deliveries: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.reference} {self.would if self.dry_run else self.text}"


@dataclass(frozen=True)
class _Outcome:
    """What one job did, in both tenses, and the notice it wrote (if any)."""

    text: str
    would: str
    notice: Notice | None = None


@dataclass
class _Pending:
    """One complaint's alerts and history rows, gathered while its jobs run in memory.

    The batched sweep (issue 17) runs the handlers on a complaint read with its page, then
    writes what they gathered in one transaction: one INSERT for the events, one for the
    alerts. `contacts` holds the page's named contacts by customer id (COP-13, issue 15).
    """

    contacts: dict = field(default_factory=dict)
    alerts: list[StaffAlert] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


def _pending(complaint: Complaint) -> _Pending | None:
    """The writes being gathered for `complaint`, or None when handlers write at once."""
    return complaint.__dict__.get("_sweep_pending")


def _department_label(complaint: Complaint) -> str:
    return complaint.get_department_display().split(" (")[0].lower()


def _alert(
    complaint: Complaint,
    *,
    kind: str,
    deadline_at: datetime,
    audiences,
    message: str,
    recipient=None,
):
    """Raise one alert per audience, once: the unique constraint drops a repeat.

    The assignee's alert goes to `recipient` when given (a named contact, issue 15).
    """
    recipient = recipient or complaint.assignee
    alerts = [
        StaffAlert(
            complaint=complaint,
            kind=kind,
            deadline_at=deadline_at,
            audience=audience,
            department=complaint.department,
            recipient=recipient if audience == StaffAlert.Audience.ASSIGNEE else None,
            message=message[:300],
        )
        for audience in audiences
    ]
    pending = _pending(complaint)
    if pending is not None:
        pending.alerts += alerts
    else:
        StaffAlert.objects.bulk_create(alerts, ignore_conflicts=True)


def _clock_event(complaint: Complaint, *, reason: str, due_at: datetime, now: datetime, **extra):
    entry = {
        "kind": CaseEvent.Kind.CLOCK,
        "actor": None,
        "reason": reason,
        "at": now,
        "extra": {"due_at": due_at.isoformat(), **extra},
    }
    pending = _pending(complaint)
    if pending is not None:
        pending.events.append(entry)
    else:
        CaseEvent.objects.record(complaint=complaint, **entry)


def _written_by(notice) -> str:
    """The channels of a notice, as the history has always recorded them."""
    if notice is None:
        return "already sent"
    channels = [d.get_channel_display().lower() for d in notice.deliveries.all()]
    return "by " + " and ".join(channels)


# How a sweep's line names each channel a notice was queued on.
_QUEUED_ON = {
    DeliveryChannel.EMAIL: "email",
    DeliveryChannel.PORTAL: "portal message",
    DeliveryChannel.POST: "post",
    DeliveryChannel.PHONE: "a call from staff",
}


def _notice_said(name: str, the_name: str, notice) -> tuple[str, str]:
    """Return ("<name> queued by email and post", "would queue <the_name> by ...").

    A sweep only queues a notice; the outbox sends it. None means the same notice was
    written before (by an earlier run), so nothing was queued.
    """
    if notice is None:
        already = f"{name} already written by an earlier run"
        return f"{already}; not queued again", f"{already}; would not queue it again"
    by = " and ".join(_QUEUED_ON[d.channel] for d in notice.deliveries.all())
    return f"{name} queued by {by}", f"would queue {the_name} by {by}"


def _local(t: datetime) -> str:
    return timezone.localtime(t).strftime("%a %d %b %Y %H:%M")


def _breach(
    complaint: Complaint, *, kind: str, due_at: datetime, now: datetime, message: str, reason: str
) -> str:
    """Alert the department queue and the managers once about a missed duty; record it.

    Returns who was alerted.
    """
    _alert(
        complaint,
        kind=kind,
        deadline_at=due_at,
        audiences=(StaffAlert.Audience.DEPARTMENT, StaffAlert.Audience.MANAGERS),
        message=message,
    )
    _clock_event(complaint, reason=reason, due_at=due_at, now=now, missed=str(kind))
    return f"{_department_label(complaint)} and managers"


def _alerted(what: str, whom: str) -> _Outcome:
    return _Outcome(f"{what}: alerted {whom}", f"{what}: would alert {whom}")


def _response_overdue(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome:
    """COP-12: flag the breach; alert the department queue and the managers once."""
    complaint.response_overdue_at = due_at
    whom = _breach(
        complaint,
        kind=AlarmKind.RESPONSE_OVERDUE,
        due_at=due_at,
        now=now,
        message=f"{complaint.reference}: response was due {_local(due_at)} and has not been sent.",
        reason=f"Response overdue (COP-12): was due {_local(due_at)}.",
    )
    return _alerted("response overdue", whom)


def _phone_promise(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome:
    """COP-04: a promised call-back time passed with no contact; alert as for COP-12."""
    complaint.phone_promise_missed_for = due_at
    whom = _breach(
        complaint,
        kind=AlarmKind.PHONE_PROMISE,
        due_at=due_at,
        now=now,
        message=f"{complaint.reference}: we promised the customer a response by {_local(due_at)}.",
        reason=f"Phone promise missed (COP-04): promised {_local(due_at)}.",
    )
    return _alerted("phone promise missed", whom)


def _progress_update(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome:
    """COP-13: remind whoever has the case that a progress update to the customer is due.

    That is the customer's named contact if their recorded needs name one (issue 15 item
    3), else the assignee, else the department queue.
    """
    complaint.progress_reminded_for = due_at
    pending = _pending(complaint)
    if pending is not None:
        contact = pending.contacts.get(complaint.customer_id)
    else:
        contact = named_contact_for(complaint)
    audience = (
        StaffAlert.Audience.ASSIGNEE
        if contact or complaint.assignee_id
        else StaffAlert.Audience.DEPARTMENT
    )
    if contact:
        who = f"{contact} (the customer's named contact)"
    else:
        who = str(complaint.assignee) if complaint.assignee_id else _department_label(complaint)
    why = (
        "a third party is awaited"
        if complaint.status == Status.AWAITING_THIRD_PARTY
        else "the response is late"
    )
    message = (
        f"{complaint.reference}: a progress update to the customer was due "
        f"{_local(due_at)} ({why})."
    )
    _alert(
        complaint,
        kind=AlarmKind.PROGRESS_UPDATE,
        deadline_at=due_at,
        audiences=(audience,),
        message=message,
        recipient=contact,
    )
    _clock_event(
        complaint,
        reason=f"Progress update due (COP-13) while {why}: reminded {who}.",
        due_at=due_at,
        now=now,
    )
    return _Outcome(
        f"progress update due: reminded {who}", f"progress update due: would remind {who}"
    )


def _resolution_target(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome:
    """COP-14: record whether the complaint was resolved by the target; nothing closes."""
    met = complaint.resolved_at is not None and complaint.resolved_at <= due_at
    complaint.resolution_target_met = met
    word = "met" if met else "missed"
    _clock_event(
        complaint,
        reason=f"Resolution target (COP-14) {word}: target was {_local(due_at)}.",
        due_at=due_at,
        now=now,
        met=met,
    )
    return _Outcome(f"resolution target {word}", f"resolution target {word}: would record it")


def _auto_close(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome | None:
    """COP-10: close as deemed resolved when no reply came by the deadline; tell the customer."""
    if (
        complaint.status != Status.RESPONDED
        or complaint.resolution_awaiting_action
        or (
            complaint.last_customer_reply_at
            and complaint.last_customer_reply_at >= complaint.responded_at
        )
    ):
        return None  # the clock should not be running; alarms_sync drops it
    complaint_transition(
        complaint=complaint,
        to=Status.CLOSED,
        actor=None,
        reason="Deemed resolved: no reply within 10 working days of our response (COP-10).",
        at=due_at,
        closure_reason=ClosureReason.DEEMED_RESOLVED,
        extra={"recorded_at": now.isoformat()},
    )
    notice = notice_send(complaint=complaint, kind=NoticeKind.AUTO_CLOSED, deadline_at=due_at)
    text, would = _notice_said("notice to the customer", "a notice to the customer", notice)
    return _Outcome(
        f"auto-closed as deemed resolved: {text}",
        f"would auto-close as deemed resolved and {would.removeprefix('would ')}",
        notice,
    )


def _adr_letter(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome:
    """COP-16: at the ADR point, send an eligible customer with an open complaint the ADR letter."""
    complaint.adr_checked_at = now
    policy = deadlines.policy_by_key(complaint.policy_key)
    customer = complaint.customer
    resolved_by_then = (
        complaint.status in {s.value for s in CLOSED_STATUSES}
        and complaint.closed_at is not None
        and complaint.closed_at <= due_at
    )
    notice = None
    if resolved_by_then:
        reason = "complaint was closed before the ADR point; no letter"
        said = (
            "ADR point: already closed, no letter",
            "ADR point: already closed, would send none",
        )
    elif not deadlines.adr_customer_eligible(
        customer.customer_type, customer.employee_count, policy=policy
    ):
        reason = (
            f"customer is a business with {customer.employee_count} employees, more than "
            f"{policy.adr_max_employees} ({policy.key}); no letter"
        )
        said = (
            "ADR point: customer not eligible, no letter",
            "ADR point: customer not eligible, would send none",
        )
    else:
        notice = notice_send(complaint=complaint, kind=NoticeKind.ADR_LETTER, deadline_at=due_at)
        complaint.adr_letter_sent_at = now
        reason = "ADR letter sent"
        said = _notice_said("ADR letter", "the ADR letter", notice)
    _clock_event(
        complaint,
        reason=f"ADR point (COP-16) reached {_local(due_at)}: {reason}.",
        due_at=due_at,
        now=now,
    )
    return _Outcome(*said, notice)


def _osc_warning(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome:
    """COP-18: four weeks before the referral deadline, warn a customer told of their ADR right."""
    complaint.osc_warning_done_for = due_at
    policy = deadlines.policy_by_key(complaint.policy_key)
    customer = complaint.customer
    told = (
        complaint.adr_letter_sent_at is not None
        or complaint.deadlock_letter_received_at is not None
    )
    eligible = deadlines.adr_customer_eligible(
        customer.customer_type, customer.employee_count, policy=policy
    )
    notice = None
    if told and eligible:
        notice = notice_send(complaint=complaint, kind=NoticeKind.OSC_WARNING, deadline_at=due_at)
        # (The history has always said "sent" here; bench/seed.py writes the same words.)
        history = f"ombudsman deadline warning sent {_written_by(notice)}"
        said = _notice_said("ombudsman deadline warning", "the ombudsman deadline warning", notice)
    else:
        history = (
            "ombudsman deadline warning not needed "
            "(customer was not sent an ADR or deadlock letter)"
        )
        said = (history, f"{history}: would record it")
    _clock_event(
        complaint,
        reason=f"Ombudsman deadline warning (COP-18): {history}.",
        due_at=due_at,
        now=now,
    )
    return _Outcome(*said, notice)


def _osc_closed(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome:
    """COP-18: after the referral deadline, show the ADR window as closed."""
    complaint.osc_window_closed_for = due_at
    _clock_event(
        complaint,
        reason=f"Ombudsman referral window closed {_local(due_at)} (COP-18). "
        "The customer can still go to court.",
        due_at=due_at,
        now=now,
    )
    return _Outcome("ombudsman window closed", "would mark the ombudsman window closed")


def _case_file_audiences(complaint: Complaint) -> tuple[tuple, str]:
    """The reviewing senior manager (the formal case's assignee) and the managers."""
    if complaint.assignee_id:
        return (
            (StaffAlert.Audience.ASSIGNEE, StaffAlert.Audience.MANAGERS),
            f"{complaint.assignee} and managers",
        )
    return (StaffAlert.Audience.MANAGERS,), "managers"


def _case_file_warning(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome:
    """COP-18: remind the senior managers before the ADR scheme's case file deadline."""
    deadline = complaint.case_file_due_at
    complaint.case_file_warned_for = deadline
    audiences, whom = _case_file_audiences(complaint)
    _alert(
        complaint,
        kind=AlarmKind.CASE_FILE_WARNING,
        deadline_at=deadline,
        audiences=audiences,
        message=f"{complaint.reference}: the ombudsman's case file is due {_local(deadline)}.",
    )
    _clock_event(
        complaint,
        reason=f"Ombudsman's case file due {_local(deadline)} (COP-18): reminded {whom}.",
        due_at=deadline,
        now=now,
    )
    return _alerted("ombudsman's case file due soon", whom)


def _case_file_overdue(complaint: Complaint, due_at: datetime, now: datetime) -> _Outcome:
    """COP-18: the ADR scheme's deadline passed with no case file ready; alert once."""
    complaint.case_file_overdue_for = due_at
    audiences, whom = _case_file_audiences(complaint)
    _alert(
        complaint,
        kind=AlarmKind.CASE_FILE_OVERDUE,
        deadline_at=due_at,
        audiences=audiences,
        message=f"{complaint.reference}: the ombudsman's case file was due {_local(due_at)} "
        "and none has been produced.",
    )
    _clock_event(
        complaint,
        reason=f"Ombudsman's case file overdue (COP-18): was due {_local(due_at)}.",
        due_at=due_at,
        now=now,
        missed=str(AlarmKind.CASE_FILE_OVERDUE),
    )
    return _alerted("ombudsman's case file overdue", whom)


HANDLERS: dict[str, Callable[[Complaint, datetime, datetime], _Outcome | None]] = {
    AlarmKind.RESPONSE_OVERDUE: _response_overdue,
    AlarmKind.PHONE_PROMISE: _phone_promise,
    AlarmKind.PROGRESS_UPDATE: _progress_update,
    AlarmKind.RESOLUTION_TARGET: _resolution_target,
    AlarmKind.AUTO_CLOSE: _auto_close,
    AlarmKind.ADR_LETTER: _adr_letter,
    AlarmKind.OSC_WARNING: _osc_warning,
    AlarmKind.OSC_CLOSED: _osc_closed,
    AlarmKind.CASE_FILE_WARNING: _case_file_warning,
    AlarmKind.CASE_FILE_OVERDUE: _case_file_overdue,
}


class _DryRun(Exception):
    """Raised to roll back one alarm's transaction in a dry run."""


def complaint_alarms_fire(
    *, complaint_id: int, now: datetime, dry_run: bool = False
) -> list[SweepAction]:
    """Fire, oldest first, every alarm of one complaint due by `now`; return what was done.

    One transaction with the complaint row locked, so an earlier job's effect (say, an
    auto-close) is seen by a later one (the ADR check), in a dry run too: there the whole
    transaction is rolled back at the end, and the PDF letters its notices printed are
    removed from storage.
    """
    actions: list[SweepAction] = []
    printed = []  # (storage, name) of each letter written, to remove after a dry run
    try:
        with transaction.atomic():
            # Lock order everywhere: the complaint row first, then its alarms.
            complaint = (
                Complaint.objects.select_for_update(of=("self",))
                .select_related("customer", "assignee")
                .filter(pk=complaint_id)
                .first()
            )
            if complaint is None:
                return actions
            alarms = {a.kind: a for a in DeadlineAlarm.objects.filter(complaint=complaint)}
            for alarm in sorted(alarms.values(), key=lambda a: (a.due_at, a.pk)):
                if alarm.due_at > now or alarms.get(alarm.kind) is not alarm:
                    continue  # not due, or replaced by an earlier firing
                if alarms_for(complaint).get(alarm.kind) != alarm.due_at:
                    alarms_sync(complaint, existing=alarms)  # the state has moved on
                    continue
                outcome = HANDLERS[alarm.kind](complaint, alarm.due_at, now)
                # Saving the fact the handler recorded drops this alarm (alarms_for no
                # longer lists it) in the same transaction.
                clocks_save(complaint, bump_version=False, alarms=alarms)
                if outcome:
                    actions.append(_action(complaint, alarm.kind, outcome, dry_run=dry_run))
                    if outcome.notice is not None and outcome.notice.letter_id:
                        letter = outcome.notice.letter.file
                        printed.append((letter.storage, letter.name))
            if dry_run:
                raise _DryRun
    except _DryRun:
        for storage, name in printed:
            storage.delete(name)
    return actions


def _action(complaint: Complaint, kind: str, outcome: _Outcome, *, dry_run: bool) -> SweepAction:
    deliveries = ()
    if dry_run and outcome.notice is not None:  # only a dry run says what they would do
        kind_name = outcome.notice.get_kind_display()
        deliveries = tuple(
            (f"{kind_name} by {d.get_channel_display().lower()}", d.channel)
            for d in outcome.notice.deliveries.all()
            if d.state == DeliveryState.PENDING
        )
    return SweepAction(
        complaint.reference,
        kind,
        outcome.text,
        would=outcome.would,
        dry_run=dry_run,
        deliveries=deliveries,
    )


# The jobs that only raise alerts and record history. The sweep runs them in memory on the
# complaint read with its page and writes each complaint's rows together (issue 17). The
# others write notices (with their PDF letters) or close the case, and go through
# complaint_alarms_fire, which locks and re-reads the complaint first.
_BATCHED_KINDS = frozenset(
    {
        AlarmKind.RESPONSE_OVERDUE,
        AlarmKind.PHONE_PROMISE,
        AlarmKind.PROGRESS_UPDATE,
        AlarmKind.RESOLUTION_TARGET,
        AlarmKind.OSC_CLOSED,
        AlarmKind.CASE_FILE_WARNING,
        AlarmKind.CASE_FILE_OVERDUE,
    }
)
# Columns the sweep never writes through complaint.save(): the history head (record() and
# the claim below write it) and the time of the last change (auto_now).
_UNSAVED = {"id", "history_count", "history_head", "updated_at"}


@dataclass
class _Page:
    """One page of due complaints, read together: the rows, their alarms, what they need."""

    complaints: dict[int, Complaint]
    alarms: dict[int, dict[str, DeadlineAlarm]]
    contacts: dict
    subscriptions: list


def _page_read(complaint_ids: list[int], now: datetime) -> _Page:
    """Read the page's complaints (with customer and assignee) and their alarms: 3-4 queries.

    Nothing is locked here; each complaint's transaction later claims its row only if it is
    still as read (see _claim).
    """
    complaints = Complaint.objects.select_related("customer", "assignee").in_bulk(complaint_ids)
    alarms: dict[int, dict[str, DeadlineAlarm]] = {pk: {} for pk in complaints}
    for alarm in DeadlineAlarm.objects.filter(complaint_id__in=list(complaints)):
        alarms[alarm.complaint_id][alarm.kind] = alarm
    reminded = {
        complaints[pk].customer_id
        for pk, by_kind in alarms.items()
        if (a := by_kind.get(AlarmKind.PROGRESS_UPDATE)) is not None and a.due_at <= now
    }
    return _Page(
        complaints=complaints,
        alarms=alarms,
        contacts=named_contacts_for(reminded) if reminded else {},
        subscriptions=webhook_subscriptions_active(),
    )


def _saved_fields(complaint: Complaint) -> dict:
    return {
        f.attname: getattr(complaint, f.attname)
        for f in Complaint._meta.concrete_fields
        if f.attname not in _UNSAVED
    }


class _NotBatched(Exception):
    """A job due writes a notice or closes the case: fire the complaint the usual way."""


def _run_in_memory(
    complaint: Complaint, alarms: dict, now: datetime, *, contacts: dict
) -> tuple[list, _Pending]:
    """Run the complaint's due jobs, oldest first, on the in-memory row; write nothing.

    The same loop as complaint_alarms_fire, with alarms_track for alarms_sync. Raises
    _NotBatched if a job outside _BATCHED_KINDS is due.
    """
    pending = complaint.__dict__["_sweep_pending"] = _Pending(contacts=contacts)
    outcomes = []
    try:
        for alarm in sorted(alarms.values(), key=lambda a: (a.due_at, a.pk or 0)):
            if alarm.due_at > now or alarms.get(alarm.kind) is not alarm:
                continue
            if alarm.kind not in _BATCHED_KINDS:
                raise _NotBatched(complaint.pk)
            if alarms_for(complaint).get(alarm.kind) != alarm.due_at:
                alarms_track(complaint, alarms)  # the state has moved on
                continue
            outcome = HANDLERS[alarm.kind](complaint, alarm.due_at, now)
            clocks_apply(complaint)
            alarms_track(complaint, alarms)
            if outcome:
                outcomes.append((alarm.kind, outcome))
    finally:
        del complaint.__dict__["_sweep_pending"]
    return outcomes, pending


def _claim(complaint: Complaint, *, read: tuple, changed: list[str], events: list) -> bool:
    """Lock the complaint's row and write its changes in one UPDATE, if it is still as read.

    `read` is (history_count, history_head, updated_at) as read with the page. The UPDATE
    waits for any writer holding the row, then matches only if those are unchanged: every
    change of a complaint moves one of them (a save moves updated_at, an event the head),
    so a row changed since, by staff or by a second sweep that fired it first, is not
    claimed, and nothing is written. It sets the changed columns, updated_at and the new
    history head together. The complaint's pre_save and post_save signals are sent around
    it as save(update_fields=...) would send them, so the receivers (the figures,
    escalation/figures.py) see the change.
    """
    count, head, updated_at = read
    still_as_read = Complaint.objects.filter(
        pk=complaint.pk, history_count=count, history_head=head, updated_at=updated_at
    )
    if not changed and not events:  # only alarms moved (alarms_track): lock, change nothing
        return bool(still_as_read.update(history_count=count))
    new_count, new_head = (events[-1].seq, events[-1].hash) if events else (count, head)
    fields = frozenset([*changed, "updated_at"])
    using = router.db_for_write(Complaint, instance=complaint)
    signals.pre_save.send(
        sender=Complaint, instance=complaint, raw=False, using=using, update_fields=fields
    )
    complaint.updated_at = timezone.now()
    claimed = still_as_read.update(
        history_count=new_count,
        history_head=new_head,
        **{name: getattr(complaint, name) for name in fields},
    )
    if not claimed:
        return False
    complaint.history_count, complaint.history_head = new_count, new_head
    signals.post_save.send(
        sender=Complaint,
        instance=complaint,
        created=False,
        update_fields=fields,
        raw=False,
        using=using,
    )
    return True


def _complaint_alarms_fire_batched(complaint: Complaint, page: _Page, now: datetime):
    """Fire a complaint read with its page: its jobs run in memory, then one transaction.

    That transaction claims the row and writes its changed columns and history head (one
    UPDATE, _claim), then the complaint's events (one INSERT, chained on from the head),
    alerts (one INSERT) and fired alarms (one DELETE), together or not at all.

    Returns None when the complaint must be fired the usual way instead: it changed since
    its page was read, or a job due writes a notice.
    """
    alarms = page.alarms[complaint.pk]
    stored = {a.pk: a.due_at for a in alarms.values()}
    before = _saved_fields(complaint)
    read = (complaint.history_count, complaint.history_head, complaint.updated_at)
    try:
        outcomes, pending = _run_in_memory(complaint, alarms, now, contacts=page.contacts)
    except _NotBatched:
        return None
    changed = [name for name, value in _saved_fields(complaint).items() if before[name] != value]
    events = CaseEvent.objects.chained(
        complaint=complaint, count=read[0], head=read[1], entries=pending.events
    )
    try:
        with transaction.atomic():
            if not _claim(complaint, read=read, changed=changed, events=events):
                return None
            CaseEvent.objects.bulk_create(events)
            if pending.alerts:
                StaffAlert.objects.bulk_create(pending.alerts, ignore_conflicts=True)
            alarms_write(complaint, stored, alarms)
            for event in events:
                webhooks_enqueue_for_event(event, active=page.subscriptions)
    except (AlarmsMoved, IntegrityError):
        return None  # rolled back: nothing of it was written
    return [_action(complaint, kind, outcome, dry_run=False) for kind, outcome in outcomes]


@contextmanager
def _commits_not_awaited():
    """On PostgreSQL, let the sweep's commits return before their WAL is flushed.

    A commit's flush is most of the cost of a small transaction (1.5 to 4 ms of a sweep's
    action at 1M complaints, issue 17). Why that is safe here:
    settings.REDRESS_SWEEP_ASYNCHRONOUS_COMMIT. Set for this session only, and reset after.
    """
    if connection.vendor != "postgresql" or not settings.REDRESS_SWEEP_ASYNCHRONOUS_COMMIT:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def deadlines_sweep(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = 500,
    max_seconds: float | None = None,
) -> list[SweepAction]:
    """Fire every alarm due by `now`, oldest first; return what was done.

    Reads due alarms in keyset-paged batches from the due-time index, so the cost grows
    with the number due, not with the number of complaints. Each page's complaints and
    alarms are read together (a few queries a page); each complaint is then fired in a
    transaction of its own (issue 17). Stops early after `max_seconds` (the next sweep
    carries on from there).
    """
    now = now or timezone.now()
    started = time.monotonic()
    actions: list[SweepAction] = []
    done: set[int] = set()
    after = None
    with ExitStack() as stack:
        while True:
            page = DeadlineAlarm.objects.filter(due_at__lte=now)
            if after is not None:
                page = page.filter(due_at__gte=after[0]).exclude(due_at=after[0], pk__lte=after[1])
            ordered = page.order_by("due_at", "pk")
            rows = list(ordered.values_list("due_at", "pk", "complaint_id")[:batch_size])
            if not rows:
                break
            if after is None and not dry_run:  # something is due: see _commits_not_awaited
                stack.enter_context(_commits_not_awaited())
            actions += _page_fire([pk for _due, _pk, pk in rows], done, now, dry_run=dry_run)
            after = rows[-1][:2]
            if max_seconds is not None and time.monotonic() - started > max_seconds:
                break
    return actions


def _page_fire(complaint_ids: list[int], done: set[int], now: datetime, *, dry_run: bool):
    """Fire each complaint of a page not fired yet by this sweep, in a transaction of its own.

    A dry run fires each the usual way (complaint_alarms_fire), rolled back at the end.
    """
    ids = list(dict.fromkeys(pk for pk in complaint_ids if pk not in done))
    done.update(ids)
    page = _page_read(ids, now) if ids and not dry_run else None
    actions: list[SweepAction] = []
    for complaint_id in ids:
        fired = None
        if page is not None and complaint_id in page.complaints:
            fired = _complaint_alarms_fire_batched(page.complaints[complaint_id], page, now)
        if fired is None:
            fired = complaint_alarms_fire(complaint_id=complaint_id, now=now, dry_run=dry_run)
        actions += fired
    return actions


def sweep_seconds_budget() -> float:
    """Return how long one beat-triggered sweep may run before leaving the rest to the next."""
    return max(settings.CELERY_TASK_SOFT_TIME_LIMIT - 30, 30)
