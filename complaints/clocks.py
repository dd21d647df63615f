"""Glue between settings, stored complaints and the pure clock rules in complaints.domain.

Every stored deadline on a Complaint is computed here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings

from complaints.domain import deadlines
from complaints.domain.calendar import OfficeCalendar, office_calendar
from complaints.domain.lifecycle import Status


def _parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


@lru_cache(maxsize=4)
def _calendar(country: str, subdiv: str, tz: str, opens: str, closes: str) -> OfficeCalendar:
    return office_calendar(
        country=country,
        subdiv=subdiv,
        tz=tz,
        opens=_parse_clock(opens),
        closes=_parse_clock(closes),
    )


def calendar() -> OfficeCalendar:
    """Return the office calendar configured in settings (region, hours, time zone)."""
    return _calendar(
        settings.REDRESS_HOLIDAY_COUNTRY,
        settings.REDRESS_HOLIDAY_SUBDIVISION,
        settings.TIME_ZONE,
        settings.REDRESS_OFFICE_OPENS,
        settings.REDRESS_OFFICE_CLOSES,
    )


def policy_for_new_complaint(first_made_at: datetime) -> deadlines.Policy:
    """Return the policy in force, under the configured set, when a complaint was first made."""
    return deadlines.policy_for(
        first_made_at, policy_set=settings.REDRESS_POLICY_SET, tz=ZoneInfo(settings.TIME_ZONE)
    )


@dataclass(frozen=True)
class StoredClocks:
    """The deadlines stored on a complaint, as of its current facts."""

    response_due_at: datetime
    resolution_target_at: datetime
    progress_update_due_at: datetime | None
    auto_close_at: datetime | None
    adr_eligible_at: datetime
    osc_deadline_at: datetime
    osc_warning_at: datetime

    def as_fields(self) -> dict[str, datetime | None]:
        return dict(self.__dict__)


def clocks_compute(complaint) -> StoredClocks:
    """Compute every stored deadline of `complaint` from its facts and its own policy."""
    cal = calendar()
    policy = deadlines.policy_by_key(complaint.policy_key)
    first_made = complaint.first_made_at
    status = Status(complaint.status)

    response_due = deadlines.response_due(
        first_made,
        calendar=cal,
        policy=policy,
        contracted_working_days=complaint.contracted_response_working_days,
    )

    # COP-13: updates are due while a third party is awaited, or while the response is
    # late; every 2 working days from the later of that moment and the last update.
    progress_due = None
    progress_from = None
    if status == Status.AWAITING_THIRD_PARTY and complaint.awaiting_third_party_since:
        progress_from = complaint.awaiting_third_party_since
    elif complaint.first_responded_at is None and status not in (
        Status.CLOSED,
        Status.RESOLVED_AT_FIRST_CONTACT,
    ):
        progress_from = response_due
    if progress_from is not None:
        if complaint.last_progress_update_at and complaint.last_progress_update_at > progress_from:
            progress_from = complaint.last_progress_update_at
        progress_due = deadlines.progress_update_due(progress_from, calendar=cal, policy=policy)

    # COP-10: the customer's 10 working days run from the later of our response and the
    # resolution being actioned; a proposed resolution not yet actioned holds the clock.
    auto_close = None
    if (
        status == Status.RESPONDED
        and complaint.responded_at
        and not complaint.resolution_awaiting_action
    ):
        auto_close = deadlines.auto_close_at(
            complaint.responded_at,
            complaint.resolution_actioned_at,
            calendar=cal,
            policy=policy,
        )

    osc = deadlines.osc_deadline(
        first_made, complaint.deadlock_letter_received_at, calendar=cal, policy=policy
    )
    return StoredClocks(
        response_due_at=response_due,
        resolution_target_at=deadlines.resolution_target(first_made, calendar=cal, policy=policy),
        progress_update_due_at=progress_due,
        auto_close_at=auto_close,
        adr_eligible_at=deadlines.adr_eligible_at(first_made, calendar=cal, policy=policy),
        osc_deadline_at=osc,
        osc_warning_at=deadlines.osc_warning_at(osc, calendar=cal, policy=policy),
    )


def clocks_apply(complaint) -> list[str]:
    """Set the stored deadlines on `complaint` (unsaved) and return the changed field names."""
    changed = []
    for field, value in clocks_compute(complaint).as_fields().items():
        if getattr(complaint, field) != value:
            setattr(complaint, field, value)
            changed.append(field)
    return changed
