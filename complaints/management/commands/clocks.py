"""Print a deadline for a rule of the Code, or every clock of one complaint."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from complaints.clocks import calendar, policy_for_new_complaint
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
        cal = calendar()
        policy = deadlines.policy_by_key(complaint.policy_key)
        contracted = complaint.contracted_response_working_days

        def local(value):
            return value.astimezone(cal.tz).strftime("%a %d %b %Y %H:%M") if value else "-"

        self.stdout.write(
            f"{complaint.reference} ({complaint.get_status_display()}), "
            f"policy {policy.key}: {policy.name}"
        )
        lines = [
            (
                "response_due",
                deadlines.explain(
                    "response_due",
                    complaint.first_made_at,
                    calendar=cal,
                    policy=policy,
                    contracted_working_days=contracted,
                ),
            ),
            (
                "resolution_target",
                deadlines.explain(
                    "resolution_target", complaint.first_made_at, calendar=cal, policy=policy
                ),
            ),
        ]
        if complaint.progress_update_due_at:
            lines.append(
                (
                    "progress_update",
                    "next progress update to the customer due "
                    f"{local(complaint.progress_update_due_at)} "
                    f"(every {policy.progress_update_working_days} working days, COP-13)",
                )
            )
        if complaint.auto_close_at:
            lines.append(
                (
                    "auto_close",
                    deadlines.explain(
                        "auto_close",
                        complaint.responded_at,
                        complaint.resolution_actioned_at,
                        calendar=cal,
                        policy=policy,
                    ),
                )
            )
        else:
            lines.append(
                (
                    "auto_close",
                    "not running: it starts when our response is sent and any resolution "
                    "is actioned (COP-10)",
                )
            )
        lines.append(
            (
                "adr_eligible",
                deadlines.explain(
                    "adr_eligible", complaint.first_made_at, calendar=cal, policy=policy
                ),
            )
        )
        lines.append(
            (
                "osc_deadline",
                deadlines.explain(
                    "osc_deadline",
                    complaint.first_made_at,
                    complaint.deadlock_letter_received_at,
                    calendar=cal,
                    policy=policy,
                ),
            )
        )
        lines.append(
            (
                "osc_warning",
                f"customer warned {local(complaint.osc_warning_at)}, "
                f"{policy.osc_warning_days} days before the referral deadline (COP-18)",
            )
        )
        for name, text in lines:
            self.stdout.write(f"{name}: {text}")
