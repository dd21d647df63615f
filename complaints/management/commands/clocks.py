"""Print a deadline for a rule of the Code, or every clock of one complaint."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from complaints.clocks import calendar, complaint_clocks_explained, policy_for_new_complaint
from complaints.domain import deadlines
from complaints.models import Complaint

FORMAT = "%Y-%m-%dT%H:%M"


def _usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)


class Command(BaseCommand):
    help = (
        "Print the deadline for RULE given AT [SECOND_AT] (Europe/London, YYYY-MM-DDTHH:MM), "
        "as in deadline_vectors.csv; or, with --complaint REF, every clock of one complaint "
        "with a one-line explanation each."
    )

    def add_arguments(self, parser):
        parser.add_argument("rule", nargs="?", help=", ".join(deadlines.RULES))
        parser.add_argument("at", nargs="?", help="when the clock starts, YYYY-MM-DDTHH:MM")
        parser.add_argument(
            "second_at",
            nargs="?",
            help="auto_close: when the resolution was actioned; "
            "osc_deadline: when the deadlock letter was received",
        )
        parser.add_argument("--complaint", metavar="REF", help="a complaint reference")
        parser.add_argument(
            "--policy",
            metavar="KEY",
            help="judge by this policy instead of the one in force at AT",
        )
        parser.add_argument(
            "--explain", action="store_true", help="print the explanation after the deadline"
        )

    def handle(self, *args, rule, at, second_at, complaint, policy, explain, **options):
        if complaint:
            if rule or at:
                raise _usage_error("Give either --complaint REF or RULE AT, not both.")
            return self._complaint(complaint)
        if not rule or not at:
            raise _usage_error(
                "Give RULE and AT (or --complaint REF). Rules: " + ", ".join(deadlines.RULES)
            )
        if rule not in deadlines.RULES:
            raise _usage_error(f"Unknown rule '{rule}'. Rules: {', '.join(deadlines.RULES)}.")
        start = self._parse(at, "AT")
        second = self._parse(second_at, "SECOND_AT") if second_at else None
        try:
            chosen = deadlines.policy_by_key(policy) if policy else policy_for_new_complaint(start)
        except KeyError as exc:
            raise _usage_error(str(exc.args[0] if exc.args else exc)) from exc
        cal = calendar()
        due = deadlines.RULES[rule](start, second, calendar=cal, policy=chosen)
        self.stdout.write(due.astimezone(cal.tz).strftime(FORMAT))
        if explain:
            self.stdout.write(deadlines.explain(rule, start, second, calendar=cal, policy=chosen))

    def _parse(self, value: str, name: str) -> datetime:
        try:
            naive = datetime.strptime(value, FORMAT)
        except ValueError as exc:
            raise _usage_error(
                f"{name} must be a Europe/London time like 2026-12-24T12:00, not '{value}'."
            ) from exc
        return naive.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))

    def _complaint(self, reference: str):
        try:
            complaint = Complaint.objects.select_related("customer").get(
                reference=reference.strip().upper()
            )
        except Complaint.DoesNotExist as exc:
            raise _usage_error(f"No complaint has the reference '{reference}'.") from exc
        policy = deadlines.policy_by_key(complaint.policy_key)
        self.stdout.write(
            f"{complaint.reference} ({complaint.get_status_display()}), "
            f"policy {policy.key}: {policy.name}"
        )
        for clock in complaint_clocks_explained(complaint):
            self.stdout.write(f"{clock.rule}: {clock.explanation}")
