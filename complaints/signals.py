"""Signals sent after a complaint's transaction commits, for side effects (notices, tasks).

Business rules never live in receivers; they react to what a service already decided.
"""

from django.dispatch import Signal

# Sent on commit with complaint_id and event_id.
complaint_logged = Signal()
# Sent on commit with complaint_id, event_id, from_status and to_status.
complaint_status_changed = Signal()
# Sent on commit with message_id when an outbox message is ready to deliver.
outbox_message_queued = Signal()
