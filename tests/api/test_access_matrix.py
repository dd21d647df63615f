"""Who may call each API route: every route x anonymous, revoked and expired keys, keys
lacking the scope, and a key of each staff role (issue 14). A route without an entry fails.

A role's access is exactly the desk's: department scoping (an accounts key does not see a
technical-support complaint: 404, so references cannot be probed), the role's permissions,
and senior managers alone for formal-case actions (COP-15), which also need the formal
scope.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.integrations import api_key_issue, api_key_revoke, integration_create
from accounts.needs import needs_record
from accounts.representatives import representative_record
from accounts.roles import STAFF_ROLES, Role
from accounts.sar import sar_open
from complaints.models import Attachment, Bundle, BundleKind, BundleState, Department
from complaints.services.desk import complaint_escalate
from tests.accounts.factories import StaffUserFactory
from tests.complaints.factories import complaint_make

pytestmark = pytest.mark.django_db

ROLES = sorted(role.value for role in STAFF_ROLES)
EVERY_ROLE = frozenset(ROLES)
# Who sees the technical-support complaint: its department, and managers of every queue.
SEES_TECHNICAL = frozenset(
    {"support_agent", "senior_manager", "technical_director", "administrator"}
)
# Who sees the formal case (of a technical-support complaint): the same, and the Company
# Secretary, who reviews formal complaints (COP-15, COP-19).
SEES_FORMAL = SEES_TECHNICAL | {"company_secretary"}
REVIEWERS = frozenset(
    {"senior_manager", "technical_director", "company_secretary", "administrator"}
)
SAR_HANDLERS = frozenset(
    {"senior_manager", "technical_director", "company_secretary", "administrator"}
)
# Who reads the complaints return (issue 16 item 6): the dashboard's managers.
MANAGERS = frozenset({"senior_manager", "technical_director", "administrator"})
PUBLIC = "public"

# (route name, method) -> (scope it needs, the roles that get in), or PUBLIC.
MATRIX: dict[tuple[str, str], tuple[str, frozenset] | str] = {
    ("api:complaint-list", "get"): ("read", EVERY_ROLE),
    ("api:complaint-list", "post"): ("write", EVERY_ROLE),
    ("api:complaint-detail", "get"): ("read", SEES_TECHNICAL),
    ("api:complaint-attachments", "get"): ("read", SEES_TECHNICAL),
    ("api:complaint-letters", "get"): ("read", SEES_TECHNICAL),
    ("api:attachment-download", "get"): ("read", SEES_TECHNICAL),
    **{
        (f"api:complaint-{name}", "post"): ("write", SEES_TECHNICAL)
        for name in (
            "assign", "acknowledge", "match", "note", "progress", "await", "third-party",
            "attach", "respond", "resolution", "contact", "escalate", "reopen", "first-made",
            "categorise", "root-cause", "close",
            "remedy", "void-remedy",  # issue 16 item 3
        )
    },
    ("api:complaint-remedies", "get"): ("read", SEES_TECHNICAL),
    ("api:customer-list", "get"): ("read", EVERY_ROLE),
    ("api:customer-list", "post"): ("write", EVERY_ROLE),
    ("api:customer-detail", "get"): ("read", EVERY_ROLE),
    ("api:customer-detail", "patch"): ("write", EVERY_ROLE),
    # Issue 15: every staff role may read and record a customer's needs (with consent).
    ("api:customer-needs", "get"): ("read", EVERY_ROLE),
    ("api:customer-needs", "put"): ("write", EVERY_ROLE),
    ("api:customer-needs", "delete"): ("write", EVERY_ROLE),
    # Issue 15 item 4: every staff role may read, record and withdraw representatives.
    ("api:customer-representatives", "get"): ("read", EVERY_ROLE),
    ("api:customer-representatives", "post"): ("write", EVERY_ROLE),
    ("api:customer-representative-withdraw", "post"): ("write", EVERY_ROLE),
    ("api:formal-list", "get"): ("read", EVERY_ROLE),
    ("api:formal-detail", "get"): ("read", SEES_FORMAL),
    **{
        (f"api:formal-{slug}", "post"): ("formal", REVIEWERS)
        for slug in (
            "review", "notes", "appoint", "final-proposition", "deadlock-letter",
            "adr-referral", "adr-decision", "adr-remedy-done",
            "case-file-request", "case-file",
        )
    },
    # The ombudsman's case file (issue 16 item 5): senior managers, with the formal scope.
    ("api:formal-case-file-download", "get"): ("formal", REVIEWERS),
    # Subject access requests (issue 15 item 5): every staff role logs and reads them; the
    # roles that answer them (managers, the Company Secretary) extend, prepare, send, refuse.
    ("api:sar-list", "get"): ("read", EVERY_ROLE),
    ("api:sar-list", "post"): ("write", EVERY_ROLE),
    ("api:sar-detail", "get"): ("read", EVERY_ROLE),
    **{
        (f"api:sar-{slug}", "post"): ("write", SAR_HANDLERS)
        for slug in ("extend", "prepare", "send", "refuse")
    },
    ("api:reports-return", "get"): ("read", MANAGERS),
    ("api:schema", "get"): PUBLIC,
    ("api:docs", "get"): PUBLIC,
}  # fmt: skip


def _routes(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{prefix}{p.namespace}:" if p.namespace else prefix
            yield from _routes(p.url_patterns, ns)
        elif isinstance(p, URLPattern) and p.name:
            yield f"{prefix}{p.name}", p


def _methods(pattern) -> set[str]:
    view = pattern.callback.view_class
    return {m for m in ("get", "post", "patch", "put", "delete") if hasattr(view, m)}


def test_every_api_route_and_method_has_an_entry():
    ours = {
        (name, method)
        for name, pattern in _routes(get_resolver().url_patterns)
        if name.startswith("api:")
        for method in _methods(pattern)
    }
    assert ours == set(MATRIX), (
        f"Decide who may call these and add them to MATRIX: {sorted(ours - set(MATRIX))}; "
        f"stale entries: {sorted(set(MATRIX) - ours)}"
    )


@pytest.fixture
def world():
    technical = complaint_make(department=Department.TECHNICAL_SUPPORT)
    attachment = Attachment(
        complaint=technical, kind="technical_report", original_name="r.png",
        content_type="image/png", size=12, customer_visible=False,
    )  # fmt: skip
    attachment.file.save("r.png", SimpleUploadedFile("r.png", b"\x89PNG\r\n\x1a\n0000"), save=False)
    attachment.save()
    formal = complaint_make(department=Department.TECHNICAL_SUPPORT)
    complaint_escalate(complaint=formal, actor=None, requested="not_specified", reason="x")
    case_file = Bundle(
        kind=BundleKind.OMBUDSMAN_CASE_FILE, complaint=formal, customer=formal.customer,
        state=BundleState.READY, sha256="0" * 64, size=4,
    )  # fmt: skip
    case_file.file.save("c.zip", ContentFile(b"PK\x05\x06"), save=False)
    case_file.save()
    needs_record(
        customer=technical.customer,
        actor=StaffUserFactory(),
        consent_how="phone",
        kinds=["hearing"],
    )
    rep = representative_record(
        customer=technical.customer,
        actor=StaffUserFactory(),
        name="Rita Rep",
        relationship="carer",
        email="rita@example.com",
        authority_seen="letter signed by the customer",
    )
    return {
        "rep_id": rep.pk,
        "reference": technical.reference,
        "pk": attachment.pk,
        "register_reference": formal.formal_case.register_reference,
        "version": case_file.version,
        "customer_pk": technical.customer_id,
        "sar_reference": sar_open(
            customer=technical.customer, channel="letter", actor=None
        ).request.reference,
    }


def _url(name: str, pattern, world) -> str:
    route = str(pattern.pattern)
    kwargs = {k: v for k, v in world.items() if f":{k}>" in route}
    if name in ("api:customer-detail", "api:customer-needs", "api:customer-representatives"):
        kwargs = {"pk": world["customer_pk"]}
    if name == "api:customer-representative-withdraw":
        kwargs = {"pk": world["customer_pk"], "rep_id": world["rep_id"]}
    return reverse(name, kwargs=kwargs)


def _client(role: str, scopes=("read", "write", "formal"), *, expired=False, revoked=False):
    integration = integration_create(name=f"{role} {scopes} {expired} {revoked}", role=role)
    issued = api_key_issue(integration=integration, scopes=list(scopes))
    if revoked:
        api_key_revoke(key=issued.key)
    if expired:
        issued.key.expires_at = timezone.now() - timedelta(seconds=1)
        issued.key.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    return client


def _call(client, name, method, world, patterns):
    url = _url(name, patterns[name], world)
    return getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)


@pytest.mark.parametrize("role", ROLES)
def test_a_key_of_each_role_reaches_what_the_matrix_says(world, role):
    client = _client(role)
    patterns = dict(_routes(get_resolver().url_patterns))
    wrong = []
    for (name, method), entry in MATRIX.items():
        response = _call(client, name, method, world, patterns)
        got = response.status_code
        if entry == PUBLIC or role in entry[1]:
            ok = got not in (401, 403, 404) and got < 500
        else:
            ok = got in (403, 404)
        if not ok:
            wrong.append(f"{method.upper()} {name}: {got} {response.content[:200]!r}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    "who",
    ["anonymous", "revoked", "expired", "wrong scheme"],
)
def test_without_a_usable_key_every_route_but_the_reference_is_401(world, who):
    if who == "anonymous":
        client = APIClient()
    elif who == "wrong scheme":
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")
    else:
        client = _client(Role.ADMINISTRATOR, **{who: True})
    patterns = dict(_routes(get_resolver().url_patterns))
    wrong = []
    for (name, method), entry in MATRIX.items():
        response = _call(client, name, method, world, patterns)
        want = 200 if entry == PUBLIC else 401
        if response.status_code != want:
            wrong.append(f"{method.upper()} {name}: {response.status_code}")
        elif want == 401:
            assert response["Content-Type"] == "application/problem+json"
            assert response["WWW-Authenticate"] == 'Bearer realm="api"'
            assert response.json()["status"] == 401
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("scope", ["read", "write", "formal"])
def test_a_key_without_the_scope_a_route_needs_is_refused_with_403(world, scope):
    others = [s for s in ("read", "write", "formal") if s != scope]
    client = _client(Role.ADMINISTRATOR, scopes=others)  # the role may do everything
    patterns = dict(_routes(get_resolver().url_patterns))
    wrong = []
    for (name, method), entry in MATRIX.items():
        if entry == PUBLIC or entry[0] != scope:
            continue
        response = _call(client, name, method, world, patterns)
        if response.status_code != 403 or scope not in response.json()["detail"]:
            wrong.append(f"{method.upper()} {name}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
