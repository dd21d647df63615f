"""Every page makes the same number of queries however many rows it shows.

Each page is asked for twice: with a few rows (complaints, messages, cases, users), then
again after many more were added. The counts must be equal, not merely bounded, so an
N+1 shows at once, while the exact numbers are free to fall as the pages are tuned.

To cover a new page, add one line to PAGES. A page with a known N+1 carries `n_plus_one=`
(the where and why); it is then a strict xfail, which fails as soon as the N+1 is fixed.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ConsentHow, ContactMethod
from accounts.needs import needs_record
from accounts.roles import Role
from complaints.domain.lifecycle import Status
from complaints.models import (
    AlarmKind,
    Attachment,
    ClosureReason,
    Complaint,
    Department,
    StaffAlert,
)
from complaints.services.desk import (
    complaint_assign,
    complaint_attachment_add,
    complaint_await_third_party,
    complaint_escalate,
    complaint_note_add,
    complaint_third_party_log,
)
from complaints.services.inbound import email_ingest
from complaints.services.portal import complaint_deadlock_request, portal_reply
from complaints.services.responses import (
    complaint_customer_reply,
    complaint_progress_update,
    complaint_respond,
)
from complaints.services.transitions import complaint_transition
from escalation.services import (
    final_proposition_send,
    formal_case_appoint,
    formal_review_save,
)
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
# A Monday morning: every row below is made, and every page asked for, on the same day.
NOW = datetime(2026, 3, 9, 9, 30, tzinfo=LONDON)
PDF = b"%PDF-1.4\n%%EOF\n"

# How many rows "few" and "many" mean, by kind of page.
CUSTOMER_COMPLAINTS = (1, 15)
QUEUE_ROWS = (3, 40)
LIST_ROWS = (3, 15)
HISTORY_ROUNDS = (1, 6)  # one round adds a message, file, letter, note, alert... of each kind


@pytest.fixture(autouse=True)
def clock():
    # Ticking, so that each notice has its own moment (one notice per complaint, kind and
    # moment); the page sees the same day throughout.
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


# --- Building rows through the services ---------------------------------------------


def _pdf(name: str = "report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _staff(count: int, role: str = Role.SUPPORT_AGENT) -> list:
    return [StaffUserFactory(role=role) for _ in range(count)]


def _alert(complaint: Complaint, *, recipient, n: int) -> None:
    # The deadline jobs raise these (see services/enforcement._alert); made directly so
    # that a case can have many without running weeks of sweeps.
    StaffAlert.objects.create(
        complaint=complaint,
        kind=AlarmKind.PROGRESS_UPDATE,
        deadline_at=timezone.now() + timedelta(minutes=n),
        audience=StaffAlert.Audience.ASSIGNEE,
        department=complaint.department,
        recipient=recipient,
        message=f"{complaint.reference}: a progress update is due ({n}).",
    )


def _history_add(complaint: Complaint, *, staff: list, rounds: int, letters: bool = True) -> None:
    """Add `rounds` of everything a long case collects, from several members of staff."""
    user = complaint.customer.user
    for i in range(rounds):
        agent = staff[i % len(staff)]
        if user is not None:
            portal_reply(
                complaint=complaint, user=user, body=f"Still broken ({i}).", files=[_pdf()]
            )
        else:
            complaint_customer_reply(
                complaint=complaint, body=f"Still broken ({i}).", channel="email"
            )
        if letters:  # a message, a notice, its PDF letter and its deliveries
            complaint_progress_update(
                complaint=complaint, actor=agent, text=f"An engineer visits ({i})."
            )
        complaint_note_add(complaint=complaint, actor=agent, body=f"Line test {i} shows noise.")
        complaint_third_party_log(
            complaint=complaint,
            actor=agent,
            third_party_name="Openreach",
            direction="in" if i % 2 else "out",
            body=f"Engineer booked ({i}).",
        )
        complaint_attachment_add(
            complaint=complaint,
            actor=agent,
            upload=_pdf(f"line-test-{i}.pdf"),
            customer_visible=bool(i % 2),
            max_bytes=settings.REDRESS_MAX_ATTACHMENT_BYTES,
        )
        _alert(complaint, recipient=agent, n=i)


@dataclass
class Scene:
    """Who asks for a page, the URL's arguments, and how to add many more rows."""

    client: Client
    grow: Callable[[], None]
    kwargs: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)


def _anonymous(visit) -> Scene:
    """Nobody signed in; the rows are other people's complaints."""
    few, many = CUSTOMER_COMPLAINTS
    for _ in range(few):
        complaint_make()
    return Scene(Client(), grow=lambda: [complaint_make() for _ in range(many - few)])


def _customer_complaints(visit) -> Scene:
    """A confirmed customer with one complaint, then fifteen in every state."""
    customer = CustomerFactory(confirmed=True)
    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    agents = _staff(2)

    def add(i: int) -> None:
        complaint = complaint_make(customer=customer, department=list(Department)[i % 3])
        _history_add(complaint, staff=agents, rounds=1, letters=False)
        if i % 3 == 1:
            complaint_respond(
                complaint=complaint,
                actor=agents[0],
                findings="A faulty router.",
                fault_found=True,
                remedy_done="Sent a new one.",
            )
        elif i % 3 == 2:
            complaint_escalate(
                complaint=complaint, actor=customer.user, requested="not_specified", reason="No."
            )
            formal_case_appoint(case=complaint.formal_case, manager=manager, actor=manager)

    few, many = CUSTOMER_COMPLAINTS
    for i in range(few):
        add(i)
    return Scene(_signed_in(customer.user), grow=lambda: [add(i) for i in range(few, many)])


def _customer_account(visit) -> Scene:
    """A confirmed customer with one complaint, then fifteen, for pages that do not list them."""
    customer = CustomerFactory(confirmed=True)
    few, many = CUSTOMER_COMPLAINTS
    for _ in range(few):
        complaint_make(customer=customer)
    return Scene(
        _signed_in(customer.user),
        grow=lambda: [complaint_make(customer=customer) for _ in range(many - few)],
    )


def _customer_case(visit) -> Scene:
    """A confirmed customer's complaint with a short history, then a long one."""
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    agents = _staff(3)
    complaint_assign(complaint=complaint, assignee=agents[0], actor=agents[0])
    short, long = HISTORY_ROUNDS
    _history_add(complaint, staff=agents, rounds=short)
    visible = complaint.attachments.filter(customer_visible=True).first()
    return Scene(
        _signed_in(customer.user),
        grow=lambda: _history_add(complaint, staff=agents, rounds=long - short),
        kwargs={"reference": complaint.reference, "pk": visible.pk},
    )


def _staff_case(visit) -> Scene:
    """A senior manager on a case with a short history, then a long one."""
    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    complaint = complaint_make()
    agents = _staff(3)
    complaint_assign(complaint=complaint, assignee=agents[0], actor=manager)
    short, long = HISTORY_ROUNDS
    _history_add(complaint, staff=agents, rounds=short)
    complaint_deadlock_request(complaint=complaint, user=None, reason="Can do no more.")
    return Scene(
        _signed_in(manager),
        grow=lambda: _history_add(complaint, staff=agents, rounds=long - short),
        kwargs={"object_id": complaint.pk, "action": "assign"},
    )


def _formal_case(visit) -> Scene:
    """A senior manager on a formal case with a short history, then a long one with letters."""
    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    complaint = complaint_make()
    agents = _staff(3)
    short, long = HISTORY_ROUNDS
    _history_add(complaint, staff=agents, rounds=short)
    complaint = complaint_escalate(
        complaint=complaint, actor=manager, requested="technical_director", reason="Still down."
    )
    return Scene(
        _signed_in(manager),
        grow=lambda: _history_add(complaint, staff=agents, rounds=long - short),
        kwargs={"register_reference": complaint.formal_case.register_reference},
    )


def _formal_case_files(visit) -> Scene:
    """A formal case with the ombudsman's request and one case file, then many versions."""
    from complaints.models import Bundle, BundleKind, BundleState
    from escalation.services import adr_referral_record, case_file_request_record

    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    complaint = complaint_escalate(
        complaint=complaint_make(), actor=manager, requested="not_specified", reason="No."
    )
    referral = adr_referral_record(
        complaint=complaint, actor=manager, referred_at=timezone.now() - timedelta(days=1)
    )
    case_file_request_record(
        referral=referral, actor=manager, requested_on=timezone.localdate(),
        case_file_reference="OS-CF-1", due_on=timezone.localdate() + timedelta(days=14),
    )  # fmt: skip
    requesters = _staff(3, role=Role.SENIOR_MANAGER)

    def add(versions: range) -> None:
        for n in versions:
            Bundle.objects.create(
                kind=BundleKind.OMBUDSMAN_CASE_FILE, complaint=complaint,
                customer=complaint.customer, version=n, requested_by=requesters[n % 3],
                state=BundleState.READY if n % 2 else BundleState.FAILED,
                file=f"bundles/x{n}.zip", sha256=f"{n:064d}", size=1000 * n, error="",
            )  # fmt: skip

    add(range(1, 2))
    return Scene(
        _signed_in(manager),
        grow=lambda: add(range(2, 9)),
        kwargs={"register_reference": complaint.formal_case.register_reference},
    )


def _queue_row(queue: str, *, me, others: list, i: int) -> None:
    """Add one complaint that the desk's `queue` lists for `me`."""
    late = queue in ("due_today", "overdue")
    complaint = complaint_make(
        department=list(Department)[i % 3],
        first_made_at=timezone.now() - timedelta(days=7) if late else None,
    )
    if queue == "mine":
        complaint_assign(complaint=complaint, assignee=me, actor=me)
    elif queue != "unassigned":
        complaint_assign(complaint=complaint, assignee=others[i % len(others)], actor=me)
    if queue == "awaiting":
        complaint_await_third_party(
            complaint=complaint, actor=me, third_party_name="Openreach", reason="Line fault."
        )
    elif queue == "formal":
        complaint_escalate(complaint=complaint, actor=me, requested="not_specified", reason="No.")
    elif queue in ("closed", "cause_missing"):  # closed with no root cause recorded
        complaint_respond(complaint=complaint, actor=me, findings="No fault.", fault_found=False)
        complaint_transition(
            complaint=complaint,
            to=Status.CLOSED,
            actor=me,
            reason="The customer is happy.",
            closure_reason=ClosureReason.CUSTOMER_SATISFIED,
        )


def _queue(visit) -> Scene:
    """A senior manager's desk queue (the changelist's `queue` filter): 3 rows, then 40."""
    queue = visit.query.get("queue", "open")
    me = StaffUserFactory(role=Role.SENIOR_MANAGER)
    others = _staff(3)
    few, many = QUEUE_ROWS
    for i in range(few):
        _queue_row(queue, me=me, others=others, i=i)
    return Scene(
        _signed_in(me),
        grow=lambda: [_queue_row(queue, me=me, others=others, i=i) for i in range(few, many)],
        query=visit.query,
    )


def _queue_with_needs(visit) -> Scene:
    """The desk's open queue where every other customer has recorded needs (issue 15 badges)."""
    me = StaffUserFactory(role=Role.SENIOR_MANAGER)

    def add(i: int) -> None:
        customer = CustomerFactory()
        if i % 2 == 0:
            needs_record(
                customer=customer,
                actor=me,
                consent_how=ConsentHow.PHONE,
                kinds=["hearing", "call_dont_write"],
                details="Hearing aid.",
                named_contact=me,
            )
        complaint_make(customer=customer)

    few, many = QUEUE_ROWS
    for i in range(few):
        add(i)
    return Scene(_signed_in(me), grow=lambda: [add(i) for i in range(few, many)])


def _needs_rows(visit) -> Scene:
    """An agent; each row a customer with recorded needs (the review queue)."""
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)

    def add(i: int) -> None:
        needs_record(
            customer=CustomerFactory(),
            actor=agent,
            consent_how=ConsentHow.LETTER,
            kinds=["sight"],
            communication_format="large_print",
        )

    few, many = LIST_ROWS
    for i in range(few):
        add(i)
    return Scene(_signed_in(agent), grow=lambda: [add(i) for i in range(few, many)])


def _customer_with_needs(visit) -> Scene:
    """A confirmed customer with recorded needs and one complaint, then fifteen."""
    customer = CustomerFactory(confirmed=True)
    needs_record(
        customer=customer,
        actor=customer.user,
        by_customer=True,
        consent_how=ConsentHow.PORTAL,
        kinds=["hearing", "call_time"],
        call_times="after 2pm",
    )
    few, many = CUSTOMER_COMPLAINTS
    for _ in range(few):
        complaint_make(customer=customer)
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    return Scene(
        _signed_in(customer.user if visit.url_name.startswith("accounts:") else agent),
        grow=lambda: [complaint_make(customer=customer) for _ in range(many - few)],
        kwargs={"object_id": customer.pk},
    )


def _desk_rows(visit) -> Scene:
    """An administrator; each row a complaint with an assignee, a notice, letters and an alert."""
    admin_user = StaffUserFactory(role=Role.ADMINISTRATOR)
    agents = _staff(3)
    methods = [ContactMethod.EMAIL, ContactMethod.POST, ContactMethod.PHONE, ContactMethod.PORTAL]

    def add(i: int) -> None:
        customer = CustomerFactory(with_user=bool(i % 2), preferred_contact_method=methods[i % 4])
        complaint = complaint_make(customer=customer)
        agent = agents[i % len(agents)]
        complaint_assign(complaint=complaint, assignee=agent, actor=admin_user)
        complaint_progress_update(complaint=complaint, actor=agent, text="An engineer visits.")
        _alert(complaint, recipient=agent, n=i)

    few, many = LIST_ROWS
    for i in range(few):
        add(i)
    return Scene(_signed_in(admin_user), grow=lambda: [add(i) for i in range(few, many)])


def _inbound_emails(visit) -> Scene:
    """An administrator; each row an email that opened a complaint, or one replying to it."""
    admin_user = StaffUserFactory(role=Role.ADMINISTRATOR)
    sent: list[str] = []

    def add(i: int) -> None:
        # Odd ones answer the one before: half from its sender, half from a stranger.
        sender = f"sender{i - 1 if i % 4 == 1 else i}@example.com"
        thread = f"In-Reply-To: {sent[-1]}\nReferences: {sent[-1]}\n" if i % 2 else ""
        sent.append(f"<q{i}-{uuid.uuid4().hex}@example.com>")
        raw = (
            f"From: Sender {i} <{sender}>\nTo: support@sovision.com\n"
            f"Subject: Broadband drops ({i})\nMessage-ID: {sent[-1]}\n{thread}"
            "Content-Type: text/plain; charset=utf-8\n\nIt drops every evening.\n"
        ).encode()
        email_ingest(raw=raw)

    few, many = LIST_ROWS
    for i in range(few):
        add(i)
    return Scene(_signed_in(admin_user), grow=lambda: [add(i) for i in range(few, many)])


def _people(visit) -> Scene:
    """An administrator; each row a member of staff in a role, or a customer with a login."""
    admin_user = StaffUserFactory(role=Role.ADMINISTRATOR)
    roles = [r for r in Role if r != Role.CUSTOMER]

    def add(i: int) -> None:
        StaffUserFactory(role=roles[i % len(roles)])
        CustomerFactory(with_user=bool(i % 2))

    few, many = LIST_ROWS
    for i in range(few):
        add(i)
    return Scene(_signed_in(admin_user), grow=lambda: [add(i) for i in range(few, many)])


def _sar_answered(customer, handler, *, sent: bool) -> None:
    """A subject access request of `customer`, answered with its ZIP or refused."""
    from accounts.sar import sar_fulfil, sar_open, sar_refuse, sar_response_prepare
    from complaints.bundles import bundle_build

    sar = sar_open(customer=customer, channel="letter", actor=handler).request
    if sent:
        bundle_build(sar_response_prepare(sar=sar, actor=handler).pk)
        sar_fulfil(sar=sar, actor=handler)
    else:
        sar_refuse(sar=sar, reason="Manifestly excessive.", actor=handler)


def _customer_sars(visit) -> Scene:
    """A confirmed customer with one answered subject access request, then fifteen."""
    customer = CustomerFactory(confirmed=True)
    complaint_make(customer=customer)
    lead = StaffUserFactory(role=Role.COMPANY_SECRETARY)
    few, many = CUSTOMER_COMPLAINTS
    for i in range(few):
        _sar_answered(customer, lead, sent=True)
    return Scene(
        _signed_in(customer.user),
        grow=lambda: [_sar_answered(customer, lead, sent=bool(i % 2)) for i in range(many - few)],
    )


def _sar_desk(visit) -> Scene:
    """The Company Secretary; each row an open request of another customer, alerted."""
    from accounts.models import SubjectAccessRequest
    from accounts.sar import sar_alerts_sweep, sar_open

    lead = StaffUserFactory(role=Role.COMPANY_SECRETARY)
    received = timezone.now() - timedelta(days=40)

    def add(i: int) -> None:
        sar_open(customer=CustomerFactory(), channel="letter", actor=lead, received_at=received)

    few, many = LIST_ROWS
    for i in range(few):
        add(i)
    sar_alerts_sweep()

    def grow():
        for i in range(few, many):
            add(i)
        sar_alerts_sweep()

    first = SubjectAccessRequest.objects.order_by("pk").first()
    return Scene(_signed_in(lead), grow=grow, kwargs={"object_id": first.pk})


def _recurring_alerts(visit) -> Scene:
    """A senior manager; each row a burst of a recurring problem (issue 16 item 2)."""
    from complaints.models import RecurringProblemAlert

    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    now = timezone.now()

    def add(i: int) -> None:
        RecurringProblemAlert.objects.create(
            kind=RecurringProblemAlert.Kind.ROOT_CAUSE,
            key=f"cause_{i}",
            burst_started_at=now - timedelta(hours=i),
            references=[f"CMP-{i:06d}"],
            message=f"Recurring problem, root cause {i}: 5 complaints in 10 working days.",
        )

    few, many = LIST_ROWS
    for i in range(few):
        add(i)
    return Scene(_signed_in(manager), grow=lambda: [add(i) for i in range(few, many)])


def _sar_case(visit) -> Scene:
    """The Company Secretary on one request, with a short then a long history."""
    from accounts.sar import sar_open

    lead = StaffUserFactory(role=Role.COMPANY_SECRETARY)
    customer = CustomerFactory()
    sar = sar_open(customer=customer, channel="letter", actor=lead).request

    def grow():
        for _ in range(10):
            sar_open(customer=customer, channel="email", actor=lead, details="Again.")

    return Scene(_signed_in(lead), grow=grow, kwargs={"object_id": sar.pk})


def _formal_cases(visit) -> Scene:
    """A senior manager; formal cases reviewed by them, by another, and closed ones."""
    me, other = (
        StaffUserFactory(role=Role.SENIOR_MANAGER),
        StaffUserFactory(role=Role.SENIOR_MANAGER),
    )

    def add(i: int) -> None:
        complaint = complaint_make(department=list(Department)[i % 3])
        complaint = complaint_escalate(
            complaint=complaint, actor=me, requested="not_specified", reason="Still down."
        )
        case = formal_case_appoint(case=complaint.formal_case, manager=(me, other)[i % 2], actor=me)
        if i % 3 == 2:
            case = formal_review_save(
                case=case,
                actor=me,
                further_investigation="Rang the exchange.",
                findings="A faulty line card.",
                proposed_action="Replace it and credit a month.",
            )
            final_proposition_send(case=case, actor=me)

    few, many = LIST_ROWS
    for i in range(few):
        add(i)
    return Scene(_signed_in(me), grow=lambda: [add(i) for i in range(few, many)])


def _remedies_and_answers(visit) -> Scene:
    """A manager; remedies (one a payment) and satisfaction answers in every department."""
    from complaints.models import Remedy, SatisfactionResponse

    me = StaffUserFactory(role=Role.SENIOR_MANAGER)

    def add(i: int) -> None:
        complaint = complaint_make(department=list(Department)[i % 3])
        Remedy.objects.create(complaint=complaint, kind="apology", recorded_by=me)
        Remedy.objects.create(
            complaint=complaint, kind="goodwill", amount="10.50", approved_by=me, recorded_by=me
        )
        SatisfactionResponse.objects.create(complaint=complaint, score=1 + i % 5, via="link")

    few, many = LIST_ROWS
    for i in range(few):
        add(i)
    return Scene(_signed_in(me), grow=lambda: [add(i) for i in range(few, many)])


# --- The pages ----------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page: its URL, who asks for it with which rows, and whether it lists them."""

    url_name: str
    scene: Callable[[Page], Scene]
    url_kwargs: tuple[str, ...] = ()
    method: str = "get"
    query: dict = field(default_factory=dict)
    lists: bool = False


def page(
    id: str,
    scene: Callable[[Page], Scene],
    url_name: str,
    *url_kwargs: str,
    method: str = "get",
    lists: bool = False,
    n_plus_one: str = "",
    **query: str,
):
    """Return one row of PAGES; `lists` says the page shows the rows, so it must grow."""
    marks = (
        [pytest.mark.xfail(strict=True, raises=AssertionError, reason=f"N+1: {n_plus_one}")]
        if n_plus_one
        else []
    )
    return pytest.param(Page(url_name, scene, url_kwargs, method, query, lists), id=id, marks=marks)


CHANGELIST = "admin:complaints_complaint_changelist"
REF = "reference"

PAGES = [
    # Anyone.
    page("home", _anonymous, "complaints:home"),
    page("code", _anonymous, "complaints:code"),
    page("next", _anonymous, "complaints:next"),
    page("complain", _anonymous, "complaints:complain"),
    page("confirm-resend", _anonymous, "complaints:confirm-resend"),
    page("signup", _anonymous, "accounts:signup"),
    page("login", _anonymous, "accounts:login"),
    page("password-reset", _anonymous, "accounts:password_reset"),
    # A customer: their complaints, and one complaint with a short then a long history.
    page("my-complaints", _customer_complaints, "complaints:my-complaints", lists=True),
    page("complain-signed-in", _customer_account, "complaints:complain"),
    page("details", _customer_account, "accounts:details"),
    page("password", _customer_account, "accounts:password"),
    page("privacy-export", _customer_account, "accounts:privacy_export"),
    page(
        "privacy-export-download",
        _customer_complaints,
        "accounts:privacy_export",
        method="post",
        lists=True,
    ),
    page("privacy-erase", _customer_account, "accounts:privacy_erase"),
    # Subject access requests (issue 15 item 5).
    page("sar-list", _customer_sars, "accounts:sar-list", lists=True),
    page("sar-ask", _customer_sars, "accounts:privacy_export"),
    page("needs", _customer_with_needs, "accounts:needs"),
    page("needs-withdraw", _customer_with_needs, "accounts:needs_withdraw"),
    page("my-complaint", _customer_case, "complaints:complaint-detail", REF, lists=True),
    page("my-complaint-reply", _customer_case, "complaints:complaint-reply", REF),
    page("my-complaint-escalate", _customer_case, "complaints:complaint-escalate", REF),
    page("my-complaint-deadlock", _customer_case, "complaints:complaint-deadlock", REF),
    page("my-complaint-file", _customer_case, "complaints:complaint-file", REF, "pk"),
    # Staff: the desk's queues, a case page, and the other lists.
    page("desk-all", _queue, CHANGELIST, lists=True),
    page("desk-mine", _queue, CHANGELIST, lists=True, queue="mine"),
    page("desk-unassigned", _queue, CHANGELIST, lists=True, queue="unassigned"),
    page("desk-due-today", _queue, CHANGELIST, lists=True, queue="due_today"),
    page("desk-overdue", _queue, CHANGELIST, lists=True, queue="overdue"),
    page("desk-awaiting", _queue, CHANGELIST, lists=True, queue="awaiting"),
    page("desk-formal", _queue, CHANGELIST, lists=True, queue="formal"),
    page("desk-open", _queue, CHANGELIST, lists=True, queue="open"),
    page("desk-closed", _queue, CHANGELIST, lists=True, queue="closed"),
    page("desk-root-cause-missing", _queue, CHANGELIST, lists=True, queue="cause_missing"),
    # Issue 15: the staff-only needs badge comes with the rows, not a query each.
    page("desk-needs-badges", _queue_with_needs, CHANGELIST, lists=True, queue="open"),
    page("needs-review", _needs_rows, "admin:accounts_customerneeds_changelist", lists=True),
    page("desk-customer-needs", _customer_with_needs, "admin:accounts_customer_needs", "object_id"),
    page(
        "desk-case",
        _staff_case,
        "admin:complaints_complaint_change",
        "object_id",
        lists=True,
    ),
    # An action's form on the case page; _staff_case names the Assign action.
    page(
        "desk-case-action", _staff_case, "admin:complaints_complaint_action", "object_id", "action"
    ),
    page("admin-index", _people, "admin:index"),
    page("case-events", _desk_rows, "admin:complaints_caseevent_changelist", lists=True),
    page("staff-alerts", _desk_rows, "admin:complaints_staffalert_changelist", lists=True),
    page("outbox", _desk_rows, "admin:complaints_outboxmessage_changelist", lists=True),
    page("inbound-emails", _inbound_emails, "admin:complaints_inboundemail_changelist", lists=True),
    page("users", _people, "admin:accounts_user_changelist", lists=True),
    page("customers", _people, "admin:accounts_customer_changelist", lists=True),
    page("sar-desk", _sar_desk, "admin:accounts_subjectaccessrequest_changelist", lists=True),
    page("sar-alerts", _sar_desk, "admin:accounts_subjectaccessalert_changelist", lists=True),
    page(
        "recurring-alerts",
        _recurring_alerts,
        "admin:complaints_recurringproblemalert_changelist",
        lists=True,
    ),
    page(
        "sar-desk-case",
        _sar_case,
        "admin:accounts_subjectaccessrequest_change",
        "object_id",
        lists=True,
    ),
    page("formal-list", _formal_cases, "escalation:formal-list", lists=True),
    page("formal-case", _formal_case, "escalation:formal-detail", "register_reference", lists=True),
    # The ombudsman's case file: its request and every version listed (issue 16 item 5).
    page(
        "formal-case-files",
        _formal_case_files,
        "escalation:formal-detail",
        "register_reference",
        lists=True,
    ),
    page("register", _formal_cases, "reports:register", lists=True),
    page("dashboard", _formal_cases, "reports:dashboard"),
    page("return", _formal_cases, "reports:return"),
    # Issue 16: the remedy and satisfaction tables are counted by the database.
    page("dashboard-remedies", _remedies_and_answers, "reports:dashboard"),
]


def _ask(client: Client, visit: Page, url: str, query: dict) -> tuple[list[str], int]:
    """Return the SQL of every query the page made, and the length of the page."""
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, visit.method)(url, query)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if response.streaming:  # read to the end, which also closes the file
            body = b"".join(response.streaming_content)
        else:
            body = response.content
    return [q["sql"] for q in queries.captured_queries], len(body)


def _grown(few: list[str], many: list[str]) -> str:
    """Describe the queries made only with many rows, ids blurred, most repeated first."""

    def blur(sql: str) -> str:
        return re.sub(r"\b\d+\b", "N", re.sub(r"IN \([^)]*\)", "IN (...)", sql))

    extra = Counter(map(blur, many)) - Counter(map(blur, few))
    return "\n".join(f"  {n} x {sql[:400]}" for sql, n in extra.most_common(5))


@pytest.mark.parametrize("visit", PAGES)
def test_the_query_count_does_not_grow_with_the_rows(visit: Page):
    scene = visit.scene(visit)
    url = reverse(visit.url_name, kwargs={k: scene.kwargs[k] for k in visit.url_kwargs})
    _ask(scene.client, visit, url, scene.query)  # warm the caches
    few, few_size = _ask(scene.client, visit, url, scene.query)
    scene.grow()
    _ask(scene.client, visit, url, scene.query)
    many, many_size = _ask(scene.client, visit, url, scene.query)
    if visit.lists:
        assert many_size > few_size, f"{url}: the page shows no more rows than before"
    assert len(many) == len(few), (
        f"{url}: {len(few)} queries with few rows, {len(many)} with many; "
        f"made only with many:\n{_grown(few, many)}"
    )


def test_every_page_is_in_the_table():
    """A new URL gets a line in PAGES (or a reason here why it lists nothing)."""
    from complaints.urls import urlpatterns as complaints_urls
    from escalation.urls import urlpatterns as formal_urls

    covered = {p.values[0].url_name for p in PAGES}
    not_lists = {
        "complaints:complaint-sent",  # one complaint just filed, by this browser
        "complaints:confirm",  # a button
        "complaints:healthz",
        "complaints:staff-attachment-download",  # one file
        "complaints:bundle-progress",  # one bundle (its versions are on the formal case page)
        "complaints:bundle-download",  # one file
        "complaints:satisfaction",  # one question about one complaint (issue 16)
    }
    names = {f"complaints:{p.name}" for p in complaints_urls} | {
        f"escalation:{p.name}" for p in formal_urls if p.name in ("formal-list", "formal-detail")
    }
    assert names - not_lists <= covered


# --- Filing a complaint: a constant, and a constant per file ------------------------------

# Each file adds one query: the INSERT of its Attachment row (the file itself goes to
# storage). Checking, the customer, the complaint, its history, notice and letter cost the
# same whatever is attached.
QUERIES_PER_FILE = 1


def _file_complaint(client: Client, files: int) -> int:
    data = {
        "token": uuid.uuid4().hex,
        "name": "Priya Patel",
        "email": f"priya.{uuid.uuid4().hex[:8]}@example.com",
        "phone": "",
        "account_reference": "",
        "about": "technical_support",
        "subject": "Broadband drops every evening",
        "description": "Since Monday the line drops at 7pm.",
        "preferred_contact_method": "email",
        "customer_type": "consumer",
        "employee_count": "",
        "files": [_pdf(f"bill-{i}.pdf") for i in range(files)],
    }
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse("complaints:complain"), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return len(queries.captured_queries)


def test_filing_a_complaint_costs_a_constant_plus_one_query_per_file():
    client = Client()
    _file_complaint(client, 0)  # warm the caches
    none = _file_complaint(Client(), 0)
    one = _file_complaint(Client(), 1)
    three = _file_complaint(Client(), 3)
    assert one - none == QUERIES_PER_FILE
    assert three - none == 3 * QUERIES_PER_FILE
    assert Attachment.objects.filter(kind="customer_upload").count() == 4


# --- The case page: a fixed, small number of queries ----------------------------------

# The goal for a member of staff opening a case: session, user, permissions, the complaint
# with everything its fields name, its timeline, who acts for the customer, its alerts.
CASE_PAGE_MAX_QUERIES = 10


def _full_case():
    """A formal case with everything a case page shows: codes, needs, a representative..."""
    from accounts.representatives import representative_record
    from complaints.models import Category, Product, RootCause
    from complaints.services.causes import complaint_categorise, complaint_root_cause_record
    from complaints.services.remedies import remedy_record

    manager = StaffUserFactory(role=Role.SENIOR_MANAGER)
    agent = StaffUserFactory(role=Role.SUPPORT_AGENT)
    customer = CustomerFactory(confirmed=True)
    needs_record(
        customer=customer, actor=agent, by_customer=False, consent_how=ConsentHow.PHONE,
        kinds=["hearing"], details="Hearing aid; texts first.", named_contact=agent,
    )  # fmt: skip
    complaint = complaint_make(customer=customer, department=Department.TECHNICAL_SUPPORT)
    representative_record(
        customer=customer, actor=agent, complaints=[complaint], name="Priya Attorney",
        relationship="power_of_attorney", email="priya@example.org",
        authority_seen="lasting power of attorney",
    )  # fmt: skip
    complaint_assign(complaint=complaint, assignee=agent, actor=manager)
    complaint_categorise(
        complaint=complaint, actor=agent, category=Category.objects.get(code="fault"),
        product=Product.objects.get(code="broadband"),
    )  # fmt: skip
    complaint_root_cause_record(
        complaint=complaint, actor=agent, root_cause=RootCause.objects.get(code="supplier_fault"),
        company_at_fault=False,
    )  # fmt: skip
    remedy_record(complaint=complaint, actor=agent, kind="apology", note="Sorry.")
    _history_add(complaint, staff=[agent], rounds=2)
    complaint = complaint_escalate(
        complaint=complaint, actor=manager, requested="technical_director", reason="Still down."
    )
    formal_case_appoint(case=complaint.formal_case, manager=manager, actor=manager)
    return complaint, {"manager": manager, "agent": agent}


@pytest.mark.parametrize("who", ["manager", "agent"])
def test_the_case_page_takes_at_most_ten_queries_however_full_the_case(who):
    complaint, people = _full_case()
    client = _signed_in(people[who])
    url = reverse("admin:complaints_complaint_change", args=[complaint.pk])
    client.get(url)  # warm the caches
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url).content.decode()
    sql = "\n".join(f"  {q['sql'][:200]}" for q in queries.captured_queries)
    assert len(queries) <= CASE_PAGE_MAX_QUERIES, f"{len(queries)} queries:\n{sql}"
    # And the page shows what those queries read.
    for shown in ("Priya Attorney", "Hearing aid", "Line test 1 shows noise", "Openreach"):
        assert shown in page, shown
    if who == "agent":  # not a reviewer: told who owns the formal case (COP-15)
        assert "a senior manager owns this case" in page
