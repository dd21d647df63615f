"""Queue due deadline warnings and attempt every due webhook once, one line per delivery."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from complaints.webhooks.delivery import webhooks_dispatch
from complaints.webhooks.events import webhooks_deadlines_approaching


class Command(BaseCommand):
    help = "Run one webhook delivery sweep now and say what became of each delivery."

    def handle(self, *args, **options):
        queued = webhooks_deadlines_approaching()
        if queued:
            self.stdout.write(f"{queued} deadline warning(s) queued")
        done = webhooks_dispatch()
        for delivery, outcome in done:
            if outcome == "delivered":
                said = f"delivered (HTTP {delivery.last_status_code})"
            elif outcome == "retry":
                when = timezone.localtime(delivery.next_attempt_at).strftime("%a %d %b %Y %H:%M")
                said = f"failed ({delivery.last_error}); will try again {when}"
            else:
                said = f"failed ({delivery.last_error}) after {delivery.attempts} attempts; gave up"
            target = delivery.subscription.url
            self.stdout.write(f"{delivery.webhook_id} {delivery.event_type} to {target}: {said}")
        if not done:
            self.stdout.write("no webhooks due")
