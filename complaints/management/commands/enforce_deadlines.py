"""Run one sweep of the deadline jobs, for cron or to see what the jobs would do."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from complaints.models import OutboxMessage
from complaints.services.enforcement import deadlines_sweep
from complaints.services.outbox import outbox_deliver, outbox_due_ids
from escalation.services import adr_remedies_chase


class Command(BaseCommand):
    help = (
        "Fire every deadline due by now (one line per action: reference and action), then "
        "deliver queued notices. --dry-run prints what would be done and changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be done; change nothing"
        )
        parser.add_argument(
            "--no-deliver", action="store_true", help="leave queued notices for the worker"
        )

    def handle(self, *args, dry_run, no_deliver, **options):
        now = timezone.now()
        for action in deadlines_sweep(now=now, dry_run=dry_run):
            self.stdout.write(f"{action}" + (" (dry run)" if dry_run else ""))
        if not dry_run:
            for line in adr_remedies_chase(now=now):
                self.stdout.write(line)
        if dry_run or no_deliver:
            return
        for message_id in outbox_due_ids(now=now):
            state = outbox_deliver(message_id=message_id, now=now)
            if state is None:
                continue
            message = OutboxMessage.objects.select_related("notice__complaint").get(pk=message_id)
            self.stdout.write(
                f"{message.notice.complaint.reference} {message.notice.get_kind_display()} "
                f"by {message.get_channel_display().lower()}: {message.get_state_display().lower()}"
            )
