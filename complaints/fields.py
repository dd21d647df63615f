"""Form fields shared by the desk, the portal and the API (which binds the same forms)."""

from __future__ import annotations

from datetime import UTC, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

# Real time zones run from UTC-12 to UTC+14; PostgreSQL refuses offsets past 15:59.
LARGEST_OFFSET = timedelta(hours=14)


class MomentField(forms.DateTimeField):
    """A date and time as a person types it (in UK time) or an integration sends it (ISO
    8601, perhaps with an offset). A time with an offset is the moment it names, kept in
    UTC; an offset no time zone has (beyond ±14 hours) is refused with a clear message
    rather than reaching the database."""

    default_error_messages = {
        "offset": "That time's offset from UTC is not a real time zone's (at most 14 hours).",
    }

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is not None and timezone.is_aware(moment):
            if abs(moment.utcoffset()) > LARGEST_OFFSET:
                raise ValidationError(self.error_messages["offset"], code="offset")
            moment = moment.astimezone(UTC)
        return moment
