"""The Content-Security-Policy in a real browser (issue 13 item 4).

Every browser test fails on a violation (conftest.CspWatch). Here: the watch itself catches
inline script and style, with and without JavaScript, and the admin desk's and the senior
managers' pages, which the journeys do not all reach, load without one.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from playwright.sync_api import expect

from complaints.services.desk import complaint_escalate
from escalation.models import FormalCase
from tests.accounts.factories import CustomerFactory, StaffUserFactory
from tests.browser.conftest import CspWatch
from tests.browser.journeys import staff_sign_in
from tests.complaints.factories import complaint_make

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A page breaking the policy every way it can: inline style (element and attribute), inline
# script, an event handler attribute and a script from another origin.
HOSTILE = (
    "<!doctype html><html lang='en'><head><title>probe</title>"
    "<style>p { color: red; }</style></head><body>"
    "<p style='color: blue'>probe</p><script>document.title = 'ran';</script>"
    "<img src='/static/none.png' alt='' onerror='document.title = \"ran\"'>"
    "<script src='https://cdn.example.com/x.js'></script></body></html>"
)


def served(page, path: str, body: str) -> None:
    """Serve `body` at `path` of the live server with the header the app itself sends."""
    policy = page.request.get(reverse("complaints:home")).headers["content-security-policy"]
    page.route(
        f"**{path}",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": policy},
            body=body,
        ),
    )


# --- The watch ---------------------------------------------------------------------------


def test_the_watch_fails_on_a_violation_event_or_console_line():
    watch = CspWatch()
    watch.check()  # nothing seen, nothing to say
    watch.event(
        None,
        {
            "page": "http://testserver/staff/reports/dashboard/",
            "directive": "style-src-attr",
            "blocked": "inline",
            "source": "",
            "sample": "max-width:720px",
        },
    )
    watch.console(SimpleNamespace(text="Hello from the page", page=None))
    watch.console(
        SimpleNamespace(
            text="Refused to execute inline script because it violates the following "
            "Content Security Policy directive: \"script-src 'self'\".",
            page=SimpleNamespace(url="http://testserver/admin/"),
        )
    )
    with pytest.raises(AssertionError) as failure:
        watch.check()
    message = str(failure.value)
    assert "http://testserver/staff/reports/dashboard/: style-src-attr blocked inline" in message
    assert "'max-width:720px'" in message
    assert "http://testserver/admin/: Refused to execute inline script" in message
    assert "Hello from the page" not in message


def test_the_watch_sees_what_the_browser_blocks(page, csp_watch):
    served(page, "/csp-probe/", HOSTILE)
    page.goto("/csp-probe/")
    assert page.title() == "probe"  # neither script ran
    csp_watch.flush()
    seen = "\n".join(csp_watch.violations)
    for directive in ("style-src-elem", "style-src-attr", "script-src-elem", "script-src-attr"):
        assert f"csp-probe/: {directive} blocked" in seen, seen
    assert "cdn.example.com" in seen
    csp_watch.violations.clear()  # seen on purpose: this test passes


def test_the_watch_sees_inline_style_without_javascript(new_page, csp_watch):
    page = new_page(java_script_enabled=False)
    served(page, "/csp-probe/", HOSTILE)
    page.goto("/csp-probe/")
    csp_watch.flush()
    assert any("inline style" in line for line in csp_watch.violations), csp_watch.violations
    csp_watch.violations.clear()


def test_the_error_page_needs_nothing_inline(page):
    served(page, "/csp-500/", render_to_string("500.html"))
    page.goto("/csp-500/")
    expect(page.locator("h1")).to_have_text("Sorry, there is a problem with the service")
    # Its stylesheet applied: the page is not in the browser's default serif.
    assert "serif" != page.evaluate("getComputedStyle(document.body).fontFamily")


# --- The desk and the senior managers' pages -----------------------------------------------


def formal_case() -> FormalCase:
    manager = StaffUserFactory(role="senior_manager", name="Sarah Senior")
    complaint = complaint_make(customer=CustomerFactory(), subject="Line drops at 7pm")
    complaint_escalate(
        complaint=complaint, actor=None, requested="not_specified", reason="Still dropping."
    )
    case = FormalCase.objects.get(complaint=complaint)
    assert case.senior_manager == manager
    return case


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, f"{url} answered {response.status}"


def test_the_admin_desk_keeps_the_policy(page):
    complaint = complaint_make(subject="Router keeps restarting")
    staff_sign_in(page, StaffUserFactory(role="administrator"))
    visit(page, reverse("admin:index"))
    # Every list and form the desk offers this person, from its own index page.
    links = page.locator("#content-main a").evaluate_all("links => links.map(a => a.href)")
    assert links
    for url in dict.fromkeys(links):
        visit(page, url)
    visit(page, reverse("admin:complaints_complaint_changelist") + "?queue=open")
    visit(page, reverse("admin:complaints_complaint_log_call"))
    visit(page, reverse("admin:complaints_complaint_log_letter"))
    visit(page, reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    actions = page.locator("a[href*='/act/']").evaluate_all("links => links.map(a => a.href)")
    assert actions
    for url in dict.fromkeys(actions):
        visit(page, url)
    visit(page, reverse("admin:password_change"))


def test_the_senior_managers_pages_keep_the_policy(page):
    case = formal_case()
    staff_sign_in(page, case.senior_manager)
    visit(page, reverse("escalation:formal-list"))
    visit(page, reverse("escalation:formal-detail", args=[case.register_reference]))
    visit(page, reverse("reports:register"))
    visit(page, reverse("reports:dashboard"))
    expect(page.locator(".report-charts svg")).to_have_count(2)
    # The charts fit a phone's width without a style attribute.
    page.set_viewport_size({"width": 390, "height": 844})
    widths = page.locator(".report-charts svg").evaluate_all(
        "charts => charts.map(c => c.getBoundingClientRect().width)"
    )
    assert all(0 < width <= 390 for width in widths), widths
