"""The pure rules of recorded needs (issue 15 items 1 and 3; Ofcom GC C5).

Plain Python, no database: which needs may be recorded together with what, how long an
agreed progress-update interval may be, when a record is due for review, and the short
words of the staff-only badge. accounts/needs.py applies them when it writes.
"""

from __future__ import annotations

import calendar
from datetime import date

# The badge's short words for each need (values of accounts.models.NeedKind).
SHORT_NEED = {
    "hearing": "hearing",
    "sight": "sight",
    "speech": "speech",
    "illness": "illness or disability",
    "mental_health": "mental health",
    "bereavement": "bereavement",
    "literacy": "reading or writing",
    "language": "second language",
    "financial": "financial difficulty",
    "call_dont_write": "call, don't write",
    "call_time": "call times",
    "other": "other",
}

# ... and for each format (values of accounts.models.CommunicationFormat).
SHORT_FORMAT = {
    "large_print": "large print",
    "email_text": "plain-text email",
    "phone_with_copy": "phone + written copy",
}

# An agreed interval longer than the Code's resolution target (COP-14, 10 working days)
# would leave a customer without news for the whole of a complaint's life.
UPDATE_INTERVAL_MAX_WORKING_DAYS = 10


def update_interval_problem(days: int | None, *, floor: int) -> str | None:
    """Return why `days` cannot be the agreed progress-update interval, or None if it can.

    None (no agreement) is always fine: the Code's interval applies. The Code's interval
    is the floor (COP-13): extra time may lengthen it, never shorten it.
    """
    if days is None:
        return None
    if days < floor:
        return (
            f"Progress updates are due at least every {floor} working days under the Code "
            f"(COP-13). An agreed interval can only be longer: give {floor} or more, or "
            "leave it empty."
        )
    if days > UPDATE_INTERVAL_MAX_WORKING_DAYS:
        return (
            f"Give no more than {UPDATE_INTERVAL_MAX_WORKING_DAYS} working days: the "
            "resolution target (COP-14) is 10 working days, and the customer must hear "
            "from us before then."
        )
    return None


def needs_problems(*, kinds: list[str], known: set[str], details: str, call_times: str) -> dict:
    """Return {field: message} for a set of needs that cannot be recorded as given."""
    problems = {}
    unknown = [k for k in kinds if k not in known]
    if unknown:
        problems["kinds"] = f"These are not needs we record: {', '.join(unknown)}."
    elif not kinds:
        problems["kinds"] = "Choose at least one need, or choose “Something else” and describe it."
    if "other" in kinds and not details.strip():
        problems["details"] = "You chose “Something else”: tell us what it is."
    if "call_time" in kinds and not call_times.strip():
        problems["call_times"] = "You chose a time of day to call: tell us when suits you."
    return problems


def kinds_normalised(kinds, *, order: list[str]) -> list[str]:
    """Return the needs once each, in the short list's order (so a record compares equal)."""
    chosen = set(kinds or ())
    return [k for k in order if k in chosen] + sorted(chosen - set(order))


def review_date_default(today: date, *, months: int) -> date:
    """Return the date `months` after `today` (the month's last day where there is none)."""
    month_index = today.month - 1 + months
    year, month = today.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def needs_badge_words(*, kinds: list[str], communication_format: str) -> str:
    """Return the staff-only badge's text, e.g. "Needs: hearing, call times · large print"."""
    words = ", ".join(SHORT_NEED.get(k, k) for k in kinds) or "recorded"
    fmt = SHORT_FORMAT.get(communication_format)
    return f"Needs: {words}" + (f" · {fmt}" if fmt else "")
