"""Fixtures shared by the whole suite, and what a run reports at its end."""

import os
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_REPORT = ARTIFACTS / "accessibility.txt"


def _controller() -> bool:
    """True in a run's own process: a serial run, or the controller of a parallel one."""
    return "PYTEST_XDIST_WORKER" not in os.environ


def pytest_sessionstart(session):
    # The browser tests' artifacts are this run's alone: empty them once, before any test
    # process starts writing.
    if _controller():
        for old in SCREENSHOTS.glob("*.png"):
            old.unlink()
        AXE_REPORT.unlink(missing_ok=True)


def pytest_terminal_summary(terminalreporter):
    if not _controller():
        return
    skipped = os.environ.get("REDRESS_BROWSER_SKIPPED")
    if skipped:
        terminalreporter.write_line(skipped, yellow=True, bold=True)
    if AXE_REPORT.exists():
        report = AXE_REPORT.read_text(encoding="utf-8").splitlines()
        terminalreporter.write_sep("-", "accessibility (axe-core)")
        for line in report if terminalreporter.verbosity > 0 else report[:1]:
            terminalreporter.write_line(line)
        terminalreporter.write_line(f"Full report: {AXE_REPORT.relative_to(ARTIFACTS.parent)}")
    shots = sorted(SCREENSHOTS.glob("*.png"))
    if shots:
        terminalreporter.write_sep("-", f"{len(shots)} browser screenshots in {SCREENSHOTS}")


@pytest.fixture
def system():
    """The actor for changes made by the system itself (deadline jobs)."""
    return None
