"""On PostgreSQL, a trigram index for the desk's "part of the customer's name" search.

`name__icontains` becomes `UPPER(name::text) LIKE UPPER('%term%')`, which a GIN trigram
index on that expression serves. SQLite has no such index; there the search reads the
customer table (complaints_search). Creating the pg_trgm extension needs a role allowed to
create extensions; where that is refused, ask the database administrator to run
`CREATE EXTENSION pg_trgm` once and migrate again.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS customer_name_trgm_idx ON accounts_customer "
    "USING gin ((UPPER(name::text)) gin_trgm_ops)",
]
BACKWARD = ["DROP INDEX IF EXISTS customer_name_trgm_idx"]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_customer_anonymised_at")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD), elidable=False)]
