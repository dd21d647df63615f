"""Fixtures shared by the whole suite."""

import pytest


@pytest.fixture
def system():
    """The actor for changes made by the system itself (deadline jobs)."""
    return None
