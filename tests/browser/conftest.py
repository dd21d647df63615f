"""Browser tests: a real Chromium, driven by Playwright, against the live test server.

Chromium is found at $CHROMIUM_PATH when that is set (it then wins, even if it is wrong),
else at /usr/bin/chromium, else as `chromium` or `chromium-browser` on PATH. Without one,
the tests marked `browser` are skipped with a clear reason, or fail when
REDRESS_REQUIRE_BROWSER=1 (CI sets it, so a missing browser can never pass silently).
Playwright never downloads a browser here: it drives the system's Chromium.

Every page opened through `new_page` (and so `page`) is watched for Content-Security-Policy
violations, from the page's `securitypolicyviolation` events and from Chromium's console;
a test during which any page broke the policy fails, naming the page and the directive.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import AXE_REPORT, SCREENSHOTS

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}
# The machine has no internet: without these flags Chromium keeps trying to reach it.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
NO_CHROMIUM = (
    "Browser tests SKIPPED: no Chromium found (install Debian's chromium, or set CHROMIUM_PATH)"
)
NO_AXE = "Accessibility test SKIPPED: axe-core is not installed (run `npm ci`, or `make test`)"

# Reports each violation of the page's Content-Security-Policy to the test (CspWatch). An
# init script is run by the browser itself, not by the page, so the policy never blocks it.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__redressCspViolation({
    page: event.documentURI,
    directive: event.effectiveDirective || event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile ? `${event.sourceFile}:${event.lineNumber}` : "",
    sample: event.sample,
  });
}, true);
"""
# Chromium's own console line for a violation ("Refused to apply inline style because it
# violates the following Content Security Policy directive: ..."), even without JavaScript.
CSP_CONSOLE = re.compile(r"Content[- ]Security[- ]Policy|\bRefused to\b", re.IGNORECASE)


def chromium_path() -> tuple[str | None, str]:
    """Return (path to Chromium or None, why not found)."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        found = shutil.which(explicit)
        return found, f"{NO_CHROMIUM}: CHROMIUM_PATH={explicit} is not an executable"
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium", ""
    return shutil.which("chromium") or shutil.which("chromium-browser"), NO_CHROMIUM


def _unavailable(reason: str):
    if os.environ.get("REDRESS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REDRESS_REQUIRE_BROWSER=1: they must run)", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(tryfirst=True)  # before `-m "not browser"` deselects by marker
def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    path, why = chromium_path()
    if path is None:
        _unavailable(why)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio event loop running in this thread, so Django
    # believes the test code is async and refuses ORM calls (SynchronousOnlyOperation),
    # including pytest-django's own flush after each transactional test. The calls are
    # plain synchronous code, so allow them, and only while Playwright is running.
    with pytest.MonkeyPatch.context() as env, sync_playwright() as playwright:
        env.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


class CspWatch:
    """Collect the Content-Security-Policy violations of the pages of browser contexts."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.contexts: list = []

    def attach(self, context) -> None:
        """Watch every page of `context`: its violation events and its console."""
        context.expose_binding("__redressCspViolation", self.event)
        context.add_init_script(CSP_LISTENER)
        context.on("console", self.console)
        self.contexts.append(context)

    def event(self, source, violation: dict) -> None:
        """Record a `securitypolicyviolation` event, as the init script passes it on."""
        where = f" at {violation['source']}" if violation.get("source") else ""
        sample = f" ({violation['sample']!r})" if violation.get("sample") else ""
        self.violations.append(
            f"{violation.get('page')}: {violation.get('directive')} blocked "
            f"{violation.get('blocked') or '(unknown)'}{where}{sample}"
        )

    def console(self, message) -> None:
        """Record a console message that reports a violation."""
        if CSP_CONSOLE.search(message.text):
            self.violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def flush(self) -> None:
        """Let the browser deliver what it has already reported (one round trip per page)."""
        for context in self.contexts:
            for open_page in context.pages:
                if not open_page.is_closed():
                    open_page.evaluate("0")

    def check(self) -> None:
        """Fail with every violation seen so far, one per line."""
        if self.violations:
            found = "\n  ".join(self.violations)
            raise AssertionError(f"Content-Security-Policy violations:\n  {found}")


@pytest.fixture
def csp_watch():
    """The CspWatch of this test's browser contexts (checked after the test, see below)."""
    return CspWatch()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a browser test during which a page broke its Content-Security-Policy."""
    result = yield
    watch = item.funcargs.get("csp_watch")
    if watch is not None:
        watch.flush()
        watch.check()
    return result


@pytest.fixture
def new_page(browser, live_server, csp_watch):
    """Open pages in fresh browser contexts (own cookies) against the live server."""
    contexts = []

    def make(**options):
        assert not options.get("bypass_csp"), "browser tests run under the real policy"
        context = browser.new_context(
            base_url=live_server.url, viewport=DESKTOP, locale="en-GB", **options
        )
        context.set_default_timeout(10_000)
        csp_watch.attach(context)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture(scope="session")
def axe_path() -> Path:
    if not AXE_JS.exists():
        _unavailable(NO_AXE)
    return AXE_JS


_shot_count = 0


def _screenshot(page, name: str, *, mobile: bool = False) -> Path:
    """Save a full-page PNG as artifacts/screenshots/[<worker>-]<NN>-<name>[-mobile].png.

    The folder is emptied once per run, at its start (tests/conftest.py); in a parallel run
    each test process numbers its own shots under its worker's name.
    """
    global _shot_count
    _shot_count += 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    target = SCREENSHOTS / (
        f"{worker + '-' if worker else ''}{_shot_count:02d}-{slug}{'-mobile' if mobile else ''}.png"
    )
    if mobile:
        desktop = page.viewport_size
        page.set_viewport_size(MOBILE)
        page.screenshot(path=str(target), full_page=True)
        page.set_viewport_size(desktop)
    else:
        page.screenshot(path=str(target), full_page=True)
    return target


@pytest.fixture
def screenshot():
    """screenshot(page, name, mobile=False): save the page under artifacts/screenshots/."""
    return _screenshot


@pytest.fixture
def axe_report():
    """Lines of the accessibility report, written to artifacts/accessibility.txt after the test
    (tests/conftest.py prints its first line at the end of the run)."""
    lines: list[str] = []
    yield lines
    if lines:
        AXE_REPORT.parent.mkdir(parents=True, exist_ok=True)
        AXE_REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")
