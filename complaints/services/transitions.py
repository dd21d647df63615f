"""The only writer of Complaint.status: guarded, locked, recorded moves through the graph."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from complaints.clocks import alarms_sync, clocks_apply, clocks_save, resolution_record
from complaints.domain.causes import close_problems
from complaints.domain.lifecycle import (
    CLOSED_STATUSES,
    Status,
    check_transition,
    is_reopen,
)
from complaints.models import (
    CaseEvent,
    ClosureReason,
    Complaint,
    NoticeKind,
    history_batch_owns,
)
from complaints.signals import complaint_status_changed
from complaints.transactions import atomic_step


def _enter(complaint: Complaint, *, current: Status, to: Status, at: datetime, closure_reason: str):
    """Set the facts that entering `to` from `current` establishes."""
    if current == Status.AWAITING_THIRD_PARTY:
        complaint.awaiting_third_party_since = None
        complaint.awaiting_third_party_name = ""
    if to == Status.ACKNOWLEDGED:
        complaint.acknowledged_at = complaint.acknowledged_at or at
    elif to == Status.AWAITING_THIRD_PARTY:
        complaint.awaiting_third_party_since = at
    elif to == Status.RESPONDED:
        complaint.responded_at = at
        complaint.first_responded_at = complaint.first_responded_at or at
    elif to == Status.RESOLVED_AT_FIRST_CONTACT:
        complaint.first_responded_at = complaint.first_responded_at or at
        complaint.closed_at = at
        complaint.closure_reason = ClosureReason.RESOLVED_AT_FIRST_CONTACT
    elif to == Status.CLOSED:
        complaint.closed_at = at
        complaint.closure_reason = closure_reason
    elif to == Status.FORMAL:
        complaint.formal_at = complaint.formal_at or at
    if current in CLOSED_STATUSES and to not in CLOSED_STATUSES:
        # Reopened or escalated: first_made_at and every clock from it stay (deadlines.md).
        complaint.closed_at = None
        complaint.closure_reason = ""
    # COP-14: put right when closed, or when our response needs no further action.
    if to in CLOSED_STATUSES:
        # Closing after a response that already put things right keeps that earlier time.
        resolution_record(complaint, at=complaint.resolved_at or at)
    elif to == Status.RESPONDED and not complaint.resolution_awaiting_action:
        resolution_record(complaint, at=at)
    elif to in (Status.INVESTIGATING, Status.AWAITING_THIRD_PARTY, Status.FORMAL):
        complaint.resolved_at = None


@atomic_step
def complaint_transition(
    *,
    complaint: Complaint,
    to: Status | str,
    actor,
    reason: str,
    at: datetime | None = None,
    closure_reason: str = "",
    extra: dict | None = None,
    locked: bool = False,
    alarms: dict | None = None,
) -> Complaint:
    """Move `complaint` to status `to`, recompute its clocks and record who did it and why.

    Locks the row, checks the move against the lifecycle graph (raising IllegalTransition
    with a message naming the current status), writes the history row in the same
    transaction and sends complaint_status_changed after commit. `actor` is None when the
    system acts (a deadline job). Moving to the status it already has changes nothing.

    `locked` says the caller holds the row lock and `complaint` is the row as it stands
    (created in this very transaction, say): it is changed in place, without reading the
    row again. `alarms` (kind -> DeadlineAlarm, as the caller loaded them) saves reading
    them.
    """
    to = Status(to)
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Give a reason for the change of status; it goes in the case history.")
    if to == Status.CLOSED and closure_reason not in ClosureReason.values:
        raise ValueError(
            "Closing a complaint needs a closure reason: " + ", ".join(ClosureReason.values) + "."
        )

    locked = complaint if locked else Complaint.objects.select_for_update().get(pk=complaint.pk)
    current = Status(locked.status)
    if current == to:
        _refresh(complaint, locked)
        return locked
    check_transition(current, to)

    at = at or timezone.now()
    _enter(locked, current=current, to=to, at=at, closure_reason=closure_reason)
    locked.status = to.value

    def recorded(changed_clocks) -> CaseEvent:
        details = transition_details(
            current, to, closure_reason=closure_reason, changed_clocks=changed_clocks, extra=extra
        )
        return CaseEvent.objects.record(
            complaint=locked,
            kind=CaseEvent.Kind.STATUS_CHANGED,
            actor=actor,
            reason=reason,
            from_status=current.value,
            to_status=to.value,
            at=at,
            extra=details,
        )

    if history_batch_owns(locked):
        # Created in this transaction (models.HistoryBatch): the event is chained in memory
        # first, from the case as it will be saved, so that the one UPDATE of the row
        # writes the new history head with it. What clocks_save does, in that order.
        changed_clocks = clocks_apply(locked)
        locked.version += 1
        event = recorded(changed_clocks)
        locked.save()
        alarms_sync(locked, existing=alarms)
    else:
        event = recorded(clocks_save(locked, alarms=alarms))
    transaction.on_commit(
        lambda: complaint_status_changed.send(
            sender=Complaint,
            complaint_id=locked.pk,
            event_id=event.pk,
            from_status=current.value,
            to_status=to.value,
        )
    )
    _refresh(complaint, locked)
    return locked


def transition_details(
    current: Status, to: Status, *, closure_reason: str, changed_clocks, extra: dict | None
) -> dict:
    """The details a status change records in the history: a reopening, the closure reason
    and which clocks changed, beside any `extra` the caller gives."""
    details = dict(extra or {})
    if is_reopen(current, to):
        details["reopened"] = True
    if closure_reason:
        details["closure_reason"] = closure_reason
    if changed_clocks:
        details["clocks_changed"] = sorted(changed_clocks)
    return details


def _refresh(target: Complaint, source: Complaint) -> None:
    """Copy the saved row's values onto the caller's instance so it is not stale."""
    if target is source:
        return
    for field in Complaint._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


def complaint_close_check(complaint: Complaint) -> None:
    """Refuse a staff close of `complaint` without a root cause and an at-fault answer.

    Raises ValidationError naming what is missing (issue 16). The auto-close job (COP-10)
    does not call this: the Code closes the case anyway, and it waits on the department's
    "Root cause missing" queue.
    """
    problems = close_problems(
        has_root_cause=complaint.root_cause_id is not None,
        company_at_fault=complaint.company_at_fault,
    )
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def complaint_close(*, complaint: Complaint, actor, closure_reason: str, reason: str) -> Complaint:
    """Close a responded complaint for staff (the customer confirmed it is resolved, or
    withdrew it), once its root cause and the at-fault answer are recorded (issue 16)."""
    if closure_reason not in (ClosureReason.CUSTOMER_SATISFIED, ClosureReason.WITHDRAWN):
        raise ValidationError({"closure_reason": "Staff close as resolved or withdrawn only."})
    locked = Complaint.objects.select_for_update(of=("self",)).get(pk=complaint.pk)
    complaint_close_check(locked)
    label = ClosureReason(closure_reason).label
    closed = complaint_transition(
        complaint=locked,
        to=Status.CLOSED,
        actor=actor,
        reason=(reason or "").strip() or f"Closed: {label}.",
        closure_reason=closure_reason,
    )
    # The customer hears it is closed, how to reopen or escalate, and the one optional
    # satisfaction question (issue 16 item 4), as after an auto-close (COP-10): once per
    # closing, since the notice is keyed to this closing's moment.
    from complaints.services.notices import notice_send

    notice_send(
        complaint=closed,
        kind=NoticeKind.CLOSED,
        deadline_at=closed.closed_at,
        actor=actor,
        withdrawn=closure_reason == ClosureReason.WITHDRAWN,
    )
    return closed
