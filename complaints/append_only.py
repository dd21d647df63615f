"""The database itself refuses to rewrite or remove case history, or to delete a complaint.

Triggers on both databases (made by migration 0017, put back after every migrate):

- ``complaints_caseevent``: UPDATE and DELETE refused;
- ``complaints_complaint``: DELETE refused (complaints are closed, never deleted).

On PostgreSQL the triggers always refuse; TRUNCATE fires no row trigger, so ``flush`` works.
On SQLite each trigger asks ``redress_history_unlocked()``, a function registered on every
connection Django opens: it says no unless ``history_unlocked()`` is in force. Any other
client (the ``sqlite3`` shell) has no such function, so its UPDATE or DELETE fails too.

``history_unlocked()`` is the one sanctioned way round, for ``flush``, tests and benchmarks.
On PostgreSQL it disables the triggers for the current transaction, which only the tables'
owner may do.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

CASEEVENT_TABLE = "complaints_caseevent"
COMPLAINT_TABLE = "complaints_complaint"
SQLITE_FUNCTION = "redress_history_unlocked"
INSTALLED_BY = "0017_append_only_guards"  # the migration that first creates every trigger here
_UNLOCKED = "redress_history_unlocked"  # attribute on Django's DatabaseWrapper

HISTORY_REFUSED = "Case history is append-only: {op} of complaints_caseevent refused"
COMPLAINT_REFUSED = "Complaints are never deleted: DELETE of complaints_complaint refused"

# name -> CREATE statement; SQLite drops a table's triggers when a migration remakes it.
SQLITE_TRIGGERS = {
    f"caseevent_append_only_{op.lower()}": (
        f"CREATE TRIGGER IF NOT EXISTS caseevent_append_only_{op.lower()} "
        f"BEFORE {op} ON {CASEEVENT_TABLE} WHEN NOT {SQLITE_FUNCTION}() "
        f"BEGIN SELECT RAISE(ABORT, '{HISTORY_REFUSED.format(op=op)}'); END"
    )
    for op in ("UPDATE", "DELETE")
} | {
    "complaint_never_deleted": (
        "CREATE TRIGGER IF NOT EXISTS complaint_never_deleted "
        f"BEFORE DELETE ON {COMPLAINT_TABLE} WHEN NOT {SQLITE_FUNCTION}() "
        f"BEGIN SELECT RAISE(ABORT, '{COMPLAINT_REFUSED}'); END"
    ),
}

# (table, trigger, function body's message, operations)
POSTGRESQL_TRIGGERS = (
    (
        CASEEVENT_TABLE,
        "caseevent_append_only",
        "complaints_caseevent_append_only",
        "Case history is append-only: % of complaints_caseevent refused",
        "UPDATE OR DELETE",
    ),
    (
        COMPLAINT_TABLE,
        "complaint_never_deleted",
        "complaints_complaint_never_deleted",
        "Complaints are never deleted: % of complaints_complaint refused",
        "DELETE",
    ),
)

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{message}', TG_OP;
END;
$$;
"""


def sqlite_function_register(sender, connection, **kwargs) -> None:
    """Give a new SQLite connection the function its append-only triggers call."""
    if connection.vendor != "sqlite":
        return

    def unlocked() -> int:
        return 1 if getattr(connection, _UNLOCKED, False) else 0

    connection.connection.create_function(SQLITE_FUNCTION, 0, unlocked)


def guards_install(connection) -> None:
    """Create whichever append-only triggers are missing (idempotent)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for sql in SQLITE_TRIGGERS.values():
                cursor.execute(sql)
        elif connection.vendor == "postgresql":
            for table, trigger, function, message, ops in POSTGRESQL_TRIGGERS:
                cursor.execute(_PG_FUNCTION.format(function=function, message=message))
                cursor.execute(
                    "SELECT 1 FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                    [trigger, table],
                )
                if cursor.fetchone() is None:
                    cursor.execute(
                        f"CREATE TRIGGER {trigger} BEFORE {ops} ON {table} "
                        f"FOR EACH ROW EXECUTE FUNCTION {function}()"
                    )


def guards_drop(connection) -> None:
    """Remove the triggers this module installs (migration 0017 reversed)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif connection.vendor == "postgresql":
            # caseevent_append_only belongs to migration 0008, which drops it when reversed.
            table, trigger, function, _message, _ops = POSTGRESQL_TRIGGERS[1]
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {function}()")


def guards_missing(connection) -> list[str]:
    """Return the append-only triggers that are missing or disabled, by name."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {row[0] for row in cursor.fetchall()}
            return [name for name in SQLITE_TRIGGERS if name not in present]
        if connection.vendor == "postgresql":
            # tgenabled 'D' is disabled; 'O' (origin), 'A' (always) and 'R' (replica) fire.
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgenabled <> 'D'")
            present = {row[0] for row in cursor.fetchall()}
            return [t[1] for t in POSTGRESQL_TRIGGERS if t[1] not in present]
    return []


def guards_reinstall_on_post_migrate(sender, *, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Put back triggers a migration lost (SQLite drops them when it remakes a table)."""
    from django.db.migrations.recorder import MigrationRecorder

    connection = connections[using]
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return
    if recorder.migration_qs.filter(app="complaints", name=INSTALLED_BY).exists():
        guards_install(connection)


@contextmanager
def history_unlocked(*, using: str = DEFAULT_DB_ALIAS):
    """Let this connection UPDATE or DELETE case history and delete complaints, for a while.

    For ``flush``, tests and benchmarks only. On PostgreSQL it runs in a transaction (opened
    here if need be) and needs the tables' owner; the deferred foreign-key checks run first,
    because ALTER TABLE is refused while any are pending.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        with transaction.atomic(using=using):
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table, trigger, *_rest in POSTGRESQL_TRIGGERS:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
            yield
            with connection.cursor() as cursor:
                for table, trigger, *_rest in POSTGRESQL_TRIGGERS:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return
    previous = getattr(connection, _UNLOCKED, False)
    setattr(connection, _UNLOCKED, True)
    try:
        yield
    finally:
        setattr(connection, _UNLOCKED, previous)
