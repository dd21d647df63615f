"""Fixtures for the pure domain tests: no database, no Django settings needed."""

import pytest

from complaints.domain.calendar import OfficeCalendar, office_calendar


@pytest.fixture(scope="session")
def england() -> OfficeCalendar:
    """Return the office calendar for England and Wales bank holidays, 09:00-17:00 London."""
    return office_calendar()
