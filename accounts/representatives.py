"""Representatives: someone acting for the customer (issue 15 item 4; Ofcom GC C5, COP-01).

A family member, a carer, an attorney, a member of a business's staff or an MP's office
may make or carry on a complaint for the customer. Staff record who they are, their
relationship, the authority they saw (a file) and what the representative may do:
receive our letters and updates, and act on the case (reply, ask for a senior review,
ask for a deadlock letter).

The one place for the rules, whoever asks (the portal, the notices, the desk, the API):

- ``authority_active(rep, now)``: in force now (started, not ended, not withdrawn, the
  customer's data still held). Withdrawal and the end date end access at once: every
  check reads the stored dates, never a job's flag.
- ``letter_recipients(complaint, now)``: who receives a notice about the complaint: the
  representatives receiving letters and whether the customer is copied (unless they
  asked not to be).
- ``complaints_visible_q(user, now)`` / ``complaints_actable_q``: the complaints a
  representative's portal login may see, and act on.

Writes (``representative_record``, ``representative_withdraw``,
``representatives_expire``) send ``representative_changed`` inside their transaction;
the complaints app records it on each affected complaint's history
(complaints/services/representatives.py), so this module does not import its services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import ContactMethod, Customer, Integration, Representative, User

# Sent inside the writing transaction with representative, what ("given", "withdrawn",
# "expired"), actor (None for the expiry job), reason and at.
representative_changed = Signal()

GIVEN, WITHDRAWN, EXPIRED = "given", "withdrawn", "expired"


def active_q(now: datetime, prefix: str = "") -> Q:
    """Return the filter for authorities in force at `now` (on Representative, or via `prefix`)."""
    return Q(
        **{
            f"{prefix}withdrawn_at__isnull": True,
            f"{prefix}starts_at__lte": now,
            f"{prefix}customer__anonymised_at__isnull": True,
        }
    ) & (Q(**{f"{prefix}ends_at__isnull": True}) | Q(**{f"{prefix}ends_at__gt": now}))


def authority_active(rep: Representative, now: datetime | None = None) -> bool:
    """Return whether `rep`'s authority is in force at `now` (GC C5)."""
    now = now or timezone.now()
    return (
        rep.withdrawn_at is None
        and rep.starts_at <= now
        and (rep.ends_at is None or now < rep.ends_at)
    )


def authority_state(rep: Representative, now: datetime | None = None) -> str:
    """Return the authority's state in words: in force, not yet started, withdrawn, expired."""
    now = now or timezone.now()
    if rep.withdrawn_at is not None:
        return "withdrawn"
    if rep.ends_at is not None and rep.ends_at <= now:
        return "expired"
    if rep.starts_at > now:
        return "not yet started"
    return "in force"


def covers(rep: Representative, complaint) -> bool:
    """Return whether `rep`'s authority is over `complaint` (all the customer's, or named)."""
    if rep.customer_id != complaint.customer_id:
        return False
    return rep.all_complaints or rep.complaints.filter(pk=complaint.pk).exists()


def _for_complaint_q(complaint) -> Q:
    return Q(all_complaints=True) | Q(complaints=complaint)


def representatives_of(complaint, now: datetime | None = None):
    """Return the authorities in force over `complaint`, oldest first."""
    now = now or timezone.now()
    return (
        Representative.objects.filter(active_q(now), customer_id=complaint.customer_id)
        .filter(_for_complaint_q(complaint))
        .distinct()
        .order_by("recorded_at", "pk")
    )


@dataclass(frozen=True)
class Recipients:
    """Who a notice about a complaint goes to: representatives and whether the customer."""

    representatives: tuple[Representative, ...]
    customer: bool


def with_represented(customers):
    """`customers` (a Customer queryset) annotated `represented`: whether any representative
    was ever recorded for each, in force or not (a subquery in the same SELECT)."""
    return customers.annotate(
        represented=Exists(Representative.objects.filter(customer_id=OuterRef("pk")))
    )


def recipients_if_unrepresented(customer: Customer) -> Recipients | None:
    """Who a notice goes to without a query, for a customer read with_represented() who
    never had a representative: the customer alone, as letter_recipients() would say.
    None otherwise (letter_recipients() reads the authorities in force)."""
    if getattr(customer, "represented", None) is False:
        return Recipients(representatives=(), customer=True)
    return None


def letter_recipients(complaint, now: datetime | None = None) -> Recipients:
    """Return who receives a notice about `complaint` now (GC C5).

    Every representative whose authority is in force over the complaint and who receives
    letters; and the customer too, unless one of them was recorded with the customer's
    wish that letters go to the representative only. With no representative, the customer.
    """
    reps = tuple(representatives_of(complaint, now).filter(receive_letters=True))
    return Recipients(
        representatives=reps,
        customer=not reps or all(r.copy_customer for r in reps),
    )


def complaints_visible_q(user, now: datetime | None = None, *, acting: bool = False) -> Q:
    """Return the filter (on Complaint) for the complaints `user` may see as a representative.

    With `acting`, only those they may act on (act_on_case). No authority in force: none.
    """

    if not getattr(user, "is_authenticated", False) or user.is_staff:
        return Q(pk__in=[])
    now = now or timezone.now()
    reps = Representative.objects.filter(active_q(now), user=user)
    if acting:
        reps = reps.filter(act_on_case=True)
    # Read first (a query, and one more only for authorities over named complaints), then
    # filter by the numbers: an OR of subqueries makes PostgreSQL scan every complaint
    # (38 ms at 100k for the portal's list), an OR of lists uses the indexes.
    found = list(reps.values_list("pk", "customer_id", "all_complaints"))
    whole = sorted({customer for _pk, customer, every in found if every})
    some = [pk for pk, _customer, every in found if not every]
    named = (
        list(
            Representative.complaints.through.objects.filter(
                representative_id__in=some
            ).values_list("complaint_id", flat=True)
        )
        if some
        else []
    )
    visible = Q(pk__in=[])
    if whole:
        visible |= Q(customer_id__in=whole)
    if named:
        visible |= Q(pk__in=sorted(set(named)))
    return visible


def authority_for(user, complaint, now: datetime | None = None) -> Representative | None:
    """Return the authority in force by which `user` sees `complaint`, or None (acting first)."""
    if not getattr(user, "is_authenticated", False) or user.is_staff:
        return None
    return (
        representatives_of(complaint, now)
        .filter(user=user)
        .order_by("-act_on_case", "recorded_at", "pk")
        .first()
    )


def may_view(user, complaint, now: datetime | None = None) -> bool:
    """Return whether `user`, as a representative, may see `complaint` now."""
    return authority_for(user, complaint, now) is not None


def may_act(user, complaint, now: datetime | None = None) -> bool:
    """Return whether `user`, as a representative, may act on `complaint` now."""
    rep = authority_for(user, complaint, now)
    return rep is not None and rep.act_on_case


def represents_anyone(user, now: datetime | None = None) -> bool:
    """Return whether `user` holds any authority in force."""
    if not getattr(user, "is_authenticated", False) or user.is_staff:
        return False
    return Representative.objects.filter(active_q(now or timezone.now()), user=user).exists()


def affected_complaints(rep: Representative):
    """Return the complaints an authority is over: the named ones, or all the customer's open."""
    from complaints.domain.lifecycle import OPEN_STATUSES
    from complaints.models import Complaint

    if rep.all_complaints:
        return Complaint.objects.filter(
            customer_id=rep.customer_id, status__in=[s.value for s in OPEN_STATUSES]
        ).order_by("pk")
    return Complaint.objects.filter(pk__in=rep.complaints.values("pk")).order_by("pk")


def describe(rep: Representative) -> str:
    """Return who the representative is, for the history: "Jane Doe (carer)"."""
    who = f"{rep.name} ({rep.get_relationship_display().lower()}"
    if rep.organisation:
        who += f", {rep.organisation}"
    return who + ")"


def scope_words(rep: Representative) -> str:
    """Return what the authority lets them do, in words."""
    may = []
    if rep.receive_letters:
        may.append("receive our letters")
    if rep.act_on_case:
        may.append("act on the complaint")
    words = " and ".join(may) or "see the complaint"
    if rep.receive_letters and not rep.copy_customer:
        words += " (letters to the representative only, as the customer asked)"
    return words


def representative_problems(*, customer, data, complaints, user, starts_at, ends_at) -> dict:
    """Return every problem with a representative to record, by field (all at once)."""
    errors = {}
    if not data.get("name", "").strip():
        errors["name"] = "Give the representative's name."
    if not data.get("authority_seen", "").strip():
        errors["authority_seen"] = (
            "Say what showed they may act for the customer, for example a letter the "
            "customer signed or a power of attorney."
        )
    method = data.get("contact_method", ContactMethod.EMAIL)
    if method not in ContactMethod.values:
        errors["contact_method"] = "Choose how they want our letters."
    elif data.get("receive_letters", True):
        need = {
            ContactMethod.EMAIL: ("email", "an email address"),
            ContactMethod.POST: ("postal_address", "a postal address"),
            ContactMethod.PHONE: ("phone", "a telephone number"),
            ContactMethod.PORTAL: (None, "a portal login"),
        }[method]
        field, words = need
        missing = (user is None) if field is None else not data.get(field, "").strip()
        if missing:
            errors[field or "user"] = f"They want letters this way: give {words}."
    if user is not None and (
        user.is_staff or Integration.objects.filter(user=user).exists() or not user.is_active
    ):
        errors["user"] = "A representative's login is a portal account, not a member of staff."
    if user is not None and customer.user_id == user.pk:
        errors["user"] = "This is the customer's own login."
    if not data.get("all_complaints", True):
        if not complaints:
            errors["complaints"] = "Name the complaints, or make it for all their complaints."
        elif any(c.customer_id != customer.pk for c in complaints):
            errors["complaints"] = "Only this customer's complaints can be named."
    if ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = "The end date must be after the start."
    if not (data.get("receive_letters", True) or data.get("act_on_case", True) or user):
        errors["receive_letters"] = (
            "Say what they may do: receive our letters, act on the complaint, or both."
        )
    return errors


FIELDS = (
    "name",
    "relationship",
    "organisation",
    "email",
    "phone",
    "postal_address",
    "contact_method",
    "authority_seen",
    "receive_letters",
    "act_on_case",
    "copy_customer",
    "all_complaints",
)


@transaction.atomic
def representative_record(
    *,
    customer: Customer,
    actor: User,
    complaints=(),
    user: User | None = None,
    document=None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    now: datetime | None = None,
    **data,
) -> Representative:
    """Record a representative and the authority seen (issue 15 item 4; GC C5).

    Staff only (the desk or an integration): they saw the authority. `document`, when
    given, is an uploaded file checked by complaints.uploads (a PDF or an image). Bad
    input raises ValidationError and records nothing. Each affected complaint's history
    says who may act and what they may do.
    """
    from complaints.uploads import upload_check

    now = now or timezone.now()
    if actor is None or not actor.is_staff:
        raise PermissionError("A representative is recorded by a member of staff.")
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise TypeError(f"Unknown fields: {sorted(unknown)}")
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.anonymised_at is not None:
        raise ValidationError("This customer's personal data has been anonymised.")
    starts_at = starts_at or now
    complaints = list(complaints)
    data = {k: (v.strip() if isinstance(v, str) else v) for k, v in data.items()}
    errors = representative_problems(
        customer=customer,
        data=data,
        complaints=complaints,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    checked = None
    if document is not None:
        try:
            checked = upload_check(document, max_bytes=settings.REDRESS_MAX_ATTACHMENT_BYTES)
        except ValidationError as exc:
            errors["authority_document"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    rep = Representative(
        customer=customer,
        user=user,
        starts_at=starts_at,
        ends_at=ends_at,
        recorded_by=actor,
        recorded_at=now,
        **data,
    )
    if checked is not None:
        rep.authority_document_name = checked.name
        rep.authority_document_type = checked.content_type
        rep.authority_document.save(checked.name, document, save=False)
    rep.full_clean(exclude=["customer", "user", "authority_document"])
    rep.save()
    if not rep.all_complaints:
        rep.complaints.set(complaints)
    reason = f"{describe(rep)} may act for the customer: may {scope_words(rep)}"
    if rep.ends_at:
        reason += f", until {timezone.localtime(rep.ends_at):%-d %B %Y %H:%M}"
    reason += f". Authority seen: {rep.authority_seen}."
    _changed(rep, GIVEN, actor=actor, reason=reason, at=now)
    return rep


@transaction.atomic
def representative_withdraw(
    *, rep: Representative, actor: User, reason: str, now: datetime | None = None
) -> bool:
    """Withdraw an authority at once: no more letters, no more access (GC C5).

    Staff record it (the customer asked, or the authority was found wanting); the reason
    is required and kept. Returns False when it was already withdrawn.
    """
    now = now or timezone.now()
    if actor is None or not actor.is_staff:
        raise PermissionError("Authority is withdrawn by a member of staff.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the authority is withdrawn."})
    rep = Representative.objects.select_for_update().get(pk=rep.pk)
    if rep.withdrawn_at is not None:
        return False
    rep.withdrawn_at, rep.withdrawn_by, rep.withdrawal_reason = now, actor, reason
    rep.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    _changed(
        rep,
        WITHDRAWN,
        actor=actor,
        reason=f"{describe(rep)} may no longer act for the customer: authority withdrawn. "
        f"Why: {reason}",
        at=now,
    )
    return True


def representatives_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Record in the history each authority whose end date has passed; return how many.

    The deadline job (idempotent, by the ``rep_expiry_due_idx`` index). Access already
    ended at the end date itself: every check reads ``ends_at``; this writes the record.
    """
    now = now or timezone.now()
    due = list(
        Representative.objects.filter(
            ends_at__isnull=False,
            ends_at__lte=now,
            expiry_recorded_at__isnull=True,
            withdrawn_at__isnull=True,
        )
        .order_by("ends_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in due:
        with transaction.atomic():
            rep = (
                Representative.objects.select_for_update()
                .filter(pk=pk, expiry_recorded_at__isnull=True, withdrawn_at__isnull=True)
                .first()
            )
            if rep is None:
                continue
            rep.expiry_recorded_at = now
            rep.save(update_fields=["expiry_recorded_at"])
            _changed(
                rep,
                EXPIRED,
                actor=None,
                reason=f"{describe(rep)} may no longer act for the customer: the authority "
                f"ended on {timezone.localtime(rep.ends_at):%-d %B %Y %H:%M}.",
                at=now,
            )
            done += 1
    return done


def _changed(rep, what, *, actor, reason, at):
    representative_changed.send(
        sender=Representative, representative=rep, what=what, actor=actor, reason=reason, at=at
    )
