"""Human-friendly references from gap-free counters, safe under concurrent creation."""

from django.db import connection, transaction

from complaints.models import ReferenceCounter


def reference_next_number(*, scope: str) -> int:
    """Return the next number in the sequence `scope`, in the caller's transaction.

    One statement inserts the counter or increments it and returns the new value; the
    row lock it takes serialises concurrent callers until their transactions end, so
    two complaints can never share a number (COP-01).
    """
    # The only interpolated text is our own table name, quoted; the value is a parameter.
    table = connection.ops.quote_name(ReferenceCounter._meta.db_table)
    sql = (  # nosec B608 - only our own quoted table name is interpolated
        f"INSERT INTO {table} (scope, last_value) VALUES (%s, 1) "  # noqa: S608
        f"ON CONFLICT (scope) DO UPDATE SET last_value = {table}.last_value + 1 "
        "RETURNING last_value"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [scope])
        return cursor.fetchone()[0]


def complaint_reference_next(*, year: int) -> str:
    """Return the next complaint reference for `year`, e.g. CMP-2026-000123."""
    return f"CMP-{year}-{reference_next_number(scope=f'CMP-{year}'):06d}"
