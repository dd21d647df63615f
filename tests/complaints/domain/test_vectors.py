"""Every worked example in tests/data/deadline_vectors.csv, checked through RULES."""

import csv
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from complaints.domain.deadlines import CODE_2016, RULES, explain

# The project's own copy of the Code's worked examples (tests/data/README.md).
VECTORS = Path(__file__).resolve().parents[2] / "data" / "deadline_vectors.csv"
LONDON = ZoneInfo("Europe/London")
RULE_COP = {
    "response_due": "COP-12",
    "resolution_target": "COP-14",
    "auto_close": "COP-10",
    "adr_eligible": "COP-16",
    "osc_deadline": "COP-18",
}
MOMENT = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}\b")


def load_vectors() -> list[dict[str, str]]:
    """Return the CSV rows, or none if the file is missing (so the completeness test fails)."""
    if not VECTORS.is_file():
        return []
    with VECTORS.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def london(wall_clock: str) -> datetime | None:
    """Return a Europe/London wall-clock 'YYYY-MM-DDTHH:MM' as an aware datetime."""
    return datetime.fromisoformat(wall_clock).replace(tzinfo=LONDON) if wall_clock else None


ROWS = load_vectors()


def test_vectors_file_is_complete():
    assert VECTORS.is_file(), f"Deadline vectors not found at {VECTORS}"
    assert len(ROWS) >= 21
    assert {row["rule"] for row in ROWS} <= set(RULES)
    assert len({row["name"] for row in ROWS}) == len(ROWS), "vector names must be unique"


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_vector(row, england):
    rule = RULES[row["rule"]]
    got = rule(london(row["at"]), london(row["second_at"]), calendar=england, policy=CODE_2016)
    assert got.tzinfo is not None
    assert got.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M") == row["expected"]


@pytest.mark.parametrize("row", ROWS, ids=[row["name"] for row in ROWS])
def test_vector_explanation_is_one_line_naming_its_cop_and_result(row, england):
    line = explain(
        row["rule"], london(row["at"]), london(row["second_at"]), calendar=england, policy=CODE_2016
    )
    expected = datetime.fromisoformat(row["expected"])
    assert "\n" not in line
    assert RULE_COP[row["rule"]] in line
    assert expected.strftime("%a ") + f"{expected.day} " + expected.strftime("%b %Y %H:%M") in line
    assert MOMENT.search(line)
