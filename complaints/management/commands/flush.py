"""Django's flush, allowed past the SQLite triggers that keep the case history append-only."""

from django.core.management.commands import flush
from django.db import connections

from complaints.append_only import history_unlocked


class Command(flush.Command):
    def handle(self, **options):
        # PostgreSQL's flush is a TRUNCATE, which fires no row trigger; SQLite's is DELETE.
        if connections[options["database"]].vendor != "sqlite":
            return super().handle(**options)
        with history_unlocked(using=options["database"]):
            return super().handle(**options)
