"""The README's Python client, run as written against a live server (issue 14 item 6).

An integrator works from the README alone: its example must file a complaint, read its
clocks and act on it with If-Match, against the real server, with a key made as the README
says. Only BASE and KEY are replaced.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import Customer
from complaints.models import CaseEvent, Complaint
from tests.accounts.factories import CustomerFactory

README = Path(__file__).resolve().parents[2] / "README.md"
pytestmark = pytest.mark.django_db(transaction=True)


def readme_client() -> str:
    section = README.read_text().split("### A small Python client", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_client_files_reads_and_acts_as_it_says(live_server, capsys):
    code = readme_client()
    CustomerFactory(account_reference="ACC-1001", name="Casey Customer")
    call_command("api_key", "create", "README CRM", "--role", "accounts_agent",
                 "--scope", "read", "--scope", "write")  # fmt: skip
    key = re.search(r"rdk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", capsys.readouterr().out).group(0)
    code = code.replace('"http://127.0.0.1:8000/api/v1"', repr(f"{live_server.url}/api/v1"))
    code = code.replace('"rdk_..."', repr(key))

    # The example's call was made on Monday 7 December 2026 at 10:15; run it at noon.
    with time_machine.travel(datetime(2026, 12, 7, 12, 0, tzinfo=UTC)):
        namespace: dict = {}
        try:
            exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
        except KeyError:
            pytest.fail(f"the README's create failed: {namespace.get('complaint')}")

    assert namespace["status"] == 200, namespace["detail"]
    complaint = Complaint.objects.get(reference=namespace["reference"])
    assert complaint.customer == Customer.objects.get(account_reference="ACC-1001")
    assert complaint.status == "acknowledged"
    assert CaseEvent.objects.filter(complaint=complaint, actor_label="README CRM (API)").exists()
    printed = capsys.readouterr().out
    assert "response_due 2026-12-09T17:00:00Z" in printed  # two working days (COP-12)
    assert callable(namespace["webhook_event"])
