"""Check that no complaint's history was altered or cut (the hash chain of CaseEvent)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from complaints.append_only import guards_missing
from complaints.models import CaseEvent, Complaint
from complaints.services.history import history_verify
from complaints.services.history_checkpoint import CheckpointError, history_checkpoint_compare


class Command(BaseCommand):
    help = (
        "Walk every complaint's history (or one, with --complaint REF), compare it with the "
        "head stored on the complaint and, with --checkpoint FILE, with a daily checkpoint; "
        "print 'OK: N events in M complaints verified', or one line per altered row, broken "
        "link, gap, cut or vanished history, or missing database trigger; exit with status 1 "
        "when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("--complaint", metavar="REF", help="a complaint reference")
        parser.add_argument(
            "--checkpoint",
            metavar="FILE",
            help="a checkpoints.jsonl written by the daily job: its last checkpoint is compared",
        )

    def handle(self, *args, complaint, checkpoint, **options):
        complaint_ids = None
        if complaint:
            pk = Complaint.objects.filter(reference=complaint).values_list("pk", flat=True).first()
            if pk is None:
                raise CommandError(f"No complaint with reference '{complaint}'.", returncode=2)
            complaint_ids = [pk]

        lines = [
            f"database: trigger {name} is missing or disabled, so the history is not "
            "append-only (run manage.py migrate)"
            for name in guards_missing(connection)
        ]
        lines += [str(problem) for problem in history_verify(complaint_ids=complaint_ids)]
        comparison = None
        if checkpoint:
            try:
                comparison = history_checkpoint_compare(log_path=checkpoint)
            except CheckpointError as exc:
                raise CommandError(str(exc), returncode=2) from exc
            lines += [str(problem) for problem in comparison.problems]
            for note in comparison.notes:
                self.stderr.write(f"Note: {note}")
        for line in lines:
            self.stdout.write(line)
        if lines:
            raise CommandError(f"{len(lines)} problem(s) found in the case history.", returncode=1)

        events = CaseEvent.objects.all()
        if complaint_ids is not None:
            events = events.filter(complaint_id__in=complaint_ids)
        count = events.count()
        complaints = events.order_by().values("complaint_id").distinct().count()
        self.stdout.write(f"OK: {count} events in {complaints} complaints verified")
        if comparison is not None:
            what = "each still there, none gone back" if comparison.cases_checked else "counted"
            self.stdout.write(
                f"OK: checkpoint of {comparison.checkpoint['date']}: "
                f"{comparison.checkpoint['cases']} complaints {what}"
            )
