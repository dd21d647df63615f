"""Raise the subject access request alerts that are due (the beat job, by hand or cron)."""

from django.core.management.base import BaseCommand

from accounts.sar import sar_alerts_sweep


class Command(BaseCommand):
    help = (
        "Alert the data-protection lead and managers about subject access requests due soon "
        "or overdue. Each alert is raised once per request and due date, so running it twice "
        "or after downtime is safe."
    )

    def handle(self, *args, **options):
        lines = sar_alerts_sweep()
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(f"{len(lines)} alert(s) raised.")
