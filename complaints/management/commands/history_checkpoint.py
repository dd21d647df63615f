"""Append today's checkpoint of every case's history head (what the daily beat job does)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from complaints.services.history_checkpoint import history_checkpoint_write


class Command(BaseCommand):
    help = (
        "Append one line for today to checkpoints.jsonl in REDRESS_HISTORY_CHECKPOINT_DIR, with "
        "a heads file naming every case; if today has one already, write nothing."
    )

    def handle(self, *args, **options):
        checkpoint = history_checkpoint_write(now=timezone.now())
        record = checkpoint.record
        done = "Wrote" if checkpoint.written else "Already written:"
        self.stdout.write(
            f"{done} checkpoint of {record['date']} to {checkpoint.path}: {record['cases']} "
            f"complaints, {record['events']} events, digest {record['digest']}"
        )
