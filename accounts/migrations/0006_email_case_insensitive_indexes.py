"""Indexes for case-insensitive email lookups (`email__iexact`), on customers and users.

Finding the customer behind a new complaint, signing in and confirming an address all look
an email up without regard to case. Django writes that as `UPPER(email) = UPPER(%s)` on
PostgreSQL and `email LIKE %s` on SQLite, and neither can use the plain index on `email`:
at a million complaints each filing read the whole customer table (80 ms). PostgreSQL gets
an index on `UPPER(email)`; SQLite one on `email COLLATE NOCASE`, which its LIKE uses.
"""

from django.db import migrations

TABLES = ("accounts_customer", "accounts_user")


def _forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_email_ci_idx ON {table} "
                "(UPPER(email::text))"
            )
        elif vendor == "sqlite":
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_email_ci_idx ON {table} "
                "(email COLLATE NOCASE)"
            )


def _backward(apps, schema_editor):
    if schema_editor.connection.vendor in ("postgresql", "sqlite"):
        for table in TABLES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_email_ci_idx")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0005_customer_name_trigram")]

    operations = [migrations.RunPython(_forward, _backward, elidable=False)]
