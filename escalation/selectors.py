"""Read-side queries for the senior managers' formal complaints list (COP-15)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from escalation.models import FormalCase


def _formal_cases() -> QuerySet[FormalCase]:
    """Return formal cases, newest first, with what the list shows of each."""
    return FormalCase.objects.select_related("complaint__customer", "senior_manager").order_by(
        "-opened_at", "-pk"
    )


def formal_cases_assigned(*, user) -> QuerySet[FormalCase]:
    """Return the open formal cases `user` is the reviewing senior manager of, newest first."""
    return _formal_cases().filter(outcome=FormalCase.Outcome.OPEN, senior_manager=user)


def formal_cases_open_others(*, user) -> QuerySet[FormalCase]:
    """Return the open formal cases not assigned to `user` (appointed or not), newest first."""
    return _formal_cases().filter(
        Q(senior_manager__isnull=True) | ~Q(senior_manager=user),
        outcome=FormalCase.Outcome.OPEN,
    )


def formal_cases_recently_closed(*, limit: int = 20) -> QuerySet[FormalCase]:
    """Return the last `limit` formal cases given a final proposition, newest first."""
    return _formal_cases().exclude(outcome=FormalCase.Outcome.OPEN)[:limit]
