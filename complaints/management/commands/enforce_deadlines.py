"""Run one sweep of the deadline jobs, then deliver what it queued, saying what happened."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from complaints.models import DeliveryChannel, DeliveryState, OutboxMessage
from complaints.services.enforcement import deadlines_sweep
from complaints.services.outbox import outbox_deliver, outbox_due_ids
from escalation.services import adr_remedies_chase

# What delivering a message would do, by channel (a dry run).
WOULD = {
    DeliveryChannel.EMAIL: "would send",
    DeliveryChannel.PORTAL: "would send",
    DeliveryChannel.POST: "would print it for the post queue",
}


def _local(t) -> str:
    return timezone.localtime(t).strftime("%a %d %b %Y %H:%M")


def delivery_result(message: OutboxMessage, ours: bool) -> str:
    """Say what became of one delivery attempt, from the message's stored state."""
    state = message.state
    if not ours:
        if state == DeliveryState.SENDING:
            return "being sent by a worker"
        return f"{message.get_state_display().lower()} (by a worker)"
    if state == DeliveryState.PENDING:  # the attempt failed; it waits for the next try
        return f"failed ({message.last_error}); will try again {_local(message.next_attempt_at)}"
    if state == DeliveryState.FAILED:
        tries = f"{message.attempts} attempt" + ("" if message.attempts == 1 else "s")
        return f"failed ({message.last_error}) after {tries}; left for staff in the outbox"
    return {
        DeliveryState.SENT: "sent",
        DeliveryState.TO_POST: "printed, waiting to be posted",
        DeliveryState.TO_CALL: "waiting for staff to call",
    }.get(state, message.get_state_display().lower())


class Command(BaseCommand):
    help = (
        "Fire every deadline due by now (one line per action: reference and what was done; "
        "notices are queued), then deliver every queued notice that is due, including those "
        "just queued (one line per delivery: sent, or failed and why). --dry-run prints what "
        "would be done, each line saying 'would', and changes nothing."
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
        actions = deadlines_sweep(now=now, dry_run=dry_run)
        for action in actions:
            self.stdout.write(str(action))
        if not dry_run:
            for line in adr_remedies_chase(now=now):
                self.stdout.write(line)
        if no_deliver:
            return
        if dry_run:
            self._would_deliver(actions)
        else:
            self._deliver()

    def _line(self, message: OutboxMessage, result: str) -> None:
        self.stdout.write(
            f"{message.notice.complaint.reference} {message.notice.get_kind_display()} "
            f"by {message.get_channel_display().lower()}: {result}"
        )

    def _messages(self, ids):
        rows = OutboxMessage.objects.select_related("notice__complaint").in_bulk(ids)
        return [rows[pk] for pk in ids if pk in rows]

    def _would_deliver(self, actions) -> None:
        """Name each delivery that a real run would make: those due now, then the new ones."""
        for message in self._messages(outbox_due_ids(now=timezone.now())):
            self._line(message, WOULD.get(message.channel, "would deliver"))
        for action in actions:
            for label, channel in action.deliveries:
                self.stdout.write(f"{action.reference} {label}: {WOULD[channel]}")

    def _deliver(self) -> None:
        """Deliver every message due, those this sweep queued included, until none is left."""
        tried: set[int] = set()
        while True:
            # Due by the time delivering starts, so what the sweep just queued is included.
            due = [pk for pk in outbox_due_ids(now=timezone.now()) if pk not in tried]
            if not due:
                return
            for message_id in due:
                tried.add(message_id)
                ours = outbox_deliver(message_id=message_id) is not None
                (message,) = self._messages([message_id])
                self._line(message, delivery_result(message, ours))
