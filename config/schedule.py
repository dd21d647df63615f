"""Every periodic job in one place, with why it runs as often as it does."""

from django.conf import settings


def beat_schedule() -> dict:
    """Return Celery beat's schedule, built from settings."""
    return {
        # Proves that beat is ticking and a worker is consuming: each run stores the time
        # it ran, shown at /healthz. Every minute by default, so a stall shows quickly.
        "heartbeat": {
            "task": "complaints.tasks.heartbeat",
            "schedule": settings.REDRESS_HEARTBEAT_SECONDS,
        },
        # Every clock of the Code (COP-04, 10, 12, 13, 14, 16, 18). The deadlines are
        # stored, so a sweep does "everything due by now"; a minute means no deadline is
        # acted on more than a minute late, and a missed run is caught up by the next.
        "enforce-deadlines": {
            "task": "complaints.tasks.enforce_deadlines",
            "schedule": settings.REDRESS_SWEEP_SECONDS,
        },
        # Notices are normally sent straight after commit; this catches retries (with
        # backoff), a worker that died mid-send, and anything queued while the broker was
        # down.
        "outbox-dispatch": {
            "task": "complaints.tasks.outbox_dispatch",
            "schedule": settings.REDRESS_OUTBOX_SECONDS,
        },
        # Signed webhooks to integrations: deadline warnings within each subscription's
        # lead time are queued, then every due delivery (new, retries with backoff, a
        # crashed worker's expired lease) is attempted. Rows are written with the change,
        # so this period is the most an integration waits; 30 s by default.
        "webhooks-dispatch": {
            "task": "complaints.tasks.webhooks_dispatch",
            "schedule": settings.REDRESS_WEBHOOK_SECONDS,
        },
        # The company always abides by an ADR decision the customer accepted (COP-18): an
        # overdue remedy is chased once a day; hourly runs pick it up within the hour.
        "adr-remedies-chase": {
            "task": "escalation.tasks.adr_remedies_chase",
            "schedule": 3600.0,
        },
        # Complaints by email (COP-05) when an IMAP mailbox is configured; a piped mail
        # server (manage.py ingest_email) needs no polling. A minute keeps the
        # acknowledgement within the Code's promise of a prompt reply.
        "imap-poll": {
            "task": "complaints.tasks.imap_poll",
            "schedule": settings.REDRESS_IMAP_SECONDS,
        },
        # A checkpoint of every case's history head, outside the database, so that a
        # complaint deleted with its whole history is caught (verify_history --checkpoint).
        # Hourly, but it writes once a date: a day's checkpoint is taken within an hour of
        # midnight, or of beat starting, and a run missed while beat was down is caught up.
        "history-checkpoint": {
            "task": "complaints.tasks.history_checkpoint",
            "schedule": 3600.0,
        },
        # UK GDPR retention: personal data is anonymised years after the last closure, so a
        # day late is immaterial; daily keeps each run small and a missed one is caught up.
        # Bundles (the ombudsman's case file, subject access responses) are built as soon
        # as they are requested; this builds any left waiting by a lost broker message or a
        # worker that died mid-build. Five minutes is soon enough for a document bundle.
        "bundles-sweep": {
            "task": "complaints.tasks.bundles_sweep",
            "schedule": 300.0,
        },
        "retention-sweep": {
            "task": "accounts.tasks.retention_sweep",
            "schedule": 86400.0,
        },
        # Subject access requests (UK GDPR art. 12(3)): due dates are whole days, so hourly
        # raises a warning or an overdue alert within the hour of the day it falls due; each
        # alert is stored once per due date, so a missed run is caught up by the next.
        "sar-alerts-sweep": {
            "task": "accounts.tasks.sar_alerts_sweep",
            "schedule": 3600.0,
        },
        # A representative's authority with an end date (issue 15 item 4, GC C5): access
        # and letters stop at the end date itself (every check reads it); this only writes
        # the expiry into the cases' history, by the rep_expiry_due_idx index. Five
        # minutes keeps the history close to the moment; a missed run is caught up.
        # Recurring problems (issue 16 item 2): N cases of one root cause, or category and
        # product, in M working days alert the managers once per burst. Hourly is soon
        # enough for a trend; each burst is stored once, so a missed run is caught up.
        "recurring-problems": {
            "task": "complaints.tasks.recurring_problems",
            "schedule": 3600.0,
        },
        "representatives-expire": {
            "task": "accounts.tasks.representatives_expire",
            "schedule": 300.0,
        },
    }
