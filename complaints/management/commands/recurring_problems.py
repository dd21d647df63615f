"""Look for recurring problems now and alert managers once per burst (issue 16 item 2)."""

from django.core.management.base import BaseCommand

from complaints.services.recurring import recurring_problems_check


class Command(BaseCommand):
    help = (
        "Alert managers once when a root cause, or a category and product, recurs "
        "REDRESS_RECURRING_THRESHOLD times in REDRESS_RECURRING_WINDOW_WORKING_DAYS working "
        "days (one line per alert raised or burst ended). --dry-run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would be done; change nothing"
        )

    def handle(self, *args, dry_run, **options):
        lines = recurring_problems_check(dry_run=dry_run)
        for line in lines:
            self.stdout.write(line)
        if not lines:
            self.stdout.write("No new recurring problems.")
