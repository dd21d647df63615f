"""Who may open what: every named URL of the project against every kind of visitor.

The matrix is built from the URL resolver: a new URL without an entry here fails the
first test, so nobody adds a page without deciding who may see it.
"""

import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import SubjectAccessRequest
from accounts.needs import needs_record
from accounts.sar import sar_fulfil, sar_open, sar_response_prepare
from complaints.bundles import bundle_build
from complaints.models import Attachment, Bundle, BundleKind, BundleState
from complaints.services.desk import complaint_escalate
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db

OUR_NAMESPACES = ("complaints", "accounts", "escalation", "reports")
ACTORS = (
    "anonymous",
    "customer_a",
    "customer_b",
    "support_agent",
    "accounts_agent",
    "senior_manager",
    "technical_director",
    "company_secretary",
    "administrator",
)
STAFF = ACTORS[3:]
REVIEWERS = ("senior_manager", "technical_director", "company_secretary", "administrator")
MANAGERS = ("senior_manager", "technical_director", "administrator")

# Expected GET status per actor: a dict, or one status for everyone. "login" means a
# redirect to a login page; "away" any other redirect.
PUBLIC = 200
OWN_CASE = {"anonymous": "login", "customer_a": 200, "customer_b": 404, **dict.fromkeys(STAFF, 404)}
SIGNED_IN = {"anonymous": "login", **dict.fromkeys(ACTORS[1:], 200)}


def _reviewers_only(ok=200):
    return {
        "anonymous": "login",
        "customer_a": "login",
        "customer_b": "login",
        **{a: (ok if a in REVIEWERS else 403) for a in STAFF},
    }


MATRIX = {
    "complaints:home": PUBLIC,
    "complaints:code": PUBLIC,
    "complaints:next": PUBLIC,
    "complaints:complain": PUBLIC,
    "complaints:healthz": PUBLIC,
    "complaints:confirm-resend": PUBLIC,
    # Issue 16: the signed link needs no sign-in; a made-up token is refused for everyone
    # (valid, tampered, expired and other customers' links: tests/complaints/test_satisfaction.py).
    "complaints:satisfaction": 400,
    "complaints:confirm": PUBLIC,  # a page with a button; the POST needs a valid signature
    "complaints:complaint-sent": 404,  # only for the browser session that sent it
    "complaints:my-complaints": SIGNED_IN,
    "complaints:complaint-detail": OWN_CASE,
    "complaints:complaint-reply": OWN_CASE,
    # Already formal, so the owner is sent back to the case page with a message.
    "complaints:complaint-escalate": {**OWN_CASE, "customer_a": "away"},
    "complaints:complaint-deadlock": OWN_CASE,
    "complaints:complaint-file": OWN_CASE,
    # A file of a case the member of staff may see: the world's case is a technical-support
    # formal complaint, not the accounts department's to see.
    "complaints:staff-attachment-download": {
        "anonymous": "login",
        "customer_a": "login",
        "customer_b": "login",
        **dict.fromkeys(STAFF, 200),
        "accounts_agent": 404,
    },
    "accounts:signup": PUBLIC,
    "accounts:login": {"anonymous": 200, **dict.fromkeys(ACTORS[1:], "away")},
    "accounts:logout": 405,  # POST only
    "accounts:details": {
        "anonymous": "login",
        "customer_a": 200,
        "customer_b": 200,
        **dict.fromkeys(STAFF, "away"),  # staff have no customer record
    },
    "accounts:password": SIGNED_IN,
    # Issue 15: always the signed-in customer's own needs (no id in the URL); staff have no
    # customer record. Only customer_a has needs to withdraw; customer_b is sent back.
    "accounts:needs": {
        "anonymous": "login",
        "customer_a": 200,
        "customer_b": 200,
        **dict.fromkeys(STAFF, "away"),
    },
    "accounts:needs_withdraw": {
        "anonymous": "login",
        "customer_a": 200,
        "customer_b": "away",
        **dict.fromkeys(STAFF, "away"),
    },
    # Always the signed-in customer's own data (no id in the URL); GET only explains, the
    # download and the erasure are POSTs. Staff have no customer record: sent away.
    "accounts:privacy_export": {
        "anonymous": "login",
        "customer_a": 200,
        "customer_b": 200,
        **dict.fromkeys(STAFF, "away"),
    },
    "accounts:privacy_erase": {
        "anonymous": "login",
        "customer_a": 200,
        "customer_b": 200,
        **dict.fromkeys(STAFF, "away"),
    },
    # Subject access requests (issue 15 item 5): the signed-in customer's own list; asking
    # is a POST; the answer downloads only for the customer it belongs to, once sent.
    "accounts:sar-list": {
        "anonymous": "login",
        "customer_a": 200,
        "customer_b": 200,
        **dict.fromkeys(STAFF, "away"),
    },
    "accounts:sar-request": {"anonymous": "login", **dict.fromkeys(ACTORS[1:], 405)},
    "accounts:sar-download": {
        "anonymous": "login",
        "customer_a": 200,
        "customer_b": 404,
        **dict.fromkeys(STAFF, 404),  # staff download through the desk's bundle page
    },
    "accounts:password_reset": PUBLIC,
    "accounts:password_reset_done": PUBLIC,
    "accounts:password_reset_confirm": PUBLIC,  # says the link is not valid
    "accounts:password_reset_complete": PUBLIC,
    "escalation:formal-list": _reviewers_only(),
    "escalation:formal-detail": _reviewers_only(),
    "escalation:formal-appoint": 405,  # POST only; see the POST test below
    "escalation:formal-note": 405,  # POST only; see the POST test below
    "escalation:formal-final-proposition": 405,  # POST only; see the POST test below
    "escalation:formal-deadlock": 405,  # POST only; see the POST test below
    "escalation:formal-adr-referral": 405,  # POST only; see the POST test below
    "escalation:formal-adr-decision": 405,  # POST only; see the POST test below
    "escalation:formal-adr-remedy-done": 405,  # POST only; see the POST test below
    "escalation:formal-case-file-request": 405,  # POST only; see the POST test below
    "escalation:formal-case-file": 405,  # POST only; see the POST test below
    # A bundle (the ombudsman's case file) of a case the member of staff may see: the same
    # rule as the case's files; customers never reach staff pages (issue 16 item 5).
    "complaints:bundle-progress": {
        "anonymous": "login",
        "customer_a": "login",
        "customer_b": "login",
        **dict.fromkeys(STAFF, 200),
        "accounts_agent": 404,
    },
    "complaints:bundle-download": {
        "anonymous": "login",
        "customer_a": "login",
        "customer_b": "login",
        **dict.fromkeys(STAFF, 200),
        "accounts_agent": 404,
    },
    "reports:register": {
        "anonymous": "login",
        "customer_a": "login",
        "customer_b": "login",
        **{a: (200 if a in REVIEWERS else 403) for a in STAFF},
    },
    "reports:dashboard": {
        "anonymous": "login",
        "customer_a": "login",
        "customer_b": "login",
        **{a: (200 if a in MANAGERS else 403) for a in STAFF},
    },
    # The complaints return: the dashboard's people (issue 16 item 6).
    "reports:return": {
        "anonymous": "login",
        "customer_a": "login",
        "customer_b": "login",
        **{a: (200 if a in MANAGERS else 403) for a in STAFF},
    },
}


def _names(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            yield from _names(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{prefix}{p.name}", p


def test_every_url_of_ours_has_an_entry_in_the_matrix():
    ours = {
        name
        for name, _ in _names(get_resolver().url_patterns)
        if name.split(":")[0] in OUR_NAMESPACES
    }
    assert ours == set(MATRIX), (
        "Decide who may open these pages and add them to MATRIX: "
        f"{sorted(ours - set(MATRIX))}; stale entries: {sorted(set(MATRIX) - ours)}"
    )


@pytest.fixture
def world():
    customers = {}
    for key in ("customer_a", "customer_b"):
        customer = CustomerFactory(with_user=True)
        customer.email_confirmed_at = customer.created_at
        customer.save()
        customers[key] = customer
    staff = {role: StaffUserFactory(role=role) for role in STAFF}
    complaint = complaint_make(customer=customers["customer_a"])
    attachment = Attachment(
        complaint=complaint, kind="customer_upload", original_name="photo.png",
        content_type="image/png", size=12, customer_visible=True,
    )  # fmt: skip
    attachment.file.save("p.png", SimpleUploadedFile("p.png", b"\x89PNG\r\n\x1a\n0000"), save=False)
    attachment.save()
    complaint_escalate(complaint=complaint, actor=None, requested="company_secretary", reason="x")
    needs_record(
        customer=customers["customer_a"],
        actor=customers["customer_a"].user,
        by_customer=True,
        consent_how="portal",
        kinds=["hearing"],
    )
    users = {**{k: c.user for k, c in customers.items()}, **staff}
    bundle = Bundle(
        kind=BundleKind.OMBUDSMAN_CASE_FILE, complaint=complaint, customer=complaint.customer,
        state=BundleState.READY, sha256="0" * 64, size=4,
    )  # fmt: skip
    bundle.file.save("b.zip", ContentFile(b"PK\x05\x06"), save=False)
    bundle.save()
    complaint.matrix_bundle = bundle
    _answered_subject_access_request(customers["customer_a"], staff["company_secretary"])
    return complaint, attachment, users


def _answered_subject_access_request(customer, handler):
    """Customer A asked for their data and it was sent (issue 15 item 5)."""
    sar = sar_open(customer=customer, channel="portal", actor=customer.user).request
    bundle_build(sar_response_prepare(sar=sar, actor=handler).pk)
    sar_fulfil(sar=sar, actor=handler)


def _kwargs(pattern, complaint, attachment):
    route = str(pattern.pattern)
    values = {
        "reference": complaint.reference,
        "pk": attachment.pk,
        "register_reference": complaint.formal_case.register_reference,
        "token": "not-a-real-token",
        "uidb64": "MQ",
        "action": "note",
        "object_id": complaint.pk,
        "bundle_id": getattr(complaint, "matrix_bundle", None) and complaint.matrix_bundle.pk,
        "sar_reference": SubjectAccessRequest.objects.get().reference,
    }
    return {k: v for k, v in values.items() if f"<{k}>" in route or re.search(f":{k}>", route)}


@pytest.mark.parametrize("actor", ACTORS)
def test_each_visitor_gets_what_the_matrix_says(world, actor):
    complaint, attachment, users = world
    client = Client()
    if actor != "anonymous":
        client.force_login(users[actor])
    patterns = dict(_names(get_resolver().url_patterns))
    wrong = []
    for name, expected in MATRIX.items():
        want = expected if not isinstance(expected, dict) else expected[actor]
        url = reverse(name, kwargs=_kwargs(patterns[name], complaint, attachment))
        response = client.get(url)
        got = response.status_code
        if want == "login":
            ok = got == 302 and "login" in response["Location"]
        elif want == "away":
            ok = got == 302
        else:
            ok = got == want
        if not ok:
            wrong.append(f"{name} ({url}): expected {want}, got {got}")
    assert wrong == [], "\n".join(wrong)


POST_ONLY = [
    name for name, expected in MATRIX.items() if name.startswith("escalation:") and expected == 405
]


@pytest.mark.parametrize("actor", ACTORS)
def test_formal_case_actions_are_refused_to_all_but_senior_managers(world, actor):
    """COP-15: only senior managers and above act on formal complaints."""
    complaint, attachment, users = world
    client = Client()
    if actor != "anonymous":
        client.force_login(users[actor])
    patterns = dict(_names(get_resolver().url_patterns))
    for name in POST_ONLY:
        url = reverse(name, kwargs=_kwargs(patterns[name], complaint, attachment))
        response = client.post(url, {})
        if actor in REVIEWERS:
            # Let in: sent back to the case with a message, or 404 where the ADR record the
            # action needs does not exist yet.
            assert response.status_code in (302, 404), name
            assert "login" not in response.get("Location", ""), name
        elif actor in STAFF:
            assert response.status_code == 403, name
        else:
            assert response.status_code == 302 and "login" in response["Location"], name
    complaint.refresh_from_db()
    assert complaint.deadlock_letter_received_at is None  # empty forms changed nothing


# --- Representatives (issue 15 item 4; Ofcom GC C5) ----------------------------------------
# Four portal logins of their own (each a confirmed customer with no complaints), recorded
# as acting for customer A: one who may act, one who may only read, one whose authority was
# withdrawn and one whose authority has expired. On every URL each gets what an unrelated
# customer (customer_b) gets, except on customer A's case, which the authorised ones see.
REP_ACTORS = ("rep_acting", "rep_reading", "rep_withdrawn", "rep_expired")
CASE_URLS = {
    "complaints:complaint-detail",
    "complaints:complaint-reply",
    "complaints:complaint-escalate",
    "complaints:complaint-deadlock",
    "complaints:complaint-file",
}
REP_OVERRIDES = {
    "rep_acting": {name: MATRIX[name]["customer_a"] for name in CASE_URLS},
    "rep_reading": {
        "complaints:complaint-detail": 200,
        "complaints:complaint-file": 200,
    },
    "rep_withdrawn": {},
    "rep_expired": {},
}


def _rep_expected(actor: str, name: str):
    expected = MATRIX[name]
    if name in REP_OVERRIDES[actor]:
        return REP_OVERRIDES[actor][name]
    return expected if not isinstance(expected, dict) else expected["customer_b"]


@pytest.fixture
def rep_world(world):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from accounts.representatives import representative_record, representative_withdraw

    complaint, attachment, users = world
    staff = users["support_agent"]
    now = timezone.now()
    for actor in REP_ACTORS:
        login = CustomerFactory(with_user=True)
        login.email_confirmed_at = login.created_at
        login.save()
        users[actor] = login.user
        with time_machine.travel(now - timedelta(days=10), tick=False):
            rep = representative_record(
                customer=complaint.customer,
                actor=staff,
                user=login.user,
                name=f"Rep {actor}",
                relationship="family",
                email=login.email,
                authority_seen="letter signed by the customer",
                act_on_case=actor != "rep_reading",
                ends_at=now - timedelta(days=1) if actor == "rep_expired" else None,
            )
        if actor == "rep_withdrawn":
            representative_withdraw(rep=rep, actor=staff, reason="The customer asked.")
    return complaint, attachment, users


@pytest.mark.parametrize("actor", REP_ACTORS)
def test_each_representative_gets_what_their_authority_allows_on_every_url(rep_world, actor):
    complaint, attachment, users = rep_world
    client = Client()
    client.force_login(users[actor])
    patterns = dict(_names(get_resolver().url_patterns))
    wrong = []
    for name in MATRIX:
        want = _rep_expected(actor, name)
        url = reverse(name, kwargs=_kwargs(patterns[name], complaint, attachment))
        response = client.get(url)
        got = response.status_code
        if want == "login":
            ok = got == 302 and "login" in response["Location"]
        elif want == "away":
            ok = got == 302
        else:
            ok = got == want
        if not ok:
            wrong.append(f"{name} ({url}): expected {want}, got {got}")
    assert wrong == [], "\n".join(wrong)


@pytest.mark.parametrize("actor", ("rep_reading", "rep_withdrawn", "rep_expired"))
def test_a_representative_without_authority_to_act_cannot_reply(rep_world, actor):
    """GC C5: only authority in force, with "may act on the complaint", lets them act."""
    from complaints.models import Correspondence

    complaint, attachment, users = rep_world
    client = Client()
    client.force_login(users[actor])
    before = Correspondence.objects.filter(complaint=complaint).count()
    for name in ("complaints:complaint-reply", "complaints:complaint-deadlock"):
        response = client.post(
            reverse(name, args=[complaint.reference]), {"body": "x", "reason": "x"}
        )
        assert response.status_code == 404, name
    assert Correspondence.objects.filter(complaint=complaint).count() == before
    complaint.refresh_from_db()
    assert complaint.deadlock_requested_at is None


def test_a_representative_who_may_act_replies_under_their_own_name(rep_world):
    from complaints.models import CaseEvent, Correspondence

    complaint, attachment, users = rep_world
    client = Client()
    client.force_login(users["rep_acting"])
    response = client.post(
        reverse("complaints:complaint-reply", args=[complaint.reference]),
        {"body": "Writing for my mother: it still drops."},
    )
    assert response.status_code == 302
    assert Correspondence.objects.filter(
        complaint=complaint, body="Writing for my mother: it still drops."
    ).exists()
    event = CaseEvent.objects.filter(complaint=complaint).order_by("-seq").first()
    assert event.actor == users["rep_acting"]
