"""The staff triage desk: who sees and does what, every action, phone and letter channels."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Customer
from complaints.domain.lifecycle import Status
from complaints.models import (
    AlarmKind,
    Attachment,
    CaseEvent,
    CaseNote,
    Channel,
    Complaint,
    Correspondence,
    DeadlineAlarm,
    Department,
    ThirdPartyCorrespondence,
)
from complaints.services.transitions import complaint_transition
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=LONDON)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def login(role: str) -> tuple[Client, object]:
    user = StaffUserFactory(role=role)
    client = Client()
    client.force_login(user)
    return client, user


def case_url(complaint) -> str:
    return reverse("admin:complaints_complaint_change", args=[complaint.pk])


def act_url(complaint, action: str) -> str:
    return reverse("admin:complaints_complaint_action", args=[complaint.pk, action])


def references(response) -> set[str]:
    import re

    return set(re.findall(r"CMP-\d{4}-\d{6}", response.content.decode()))


@pytest.fixture
def cases():
    tech = complaint_make(department=Department.TECHNICAL_SUPPORT)
    accounts = complaint_make(department=Department.ACCOUNTS)
    code = complaint_make(department=Department.COMPANY_SECRETARY)
    formal = complaint_make(department=Department.TECHNICAL_SUPPORT)
    complaint_transition(complaint=formal, to=Status.FORMAL, actor=None, reason="Not satisfied.")
    return {"tech": tech, "accounts": accounts, "code": code, "formal": formal}


# --- Who sees what -----------------------------------------------------------------------

VISIBLE = {
    "support_agent": {"tech", "formal"},
    "accounts_agent": {"accounts"},
    "company_secretary": {"code", "formal"},
    "senior_manager": {"tech", "accounts", "code", "formal"},
    "technical_director": {"tech", "accounts", "code", "formal"},
    "administrator": {"tech", "accounts", "code", "formal"},
}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_each_role_sees_its_own_queue(role, cases):
    """COP-19 and the roles: departments see their queue, managers see all."""
    client, _ = login(role)
    expected = {cases[k].reference for k in VISIBLE[role]}
    assert references(client.get(reverse("admin:complaints_complaint_changelist"))) == expected
    for key, complaint in cases.items():
        status = client.get(case_url(complaint)).status_code
        if key in VISIBLE[role]:
            assert status == 200
        else:
            assert status == 302  # the admin redirects away from objects it cannot find
            assert client.get(act_url(complaint, "note")).status_code == 404


def test_a_customer_cannot_use_the_desk(cases):
    customer = CustomerFactory(with_user=True)
    client = Client()
    client.force_login(customer.user)
    response = client.get(reverse("admin:complaints_complaint_changelist"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    assert client.get(act_url(cases["tech"], "note")).status_code == 302


def test_nothing_can_be_deleted_from_the_desk(cases):
    client, _ = login("administrator")
    complaint = cases["tech"]
    assert (
        client.get(reverse("admin:complaints_complaint_delete", args=[complaint.pk])).status_code
        == 403
    )
    page = client.get(reverse("admin:complaints_complaint_changelist")).content.decode()
    assert "delete_selected" not in page
    assert Complaint.objects.filter(pk=complaint.pk).exists()


# --- Queues ----------------------------------------------------------------------------------


def test_queue_filters(cases, frozen):
    client, manager = login("senior_manager")
    Complaint.objects.filter(pk=cases["accounts"].pk).update(assignee=manager)
    complaint_transition(
        complaint=cases["code"], to=Status.AWAITING_THIRD_PARTY, actor=manager, reason="BT"
    )
    url = reverse("admin:complaints_complaint_changelist")

    def queue(name):
        return references(client.get(url, {"queue": name}))

    assert queue("mine") == {cases["accounts"].reference}
    assert cases["accounts"].reference not in queue("unassigned")
    assert queue("awaiting") == {cases["code"].reference}
    assert queue("formal") == {cases["formal"].reference}
    assert queue("overdue") == set()
    frozen.move_to(datetime(2026, 11, 25, 9, 0, tzinfo=LONDON))
    assert cases["tech"].reference in queue("due_today")  # response due 17:00 today
    frozen.move_to(datetime(2026, 11, 25, 17, 1, tzinfo=LONDON))
    assert cases["tech"].reference in queue("overdue")
    page = client.get(url).content.decode()
    assert "response overdue since Wed 17:00" in page
    frozen.move_to(datetime(2026, 11, 26, 10, 30, tzinfo=LONDON))
    assert "response overdue by 1h 30m" in client.get(url).content.decode()


def test_search_by_reference_account_name_email_and_phone(cases):
    client, _ = login("senior_manager")
    customer = CustomerFactory(
        name="Hermione Example",
        account_reference="ACC-4242",
        email="h@example.org",
        phone="07700 900123",
    )
    mine = complaint_make(customer=customer)
    url = reverse("admin:complaints_complaint_changelist")
    for term in (mine.reference, "ACC-4242", "Hermione", "h@example.org", "07700 900123"):
        assert references(client.get(url, {"q": term})) == {mine.reference}, term


def listed(response) -> set[str]:
    """The references in the changelist's results (not those echoed in the search box)."""
    assert response.status_code == 200
    return {c.reference for c in response.context["cl"].result_list}


def test_search_finds_whole_identifiers_and_part_of_a_name(cases):
    """The desk's search box reads indexes: references, account references, email addresses
    and telephone numbers match whole; a name matches any part of it."""
    from escalation.models import FormalCase

    client, _ = login("senior_manager")
    customer = CustomerFactory(name="Hermione Granger-Example", email="h@example.org")
    mine = complaint_make(customer=customer)
    other = complaint_make(customer=CustomerFactory(name="Ron Weasley", email="r@example.org"))
    FormalCase.objects.create(
        complaint=mine, register_reference="FCR-2026-0042", opened_at=mine.first_made_at
    )
    url = reverse("admin:complaints_complaint_changelist")
    found = {
        term: listed(client.get(url, {"q": term}))
        for term in (
            mine.reference.lower(),
            "fcr-2026-0042",
            "granger",
            "  Granger-Example ",
            "H@Example.org",
            "example.org",  # part of an email address is not a search for it
            "CMP-2026-999999",
        )
    }
    assert found == {
        mine.reference.lower(): {mine.reference},
        "fcr-2026-0042": {mine.reference},
        "granger": {mine.reference},
        "  Granger-Example ": {mine.reference},
        "H@Example.org": {mine.reference},
        "example.org": set(),
        "CMP-2026-999999": set(),
    }
    assert listed(client.get(url, {"q": "weasley"})) == {other.reference}
    # An address typed in by staff in mixed case is still found, whatever the case searched.
    mixed = complaint_make(customer=CustomerFactory(name="Luna L", email="Luna.L@Example.COM"))
    assert listed(client.get(url, {"q": "luna.l@example.com"})) == {mixed.reference}


def test_search_never_reaches_beyond_what_the_member_of_staff_may_see():
    client, _ = login("accounts_agent")
    hidden = complaint_make(department="technical_support", name="Hidden Person")
    assert (
        listed(
            client.get(reverse("admin:complaints_complaint_changelist"), {"q": hidden.reference})
        )
        == set()
    )


def _bulk(n: int):
    """Insert n complaints the fast way (the intake service is tested elsewhere)."""
    template = complaint_make()
    customers = Customer.objects.bulk_create(
        [Customer(name=f"Customer {i}", email=f"c{i}@example.com") for i in range(n)]
    )
    rows = []
    for i, customer in enumerate(customers):
        row = Complaint(
            **{
                f.attname: getattr(template, f.attname)
                for f in Complaint._meta.concrete_fields
                if f.attname not in ("id", "reference", "customer_id")
            }
        )
        row.reference = f"CMP-2025-{Complaint.objects.count() + i + 1:06d}"
        row.customer = customer
        rows.append(row)
    Complaint.objects.bulk_create(rows, batch_size=500)


def test_the_changelist_query_count_does_not_grow_with_rows():
    client, _ = login("senior_manager")
    url = reverse("admin:complaints_complaint_changelist")
    _bulk(20)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _bulk(2000)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"queue": "open"})
        assert response.status_code == 200
    assert len(references(response)) == 25  # one page
    assert len(many.captured_queries) <= len(few.captured_queries)
    # 2,020 open complaints: the count stops at the cap instead of reading them all.
    assert "More than 1,000 complaints" in response.content.decode()
    narrowed = client.get(url, {"queue": "open", "department": "accounts"})
    assert "More than" not in narrowed.content.decode()


# --- Case page actions -----------------------------------------------------------------


def post(client, complaint, action, **data):
    complaint.refresh_from_db()
    data.setdefault("version", complaint.version)
    return client.post(act_url(complaint, action), data)


def test_every_action_is_recorded_with_who_did_it(cases):
    client, agent = login("support_agent")
    complaint = cases["tech"]

    assert post(client, complaint, "assign", assignee=agent.pk).status_code == 302
    assert post(client, complaint, "acknowledge", reason="Rang the customer").status_code == 302
    assert (
        client.post(act_url(complaint, "note"), {"body": "Line test shows noise"}).status_code
        == 302
    )
    assert (
        post(
            client, complaint, "await", third_party_name="Openreach", reason="Line fault"
        ).status_code
        == 302
    )
    assert (
        client.post(
            act_url(complaint, "third_party"),
            {"third_party_name": "Openreach", "direction": "in", "body": "Engineer booked."},
        ).status_code
        == 302
    )
    report = SimpleUploadedFile("line test.pdf", PDF, content_type="application/pdf")
    assert client.post(act_url(complaint, "attach"), {"file": report}).status_code == 302
    assert (
        post(client, complaint, "progress", text="An engineer visits on Thursday.").status_code
        == 302
    )
    assert (
        post(
            client,
            complaint,
            "respond",
            findings="A faulty line card at the exchange.",
            fault_found="yes",
            remedy_done="",
            resolution_proposed="Openreach will replace the line card.",
        ).status_code
        == 302
    )
    assert post(client, complaint, "resolution", note="Line card replaced.").status_code == 302

    complaint.refresh_from_db()
    assert complaint.assignee == agent
    assert complaint.status == Status.RESPONDED
    assert complaint.resolution_actioned_at is not None and complaint.auto_close_at is not None
    assert CaseNote.objects.get(complaint=complaint).author == agent
    assert ThirdPartyCorrespondence.objects.get(complaint=complaint).third_party_name == "Openreach"
    assert (
        Attachment.objects.get(complaint=complaint, kind="technical_report").original_name
        == "line test.pdf"
    )
    human = complaint.events.exclude(kind=CaseEvent.Kind.NOTICE).exclude(kind=CaseEvent.Kind.LOGGED)
    assert all(e.actor == agent for e in human), [(e.kind, e.actor_label) for e in human]
    assert human.count() >= 9

    page = client.get(case_url(complaint)).content.decode()
    for text in ("Line test shows noise", "Engineer booked.", "line test.pdf", "Openreach"):
        assert text in page


def test_escalate_reopen_contact_and_first_made(cases):
    client, agent = login("support_agent")
    complaint = cases["tech"]
    post(client, complaint, "respond", findings="Billing error.", fault_found="no")
    assert (
        post(client, complaint, "contact", channel=Channel.PHONE, body="Still unhappy").status_code
        == 302
    )
    complaint.refresh_from_db()
    assert complaint.status == Status.INVESTIGATING
    assert Correspondence.objects.filter(
        complaint=complaint, direction="in", channel="phone"
    ).exists()
    assert (
        post(
            client,
            complaint,
            "escalate",
            requested="technical_director",
            reason="Wants the director",
        ).status_code
        == 302
    )
    complaint.refresh_from_db()
    assert complaint.status == Status.FORMAL
    assert complaint.events.get(to_status="formal").extra["requested"] == "technical_director"
    # Now a senior manager's case: the first-made time is theirs to correct.
    data = {"first_made_at": "2026-11-20T16:00", "reason": "Found the earlier call note."}
    assert post(client, complaint, "first_made", **data).status_code == 403
    manager, _ = login("senior_manager")
    assert post(manager, complaint, "first_made", **data).status_code == 302
    complaint.refresh_from_db()
    assert complaint.response_due_at == datetime(2026, 11, 24, 17, 0, tzinfo=LONDON)


def test_an_action_not_open_in_this_state_is_refused_with_a_message(cases):
    client, _ = login("support_agent")
    response = client.get(act_url(cases["tech"], "reopen"), follow=True)
    assert "is not possible while the case is" in response.content.decode()


def test_bad_input_shows_errors_and_saves_nothing(cases):
    client, _ = login("support_agent")
    complaint = cases["tech"]
    before = complaint.events.count()
    response = post(client, complaint, "respond", findings="", fault_found="yes")
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    response = post(client, complaint, "respond", findings="Found it", fault_found="yes")
    assert "say how it was put right or what we propose" in response.content.decode()
    html = SimpleUploadedFile(
        "report.pdf", b"<html><script>alert(1)</script>", content_type="application/pdf"
    )
    response = client.post(act_url(complaint, "attach"), {"file": html})
    assert "not one we accept" in response.content.decode()
    assert complaint.events.count() == before
    assert not Attachment.objects.exists()


def test_two_staff_never_silently_overwrite_each_other(cases):
    """The second of two concurrent edits is refused, naming who changed the case and when."""
    first, alice = login("support_agent")
    second, bob = login("support_agent")
    complaint = cases["tech"]
    seen = Complaint.objects.get(pk=complaint.pk).version  # both opened the case now

    assert (
        first.post(
            act_url(complaint, "assign"), {"version": seen, "assignee": alice.pk}
        ).status_code
        == 302
    )
    response = second.post(act_url(complaint, "assign"), {"version": seen, "assignee": bob.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert f"was changed by {alice}" in body and "Nothing was saved" in body
    complaint.refresh_from_db()
    assert complaint.assignee == alice
    # Having seen the change, Bob can still go ahead deliberately.
    fresh = Complaint.objects.get(pk=complaint.pk).version
    assert (
        second.post(
            act_url(complaint, "assign"), {"version": fresh, "assignee": bob.pk}
        ).status_code
        == 302
    )


# --- Phone (COP-04) and letter (COP-06) ------------------------------------------------


def test_log_a_call_resolved_on_the_call():
    client, agent = login("support_agent")
    response = client.post(
        reverse("admin:complaints_complaint_log_call"),
        {
            "name": "Ravi Caller",
            "phone": "0117 000 1111",
            "department": "technical_support",
            "subject": "Email not sending",
            "description": "Outlook errors when sending.",
            "called_at": "2026-11-23T09:40",
            "resolved": "yes",
            "what_was_done": "Reset the SMTP password with the customer.",
        },
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.channel == Channel.PHONE
    assert complaint.status == Status.RESOLVED_AT_FIRST_CONTACT
    assert complaint.first_made_at == datetime(2026, 11, 23, 9, 40, tzinfo=LONDON)
    assert complaint.logged_by == agent
    assert not DeadlineAlarm.objects.filter(
        complaint=complaint, kind=AlarmKind.RESPONSE_OVERDUE
    ).exists()


def test_log_a_call_not_resolved_tracks_the_promise_and_contact_method():
    client, _ = login("accounts_agent")
    existing = CustomerFactory(account_reference="ACC-7", email="payer@example.com")
    response = client.post(
        reverse("admin:complaints_complaint_log_call"),
        {
            "account_reference": "acc-7",
            "department": "accounts",
            "subject": "Double charge",
            "description": "Charged twice in October.",
            "called_at": "2026-11-23T09:50",
            "resolved": "no",
            "promised_at": "2026-11-24T12:00",
            "contact_method": "email",
        },
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.customer == existing
    assert complaint.agreed_contact_method == "email"
    assert complaint.phone_promised_response_at == datetime(2026, 11, 24, 12, 0, tzinfo=LONDON)
    alarm = DeadlineAlarm.objects.get(complaint=complaint, kind=AlarmKind.PHONE_PROMISE)
    assert alarm.due_at == complaint.phone_promised_response_at


def test_log_a_call_needs_a_promise_when_not_resolved_and_keeps_the_form():
    client, _ = login("support_agent")
    response = client.post(
        reverse("admin:complaints_complaint_log_call"),
        {
            "name": "Ravi Caller",
            "department": "technical_support",
            "subject": "Slow line",
            "description": "Very slow.",
            "called_at": "2026-11-23T09:40",
            "resolved": "no",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Give the time you promised" in body and "Very slow." in body
    assert not Complaint.objects.exists() and not Customer.objects.exists()


def test_log_a_letter_with_its_scan_and_a_contact():
    client, agent = login("support_agent")
    scan = SimpleUploadedFile("scan.png", PNG, content_type="image/png")
    response = client.post(
        reverse("admin:complaints_complaint_log_letter"),
        {
            "account_reference": "ACC-99",
            "name": "Lettice Writer",
            "email": "lettice@example.com",
            "postal_address": "3 Avon Row, Keynsham",
            "department": "technical_support",
            "subject": "Router never arrived",
            "description": "I ordered a router in October.",
            "received_at": "2026-11-23T09:00",
            "scan": scan,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    complaint = Complaint.objects.get()
    assert complaint.channel == Channel.LETTER
    assert complaint.agreed_contact_method == "email"  # the letter gave one (COP-06)
    assert complaint.customer.account_reference == "ACC-99"
    scan_row = Attachment.objects.get(complaint=complaint)
    assert scan_row.kind == "letter_scan" and scan_row.content_type == "image/png"


def test_log_a_letter_prompts_for_a_phone_or_email_and_checks_the_scan():
    client, _ = login("support_agent")
    data = {
        "name": "Lettice Writer",
        "postal_address": "3 Avon Row, Keynsham",
        "department": "technical_support",
        "subject": "Router never arrived",
        "description": "I ordered a router in October.",
        "received_at": "2026-11-23T09:00",
    }
    response = client.post(
        reverse("admin:complaints_complaint_log_letter"),
        {**data, "scan": SimpleUploadedFile("scan.pdf", PDF)},
    )
    assert "Record the phone number or email address the letter gives" in response.content.decode()
    fake = SimpleUploadedFile("scan.pdf", b"MZ\x90\x00 this is an exe")
    response = client.post(reverse("admin:complaints_complaint_log_letter"), {**data, "scan": fake})
    assert "not one we accept" in response.content.decode()
    assert not Complaint.objects.exists() and not Customer.objects.exists()

    response = client.post(
        reverse("admin:complaints_complaint_log_letter"),
        {**data, "scan": SimpleUploadedFile("scan.pdf", PDF), "no_contact_given": "on"},
    )
    assert response.status_code == 302
    assert Complaint.objects.get().agreed_contact_method == "post"


def test_safe_filenames():
    from complaints.uploads import safe_filename

    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\x\\report.pdf") == "report.pdf"
    assert safe_filename("evil\u202etxt.pdf") == "eviltxt.pdf"
    assert safe_filename("\x00\x01") == "file"
    assert len(safe_filename("a" * 500 + ".pdf")) <= 120


def test_history_alerts_and_outbox_lists_follow_the_department_queues(cases):
    from complaints.services.enforcement import deadlines_sweep
    from complaints.services.notices import notice_send

    notice_send(complaint=cases["accounts"], kind="adr_letter", deadline_at=NOW)
    with time_machine.travel(NOW + timedelta(days=5), tick=False):
        deadlines_sweep()
    client, _ = login("support_agent")
    for name in ("caseevent", "staffalert", "outboxmessage"):
        page = client.get(reverse(f"admin:complaints_{name}_changelist"))
        assert page.status_code == 200, name
        assert cases["accounts"].reference not in page.content.decode(), name
    manager, _ = login("senior_manager")
    page = manager.get(reverse("admin:complaints_outboxmessage_changelist"))
    assert cases["accounts"].reference in page.content.decode()


def test_a_deadline_job_running_meanwhile_does_not_refuse_a_staff_form(cases, frozen):
    """Only real changes count as 'changed by someone else': a job's flags do not."""
    from complaints.services.enforcement import deadlines_sweep

    client, agent = login("support_agent")
    complaint = cases["tech"]
    seen = Complaint.objects.get(pk=complaint.pk).version
    frozen.move_to(datetime(2026, 11, 25, 17, 5, tzinfo=LONDON))
    assert deadlines_sweep()  # flags the response overdue and alerts
    response = client.post(act_url(complaint, "assign"), {"version": seen, "assignee": agent.pk})
    assert response.status_code == 302


def test_on_a_formal_case_agents_may_only_add_to_the_record(cases):
    """COP-15: a senior manager takes over; the department can still add notes and files."""
    client, _ = login("support_agent")
    formal = cases["formal"]
    page = client.get(case_url(formal)).content.decode()
    assert "act/note/" in page and "act/assign/" not in page
    assert post(client, formal, "assign", assignee="").status_code == 403
    assert (
        client.post(act_url(formal, "note"), {"body": "Engineer report attached"}).status_code
        == 302
    )
    manager, boss = login("senior_manager")
    assert post(manager, formal, "assign", assignee=boss.pk).status_code == 302


def test_files_on_a_case_are_immutable(cases):
    from django.core.files.base import ContentFile

    attachment = Attachment(
        complaint=cases["tech"], kind="technical_report", original_name="r.pdf",
        content_type="application/pdf", size=len(PDF),
    )  # fmt: skip
    attachment.file.save("r.pdf", ContentFile(PDF), save=False)
    attachment.save()
    attachment.original_name = "changed.pdf"
    with pytest.raises(PermissionError):
        attachment.save()
    with pytest.raises(PermissionError):
        attachment.delete()
