"""Human-friendly references from gap-free counters, safe under concurrent creation."""

from django.db import connection

from complaints.transactions import step

# complaints_referencecounter is ReferenceCounter's table (pinned in its Meta.db_table).
NEXT_NUMBER_SQL = (
    "INSERT INTO complaints_referencecounter (scope, last_value) VALUES (%s, 1) "
    "ON CONFLICT (scope) DO UPDATE SET last_value = complaints_referencecounter.last_value + 1 "
    "RETURNING last_value"
)


def reference_next_number(*, scope: str) -> int:
    """Return the next number in the sequence `scope`, in the caller's transaction.

    One statement inserts the counter or increments it and returns the new value; the
    row lock it takes serialises concurrent callers until their transactions end, so
    two complaints can never share a number (COP-01).
    """
    with step(), connection.cursor() as cursor:
        cursor.execute(NEXT_NUMBER_SQL, [scope])
        return cursor.fetchone()[0]


def complaint_reference_next(*, year: int) -> str:
    """Return the next complaint reference for `year`, e.g. CMP-2026-000123."""
    return f"CMP-{year}-{reference_next_number(scope=f'CMP-{year}'):06d}"
