"""Content-Security-Policy: a strict header on every page, and nothing inline that it would
block, in the templates or in HTML our Python writes (issue 13 item 4).

The browser tests (tests/browser, conftest.CspWatch) fail on any violation a page reports.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from django.urls import reverse

from complaints.services.desk import complaint_escalate
from escalation.models import FormalCase
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.complaints.factories import complaint_make
from tests.config.test_settings import PRODUCTION

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "complaints", "escalation", "config")

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}


def directives(header: str) -> dict[str, list[str]]:
    """Return the policy's directives, each with its sources."""
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


# --- The header ------------------------------------------------------------------------------


@pytest.fixture
def pages(db):
    """(client, url) pairs for the portal, the admin desk and the senior managers' pages."""
    from django.test import Client

    manager = StaffUserFactory(role="senior_manager")
    customer = CustomerFactory(confirmed=True)
    complaint = complaint_make(customer=customer)
    complaint_escalate(complaint=complaint, actor=None, requested="not_specified", reason="No.")
    case = FormalCase.objects.get(complaint=complaint)
    anonymous, signed_in, staff = Client(), Client(), Client()
    signed_in.force_login(customer.user)
    staff.force_login(manager)
    return [
        (anonymous, reverse("complaints:home")),
        (anonymous, reverse("complaints:complain")),
        (anonymous, reverse("accounts:login")),
        (anonymous, "/no-such-page/"),
        (signed_in, reverse("complaints:my-complaints")),
        (signed_in, reverse("complaints:complaint-detail", args=[complaint.reference])),
        (anonymous, reverse("admin:login")),
        (staff, reverse("admin:index")),
        (staff, reverse("admin:complaints_complaint_changelist")),
        (staff, reverse("admin:complaints_complaint_change", args=[complaint.pk])),
        (staff, reverse("admin:complaints_complaint_log_call")),
        (staff, reverse("escalation:formal-list")),
        (staff, reverse("escalation:formal-detail", args=[case.register_reference])),
        (staff, reverse("reports:register")),
        (staff, reverse("reports:dashboard")),
        (signed_in, reverse("reports:dashboard")),  # a redirect carries it too
    ]


def test_every_kind_of_page_carries_the_strict_policy(pages):
    for client, url in pages:
        response = client.get(url)
        assert response.status_code in (200, 302, 404), (url, response.status_code)
        assert "Content-Security-Policy" in response, url
        assert directives(response["Content-Security-Policy"]) == POLICY, url
        assert "unsafe" not in response["Content-Security-Policy"], url


def test_a_refused_post_carries_it_too(client):
    response = client.post(reverse("complaints:complain"), {})
    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"]) == POLICY


@pytest.mark.parametrize("module", ["local", "test", "production"])
def test_every_settings_module_keeps_the_policy(module):
    """No environment's settings drop the middleware or loosen the policy."""
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.CONTENT_SECURITY_POLICY, "
        "'csp.middleware.CSPMiddleware' in s.MIDDLEWARE, "
        "getattr(s, 'CONTENT_SECURITY_POLICY_REPORT_ONLY', None)]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(PRODUCTION if module == "production" else {})
    env["DJANGO_SETTINGS_MODULE"] = f"config.settings.{module}"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    policy, middleware, report_only = json.loads(result.stdout)
    assert policy == {"DIRECTIVES": POLICY}
    assert middleware
    assert report_only is None


# --- Nothing inline --------------------------------------------------------------------------

# An opening tag, and inside one an attribute the policy blocks (style=, onclick= ...).
TAG = re.compile(r"<[a-zA-Z][^<>]*>")
BLOCKED_ATTRIBUTE = re.compile(r"""(?<![\w-])(style|on[a-z]+)\s*=""", re.IGNORECASE)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
SCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)


def inline_in_html(text: str) -> list[str]:
    """Return what the policy would block in an HTML template: inline script and style."""
    found = [m.group(0) for m in INLINE_SCRIPT.finditer(text)]
    found += [m.group(0) for m in STYLE_ELEMENT.finditer(text)]
    found += [m.group(0) for m in SCRIPT_URL.finditer(text)]
    for tag in TAG.finditer(text):
        found += [f"{a.group(1)}= in {tag.group(0)}" for a in BLOCKED_ATTRIBUTE.finditer(tag[0])]
    return found


# In Python, HTML is written in pieces (format_html), so look at each string on its own.
PY_BLOCKED = re.compile(
    r"""<script\b|<style\b|javascript:|(?<![\w-])(?:style|on[a-z]+)\s*=\s*["'{]""",
    re.IGNORECASE,
)


def inline_in_python(source: str) -> list[str]:
    """Return the string literals of a module that write inline script or style."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [t.string for t in tokens if t.type == tokenize.STRING and PY_BLOCKED.search(t.string)]


def html_templates() -> list[Path]:
    folders = [ROOT / "templates", *(ROOT / app / "templates" for app in APPS)]
    return sorted(p for folder in folders if folder.exists() for p in folder.rglob("*.html"))


def python_modules() -> list[Path]:
    return sorted(
        p for app in APPS for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts
    )


def test_the_scans_find_what_the_policy_blocks():
    html = (
        '<p style="color:red">x</p><button onclick="go()">Go</button><style>p{}</style>'
        '<script>alert(1)</script><a href="javascript:go()">Go</a>'
        '<script src="/static/ok.js"></script><p>Based on = this, no style = here.</p>'
    )
    found = inline_in_html(html)
    assert len(found) == 5, found
    assert inline_in_python('svg = format_html(\'<svg width="{}" style="max-width:{}px">\')')
    assert inline_in_python("x = '<script>go()</script>'")
    assert not inline_in_python('format_html(\'<rect x="{}" fill="{}"/>\', x, BLUE)  # style=')


def test_no_template_writes_inline_script_or_style():
    templates = html_templates()
    assert len(templates) > 30
    found = {
        str(p.relative_to(ROOT)): hits
        for p in templates
        if (hits := inline_in_html(p.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_no_python_writes_inline_script_or_style():
    found = {
        str(p.relative_to(ROOT)): hits
        for p in python_modules()
        if (hits := inline_in_python(p.read_text(encoding="utf-8")))
    }
    assert found == {}
