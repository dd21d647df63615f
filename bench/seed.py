"""Seed N realistic complaints with their histories, fast: 100k by default, 1M with --million.

Every complaint lives a life the services could have given it, over the last two years:
logged by phone, letter, email or the portal; acknowledged, assigned, investigated, answered;
progress updates, customer replies, third parties, formal reviews with a final proposition
and deadlock letter; and every deadline job the sweep would have run by `now` (response
overdue, resolution target, auto-close, ADR point, ombudsman warning and window). What each
step leaves is what the service leaves: the status and facts (the transition service's own
`_enter`), the stored deadlines (`clocks_apply`), the remaining alarms (`alarms_for`), the
hash-chained history (`event_hash`), correspondence, notes, notices with their letters and
outbox deliveries, staff alerts, formal cases and portal form tokens.

Speed comes from templates, as in bench/sweep.py: a few thousand lives are simulated in
memory (one per first-made minute), sorted by when they were logged, and every complaint
copies one with its own id, reference, customer, notice ids and hash chain. Rows go in by
executemany (SQLite) or execute_values (PostgreSQL), a batch of complaints per transaction.

API, for other benchmarks (after django.setup() and migrate, on an empty database or one
whose ids and reference counters it should continue from)::

    from bench.seed import seed_realistic
    result = seed_realistic(100_000, batch=5000, now=None)   # now: aware datetime, default now
    result.complaints, result.customers       # how many
    result.rows                               # {table: rows inserted}
    result.statuses                           # {status: complaints}
    result.seconds, result.phases             # total and per-phase seconds
    result.first_complaint_id, result.last_complaint_id, result.now

seed_check(result) returns the problems found in a sample (history chain, stored deadlines,
alarms); an empty list means the seed is sound.

Run from the repository root:

  .venv/bin/python bench/seed.py [--complaints N] [--million] [--batch N] [--check N]
                                 [--verify-all]
  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_seed .venv/bin/python bench/seed.py

The database is var/bench/seed.sqlite3 unless DATABASE_URL is given; its name must contain
"bench", because the script deletes (SQLite) or drops (PostgreSQL) it. See bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make `bench` importable
    sys.path.insert(0, str(REPO))

from bench import sweep  # noqa: E402

logger = logging.getLogger("bench.seed")
DEFAULT_DATABASE_URL = f"sqlite:///{sweep.BENCH_DIR / 'seed.sqlite3'}"
PROGRESS_EVERY = 100_000  # complaints between progress lines on the bench.seed logger
RANDOM_SEED = 20260312
YEARS = 2  # complaints are first made over the last two years

REF, NAME, FCR, BY = "{ref}", "{name}", "{fcr}", "{by}"  # filled in per complaint
PDF = "application/pdf"


# --- What a seeded complaint can be ----------------------------------------------------


@dataclass(frozen=True)
class _Scenario:
    """A life a complaint can lead, the status it ends in and how old it is."""

    name: str
    target: str
    weight: float
    ages: tuple[float, float]  # days between first made and `now`


SCENARIOS: tuple[_Scenario, ...] = (
    _Scenario("first_contact", "resolved_at_first_contact", 12, (0.05, 730)),
    _Scenario("deemed_resolved", "closed", 40, (25, 730)),
    _Scenario("reply_then_closed", "closed", 7, (40, 730)),
    _Scenario("third_party_closed", "closed", 6, (60, 730)),
    _Scenario("resolution_actioned", "closed", 5, (40, 730)),
    _Scenario("reopened_closed", "closed", 2, (90, 730)),
    _Scenario("formal_closed", "closed", 4, (80, 730)),
    _Scenario("logged", "logged", 1.5, (0.01, 1.5)),
    _Scenario("acknowledged", "acknowledged", 3, (0.05, 3)),
    _Scenario("investigating", "investigating", 5, (1.5, 14)),
    _Scenario("awaiting_third_party", "awaiting_third_party", 3, (5, 40)),
    _Scenario("responded", "responded", 6, (3, 16)),
    _Scenario("responded_proposal", "responded", 1, (4, 30)),
    _Scenario("formal", "formal", 2.5, (15, 90)),
)

# Customers: preferred contact method, and for phone and post whether they gave an email.
PREFERRED = (("email", 0.50), ("portal", 0.20), ("phone", 0.18), ("post", 0.12))
CHANNELS_BY_PREFERENCE = {
    "email": (("email", 0.55), ("portal", 0.20), ("phone", 0.20), ("letter", 0.05)),
    "portal": (("portal", 0.75), ("email", 0.15), ("phone", 0.10)),
    "phone": (("phone", 0.75), ("email", 0.15), ("letter", 0.10)),
    "post": (("letter", 0.55), ("phone", 0.40), ("email", 0.05)),
}
DEPARTMENTS = (("technical_support", 0.62), ("accounts", 0.35), ("company_secretary", 0.03))
# Businesses with more employees than the ADR limit (COP-16), and their sizes.
INELIGIBLE_SHARE, INELIGIBLE_SIZES = 0.06, (12, 25, 60, 250)
CONTRACT_SHARE = 0.04  # businesses whose contract promises a response in 1 working day
# How many complaints a customer makes: a Pareto tail capped at 30 gives a mean of about 3,
# with about half the customers complaining once and a few many times.
COMPLAINTS_PER_CUSTOMER_ALPHA, COMPLAINTS_PER_CUSTOMER_MAX = 1.2, 30
LATE_RESPONSE_SHARE = 0.15  # responses sent after the response due (COP-12)

STAFF = (
    ("support_agent", "Priya Shah"),
    ("support_agent", "Tom Hughes"),
    ("support_agent", "Aisha Begum"),
    ("support_agent", "Daniel Price"),
    ("accounts_agent", "Grace Evans"),
    ("accounts_agent", "Oliver Bennett"),
    ("accounts_agent", "Fatima Khan"),
    ("company_secretary", "Helen Carter"),
    ("senior_manager", "Richard Moss"),
    ("senior_manager", "Sarah Lewis"),
    ("technical_director", "James Whitfield"),
    ("administrator", "Alex Morgan"),
)
STAFF_DOMAIN = "staff.seed.bench.invalid"
AGENT_ROLE = {
    "technical_support": "support_agent",
    "accounts": "accounts_agent",
    "company_secretary": "company_secretary",
}

FIRST_NAMES = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Sophia Grace Freya Emily Ella Poppy Ruby Evie Chloe "
    "Noah Oliver George Arthur Leo Harry Oscar Archie Henry Jack Theo Charlie Jacob Thomas "
    "Mohammed Aisha Priya Ravi Sanjay Fatima Zara Kwame Chen Wei Aleksander Zofia Siobhan Rhys "
    "Morgan Eilidh Callum"
).split()
LAST_NAMES = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson "
    "Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan "
    "Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell "
    "Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Khan Begum Ali "
    "Nowak Kowalski Singh Okafor O'Brien MacDonald"
).split()
BUSINESS_PLACES = (
    "Harbour Avon Keynsham Clifton Redland Westbury Severn Totterdown Portishead Kingswood "
    "Bedminster Frome Mendip Radstock Cotswold Wye"
).split()
BUSINESS_TRADES = (
    "Dental Practice|Accountants|Bakery|Physio Clinic|Lettings|Architects|Freight Ltd|Motors|"
    "Cafe|Marine Supplies|Plumbing|Print Works|Florists|Veterinary Group|Farm Shop|Builders"
).split("|")
STREETS = (
    "High Street|Station Road|Church Lane|Victoria Road|Park Avenue|Mill Lane|The Crescent|"
    "Queens Road|North Street|Orchard Close|Bath Road|Gloucester Road|Whiteladies Road"
).split("|")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
TOWNS = (
    ("Bristol", "BS"),
    ("Bath", "BA"),
    ("Keynsham", "BS31"),
    ("Weston-super-Mare", "BS23"),
    ("Frome", "BA11"),
    ("Chippenham", "SN15"),
    ("Cardiff", "CF"),
    ("Newport", "NP"),
)


@dataclass(frozen=True)
class _Topic:
    """What a complaint is about, and what the investigation can find."""

    subject: str
    description: str
    findings: str
    remedy: str
    proposal: str
    quick_fix: str


TOPICS: dict[str, tuple[_Topic, ...]] = {
    "technical_support": (
        _Topic(
            "Broadband keeps dropping",
            "The connection drops several times a day, usually in the evening.",
            "The line test showed the connection resyncing when the line was busiest.",
            "We changed the line profile and it has been stable for 48 hours.",
            "We propose to replace the router; an engineer can fit it next week.",
            "Reset the line profile during the call; the connection is stable again.",
        ),
        _Topic(
            "Email not syncing on my phone",
            "Since the server move my phone no longer receives email.",
            "The phone still pointed at the old mail server after the migration.",
            "We updated the account settings remotely and mail is arriving again.",
            "We propose a remote session to move all your devices to the new server.",
            "Walked the customer through the new server settings on the call.",
        ),
        _Topic(
            "Engineer missed the appointment",
            "I took the day off for the engineer visit and nobody came.",
            "The visit was cancelled by our scheduling system without telling you.",
            "We rebooked the visit and credited a missed-appointment payment.",
            "We propose a priority appointment and a credit of one month's charges.",
            "Rebooked the visit for tomorrow morning during the call.",
        ),
        _Topic(
            "Slow speeds since the upgrade",
            "After upgrading to the faster package the speed is lower than before.",
            "The upgrade was applied to the account but not to the exchange port.",
            "We completed the port change; speeds now match the package.",
            "We propose to move you to a fibre connection at the old price.",
            "Completed the port change while the customer was on the line.",
        ),
        _Topic(
            "Router keeps rebooting",
            "The router restarts itself every hour or so.",
            "The router's firmware had a known fault with the latest update.",
            "We rolled the firmware back and the router has stayed up since.",
            "We propose to send a replacement router by courier.",
            "Rolled back the firmware remotely during the call.",
        ),
        _Topic(
            "Website hosting outage",
            "Our website was down for most of Tuesday and nobody told us.",
            "A storage fault took the hosting cluster down for six hours.",
            "We credited the day's hosting and added you to the status alerts.",
            "We propose to move your site to the replicated hosting plan at no cost.",
            "Confirmed the site is back and signed the customer up to status alerts.",
        ),
        _Topic(
            "VPN access not working",
            "Staff cannot connect to the office VPN since the weekend.",
            "A certificate on the VPN gateway expired on Saturday.",
            "We renewed the certificate and all users can connect again.",
            "We propose a service review to catch expiring certificates early.",
            "Renewed the certificate while on the phone to the customer.",
        ),
        _Topic(
            "Backup failed without warning",
            "The nightly backup has failed for a week and we were not alerted.",
            "The backup job's alert address was an old mailbox of yours.",
            "We fixed the alert address and ran a full backup successfully.",
            "We propose a monthly restore test and report, free for a year.",
            "Corrected the alert address and started a backup during the call.",
        ),
    ),
    "accounts": (
        _Topic(
            "Charged twice for October",
            "My October invoice was taken twice by direct debit.",
            "A retry of the direct debit run collected the payment a second time.",
            "We refunded the duplicate payment to your bank account.",
            "We propose to refund the payment and add a goodwill credit.",
            "Refunded the duplicate payment on the call.",
        ),
        _Topic(
            "Refund not received",
            "I was promised a refund six weeks ago and it has not arrived.",
            "The refund was approved but never sent to the payments team.",
            "We have sent the refund; it reaches your bank in 3 working days.",
            "We propose to pay the refund with interest for the delay.",
            "Released the refund while the customer was on the line.",
        ),
        _Topic(
            "Early termination fee",
            "I was charged a fee for leaving although I was out of contract.",
            "Your contract end date was recorded a year too late.",
            "We cancelled the fee and corrected the contract dates.",
            "We propose to cancel the fee and refund the last month's charges.",
            "Cancelled the fee during the call.",
        ),
        _Topic(
            "Price rise not notified",
            "My monthly charge went up without any notice.",
            "The notice of the price change was sent to an old address.",
            "We refunded the difference until proper notice was given.",
            "We propose to hold your old price for twelve months.",
            "Refunded the difference and updated the address on the call.",
        ),
        _Topic(
            "Direct debit taken early",
            "The payment was taken before the agreed date and I went overdrawn.",
            "The collection date was changed by a system update in error.",
            "We restored your collection date and paid the bank charges.",
            "We propose to pay the bank charges and a goodwill credit.",
            "Restored the collection date during the call.",
        ),
        _Topic(
            "Wrong VAT on invoice",
            "Our invoice shows VAT on items that should be zero-rated.",
            "Two items were set up with the wrong VAT code.",
            "We issued a credit note and a corrected invoice.",
            "We propose to review all your invoices of the last year.",
            "Explained and issued a credit note during the call.",
        ),
    ),
    "company_secretary": (
        _Topic(
            "Complaint not handled under the Code",
            "My earlier complaint was not acknowledged as your Code promises.",
            "The earlier complaint was logged as a service request in error.",
            "We logged it as a complaint and retrained the team involved.",
            "We propose a review of how calls are logged, and will share the outcome.",
            "Logged the earlier complaint properly during the call.",
        ),
        _Topic(
            "Code of Practice not available",
            "I asked for a copy of your complaints code and did not receive it.",
            "The request was sent to a mailbox that is no longer monitored.",
            "We sent the Code by post and by email and closed the old mailbox.",
            "We propose to put the Code on every invoice as a link.",
            "Emailed the Code to the customer during the call.",
        ),
    ),
}
THIRD_PARTIES = {
    "technical_support": ("Openreach", "the hardware supplier", "the domain registrar"),
    "accounts": ("our payment processor", "the customer's bank", "the debt collection agency"),
    "company_secretary": ("our legal advisers",),
}
INVESTIGATING_REASONS = (
    "Looking into it: checking the account history.",
    "Investigating: asked the team for the logs.",
    "Started the investigation.",
    "Checking what happened with the team involved.",
)
ACK_REASONS = (
    "Complaint acknowledged.",
    "Acknowledged by phone; explained what happens next.",
    "Acknowledgement sent; told the customer when to expect our response.",
)
NOTES = (
    "Spoke to the customer; they are happy to be called on their mobile.",
    "Checked the logs for the dates given; the fault matches the customer's account.",
    "Asked the team lead to confirm the timeline before we respond.",
    "Customer mentioned a previous complaint; linked the history.",
    "Engineer's report attached to the ticket; summary in the findings.",
)
PROGRESS_TEXTS = (
    "We are still looking into your complaint and will update you again within two working days.",
    "We are waiting for the results of our checks and will be in touch shortly.",
    "We have found the likely cause and are confirming it before we send our response.",
)
REPLIES = (
    "Thank you, but the problem has come back since your response.",
    "I do not agree with your findings: it happened again last night.",
    "Can you confirm when the refund will reach my account?",
    "I have checked again and the issue is still there.",
)
REOPEN_REPLIES = (
    "The same problem is back. Please reopen my complaint.",
    "This has started happening again since last month.",
)
ESCALATION_REASONS = (
    "The customer is not satisfied with our response and wants a senior review.",
    "The remedy offered does not cover the customer's losses.",
    "The customer says the fault was not fixed.",
)
CUSTOMER_ESCALATIONS = (
    "Your response does not put right what went wrong.",
    "The problem is still not fixed and I want a senior manager to look at it.",
    "The compensation offered does not cover what this has cost me.",
)
REVIEW_FINDINGS = (
    "The original investigation was sound but the remedy did not reflect the delay.",
    "The fault was ours and lasted longer than the first response said.",
    "The customer's account of events is supported by our records.",
)
REVIEW_ACTIONS = (
    "A further goodwill payment and a written apology from the director.",
    "A refund of three months' charges and a service review.",
    "Waive the outstanding balance and close the account without charge.",
)
NOTICE_BODIES = {
    "acknowledgement": "Thank you for contacting us. We have logged your complaint under the "
    "reference {ref}. We aim to respond with our findings by {response_due}.",
    "response": "Please find our response to your complaint {ref} below. If we do not hear "
    "from you, we will treat your complaint as resolved.",
    "progress_update": "An update on your complaint {ref}: we are still working on it and "
    "will keep you updated.",
    "auto_closed": "We have not heard from you since our response, so we have closed your "
    "complaint {ref}. Reply at any time to reopen it.",
    "adr_letter": "It is eight weeks since you first told us about your complaint {ref}. You "
    "can now ask the ombudsman to look at it, free of charge, until {osc_deadline}.",
    "osc_warning": "Four weeks are left to refer your complaint {ref} to the ombudsman: the "
    "deadline is {osc_deadline}.",
    "formal_opened": "Your complaint {ref} is now a formal complaint, register reference "
    "{fcr}. A senior manager is reviewing it and will write to you.",
    "final_proposition": "Our final proposition on your formal complaint {fcr} (complaint "
    "{ref}) follows our senior manager's review.",
    "deadlock": "We are unable to deal with your complaint {ref} further. You may refer it "
    "to the ombudsman until {osc_deadline}.",
}


# --- Result ----------------------------------------------------------------------------


@dataclass
class SeedResult:
    """What seed_realistic inserted, and how long it took."""

    complaints: int
    customers: int = 0
    staff: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # table -> rows inserted
    statuses: dict[str, int] = field(default_factory=dict)  # status -> complaints
    scenarios: dict[str, int] = field(default_factory=dict)  # scenario -> complaints
    templates: int = 0  # distinct simulated lives the complaints copy
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    first_complaint_id: int = 0
    last_complaint_id: int = 0
    now: datetime | None = None

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def events_per_complaint(self) -> float:
        return self.rows.get("complaints_caseevent", 0) / max(self.complaints, 1)


# --- Simulating one life -----------------------------------------------------------------


class _Stop(Exception):  # noqa: N818 - control flow, not an error
    """The scenario's next step would come after `now`: the complaint stops where it is."""


class _Customer:
    """Placeholder for the complaint's own customer acting through their portal login."""

    def __repr__(self) -> str:
        return "CUSTOMER"


CUSTOMER = _Customer()


@dataclass(frozen=True)
class _Actor:
    id: int
    label: str


@dataclass
class _Event:
    recorded: datetime  # when the service wrote it: orders the history
    kind: str
    actor: object  # _Actor, CUSTOMER or None (the system)
    from_status: str
    to_status: str
    reason: str
    at: datetime
    extra: dict
    special: tuple | None = None  # per-complaint values: see _Template.variant


@dataclass
class _NoticeT:
    kind: str
    deadline_at: datetime
    created_at: datetime
    subject: str
    body: str
    manual_at: datetime  # when staff post the letter or make the call
    manual_by: _Actor


class _Sim:
    """One complaint's life, run in memory through the services' own rules."""

    def __init__(self, *, seeder: _Seeder, scenario: _Scenario, klass: tuple, rng: random.Random):
        from complaints.models import Complaint

        self.s, self.scenario, self.klass, self.rng = seeder, scenario, klass, rng
        self.now, self.cal = seeder.now, seeder.cal
        preferred, has_email, self.ineligible, self.contract = klass
        self.preferred, self.has_email = preferred, has_email
        self.department = _pick(rng, DEPARTMENTS)
        self.topic = rng.choice(TOPICS[self.department])
        self.agent = rng.choice(seeder.staff[AGENT_ROLE[self.department]])
        self.manager = rng.choice(seeder.staff["senior_manager"])
        self.clerk = rng.choice(seeder.staff[AGENT_ROLE[self.department]])  # posts and calls
        self.diligent = rng.random() < 0.8
        self.lag = timedelta(seconds=rng.uniform(3, 59))  # the sweep runs every minute
        if scenario.name == "first_contact":
            self.channel = "phone"
        elif scenario.name == "logged":
            self.channel = "phone" if rng.random() < 0.7 else "letter"
        else:
            options = [
                (c, w)
                for c, w in CHANNELS_BY_PREFERENCE[preferred]
                if has_email or c not in ("email", "portal")
            ]
            self.channel = _pick(rng, options)
        self.by_customer = CUSTOMER if preferred == "portal" else None  # portal login
        self.c = Complaint(
            id=0,
            reference="",
            customer_id=0,
            channel=self.channel,
            department=self.department,
            subject=self.topic.subject,
            description=self.topic.description,
            contracted_response_working_days=self.contract,
        )
        self.logged = False
        self.clock = datetime.min.replace(tzinfo=UTC)
        self.events: list[_Event] = []
        self.notices: list[_NoticeT] = []
        self.correspondence: list[tuple] = []
        self.notes: list[tuple] = []
        self.third_party: list[tuple] = []
        self.scans: list[tuple] = []
        self.alerts: list[tuple] = []
        self.formal: dict | None = None
        self.portal_submission_at: datetime | None = None

    # -- time ------------------------------------------------------------------------

    def office(self, t: datetime) -> datetime:
        """Return `t`, or the next morning the office is open: staff act in office hours."""
        cal = self.cal
        local = t.astimezone(cal.tz)
        day = local.date()
        if cal.is_working_day(day) and cal.opens <= local.time() < cal.closes:
            return t
        if not (cal.is_working_day(day) and local.time() < cal.opens):
            day = cal.next_working_day(day)
        start = cal.at(day, cal.opens).astimezone(UTC)
        return start + timedelta(minutes=self.rng.uniform(2, 150))

    def office_by_now(self, t: datetime) -> datetime:
        """office(t), or an office moment of an earlier day when that would be after now.

        A complaint "just logged" on a Sunday evening was logged on Friday: without this, a
        seed taken at a weekend could not build its newest phone and letter complaints.
        """
        moment = self.office(t)
        back = t
        while moment > self.now - timedelta(hours=1):
            back -= timedelta(days=1)
            moment = self.office(back)
        return moment

    def staff_after(self, t: datetime, low_hours: float, high_hours: float) -> datetime:
        return self.office(t + timedelta(hours=self.rng.uniform(low_hours, high_hours)))

    def customer_time(self, t: datetime) -> datetime:
        """Return `t`, moved to the next morning if it falls in the night."""
        local = t.astimezone(self.cal.tz)
        if 7 <= local.hour < 23:
            return t
        day = local.date() + timedelta(days=1 if local.hour >= 23 else 0)
        start = self.cal.at(day, clock_time(7, 30)).astimezone(UTC)
        return start + timedelta(minutes=self.rng.uniform(0, 180))

    def step(self, t: datetime) -> datetime:
        """Move on to `t`, running the deadline jobs due by then; stop if `t` is after now."""
        t = max(t, self.clock)
        if t > self.now:
            raise _Stop
        self.advance(t)
        self.clock = max(self.clock, t)
        return self.clock

    def tick(self, seconds: float = 0.3) -> None:
        """Let a moment pass between two writes of one service call."""
        self.clock += timedelta(seconds=seconds)

    # -- records ---------------------------------------------------------------------

    def event(self, kind, actor, reason, *, at=None, frm="", to="", extra=None, special=None):
        self.events.append(
            _Event(self.clock, kind, actor, frm, to, reason, at or self.clock, extra or {}, special)
        )

    def save(self, *, bump: bool = True) -> list[str]:
        """clocks_save without the database: recompute the stored deadlines."""
        from complaints.clocks import clocks_apply

        changed = clocks_apply(self.c)
        if bump:
            self.c.version += 1
        return changed

    def correspond(self, direction, channel, subject, body, *, at=None, by=None):
        self.correspondence.append((direction, channel, subject, body, at or self.clock, by))

    def notice(self, kind: str, deadline_at: datetime, actor=None) -> int:
        """notice_send: the notice, its letter and deliveries (per customer), and its event."""
        from complaints.services.notices import SUBJECTS

        self.tick(0.1)
        words = self.s.words
        body = NOTICE_BODIES[kind]
        for key, value in (
            ("{response_due}", words(self.c.response_due_at)),
            ("{osc_deadline}", words(self.c.osc_deadline_at)),
        ):
            body = body.replace(key, value)
        body = f"Dear {NAME},\n\n{body}\n\nYours sincerely,\nCustomer Services"
        index = len(self.notices)
        self.notices.append(
            _NoticeT(
                kind=kind,
                deadline_at=deadline_at,
                created_at=self.clock,
                subject=SUBJECTS[kind].format(ref=REF),
                body=body,
                manual_at=self.staff_after(self.clock, 1, 26),
                manual_by=self.clerk,
            )
        )
        self.event("notice", actor, "", special=("queued", index))
        return index

    def transition(self, to, actor, reason, *, at=None, closure_reason="", extra=None):
        """complaint_transition: check the graph, enter the state, recompute, record."""
        from complaints.domain.lifecycle import Status, check_transition
        from complaints.services.transitions import _enter, transition_details

        current, to = Status(self.c.status), Status(to)
        if current == to:
            return
        check_transition(current, to)
        at = at or self.clock
        _enter(self.c, current=current, to=to, at=at, closure_reason=closure_reason)
        self.c.status = to.value
        changed = self.save()
        details = transition_details(
            current, to, closure_reason=closure_reason, changed_clocks=changed, extra=extra
        )
        special = ("fcr",) if FCR in reason else None
        self.event(
            "status_changed",
            actor,
            reason,
            at=at,
            frm=current.value,
            to=to.value,
            extra=details,
            special=special,
        )

    # -- the deadline jobs (complaints.services.enforcement) ---------------------------

    def advance(self, until: datetime) -> None:
        """Fire, oldest first, every alarm due by `until`, as the minutely sweep would have."""
        from complaints.clocks import alarms_for

        if not self.logged:
            return
        for _ in range(100):
            due = [(d, n, k) for n, (k, d) in enumerate(alarms_for(self.c).items()) if d <= until]
            if not due:
                return
            due_at, _n, kind = min(due)
            self.clock = max(self.clock, min(due_at + self.lag, until))
            getattr(self, "_fire_" + str(kind))(due_at)
            self.save(bump=False)
        raise RuntimeError(f"alarms keep firing for scenario {self.scenario.name}")

    def _clock_event(self, reason: str, due_at: datetime, **extra) -> None:
        self.event("clock", None, reason, extra={"due_at": _utc_iso(due_at), **extra})

    def _alert(self, kind, due_at, audiences, message) -> None:
        seen = self.staff_after(self.clock, 0.2, 30)
        for audience in audiences:
            recipient = self.c.assignee_id if audience == "assignee" else None
            self.alerts.append((kind, due_at, audience, recipient, message[:300], self.clock, seen))

    def _fire_response_overdue(self, due_at):
        local = self.s.local(due_at)
        self.c.response_overdue_at = due_at
        self._alert(
            "response_overdue",
            due_at,
            ("department", "managers"),
            f"{REF}: response was due {local} and has not been sent.",
        )
        self._clock_event(f"Response overdue (COP-12): was due {local}.", due_at)

    def _fire_phone_promise(self, due_at):
        local = self.s.local(due_at)
        self.c.phone_promise_missed_for = due_at
        self._alert(
            "phone_promise",
            due_at,
            ("department", "managers"),
            f"{REF}: we promised the customer a response by {local}.",
        )
        self._clock_event(f"Phone promise missed (COP-04): promised {local}.", due_at)

    def _fire_progress_update(self, due_at):
        from complaints.services.enforcement import _department_label

        self.c.progress_reminded_for = due_at
        assigned = self.c.assignee_id is not None
        who = self.s.labels[self.c.assignee_id] if assigned else _department_label(self.c)
        why = (
            "a third party is awaited"
            if self.c.status == "awaiting_third_party"
            else "the response is late"
        )
        self._alert(
            "progress_update",
            due_at,
            ("assignee" if assigned else "department",),
            f"{REF}: a progress update to the customer was due {self.s.local(due_at)} ({why}).",
        )
        self._clock_event(f"Progress update due (COP-13) while {why}: reminded {who}.", due_at)

    def _fire_resolution_target(self, due_at):
        met = self.c.resolved_at is not None and self.c.resolved_at <= due_at
        self.c.resolution_target_met = met
        word = "met" if met else "missed"
        self._clock_event(
            f"Resolution target (COP-14) {word}: target was {self.s.local(due_at)}.",
            due_at,
            met=met,
        )

    def _fire_auto_close(self, due_at):
        self.transition(
            "closed",
            None,
            "Deemed resolved: no reply within 10 working days of our response (COP-10).",
            at=due_at,
            closure_reason="deemed_resolved",
            extra={"recorded_at": _utc_iso(self.clock)},
        )
        self.notice("auto_closed", due_at)

    def _fire_adr_letter(self, due_at):
        from complaints.domain import deadlines

        c = self.c
        c.adr_checked_at = self.clock
        if c.status in ("closed", "resolved_at_first_contact") and c.closed_at <= due_at:
            reason = "complaint was closed before the ADR point; no letter"
        elif self.ineligible:
            policy = deadlines.policy_by_key(c.policy_key)
            reason = (
                f"customer is a business with {self.ineligible} employees, more than "
                f"{policy.adr_max_employees} ({policy.key}); no letter"
            )
        else:
            self.notice("adr_letter", due_at)
            c.adr_letter_sent_at = self.clock
            reason = "ADR letter sent"
        self._clock_event(f"ADR point (COP-16) reached {self.s.local(due_at)}: {reason}.", due_at)

    def _fire_osc_warning(self, due_at):
        c = self.c
        c.osc_warning_done_for = due_at
        told = c.adr_letter_sent_at is not None or c.deadlock_letter_received_at is not None
        special = None
        if told and not self.ineligible:
            self.notice("osc_warning", due_at)
            text, special = f"ombudsman deadline warning sent {BY}", ("by", len(self.notices) - 1)
        else:
            text = (
                "ombudsman deadline warning not needed "
                "(customer was not sent an ADR or deadlock letter)"
            )
        self.event(
            "clock",
            None,
            f"Ombudsman deadline warning (COP-18): {text}.",
            extra={"due_at": _utc_iso(due_at)},
            special=special,
        )

    def _fire_osc_closed(self, due_at):
        self.c.osc_window_closed_for = due_at
        self._clock_event(
            f"Ombudsman referral window closed {self.s.local(due_at)} (COP-18). "
            "The customer can still go to court.",
            due_at,
        )

    # -- what staff and customers do (complaints.services) -----------------------------

    def log(self, *, first_made, logged_at, actor, reason, agreed) -> None:
        """complaint_log: policy, clocks, and the first history row."""
        from complaints.clocks import policy_for_new_complaint

        c = self.c
        c.first_made_at, c.logged_at = first_made, logged_at
        c.logged_by_id = actor.id if actor else None
        c.agreed_contact_method = agreed
        c.policy_key = policy_for_new_complaint(first_made).key
        self.clock = logged_at
        self.save(bump=False)
        self.logged = True
        self.event(
            "logged",
            actor,
            reason,
            at=logged_at,
            to="logged",
            extra={
                "policy": c.policy_key,
                "first_made_at": first_made.astimezone(self.cal.tz).isoformat(),
            },
        )

    def intake(self) -> None:
        rng, channel, topic = self.rng, self.channel, self.topic
        base = self.now - timedelta(days=self.age)
        if channel == "phone":
            called = self.office_by_now(base)
            self.step(called + timedelta(minutes=rng.uniform(2, 25)))
            resolved = self.scenario.name == "first_contact"
            self.log(
                first_made=called,
                logged_at=self.clock,
                actor=self.agent,
                reason="Complaint made by phone.",
                agreed="phone" if resolved else self.preferred,
            )
            if resolved:
                what = topic.quick_fix
                self.correspond(
                    "out", "phone", "Resolved on the call", what, at=called, by=self.agent
                )
                self.transition(
                    "resolved_at_first_contact",
                    self.agent,
                    f"Resolved on the call: {what}",
                    at=called,
                )
            else:
                self.phone_promise(self.cal.company_deadline(self.clock, 1))
        elif channel == "letter":
            received = self.office_by_now(base)
            self.step(self.staff_after(received, 0.3, 28))
            self.log(
                first_made=received,
                logged_at=self.clock,
                actor=self.agent,
                reason="Complaint made by letter.",
                agreed="email" if self.has_email else "phone",
            )
            self.correspond(
                "in", "letter", topic.subject, topic.description, at=received, by=self.agent
            )
            self.tick()
            self.scans.append(
                ("letter-scan.pdf", rng.randrange(90_000, 900_000), self.clock, self.agent)
            )
            self.event(
                "correspondence",
                self.agent,
                "Scanned letter attached: letter-scan.pdf.",
                special=("scan", len(self.scans) - 1),
            )
        elif channel == "email":
            first_made = self.customer_time(base)
            self.step(first_made + timedelta(seconds=rng.uniform(15, 240)))
            mailbox = self.s.mailbox[self.department]
            self.log(
                first_made=first_made,
                logged_at=self.clock,
                actor=None,
                reason=f"Complaint received by email to {mailbox}.",
                agreed="email",
            )
            logged = self.clock
            self.correspond("in", "email", topic.subject, topic.description)
            self.notice("acknowledgement", first_made)
            self.transition("acknowledged", None, "Acknowledged by email (COP-05)", at=logged)
        else:
            self.step(self.customer_time(base))
            self.log(
                first_made=self.clock,
                logged_at=self.clock,
                actor=None,
                reason="Complaint made on the portal.",
                agreed=self.preferred,
            )
            self.portal_submission_at = self.clock
            self.notice("acknowledgement", self.c.first_made_at)
            self.tick()
            self.transition(
                "acknowledged",
                None,
                "Acknowledged on the portal and by the customer's contact method (COP-05).",
            )

    def phone_promise(self, promised: datetime) -> None:
        """complaint_phone_promise: an unresolved call, with the time we promised to reply."""
        self.c.phone_promised_response_at = promised
        self.save()
        method = self.c.agreed_contact_method
        local = promised.astimezone(self.cal.tz)
        self.tick()
        self.event(
            "correspondence",
            self.agent,
            f"Call logged, not resolved: promised a response by {local:%a %d %b %Y %H:%M}; "
            f"contact by {method} (COP-04).",
            extra={"promised_at": local.isoformat(), "contact_method": method},
        )

    def acknowledge(self) -> None:
        if self.c.status == "logged":
            self.step(self.staff_after(self.clock, 0.1, 4))
            self.transition("acknowledged", self.agent, self.rng.choice(ACK_REASONS))

    def assign(self, assignee: _Actor, actor: _Actor) -> None:
        """complaint_assign."""
        previous = self.s.labels.get(self.c.assignee_id, "nobody")
        self.c.assignee_id = assignee.id
        self.save()
        self.event(
            "assigned",
            actor,
            f"Assigned to {assignee.label} (was {previous}).",
            extra={"assignee_id": assignee.id},
        )

    def note(self) -> None:
        """complaint_note_add."""
        self.step(self.staff_after(self.clock, 0.5, 6))
        self.notes.append((self.agent.id, self.rng.choice(NOTES), self.clock))
        self.event("note", self.agent, "Internal note added.")

    def investigate(self) -> None:
        self.step(self.staff_after(self.clock, 0.3, 6))
        self.assign(self.agent, self.rng.choice((self.agent, self.manager)))
        self.step(self.staff_after(self.clock, 0.05, 2))
        self.transition("investigating", self.agent, self.rng.choice(INVESTIGATING_REASONS))
        if self.rng.random() < 0.6:
            self.note()

    def progress_update(self) -> None:
        """complaint_progress_update (COP-13)."""
        from complaints.services.responses import _channel_for

        c = self.c
        c.last_progress_update_at = self.clock
        c.phone_promised_response_at = None
        text = self.rng.choice(PROGRESS_TEXTS)
        self.correspond(
            "out", _channel_for(c), f"Progress update on your complaint {REF}", text, by=self.agent
        )
        self.save()
        self.event("correspondence", self.agent, "Progress update sent to the customer (COP-13).")
        self.notice("progress_update", self.clock, self.agent)

    def work_until(self, until: datetime) -> None:
        """Keep the customer updated (COP-13) and keep call-back promises until `until`."""
        c = self.c
        for _ in range(200):
            duties = [d for d in (c.progress_update_due_at, c.phone_promised_response_at) if d]
            if not duties or min(duties) >= until:
                return
            duty = min(duties)
            if self.diligent:
                t = max(self.clock + timedelta(minutes=10), duty - timedelta(hours=5))
                self.step(self.office(t + timedelta(hours=self.rng.uniform(0, 4))))
            else:
                self.step(self.staff_after(duty, 2, 30))  # reminded by the sweep first
            if self.clock >= until:
                return
            self.progress_update()
        raise RuntimeError("progress updates do not converge")

    def respond(self, *, proposal: bool = False, late: bool | None = None) -> None:
        """complaint_respond (COP-09), at a time that keeps or misses the response due."""
        from complaints.services.responses import _channel_for

        c, rng, topic = self.c, self.rng, self.topic
        if c.first_responded_at is None:
            late = rng.random() < LATE_RESPONSE_SHARE if late is None else late
            due = c.response_due_at.astimezone(UTC)
            if late:
                t = self.office(due + timedelta(days=rng.uniform(0.3, 8)))
            else:
                t = max(
                    self.clock + timedelta(hours=rng.uniform(0.5, 5)),
                    due - timedelta(hours=rng.uniform(1, 30)),
                )
                t = min(self.office(t), due)
            # Never in the same breath as the last action (a note, an update).
            t = self.office(max(t, self.clock + timedelta(minutes=rng.uniform(15, 90))))
        else:
            t = self.staff_after(self.clock, 4, 72)
        self.work_until(t)
        self.step(t)
        fault = rng.random() < 0.7
        parts = [f"What we found: {topic.findings}"]
        parts.append("We found a fault on our side." if fault else "We did not find a fault.")
        if fault and not proposal:
            parts.append(f"What we have done to put it right: {topic.remedy}")
        if proposal:
            parts.append(f"What we propose: {topic.proposal}")
        c.resolution_awaiting_action = proposal
        c.phone_promised_response_at = None
        self.correspond(
            "out",
            _channel_for(c),
            f"Our response to your complaint {REF}",
            "\n\n".join(parts),
            by=self.agent,
        )
        self.transition(
            "responded",
            self.agent,
            "Response sent: " + ("fault found." if fault else "no fault found."),
            extra={"fault_found": fault, "resolution_proposed": proposal},
        )
        self.notice("response", self.clock, self.agent)

    def resolution_action(self) -> None:
        """complaint_resolution_action: the proposed resolution is done; auto-close starts."""
        from complaints.clocks import resolution_record

        self.step(self.staff_after(self.clock, 20, 150))
        c = self.c
        c.resolution_awaiting_action = False
        c.resolution_actioned_at = self.clock
        resolution_record(c, at=self.clock)
        changed = self.save()
        self.event(
            "clock",
            self.agent,
            "Resolution actioned: done as proposed in our response.",
            extra={"clocks_changed": sorted(changed)},
        )

    def customer_reply(self, t: datetime, body: str) -> None:
        """complaint_customer_reply, from the portal or by email (COP-10)."""
        self.step(self.customer_time(t))
        actor = self.by_customer
        if actor is CUSTOMER:
            self.correspond("in", "portal", "", body, by=CUSTOMER)
        else:
            self.correspond("in", "email", f"Re: Our response to your complaint {REF}", body)
        self.c.last_customer_reply_at = self.clock
        status = self.c.status
        if status == "responded":
            reason = "The customer replied to our response; back to staff (COP-10)."
            self.transition("investigating", actor, reason)
        elif status in ("closed", "resolved_at_first_contact"):
            reason = "The customer replied after the complaint was closed: reopened (COP-10)."
            self.transition("investigating", actor, reason)
        else:
            self.save()
            self.event("correspondence", actor, "The customer sent a message.")

    def await_third_party(self) -> str:
        """complaint_await_third_party, then the enquiry sent (complaint_third_party_log)."""
        name = self.rng.choice(THIRD_PARTIES[self.department])
        self.step(self.staff_after(self.clock, 2, 40))
        self.transition(
            "awaiting_third_party", self.agent, f"Waiting for {name}.", extra={"third_party": name}
        )
        self.c.awaiting_third_party_name = name
        self.tick(60)
        self.third_party.append(
            (name, "out", f"Please send us your records for {REF}.", self.clock, self.agent.id)
        )
        self.event("correspondence", self.agent, f"Third-party correspondence to {name}.")
        return name

    def third_party_reply(self, name: str) -> None:
        t = self.staff_after(self.clock, 24 * 3, 24 * 25)
        self.work_until(t)
        self.step(t)
        self.third_party.append(
            (
                name,
                "in",
                "Our records for the dates you asked about are attached.",
                self.clock,
                self.agent.id,
            )
        )
        self.event("correspondence", self.agent, f"Third-party correspondence from {name}.")
        self.tick(120)
        self.transition(
            "investigating", self.agent, f"Reply received from {name}; investigation resumed."
        )

    def escalate(self) -> None:
        """complaint_escalate and formal_case_open (COP-11, COP-15)."""
        from complaints.services.desk import ESCALATION_REQUESTS

        rng = self.rng
        if self.department == "company_secretary":
            requested = "company_secretary"
        else:
            requested = _pick(
                rng,
                (("technical_director", 0.35), ("company_secretary", 0.1), ("not_specified", 0.55)),
            )
        if self.by_customer is CUSTOMER:
            self.step(self.customer_time(self.clock + timedelta(days=rng.uniform(1, 8))))
            actor = CUSTOMER
        else:
            self.step(self.staff_after(self.clock, 24, 24 * 8))
            actor = self.agent
        why = rng.choice(CUSTOMER_ESCALATIONS if actor is CUSTOMER else ESCALATION_REASONS)
        self.transition(
            "formal",
            actor,
            f"Customer still dissatisfied; asked for {ESCALATION_REQUESTS[requested]}: {why}",
            extra={"requested": requested},
        )
        reviewer = {
            "technical_director": self.s.staff["technical_director"],
            "company_secretary": self.s.staff["company_secretary"],
        }.get(requested, self.s.staff["senior_manager"])
        manager = rng.choice(reviewer)
        self.tick()
        self.formal = {
            "requested": requested,
            "manager": manager,
            "opened_at": self.clock,
            "reason": why,
            "findings": "",
            "proposed_action": "",
            "further_investigation": "",
            "outcome": "open",
            "final_at": None,
            "version": 1,
        }
        self.c.assignee_id = manager.id
        self.save()
        self.event(
            "assigned",
            actor,
            f"Formal complaint {FCR} opened; {manager.label} appointed to review it.",
            extra={"register_reference": FCR, "requested": requested},
            special=("fcr",),
        )
        self.notice("formal_opened", self.clock, actor)

    def review(self) -> None:
        """formal_review_save."""
        manager = self.formal["manager"]
        self.step(self.staff_after(self.clock, 24, 24 * 12))
        self.formal.update(
            further_investigation="Read the case file and spoke to the agent and the customer.",
            findings=self.rng.choice(REVIEW_FINDINGS),
            proposed_action=self.rng.choice(REVIEW_ACTIONS),
            version=self.formal["version"] + 1,
        )
        self.event("note", manager, f"Formal review of {FCR} updated.", special=("fcr",))

    def final_proposition(self) -> None:
        """final_proposition_send, with the deadlock letter it sends unasked (COP-15, 17)."""
        from complaints.domain import deadlines

        manager = self.formal["manager"]
        self.step(self.staff_after(self.clock, 24, 24 * 10))
        c = self.c
        self.notice("final_proposition", self.clock, manager)
        self.formal.update(
            outcome="final_proposition", final_at=self.clock, version=self.formal["version"] + 1
        )
        if not c.deadlock_letter_received_at:
            self.notice("deadlock", self.clock, manager)
            by_post = c.agreed_contact_method == "post"
            c.deadlock_letter_received_at = deadlines.deadlock_received_at(
                self.clock,
                by_post=by_post,
                calendar=self.cal,
                policy=deadlines.policy_by_key(c.policy_key),
            )
            changed = self.save()
            self.event(
                "clock",
                manager,
                "Deadlock letter sent (COP-17): the customer may refer the complaint to the "
                "ADR scheme now; referral deadline recalculated (COP-18).",
                extra={"clocks_changed": sorted(changed), "by_post": by_post},
            )
        if c.status == "formal":
            self.transition(
                "closed",
                manager,
                f"Final proposition sent for {FCR} (COP-15).",
                closure_reason="final_proposition",
            )

    # -- the scenarios ----------------------------------------------------------------

    def run(self, age: float) -> None:
        """Live the scenario from `age` days ago; stop at the first step after now."""
        self.age = age
        name = self.scenario.name
        try:
            self.intake()
            if name in ("first_contact", "logged"):
                return
            self.acknowledge()
            if name == "acknowledged":
                return
            self.investigate()
            if name == "investigating":
                self.work_until(self.now)
                return
            if name in ("third_party_closed", "awaiting_third_party"):
                third_party = self.await_third_party()
                if name == "awaiting_third_party":
                    self.work_until(self.now)
                    return
                self.third_party_reply(third_party)
            proposal = name in ("resolution_actioned", "responded_proposal")
            self.respond(proposal=proposal)
            if name in ("responded", "responded_proposal"):
                return
            if proposal:
                self.resolution_action()
            if name == "reply_then_closed":
                self.customer_reply(
                    self.clock + timedelta(days=self.rng.uniform(0.3, 7)),
                    self.rng.choice(REPLIES),
                )
                self.respond()
            if name in ("formal", "formal_closed"):
                self.escalate()
                self.review()
                if name == "formal":
                    return
                self.final_proposition()
            if name == "reopened_closed":
                self.step(self.c.auto_close_at.astimezone(UTC) + timedelta(hours=1))
                self.customer_reply(
                    self.clock + timedelta(days=self.rng.uniform(2, 40)),
                    self.rng.choice(REOPEN_REPLIES),
                )
                self.respond()
        except _Stop:
            pass
        finally:
            if self.logged:
                self.advance(self.now)


def _pick(rng: random.Random, weighted) -> str:
    options, weights = zip(*weighted, strict=True)
    return rng.choices(options, weights)[0]


def _utc_iso(t: datetime) -> str:
    """The isoformat a datetime read back from the database (in UTC) has."""
    return t.astimezone(UTC).isoformat()


# What outbox_deliver records for each channel, and what outbox_mark_done adds for staff.
DELIVERY_WORDS = {
    "email": ("sent", ""),
    "portal": ("sent", ""),
    "post": ("printed and put in the post queue", "letter posted."),
    "phone": ("waiting for staff to call", "customer called."),
}


# --- Templates: one simulated life, copied by many complaints ----------------------------


@dataclass
class _Variant:
    """A template's rows for customers reached on one set of delivery channels."""

    events: list[tuple]
    outbox: list[tuple]
    portal_messages: list[tuple]


class _Template:
    """A finished life: prepared rows with the per-complaint values left open."""

    def __init__(self, sim: _Sim, seeder: _Seeder):
        from complaints.clocks import alarms_for

        s, c = seeder, sim.c
        self.seeder = seeder
        self.scenario = sim.scenario.name
        self.klass = sim.klass
        self.status = c.status
        self.agreed = c.agreed_contact_method
        self.channel = sim.channel
        self.logged_at = c.logged_at
        self.year = c.logged_at.astimezone(s.cal.tz).year
        last = max([sim.clock, *(e.recorded for e in sim.events)])
        row = sweep._prepared(c, s.complaint_fields)
        row[s.k_updated] = s.dt(last)
        self.row = row
        self.events = sim.events
        self.notices = [
            (n, s.dt(n.deadline_at), s.dt(n.created_at), n.kind.replace("_", "-"))
            for n in sim.notices
        ]
        self.notice_sizes = [sim.rng.randrange(2_400, 9_000) for _ in sim.notices]
        self.correspondence = [
            (d, ch, subject, body, REF in subject, s.dt(at), by)
            for d, ch, subject, body, at, by in sim.correspondence
        ]
        self.notes = [(author, body, s.dt(at)) for author, body, at in sim.notes]
        self.third_party = [(n, d, b, s.dt(at), by) for n, d, b, at, by in sim.third_party]
        self.scans = [(name, size, s.dt(at), by.id) for name, size, at, by in sim.scans]
        self.alerts = [
            (
                kind,
                s.dt(due),
                audience,
                c.department,
                recipient,
                message,
                s.dt(at),
                s.dt(seen) if seen <= s.now else None,
            )
            for kind, due, audience, recipient, message, at, seen in sim.alerts
        ]
        formal = sim.formal
        if formal:
            self.formal_year = formal["opened_at"].astimezone(s.cal.tz).year
            self.formal = (
                formal["requested"],
                formal["manager"].id,
                s.dt(formal["opened_at"]),
                formal["reason"],
                formal["further_investigation"],
                formal["findings"],
                formal["proposed_action"],
                formal["outcome"],
                s.dt(formal["final_at"]) if formal["final_at"] else None,
                formal["version"],
            )
        else:
            self.formal = None
        self.portal_submission = (
            s.dt(sim.portal_submission_at) if sim.portal_submission_at else None
        )
        self.alarms = [(str(kind), s.dt(due)) for kind, due in alarms_for(c).items()]
        self.variants: dict[tuple, _Variant] = {}

    def variant(self, channels: tuple[str, ...]) -> _Variant:
        """Merge the notices' deliveries on `channels` into the history, once per channel set."""
        hit = self.variants.get(channels)
        if hit is None:
            hit = self.variants[channels] = self._variant(channels)
        return hit

    def _variant(self, channels: tuple[str, ...]) -> _Variant:
        from complaints.models import DeliveryChannel, NoticeKind

        s = self.seeder
        labels = [str(DeliveryChannel(ch).label).lower() for ch in channels]
        queued_by = ", ".join(labels)
        by_words = "by " + " and ".join(labels)
        outbox, portal_messages, deliveries = [], [], []
        for index, (notice, _deadline, created_db, _slug) in enumerate(self.notices):
            kind_label = str(NoticeKind(notice.kind).label)
            for channel, label in zip(channels, labels, strict=True):
                box = len(outbox)
                sent = notice.created_at + timedelta(seconds=1.5 + box % 3)
                manual = channel in ("post", "phone")
                if sent > s.now:  # not picked up by a worker yet
                    state, tries, done_at, done_by = "pending", 0, None, None
                else:  # outbox_deliver, then outbox_mark_done for letters and calls
                    verb, done = DELIVERY_WORDS[channel]
                    special = ("delivery", index, box)
                    deliveries.append((sent, None, f"{kind_label} by {label}: {verb}.", special))
                    if channel == "portal":
                        portal_messages.append((index, s.dt(sent)))
                    tries, done_at, done_by = 1, None, None
                    if not manual:
                        state, done_at = "sent", sent
                    elif notice.manual_at <= s.now:
                        state, done_at, done_by = "sent", notice.manual_at, notice.manual_by
                        deliveries.append((done_at, done_by, f"{kind_label}: {done}", special))
                    else:
                        state = "to_post" if channel == "post" else "to_call"
                outbox.append(
                    (index, channel, state, tries, created_db, s.dt(done_at) if done_at else None,
                     done_by.id if done_by else None, created_db,
                     channel == "post" and state != "pending")
                )  # fmt: skip
        merged = [(e.recorded, 0, n, e) for n, e in enumerate(self.events)]
        merged += [(d[0], 1, n, d) for n, d in enumerate(deliveries)]
        merged.sort(key=lambda m: m[:3])
        events = []
        for _recorded, source, _n, e in merged:
            if source == 1:
                at, actor, reason, special = e
                events.append(("notice", actor, "", "", reason, at, s.dt(at), None, None, special))
                continue
            reason, extra, special = e.reason, e.extra, e.special
            if special and special[0] == "queued":
                kind_label = str(NoticeKind(self.notices[special[1]][0].kind).label)
                reason = f"{kind_label}: queued by {queued_by}."
                special = ("queued", special[1], list(channels))
            elif special and special[0] == "by":
                reason, special = reason.replace(BY, by_words), None
            extra_db = None if special else s.json(extra)
            events.append(
                (e.kind, e.actor, e.from_status, e.to_status, reason, e.at, s.dt(e.at), extra,
                 extra_db, special)
            )  # fmt: skip
        return _Variant(events=events, outbox=outbox, portal_messages=portal_messages)


# --- The seeder ------------------------------------------------------------------------


class _Table:
    """Rows waiting to go into one table, in the model's column order."""

    def __init__(self, model, columns: tuple[str, ...]):
        from django.db.models import Max

        fields = list(model._meta.concrete_fields)
        names = tuple(f.attname for f in fields)
        if names != columns:
            raise RuntimeError(
                f"{model._meta.label} now has columns {names}; update bench/seed.py's {columns}"
            )
        self.model, self.fields, self.rows, self.count = model, fields, [], 0
        self.next_id = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1

    def ids(self, n: int) -> int:
        first = self.next_id
        self.next_id += n
        return first

    def flush(self) -> None:
        if self.rows:
            sweep._insert(self.model, self.fields, self.rows)
            self.count += len(self.rows)
            self.rows = []


class _Hashed:
    """The attributes event_hash reads, set in place for each history row."""

    __slots__ = (
        "complaint_id",
        "seq",
        "kind",
        "actor_id",
        "actor_label",
        "from_status",
        "to_status",
        "reason",
        "at",
        "extra",
        "prev_hash",
    )


class _Seeder:
    def __init__(self, total: int, *, batch: int, now: datetime):
        from django.conf import settings
        from django.db import connection

        from complaints.clocks import calendar
        from complaints.models import CaseEvent, Complaint
        from complaints.services.enforcement import _local

        self.total, self.batch, self.now = total, batch, now.astimezone(UTC)
        self.rng = random.Random(RANDOM_SEED)  # noqa: S311 - test data, not secrets
        self.cal = calendar()
        self.connection = connection
        self.complaint_fields = list(Complaint._meta.concrete_fields)
        names = [f.attname for f in self.complaint_fields]
        self.k_id, self.k_ref, self.k_customer, self.k_updated = (
            names.index(n) for n in ("id", "reference", "customer_id", "updated_at")
        )
        self.k_count, self.k_head = (names.index(n) for n in ("history_count", "history_head"))
        self.k_token = names.index("portal_token")
        self._dt_field = Complaint._meta.get_field("first_made_at")
        self._json_field = CaseEvent._meta.get_field("extra")
        self._words: dict[datetime, str] = {}
        self.local = _local  # the sweep's own wording of a deadline
        company = settings.REDRESS_COMPANY
        self.mailbox = {
            "technical_support": company["support_email"],
            "accounts": company["accounts_email"],
            "company_secretary": company["support_email"],
        }
        self.mail_domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
        self.phases: dict[str, float] = {}
        self.insert_seconds = 0.0

    def dt(self, value: datetime) -> object:
        return self._dt_field.get_db_prep_save(value, self.connection)

    def json(self, value: dict) -> object:
        # What JSONField.get_db_prep_save returns, without the field's per-call machinery.
        return self.connection.ops.adapt_json_value(value, self._json_field.encoder)

    def words(self, t: datetime) -> str:
        from complaints.domain.wording import moment_words

        hit = self._words.get(t)
        if hit is None:
            hit = self._words[t] = moment_words(t, self.cal.tz)
        return hit

    # -- staff -----------------------------------------------------------------------

    def staff_ensure(self) -> int:
        """Create (or find) a handful of staff in the usual roles, through the service."""
        from accounts.models import User
        from accounts.services import staff_user_create

        self.staff: dict[str, list[_Actor]] = defaultdict(list)
        self.labels: dict[int, str] = {}
        for role, name in STAFF:
            email = f"{name.lower().replace(' ', '.')}@{STAFF_DOMAIN}"
            user = User.objects.filter(email=email).first() or staff_user_create(
                email=email, name=name, role=role
            )
            actor = _Actor(user.pk, str(user))
            self.staff[role].append(actor)
            self.labels[user.pk] = actor.label
        return len(STAFF)

    # -- templates -------------------------------------------------------------------

    def template_count(self) -> int:
        return min(self.total, max(2000, min(self.total // 20, 20_000)))

    def klass_pick(self, rng: random.Random) -> tuple:
        preferred = _pick(rng, PREFERRED)
        has_email = preferred in ("email", "portal") or rng.random() < 0.5
        ineligible = rng.choice(INELIGIBLE_SIZES) if rng.random() < INELIGIBLE_SHARE else 0
        contract = 1 if rng.random() < CONTRACT_SHARE else None
        return (preferred, has_email, ineligible, contract)

    def template_build(self, n: int) -> _Template:
        from complaints.domain.lifecycle import IllegalTransition

        rng = random.Random(RANDOM_SEED * 1_000_003 + n)  # noqa: S311
        if n < len(SCENARIOS):
            scenario = SCENARIOS[n]  # every scenario at least once, however small the seed
        else:
            scenario = rng.choices(SCENARIOS, [s.weight for s in SCENARIOS])[0]
        klass = self.klass_pick(rng)
        low, high = scenario.ages
        fallback = None
        for attempt in range(16):
            if attempt == 15:  # old enough for any scenario to finish
                low, high = high, max(high, 90)
            sim = _Sim(seeder=self, scenario=scenario, klass=klass, rng=rng)
            try:
                sim.run(low + (high - low) * rng.random() ** 1.4)
            except IllegalTransition:
                continue
            if not sim.logged:
                continue
            if sim.c.status == scenario.target:
                return _Template(sim, self)
            fallback = fallback or sim
        if fallback is None:
            raise RuntimeError(f"could not build a complaint for scenario {scenario.name}")
        return _Template(fallback, self)

    # -- customers -------------------------------------------------------------------

    def customers_make(self, templates, assign) -> tuple[list[int], list[tuple]]:
        """Group the complaints of each customer class into customers; return both."""
        rng = self.rng
        by_class: dict[tuple, list[int]] = defaultdict(list)
        for i, t in enumerate(assign):
            by_class[templates[t].klass].append(i)
        groups = []
        for klass in sorted(by_class, key=repr):
            members = by_class[klass]
            rng.shuffle(members)
            pos = 0
            while pos < len(members):
                size = min(
                    int(rng.paretovariate(COMPLAINTS_PER_CUSTOMER_ALPHA)),
                    COMPLAINTS_PER_CUSTOMER_MAX,
                )
                group = members[pos : pos + size]
                pos += size
                groups.append((min(group), klass, group))
        groups.sort(key=lambda g: g[0])  # customer ids in order of their first complaint
        customer_of = [0] * len(assign)
        for n, (_first, _klass, group) in enumerate(groups):
            for i in group:
                customer_of[i] = n
        return customer_of, [(first, klass) for first, klass, _group in groups]

    def customers_insert(self, templates, assign, groups) -> list[tuple]:
        """Insert the customers (and portal logins); return what each complaint needs of one."""
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group
        from django.db import transaction

        from accounts.models import Customer, User
        from accounts.roles import GROUP_NAMES, Role, roles_sync

        rng = self.rng
        users = _Table(User, USER_COLUMNS)
        members = _Table(User.groups.through, MEMBERSHIP_COLUMNS)
        customers = _Table(Customer, CUSTOMER_COLUMNS)
        group = Group.objects.filter(name=GROUP_NAMES[Role.CUSTOMER]).first()
        if group is None:
            roles_sync()
            group = Group.objects.get(name=GROUP_NAMES[Role.CUSTOMER])
        password = make_password(None)  # no password: seeded customers cannot log in
        base = customers.ids(len(groups))
        people = []
        for n, (first, klass) in enumerate(groups):
            cid = base + n
            preferred, has_email, ineligible, contract = klass
            first_made = templates[assign[first]].logged_at
            business = bool(ineligible or contract) or rng.random() < 0.12
            if business:
                name = f"{rng.choice(BUSINESS_PLACES)} {rng.choice(BUSINESS_TRADES)}"
                employees = ineligible or rng.choice((None, 2, 3, 5, 8, 9))
                local = name.lower().replace(" ", ".")
            else:
                first_name, last_name = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                name, employees = f"{first_name} {last_name}", None
                local = f"{first_name}.{last_name}".lower().replace("'", "")
            email = f"{local}.{cid}@example.invalid" if has_email else ""
            has_address = preferred == "post" or rng.random() < 0.55
            town, postcode = rng.choice(TOWNS)
            inward = f"{rng.randrange(1, 10)}{''.join(rng.choices(POSTCODE_LETTERS, k=2))}"
            address = (
                f"{rng.randrange(1, 200)} {rng.choice(STREETS)}\n{town}\n"
                f"{postcode}{rng.randrange(1, 40)} {inward}"
                if has_address
                else ""
            )
            phone = f"07{rng.randrange(10**9):09d}"
            has_login = preferred == "portal" or (has_email and rng.random() < 0.8)
            created = min(first_made, self.now) - timedelta(
                days=rng.random() * 900 if rng.random() < 0.7 else 0
            )
            user_id = confirmed = None
            if has_login:
                confirmed = min(first_made + timedelta(minutes=rng.uniform(3, 600)), self.now)
                user_id = users.ids(1)
                joined = self.dt(confirmed)
                last_login = self.dt(min(confirmed + timedelta(days=rng.uniform(0, 60)), self.now))
                users.rows.append(
                    (user_id, password, last_login, False, email, name, False, True, joined)
                )
                members.rows.append((members.ids(1), user_id, group.pk))
            account = f"ACC-{cid:07d}" if rng.random() < 0.9 else ""
            customers.rows.append(
                (cid, user_id, name, account, email, phone, address, preferred,
                 "business" if business else "consumer", employees if business else None,
                 f"CTR-{cid:06d}" if contract else "", contract,
                 self.dt(confirmed) if confirmed else None, self.dt(created), None)
            )  # fmt: skip
            reach = (bool(email), has_address, has_login)
            people.append((cid, name, email, phone, f"{name}\n{address}", user_id, reach))
            if len(customers.rows) >= self.batch:
                with transaction.atomic():
                    users.flush()
                    members.flush()
                    customers.flush()
        with transaction.atomic():
            users.flush()
            members.flush()
            customers.flush()
        self.people_tables = (users, members, customers)
        return people

    # -- complaints ------------------------------------------------------------------

    def complaints_insert(self, templates, assign, customer_of, people) -> None:
        """Copy a template for each complaint, a batch of complaints per transaction."""
        from django.db import transaction

        from complaints import models as m
        from complaints.models import ReferenceCounter
        from escalation.models import FormalCase

        tables = self.tables = {
            "complaint": _Table(m.Complaint, tuple(f.attname for f in self.complaint_fields)),
            "attachment": _Table(m.Attachment, ATTACHMENT_COLUMNS),
            "notice": _Table(m.Notice, NOTICE_COLUMNS),
            "outbox": _Table(m.OutboxMessage, OUTBOX_COLUMNS),
            "event": _Table(m.CaseEvent, EVENT_COLUMNS),
            "correspondence": _Table(m.Correspondence, CORRESPONDENCE_COLUMNS),
            "note": _Table(m.CaseNote, NOTE_COLUMNS),
            "third_party": _Table(m.ThirdPartyCorrespondence, THIRD_PARTY_COLUMNS),
            "alert": _Table(m.StaffAlert, ALERT_COLUMNS),
            "formal": _Table(FormalCase, FORMAL_COLUMNS),
            "alarm": _Table(m.DeadlineAlarm, ALARM_COLUMNS),
        }
        self.counters = dict(ReferenceCounter.objects.values_list("scope", "last_value"))
        self.channels_memo: dict[tuple, tuple] = {}
        self.first_complaint_id = tables["complaint"].next_id

        def flush():
            started = time.perf_counter()
            with transaction.atomic():
                for table in tables.values():  # in the order of their foreign keys
                    table.flush()
            self.insert_seconds += time.perf_counter() - started

        started = time.perf_counter()
        for i, n in enumerate(assign):
            self.complaint_copy(templates[n], people[customer_of[i]])
            if len(tables["complaint"].rows) >= self.batch:
                flush()
            if (i + 1) % PROGRESS_EVERY == 0:
                elapsed = time.perf_counter() - started
                logger.info("%s complaints copied in %.0f s", f"{i + 1:,}", elapsed)
        flush()
        self.last_complaint_id = tables["complaint"].next_id - 1
        for scope, value in self.counters.items():
            ReferenceCounter.objects.update_or_create(scope=scope, defaults={"last_value": value})

    def number_next(self, scope: str) -> int:
        """The next number of a reference sequence, as reference_next_number would give."""
        self.counters[scope] = number = self.counters.get(scope, 0) + 1
        return number

    def complaint_copy(self, t: _Template, person: tuple) -> None:
        """Add one complaint copying `t` for `person`: its rows, then its history."""
        from complaints.domain.notices import delivery_channels

        tables = self.tables
        cust_id, name, email, phone, postal, user_id, reach = person
        key = (t.agreed, *reach)
        channels = self.channels_memo.get(key)
        if channels is None:
            channels = self.channels_memo[key] = delivery_channels(
                t.agreed, has_email=reach[0], has_postal_address=reach[1], has_portal_login=reach[2]
            )
        v = t.variant(channels)
        cid = tables["complaint"].ids(1)
        ref = f"CMP-{t.year}-{self.number_next(f'CMP-{t.year}'):06d}"
        row = t.row.copy()
        row[self.k_id], row[self.k_ref], row[self.k_customer] = cid, ref, cust_id
        fcr = ""
        if t.formal:
            fcr = f"FCR-{t.formal_year}-{self.number_next(f'FCR-{t.formal_year}'):04d}"
            tables["formal"].rows.append((tables["formal"].ids(1), cid, fcr, *t.formal))

        def fill(text: str) -> str:
            return text.replace(REF, ref).replace(NAME, name).replace(FCR, fcr)

        ids = {
            "notice": tables["notice"].ids(len(t.notices)),
            "attachment": tables["attachment"].ids(len(t.notices) + len(t.scans)),
            "outbox": tables["outbox"].ids(len(v.outbox)),
        }
        rows = tables["attachment"].rows
        for k, (n, deadline_db, created_db, slug) in enumerate(t.notices):
            nid, aid = ids["notice"] + k, ids["attachment"] + k
            path = f"complaints/{cid}/letter-{nid}.pdf"
            size = t.notice_sizes[k]
            rows.append(
                (aid, cid, "letter_sent", path, f"{ref}-{slug}.pdf", PDF, size, True, created_db,
                 None)
            )  # fmt: skip
            tables["notice"].rows.append(
                (nid, cid, n.kind, deadline_db, t.agreed, "standard", fill(n.subject),
                 fill(n.body), aid, created_db)
            )  # fmt: skip
        for k, (file_name, size, at_db, by) in enumerate(t.scans):
            aid = ids["attachment"] + len(t.notices) + k
            path = f"complaints/{cid}/scan-{k}.pdf"
            rows.append((aid, cid, "letter_scan", path, file_name, PDF, size, False, at_db, by))
        recipients = {"email": email, "portal": email, "phone": phone, "post": postal}
        for k, box in enumerate(v.outbox):
            index, channel, state, tries, next_db, sent_db, sent_by, created_db, letter = box
            oid, nid = ids["outbox"] + k, ids["notice"] + index
            sent_email = channel == "email" and state == "sent"
            message_id = f"<notice-{nid}-{oid}@{self.mail_domain}>" if sent_email else ""
            letter_id = ids["attachment"] + index if letter else None
            tables["outbox"].rows.append(
                (oid, nid, channel, recipients[channel], state, tries, next_db, None, "",
                 message_id, letter_id, sent_db, sent_by, None, created_db)
            )  # fmt: skip
        rows = tables["correspondence"].rows
        for direction, channel, subject, body, has_ref, at_db, by in t.correspondence:
            by = user_id if by is CUSTOMER else (by.id if by else None)
            subject = subject.replace(REF, ref) if has_ref else subject
            rows.append(
                (tables["correspondence"].ids(1), cid, direction, channel, subject, body, True, "",
                 at_db, by)
            )  # fmt: skip
        for index, at_db in v.portal_messages:  # what outbox_deliver writes for the portal
            n = t.notices[index][0]
            rows.append(
                (tables["correspondence"].ids(1), cid, "out", "portal", fill(n.subject),
                 fill(n.body), True, "", at_db, None)
            )  # fmt: skip
        for author, body, at_db in t.notes:
            tables["note"].rows.append((tables["note"].ids(1), cid, author, body, at_db))
        for who, direction, body, at_db, by in t.third_party:
            tables["third_party"].rows.append(
                (tables["third_party"].ids(1), cid, who, direction, fill(body), at_db, by)
            )
        for kind, due_db, audience, department, recipient, message, at_db, seen_db in t.alerts:
            tables["alert"].rows.append(
                (tables["alert"].ids(1), cid, kind, due_db, audience, department, recipient,
                 fill(message), at_db, seen_db)
            )  # fmt: skip
        if t.portal_submission:  # filed on the portal's form: its one-use token
            row[self.k_token] = f"seed-{cid}"
        for kind, due_db in t.alarms:
            tables["alarm"].rows.append((tables["alarm"].ids(1), cid, kind, due_db))
        # The chain's head goes on the complaint, as CaseEvent.objects.record leaves it.
        row[self.k_count], row[self.k_head] = self.history_copy(
            t, v, cid=cid, fcr=fcr, user=(user_id, name), ids=ids
        )
        tables["complaint"].rows.append(tuple(row))

    def history_copy(self, t: _Template, v: _Variant, *, cid, fcr, user, ids) -> tuple[int, str]:
        """Chain the complaint's history rows with the project's own event_hash.

        Returns the chain's head: the number of events and the last one's hash.
        """
        from complaints.services.history import event_hash

        table = self.tables["event"]
        hashed, prev, eid = _Hashed(), "", table.ids(len(v.events))
        for seq, (kind, actor, frm, to, reason, at, at_db, extra, extra_db, special) in enumerate(
            v.events, 1
        ):
            if actor is None:
                actor_id, label = None, "system"
            elif actor is CUSTOMER:
                actor_id, label = user if user[0] else (None, "system")
            else:
                actor_id, label = actor.id, actor.label
            if special is not None:
                tag = special[0]
                if tag == "queued":
                    extra = {"notice_id": ids["notice"] + special[1], "channels": special[2]}
                elif tag == "delivery":
                    extra = {
                        "notice_id": ids["notice"] + special[1],
                        "outbox_id": ids["outbox"] + special[2],
                    }
                elif tag == "scan":
                    extra = {"attachment_id": ids["attachment"] + len(t.notices) + special[1]}
                else:  # the formal complaint's register reference
                    reason = reason.replace(FCR, fcr)
                    if "register_reference" in extra:
                        extra = {**extra, "register_reference": fcr}
                extra_db = self.json(extra)
            hashed.complaint_id, hashed.seq, hashed.kind = cid, seq, kind
            hashed.actor_id, hashed.actor_label = actor_id, label
            hashed.from_status, hashed.to_status, hashed.reason = frm, to, reason
            hashed.at, hashed.extra, hashed.prev_hash = at, extra, prev
            digest = event_hash(hashed)
            table.rows.append(
                (
                    eid,
                    cid,
                    kind,
                    actor_id,
                    label,
                    frm,
                    to,
                    reason,
                    at_db,
                    extra_db,
                    seq,
                    prev,
                    digest,
                )
            )
            prev, eid = digest, eid + 1
        return len(v.events), prev

    def sequences_reset(self) -> None:
        from django.core.management.color import no_style

        models = [t.model for t in (*self.people_tables, *self.tables.values())]
        with self.connection.cursor() as cur:
            for statement in self.connection.ops.sequence_reset_sql(no_style(), models):
                cur.execute(statement)


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


# Each table's columns, in the model's order (checked when the seeder starts).
USER_COLUMNS = _columns(
    "id password last_login is_superuser email name is_staff is_active date_joined"
)
CUSTOMER_COLUMNS = _columns(
    "id user_id name account_reference email phone postal_address preferred_contact_method "
    "customer_type employee_count contract_reference contracted_response_working_days "
    "email_confirmed_at created_at anonymised_at"
)
EVENT_COLUMNS = _columns(
    "id complaint_id kind actor_id actor_label from_status to_status reason at extra seq "
    "prev_hash hash"
)
CORRESPONDENCE_COLUMNS = _columns(
    "id complaint_id direction channel subject body customer_visible message_id at recorded_by_id"
)
NOTE_COLUMNS = _columns("id complaint_id author_id body at")
THIRD_PARTY_COLUMNS = _columns("id complaint_id third_party_name direction body at recorded_by_id")
ATTACHMENT_COLUMNS = _columns(
    "id complaint_id kind file original_name content_type size customer_visible at uploaded_by_id"
)
NOTICE_COLUMNS = _columns(
    "id complaint_id kind deadline_at contact_method communication_format subject body letter_id "
    "created_at"
)
OUTBOX_COLUMNS = _columns(
    "id notice_id channel recipient state attempts next_attempt_at claimed_until last_error "
    "message_id letter_id sent_at sent_by_id representative_id created_at"
)
ALERT_COLUMNS = _columns(
    "id complaint_id kind deadline_at audience department recipient_id message created_at seen_at"
)
FORMAL_COLUMNS = _columns(
    "id complaint_id register_reference requested senior_manager_id opened_at reason "
    "further_investigation findings proposed_action outcome final_proposition_sent_at version"
)
ALARM_COLUMNS = _columns("id complaint_id kind due_at")
MEMBERSHIP_COLUMNS = _columns("id user_id group_id")


def seed_realistic(total: int, *, batch: int = 5000, now: datetime | None = None) -> SeedResult:
    """Insert `total` complaints with customers, staff and histories; return what was done.

    Call after django.setup() and migrate. `now` (aware; default: the current time) is the
    moment the seeded world has reached: every deadline job due by then has run, and only
    the alarms of clocks still running are left.
    """
    from django.db.models import Count
    from django.utils import timezone

    from complaints.models import Complaint

    if total < 1 or batch < 1:
        raise ValueError("total and batch must be at least 1")
    now = now or timezone.now()
    if timezone.is_naive(now):
        raise ValueError("now must be an aware datetime")
    started = time.perf_counter()
    seeder = _Seeder(total, batch=batch, now=now)
    result = SeedResult(complaints=total, now=seeder.now)

    mark = time.perf_counter()
    result.staff = seeder.staff_ensure()
    count = seeder.template_count()
    templates = sorted((seeder.template_build(n) for n in range(count)), key=lambda t: t.logged_at)
    result.templates = count
    logger.info("simulated %s lives in %.0f s", f"{count:,}", time.perf_counter() - mark)
    # Complaint ids and references follow the time they were logged, as in real use.
    assign = sorted(seeder.rng.randrange(count) for _ in range(total))
    result.phases["simulate"] = time.perf_counter() - mark

    mark = time.perf_counter()
    customer_of, groups = seeder.customers_make(templates, assign)
    people = seeder.customers_insert(templates, assign, groups)
    result.customers = len(groups)
    result.phases["customers"] = time.perf_counter() - mark

    mark = time.perf_counter()
    seeder.complaints_insert(templates, assign, customer_of, people)
    seeder.sequences_reset()
    result.phases["complaints"] = time.perf_counter() - mark
    result.phases["complaints: insert"] = seeder.insert_seconds

    for table in (*seeder.people_tables, *seeder.tables.values()):
        result.rows[table.model._meta.db_table] = table.count
    result.scenarios = dict(Counter(templates[t].scenario for t in assign).most_common())
    result.first_complaint_id = seeder.first_complaint_id
    result.last_complaint_id = seeder.last_complaint_id
    seeded = Complaint.objects.filter(
        pk__gte=result.first_complaint_id, pk__lte=result.last_complaint_id
    )
    result.statuses = dict(
        seeded.order_by().values_list("status").annotate(n=Count("pk")).order_by("-n")
    )
    result.phases["analyze"] = _analyze()
    result.seconds = time.perf_counter() - started
    return result


def _analyze() -> float:
    """sweep.analyze, less SQLite's WAL checkpoint inside a caller's transaction (a test's)."""
    from django.db import connection

    if not connection.in_atomic_block:
        return sweep.analyze()
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return time.perf_counter() - started


# --- Checking the seed -----------------------------------------------------------------


def seed_check(result: SeedResult, *, sample: int | None = 200) -> list[str]:
    """Return what is wrong with a sample of the seeded complaints (all with sample=None).

    The history chain verifies (history_verify), the stored deadlines are those
    clocks_compute gives for the row's facts, the alarms are exactly alarms_for's, and no
    alarm was left due by `now`.
    """
    from complaints.clocks import alarms_for, clocks_compute
    from complaints.models import Complaint, DeadlineAlarm
    from complaints.services.history import history_verify

    first, last = result.first_complaint_id, result.last_complaint_id
    ids = list(range(first, last + 1))
    if sample is not None and sample < len(ids):
        ids = sorted(random.Random(RANDOM_SEED).sample(ids, sample))  # noqa: S311
    problems = [str(p) for p in history_verify(complaint_ids=ids)]
    stored_alarms = defaultdict(set)
    for complaint_id, kind, due_at in DeadlineAlarm.objects.filter(
        complaint_id__in=ids
    ).values_list("complaint_id", "kind", "due_at"):
        stored_alarms[complaint_id].add((kind, due_at))
    for start in range(0, len(ids), 500):
        for complaint in Complaint.objects.filter(pk__in=ids[start : start + 500]):
            for name, value in clocks_compute(complaint).as_fields().items():
                if getattr(complaint, name) != value:
                    problems.append(
                        f"{complaint.reference}: {name} is {getattr(complaint, name)}, "
                        f"clocks_compute gives {value}"
                    )
            wanted = {(str(kind), due) for kind, due in alarms_for(complaint).items()}
            if stored_alarms[complaint.pk] != wanted:
                problems.append(
                    f"{complaint.reference}: alarms {sorted(stored_alarms[complaint.pk])}, "
                    f"alarms_for gives {sorted(wanted)}"
                )
    overdue = DeadlineAlarm.objects.filter(
        complaint_id__gte=first, complaint_id__lte=last, due_at__lte=result.now
    ).count()
    if overdue:
        problems.append(f"{overdue} alarms were already due at {result.now:%Y-%m-%d %H:%M} UTC")
    return problems


# --- Command line ----------------------------------------------------------------------


def report(result: SeedResult) -> str:
    lines = [
        f"Seeded {result.complaints:,} complaints for {result.customers:,} customers "
        f"({result.templates:,} simulated lives copied) in {result.seconds:.1f} s: "
        f"{result.total_rows:,} rows, {result.total_rows / result.seconds:,.0f} rows/s, "
        f"{result.complaints / result.seconds:,.0f} complaints/s",
        "",
        "rows per table:",
    ]
    width = max(len(t) for t in result.rows)
    for table, rows in sorted(result.rows.items(), key=lambda r: -r[1]):
        per = rows / result.complaints
        lines.append(f"  {table.ljust(width)}  {rows:>12,}  ({per:.2f} per complaint)")
    lines += ["", "seconds per phase:"]
    for phase, seconds in result.phases.items():
        lines.append(f"  {phase.ljust(20)}  {seconds:8.1f}")
    lines += ["", "complaints by status:"]
    for status, n in result.statuses.items():
        lines.append(f"  {status.ljust(26)}  {n:>10,}  {100 * n / result.complaints:5.1f}%")
    lines += ["", "complaints by scenario:"]
    for scenario, n in result.scenarios.items():
        lines.append(f"  {scenario.ljust(26)}  {n:>10,}  {100 * n / result.complaints:5.1f}%")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--million", action="store_true", help="seed 1,000,000 complaints")
    parser.add_argument("--batch", type=int, default=5000, help="complaints per transaction")
    parser.add_argument(
        "--check", type=int, default=200, help="complaints to verify after seeding (default 200)"
    )
    parser.add_argument(
        "--verify-all",
        action="store_true",
        help="also run manage.py verify_history over the whole database",
    )
    args = parser.parse_args(argv)
    if args.complaints < 1 or args.batch < 1 or args.check < 0:
        parser.error("--complaints and --batch must be at least 1, --check at least 0")
    total = 1_000_000 if args.million else args.complaints

    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    url = sweep.configure_environment()
    config = sweep.database_config(url)
    sweep.database_prepare(config, fresh=True)

    import django

    django.setup()
    from django.core.management import call_command

    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("  %(asctime)s %(message)s", "%H:%M:%S"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    call_command("migrate", verbosity=0)
    print(f"Database: {sweep.engine_label()} ({config['NAME']})")
    print(f"Seeding {total:,} complaints (batches of {args.batch:,}) ...", flush=True)
    result = seed_realistic(total, batch=args.batch)
    print(report(result))
    print(f"\nPeak memory (ru_maxrss): {sweep.peak_mib():,.0f} MiB")

    started = time.perf_counter()
    problems = seed_check(result, sample=args.check)
    print(
        f"\nSelf-check of {min(args.check, total):,} complaints (history chain, stored "
        f"deadlines, alarms): {'OK' if not problems else f'{len(problems)} problems'} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    for problem in problems[:20]:
        print(f"  {problem}")
    if args.verify_all:
        started = time.perf_counter()
        call_command("verify_history")
        print(f"verify_history took {time.perf_counter() - started:.1f} s")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
