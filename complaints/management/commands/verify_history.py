"""Check that no complaint's history was altered or cut (the hash chain of CaseEvent)."""

from django.core.management.base import BaseCommand, CommandError

from complaints.models import CaseEvent, Complaint
from complaints.services.history import history_verify


class Command(BaseCommand):
    help = (
        "Walk every complaint's history (or one, with --complaint REF) and print "
        "'OK: N events in M complaints verified', or one line per altered row, broken link "
        "or gap; exit with status 1 when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("--complaint", metavar="REF", help="a complaint reference")

    def handle(self, *args, complaint, **options):
        complaint_ids = None
        if complaint:
            pk = Complaint.objects.filter(reference=complaint).values_list("pk", flat=True).first()
            if pk is None:
                raise CommandError(f"No complaint with reference '{complaint}'.", returncode=2)
            complaint_ids = [pk]

        problems = history_verify(complaint_ids=complaint_ids)
        for problem in problems:
            self.stdout.write(str(problem))
        if problems:
            raise CommandError(
                f"{len(problems)} problem(s) found in the case history.", returncode=1
            )

        events = CaseEvent.objects.all()
        if complaint_ids is not None:
            events = events.filter(complaint_id__in=complaint_ids)
        count = events.count()
        complaints = events.order_by().values("complaint_id").distinct().count()
        self.stdout.write(f"OK: {count} events in {complaints} complaints verified")
