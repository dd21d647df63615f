"""What staff and customers say on a case: our response, updates, replies (COP-04, 09, 10, 13)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from complaints.clocks import clocks_save, resolution_record
from complaints.domain import deadlines
from complaints.domain.lifecycle import CLOSED_STATUSES, Status
from complaints.models import (
    CaseEvent,
    ClosureReason,
    Complaint,
    Correspondence,
    Direction,
    NoticeKind,
)
from complaints.services.notices import notice_send
from complaints.services.texts import full_text_keep, text_cut
from complaints.services.transitions import complaint_transition


def _lock(complaint: Complaint) -> Complaint:
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=complaint.pk)
    )


def _required(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


@transaction.atomic
def complaint_respond(
    *,
    complaint: Complaint,
    actor,
    findings: str,
    fault_found: bool,
    remedy_done: str = "",
    resolution_proposed: str = "",
    at: datetime | None = None,
) -> Complaint:
    """Send our response (COP-09): findings, fault or not, the remedy done or resolution proposed.

    A proposed resolution not yet actioned holds the auto-close clock until it is (COP-10).
    """
    findings = _required(findings, "findings", "Write what the investigation found.")
    if fault_found and not (remedy_done.strip() or resolution_proposed.strip()):
        raise ValidationError(
            {"remedy_done": "Where we were at fault, say how it was put right or what we propose."}
        )
    at = at or timezone.now()
    locked = _lock(complaint)
    parts = [f"What we found: {findings}"]
    parts.append("We found a fault on our side." if fault_found else "We did not find a fault.")
    if remedy_done.strip():
        parts.append(f"What we have done to put it right: {remedy_done.strip()}")
    if resolution_proposed.strip():
        parts.append(f"What we propose: {resolution_proposed.strip()}")
    text = "\n\n".join(parts)
    locked.resolution_awaiting_action = bool(resolution_proposed.strip())
    locked.phone_promised_response_at = None  # the promise is kept by responding
    locked.save(update_fields=["resolution_awaiting_action", "phone_promised_response_at"])
    Correspondence.objects.create(
        complaint=locked,
        direction=Direction.OUTBOUND,
        channel=_channel_for(locked),
        subject=f"Our response to your complaint {locked.reference}",
        body=text,
        at=at,
        recorded_by=actor,
    )
    complaint_transition(
        complaint=locked,
        to=Status.RESPONDED,
        actor=actor,
        reason="Response sent: " + ("fault found." if fault_found else "no fault found."),
        at=at,
        extra={"fault_found": fault_found, "resolution_proposed": bool(resolution_proposed)},
    )
    auto_close = locked.auto_close_at
    notice_send(
        complaint=locked,
        kind=NoticeKind.RESPONSE,
        deadline_at=at,
        actor=actor,
        text=text,
        auto_close_words=_words(auto_close) if auto_close else "",
    )
    _copy(complaint, locked)
    return locked


@transaction.atomic
def complaint_resolution_action(
    *, complaint: Complaint, actor, note: str, at: datetime | None = None
) -> Complaint:
    """Record that the proposed resolution was actioned; auto-close starts (COP-10)."""
    note = _required(note, "note", "Say what was done.")
    at = at or timezone.now()
    locked = _lock(complaint)
    if not locked.resolution_awaiting_action:
        raise ValidationError("There is no proposed resolution waiting to be actioned.")
    locked.resolution_awaiting_action = False
    locked.resolution_actioned_at = at
    resolution_record(locked, at=at)
    changed = clocks_save(locked)
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.CLOCK,
        actor=actor,
        reason=f"Resolution actioned: {note}",
        at=at,
        extra={"clocks_changed": sorted(changed)},
    )
    _copy(complaint, locked)
    return locked


def reply_reopens(complaint: Complaint) -> bool:
    """Return whether a customer's reply reopens the complaint (COP-10).

    A closed complaint reopens, except once the final proposition has been sent: the
    formal review runs once (COP-15), so a later message is kept on the case as
    correspondence and the customer's next step is the ADR scheme (COP-17, COP-18).
    """
    return (
        Status(complaint.status) in CLOSED_STATUSES
        and complaint.closure_reason != ClosureReason.FINAL_PROPOSITION
    )


def _closed_by_final_proposition(complaint: Complaint) -> bool:
    return (
        Status(complaint.status) in CLOSED_STATUSES
        and complaint.closure_reason == ClosureReason.FINAL_PROPOSITION
    )


@dataclass(frozen=True)
class CustomerNextStep:
    """What the customer's page offers next, decided once here rather than in a template."""

    reply_label: str
    reply_thanks: str
    # The final proposition has been sent: the page shows it and the way to the ombudsman.
    after_proposition: bool = False
    # Said beside the reply: after the final proposition writing reopens nothing.
    reply_note: str = ""
    # The customer may take it to the ADR scheme by this moment, in words (COP-18) ...
    ombudsman_by: str = ""
    # ... or why they cannot.
    ombudsman_not: str = ""


def complaint_customer_next_step(complaint: Complaint, *, now: datetime) -> CustomerNextStep:
    """Decide what the customer can do next: reply, reopen, or, once the final proposition
    is sent, go to the ombudsman or write to us without reopening (COP-10, COP-15, COP-18)."""
    thanks = "Thank you: we have your message."
    sent = getattr(getattr(complaint, "formal_case", None), "final_proposition_sent_at", None)
    final = _closed_by_final_proposition(complaint)
    if not (sent or final):
        if reply_reopens(complaint):
            return CustomerNextStep("Reply and reopen this complaint", thanks)
        return CustomerNextStep("Reply to us", thanks)
    scheme = settings.REDRESS_ADR_SCHEME["name"]
    policy = deadlines.policy_by_key(complaint.policy_key)
    customer = complaint.customer
    by = refused = ""
    if not deadlines.adr_customer_eligible(
        customer.customer_type, customer.employee_count, policy=policy
    ):
        refused = (
            f"{scheme} cannot take complaints from businesses with more than "
            f"{policy.adr_max_employees} employees. You can still go to court."
        )
    elif complaint.osc_window_closed or complaint.osc_deadline_at <= now:
        refused = (
            f"The time to take this complaint to {scheme} ended on "
            f"{_words(complaint.osc_deadline_at)}. You can still go to court."
        )
    else:
        by = _words(complaint.osc_deadline_at)
    if not final:  # reopened by staff since: a reply is an ordinary one
        return CustomerNextStep(
            "Reply to us", thanks, after_proposition=True, ombudsman_by=by, ombudsman_not=refused
        )
    clock = " and does not stop the ombudsman's clock" if by else ""
    later = f" To have {scheme} look at it, you must still contact them by {by}." if by else ""
    return CustomerNextStep(
        "Write to us",
        f"{thanks} We have kept it with your complaint. It does not reopen your complaint"
        f"{clock}.{later}",
        after_proposition=True,
        reply_note=f"Writing to us does not reopen your complaint{clock}: we keep your message "
        "with it.",
        ombudsman_by=by,
        ombudsman_not=refused,
    )


@transaction.atomic
def complaint_customer_reply(
    *,
    complaint: Complaint,
    body: str,
    channel: str,
    actor=None,
    at: datetime | None = None,
    message_id: str = "",
) -> Complaint:
    """Record a customer reply; it stops the auto-close clock or reopens the case (COP-10).

    After the final proposition the reply is kept on the closed case and it stays closed
    (reply_reopens).
    """
    body = _required(body, "body", "Write the customer's message.")
    at = at or timezone.now()
    locked = _lock(complaint)
    name = f"reply-{timezone.localtime(at):%Y%m%d-%H%M%S}-in-full.txt"
    body, whole = text_cut(body, file_name=name)
    if whole is not None:
        full_text_keep(locked, whole, file_name=name, at=at, actor=actor)
    Correspondence.objects.create(
        complaint=locked,
        direction=Direction.INBOUND,
        channel=channel,
        body=body,
        at=at,
        recorded_by=actor,
        message_id=message_id,
    )
    locked.last_customer_reply_at = at
    locked.save(update_fields=["last_customer_reply_at"])
    status = Status(locked.status)
    if status == Status.RESPONDED:
        complaint_transition(
            complaint=locked,
            to=Status.INVESTIGATING,
            actor=actor,
            reason="The customer replied to our response; back to staff (COP-10).",
            at=at,
        )
    elif reply_reopens(locked):
        complaint_transition(
            complaint=locked,
            to=Status.INVESTIGATING,
            actor=actor,
            reason="The customer replied after the complaint was closed: reopened (COP-10).",
            at=at,
        )
    else:
        clocks_save(locked)
        CaseEvent.objects.record(
            complaint=locked,
            kind=CaseEvent.Kind.CORRESPONDENCE,
            actor=actor,
            reason="The customer wrote after our final proposition: kept on the case, "
            "not reopened (COP-15)."
            if status in CLOSED_STATUSES
            else "The customer sent a message.",
            at=at,
        )
    _copy(complaint, locked)
    return locked


@transaction.atomic
def complaint_progress_update(
    *, complaint: Complaint, actor, text: str, at: datetime | None = None
) -> Complaint:
    """Send the customer a progress update by the agreed method (COP-13)."""
    text = _required(text, "text", "Write the update for the customer.")
    at = at or timezone.now()
    locked = _lock(complaint)
    locked.last_progress_update_at = at
    locked.phone_promised_response_at = None  # contact made: the call-back promise is kept
    Correspondence.objects.create(
        complaint=locked,
        direction=Direction.OUTBOUND,
        channel=_channel_for(locked),
        subject=f"Progress update on your complaint {locked.reference}",
        body=text,
        at=at,
        recorded_by=actor,
    )
    clocks_save(locked)
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=actor,
        reason="Progress update sent to the customer (COP-13).",
        at=at,
    )
    notice_send(
        complaint=locked, kind=NoticeKind.PROGRESS_UPDATE, deadline_at=at, actor=actor, text=text
    )
    _copy(complaint, locked)
    return locked


@transaction.atomic
def complaint_phone_promise(
    *, complaint: Complaint, actor, promised_at: datetime, contact_method: str
) -> Complaint:
    """Record an unresolved call: the promised next-response time and agreed method (COP-04)."""
    if promised_at <= timezone.now():
        raise ValidationError({"promised_at": "The promised time must be in the future."})
    locked = _lock(complaint)
    locked.phone_promised_response_at = promised_at
    locked.agreed_contact_method = contact_method
    clocks_save(locked)
    CaseEvent.objects.record(
        complaint=locked,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=actor,
        reason=f"Call logged, not resolved: promised a response by "
        f"{timezone.localtime(promised_at):%a %d %b %Y %H:%M}; "
        f"contact by {contact_method} (COP-04).",
        extra={"promised_at": promised_at.isoformat(), "contact_method": contact_method},
    )
    _copy(complaint, locked)
    return locked


def _channel_for(complaint: Complaint) -> str:
    method = complaint.agreed_contact_method
    return {"post": "letter"}.get(method, method)


def _words(t: datetime) -> str:
    from complaints.clocks import calendar
    from complaints.domain.wording import moment_words

    return moment_words(t, calendar().tz)


def _copy(target: Complaint, source: Complaint) -> None:
    if target is not source:
        target.refresh_from_db()
