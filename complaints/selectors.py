"""Read-side queries for complaints."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import BooleanField, CharField, F, IntegerField, Q, Value
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts.models import CommunicationFormat
from accounts.needs import needs_badge, needs_of
from complaints.models import Heartbeat

HEARTBEAT_NAME = "beat"


def heartbeat_latest() -> Heartbeat | None:
    """Return the latest heartbeat written by the beat job, if any."""
    return Heartbeat.objects.filter(name=HEARTBEAT_NAME).first()


def complaints_visible_to(user):
    """Return the complaints a member of staff may see.

    Managers see every department; others see their department's queue (technical
    support, accounts, or the Company Secretary's for complaints about the Code, COP-19),
    formal cases if they review them (COP-15), and anything assigned to them.
    """
    from complaints.models import Complaint

    visible = complaints_visible_q(user)
    complaints = Complaint.objects.all()
    return complaints if visible is None else complaints.filter(visible)


def complaints_visible_q(user):
    """The condition of complaints_visible_to, or None when the user sees every complaint."""
    from django.db.models import Q

    from accounts.roles import user_department

    if user.is_superuser or user.has_perm("complaints.view_all_departments"):
        return None
    visible = Q(assignee=user)
    department = user_department(user)
    if department:
        visible |= Q(department=department)
    if user.has_perm("complaints.review_formal"):
        visible |= Q(formal_at__isnull=False)
    return visible


def complaints_root_cause_missing(complaints):
    """Closed complaints with no root cause (auto-closed, COP-10), newest closed first.

    Narrow `complaints` first (complaints_visible_to) to scope it to a department; the
    partial index complaint_cause_missing_idx holds only these rows (issue 16).
    """
    return complaints.filter(root_cause__isnull=True, closed_at__isnull=False).order_by(
        "-closed_at", "-pk"
    )


def rows_visible_to(rows, user, complaint_path: str):
    """Narrow rows about complaints (history, alerts, outbox) to those `user` may see.

    Each row is checked against its own complaint (EXISTS), so a newest-first page reads
    its rows by index and stops at the page. A subquery of every visible complaint made
    SQLite build that list of ids before each page: 65 s for the history list at 1M.
    """
    from django.db.models import Exists, OuterRef

    from complaints.models import Complaint

    visible = complaints_visible_q(user)
    if visible is None:
        return rows
    return rows.filter(Exists(Complaint.objects.filter(visible, pk=OuterRef(complaint_path))))


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a case's timeline, whatever it came from."""

    at: datetime
    kind: str
    who: str
    title: str
    text: str
    customer_visible: bool
    attachment_id: int | None = None


# Every source's rows as the same columns, so the whole timeline is one UNION ALL query.
_TIMELINE_COLUMNS = (
    "rank", "row_id", "moment", "who_id", "who_name", "who_email", "who_staff",
    "a", "b", "c", "bytes", "text", "visible",
)  # fmt: skip


_TIMELINE_NULLS = {
    name: Value(None, output_field=field())
    for name, field in {
        "who_id": IntegerField, "who_name": CharField, "who_email": CharField,
        "who_staff": BooleanField, "a": CharField, "b": CharField, "c": CharField,
        "bytes": IntegerField, "text": CharField, "visible": BooleanField,
    }.items()
}  # fmt: skip


def _timeline_rows(rows, rank: int, who: str | None, **columns):
    """`rows` as the timeline's columns, `who` naming its user foreign key (or None).

    A column a source has not got is NULL (a literal, no parameter to bind); so is a user
    column when nobody is named.
    """
    chosen = {name: _TIMELINE_NULLS[name] for name in _TIMELINE_COLUMNS[3:]}
    if who:
        chosen |= {
            "who_id": F(f"{who}_id"),
            "who_name": F(f"{who}__name"),
            "who_email": F(f"{who}__email"),
            "who_staff": F(f"{who}__is_staff"),
        }
    chosen |= columns | {
        "rank": Value(rank, output_field=IntegerField()), "row_id": F("pk"), "moment": F("at"),
    }  # fmt: skip
    return rows.order_by().values(**{name: chosen[name] for name in _TIMELINE_COLUMNS})


def complaint_timeline(complaint, *, customer_view: bool = False) -> list[TimelineEntry]:
    """Return the case's correspondence, notes, third-party mail, files, notices and history.

    With customer_view, only what the customer may see (never internal notes, COP-08).
    One query, whatever the length of the case: every source is read as the same columns
    and joined by UNION ALL, oldest first (ties in the order the sources are listed).
    """
    from complaints.models import Attachment, CaseEvent, Correspondence

    correspondence = complaint.correspondence.all()
    attachments = complaint.attachments.all()
    if customer_view:
        correspondence = correspondence.filter(customer_visible=True)
        attachments = attachments.filter(customer_visible=True)
    parts = [
        _timeline_rows(
            correspondence,
            0,
            "recorded_by",
            a=F("direction"),
            b=F("channel"),
            c=F("subject"),
            text=F("body"),
            visible=F("customer_visible"),
        ),
        _timeline_rows(
            attachments,
            1,
            "uploaded_by",
            a=F("kind"),
            b=F("original_name"),
            c=F("content_type"),
            bytes=F("size"),
            visible=F("customer_visible"),
        ),
    ]
    if not customer_view:
        parts += [
            _timeline_rows(complaint.notes.all(), 2, "author", text=F("body")),
            _timeline_rows(
                complaint.third_party_correspondence.all(),
                3,
                "recorded_by",
                a=F("direction"),
                b=F("third_party_name"),
                text=F("body"),
            ),
            _timeline_rows(
                complaint.events.all(),
                4,
                None,
                who_name=F("actor_label"),
                a=F("kind"),
                b=F("from_status"),
                c=F("to_status"),
                text=F("reason"),
            ),
        ]
    rows = parts[0].union(*parts[1:], all=True).order_by("moment", "rank", "row_id")
    channels = dict(Correspondence._meta.get_field("channel").flatchoices)
    directions = dict(Correspondence._meta.get_field("direction").flatchoices)
    attachment_kinds = dict(Attachment._meta.get_field("kind").flatchoices)
    event_kinds = dict(CaseEvent._meta.get_field("kind").flatchoices)
    customer_user_id = complaint.customer.user_id
    entries = []
    for row in rows:
        user = row["who_name"] or row["who_email"] or ""  # str(User): the name, else the email
        if row["rank"] == 0:
            # "From the customer", or who wrote it when a representative did (GC C5): a
            # message the customer's own login sent, or staff typed in from a call or
            # letter, is the customer's; one sent through a representative's own portal
            # login is theirs, and the customer, staff and an ombudsman must tell them apart.
            came_from = str(directions.get(row["a"], row["a"]))
            if (
                row["a"] == "in"
                and row["who_id"] is not None
                and not row["who_staff"]
                and row["who_id"] != customer_user_id
            ):
                came_from = f"From {user}, acting for the customer"
            title = f"{came_from} ({str(channels.get(row['b'], row['b'])).lower()})"
            entry = TimelineEntry(
                row["moment"],
                "correspondence",
                user or ("customer" if row["a"] == "in" else "system"),
                title + (f": {row['c']}" if row["c"] else ""),
                row["text"],
                row["visible"],
            )
        elif row["rank"] == 1:
            entry = TimelineEntry(
                row["moment"],
                "attachment",
                user or "system",
                f"{attachment_kinds.get(row['a'], row['a'])}: {row['b']}",
                f"{row['c']}, {row['bytes']:,} bytes",
                row["visible"],
                attachment_id=row["row_id"],
            )
        elif row["rank"] == 2:
            entry = TimelineEntry(row["moment"], "note", user, "Internal note", row["text"], False)
        elif row["rank"] == 3:
            direction = "from" if row["a"] == "in" else "to"
            entry = TimelineEntry(
                row["moment"],
                "third_party",
                user,
                f"Third party: {direction} {row['b']}",
                row["text"],
                False,
            )
        else:
            title = str(event_kinds.get(row["a"], row["a"]))
            if row["c"]:
                title = f"Status: {row['b'] or '-'} → {row['c']}".replace("_", " ")
            entry = TimelineEntry(
                row["moment"], "event", row["who_name"], title, row["text"], False
            )
        entries.append(entry)
    return entries


def complaints_overdue(complaints, *, now: datetime):
    """The complaints whose next deadline (stored next_due_at) has passed: the desk's "Overdue"."""
    return complaints.filter(next_due_at__lt=now)


def complaints_due_by(complaints, at: datetime):
    """The complaints whose next deadline falls at or before `at`."""
    return complaints.filter(next_due_at__lte=at)


REFERENCE_PATTERN = re.compile(r"(CMP|FCR)-\d{4}-\d{1,9}", re.IGNORECASE)


def complaints_search(complaints, term: str):
    """Narrow `complaints` to those matching what a member of staff typed in the search box.

    A complaint or formal-case reference finds that case; anything else finds the complaints
    of the customers it matches (accounts.services.customers_matching). The match is made on
    the customer table alone (a third the size of the complaints), so no search walks the
    complaints.
    """
    from accounts.services import customers_matching

    term = " ".join(term.split())
    if not term:
        return complaints
    if REFERENCE_PATTERN.fullmatch(term):
        return complaints.filter(**_reference_lookup("", term))
    return complaints.filter(customer_id__in=customers_matching(term).values("pk"))


def rows_for_reference(rows, complaint_path: str, term: str):
    """Narrow a long list of rows about complaints (history, alerts, outbox) to one case's.

    Only a whole complaint or formal-case reference is searched for, through `complaint_path`
    from the row to its complaint: that reads an index, where looking for text inside
    millions of history rows would read them all. Any other term finds nothing.
    """
    term = " ".join(term.split())
    if not term:
        return rows
    if not is_reference(term):
        return rows.none()
    return rows.filter(**_reference_lookup(f"{complaint_path}__", term))


def is_reference(term: str) -> bool:
    """Whether `term` is a whole complaint (CMP-…) or formal-case (FCR-…) reference."""
    return REFERENCE_PATTERN.fullmatch(" ".join(term.split())) is not None


def _reference_lookup(prefix: str, term: str) -> dict[str, str]:
    """The filter for a CMP-… or FCR-… reference, from a model `prefix` away."""
    reference = term.upper()
    if reference.startswith("FCR"):
        return {f"{prefix}formal_case__register_reference": reference}
    return {f"{prefix}reference": reference}


def portal_complaints_for(user, *, acting: bool = False):
    """Return the complaints a signed-in person may see on the portal.

    Their own, once their address is confirmed; and those they are authorised on as a
    representative with an authority in force now (issue 15 item 4; GC C5) — with
    `acting`, only those their authority lets them act on. Withdrawn or expired
    authority ends it at once (accounts.representatives decides).
    """
    from complaints.models import Complaint

    if not getattr(user, "is_authenticated", False):
        return Complaint.objects.none()
    from accounts.representatives import complaints_visible_q
    from accounts.services import portal_customer

    # The customer's own number, not a join or a subquery: the database then reads the
    # customer's rows from complaint_customer_idx (an OR with a subquery in it makes
    # PostgreSQL walk every complaint instead).
    customer = portal_customer(user)
    mine = [customer.pk] if customer else []
    return Complaint.objects.filter(
        Q(customer_id__in=mine) | complaints_visible_q(user, acting=acting)
    ).select_related("customer")


def complaint_customer_clocks(complaint, *, now: datetime) -> list[str]:
    """Return every clock of the complaint as the customer reads it, in plain words."""
    from django.conf import settings

    from complaints.clocks import calendar
    from complaints.domain import deadlines
    from complaints.domain.lifecycle import OPEN_STATUSES, Status
    from complaints.domain.wording import moment_words

    tz = calendar().tz
    say = lambda t: moment_words(t, tz)  # noqa: E731
    status = Status(complaint.status)
    lines = [f"You first told us about this on {say(complaint.first_made_at)}."]
    if complaint.first_responded_at is None and status in OPEN_STATUSES:
        if complaint.response_due_at > now:
            lines.append(f"We will reply by {say(complaint.response_due_at)}.")
        else:
            lines.append(
                f"Our reply was due by {say(complaint.response_due_at)}. We are sorry it is "
                "late; we will keep you updated until we reply."
            )
    elif complaint.responded_at:
        lines.append(f"We sent you our response on {say(complaint.responded_at)}.")
    if status not in OPEN_STATUSES and complaint.closed_at:
        lines.append(f"We closed it on {say(complaint.closed_at)}.")
    if complaint.resolution_awaiting_action and status == Status.RESPONDED:
        lines.append("We will tell you when we have done what we proposed.")
    if complaint.auto_close_at:
        lines.append(
            f"If we do not hear from you by {say(complaint.auto_close_at)}, we will take it "
            "that your complaint is resolved and close it. You can reply at any time before then."
        )
    if status in OPEN_STATUSES and complaint.resolved_at is None:
        lines.append(f"We aim to resolve your complaint by {say(complaint.resolution_target_at)}.")
    policy = deadlines.policy_by_key(complaint.policy_key)
    customer = complaint.customer
    eligible = deadlines.adr_customer_eligible(
        customer.customer_type, customer.employee_count, policy=policy
    )
    scheme = settings.REDRESS_ADR_SCHEME["name"]
    if eligible:
        if complaint.osc_window_closed:
            lines.append(
                f"The time to take this complaint to {scheme} ended on "
                f"{say(complaint.osc_deadline_at)}. You can still go to court."
            )
        elif complaint.adr_eligible_at <= now or complaint.deadlock_letter_received_at:
            lines.append(
                f"You can now ask {scheme}, an independent ombudsman, to look at your "
                f"complaint, free of charge. You must do so by {say(complaint.osc_deadline_at)}."
            )
        elif status in OPEN_STATUSES:
            lines.append(
                f"If your complaint is not resolved by {say(complaint.adr_eligible_at)}, you "
                f"can ask {scheme}, an independent ombudsman, to look at it."
            )
    return lines


def customer_needs_banner(complaint, user) -> dict | None:
    """What staff are told at the top of the case about the customer's recorded needs.

    Staff only (issue 15; Ofcom GC C5): the customer's own pages never show it. None
    for a member of staff whose role may not read needs.
    """
    if not user.has_perm("accounts.view_customerneeds"):
        return None
    needs = needs_of(complaint.customer)  # read with the complaint on the case page
    case_url = reverse("admin:complaints_complaint_change", args=[complaint.pk])
    back = "?" + urlencode({"next": case_url})
    record_url = reverse("admin:accounts_customer_needs", args=[complaint.customer_id]) + back
    if needs is None:
        return {
            "record_url": record_url,
            "may_change": user.has_perm("accounts.change_customerneeds"),
        }
    interval = ""
    if complaint.agreed_update_working_days:
        interval = f"every {complaint.agreed_update_working_days} working days, as agreed"
    return {
        "badge": needs_badge(needs),
        "needs": needs.kind_labels(),
        "details": needs.details,
        "call_times": needs.call_times,
        "format": needs.get_communication_format_display()
        if needs.communication_format != CommunicationFormat.STANDARD
        else "",
        "interval": interval,
        "named_contact": needs.named_contact,
        "review_on": needs.review_on,
        "review_due": needs.review_on <= timezone.localdate(),
        "record_url": record_url,
        "may_change": user.has_perm("accounts.change_customerneeds"),
    }


def complaint_representatives_banner(complaint, user) -> dict | None:
    """Who acts for the customer on this case now, for the top of the case page (GC C5).

    Staff only; one query. None when nobody does and the user may not record one.
    """
    if not user.has_perm("accounts.view_representative"):
        return None
    from accounts.representatives import describe, representatives_of, scope_words

    reps = list(representatives_of(complaint))
    return {
        "people": [
            {
                "who": describe(rep),
                "may": scope_words(rep),
                "until": rep.ends_at,
                "contact": rep.get_contact_method_display().lower(),
            }
            for rep in reps
        ],
        "customer_url": reverse("admin:accounts_customer_change", args=[complaint.customer_id]),
        "may_add": user.has_perm("accounts.add_representative"),
    }
