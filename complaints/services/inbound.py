"""Email to a complaints mailbox: a new complaint, a reply on one, or nothing (COP-05, COP-10).

Every message is kept raw as an InboundEmail, with what was done, in the same transaction
as what was done; the same message (same Message-ID, or same bytes without one) is
processed once. Machines (auto-replies, bounces, lists, our own mail) never open or reopen
a case. A reply from someone other than the complaint's customer waits for staff, and so
does any message our mail server's SPF, DKIM or DMARC checks say is not from its sender.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import ContactMethod
from complaints.domain.lifecycle import Status
from complaints.inbound.authentication import SenderCheck, sender_check
from complaints.inbound.parsing import (
    ParsedEmail,
    ParseError,
    email_parse,
    ignore_reason,
    message_key,
    subject_reference,
)
from complaints.models import (
    Attachment,
    CaseEvent,
    Channel,
    Complaint,
    Correspondence,
    Department,
    Direction,
    InboundEmail,
    NoticeKind,
    OutboxMessage,
)
from complaints.services.channels import customer_find_or_create
from complaints.services.intake import complaint_log
from complaints.services.notices import notice_send
from complaints.services.responses import complaint_customer_reply
from complaints.services.texts import text_cut
from complaints.services.transitions import complaint_transition

logger = logging.getLogger(__name__)

State = InboundEmail.State
DUPLICATE = "duplicate of message already processed"
OWN_MAIL = "our own mail (loop protection)"
NO_SENDER = "no usable sender address"
NO_SUBJECT = "(no subject)"
NO_TEXT = "(no text: see attachments)"
# COP-07: a Date header this far back is believed; older, or in the future, is not.
DATE_TRUSTED_FOR = timedelta(days=14)
# The most Message-IDs of In-Reply-To/References looked up when threading.
MAX_THREAD_IDS = 50


@dataclass(frozen=True)
class IngestResult:
    """What became of one message; str() is the line the ingest command prints."""

    state: str
    reference: str = ""
    reason: str = ""
    inbound_email_id: int | None = None

    def __str__(self) -> str:
        if self.state in (State.CREATED, State.THREADED):
            return f"{self.state} {self.reference}"
        word = "ignored" if self.state == State.IGNORED else "quarantined"
        return f"{word} ({self.reason})"


@dataclass
class _Outcome:
    state: str
    reason: str = ""
    complaint: Complaint | None = None


# --- Small rules ------------------------------------------------------------------------


def _truncate(value: str, length: int) -> str:
    return value if len(value) <= length else value[: length - 1].rstrip() + "…"


def _our_addresses() -> set[str]:
    company = settings.REDRESS_COMPANY
    addresses = {address.lower() for address in settings.REDRESS_MAILBOXES}
    addresses |= {company["support_email"].lower(), company["accounts_email"].lower()}
    addresses.add(parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower())
    return addresses - {""}


def _is_our_own(parsed: ParsedEmail) -> bool:
    """Return whether we sent this message (COP-05 acknowledgements must not loop)."""
    if parsed.from_address.lower() in _our_addresses():
        return True
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rsplit("@", 1)[-1]
    if re.fullmatch(rf"<notice-\d+-\d+@{re.escape(domain)}>", parsed.message_id, re.IGNORECASE):
        return True
    return OutboxMessage.objects.filter(message_id=parsed.message_id).exists()


def email_mailbox(parsed: ParsedEmail | None, mailbox: str | None = None) -> str:
    """Return the complaints mailbox the message reached: the one given, else a recipient's."""
    if mailbox:
        return mailbox.strip().lower()
    known = settings.REDRESS_MAILBOXES
    for address in parsed.recipients if parsed else ():
        if address.lower() in known:
            return address.lower()
    return ""


def email_department(mailbox: str) -> str:
    """Return the department a mailbox feeds (COP-02); technical support when unknown."""
    return settings.REDRESS_MAILBOXES.get(mailbox.lower(), Department.TECHNICAL_SUPPORT)


def _first_made_at(parsed: ParsedEmail, now: datetime) -> datetime:
    """Return when the customer first told us (COP-07): the Date sent, if believable."""
    sent = parsed.date
    if sent is not None and now - DATE_TRUSTED_FOR <= sent <= now:
        return sent
    return now


def _thread_complaint(parsed: ParsedEmail) -> Complaint | None:
    """Return the complaint the message answers: by its Message-ID references, then subject."""
    ids = parsed.thread_ids[:MAX_THREAD_IDS]
    if ids:
        found: dict[str, int] = {}
        for pairs in (
            Correspondence.objects.filter(message_id__in=ids).values_list(
                "message_id", "complaint_id"
            ),
            OutboxMessage.objects.filter(message_id__in=ids).values_list(
                "message_id", "notice__complaint_id"
            ),
            InboundEmail.objects.filter(message_id__in=ids, complaint__isnull=False).values_list(
                "message_id", "complaint_id"
            ),
        ):
            for message_id, complaint_id in pairs:
                found.setdefault(message_id, complaint_id)
        for message_id in ids:
            if message_id in found:
                return Complaint.objects.select_related("customer").get(pk=found[message_id])
    reference = subject_reference(parsed.subject)
    if reference:
        return Complaint.objects.select_related("customer").filter(reference=reference).first()
    return None


def _thread_id(parsed: ParsedEmail) -> str:
    """Return the Message-ID replies will quote, or "" when the message had none of its own."""
    return parsed.message_id if parsed.has_own_message_id else ""


def _sender_check(parsed: ParsedEmail) -> SenderCheck:
    """Return what our own mail server's Authentication-Results header says of the sender."""
    return sender_check(
        parsed.headers.get("authentication-results", ()),
        authserv_id=settings.REDRESS_MAIL_AUTHSERV_ID,
        from_address=parsed.from_address,
    )


def _is_customer(complaint: Complaint, address: str) -> bool:
    email = (complaint.customer.email or "").strip().lower()
    return bool(email) and email == address.strip().lower()


# --- Writes -----------------------------------------------------------------------------


def _attachments_save(*, complaint: Complaint, parsed: ParsedEmail, at: datetime, actor=None):
    """Keep the email's files on the case; a file over the size limit is noted, not kept."""
    limit = settings.REDRESS_MAX_ATTACHMENT_BYTES
    for item in parsed.attachments:
        if item.size > limit:
            CaseEvent.objects.record(
                complaint=complaint,
                kind=CaseEvent.Kind.CORRESPONDENCE,
                actor=actor,
                reason=f"Email attachment {item.filename} not kept: it is {item.size} bytes, "
                f"larger than the {limit}-byte limit. Ask the customer for it another way.",
                at=at,
                extra={"filename": item.filename, "size": item.size},
            )
            continue
        attachment = Attachment(
            complaint=complaint,
            kind=Attachment.Kind.EMAIL_ATTACHMENT,
            original_name=item.filename,
            content_type=item.content_type[:100],
            size=item.size,
            customer_visible=True,
            at=at,
            uploaded_by=actor,
        )
        attachment.file.save(item.filename, ContentFile(item.content), save=False)
        attachment.save()


def _reply_add(*, complaint: Complaint, parsed: ParsedEmail, at: datetime, actor=None) -> Complaint:
    """Record the email as the customer's reply: it stops auto-close or reopens (COP-10)."""
    complaint = complaint_customer_reply(
        complaint=complaint,
        body=parsed.text or NO_TEXT,
        channel=Channel.EMAIL,
        actor=actor,
        at=at,
        message_id=_thread_id(parsed),
    )
    reply = Correspondence.objects.filter(complaint=complaint, direction=Direction.INBOUND)
    reply.filter(pk=reply.latest("pk").pk).update(subject=_truncate(parsed.subject, 200))
    _attachments_save(complaint=complaint, parsed=parsed, at=at, actor=actor)
    return complaint


def _complaint_open(*, parsed: ParsedEmail, mailbox: str, now: datetime) -> Complaint:
    """Log a complaint from the email, keep the email on it and acknowledge it (COP-05)."""
    address = parsed.from_address
    customer = customer_find_or_create(
        name=_truncate(parsed.from_name or address.split("@", 1)[0], 200), email=address
    )
    complaint = complaint_log(
        customer=customer,
        channel=Channel.EMAIL,
        department=email_department(mailbox),
        subject=_truncate(parsed.subject or NO_SUBJECT, 200),
        description=parsed.text or NO_TEXT,
        first_made_at=_first_made_at(parsed, now),
        agreed_contact_method=ContactMethod.EMAIL,
        actor=None,
        reason=f"Complaint received by email to {mailbox or 'a complaints mailbox'}.",
    )
    Correspondence.objects.create(
        complaint=complaint,
        direction=Direction.INBOUND,
        channel=Channel.EMAIL,
        subject=_truncate(parsed.subject, 200),
        # The whole text is on the case already (complaint_log keeps it as a file).
        body=text_cut(parsed.text or NO_TEXT, file_name="complaint-in-full.txt")[0],
        customer_visible=True,
        message_id=_thread_id(parsed),
        at=now,
    )
    _attachments_save(complaint=complaint, parsed=parsed, at=now)
    notice_send(
        complaint=complaint, kind=NoticeKind.ACKNOWLEDGEMENT, deadline_at=complaint.first_made_at
    )
    complaint_transition(
        complaint=complaint,
        to=Status.ACKNOWLEDGED,
        actor=None,
        reason="Acknowledged by email (COP-05)",
        at=now,
    )
    return complaint


def _file(*, parsed: ParsedEmail, mailbox: str, now: datetime) -> _Outcome:
    """Decide what the message is and do it; runs inside the ingest's transaction."""
    if _is_our_own(parsed):
        return _Outcome(State.IGNORED, OWN_MAIL)
    reason = ignore_reason(parsed)
    if reason:
        return _Outcome(State.IGNORED, reason)
    if not parsed.from_address:
        return _Outcome(State.QUARANTINED, NO_SENDER)
    complaint = _thread_complaint(parsed)
    check = _sender_check(parsed)
    if check.held:
        # Possibly forged: nothing is filed or changed; linked, so staff can release a reply.
        return _Outcome(State.QUARANTINED, check.problem, complaint)
    if complaint is not None:
        if not _is_customer(complaint, parsed.from_address):
            # Nothing on the complaint changes: no message, no clock, no status.
            return _Outcome(
                State.QUARANTINED,
                f"sender {parsed.from_address} is not the complaint's customer",
                complaint,
            )
        return _Outcome(
            State.THREADED, complaint=_reply_add(complaint=complaint, parsed=parsed, at=now)
        )
    return _Outcome(
        State.CREATED, complaint=_complaint_open(parsed=parsed, mailbox=mailbox, now=now)
    )


def _claim(*, raw: bytes, key: str, parsed: ParsedEmail | None, mailbox: str, now: datetime):
    """Store the message raw under its key; None if it is already stored (a duplicate)."""
    record = InboundEmail(
        message_id=key,
        mailbox=mailbox[:254],
        sender=(parsed.from_address if parsed else "")[:500],
        subject=_truncate(parsed.subject if parsed else "", 500),
        received_at=now,
        state=State.DEAD_LETTER,  # until the outcome is known, in this same transaction
    )
    name = f"{now:%Y%m%d-%H%M%S}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.eml"
    record.raw.save(name, ContentFile(raw), save=False)
    try:
        with transaction.atomic():
            record.save(force_insert=True)
    except IntegrityError:
        record.raw.delete(save=False)
        return None
    return record


def _already_stored(key: str) -> bool:
    """Cheap early answer; the unique constraint decides when two copies race (_claim)."""
    return InboundEmail.objects.filter(message_id=key).exists()


def _duplicate(key: str) -> IngestResult:
    first = InboundEmail.objects.filter(message_id=key).values_list("pk", flat=True).first()
    return IngestResult(str(State.IGNORED), reason=DUPLICATE, inbound_email_id=first)


def email_ingest(
    *, raw: bytes, mailbox: str | None = None, now: datetime | None = None
) -> IngestResult:
    """File one raw email (COP-05): create or thread a complaint, or ignore or hold it.

    `mailbox` is the address it was delivered to, when the caller knows; otherwise the
    recipients say. `now` is when it was received (default: now; never in the future).
    An unreadable or oversized message becomes a dead letter kept raw: one bad message
    never raises. Errors of the database or the file store do raise, so the caller can
    try again later (the message is then not yet stored, so nothing is lost or doubled).
    """
    now = now or timezone.now()
    key = message_key(raw)
    if _already_stored(key):
        return _duplicate(key)

    parsed: ParsedEmail | None = None
    problem = ""
    limit = settings.REDRESS_MAX_EMAIL_BYTES
    if len(raw) > limit:
        problem = f"message too large, kept raw: {len(raw)} bytes, limit {limit}"
    else:
        try:
            parsed = email_parse(raw)
        except ParseError as exc:
            problem = f"unreadable message kept raw: {exc}"
    mailbox = email_mailbox(parsed, mailbox)

    with transaction.atomic():
        record = _claim(raw=raw, key=key, parsed=parsed, mailbox=mailbox, now=now)
        if record is None:
            return _duplicate(key)
        if parsed is None:
            outcome = _Outcome(State.DEAD_LETTER, problem)
        else:
            try:
                with transaction.atomic():
                    outcome = _file(parsed=parsed, mailbox=mailbox, now=now)
            except ValidationError as exc:
                logger.warning("inbound email %s could not be filed: %s", key, exc.messages)
                outcome = _Outcome(
                    State.DEAD_LETTER,
                    "could not be filed, kept raw: " + " ".join(exc.messages),
                )
        record.state = outcome.state
        record.reason = _truncate(outcome.reason, 500)
        record.complaint = outcome.complaint
        record.save(update_fields=["state", "reason", "complaint"])
    return IngestResult(
        state=str(record.state),
        reference=outcome.complaint.reference if outcome.complaint else "",
        reason=record.reason,
        inbound_email_id=record.pk,
    )


# --- Staff review of quarantined mail ------------------------------------------------------


def _locked(inbound: InboundEmail) -> InboundEmail:
    return (
        InboundEmail.objects.select_for_update(of=("self",))
        .select_related("complaint")
        .get(pk=inbound.pk)
    )


@transaction.atomic
def inbound_email_release(
    *, inbound: InboundEmail, actor, now: datetime | None = None
) -> InboundEmail:
    """Put a quarantined email on its complaint as the customer's reply, after staff checked it.

    The reply counts from now, the moment staff vouched for it (COP-10).
    """
    now = now or timezone.now()
    locked = _locked(inbound)
    if locked.state != State.QUARANTINED or locked.complaint_id is None:
        raise ValidationError(
            "Only a quarantined email that answers a complaint can be released; this one is "
            f"'{locked.get_state_display()}'."
        )
    with locked.raw.open("rb") as stored:
        raw = stored.read()
    try:
        parsed = email_parse(raw)
    except ParseError as exc:
        raise ValidationError(f"The stored email cannot be read: {exc}") from exc
    _reply_add(complaint=locked.complaint, parsed=parsed, at=now, actor=actor)
    CaseEvent.objects.record(
        complaint=locked.complaint,
        kind=CaseEvent.Kind.CORRESPONDENCE,
        actor=actor,
        reason=f"Email from {locked.sender or 'an unknown sender'} released from quarantine "
        f"as the customer's reply (it was held: {locked.reason}).",
        at=now,
        extra={"inbound_email_id": locked.pk},
    )
    locked.state = State.RELEASED
    locked.reviewed_by = actor
    locked.reviewed_at = now
    locked.save(update_fields=["state", "reviewed_by", "reviewed_at"])
    return locked


@transaction.atomic
def inbound_email_reject(
    *, inbound: InboundEmail, actor, now: datetime | None = None
) -> InboundEmail:
    """Record that staff looked at a held email and it does not belong on any complaint."""
    locked = _locked(inbound)
    if locked.state not in (State.QUARANTINED, State.DEAD_LETTER):
        raise ValidationError(
            "Only a quarantined or unreadable email can be rejected; this one is "
            f"'{locked.get_state_display()}'."
        )
    locked.state = State.REJECTED
    locked.reviewed_by = actor
    locked.reviewed_at = now or timezone.now()
    locked.save(update_fields=["state", "reviewed_by", "reviewed_at"])
    return locked
