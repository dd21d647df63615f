"""`manage.py clocks`: every worked example of deadlines.md through the command line."""

import csv
from datetime import datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from complaints.domain.lifecycle import Status
from complaints.services.transitions import complaint_transition
from tests.complaints.factories import complaint_make

VECTORS = Path(__file__).resolve().parents[1] / "data" / "deadline_vectors.csv"
LONDON = ZoneInfo("Europe/London")


def _rows():
    with VECTORS.open(newline="") as f:
        return list(csv.DictReader(f))


def clocks(*args) -> str:
    out = StringIO()
    call_command("clocks", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["name"])
def test_every_vector_through_the_command(row):
    args = [row["rule"], row["at"]] + ([row["second_at"]] if row["second_at"] else [])
    assert clocks(*args).strip() == row["expected"]


def test_explain_prints_the_bank_holidays_skipped():
    output = clocks("response_due", "2026-12-24T12:00", "--explain").splitlines()
    assert output[0] == "2026-12-30T17:00"
    assert "COP-12" in output[1]
    assert "Christmas" in output[1] and "Boxing" in output[1]


@pytest.mark.parametrize(
    "args, message",
    [
        (["response_due", "24/12/2026"], "must be a Europe/London time"),
        (["next_tuesday", "2026-12-24T12:00"], "Unknown rule"),
        (["response_due"], "Give RULE and AT"),
        (["auto_close", "2026-11-25T14:00", "2026-13-01T10:00"], "SECOND_AT must be"),
        (["--complaint", "CMP-2026-999999"], "No complaint has the reference"),
        (["response_due", "2026-12-24T12:00", "--policy", "nonsense"], "nonsense"),
    ],
)
@pytest.mark.django_db
def test_bad_input_is_a_clear_error_with_status_2(args, message):
    with pytest.raises(CommandError, match=message) as excinfo:
        clocks(*args)
    assert excinfo.value.returncode == 2


@pytest.mark.django_db
def test_complaint_clocks_are_explained_one_line_each():
    with time_machine.travel(datetime(2026, 12, 24, 12, 0, tzinfo=LONDON), tick=False):
        complaint = complaint_make()
        complaint_transition(complaint=complaint, to=Status.RESPONDED, actor=None, reason="r")
    lines = clocks("--complaint", complaint.reference.lower()).splitlines()

    assert lines[0].startswith(complaint.reference)
    by_rule = dict(line.split(": ", 1) for line in lines[1:])
    assert set(by_rule) >= {
        "response_due",
        "resolution_target",
        "auto_close",
        "adr_eligible",
        "osc_deadline",
        "osc_warning",
    }
    assert "Wed 30 Dec 2026 17:00" in by_rule["response_due"]
    assert "Boxing" in by_rule["response_due"]
